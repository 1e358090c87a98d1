/* SPDX-License-Identifier: Apache-2.0 */
/* Namespaces (see ns.h). */
#include "ns/ns.h"
#include "util/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

const char *ns_type_name(config_ns_type t)
{
        static const char *const names[NS_TYPE_COUNT] = {
                [NS_PID] = "pid",       [NS_NETWORK] = "network", [NS_MOUNT] = "mount",
                [NS_IPC] = "ipc",       [NS_UTS] = "uts",         [NS_USER] = "user",
                [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
        };
        return (unsigned)t < NS_TYPE_COUNT ? names[t] : "unknown";
}

static unsigned long ns_flag(config_ns_type t)
{
        static const unsigned long flags[NS_TYPE_COUNT] = {
                [NS_PID] = CLONE_NEWPID,       [NS_NETWORK] = CLONE_NEWNET,
                [NS_MOUNT] = CLONE_NEWNS,      [NS_IPC] = CLONE_NEWIPC,
                [NS_UTS] = CLONE_NEWUTS,       [NS_USER] = CLONE_NEWUSER,
                [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = CLONE_NEWTIME,
        };
        return (unsigned)t < NS_TYPE_COUNT ? flags[t] : 0;
}

int ns_plan_make(const husk_config *cfg, ns_plan *ret, husk_error_t *err)
{
        ns_plan p = { 0 };
        unsigned long new_flags = 0;
        bool seen[NS_TYPE_COUNT] = { false };
        bool user_path = false;

        for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
                const config_namespace *n = &cfg->linux_.namespaces[i];
                if ((unsigned)n->type >= NS_TYPE_COUNT)
                        return husk_error_set(err, EINVAL,
                                              "%s: .linux.namespaces[%zu]: unknown type",
                                              cfg->filename ? cfg->filename : "config.json", i);
                if (seen[n->type])
                        return husk_error_set(err, EINVAL,
                                              "%s: .linux.namespaces: %s namespace listed twice",
                                              cfg->filename ? cfg->filename : "config.json",
                                              ns_type_name(n->type));
                seen[n->type] = true;
                if (n->path && n->path[0]) {
                        p.join_paths = true;
                        if (n->type == NS_USER)
                                user_path = true;
                        if (n->type == NS_PID)
                                p.pidns_path = true;
                } else {
                        new_flags |= ns_flag(n->type);
                }
        }
        p.userns = seen[NS_USER];
        p.new_userns = (new_flags & CLONE_NEWUSER) != 0;
        p.new_pidns = (new_flags & CLONE_NEWPID) != 0;
        p.new_timens = (new_flags & CLONE_NEWTIME) != 0;
        p.new_cgroupns = (new_flags & CLONE_NEWCGROUP) != 0;
        p.new_netns = (new_flags & CLONE_NEWNET) != 0;
        p.has_mountns = seen[NS_MOUNT];
        p.has_utsns = seen[NS_UTS];
        p.has_netns = seen[NS_NETWORK];
        p.has_ipcns = seen[NS_IPC];

        if ((cfg->linux_.time_monotonic.set || cfg->linux_.time_boottime.set) && !p.new_timens)
                return husk_error_set(err, EINVAL,
                                      "%s: .linux.timeOffsets needs a new time namespace",
                                      cfg->filename ? cfg->filename : "config.json");

        /* The cgroup namespace is unshared once the process is in its final cgroup; time
         * namespaces only apply to children (fork after unshare). */
        unsigned long later = CLONE_NEWCGROUP | CLONE_NEWTIME;
        p.unshare_mode = p.join_paths && (p.new_userns || user_path) && (new_flags & ~later);
        if (p.unshare_mode) {
                p.needs_fork = p.new_pidns || p.pidns_path || p.new_timens;
                p.unshare_flags = new_flags & ~(later | CLONE_NEWPID);
                p.clone_flags = 0;
        } else {
                p.needs_fork = p.pidns_path || p.new_timens;
                p.clone_flags = new_flags & ~later;
                if (p.needs_fork)
                        p.clone_flags &= ~(unsigned long)CLONE_NEWPID;
        }
        *ret = p;
        return 0;
}

char *ns_format_idmap(const config_idmap *m, size_t n)
{
        if (n == 0)
                return NULL;
        size_t cap = n * 36 + 1, len = 0;
        char *s = xmalloc(cap);
        s[0] = '\0';
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, cap - len, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n",
                                        m[i].container_id, m[i].host_id, m[i].size);
        return s;
}

