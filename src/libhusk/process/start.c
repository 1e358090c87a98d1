/* SPDX-License-Identifier: Apache-2.0 */
/* Host side of the start sequence (STYLE.md section 5): husk_create, husk_start, husk_run.
 * One clone (clone3 with CLONE_INTO_CGROUP when the cgroup driver offers an fd), no re-exec of
 * husk: the child runs container_main() (init.c) on a copy of this process's memory. */
#include "caps/caps.h"
#include "cgroup/cgroup.h"
#include "husk/image.h"
#include "process/hooks.h"
#include "process/process.h"
#include "process/sync.h"
#include "state/state.h"
#include "util/util.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* The kernel's struct clone_args (v2, with cgroup), spelled out to avoid <linux/sched.h>. */
struct husk_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};

const char *husk_phase_name(unsigned phase)
{
        static const char *const names[HUSK_PHASE_COUNT] = {
                [HUSK_PHASE_PARSE] = "parse",     [HUSK_PHASE_CGROUP] = "cgroup",
                [HUSK_PHASE_SECCOMP] = "seccomp", [HUSK_PHASE_CLONE] = "clone",
                [HUSK_PHASE_MOUNTS] = "mounts",   [HUSK_PHASE_PIVOT] = "pivot",
                [HUSK_PHASE_READY] = "ready",     [HUSK_PHASE_TOTAL] = "total",
        };
        return phase < HUSK_PHASE_COUNT ? names[phase] : "unknown";
}

typedef struct create_ctx {
        const husk_global_t *g;
        const husk_create_opts_t *o;
        bool keep_master; /* foreground run with a terminal and no console socket */
        const char *root;
        husk_config *cfg;
        char *bundle, *rootfs, *config_path;
        ns_plan plan;
        int dirfd;
        bool state_made;
        int fifo_fd;
        cgroup_handle *cg;
        seccomp_prog *sp;
        int console_fd;
        int sync_host, sync_child;
        pid_t child; /* our direct child (the intermediate when there is a second fork) */
        pid_t pid;   /* the container process */
        int master;
        uint64_t phase[HUSK_PHASE_COUNT];
} create_ctx;

static void ctx_init(create_ctx *c, const husk_global_t *g, const husk_create_opts_t *o)
{
        memset(c, 0, sizeof(*c));
        c->g = g;
        c->o = o;
        c->root = g && g->root ? g->root : state_default_root();
        c->dirfd = c->fifo_fd = c->console_fd = c->sync_host = c->sync_child = c->master = -1;
        c->child = c->pid = -1;
}

static void kill_reap(pid_t *pid)
{
        if (*pid > 0) {
                kill(*pid, SIGKILL);
                while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        *pid = -1;
}

/* Release everything; on failure (abort) also kill the child, remove the cgroup and the state. */
static void ctx_done(create_ctx *c, bool abort_create)
{
        if (abort_create) {
                /* The container process is not our child after a second fork: kill it first. */
                if (c->pid > 0 && c->pid != c->child)
                        kill(c->pid, SIGKILL);
                kill_reap(&c->child);
                if (c->cg && cgroup_preexisting_procs(c->cg)) {
                        /* The cgroup held others' processes before: kill none of them. */
                        cgroup_abandon(c->cg);
                } else if (c->cg) {
                        husk_error_t ignored; /* best effort: the original error matters more */
                        (void)cgroup_destroy(c->cg, &ignored);
                }
                if (c->state_made) {
                        husk_error_t ignored;
                        (void)state_dir_remove(c->root, c->o->id, &ignored);
                }
        }
        util_closep(&c->sync_host);
        util_closep(&c->sync_child);
        util_closep(&c->fifo_fd);
        util_closep(&c->console_fd);
        util_closep(&c->dirfd);
        if (abort_create)
                util_closep(&c->master);
        if (c->cg)
                cgroup_handle_free(c->cg);
        c->cg = NULL;
        seccomp_prog_free(c->sp);
        c->sp = NULL;
        config_free(c->cfg);
        c->cfg = NULL;
        free(c->bundle);
        free(c->rootfs);
        free(c->config_path);
        c->bundle = c->rootfs = c->config_path = NULL;
}

/* Keep our fds out of the preserve-fds range 3..3+N-1 (the caller's fds live there). */
static int move_above(int *fd, unsigned preserve, husk_error_t *err)
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

/* Host side: rlimits and oom_score_adj of the child (create's init, exec's intermediate) set with
 * prlimit and /proc/PID: done from the host because they cannot be raised from inside a user
 * namespace. */
int process_host_limits(pid_t child, const config_process *p, husk_error_t *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = { .rlim_cur = p->rlimits[i].soft,
                                     .rlim_max = p->rlimits[i].hard };
                if (prlimit(child, p->rlimits[i].resource, &rl, NULL) < 0) {
                        int e = errno;
                        char eb[128];
                        return husk_error_set(err, e, "setrlimit %s: %s",
                                              config_rlimit_name(p->rlimits[i].resource),
                                              lower_strerror(e, eb, sizeof(eb)));
                }
        }
        if (p->has_oom_score_adj) {
                _cleanup_free_ char *path = xasprintf("/proc/%d/oom_score_adj", (int)child);
                char v[16];
                snprintf(v, sizeof(v), "%d", p->oom_score_adj);
                int r = write_file_at(AT_FDCWD, path, v);
                if (r < 0)
                        return util_syserr(err, r, "write oom_score_adj %s", v);
        }
        return 0;
}

