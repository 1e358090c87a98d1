/* SPDX-License-Identifier: Apache-2.0 */
/* husk_exec: a new process in a running container (runc exec). Host side: load the state and the
 * container's config, build the process (process.json or argv form), compile the container's
 * seccomp profile, open a pidfd of the container's init, fork. The child (the "intermediate")
 * waits until the host side has put it into the container's cgroup and set its rlimits, joins
 * every namespace of init with one setns(pidfd, flags), takes init's root, and forks the exec'd
 * process (a pid namespace is only entered by children). The intermediate exits at once, so the
 * process is reparented to the caller's subreaper (conmon, the containerd shim) or, for a
 * foreground exec, to husk itself.
 *
 * The sync socket is close-on-exec: EOF after SYNC_PID means the process reached execve. */
#include "caps/caps.h"
#include "cgroup/cgroup.h"
#include "process/process.h"
#include "process/sync.h"
#include "state/state.h"
#include "util/util.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Namespaces of init that the exec'd process joins when they differ from husk's own. */
static const struct {
        const char *name;
        int flag;
} exec_ns[] = {
        { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },     { "pid", CLONE_NEWPID },
        { "net", CLONE_NEWNET },   { "ipc", CLONE_NEWIPC },    { "uts", CLONE_NEWUTS },
        { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

typedef struct exec_args {
        const config_process *proc;
        const seccomp_prog *seccomp;
        int sync_fd;
        int pidfd;
        int rootfd;
        int ns_flags;
        unsigned preserve_fds;
        cgroup_handle *cgroup; /* v1 hierarchies the intermediate joins itself, or NULL */
        int close_fds[3];
} exec_args;

/* Host side: the namespaces of pid that differ from ours, as CLONE_NEW* flags. */
static int exec_ns_flags(pid_t pid, int *ret, husk_error_t *err)
{
        int flags = 0;
        for (size_t i = 0; i < ARRAY_SIZE(exec_ns); i++) {
                char path[64];
                struct stat theirs, ours;
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, exec_ns[i].name);
                if (stat(path, &theirs) < 0) {
                        if (errno == ENOENT)
                                continue; /* the kernel lacks this namespace type */
                        return util_syserr(err, errno, "stat %s", path);
                }
                snprintf(path, sizeof(path), "/proc/self/ns/%s", exec_ns[i].name);
                if (stat(path, &ours) < 0)
                        return util_syserr(err, errno, "stat %s", path);
                if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev)
                        flags |= exec_ns[i].flag;
        }
        *ret = flags;
        return 0;
}

/* "UID[:GID]" with checked parsers (never atoi: a sloppy parse would run as root). */
int exec_parse_user(const char *s, config_user *u, husk_error_t *err)
{
        _cleanup_free_ char *copy = xstrdup(s);
        char *colon = strchr(copy, ':');
        if (colon)
                *colon = '\0';
        uint32_t uid = 0, gid = 0;
        if (parse_uint32(copy, &uid) < 0 || (colon && parse_uint32(colon + 1, &gid) < 0))
                return husk_error_set(err, EINVAL, "invalid --user \"%s\": use UID[:GID] (numbers)",
                                      s);
        u->uid = uid;
        if (colon)
                u->gid = gid;
        return 0;
}

/* KEY=VALUE replaces an existing KEY= entry, else it is appended. */
static void env_set(config_process *p, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) + 1 : strlen(kv);
        for (size_t i = 0; i < p->n_env; i++) {
                if (strncmp(p->env[i], kv, klen) == 0 &&
                    (eq || p->env[i][klen] == '=' || p->env[i][klen] == '\0')) {
                        free(p->env[i]);
                        p->env[i] = xstrdup(kv);
                        return;
                }
        }
        p->env = xrealloc(p->env, (p->n_env + 2) * sizeof(char *));
        p->env[p->n_env++] = xstrdup(kv);
        p->env[p->n_env] = NULL;
}

