/* SPDX-License-Identifier: Apache-2.0 */
/* Container side of the start sequence (STYLE.md section 5). Everything here runs in the child
 * after clone, in the container's new namespaces. It leaves only through execve or _exit. Before
 * SYNC_READY, errors go to the host side as SYNC_ERROR frames and fail the create; after it, they
 * go to the container's stderr.
 *
 * CVE-2019-5736 (/proc/PID/exe rewrite): this child is a clone of the host side process, so until
 * its execve its /proc/self/exe is the husk binary the CLI runs. PR_SET_DUMPABLE 0 (below) keeps other
 * container processes away from /proc/PID/exe while husk code runs, but it cannot stop the child's
 * own execve of an image path that resolves to /proc/self/exe (a symlink, a #! line, a fake ELF
 * interpreter): the kernel then starts that binary inside the container. The CLI (and husk-fn serve)
 * therefore re-executes itself from a read-only overlayfs view or a sealed memfd copy of its binary
 * before any container exists (util/exeseal.c, husk_exe_seal): what the container can reach is never
 * the host's writable inode. tests/integration/selfexe.sh runs the attack. */
#include "caps/caps.h"
#include "process/hooks.h"
#include "process/process.h"
#include "process/sync.h"
#include "util/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Container side: report err and leave. */
static _Noreturn void child_fail(init_args *a, husk_error_t *err)
{
        int code = err->code ? err->code : EINVAL;
        if (!a->ready) {
                /* SYNC_ERROR: the host side turns this into the create's error. */
                (void)sync_send(a->sync_fd, SYNC_ERROR, code, err->msg, strlen(err->msg), -1);
                _exit(1);
        }
        char line[HUSK_ERROR_MSG_MAX + 16];
        int n = snprintf(line, sizeof(line), "husk: %s\n", err->msg);
        if (n > 0)
                (void)write_all(STDERR_FILENO, line,
                                (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        _exit(code == ENOENT ? 127 : 126);
}

#define CHECK(a, expr, err)                                                                        \
        do {                                                                                       \
                if ((expr) < 0)                                                                    \
                        child_fail((a), (err));                                                    \
        } while (0)

static int fail_errno(husk_error_t *err, const char *what)
{
        return util_syserr(err, errno, "%s", what);
}

/* The host side may ignore signals (SIGPIPE) or block some (run): dispositions set to SIG_IGN and
 * the mask survive execve, so reset both for the workload. */
static void reset_signals(void)
{
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++) {
                struct sigaction old;
                if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &old) < 0)
                        continue;
                if (old.sa_handler == SIG_IGN) {
                        struct sigaction dfl = { .sa_handler = SIG_DFL };
                        sigaction(s, &dfl, NULL);
                }
        }
}

/* Namespaced sysctls are written through the host's real procfs before any container mount
 * exists: /proc/sys/net, /proc/sys/kernel/shm* ... resolve against the writing task's own
 * namespaces, and this procfs cannot be replaced by the image (CVE-2019-16884 and kin). Later the
 * container's /proc/sys is read-only. */
static int apply_sysctls(const husk_config *cfg, const ns_plan *plan, husk_error_t *err)
{
        for (size_t i = 0; i < cfg->linux_.n_sysctl; i++) {
                const config_kv *kv = &cfg->linux_.sysctl[i];
                _cleanup_free_ char *path = NULL;
                int r = process_sysctl_path(kv->key, plan, &path, err);
                if (r < 0)
                        return r;
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (fd < 0)
                        return util_syserr(err, errno, "sysctl %s: open %s", kv->key, path);
                struct statfs sf;
                if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
                        return husk_error_set(err, EPERM, "sysctl %s: %s is not on procfs", kv->key,
                                              path);
                if (write_all(fd, kv->value, strlen(kv->value)) < 0)
                        return util_syserr(err, errno, "sysctl %s=%s", kv->key, kv->value);
        }
        return 0;
}

static bool has_hooks(const config_hooks *h, config_hook_kind k)
{
        return h->n_hooks[k] > 0;
}

/* Step 13: every fd but 0-2 and the preserved ones gets CLOEXEC (CVE-2024-21626: a leaked host
 * fd must not reach the workload). The preserved ones lose CLOEXEC. */