/* Socket activation (runc does the same): the workload gets LISTEN_FDS=N and LISTEN_PID=1, since
 * it is pid 1 of its namespace; any LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES from the config is
 * replaced. */
static void set_listen_env(config_process *p, unsigned n)
{
        char **env = xcalloc(p->n_env + 3, sizeof(char *));
        size_t k = 0;
        for (size_t i = 0; i < p->n_env; i++) {
                if (strncmp(p->env[i], "LISTEN_FDS=", 11) == 0 ||
                    strncmp(p->env[i], "LISTEN_PID=", 11) == 0 ||
                    strncmp(p->env[i], "LISTEN_FDNAMES=", 15) == 0) {
                        free(p->env[i]);
                        continue;
                }
                env[k++] = p->env[i];
        }
        env[k++] = xasprintf("LISTEN_FDS=%u", n);
        env[k++] = xstrdup("LISTEN_PID=1");
        free(p->env);
        p->env = env;
        p->n_env = k;
}

/* SELinux is on when selinuxfs is mounted at /sys/fs/selinux (what libselinux checks first). */
static bool selinux_enabled(void)
{
        struct statfs sf;
        return statfs("/sys/fs/selinux", &sf) == 0 && sf.f_type == (typeof(sf.f_type))0xf97cff8c;
}

/* linux.mountLabel: without SELinux there is nothing to label (crun runs the container, runc's
 * mount fails on the context= option); with it, husk cannot label and refuses. */
static int check_mount_label(create_ctx *c, husk_error_t *err)
{
        const char *label = c->cfg->linux_.mount_label;
        if (!label || !label[0])
                return 0;
        if (selinux_enabled())
                return husk_error_set(err, EINVAL,
                                      "%s: .linux.mountLabel: not supported by husk (SELinux is "
                                      "enabled and husk cannot label mounts)",
                                      c->config_path);
        if (c->g && c->g->warn) {
                _cleanup_free_ char *w = xasprintf("%s: .linux.mountLabel: ignored (SELinux is "
                                                   "not enabled on this host)",
                                                   c->config_path);
                c->g->warn(w);
        }
        return 0;
}

/* No mount namespace (runc runs such a config, with chroot): whatever would be mounted would land
 * in the host's mount namespace and outlive the container, so mounts and linux.devices are
 * skipped with a warning (the container gets less). What cannot be skipped without weakening it
 * is refused: root.readonly, maskedPaths and readonlyPaths (runc refuses the last two too). */
static int check_no_mountns(create_ctx *c, husk_error_t *err)
{
        const husk_config *cfg = c->cfg;
        if (cfg->root.readonly)
                return husk_error_set(err, EINVAL,
                                      "%s: .root.readonly needs a mount namespace in "
                                      ".linux.namespaces",
                                      c->config_path);
        if (cfg->linux_.n_masked_paths || cfg->linux_.n_readonly_paths)
                return husk_error_set(err, EINVAL,
                                      "%s: .linux.%s needs a mount namespace in .linux.namespaces",
                                      c->config_path,
                                      cfg->linux_.n_masked_paths ? "maskedPaths" : "readonlyPaths");
        if ((cfg->n_mounts || cfg->linux_.n_devices) && c->g && c->g->warn) {
                _cleanup_free_ char *w = xasprintf(
                        "%s: no mount namespace in .linux.namespaces: .mounts and .linux.devices "
                        "are not applied (they would be made on the host)",
                        c->config_path);
                c->g->warn(w);
        }
        return 0;
}