int exec_process_from_args(husk_config *cfg, const husk_exec_opts_t *o,
                                  config_process **ret, husk_error_t *err)
{
        if (!cfg->process)
                return husk_error_set(err, EINVAL, "%s: the container has no .process", cfg->filename);
        if (o->n_args == 0)
                return husk_error_set(err, EINVAL, "exec needs a command (or --process FILE)");
        config_process *p = cfg->process;
        strv_free(p->args);
        p->args = strv_copy(o->args, o->n_args);
        p->n_args = o->n_args;
        for (size_t i = 0; i < o->n_env; i++)
                env_set(p, o->env[i]);
        if (o->cwd) {
                if (o->cwd[0] != '/')
                        return husk_error_set(err, EINVAL, "--cwd \"%s\" must be absolute", o->cwd);
                free(p->cwd);
                p->cwd = xstrdup(o->cwd);
        }
        int r;
        if (o->user && (r = exec_parse_user(o->user, &p->user, err)) < 0)
                return r;
        for (size_t i = 0; i < o->n_caps; i++) {
                int cap = config_cap_from_name(o->caps[i]);
                if (cap < 0) {
                        _cleanup_free_ char *full = xasprintf("CAP_%s", o->caps[i]);
                        cap = config_cap_from_name(full);
                }
                if (cap < 0)
                        return husk_error_set(err, EINVAL, "unknown capability \"%s\"", o->caps[i]);
                config_caps *c = &p->capabilities;
                p->has_capabilities = true;
                c->has_bounding = c->has_effective = c->has_permitted = true;
                /* Never inheritable (CVE-2022-29162). */
                c->bounding |= 1ULL << cap;
                c->effective |= 1ULL << cap;
                c->permitted |= 1ULL << cap;
        }
        if (o->no_new_privs)
                p->no_new_privileges = true;
        if (o->n_additional_gids) {
                config_user *u = &p->user;
                u->additional_gids = xrealloc(u->additional_gids, (u->n_additional_gids +
                                                                   o->n_additional_gids) *
                                                                          sizeof(uint32_t));
                memcpy(u->additional_gids + u->n_additional_gids, o->additional_gids,
                       o->n_additional_gids * sizeof(uint32_t));
                u->n_additional_gids += o->n_additional_gids;
        }
        p->terminal = o->tty;
        *ret = TAKE_PTR(cfg->process);
        return 0;
}

/* ---------------- container side ---------------- */

/* Container side (intermediate or exec'd process): report err to the host side and leave. */
static _Noreturn void exec_fail(exec_args *a, husk_error_t *err)
{
        int code = err->code ? err->code : EINVAL;
        (void)sync_send(a->sync_fd, SYNC_ERROR, code, err->msg, strlen(err->msg), -1);
        _exit(255);
}

#define XCHECK(a, expr, err)                                                                       \
        do {                                                                                       \
                if ((expr) < 0)                                                                    \
                        exec_fail((a), (err));                                                     \
        } while (0)

static int sys_fail(husk_error_t *err, const char *what)
{
        return util_syserr(err, errno, "%s", what);
}

/* Container side, in the exec'd process (every namespace of init, inside its root): the pty,
 * cwd, fds, user, no_new_privs, seccomp, execve. */