int process_close_fds(unsigned preserve, husk_error_t *err)
{
        unsigned first = 3 + preserve;
        for (unsigned fd = 3; fd < first; fd++) {
                int fl = fcntl((int)fd, F_GETFD);
                if (fl >= 0 && (fl & FD_CLOEXEC))
                        (void)fcntl((int)fd, F_SETFD, fl & ~FD_CLOEXEC);
        }
        bool ranged = syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
        /* Verify (or, without close_range, do it) through /proc/self/fd: the container's own
         * procfs after the pivot. Without /proc there is nothing to walk; close_range did it. */
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        if (!d) {
                if (ranged)
                        return 0;
                return util_syserr(err, errno, "close_range unavailable and no /proc/self/fd");
        }
        int self = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                int fd;
                if (de->d_name[0] == '.' || parse_int(de->d_name, &fd) < 0)
                        continue;
                if (fd < (int)first || fd == self)
                        continue;
                int fl = fcntl(fd, F_GETFD);
                if (fl < 0 || (fl & FD_CLOEXEC))
                        continue;
                if (fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
                        return util_syserr(err, errno, "set FD_CLOEXEC on fd %d", fd);
        }
        return 0;
}

/* Step 13: chdir into cwd and prove it is inside the root. A cwd such as /proc/self/fd/N pointing
 * at a leaked host directory makes getcwd fail or return "(unreachable)" (CVE-2024-21626). */
int process_enter_cwd(const char *cwd, husk_error_t *err)
{
        if (chdir(cwd) < 0)
                return util_syserr(err, errno, "chdir to cwd (\"%s\") set in config.json", cwd);
        char buf[4096];
        if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
                return husk_error_set(err, EPERM, "cwd \"%s\" resolves outside the container root",
                                      cwd);
        return 0;
}

/* Step 13: groups, gid, uid, then capabilities exactly as configured. */
int process_switch_user(const config_process *p, husk_error_t *err)
{
        const config_caps none = { 0 };
        const config_caps *caps = p->has_capabilities ? &p->capabilities : &none;
        int last = caps_last_cap();
        int r = caps_drop_bounding(caps->has_bounding ? caps->bounding : 0, last, err);
        if (r < 0)
                return r;
        const config_user *u = &p->user;
        if (setgroups(u->n_additional_gids, (const gid_t *)u->additional_gids) < 0) {
                /* A joined user namespace may have setgroups "deny": fine when none asked. */
                if (!(errno == EPERM && u->n_additional_gids == 0))
                        return util_syserr(err, errno, "setgroups (additionalGids)");
        }
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return util_syserr(err, errno, "setresgid %u", u->gid);
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return fail_errno(err, "prctl PR_SET_KEEPCAPS");
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return util_syserr(err, errno, "setresuid %u", u->uid);
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return fail_errno(err, "prctl PR_SET_KEEPCAPS");
        return caps_apply(caps, last, err);
}

/* Step 14, container side (after `start`): load the filter; with SCMP_ACT_NOTIFY, hand the
 * listener fd to the agent over the socket the host side connected (sendmsg, no write), then
 * close both: the workload must not inherit the listener. */
static int load_seccomp(const seccomp_prog *sp, int listener_sock, const char *listener_msg,
                        husk_error_t *err)
{
        int notify_fd = -1;
        int r = seccomp_prog_load(sp, &notify_fd, err);
        if (r < 0 || notify_fd < 0)
                return r;
        r = listener_sock >= 0 && listener_msg
                    ? seccomp_listener_send(listener_sock, listener_msg, notify_fd, err)
                    : husk_error_set(err, EPROTO, "seccomp: no listener socket for the notify fd");
        close(notify_fd);
        close(listener_sock);
        return r;
}

/* Steps 4-5 on the container side: join namespaces by path, unshare the rest when the host side
 * could not create them at clone, then the second fork for pid/time namespaces. Returns in the
 * container process (the intermediate, if any, exits here). */