static int write_map(pid_t pid, const char *file, const char *data, husk_error_t *err)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return util_syserr(err, errno, "open %s", path);
        /* The kernel takes the whole map in one write. */
        ssize_t n = write(fd, data, strlen(data));
        if (n < 0)
                return util_syserr(err, errno, "write %s", path);
        if ((size_t)n != strlen(data))
                return husk_error_set(err, EIO, "write %s: short write", path);
        return 0;
}

/* The map is the caller's own id onto one container id: what an unprivileged process may write
 * itself (user_namespaces(7)). */
static bool own_id_only(const config_idmap *m, size_t n, uint32_t own)
{
        return n == 1 && m[0].host_id == own && m[0].size == 1;
}

/* Host side, rootless: newuidmap/newgidmap PID CID HID SIZE... (setuid helpers of Debian's uidmap
 * that check the ranges against /etc/subuid and /etc/subgid), as podman does. Their stderr is
 * kept for the error. */
static int run_map_tool(const char *tool, pid_t pid, const config_idmap *m, size_t n,
                        husk_error_t *err)
{
        if (n > 340) /* the kernel takes at most 340 lines */
                return husk_error_set(err, E2BIG, "%s: %zu ranges, at most 340", tool, n);
        char **argv = xcalloc(3 * n + 3, sizeof(char *));
        size_t k = 0;
        argv[k++] = xstrdup(tool);
        argv[k++] = xasprintf("%d", (int)pid);
        for (size_t i = 0; i < n; i++) {
                argv[k++] = xasprintf("%" PRIu32, m[i].container_id);
                argv[k++] = xasprintf("%" PRIu32, m[i].host_id);
                argv[k++] = xasprintf("%" PRIu32, m[i].size);
        }
        int pfd[2], r = 0;
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                r = util_syserr(err, errno, "pipe");
                goto out;
        }
        pid_t child = fork();
        if (child == 0) {
                /* dup2 clears CLOEXEC on the copy: the tool writes its complaints to the pipe. */
                if (dup2(pfd[1], STDERR_FILENO) < 0 || dup2(pfd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                char *const env[] = { (char *)"PATH=/usr/bin:/bin:/usr/sbin:/sbin", NULL };
                execve(strcmp(tool, "newuidmap") == 0 ? "/usr/bin/newuidmap" : "/usr/bin/newgidmap",
                       argv, env);
                _exit(127);
        }
        close(pfd[1]);
        char msg[512];
        size_t len = 0;
        ssize_t got;
        while (len < sizeof(msg) - 1 &&
               ((got = read(pfd[0], msg + len, sizeof(msg) - 1 - len)) > 0 ||
                (got < 0 && errno == EINTR)))
                if (got > 0)
                        len += (size_t)got;
        close(pfd[0]);
        msg[len] = '\0';
        while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
                msg[--len] = '\0';
        int status = 0;
        if (child < 0) {
                r = util_syserr(err, errno, "fork %s", tool);
                goto out;
        }
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !len)
                r = husk_error_set(err, ENOENT,
                                   "%s not found: a rootless map of more than your own id needs "
                                   "/usr/bin/%s (Debian package uidmap) and a range in %s",
                                   tool, tool,
                                   tool[3] == 'u' ? "/etc/subuid" : "/etc/subgid");
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                r = husk_error_set(err, EPERM, "%s failed%s%s (the ranges must be yours in %s)",
                                   tool, len ? ": " : "", msg,
                                   tool[3] == 'u' ? "/etc/subuid" : "/etc/subgid");
out:
        strv_free(argv);
        return r;
}