static _Noreturn void exec_process(exec_args *a, husk_error_t *err)
{
        const config_process *p = a->proc;
        if (p->terminal) {
                _cleanup_close_ int master = -1, slave = -1;
                XCHECK(a, terminal_open_pty(p, &master, &slave, err), err);
                /* SYNC_PTY: the master goes to the console socket (or foreground proxy). */
                if (sync_send(a->sync_fd, SYNC_PTY, 0, NULL, 0, master) < 0)
                        exec_fail(a, (husk_error_set(err, EPIPE, "sync: send the pty master"), err));
                if (setsid() < 0)
                        exec_fail(a, (sys_fail(err, "setsid"), err));
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        exec_fail(a, (sys_fail(err, "ioctl TIOCSCTTY"), err));
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(slave, fd) < 0)
                                exec_fail(a, (sys_fail(err, "dup2 the pty slave"), err));
        }
        _cleanup_free_ char *exe = NULL;
        XCHECK(a, process_find_exec(p->args[0], p->env, p->cwd, &exe, err), err);
        /* HOME from the container's /etc/passwd when the process has none (runc, crun). */
        _cleanup_strv_ char **home_env = process_env_home_from_root(p->env, p->user.uid);
        char *const *env = home_env ? home_env : p->env;
        XCHECK(a, process_enter_cwd(p->cwd, err), err);
        XCHECK(a, process_apply_sched(p, err), err);
        /* execCPUAffinity.final, or every CPU again after an initial set (runc 1.2 does the same) */
        if (p->has_exec_cpu_affinity)
                XCHECK(a, process_set_affinity(p->cpu_affinity_final, err), err);
        int notify_fd = -1;
        bool loaded = false;
        if (a->seccomp && a->seccomp->notify) {
                /* SCMP_ACT_NOTIFY: the listener must reach the agent while the host side runs:
                 * load now (still privileged) and pass the fd out, as create does. */
                XCHECK(a, seccomp_prog_load(a->seccomp, &notify_fd, err), err);
                loaded = true;
                /* SYNC_SECCOMP */
                if (notify_fd < 0 || sync_send(a->sync_fd, SYNC_SECCOMP, 0, NULL, 0, notify_fd) < 0)
                        exec_fail(a, (husk_error_set(err, EPROTO,
                                                     "sync: send the seccomp listener fd"),
                                      err));
                close(notify_fd);
                notify_fd = -1;
        }
        XCHECK(a, process_close_fds(a->preserve_fds, err), err);
        umask(p->user.has_umask ? (mode_t)p->user.umask : 022);
        /* Without no_new_privs the filter needs CAP_SYS_ADMIN: load it before the user switch. */
        if (a->seccomp && !loaded && !p->no_new_privileges)
                XCHECK(a, seccomp_prog_load(a->seccomp, &notify_fd, err), err);
        XCHECK(a, process_switch_user(p, err), err);
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                exec_fail(a, (sys_fail(err, "prctl PR_SET_NO_NEW_PRIVS"), err));
        /* Step 14: the filter is the last thing before execve. */
        if (a->seccomp && !loaded && p->no_new_privileges)
                XCHECK(a, seccomp_prog_load(a->seccomp, &notify_fd, err), err);
        execve(exe, p->args, env ? env : (char *[]){ NULL });
        int e = errno;
        exec_fail(a, (util_syserr(err, e, "exec %s", exe), err));
}

