/* SPDX-License-Identifier: Apache-2.0 */
/* Network namespaces kept by a bind mount, host port probes, the network lock, and deleting a
 * bridge. Host side, in the host's namespaces. */
#include "net/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Child of net_netns_create, after fork: a new network namespace, lo up, and the namespace
 * bind-mounted on the file. It only makes syscalls and leaves with _exit; a failure goes to the
 * parent as {step, errno} over the pipe. */
static void netns_child(int wfd, const char *path)
{
        int step = 0, e = 0;
        if (unshare(CLONE_NEWNET) < 0) {
                step = 1;
                e = errno;
        } else {
                /* A new namespace's lo is down; containers expect 127.0.0.1 to work. */
                int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                struct ifreq ifr = { 0 };
                memcpy(ifr.ifr_name, "lo", 3);
                if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
                        step = 2;
                        e = errno;
                } else {
                        ifr.ifr_flags |= IFF_UP;
                        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
                                step = 2;
                                e = errno;
                        } else if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0) {
                                step = 3;
                                e = errno;
                        }
                }
        }
        int msg[2] = { step, e };
        if (step)
                (void)!write(wfd, msg, sizeof(msg));
        _exit(step ? 1 : 0);
}

int net_netns_create(int dirfd, const char *name, const char *path, husk_error_t *err)
{
        _cleanup_close_ int f = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                                            O_CLOEXEC, 0600);
        if (f < 0)
                return util_syserr(err, errno, "create %s", path);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return util_syserr(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return util_syserr(err, e, "fork for the network namespace");
        }
        if (pid == 0) {
                close(p[0]);
                netns_child(p[1], path);
        }
        close(p[1]);
        int st = 0, msg[2] = { 0, 0 };
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        ssize_t n = read(p[0], msg, sizeof(msg));
        close(p[0]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                static const char *const what[] = { "?", "create a network namespace",
                                                    "bring lo up in the new namespace",
                                                    "bind-mount the network namespace on" };
                int step = n == (ssize_t)sizeof(msg) && msg[0] > 0 && msg[0] < 4 ? msg[0] : 0;
                return util_syserr(err, n == (ssize_t)sizeof(msg) && msg[1] ? msg[1] : EIO,
                                   "%s%s%s", what[step], step == 3 ? " " : "", step == 3 ? path : "");
        }
        /* Private: nothing mounted on it later propagates. Where the folder's mount is shared
         * (/ on systemd hosts), the bind itself has propagated to peers and slaves already;
         * net_netns_remove's unmount still reaches those copies, as unmount propagation
         * follows the parent mount's peer group, not the child's own type. */
        if (mount(NULL, path, NULL, MS_PRIVATE, NULL) < 0)
                return util_syserr(err, errno, "make %s private", path);
        return 0;
}

int net_netns_remove(int dirfd, const char *name, const char *path, husk_error_t *err)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : util_syserr(err, errno, "stat %s", path);
        /* Lazy: the namespace goes when its last user (the container's processes) is gone. */
        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                return util_syserr(err, errno, "unmount %s", path);
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                return util_syserr(err, errno, "remove %s", path);
        return 0;
}

static int probe_one(const net_port_t *p, husk_error_t *err)
{
        bool tcp = strcmp(p->proto, "tcp") == 0;
        _cleanup_close_ int s = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
        if (s < 0)
                return util_syserr(err, errno, "socket");
        int one = 1;
        /* SO_REUSEADDR: a connection in TIME_WAIT is no conflict; a listener still is. */
        if (tcp)
                (void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p->host_port) };
        uint32_t ip = 0;
        if (p->host_ip[0] && net_parse_ipv4(p->host_ip, &ip) == 0)
                a.sin_addr.s_addr = htonl(ip);
        if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
                if (errno == EADDRINUSE)
                        return husk_error_set(err, EADDRINUSE,
                                              "port %s%s%u/%s is already in use on the host",
                                              p->host_ip, p->host_ip[0] ? ":" : "",
                                              p->host_port, p->proto);
                return util_syserr(err, errno, "publish %s%s%u/%s", p->host_ip,
                                   p->host_ip[0] ? ":" : "", p->host_port, p->proto);
        }
        return 0;
}

int net_ports_probe(const net_port_t *ports, size_t n, husk_error_t *err)
{
        for (size_t i = 0; i < n; i++) {
                int r = probe_one(&ports[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int net_lock(const char *store, int *ret_fd, husk_error_t *err)
{
        _cleanup_free_ char *dir = xasprintf("%s/networks", store);
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return util_syserr(err, -r, "create %s", dir);
        _cleanup_free_ char *p = xasprintf("%s/.lock", dir);
        _cleanup_close_ int fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return util_syserr(err, errno, "open %s", p);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return util_syserr(err, errno, "lock %s", p);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int net_link_delete(const char *ifname, husk_error_t *err)
{
        unsigned idx = if_nametoindex(ifname);
        if (idx == 0)
                return 0;
        _cleanup_close_ int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (s < 0)
                return util_syserr(err, errno, "netlink socket");
        struct {
                struct nlmsghdr h;
                struct ifinfomsg i;
        } req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_DELLINK,
                         .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
                  .i = { .ifi_family = AF_UNSPEC, .ifi_index = (int)idx } };
        if (send(s, &req, sizeof(req), 0) < 0)
                return util_syserr(err, errno, "delete interface %s", ifname);
        char buf[512];
        ssize_t n = recv(s, buf, sizeof(buf), 0);
        if (n < (ssize_t)(sizeof(struct nlmsghdr) + sizeof(struct nlmsgerr)))
                return util_syserr(err, n < 0 ? errno : EIO, "delete interface %s", ifname);
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error < 0 && e->error != -ENODEV)
                        return util_syserr(err, -e->error, "delete interface %s", ifname);
        }
        return 0;
}