int ns_write_idmaps(pid_t pid, const husk_config *cfg, husk_error_t *err)
{
        const config_linux *l = &cfg->linux_;
        _cleanup_free_ char *gids = ns_format_idmap(l->gid_mappings, l->n_gid_mappings);
        _cleanup_free_ char *uids = ns_format_idmap(l->uid_mappings, l->n_uid_mappings);
        if (!uids || !gids)
                return husk_error_set(err, EINVAL,
                                      "%s: a new user namespace needs .linux.uidMappings and "
                                      ".linux.gidMappings",
                                      cfg->filename ? cfg->filename : "config.json");
        int r;
        if (geteuid() != 0) {
                /* An unprivileged writer: its own id directly (gid_map only after setgroups
                 * "deny", a kernel rule since 3.19, CVE-2014-8989); anything more through the
                 * setuid helpers. */
                if (own_id_only(l->gid_mappings, l->n_gid_mappings, (uint32_t)getegid())) {
                        _cleanup_free_ char *sg = xasprintf("/proc/%d/setgroups", (int)pid);
                        if ((r = write_file_at(AT_FDCWD, sg, "deny")) < 0)
                                return util_syserr(err, r, "write %s", sg);
                        r = write_map(pid, "gid_map", gids, err);
                } else {
                        r = run_map_tool("newgidmap", pid, l->gid_mappings, l->n_gid_mappings, err);
                }
                if (r < 0)
                        return r;
                if (own_id_only(l->uid_mappings, l->n_uid_mappings, (uint32_t)geteuid()))
                        return write_map(pid, "uid_map", uids, err);
                return run_map_tool("newuidmap", pid, l->uid_mappings, l->n_uid_mappings, err);
        }
        r = write_map(pid, "gid_map", gids, err);
        if (r < 0)
                return r;
        return write_map(pid, "uid_map", uids, err);
}

int ns_join_paths(const husk_config *cfg, husk_error_t *err)
{
        int fds[NS_TYPE_COUNT];
        const config_namespace *ns[NS_TYPE_COUNT] = { NULL };
        int r = 0;

        for (size_t i = 0; i < NS_TYPE_COUNT; i++)
                fds[i] = -1;
        for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
                const config_namespace *n = &cfg->linux_.namespaces[i];
                if (!n->path || !n->path[0])
                        continue;
                fds[n->type] = open(n->path, O_RDONLY | O_CLOEXEC);
                if (fds[n->type] < 0) {
                        r = util_syserr(err, errno, "open %s namespace %s", ns_type_name(n->type),
                                        n->path);
                        goto out;
                }
                ns[n->type] = n;
        }
        for (int pass = 0; pass < 2; pass++) {
                for (size_t t = 0; t < NS_TYPE_COUNT; t++) {
                        if (fds[t] < 0 || (pass == 0) == (t == NS_USER))
                                continue;
                        if (setns(fds[t], (int)ns_flag((config_ns_type)t)) < 0) {
                                r = util_syserr(err, errno, "join %s namespace %s",
                                                ns_type_name((config_ns_type)t), ns[t]->path);
                                goto out;
                        }
                }
        }
out:
        for (size_t i = 0; i < NS_TYPE_COUNT; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return r;
}