/* Container side: the intermediate, a fork of the host side in husk's namespaces. */
static _Noreturn void exec_child(exec_args *a)
{
        husk_error_t errbuf = { 0 }, *err = &errbuf;
        /* Into the container's v1 cgroups first, by writing "0" (this thread): no global
         * threadgroup lock, no RCU grace period (see cgroup_join_open). */
        XCHECK(a, cgroup_join_self(a->cgroup, err), err);
        for (size_t i = 0; i < ARRAY_SIZE(a->close_fds); i++)
                if (a->close_fds[i] >= 0)
                        close(a->close_fds[i]);
        /* husk's blocked and ignored signals would survive execve: reset both. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++) {
                struct sigaction old;
                if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &old) == 0 &&
                    old.sa_handler == SIG_IGN) {
                        struct sigaction dfl = { .sa_handler = SIG_DFL };
                        sigaction(s, &dfl, NULL);
                }
        }
        sync_msg m;
        /* SYNC_GO: in the container's cgroup, rlimits set. */
        if (sync_expect(a->sync_fd, SYNC_GO, &m) < 0)
                _exit(255);
        sync_msg_done(&m);
        /* execCPUAffinity.initial: the CPUs this exec runs on while it joins the container. */
        if (a->proc->cpu_affinity_initial)
                XCHECK(a, process_set_affinity(a->proc->cpu_affinity_initial, err), err);
        /* No /proc/PID access for container processes while husk code runs. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                exec_fail(a, (sys_fail(err, "prctl PR_SET_DUMPABLE"), err));
        /* One setns on the pidfd: the kernel joins the user namespace first and the others with
         * its privileges, all or nothing; the cgroup namespace after the cgroup move above. */
        if (a->ns_flags && setns(a->pidfd, a->ns_flags) < 0)
                exec_fail(a, (util_syserr(err, errno, "setns into the namespaces of the container "
                                                      "(flags 0x%x)",
                                          (unsigned)a->ns_flags),
                              err));
        close(a->pidfd);
        /* init's root: the pivoted root is the mount namespace's root already, but a --no-pivot
         * container is chrooted inside it. CAP_SYS_CHROOT is ours in the joined namespaces. */
        if (fchdir(a->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                exec_fail(a, (sys_fail(err, "enter the root of the container"), err));
        close(a->rootfd);
        pid_t pid = fork();
        if (pid < 0)
                exec_fail(a, (sys_fail(err, "fork the exec process"), err));
        if (pid > 0) {
                /* SYNC_PID: our fork() returns the pid in husk's pid namespace. */
                (void)sync_send(a->sync_fd, SYNC_PID, (int32_t)pid, NULL, 0, -1);
                _exit(0);
        }
        /* SYNC_PID_ACK: the host side knows the pid before any other frame of ours. */
        if (sync_expect(a->sync_fd, SYNC_PID_ACK, &m) < 0)
                _exit(255);
        sync_msg_done(&m);
        exec_process(a, err);
}

/* ---------------- host side ---------------- */

typedef struct exec_ctx {
        husk_state *st;
        husk_config *cfg;
        config_process *proc;
        cgroup_handle *cg;
        seccomp_prog *sp;
        int pidfd, rootfd, console_fd, sync_host, sync_child, master;
        pid_t child, pid;
} exec_ctx;

static void exec_ctx_done(exec_ctx *c, bool failed)
{
        if (failed) {
                if (c->pid > 0)
                        kill(c->pid, SIGKILL);
                if (c->child > 0) {
                        kill(c->child, SIGKILL);
                        while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
                                ;
                }
                util_closep(&c->master);
        }
        util_closep(&c->pidfd);
        util_closep(&c->rootfd);
        util_closep(&c->console_fd);
        util_closep(&c->sync_host);
        util_closep(&c->sync_child);
        if (c->cg)
                cgroup_handle_free(c->cg);
        seccomp_prog_free(c->sp);
        config_process_free(c->proc);
        config_free(c->cfg);
        state_free(c->st);
}

static int load_container(exec_ctx *c, const husk_global_t *g, const husk_exec_opts_t *o,
                          husk_error_t *err)
{
        const char *root = g && g->root ? g->root : state_default_root();
        int r = husk_id_validate(o->id, err);
        if (r < 0)
                return r;
        _cleanup_close_ int dirfd = -1;
        if ((r = state_dir_open_nolock(root, o->id, &dirfd, err)) < 0)
                return r;
        if ((r = state_load(dirfd, &c->st, err)) < 0)
                return r;
        husk_status_t status;
        if ((r = state_status(dirfd, c->st, &status, err)) < 0)
                return r;
        if (status == HUSK_STATUS_PAUSED && !o->ignore_paused)
                return husk_error_set(err, EINVAL, "cannot exec in a paused container (use "
                                                   "--ignore-paused to override)");
        if (status != HUSK_STATUS_CREATED && status != HUSK_STATUS_RUNNING &&
            status != HUSK_STATUS_PAUSED)
                return husk_error_set(err, EINVAL, "cannot exec in a %s container",
                                      husk_status_name(status));
        if (c->st->config_path) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                if ((r = read_file_at(AT_FDCWD, c->st->config_path, 16 << 20, &text, &len)) < 0)
                        return util_syserr(err, r, "read %s", c->st->config_path);
                return config_parse(text, len, c->st->config_path, &c->cfg, err);
        }
        return config_load_bundle(c->st->bundle, &c->cfg, err);
}

static int load_process(exec_ctx *c, const husk_exec_opts_t *o, husk_error_t *err)
{
        if (!o->process_path)
                return exec_process_from_args(c->cfg, o, &c->proc, err);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(AT_FDCWD, o->process_path, 16 << 20, &text, &len);
        if (r < 0)
                return util_syserr(err, r, "read process file %s", o->process_path);
        return config_parse_process(text, len, o->process_path, &c->proc, err);
}

/* A pidfd of init, checked against its start time (a reused pid is never joined), and an O_PATH
 * fd of its root. */
static int open_init(exec_ctx *c, husk_error_t *err)
{
        pid_t pid = c->st->pid;
        c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* always close-on-exec */
        if (c->pidfd < 0)
                return util_syserr(err, errno, "pidfd_open %d", (int)pid);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        c->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c->rootfd < 0)
                return util_syserr(err, errno, "open %s", path);
        if (!state_pid_alive(pid, c->st->pid_start_time))
                return husk_error_set(err, ESRCH, "container not running");
        return 0;
}