/* Step 1: id, bundle, config, rootfs. */
static int load_bundle(create_ctx *c, husk_error_t *err)
{
        const husk_create_opts_t *o = c->o;
        int r = husk_id_validate(o->id, err);
        if (r < 0)
                return r;
        c->bundle = realpath(o->bundle && o->bundle[0] ? o->bundle : ".", NULL);
        if (!c->bundle)
                return util_syserr(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
        r = config_load_bundle(c->bundle, &c->cfg, err);
        if (r < 0)
                return r;
        husk_config *cfg = c->cfg;
        c->config_path = xasprintf("%s/config.json", c->bundle);
        if (!cfg->process || !cfg->process->args || cfg->process->n_args == 0)
                return husk_error_set(err, EINVAL, "%s: .process.args is required", c->config_path);
        if (o->listen_fds > 0)
                set_listen_env(cfg->process, o->listen_fds);
        _cleanup_free_ char *amb = process_ambient_warning(cfg->process);
        if (c->g && c->g->warn) {
                for (size_t i = 0; cfg->warnings && cfg->warnings[i]; i++)
                        c->g->warn(cfg->warnings[i]);
                if (amb)
                        c->g->warn(amb);
        }
        if ((r = check_mount_label(c, err)) < 0)
                return r;
        if (!cfg->has_root || !cfg->root.path || !cfg->root.path[0])
                return husk_error_set(err, EINVAL, "%s: .root.path is required", c->config_path);
        _cleanup_free_ char *joined = cfg->root.path[0] == '/'
                                              ? xstrdup(cfg->root.path)
                                              : xasprintf("%s/%s", c->bundle, cfg->root.path);
        c->rootfs = realpath(joined, NULL);
        struct stat st;
        if (!c->rootfs || stat(c->rootfs, &st) < 0)
                return util_syserr(err, errno, "invalid rootfs %s", joined);
        if (!S_ISDIR(st.st_mode))
                return husk_error_set(err, ENOTDIR, "invalid rootfs %s: not a directory", joined);
        r = ns_plan_make(cfg, &c->plan, err);
        if (r < 0)
                return r;
        if (!c->plan.has_mountns && (r = check_no_mountns(c, err)) < 0)
                return r;
        if ((cfg->hostname || cfg->domainname) && !c->plan.has_utsns)
                return husk_error_set(err, EINVAL,
                                      "%s: cannot set the hostname without a private UTS namespace",
                                      c->config_path);
        if (cfg->process->terminal && !o->console_socket && !c->keep_master)
                return husk_error_set(err, EINVAL,
                                      "cannot allocate a tty when husk detaches without a console "
                                      "socket (use --console-socket)");
        return 0;
}

/* Host side, right after clone: cgroup (STYLE.md §5 step 3: the child is in its cgroup before it
 * runs any setup; on cgroup v1 this cgroup.procs write waits for an RCU grace period, a cost the
 * speed issue names), rlimits (they cannot be raised later inside a user namespace),
 * oom_score_adj and id maps, then SYNC_GO. */
static int serve_child(create_ctx *c, uint64_t child_t[CHILD_T_COUNT], husk_error_t *err);

static int setup_child(create_ctx *c, bool in_cgroup, husk_error_t *err)
{
        const config_process *p = c->cfg->process;
        int r;
        /* The v1 hierarchies are joined by the child itself (cgroup_join_self, no RCU grace
         * period); the rest (v2, or the hybrid host's cgroup2 dir when clone3 could not place
         * it) from here, before SYNC_GO. */
        if (c->cg && (r = cgroup_enter_rest(c->cg, c->child, in_cgroup, err)) < 0)
                return r;
        if ((r = process_host_limits(c->child, p, err)) < 0)
                return r;
        if (c->plan.new_userns && !c->plan.unshare_mode &&
            (r = ns_write_idmaps(c->child, c->cfg, err)) < 0)
                return r;
        /* SYNC_GO */
        if ((r = sync_send(c->sync_host, SYNC_GO, 0, NULL, 0, -1)) < 0) {
                /* The child may have failed first (joining its cgroup): its SYNC_ERROR, already
                 * queued, says why. */
                uint64_t t[CHILD_T_COUNT];
                if (serve_child(c, t, err) < 0)
                        return -1;
                return util_syserr(err, r, "sync: send SYNC_GO");
        }
        return 0;
}

static void fill_state(const create_ctx *c, husk_state *st, char *cgroup)
{
        memset(st, 0, sizeof(*st));
        st->id = (char *)c->o->id;
        st->bundle = c->bundle;
        st->rootfs = c->rootfs;
        st->pid = c->pid;
        st->pid_start_time = state_proc_start_time(c->pid);
        format_rfc3339(st->created, sizeof(st->created), true);
        st->owner = (char *)"";
        st->annotations = c->cfg->annotations;
        st->n_annotations = c->cfg->n_annotations;
        st->cgroup = cgroup;
        st->new_pidns = c->plan.new_pidns;
        st->has_poststop = c->cfg->hooks.n_hooks[HOOK_POSTSTOP] > 0;
        st->config_path = c->config_path;
        st->terminal = c->cfg->process->terminal;
        for (size_t i = 0; i < HUSK_PHASE_COUNT && i < ARRAY_SIZE(st->start_phase_ns); i++)
                st->start_phase_ns[i] = c->phase[i];
}

/* Host-side hooks run in the bundle, with the runtime's environment (runc and crun chdir into
 * the bundle). */
static int run_host_hooks(const config_hooks *h, config_hook_kind kind, const char *bundle,
                          const char *json, husk_error_t *err)
{
        if (h->n_hooks[kind] == 0)
                return 0;
        _cleanup_close_ int fd = bundle ? open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        const hooks_opts o = { .cwd_fd = fd, .default_env = environ };
        return hooks_run_ex(h, kind, json, &o, err);
}

/* SYNC_HOOKS: prestart (deprecated) then createRuntime, in the runtime's namespaces. The state
 * says "created", as crun and the runtime-tools validation suite have it (runc: "creating");
 * the same JSON goes to createContainer and startContainer (runc: "created" for the latter). */
static int run_create_hooks(create_ctx *c, husk_error_t *err)
{
        husk_state st;
        fill_state(c, &st, NULL);
        _cleanup_free_ char *json = state_to_json(&st, HUSK_STATUS_CREATED, false);
        int r = run_host_hooks(&c->cfg->hooks, HOOK_PRESTART, c->bundle, json, err);
        if (r < 0)
                return r;
        r = run_host_hooks(&c->cfg->hooks, HOOK_CREATE_RUNTIME, c->bundle, json, err);
        if (r < 0)
                return r;
        r = sync_send(c->sync_host, SYNC_HOOKS_DONE, 0, json, strlen(json), -1);
        return r < 0 ? util_syserr(err, r, "sync: send SYNC_HOOKS_DONE") : 0;
}

/* SYNC_SECCOMP: containerProcessState (state JSON, metadata, the fd) to linux.seccomp.listenerPath.
 */
static int send_seccomp_listener(create_ctx *c, int notify_fd, husk_error_t *err)
{
        const config_seccomp *sc = c->cfg->linux_.seccomp;
        husk_state st;
        fill_state(c, &st, NULL);
        _cleanup_free_ char *json = state_to_json(&st, HUSK_STATUS_CREATING, false);
        return seccomp_send_listener_md(sc->listener_path, sc->listener_metadata, notify_fd, json,
                                        err);
}

/* SYNC_SECCOMP with code SYNC_SECCOMP_LATE and no fd: the child loads its notify filter only after
 * `start` (after the startContainer hooks, as close to execve as any filter), when this side is
 * gone; it gets a socket already connected to linux.seccomp.listenerPath and the message to send
 * on it, and sends the listener fd itself with sendmsg (crun hands the fd over at the same
 * point). Reply: SYNC_SECCOMP, data = message, fd = the connected socket. */
static int seccomp_late(create_ctx *c, husk_error_t *err)
{
        const config_seccomp *sc = c->cfg->linux_.seccomp;
        if (!sc || !sc->listener_path)
                return husk_error_set(err, EPROTO, "sync: seccomp listener asked for, none set");
        _cleanup_close_ int sock = -1;
        int r = seccomp_listener_connect(sc->listener_path, &sock, err);
        if (r < 0)
                return r;
        husk_state st;
        fill_state(c, &st, NULL);
        _cleanup_free_ char *json = state_to_json(&st, HUSK_STATUS_CREATING, false);
        _cleanup_free_ char *msg = seccomp_listener_message(sc->listener_metadata, json);
        r = sync_send(c->sync_host, SYNC_SECCOMP, 0, msg, strlen(msg), sock);
        return r < 0 ? util_syserr(err, r, "sync: send the seccomp listener socket") : 0;
}

/* The child closed the sync socket without an error frame: say how it ended. */
static int child_died(create_ctx *c, husk_error_t *err)
{
        int status = 0;
        if (c->child > 0 && waitpid(c->child, &status, 0) == c->child) {
                c->child = -1;
                if (WIFSIGNALED(status))
                        return husk_error_set(err, ECHILD,
                                              "container init was killed by signal %d during setup",
                                              WTERMSIG(status));
                return husk_error_set(err, ECHILD,
                                      "container init exited with status %d during setup",
                                      WEXITSTATUS(status));
        }
        return husk_error_set(err, ECHILD, "container init exited during setup");
}

/* The child died before READY: when its memory cgroup saw an OOM kill, that is why (a memory
 * limit too small to start in), not the broken sync socket. Returns 0 when it was not that. */
static int oom_at_start(create_ctx *c, husk_error_t *err)
{
        uint64_t n = 0;
        if (!c->cg || cgroup_oom_kills(c->cg, &n) < 0 || n == 0)
                return 0;
        const config_resources *res = c->cfg->linux_.resources;
        char lim[64] = "";
        if (res && res->has_memory && res->memory.has_limit)
                snprintf(lim, sizeof(lim), " of %lld bytes", (long long)res->memory.limit);
        if (c->child > 0) {
                /* Reap it here so the abort path has nothing left to wait for. */
                kill_reap(&c->child);
        }
        return husk_error_set(err, ENOMEM, "the container was killed for lack of memory while "
                              "starting (OOM kills in its cgroup: %llu): its memory "
                              "limit%s is too small (%s: .linux.resources.memory.limit)",
                              (unsigned long long)n, lim, c->config_path);
}

/* Serve the child's requests until SYNC_READY. */
static int serve_child(create_ctx *c, uint64_t child_t[CHILD_T_COUNT], husk_error_t *err)
{
        for (;;) {
                sync_msg m;
                int r = sync_recv(c->sync_host, &m);
                if (r <= 0 && oom_at_start(c, err) < 0)
                        return -ENOMEM;
                if (r < 0)
                        return util_syserr(err, r, "sync: receive");
                if (r == 0)
                        return child_died(c, err);
                switch (m.type) {
                case SYNC_USERNS: /* the child unshared its user namespace */
                        r = ns_write_idmaps(c->child, c->cfg, err);
                        if (r == 0 &&
                            (r = sync_send(c->sync_host, SYNC_USERNS_DONE, 0, NULL, 0, -1)) < 0)
                                util_syserr(err, r, "sync: send SYNC_USERNS_DONE");
                        break;
                case SYNC_PID: /* second fork: m.code = container pid; the intermediate exits */
                        c->pid = m.code;
                        while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
                                ;
                        c->child = -1;
                        if ((r = sync_send(c->sync_host, SYNC_PID_ACK, 0, NULL, 0, -1)) < 0)
                                util_syserr(err, r, "sync: send SYNC_PID_ACK");
                        break;
                case SYNC_HOOKS:
                        r = run_create_hooks(c, err);
                        break;
                case SYNC_PTY:
                        if (m.fd < 0) {
                                r = husk_error_set(err, EPROTO, "sync: SYNC_PTY without an fd");
                        } else if (c->console_fd >= 0) {
                                r = terminal_send_master(c->console_fd, m.fd, err);
                                util_closep(&c->console_fd); /* never wait for the peer */
                        } else {
                                c->master = TAKE_FD(m.fd);
                                /* before `start`: the workload's first line too (runc) */
                                (void)terminal_clear_onlcr(c->master);
                        }
                        break;
                case SYNC_SECCOMP: /* the filter is loaded: hand its listener to the agent */
                        if (m.fd < 0 && m.code == SYNC_SECCOMP_LATE)
                                r = seccomp_late(c, err);
                        else if (m.fd < 0)
                                r = husk_error_set(err, EPROTO, "sync: SYNC_SECCOMP without an fd");
                        else
                                r = send_seccomp_listener(c, m.fd, err);
                        break;
                case SYNC_ERROR:
                        r = husk_error_set(err, m.code, "%s", m.data ? m.data : "unknown error");
                        husk_error_prefix(err, "unable to start container process");
                        break;
                case SYNC_READY:
                        if (m.len == sizeof(uint64_t) * CHILD_T_COUNT)
                                memcpy(child_t, m.data, m.len);
                        sync_msg_done(&m);
                        return 0;
                default:
                        r = husk_error_set(err, EPROTO, "sync: unexpected frame %u", m.type);
                }
                sync_msg_done(&m);
                if (r < 0)
                        return r;
        }
}

/* Host side: clone (fork semantics, no shared memory) with the namespace flags, into the cgroup2
 * dir cgroup_fd when >= 0 and the kernel can (clone3 CLONE_INTO_CGROUP); *ret_in_cgroup says
 * whether it did. Also used by exec for its intermediate. */
pid_t process_clone(unsigned long flags, int cgroup_fd, bool *ret_in_cgroup)
{
        struct husk_clone_args ca = { .flags = flags, .exit_signal = SIGCHLD };
        pid_t pid = -1;
        *ret_in_cgroup = false;
        if (cgroup_fd >= 0) {
                ca.flags |= CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)cgroup_fd;
                pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
                if (pid >= 0) {
                        *ret_in_cgroup = true;
                        return pid;
                }
                ca.flags = flags;
                ca.cgroup = 0;
        }
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG))
                pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
        return pid;
}