int ns_idmap_userns(const config_idmap *uids, size_t n_uids, const config_idmap *gids,
                    size_t n_gids, int *ret_fd, husk_error_t *err)
{
        int ready[2], hold[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                return util_syserr(err, errno, "pipe");
        if (pipe2(hold, O_CLOEXEC) < 0) {
                int e = errno;
                close(ready[0]);
                close(ready[1]);
                return util_syserr(err, e, "pipe");
        }
        pid_t pid = fork();
        if (pid == 0) {
                /* The child: unshare, say so, and wait for the pipe to close. */
                close(ready[0]);
                close(hold[1]);
                char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                (void)read(hold[0], &c, 1);
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        int r = 0;
        char c = 0;
        if (pid < 0)
                r = util_syserr(err, errno, "fork (idmapped mount user namespace)");
        else if (read(ready[0], &c, 1) != 1 || c != 'y')
                r = husk_error_set(err, EPERM, "unshare a user namespace for an idmapped mount");
        if (r == 0) {
                husk_config maps = { .filename = (char *)"idmapped mount" };
                maps.linux_.uid_mappings = (config_idmap *)uids;
                maps.linux_.n_uid_mappings = n_uids;
                maps.linux_.gid_mappings = (config_idmap *)gids;
                maps.linux_.n_gid_mappings = n_gids;
                r = ns_write_idmaps(pid, &maps, err);
        }
        if (r == 0) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = util_syserr(err, errno, "open %s", path);
                else
                        *ret_fd = fd;
        }
        close(ready[0]);
        close(hold[1]); /* the child exits */
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        return r;
}

int ns_loopback_up(husk_error_t *err)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return util_syserr(err, errno, "socket (to bring lo up)");
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return util_syserr(err, errno, "get the flags of lo");
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                return util_syserr(err, errno, "bring lo up");
        return 0;
}

char *ns_format_time_offsets(const husk_config *cfg)
{
        const config_time_offset *mono = &cfg->linux_.time_monotonic,
                                 *boot = &cfg->linux_.time_boottime;
        if (!mono->set && !boot->set)
                return NULL;
        char *s = xmalloc(128);
        size_t len = 0;
        s[0] = '\0';
        if (mono->set)
                len += (size_t)snprintf(s + len, 128 - len, "monotonic %" PRId64 " %" PRIu32 "\n",
                                        mono->secs, mono->nanosecs);
        if (boot->set)
                snprintf(s + len, 128 - len, "boottime %" PRId64 " %" PRIu32 "\n", boot->secs,
                         boot->nanosecs);
        return s;
}

int ns_unshare_time(const husk_config *cfg, husk_error_t *err)
{
        if (unshare(CLONE_NEWTIME) < 0)
                return util_syserr(err, errno, "unshare the time namespace");
        _cleanup_free_ char *offs = ns_format_time_offsets(cfg);
        if (!offs)
                return 0;
        /* Offsets can only be written before any process lives in the new namespace. */
        _cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open /proc/self/timens_offsets");
        if (write(fd, offs, strlen(offs)) < 0)
                return util_syserr(err, errno, "write /proc/self/timens_offsets");
        return 0;
}

/* ---- the user's namespace (husk_rootless_enter) ----
 * One user namespace and one mount namespace per user, held by a pause process ("husk-pause",
 * pid in $XDG_RUNTIME_DIR/husk/pause.pid), as rootless podman keeps its own: every husk command of
 * images and services joins them, so an overlay mounted or a network namespace bound by one
 * command (run -d) is there for the next (restart, rm), and files unpacked with subordinate owners
 * belong to the same ids each time. */

/* Host side: the maps of pid's new user namespace: through newuidmap/newgidmap with the user's
 * subordinate ranges, else only the user onto 0. */
static int map_user_ns(pid_t pid, uid_t uid, gid_t gid, husk_error_t *err)
{
        uint32_t us = 0, uc = 0, gs = 0, gc = 0;
        bool sub = util_subid_range(false, &us, &uc) == 0 && util_subid_range(true, &gs, &gc) == 0;
        config_idmap um[2] = { { 0, (uint32_t)uid, 1 }, { 1, us, uc } };
        config_idmap gm[2] = { { 0, (uint32_t)gid, 1 }, { 1, gs, gc } };
        husk_config maps = { .filename = (char *)"the user's namespace" };
        maps.linux_.uid_mappings = um;
        maps.linux_.gid_mappings = gm;
        maps.linux_.n_uid_mappings = maps.linux_.n_gid_mappings = sub ? 2 : 1;
        return ns_write_idmaps(pid, &maps, err);
}