/* Keep our fds out of the preserve-fds range 3..3+N-1 (the caller's fds live there). */
static int keep_above(int *fd, unsigned preserve, husk_error_t *err)
{
        if (*fd < 0 || (unsigned)*fd >= 3 + preserve)
                return 0;
        int n = fcntl(*fd, F_DUPFD_CLOEXEC, (int)(3 + preserve));
        if (n < 0)
                return util_syserr(err, errno, "fcntl F_DUPFD_CLOEXEC");
        close(*fd);
        *fd = n;
        return 0;
}

/* Host side, after fork: cgroup, rlimits, oom_score_adj of the intermediate, then SYNC_GO. */
static int setup_intermediate(exec_ctx *c, bool in_cgroup, husk_error_t *err)
{
        int r;
        /* What the intermediate does not join itself (cgroup_join_self) and clone3 did not. */
        if (c->cg && (r = cgroup_enter_rest(c->cg, c->child, in_cgroup, err)) < 0)
                return r;
        const config_process *p = c->proc;
        if ((r = process_host_limits(c->child, p, err)) < 0)
                return r;
        /* SYNC_GO */
        if ((r = sync_send(c->sync_host, SYNC_GO, 0, NULL, 0, -1)) < 0)
                return util_syserr(err, r, "sync: send SYNC_GO");
        return 0;
}

/* SYNC_SECCOMP: containerProcessState (the container's state with the exec'd pid, metadata, the
 * fd) to linux.seccomp.listenerPath. */
static int send_listener(exec_ctx *c, int notify_fd, husk_error_t *err)
{
        const config_seccomp *sc = c->cfg->linux_.seccomp;
        husk_state st = *c->st;
        st.pid = c->pid;
        _cleanup_free_ char *json = state_to_json(&st, HUSK_STATUS_RUNNING, false);
        return seccomp_send_listener_md(sc->listener_path, sc->listener_metadata, notify_fd, json,
                                        err);
}