static int write_pid_file(const char *path, pid_t pid, husk_error_t *err)
{
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid); /* digits, no newline (engines) */
        _cleanup_free_ char *tmp = xasprintf("%s.husk-tmp", path);
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
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

static void cgroup_handle_freep(cgroup_handle **h)
{
        cgroup_handle_free(*h);
        *h = NULL;
}

/* The teardown record (state.h): the planned cgroup, and the image container folder the
 * config's annotation names (`husk run IMAGE`; checked against its marker when removed). */
static int save_record(create_ctx *c, const cgroup_handle *cg, husk_error_t *err)
{
        _cleanup_free_ char *cgs = cg ? cgroup_serialize(cg) : NULL;
        state_record rec = { .cgroup = cgs };
        for (size_t i = 0; i < c->cfg->n_annotations; i++)
                if (strcmp(c->cfg->annotations[i].key, HUSK_IMAGE_CONTAINER_ANNOTATION) == 0)
                        rec.image_container = c->cfg->annotations[i].value;
        return state_record_save(c->dirfd, c->o->id, &rec, err);
}

/* The cgroup to create. Rootless (util_rootless): one in the user's delegated cgroup v2 subtree,
 * else none, with one warning; a config that asks for a limit is then an error (runc: "cannot set
 * limit: container could not join or create cgroup"), since running it without would silently
 * drop the limit. */