struct pause_hello {
        char c; /* 'u': unshared */
        pid_t pid;
};

/* The pause process, after the double fork: new user and mount namespaces, then it waits for the
 * maps, makes "/" a slave (nothing mounted here reaches the host) and sleeps until killed. */
static _Noreturn void pause_main(int wfd, int rfd)
{
        /* Hold nothing of husk's (a copy of a lock's fd would keep it locked): only the pipes. */
        int w = fcntl(wfd, F_DUPFD_CLOEXEC, 100), rd = fcntl(rfd, F_DUPFD_CLOEXEC, 101);
        if (w != 100 || rd != 101)
                _exit(1);
        wfd = w;
        rfd = rd;
        (void)syscall(SYS_close_range, 3U, 99U, 0U);
        (void)syscall(SYS_close_range, 102U, ~0U, 0U);
        /* One message: its pid with the verdict (the intermediate cannot send the pid first
         * without racing this write on the same pipe). */
        struct pause_hello hello = { .c = 'u', .pid = getpid() };
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                hello.c = 'n';
        if (write(wfd, &hello, sizeof(hello)) != (ssize_t)sizeof(hello) || hello.c != 'u')
                _exit(1);
        char c;
        if (read(rfd, &c, 1) != 1 || c != 'm')
                _exit(1);
        c = mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 ? 'r' : 's';
        if (write(wfd, &c, 1) != 1 || c != 'r')
                _exit(1);
        (void)prctl(PR_SET_NAME, "husk-pause", 0, 0, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                (void)dup2(null, STDIN_FILENO);
                (void)dup2(null, STDOUT_FILENO);
                (void)dup2(null, STDERR_FILENO);
        }
        close(wfd);
        close(rfd);
        sigset_t all;
        sigfillset(&all);
        sigdelset(&all, SIGTERM);
        sigdelset(&all, SIGKILL);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGTERM, SIG_DFL);
        for (;;)
                pause();
}

/* Start the pause process; *ret_pid once it holds mapped namespaces. */
static int pause_start(pid_t *ret_pid, husk_error_t *err)
{
        int up[2], down[2];
        if (pipe2(up, O_CLOEXEC) < 0)
                return util_syserr(err, errno, "pipe");
        if (pipe2(down, O_CLOEXEC) < 0) {
                int e = errno;
                close(up[0]);
                close(up[1]);
                return util_syserr(err, e, "pipe");
        }
        pid_t mid = fork();
        if (mid == 0) {
                /* The intermediate: a session of its own, then the pause process is orphaned. */
                close(up[0]);
                close(down[1]);
                (void)setsid();
                pid_t p = fork();
                if (p == 0)
                        pause_main(up[1], down[0]);
                _exit(p < 0);
        }
        close(up[1]);
        close(down[0]);
        int r = 0;
        pid_t pid = -1;
        char c = 0;
        struct pause_hello hello = { 0 };
        if (mid < 0)
                r = util_syserr(err, errno, "fork");
        if (mid > 0)
                while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
                        ;
        /* EOF (every write end closed): the pause process died before it could say. */
        if (r == 0 && read(up[0], &hello, sizeof(hello)) == (ssize_t)sizeof(hello) &&
            hello.c == 'u')
                pid = hello.pid; /* alive: it waits for the maps */
        if (r == 0 && pid <= 0)
                r = husk_error_set(err, EPERM,
                                   "unshare a user namespace (are unprivileged user namespaces "
                                   "disabled? kernel.unprivileged_userns_clone)");
        if (r == 0 && (r = map_user_ns(pid, geteuid(), getegid(), err)) < 0)
                husk_error_prefix(err, "map the user's namespace");
        if (r == 0 && (write(down[1], "m", 1) != 1 || read(up[0], &c, 1) != 1 || c != 'r'))
                r = husk_error_set(err, EIO, "set up the user's mount namespace");
        close(up[0]);
        close(down[1]);
        if (r < 0) {
                if (pid > 0)
                        kill(pid, SIGKILL);
                return r;
        }
        *ret_pid = pid;
        return 0;
}