/* Serve the child until EOF: the exec'd process reached execve (the socket is close-on-exec). */
static int serve_exec(exec_ctx *c, husk_error_t *err)
{
        for (;;) {
                sync_msg m;
                int r = sync_recv(c->sync_host, &m);
                if (r < 0)
                        return util_syserr(err, r, "sync: receive");
                if (r == 0)
                        break;
                switch (m.type) {
                case SYNC_PID: /* the intermediate forked the process and exits */
                        c->pid = m.code;
                        while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
                                ;
                        c->child = -1;
                        if ((r = sync_send(c->sync_host, SYNC_PID_ACK, 0, NULL, 0, -1)) < 0)
                                util_syserr(err, r, "sync: send SYNC_PID_ACK");
                        break;
                case SYNC_PTY:
                        if (m.fd < 0) {
                                r = husk_error_set(err, EPROTO, "sync: SYNC_PTY without an fd");
                        } else if (c->console_fd >= 0) {
                                r = terminal_send_master(c->console_fd, m.fd, err);
                                util_closep(&c->console_fd); /* never wait for the peer */
                        } else {
                                util_closep(&c->master);
                                c->master = TAKE_FD(m.fd);
                        }
                        break;
                case SYNC_SECCOMP: /* the filter is loaded: hand its listener to the agent */
                        if (m.fd < 0)
                                r = husk_error_set(err, EPROTO, "sync: SYNC_SECCOMP without an fd");
                        else
                                r = send_listener(c, m.fd, err);
                        break;
                case SYNC_ERROR:
                        r = husk_error_set(err, m.code, "%s", m.data ? m.data : "unknown error");
                        husk_error_prefix(err, "unable to start container process");
                        break;
                default:
                        r = husk_error_set(err, EPROTO, "sync: unexpected frame %u", m.type);
                }
                sync_msg_done(&m);
                if (r < 0)
                        return r;
        }
        if (c->child > 0) {
                int status = 0;
                while (waitpid(c->child, &status, 0) < 0 && errno == EINTR)
                        ;
                c->child = -1;
                return husk_error_set(err, ECHILD, "exec: the intermediate process died (status %d)",
                                      status);
        }
        if (c->pid <= 0)
                return husk_error_set(err, ECHILD, "exec: no process was started");
        if (c->proc->terminal && c->master < 0 && c->console_fd >= 0)
                return husk_error_set(err, EPROTO, "exec: the process did not send its pty");
        return 0;
}

static int write_exec_pid_file(const char *path, pid_t pid, husk_error_t *err)
{
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid); /* digits, no newline (engines) */
        _cleanup_free_ char *tmp = xasprintf("%s.husk-tmp", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return util_syserr(err, errno, "pid file %s", tmp);
        int r = write_all(fd, buf, (size_t)n);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return util_syserr(err, r, "pid file %s", path);
        }
        return 0;
}