static int plan_cgroup(create_ctx *c, cgroup_handle **ret, husk_error_t *err)
{
        if (!util_rootless())
                return cgroup_plan(c->o->id, c->cfg, ret, err);
        _cleanup_free_ char *why = NULL;
        int r = cgroup_plan_rootless(c->o->id, c->cfg, ret, &why, err);
        if (r < 0 || *ret)
                return r;
        const char *limit = cgroup_limit_asked(c->cfg->linux_.resources);
        if (limit)
                return husk_error_set(err, EPERM,
                                      "%s: %s: husk cannot apply this limit without a cgroup, and "
                                      "it has none: %s (remove the limit, run as root, or run in "
                                      "a delegated cgroup v2 subtree)",
                                      c->config_path, limit, why);
        if (c->g && c->g->warn) {
                _cleanup_free_ char *w = xasprintf(
                        "rootless: no cgroup for the container (%s): it runs without resource "
                        "limits, and pause, update and events need a cgroup",
                        why);
                c->g->warn(w);
        }
        return 0;
}

/* Steps 2-3 and the clone; then serve the child until READY and save the state. */
static int create_container(create_ctx *c, husk_error_t *err)
{
        const husk_create_opts_t *o = c->o;
        uint64_t t_start = now_ns(), t = t_start;
        int r = load_bundle(c, err);
        if (r < 0)
                return r;
        husk_config *cfg = c->cfg;
        c->phase[HUSK_PHASE_PARSE] = now_ns() - t;

        /* The cgroup is planned first and recorded with the state folder before it exists: a
         * create killed from here on leaves a record that `delete --force` undoes. */
        t = now_ns();
        _cleanup_(cgroup_handle_freep) cgroup_handle *plan = NULL;
        if ((r = plan_cgroup(c, &plan, err)) < 0)
                return r;
        if ((r = state_dir_create(c->root, o->id, &c->dirfd, err)) < 0)
                return r;
        c->state_made = true;
        util_kill_point("create:state-dir");
        if ((r = save_record(c, plan, err)) < 0)
                return r;
        util_kill_point("create:record");
        if (mkfifoat(c->dirfd, STATE_FIFO_NAME, 0600) < 0)
                return util_syserr(err, errno, "mkfifo %s", STATE_FIFO_NAME);
        /* O_RDWR: opening does not block, and the child inherits a reader for `start`. */
        c->fifo_fd = openat(c->dirfd, STATE_FIFO_NAME, O_RDWR | O_CLOEXEC);
        if (c->fifo_fd < 0)
                return util_syserr(err, errno, "open %s", STATE_FIFO_NAME);

        if (plan && (r = cgroup_make(plan, cfg, err)) < 0)
                return r;
        c->cg = TAKE_PTR(plan);
        size_t others = c->cg ? cgroup_preexisting_procs(c->cg) : 0;
        if (others && c->g && c->g->warn) {
                /* runc 1.1's warning (it refuses from 1.2 on) */
                char msg[128];
                snprintf(msg, sizeof(msg),
                         "container's cgroup is not empty: %zu process(es) found", others);
                c->g->warn(msg);
        }
        c->phase[HUSK_PHASE_CGROUP] = now_ns() - t;
        util_kill_point("create:cgroup");
        t = now_ns();
        if (cfg->linux_.seccomp) {
                if ((r = seccomp_compile(cfg->linux_.seccomp, &c->sp, err)) < 0)
                        return r;
                if (c->sp->notify && !cfg->linux_.seccomp->listener_path)
                        return husk_error_set(err, EINVAL,
                                              "%s: .linux.seccomp: SCMP_ACT_NOTIFY needs a "
                                              "listenerPath",
                                              c->config_path);
        }
        c->phase[HUSK_PHASE_SECCOMP] = now_ns() - t;
        if (cfg->process->terminal && o->console_socket &&
            (r = terminal_connect(o->console_socket, &c->console_fd, err)) < 0)
                return r;

        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return util_syserr(err, errno, "socketpair");
        c->sync_host = sp[0];
        c->sync_child = sp[1];
        unsigned keep = o->preserve_fds + o->listen_fds;
        if ((r = move_above(&c->sync_child, keep, err)) < 0 ||
            (r = move_above(&c->fifo_fd, keep, err)) < 0)
                return r;

        init_args a = {
                .cfg = cfg,
                .plan = &c->plan,
                .rootfs = { .cfg = cfg,
                            .rootfs = c->rootfs,
                            .bundle = c->bundle,
                            .no_pivot = o->no_pivot,
                            .in_userns = c->plan.userns || util_in_userns(),
                            .want_console = cfg->process->terminal,
                            .no_mountns = !c->plan.has_mountns,
                            .rootfs_fd = -1 },
                .seccomp = c->sp,
                .sync_fd = c->sync_child,
                .fifo_fd = c->fifo_fd,
                .preserve_fds = keep,
                .no_new_keyring = o->no_new_keyring,
                .close_fds = { c->dirfd, c->sync_host, c->console_fd, -1 },
        };

        /* Read /proc/sys/kernel/cap_last_cap here, from the host's procfs: the child uses the
         * cached value after the pivot. */
        (void)caps_last_cap();
        t = now_ns();
        bool in_cgroup = false;
        int clone_fd = -1;
        if (c->cg) {
                clone_fd = cgroup_clone_fd(c->cg);
                if ((r = cgroup_join_open(c->cg, err)) < 0)
                        return r;
                a.cgroup = c->cg;
        }
        /* Bind sources and idmapped mounts, opened here as the host's root; the child inherits
         * the trees (rootfs.h). */
        if ((r = rootfs_open_sources(&a.rootfs, err)) < 0) {
                if (c->cg)
                        cgroup_join_close(c->cg);
                return r;
        }
        c->child = process_clone(c->plan.clone_flags, clone_fd, &in_cgroup);
        if (c->child == 0)
                container_main(&a); /* container side: never returns */
        int clone_errno = errno;
        rootfs_close_sources(&a.rootfs);
        if (c->child < 0)
                return util_syserr(err, clone_errno, "clone the container process");
        c->pid = c->child;
        util_closep(&c->sync_child);
        if (c->cg)
                cgroup_join_close(c->cg);
        if ((r = setup_child(c, in_cgroup, err)) < 0)
                return r;
        c->phase[HUSK_PHASE_CLONE] = now_ns() - t;
        util_kill_point("create:clone");

        t = now_ns();
        uint64_t child_t[CHILD_T_COUNT] = { 0 };
        if ((r = serve_child(c, child_t, err)) < 0)
                return r;
        c->phase[HUSK_PHASE_READY] = now_ns() - t;
        c->phase[HUSK_PHASE_MOUNTS] = child_t[CHILD_T_MOUNTS];
        c->phase[HUSK_PHASE_PIVOT] = child_t[CHILD_T_PIVOT];
        util_kill_point("create:ready");
        if (cfg->process->terminal && c->master < 0 && c->console_fd >= 0)
                return husk_error_set(err, EPROTO, "container did not send its pty");

        if (o->pid_file && (r = write_pid_file(o->pid_file, c->pid, err)) < 0)
                return r;
        c->phase[HUSK_PHASE_TOTAL] = now_ns() - t_start;
        husk_state st;
        _cleanup_free_ char *cg = c->cg ? cgroup_serialize(c->cg) : NULL;
        fill_state(c, &st, cg);
        if ((r = state_save(c->dirfd, &st, err)) < 0)
                return r;
        util_kill_point("create:saved");
        if (o->phase_ns)
                memcpy(o->phase_ns, c->phase, sizeof(c->phase));
        return 0;
}