/* The pause process of pause.pid when it is alive, ours and still the pause process. */
static pid_t pause_find(int dirfd)
{
        _cleanup_free_ char *text = NULL, *comm = NULL;
        int pid = 0;
        if (read_file_at(dirfd, "pause.pid", 64, &text, NULL) < 0)
                return -1;
        text[strcspn(text, "\n")] = '\0';
        if (parse_int(text, &pid) < 0 || pid <= 1)
                return -1;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/comm", pid);
        struct stat st;
        if (read_file_at(AT_FDCWD, path, 64, &comm, NULL) < 0 ||
            strncmp(comm, "husk-pause\n", 11) != 0)
                return -1;
        snprintf(path, sizeof(path), "/proc/%d", pid);
        if (stat(path, &st) < 0 || st.st_uid != geteuid())
                return -1;
        return pid;
}

static int join_pause(pid_t pid, husk_error_t *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        _cleanup_close_ int user = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        _cleanup_close_ int mnt = open(path, O_RDONLY | O_CLOEXEC);
        if (user < 0 || mnt < 0)
                return util_syserr(err, errno, "open the namespaces of husk-pause (pid %d)",
                                   (int)pid);
        /* Joining a mount namespace moves the root and the working directory to its root:
         * come back to the same path (the namespace is a copy of the host's). */
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (setns(user, CLONE_NEWUSER) < 0)
                return util_syserr(err, errno, "join the user namespace of husk-pause (pid %d)",
                                   (int)pid);
        if (setns(mnt, CLONE_NEWNS) < 0)
                return util_syserr(err, errno, "join the mount namespace of husk-pause (pid %d)",
                                   (int)pid);
        if (cwd && chdir(cwd) < 0)
                return util_syserr(err, errno, "return to %s", cwd);
        util_userns_forget();
        /* Root there: the user's own id is 0 (setns gave every capability in it). */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return util_syserr(err, errno, "become root in the user's namespace");
        return 0;
}

/* pause.users, held shared by every husk process in the user's namespace for its lifetime (and,
 * through husk_rootless_hold_across_exec, by husk-fn after husk execs it): the last one to exit
 * takes it exclusive and stops the pause process when nothing else needs it. (pause.lock only
 * orders starting and stopping the pause process, briefly.) */
static int held_lock = -1;