static void enter_namespaces(init_args *a, husk_error_t *err)
{
        const ns_plan *plan = a->plan;
        if (plan->join_paths)
                CHECK(a, ns_join_paths(a->cfg, err), err);
        if (plan->unshare_mode && plan->unshare_flags) {
                if (unshare((int)plan->unshare_flags) < 0)
                        child_fail(a, (util_syserr(err, errno, "unshare namespaces"), err));
                if (plan->new_userns) {
                        sync_msg m;
                        /* SYNC_USERNS: the host side writes uid_map/gid_map. */
                        if (sync_send(a->sync_fd, SYNC_USERNS, 0, NULL, 0, -1) < 0 ||
                            sync_expect(a->sync_fd, SYNC_USERNS_DONE, &m) < 0)
                                _exit(1); /* the host side failed and reports it */
                        sync_msg_done(&m);
                }
        }
        if (plan->userns) {
                /* Become the namespace's root (mapped by the id maps) for the setup. */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        child_fail(a,
                                   (util_syserr(err, errno,
                                                "become root in the user namespace (is 0 mapped?)"),
                                    err));
        }
        if (plan->needs_fork) {
                if (plan->new_pidns && unshare(CLONE_NEWPID) < 0)
                        child_fail(a, (util_syserr(err, errno, "unshare the pid namespace"), err));
                if (plan->new_timens)
                        CHECK(a, ns_unshare_time(a->cfg, err), err);
                pid_t pid = fork();
                if (pid < 0)
                        child_fail(a, (util_syserr(err, errno, "fork the container process"), err));
                if (pid > 0) {
                        /* SYNC_PID: this intermediate is in the host's pid namespace, so pid is
                         * the host's view of the container process. */
                        (void)sync_send(a->sync_fd, SYNC_PID, (int32_t)pid, NULL, 0, -1);
                        _exit(0);
                }
                sync_msg m;
                /* SYNC_PID_ACK */
                if (sync_expect(a->sync_fd, SYNC_PID_ACK, &m) < 0)
                        _exit(1);
                sync_msg_done(&m);
        }
        if (plan->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
                child_fail(a, (util_syserr(err, errno, "unshare the cgroup namespace"), err));
}

_Noreturn void container_main(init_args *a)
{
        husk_error_t errbuf = { 0 }, *err = &errbuf;
        const husk_config *cfg = a->cfg;
        const config_process *proc = cfg->process;
        sync_msg m;

        /* STYLE.md section 5 step 3: into the cgroup before any setup. The v1 hierarchies are
         * joined here by writing "0" (this thread), which the kernel does without the global
         * threadgroup lock and its RCU grace period (see cgroup_join_open); the host side does the
         * rest before SYNC_GO. */
        CHECK(a, cgroup_join_self(a->cgroup, err), err);

        /* The state dir fd carries the flock: holding a copy would block `start`. */
        for (size_t i = 0; i < ARRAY_SIZE(a->close_fds); i++)
                if (a->close_fds[i] >= 0)
                        close(a->close_fds[i]);
        reset_signals();

        /* SYNC_GO: in the final cgroup, id maps and rlimits set by the host side. */
        if (sync_expect(a->sync_fd, SYNC_GO, &m) < 0)
                _exit(1);
        sync_msg_done(&m);

        enter_namespaces(a, err);
        /* No /proc/PID access (exe, mem, fds) for container processes while husk code runs. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                child_fail(a, (fail_errno(err, "prctl PR_SET_DUMPABLE"), err));
        if (!a->no_new_keyring) {
                /* A fresh session keyring so the host's keys are not reachable; keyrings may be
                 * unavailable (ENOSYS, quota): the container runs without one then. */
                (void)syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);
        }
        if (a->plan->new_netns)
                CHECK(a, ns_loopback_up(err), err);
        CHECK(a, apply_sysctls(cfg, a->plan, err), err);
        if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
                child_fail(a, (util_syserr(err, errno, "sethostname %s", cfg->hostname), err));
        if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
                child_fail(a, (util_syserr(err, errno, "setdomainname %s", cfg->domainname), err));

        uint64_t t[CHILD_T_COUNT] = { 0 };
        uint64_t t0 = now_ns();
        CHECK(a, rootfs_mounts(&a->rootfs, err), err);
        t[CHILD_T_MOUNTS] = now_ns() - t0;

        _cleanup_free_ char *state_json = NULL;
        const config_hooks *hooks = &cfg->hooks;
        if (has_hooks(hooks, HOOK_PRESTART) || has_hooks(hooks, HOOK_CREATE_RUNTIME) ||
            has_hooks(hooks, HOOK_CREATE_CONTAINER) || has_hooks(hooks, HOOK_START_CONTAINER)) {
                /* SYNC_HOOKS: mounts done; the host side runs prestart and createRuntime. */
                if (sync_send(a->sync_fd, SYNC_HOOKS, 0, NULL, 0, -1) < 0 ||
                    sync_expect(a->sync_fd, SYNC_HOOKS_DONE, &m) < 0)
                        _exit(1);
                state_json = TAKE_PTR(m.data);
                sync_msg_done(&m);
        }
        /* createContainer: in the container's mount namespace, before the pivot, with the
         * container's root as the working directory (runc chdirs into it first). */
        const hooks_opts cc_opts = { .cwd_fd = a->rootfs.rootfs_fd, .default_env = proc->env };
        CHECK(a,
              hooks_run_ex(hooks, HOOK_CREATE_CONTAINER, state_json ? state_json : "{}", &cc_opts,
                           err),
              err);

        t0 = now_ns();
        CHECK(a, rootfs_mask(&a->rootfs, err), err);
        CHECK(a, rootfs_pivot(&a->rootfs, err), err);
        _cleanup_close_ int slave = -1;
        if (proc->terminal) {
                _cleanup_close_ int master = -1;
                CHECK(a, terminal_open_pty(proc, &master, &slave, err), err);
                CHECK(a, rootfs_console(&a->rootfs, slave, err), err);
                /* SYNC_PTY: the master goes to the host side (console socket or run's proxy). */
                if (sync_send(a->sync_fd, SYNC_PTY, 0, NULL, 0, master) < 0)
                        child_fail(a,
                                   (husk_error_set(err, EPIPE, "sync: send the pty master"), err));
        }
        CHECK(a, rootfs_finalize(&a->rootfs, err), err);
        t[CHILD_T_PIVOT] = now_ns() - t0;

        if (setsid() < 0)
                child_fail(a, (fail_errno(err, "setsid"), err));
        if (slave >= 0) {
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        child_fail(a, (fail_errno(err, "ioctl TIOCSCTTY"), err));
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(slave, fd) < 0)
                                child_fail(a, (fail_errno(err, "dup2 the pty slave"), err));
        }
        _cleanup_free_ char *exe = NULL;
        CHECK(a, process_find_exec(proc->args[0], proc->env, proc->cwd, &exe, err), err);
        /* HOME from the container's /etc/passwd when the config has none (runc, crun). */
        _cleanup_strv_ char **home_env = process_env_home_from_root(proc->env, proc->user.uid);
        char *const *env = home_env ? home_env : proc->env;
        /* Before READY, so a bad cwd fails the create. */
        CHECK(a, process_enter_cwd(proc->cwd, err), err);
        CHECK(a, process_apply_sched(proc, err), err);
        if (cfg->linux_.has_personality && cfg->linux_.personality_domain &&
            strcmp(cfg->linux_.personality_domain, "LINUX32") == 0 && personality(PER_LINUX32) < 0)
                child_fail(a, (fail_errno(err, "personality LINUX32"), err));

        int listener_sock = -1;
        _cleanup_free_ char *listener_msg = NULL;
        if (a->seccomp && a->seccomp->notify) {
                /* SCMP_ACT_NOTIFY: the filter is loaded where any filter is (below, after the
                 * startContainer hooks), when the host side is gone; take a socket connected to
                 * the agent now and send the listener fd on it then, with sendmsg: a filter that
                 * notifies on write(2) cannot stall husk's own setup. SYNC_SECCOMP (late) */
                if (sync_send(a->sync_fd, SYNC_SECCOMP, SYNC_SECCOMP_LATE, NULL, 0, -1) < 0 ||
                    sync_expect(a->sync_fd, SYNC_SECCOMP, &m) < 0)
                        _exit(1); /* the host side failed and reports it */
                listener_msg = TAKE_PTR(m.data);
                listener_sock = m.fd;
                m.fd = -1;
                sync_msg_done(&m);
                if (listener_sock < 0 || !listener_msg)
                        child_fail(a, (husk_error_set(err, EPROTO,
                                                      "sync: no seccomp listener socket"),
                                       err));
                /* above the preserved fds, so that process_close_fds never clears its CLOEXEC */
                int hi = fcntl(listener_sock, F_DUPFD_CLOEXEC, (int)(3 + a->preserve_fds));
                if (hi < 0)
                        child_fail(a, (fail_errno(err, "fcntl F_DUPFD_CLOEXEC"), err));
                close(listener_sock);
                listener_sock = hi;
        }

        /* SYNC_READY: created. Then block on exec.fifo until `start` writes one byte. */
        if (sync_send(a->sync_fd, SYNC_READY, 0, t, sizeof(t), -1) < 0)
                _exit(1);
        a->ready = true;
        char c;
        ssize_t n;
        do
                n = read(a->fifo_fd, &c, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(1);
        close(a->fifo_fd);
        close(a->sync_fd);

        /* startContainer: in the container, before any seccomp filter is loaded (the filter is
         * for the workload), without "env": the process's environment (runc). */
        const hooks_opts sc_opts = { .cwd_fd = -1, .default_env = proc->env };
        CHECK(a,
              hooks_run_ex(hooks, HOOK_START_CONTAINER, state_json ? state_json : "{}", &sc_opts,
                           err),
              err);
        CHECK(a, process_close_fds(a->preserve_fds, err), err);
        umask(proc->user.has_umask ? (mode_t)proc->user.umask : 022);
        /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the caps are
         * dropped (the profile must then allow the remaining setup syscalls). */
        if (a->seccomp && !proc->no_new_privileges)
                CHECK(a, load_seccomp(a->seccomp, listener_sock, listener_msg, err), err);
        CHECK(a, process_switch_user(proc, err), err);
        if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(a, (fail_errno(err, "prctl PR_SET_NO_NEW_PRIVS"), err));
        /* Step 14: the filter is the last thing before execve. */
        if (a->seccomp && proc->no_new_privileges)
                CHECK(a, load_seccomp(a->seccomp, listener_sock, listener_msg, err), err);
        execve(exe, proc->args, env ? env : (char *[]){ NULL });
        int e = errno;
        child_fail(a, (util_syserr(err, e, "exec %s", exe), err));
}
