/* SPDX-License-Identifier: Apache-2.0 */
/* Rootless networks (--network pasta): the container's network namespace gets a tap device that
 * pasta (Debian's passt) connects to the host's network through ordinary sockets, the way rootless
 * podman does; published ports are pasta's listening sockets on the host (127.0.0.1 unless the
 * -p spec names an address). Host side, in the user's namespace (husk_rootless_enter).
 *
 * pasta runs in the background until the namespace file it was given is removed (teardown unlinks
 * it); its pid is kept in the container folder (pasta.pid) so that teardown also stops it. */
#include "net/net.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PASTA_PATH "/usr/bin/pasta"

char *net_pasta_port_arg(const net_port_t *p)
{
        /* pasta's spec: ADDRESS/HOSTPORT:CONTAINERPORT. */
        return xasprintf("%s/%u:%u", p->host_ip[0] ? p->host_ip : "127.0.0.1", p->host_port,
                         p->ctr_port);
}

/* argv for pasta: quiet, configure the namespace, one -t/-u per port, none for the rest. */
static char **pasta_argv(const char *netns, const char *pidfile, const net_port_t *ports,
                         size_t n)
{
        char **v = xcalloc(16 + 2 * n, sizeof(char *));
        size_t k = 0;
        v[k++] = xstrdup("pasta");
        v[k++] = xstrdup("--quiet");
        v[k++] = xstrdup("--config-net");
        v[k++] = xstrdup("--netns");
        v[k++] = xstrdup(netns);
        v[k++] = xstrdup("--pid");
        v[k++] = xstrdup(pidfile);
        bool tcp = false, udp = false;
        for (size_t i = 0; i < n; i++) {
                bool t = strcmp(ports[i].proto, "udp") != 0;
                v[k++] = xstrdup(t ? "-t" : "-u");
                v[k++] = net_pasta_port_arg(&ports[i]);
                tcp |= t;
                udp |= !t;
        }
        /* Nothing else is forwarded in (pasta's default would be every bound port), nor from
         * the container to the host's own ports. */
        if (!tcp) {
                v[k++] = xstrdup("-t");
                v[k++] = xstrdup("none");
        }
        if (!udp) {
                v[k++] = xstrdup("-u");
                v[k++] = xstrdup("none");
        }
        v[k++] = xstrdup("-T");
        v[k++] = xstrdup("none");
        v[k++] = xstrdup("-U");
        v[k++] = xstrdup("none");
        return v;
}

/* pasta's log without its lines about syslog (it reports that it could not log there; noise). */
static void drop_syslog_lines(char *text)
{
        char *out = text;
        for (char *l = text; l && *l;) {
                char *e = strchrnul(l, '\n');
                size_t n = (size_t)(e - l) + (*e ? 1 : 0);
                bool noise = memmem(l, (size_t)(e - l), "syslog", 6) != NULL;
                if (!noise) {
                        memmove(out, l, n);
                        out += n;
                }
                l += n;
        }
        if (out)
                *out = '\0';
}

int net_pasta_start(int dirfd, const char *bundle, const char *netns, const net_port_t *ports,
                    size_t n, husk_error_t *err)
{
        if (access(PASTA_PATH, X_OK) < 0)
                return husk_error_set(err, ENOENT,
                                      "--network pasta needs %s (Debian package passt): install "
                                      "it, or use --network none or host",
                                      PASTA_PATH);
        _cleanup_free_ char *pidfile = xasprintf("%s/pasta.pid", bundle);
        _cleanup_strv_ char **argv = pasta_argv(netns, pidfile, ports, n);
        _cleanup_close_ int log = openat(dirfd, "pasta.log", O_WRONLY | O_CREAT | O_TRUNC |
                                                                     O_NOFOLLOW | O_CLOEXEC,
                                         0600);
        if (log < 0)
                return util_syserr(err, errno, "create %s/pasta.log", bundle);
        pid_t pid = fork();
        if (pid < 0)
                return util_syserr(err, errno, "fork for pasta");
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
                    dup2(log, STDERR_FILENO) < 0)
                        _exit(127);
                char *const env[] = { (char *)"PATH=/usr/bin:/bin", NULL };
                execve(PASTA_PATH, argv, env);
                _exit(127);
        }
        int st = 0;
        /* pasta forks into the background once the namespace is configured. */
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        _cleanup_free_ char *text = NULL;
        (void)read_file_at(dirfd, "pasta.log", 4096, &text, NULL);
        drop_syslog_lines(text);
        char *end = text ? text + strlen(text) : NULL;
        while (end && end > text && (end[-1] == '\n' || end[-1] == ' '))
                *--end = '\0';
        /* pasta opens /dev/net/tun inside the container's user namespace, where the host's root
         * is not mapped: only the device's mode lets the user in, and a user cannot make a device
         * node of its own. udev gives it 0666 (Debian's default); some hosts have 0600. */
        bool tun = text && strstr(text, "tun");
        return husk_error_set(err, EIO, "pasta failed (%s %d)%s%s%s",
                              WIFEXITED(st) ? "status" : "signal",
                              WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                              text && *text ? ": " : "", text ? text : "",
                              tun ? " (pasta needs /dev/net/tun open for reading and writing by "
                                    "the user: as root, chmod 0666 /dev/net/tun, the mode udev "
                                    "gives it; or use --network none or host)"
                                  : "");
}

void net_pasta_stop(int dirfd)
{
        _cleanup_free_ char *text = NULL;
        int pid = 0;
        if (read_file_at(dirfd, "pasta.pid", 64, &text, NULL) == 0)
                text[strcspn(text, "\n")] = '\0';
        if (!text || parse_int(text, &pid) < 0 || pid <= 1) {
                (void)unlinkat(dirfd, "pasta.log", 0);
                return;
        }
        /* Only a pasta (it runs as passt or passt.avx2): the pid may have been reused once pasta
         * quit by itself. */
        _cleanup_free_ char *comm_path = xasprintf("/proc/%d/comm", pid);
        _cleanup_free_ char *comm = NULL;
        if (read_file_at(AT_FDCWD, comm_path, 64, &comm, NULL) == 0 &&
            strncmp(comm, "pas", 3) == 0)
                kill(pid, SIGTERM);
        (void)unlinkat(dirfd, "pasta.pid", 0);
        (void)unlinkat(dirfd, "pasta.log", 0);
}