int husk_rootless_enter(husk_error_t *err)
{
        if (geteuid() == 0)
                return 0;
        const char *rt = util_runtime_dir();
        if (!rt)
                return husk_error_set(err, EINVAL, "XDG_RUNTIME_DIR is not set");
        _cleanup_free_ char *dir = xasprintf("%s/husk", rt);
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return util_syserr(err, r, "create %s", dir);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0)
                return util_syserr(err, errno, "open %s", dir);
        /* One pause process even when several commands start at once. */
        _cleanup_close_ int lock = openat(dirfd, "pause.lock", O_RDWR | O_CREAT | O_NOFOLLOW |
                                                                  O_CLOEXEC, 0600);
        if (lock < 0)
                return util_syserr(err, errno, "open %s/pause.lock", dir);
        while (flock(lock, LOCK_EX) < 0)
                if (errno != EINTR)
                        return util_syserr(err, errno, "lock %s/pause.lock", dir);
        pid_t pid = pause_find(dirfd);
        if (pid < 0) {
                if ((r = pause_start(&pid, err)) < 0)
                        return r;
                char buf[16];
                snprintf(buf, sizeof(buf), "%d\n", (int)pid);
                if (write_file_atomic_at(dirfd, "pause.pid", buf, strlen(buf), 0600) < 0) {
                        int e = errno;
                        kill(pid, SIGKILL);
                        return util_syserr(err, e, "write %s/pause.pid", dir);
                }
        }
        /* Used from here on: no stop while this process lives (a stopper holds pause.lock, so
         * this never waits for one). */
        _cleanup_close_ int users = openat(dirfd, "pause.users", O_RDWR | O_CREAT | O_NOFOLLOW |
                                                                     O_CLOEXEC, 0600);
        if (users < 0)
                return util_syserr(err, errno, "open %s/pause.users", dir);
        while (flock(users, LOCK_SH) < 0)
                if (errno != EINTR)
                        return util_syserr(err, errno, "lock %s/pause.users", dir);
        if ((r = join_pause(pid, err)) < 0)
                return r;
        if (held_lock >= 0)
                close(held_lock);
        held_lock = TAKE_FD(users);
        return 0;
}

void husk_rootless_hold_across_exec(void)
{
        if (held_lock >= 0)
                (void)fcntl(held_lock, F_SETFD, 0);
}

/* The pause.users this process holds: held_lock, or the one inherited across an exec (husk-fn
 * started by husk), found in /proc/self/fd as an fd of dirfd's pause.users. */
static int find_held_lock(int dir_fd)
{
        if (held_lock >= 0)
                return held_lock;
        struct stat want, st;
        if (fstatat(dir_fd, "pause.users", &want, AT_SYMLINK_NOFOLLOW) < 0)
                return -1;
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int self = d ? dirfd(d) : -1;
        while (d && (e = readdir(d))) {
                int fd;
                if (parse_int(e->d_name, &fd) < 0 || fd == self || fd == dir_fd)
                        continue;
                if (fstat(fd, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
                        return held_lock = fd;
        }
        return -1;
}

/* Whether dir has an entry (a container) other than the names listed. */
static bool has_entries(const char *dir, const char *const *skip)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return false;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                bool skipped = false;
                for (size_t i = 0; skip && skip[i] && !skipped; i++)
                        skipped = strcmp(skip[i], e->d_name) == 0;
                if (!skipped)
                        return true;
        }
        return false;
}

void husk_rootless_stop_if_idle(const char *state_root, const char *store)
{
        const char *rt = util_runtime_dir();
        if (!rt || !util_rootless())
                return;
        _cleanup_free_ char *dir = xasprintf("%s/husk", rt);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0)
                return;
        _cleanup_close_ int lock = openat(dirfd, "pause.lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
                return; /* another command is joining: not idle */
        /* Exclusive: no other husk process uses the namespace (each holds pause.users shared).
         * Ours converts (a failed conversion drops it: this process is ending anyway). */
        int held = find_held_lock(dirfd);
        _cleanup_close_ int opened = held < 0 ? openat(dirfd, "pause.users",
                                                       O_RDWR | O_NOFOLLOW | O_CLOEXEC)
                                              : -1;
        int users = held >= 0 ? held : opened;
        if (users >= 0 && flock(users, LOCK_EX | LOCK_NB) < 0)
                return; /* another husk process of the user is in the namespace */
        static const char *const state_skip[] = { "seccomp-cache", "pause.lock", "pause.pid",
                                                  "pause.users", NULL };
        _cleanup_free_ char *ctrs = store ? xasprintf("%s/containers", store) : NULL;
        if ((state_root && has_entries(state_root, state_skip)) ||
            (ctrs && has_entries(ctrs, NULL)))
                return;
        pid_t pid = pause_find(dirfd);
        if (pid > 0 && kill(pid, SIGKILL) == 0)
                (void)unlinkat(dirfd, "pause.pid", 0);
}