int husk_create(const husk_global_t *g, const husk_create_opts_t *o, husk_error_t *err)
{
        create_ctx c;
        ctx_init(&c, g, o);
        int r = create_container(&c, err);
        ctx_done(&c, r < 0);
        return r;
}

static void state_freep(husk_state **s)
{
        state_free(*s);
        *s = NULL;
}

/* poststart: read the config only when it mentions poststart hooks (start stays cheap). A failing
 * poststart hook fails the start (runc kills the container and returns the error). */
static int run_poststart(const husk_state *st, husk_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (!st->config_path ||
            read_file_at(AT_FDCWD, st->config_path, 16 << 20, &text, &len) < 0 ||
            !memmem(text, len, "\"poststart\"", 11))
                return 0;
        husk_config *cfg = NULL;
        husk_error_t herr;
        if (config_parse(text, len, st->config_path, &cfg, &herr) < 0)
                return 0; /* create parsed this config: it cannot fail unless edited since */
        _cleanup_free_ char *json = state_to_json(st, HUSK_STATUS_RUNNING, false);
        int r = run_host_hooks(&cfg->hooks, HOOK_POSTSTART, st->bundle, json, err);
        config_free(cfg);
        return r;
}

/* After a failed poststart hook: SIGKILL the container's init and wait (briefly) until it is
 * gone, so the container reads as stopped (runc: initProcess.terminate()). */