static int exec_start(exec_ctx *c, const husk_global_t *g, const husk_exec_opts_t *o,
                      husk_error_t *err)
{
        int r = load_container(c, g, o, err);
        if (r < 0 || (r = load_process(c, o, err)) < 0)
                return r;
        const config_process *p = c->proc;
        if (!p->args || p->n_args == 0)
                return husk_error_set(err, EINVAL, "exec: the process has no args");
        _cleanup_free_ char *amb = process_ambient_warning(p);
        if (g && g->warn) {
                for (size_t i = 0; p->warnings && p->warnings[i]; i++)
                        g->warn(p->warnings[i]);
                if (amb)
                        g->warn(amb);
        }
        if (p->terminal && o->detach && !o->console_socket)
                return husk_error_set(err, EINVAL,
                                      "cannot allocate a tty when husk detaches without a console "
                                      "socket (use --console-socket)");
        if (c->cfg->linux_.seccomp) {
                if ((r = seccomp_compile(c->cfg->linux_.seccomp, &c->sp, err)) < 0)
                        return r;
                if (c->sp->notify && !c->cfg->linux_.seccomp->listener_path)
                        return husk_error_set(err, EINVAL,
                                              "%s: .linux.seccomp: SCMP_ACT_NOTIFY needs a "
                                              "listenerPath",
                                              c->cfg->filename);
        }
        if (c->st->cgroup && c->st->cgroup[0] &&
            (r = cgroup_deserialize(c->st->cgroup, &c->cg, err)) < 0)
                return r;
        if (o->n_cgroups && !c->cg)
                return husk_error_set(err, EINVAL, "--cgroup: container %s has no cgroup", o->id);
        for (size_t i = 0; i < o->n_cgroups; i++)
                if ((r = cgroup_use_sub(c->cg, o->cgroups[i], err)) < 0)
                        return r;
        if ((r = open_init(c, err)) < 0)
                return r;
        int flags = 0;
        if ((r = exec_ns_flags(c->st->pid, &flags, err)) < 0)
                return r;
        if (p->terminal && o->console_socket &&
            (r = terminal_connect(o->console_socket, &c->console_fd, err)) < 0)
                return r;
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return util_syserr(err, errno, "socketpair");
        c->sync_host = sp[0];
        c->sync_child = sp[1];
        if ((r = keep_above(&c->sync_child, o->preserve_fds, err)) < 0 ||
            (r = keep_above(&c->pidfd, o->preserve_fds, err)) < 0 ||
            (r = keep_above(&c->rootfd, o->preserve_fds, err)) < 0)
                return r;
        exec_args a = {
                .proc = p,
                .seccomp = c->sp,
                .sync_fd = c->sync_child,
                .pidfd = c->pidfd,
                .rootfd = c->rootfd,
                .ns_flags = flags,
                .preserve_fds = o->preserve_fds,
                .close_fds = { c->sync_host, c->console_fd, -1 },
        };
        (void)caps_last_cap(); /* cached from the host's procfs, used after the setns */
        int clone_fd = -1;
        bool in_cgroup = false;
        if (c->cg) {
                clone_fd = cgroup_clone_fd(c->cg);
                if ((r = cgroup_join_open(c->cg, err)) < 0)
                        return r;
                a.cgroup = c->cg;
        }
        /* clone3 only to land in the cgroup2 dir (v2, or a hybrid host's unified hierarchy). */
        c->child = clone_fd >= 0 ? process_clone(0, clone_fd, &in_cgroup) : fork();
        if (c->child < 0)
                return util_syserr(err, errno, "fork");
        if (c->child == 0)
                exec_child(&a); /* never returns */
        util_closep(&c->sync_child);
        if (c->cg)
                cgroup_join_close(c->cg);
        if ((r = setup_intermediate(c, in_cgroup, err)) < 0 || (r = serve_exec(c, err)) < 0)
                return r;
        if (o->pid_file && (r = write_exec_pid_file(o->pid_file, c->pid, err)) < 0)
                return r;
        return 0;
}

int husk_exec(const husk_global_t *g, const husk_exec_opts_t *o, int *ret_status, husk_error_t *err)
{
        /* Foreground: the process reparents to us when the intermediate exits. */
        if (!o->detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return util_syserr(err, errno, "prctl PR_SET_CHILD_SUBREAPER");
        /* Block the signals a foreground exec forwards before the process exists (SIGCHLD must
         * not be lost); the children unblock them. */
        sigset_t set, old;
        sigemptyset(&set);
        int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
                sigaddset(&set, fwd[i]);
        if (!o->detach)
                sigprocmask(SIG_BLOCK, &set, &old);
        exec_ctx c = { .pidfd = -1, .rootfd = -1, .console_fd = -1, .sync_host = -1,
                       .sync_child = -1, .master = -1, .child = -1, .pid = -1 };
        int r = exec_start(&c, g, o, err);
        pid_t pid = c.pid;
        _cleanup_close_ int master = TAKE_FD(c.master);
        exec_ctx_done(&c, r < 0);
        if (r == 0 && !o->detach)
                r = wait_container(pid, master, ret_status, err);
        else if (r == 0 && ret_status)
                *ret_status = 0;
        if (!o->detach)
                sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