static void kill_after_poststart(pid_t pid, uint64_t start_time)
{
        if (pid <= 0 || !state_pid_alive(pid, start_time))
                return;
        _cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        /* the pidfd pins this process: the start-time check above rules out a reused pid */
        if (pfd >= 0 ? syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) < 0
                     : kill(pid, SIGKILL) < 0)
                return;
        for (int i = 0; i < 500 && state_pid_alive(pid, start_time); i++)
                usleep(2000);
}

/* Start in place (run): this process created the container and still holds its state dir lock,
 * exec.fifo and config, so it writes the start byte and runs poststart from them instead of
 * reopening and re-reading everything as husk_start does (speed, issue 6). */
static int start_created(create_ctx *c, husk_error_t *err)
{
        int r = write_all(c->fifo_fd, "0", 1);
        if (r < 0)
                return util_syserr(err, r, "write %s", STATE_FIFO_NAME);
        /* The status becomes "running"; a failed unlink only leaves a fifo nobody reads. */
        (void)unlinkat(c->dirfd, STATE_FIFO_NAME, 0);
        if (c->cfg->hooks.n_hooks[HOOK_POSTSTART] == 0)
                return 0;
        husk_state st;
        fill_state(c, &st, NULL);
        _cleanup_free_ char *json = state_to_json(&st, HUSK_STATUS_RUNNING, false);
        /* A failure fails the run: the caller kills the container and removes it. */
        return run_host_hooks(&c->cfg->hooks, HOOK_POSTSTART, c->bundle, json, err);
}

int husk_start(const husk_global_t *g, const char *id, husk_error_t *err)
{
        const char *root = g && g->root ? g->root : state_default_root();
        _cleanup_close_ int dirfd = -1;
        int r = state_dir_open(root, id, &dirfd, err);
        if (r < 0)
                return r;
        _cleanup_(state_freep) husk_state *st = NULL;
        if ((r = state_load(dirfd, &st, err)) < 0)
                return r;
        husk_status_t status;
        if ((r = state_status(dirfd, st, &status, err)) < 0)
                return r;
        if (status != HUSK_STATUS_CREATED)
                return husk_error_set(err, EINVAL,
                                      "cannot start a container that is not created: %s",
                                      husk_status_name(status));
        _cleanup_close_ int fd = openat(dirfd, STATE_FIFO_NAME, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENXIO)
                        return husk_error_set(err, ESRCH,
                                              "cannot start container %s: its process is gone", id);
                return util_syserr(err, errno, "open %s", STATE_FIFO_NAME);
        }
        if ((r = write_all(fd, "0", 1)) < 0)
                return util_syserr(err, r, "write %s", STATE_FIFO_NAME);
        /* The status becomes "running"; a failed unlink only leaves a fifo nobody reads. */
        (void)unlinkat(dirfd, STATE_FIFO_NAME, 0);
        if ((r = run_poststart(st, err)) < 0) {
                kill_after_poststart(st->pid, st->pid_start_time);
                return r;
        }
        return 0;
}

/* Foreground run: wait for the container process, forward signals, proxy the pty. */
int wait_container(pid_t pid, int master, int *ret_status, husk_error_t *err)
{
        sigset_t set;
        sigemptyset(&set);
        int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
                sigaddset(&set, fwd[i]);
        _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
        if (sfd < 0)
                return util_syserr(err, errno, "signalfd");
        /* The host's terminal goes raw while the pty is proxied, restored at the end: stderr,
         * stdout or stdin, whichever is a terminal (runc's initHostConsole order). */
        int host_tty = -1;
        for (int fd = STDERR_FILENO; master >= 0 && fd >= STDIN_FILENO && host_tty < 0; fd--)
                if (isatty(fd))
                        host_tty = fd;
        bool tty_in = host_tty >= 0;
        struct termios saved;
        if (master >= 0)
                (void)terminal_clear_onlcr(master); /* best effort: the pty may be gone */
        if (tty_in) {
                if (terminal_make_raw(host_tty, &saved) < 0)
                        tty_in = false;
                else
                        (void)terminal_copy_winsize(host_tty, master);
        }
        bool in_open = master >= 0, out_open = master >= 0, exited = false;
        int status = 0;
        char buf[8192];
        while (!exited || out_open) {
                struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
                                       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                                       { .fd = out_open ? master : -1, .events = POLLIN } };
                /* Once the process is gone, only drain what the pty still holds. */
                int n = poll(p, 3, exited ? 100 : -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || (n == 0 && exited))
                        break;
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                                if (si.ssi_signo == SIGCHLD) {
                                        /* A subreaper also inherits orphans: reap them all. */
                                        pid_t w;
                                        int st;
                                        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                                                if (w == pid) {
                                                        status = st;
                                                        exited = true;
                                                }
                                } else if (si.ssi_signo == SIGWINCH) {
                                        if (tty_in)
                                                (void)terminal_copy_winsize(host_tty, master);
                                } else {
                                        kill(pid, (int)si.ssi_signo);
                                }
                        }
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
                        if (k <= 0)
                                in_open = false;
                        else if (write_all(master, buf, (size_t)k) < 0)
                                in_open = false;
                }
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t k = read(master, buf, sizeof(buf));
                        if (k <= 0)
                                out_open = false; /* EIO: every slave fd is closed */
                        else
                                (void)write_all(STDOUT_FILENO, buf, (size_t)k);
                }
        }
        if (!exited) {
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        if (tty_in)
                terminal_restore(host_tty, &saved);
        *ret_status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        return 0;
}

int husk_run(const husk_global_t *g, const husk_create_opts_t *o, int *ret_status,
             husk_error_t *err)
{
        /* The container process (or its orphans) reparent to us, so we can wait for it. */
        if (!o->detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return util_syserr(err, errno, "prctl PR_SET_CHILD_SUBREAPER");
        create_ctx c;
        ctx_init(&c, g, o);
        c.keep_master = !o->detach && !o->console_socket;
        /* Block the forwarded signals before start: they are read from a signalfd. */
        sigset_t set, old;
        sigemptyset(&set);
        int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
                sigaddset(&set, fwd[i]);
        int r = create_container(&c, err);
        if (r == 0 && !o->detach)
                sigprocmask(SIG_BLOCK, &set, &old);
        if (r == 0)
                r = start_created(&c, err);
        if (r == 0)
                util_kill_point("run:started");
        pid_t pid = c.pid;
        _cleanup_close_ int master = TAKE_FD(c.master);
        /* A failed start kills the process and removes the cgroup and the state, as delete
         * --force would. */
        ctx_done(&c, r < 0);
        if (r < 0 || o->detach) {
                if (r < 0 && !o->detach)
                        sigprocmask(SIG_SETMASK, &old, NULL);
                if (r == 0 && ret_status)
                        *ret_status = 0;
                return r;
        }
        int status = 0;
        r = wait_container(pid, master, &status, err);
        sigprocmask(SIG_SETMASK, &old, NULL);
        husk_error_t derr;
        /* --keep: the stopped container stays for state, ps, delete (runc run --keep). */
        int dr = o->keep ? 0 : husk_delete(g, o->id, true, &derr);
        if (r < 0)
                return r;
        if (dr < 0) {
                *err = derr;
                return dr;
        }
        if (ret_status)
                *ret_status = status;
        return 0;
}
