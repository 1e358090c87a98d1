/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor of a detached image container (the role conmon plays for podman). `husk run -d`
 * forks it (no re-exec): fork, setsid, fork again so it is nobody's child; it closes every fd it
 * does not need, becomes the subreaper of the container, holds its stdio (two pipes), writes the
 * output to ctr.log, records each exit in exit.json and applies the restart policy with a
 * back-off. The first start (or its error) is reported to the CLI over a pipe.
 * Host side only; after the first fork everything leaves with _exit. */
#include "husk/image.h"
#include "service/service.h"
#include "state/state.h"
#include "util/json.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define DRAIN_MS 1000 /* after the exit, what the pipes still hold (orphans may keep them open) */

typedef struct monitor {
        husk_global_t g;
        char *id, *store, *bundle;
        int dirfd, nullfd, sfd, report;
        svc_policy policy;
        bool auto_remove;
        bool stop, restart_req; /* stop: no restart follows; restart_req: `husk restart` */
        bool started;           /* the first start succeeded */
        bool gone;              /* the folder was removed under us (husk delete) */
        unsigned restarts;
        svc_backoff bo;
        svc_logw log;
        int64_t last_start; /* of the last run, kept in monitor.json after the end */
} monitor_t;

int husk_service_restart_check(const char *policy, husk_error_t *err)
{
        svc_policy p;
        return svc_policy_parse(policy, &p, err);
}

int husk_service_size_parse(const char *s, uint64_t *ret)
{
        return svc_size_parse(s, ret);
}

/* ---- the CLI side ---- */

static char *abs_root(const husk_global_t *g)
{
        const char *root = g && g->root && g->root[0] ? g->root : state_default_root();
        if (root[0] == '/')
                return xstrdup(root);
        char cwd[PATH_MAX];
        return getcwd(cwd, sizeof(cwd)) ? xasprintf("%s/%s", cwd, root) : xstrdup(root);
}

/* The image's first name when the ref was an archive path ("busybox:latest", not the file). */
static char *image_name(const husk_service_run_opts_t *o)
{
        if (!o->image_ref || !strchr(o->image_ref, '/') || !o->image_id)
                return o->image_ref ? xstrdup(o->image_ref) : NULL;
        husk_image_opts_t io = { .store = o->store };
        _cleanup_free_ char *text = NULL;
        husk_error_t e = { 0 };
        json_value *v = NULL;
        char eb[64];
        char *name = NULL;
        if (husk_image_inspect_json(&io, o->image_id, &text, &e) == 0 &&
            json_parse(text, strlen(text), &v, eb, sizeof(eb)) == 0) {
                const json_value *n = json_get(v, "names");
                if (n && n->type == JSON_ARRAY && n->n && n->items[0]->type == JSON_STRING)
                        name = xstrdup(n->items[0]->str);
                json_value_free(v);
        }
        return name ? name : xstrdup(o->image_ref);
}

static int write_service(int dirfd, const husk_global_t *g, const husk_service_run_opts_t *o,
                         husk_error_t *err)
{
        char created[48];
        svc_time_format(svc_now(), created, sizeof(created));
        _cleanup_free_ char *root = abs_root(g);
        json_writer *w = json_writer_new(true);
        json_obj_begin(w);
        json_kv_str(w, "id", o->id);
        json_kv_str(w, "name", o->id); /* the id is the name */
        json_kv_str(w, "root", root);
        _cleanup_free_ char *iname = image_name(o);
        json_kv_str(w, "imageRef", iname);
        json_kv_str(w, "imageSource", o->image_ref);
        json_kv_str(w, "imageId", o->image_id);
        json_kv_str(w, "created", created);
        json_kv_str(w, "restart", o->restart ? o->restart : "no");
        _cleanup_strv_ char **args = svc_config_args(dirfd);
        json_key(w, "command");
        json_arr_begin(w);
        for (size_t i = 0; args[i]; i++)
                json_str(w, args[i]);
        json_arr_end(w);
        json_key(w, "ports");
        json_arr_begin(w);
        for (size_t i = 0; o->ports && o->ports[i]; i++)
                json_str(w, o->ports[i]);
        json_arr_end(w);
        json_kv_str(w, "network", o->network);
        json_kv_uint(w, "logMaxSize", o->log_max_size ? o->log_max_size : SVC_LOG_MAX_DEFAULT);
        json_kv_bool(w, "autoRemove", o->auto_remove);
        json_kv_bool(w, "nameGiven", o->name_given);
        json_obj_end(w);
        _cleanup_free_ char *text = json_writer_finish(w);
        if (write_file_atomic_at(dirfd, SVC_FILE, text, strlen(text), 0600) < 0)
                return util_syserr(err, errno, "write %s of container %s", SVC_FILE, o->id);
        return 0;
}

int husk_service_run(const husk_global_t *g, const husk_service_run_opts_t *o, husk_error_t *err)
{
        svc_policy p;
        int r = svc_policy_parse(o->restart, &p, err);
        if (r < 0)
                return r;
        if (o->auto_remove && p.kind != SVC_RESTART_NO)
                return husk_error_set(err, EINVAL, "--rm and --restart %s cannot be used together",
                                      o->restart);
        _cleanup_free_ char *store = svc_store_path(o->store);
        _cleanup_free_ char *dir = xasprintf("%s/containers/%s", store, o->id);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0)
                return util_syserr(err, errno, "open %s", dir);
        if ((r = write_service(dirfd, g, o, err)) < 0)
                return r;
        util_kill_point("run-d:service");
        return svc_monitor_spawn(g, store, o->id, err);
}

/* Read the monitor's report: "OK" or "ERR CODE MESSAGE", NUL-terminated, after the
 * intermediate's "M PID" (the monitor's pid); EOF first means it died. The container (forked
 * by the monitor while the pipe was open) holds a write end until its execve, so a monitor
 * killed before the start gives no EOF: its pid is checked while we wait. */
static int read_report(int fd, husk_error_t *err)
{
        char buf[HUSK_ERROR_MSG_MAX + 32];
        size_t n = 0;
        pid_t mpid = 0;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int pr = poll(&p, 1, 200);
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr == 0) {
                        if (mpid > 0 && !state_pid_alive(mpid, 0))
                                break;
                        continue;
                }
                ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
                char *z = memchr(buf, '\0', n);
                if (z && strncmp(buf, "M ", 2) == 0) {
                        int v = 0;
                        if (parse_int(buf + 2, &v) == 0 && v > 0)
                                mpid = v;
                        size_t used = (size_t)(z - buf) + 1;
                        memmove(buf, z + 1, n - used);
                        n -= used;
                        z = memchr(buf, '\0', n);
                }
                if (z || n == sizeof(buf) - 1)
                        break;
        }
        buf[n] = '\0';
        if (strncmp(buf, "OK", 2) == 0)
                return 0;
        int code = EIO;
        char *msg = buf;
        if (strncmp(buf, "ERR ", 4) == 0) {
                char *sp = strchr(buf + 4, ' ');
                if (sp) {
                        *sp = '\0';
                        if (parse_int(buf + 4, &code) < 0 || code <= 0)
                                code = EIO;
                        msg = sp + 1;
                }
        } else {
                msg = "the monitor exited before the container started";
        }
        return husk_error_set(err, code, "%s", msg);
}

static _Noreturn void monitor_main(const husk_global_t *g, const char *store, const char *id,
                                   int report);

int svc_monitor_spawn(const husk_global_t *g, const char *store, const char *id, husk_error_t *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return util_syserr(err, errno, "pipe for the monitor");
        fflush(NULL); /* buffered output must not be written twice */
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return util_syserr(err, e, "fork the monitor");
        }
        if (pid == 0) {
                /* The intermediate: a new session, then the monitor is orphaned at once. */
                close(p[0]);
                if (setsid() < 0)
                        _exit(1);
                pid_t m = fork();
                if (m < 0) {
                        dprintf(p[1], "ERR %d fork the monitor: %s%c", errno, strerror(errno), '\0');
                        _exit(1);
                }
                if (m > 0) {
                        dprintf(p[1], "M %d%c", (int)m, '\0');
                        _exit(0);
                }
                monitor_main(g, store, id, p[1]);
        }
        close(p[1]);
        /* The report first: the intermediate's exit needs no wait before it. */
        int r = read_report(p[0], err);
        close(p[0]);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return r;
}

/* ---- the monitor ---- */

static void report(monitor_t *m, int code, const char *msg)
{
        if (m->report < 0)
                return;
        if (code == 0)
                (void)write_all(m->report, "OK", 3);
        else
                dprintf(m->report, "ERR %d %s%c", code, msg, '\0');
        util_closep(&m->report);
}

/* Only the report pipe survives; stdio becomes /dev/null (the CLI's pipes must see EOF). The
 * fds above it are closed with close_range, or one by one from the proc fd folder. */
static int detach_fds(int *report)
{
        int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nullfd < 0)
                return -errno;
        for (int fd = 0; fd < 3; fd++)
                if (dup2(nullfd, fd) < 0)
                        return -errno;
        int keep = fcntl(*report, F_DUPFD_CLOEXEC, 3);
        if (keep < 0)
                return -errno;
        /* keep is the lowest free fd >= 3; everything above it goes. */
        if (keep > 3)
                (void)syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U);
        if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) < 0) {
                DIR *d = opendir("/proc/self/fd");
                struct dirent *de;
                int dfd = d ? dirfd(d) : -1;
                while (d && (de = readdir(d))) {
                        int fd;
                        if (parse_int(de->d_name, &fd) == 0 && fd > keep && fd != dfd)
                                close(fd);
                }
                if (d)
                        closedir(d);
        }
        *report = keep;
        return 0;
}

static void check_stop(monitor_t *m)
{
        _cleanup_free_ char *what = NULL;
        if (read_file_at(m->dirfd, SVC_STOP_FILE, 64, &what, NULL) < 0)
                return;
        m->stop = true;
        if (strncmp(what, "restart", 7) == 0)
                m->restart_req = true;
}

/* Handle one signal from the signalfd; sets exited and status when pid was reaped. */
static void on_signal(monitor_t *m, pid_t pid, bool *exited, int *status)
{
        struct signalfd_siginfo si;
        if (read(m->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
                return;
        switch (si.ssi_signo) {
        case SIGCHLD: {
                /* A subreaper inherits orphans too: reap every child. */
                pid_t w;
                int st;
                while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                        if (pid > 0 && w == pid) {
                                *status = st;
                                *exited = true;
                        }
                break;
        }
        case SIGUSR1:
                check_stop(m);
                break;
        default:
                /* SIGTERM/SIGINT/SIGHUP to the monitor: stop the workload, no restart. */
                m->stop = true;
                if (pid > 0 && !*exited)
                        kill(pid, (int)si.ssi_signo);
        }
}

static bool pump(monitor_t *m, int fd, int stream)
{
        char buf[65536];
        ssize_t k = read(fd, buf, sizeof(buf));
        if (k > 0) {
                svc_logw_feed(&m->log, stream, buf, (size_t)k);
                return true;
        }
        return k < 0 && (errno == EAGAIN || errno == EINTR);
}

/* Copy the output into the log until pid exits and the pipes are drained. */
static int wait_exit(monitor_t *m, pid_t pid, int fo, int fe)
{
        bool exited = false, oo = true, eo = true;
        int status = 0;
        uint64_t deadline = 0;
        while (!exited || oo || eo) {
                struct pollfd p[3] = { { .fd = m->sfd, .events = POLLIN },
                                       { .fd = oo ? fo : -1, .events = POLLIN },
                                       { .fd = eo ? fe : -1, .events = POLLIN } };
                int timeout = -1;
                if (exited) {
                        uint64_t now = now_ns();
                        if (!deadline)
                                deadline = now + (uint64_t)DRAIN_MS * 1000000;
                        if (now >= deadline)
                                break;
                        timeout = (int)((deadline - now) / 1000000) + 1;
                }
                int n = poll(p, 3, timeout);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (p[0].revents & POLLIN)
                        on_signal(m, pid, &exited, &status);
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
                        oo = pump(m, fo, SVC_STDOUT);
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
                        eo = pump(m, fe, SVC_STDERR);
        }
        if (!exited) {
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        svc_logw_flush(&m->log, SVC_STDOUT);
        svc_logw_flush(&m->log, SVC_STDERR);
        return status;
}

/* One create + start with fresh pipes as the container's stdout/stderr. */
static int start_once(monitor_t *m, pid_t *ret_pid, int *ret_out, int *ret_err, husk_error_t *err)
{
        _cleanup_close_ int ro = -1, re = -1;
        int po[2], pe[2];
        if (pipe2(po, O_CLOEXEC) < 0)
                return util_syserr(err, errno, "pipe for the container's stdout");
        ro = po[0];
        if (pipe2(pe, O_CLOEXEC) < 0) {
                close(po[1]);
                return util_syserr(err, errno, "pipe for the container's stderr");
        }
        re = pe[0];
        /* The container inherits our fds 0-2 (dup2 clears CLOEXEC on the target). */
        int r = dup2(po[1], STDOUT_FILENO) < 0 || dup2(pe[1], STDERR_FILENO) < 0 ? -errno : 0;
        close(po[1]);
        close(pe[1]);
        husk_create_opts_t co = { .id = m->id, .bundle = m->bundle };
        if (r == 0)
                r = husk_create(&m->g, &co, err);
        else
                util_syserr(err, -r, "set up the container's stdio");
        (void)dup2(m->nullfd, STDOUT_FILENO); /* only the container holds the write ends now */
        (void)dup2(m->nullfd, STDERR_FILENO);
        if (r < 0)
                return r;
        _cleanup_close_ int sd = -1;
        husk_state *s = NULL;
        if ((r = state_dir_open_nolock(m->g.root, m->id, &sd, err)) < 0 ||
            (r = state_load(sd, &s, err)) < 0 || (r = husk_start(&m->g, m->id, err)) < 0) {
                husk_error_t ignored; /* the start error is the one to report */
                (void)husk_delete_keep_bundle(&m->g, m->id, true, &ignored);
                state_free(s);
                return r;
        }
        *ret_pid = s->pid;
        state_free(s);
        util_kill_point("monitor:started");
        (void)fcntl(ro, F_SETFL, O_NONBLOCK);
        (void)fcntl(re, F_SETFL, O_NONBLOCK);
        *ret_out = TAKE_FD(ro);
        *ret_err = TAKE_FD(re);
        return 0;
}

/* The memory cgroup saw an OOM kill (v1 memory.oom_control, v2 memory.events). */
static bool oom_killed(const monitor_t *m)
{
        _cleanup_close_ int sd = -1;
        husk_error_t e = { 0 };
        husk_state *s = NULL;
        if (state_dir_open_nolock(m->g.root, m->id, &sd, &e) < 0 || state_load(sd, &s, &e) < 0)
                return false;
        bool oom = false;
        /* cgroup_serialize: "vN;DEVICES;PATH" */
        const char *c = s->cgroup, *path = c && c[0] == 'v' ? strchr(c + 3, ';') : NULL;
        if (path) {
                /* v1 memory.oom_control, v2 memory.events (pure v2 or the hybrid's unified) */
                static const char *const dirs[] = { "/sys/fs/cgroup/memory", "/sys/fs/cgroup",
                                                    "/sys/fs/cgroup/unified" };
                for (size_t i = 0; i < ARRAY_SIZE(dirs) && !oom; i++) {
                        _cleanup_free_ char *f = xasprintf("%s%s/%s", dirs[i], path + 1,
                                                           i ? "memory.events" : "memory.oom_control");
                        _cleanup_free_ char *text = NULL;
                        char *k = read_file_at(AT_FDCWD, f, 65536, &text, NULL) == 0
                                          ? strstr(text, "oom_kill ")
                                          : NULL;
                        if (k) {
                                _cleanup_free_ char *num = xstrndup(k + 9, strcspn(k + 9, "\n"));
                                uint64_t n = 0;
                                oom = parse_uint64(num, &n) == 0 && n > 0;
                        }
                }
        }
        state_free(s);
        return oom;
}

static void write_exit(monitor_t *m, int code, int sig, int64_t started, int64_t finished, bool oom,
                       const char *error)
{
        char s[48], f[48];
        svc_time_format(started, s, sizeof(s));
        svc_time_format(finished, f, sizeof(f));
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_int(w, "exitCode", code);
        json_kv_int(w, "signal", sig);
        json_kv_str(w, "startedAt", s);
        json_kv_str(w, "finishedAt", f);
        json_kv_uint(w, "restarts", m->restarts);
        json_kv_bool(w, "oomKilled", oom);
        if (error)
                json_kv_str(w, "error", error);
        json_obj_end(w);
        _cleanup_free_ char *text = json_writer_finish(w);
        (void)write_file_atomic_at(m->dirfd, SVC_EXIT_FILE, text, strlen(text), 0600);
}

/* Wait ms before the next start; false when a stop came meanwhile. */
static bool backoff_wait(monitor_t *m, uint64_t ms)
{
        uint64_t end = now_ns() + ms * 1000000;
        bool exited = false;
        int status;
        while (!m->stop) {
                uint64_t now = now_ns();
                if (now >= end)
                        return true;
                struct pollfd p = { .fd = m->sfd, .events = POLLIN };
                if (poll(&p, 1, (int)((end - now) / 1000000) + 1) > 0)
                        on_signal(m, -1, &exited, &status);
        }
        return false;
}

/* Run, record, restart per the policy, until the policy or a stop says no more. */
static void supervise(monitor_t *m)
{
        for (;;) {
                husk_error_t err = { 0 };
                pid_t pid = 0;
                int fo = -1, fe = -1;
                int64_t t0 = svc_now();
                int wr = svc_write_monitor(m->dirfd, "starting", 0, m->restarts, 0);
                if (wr < 0 && !m->started) {
                        /* Without monitor.json, stop and rm could not find the monitor. */
                        husk_error_t werr = { 0 };
                        util_syserr(&werr, -wr, "write %s", SVC_MONITOR_FILE);
                        report(m, -wr, werr.msg);
                        return;
                }
                if (start_once(m, &pid, &fo, &fe, &err) < 0) {
                        if (m->report >= 0) {
                                report(m, err.code ? err.code : EIO, err.msg);
                                return;
                        }
                        write_exit(m, 125, 0, t0, svc_now(), false, err.msg);
                        break;
                }
                (void)svc_write_monitor(m->dirfd, "running", t0, m->restarts, pid);
                m->started = true;
                m->last_start = t0;
                report(m, 0, NULL);
                int status = wait_exit(m, pid, fo, fe);
                close(fo);
                close(fe);
                int64_t t1 = svc_now();
                bool oom = oom_killed(m); /* any process of the container, as podman reports */
                /* This waits for the state lock: a concurrent `husk delete` of the container
                 * finishes (folder included) before we write anything more into the folder. */
                husk_error_t e = { 0 };
                (void)husk_delete_keep_bundle(&m->g, m->id, true, &e); /* nothing to report to */
                if (faccessat(m->dirfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        m->gone = true; /* deleted with its folder: nothing to record */
                        return;
                }
                int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
                int code = sig ? 128 + sig : WEXITSTATUS(status);
                check_stop(m);
                bool again = !m->stop && svc_policy_wants_restart(&m->policy, code, m->restarts);
                write_exit(m, code, sig, t0, t1, oom, NULL);
                if (!again)
                        break;
                uint64_t wait = svc_backoff_next(&m->bo, (uint64_t)(t1 - t0) / 1000000);
                (void)svc_write_monitor(m->dirfd, "restarting", t0, m->restarts, 0);
                if (!backoff_wait(m, wait))
                        break;
                m->restarts++;
        }
        if (!m->gone)
                (void)svc_write_monitor(m->dirfd, "exited", m->last_start, m->restarts, 0);
}

static int monitor_init(monitor_t *m, const husk_global_t *g, const char *store, const char *id,
                        husk_error_t *err)
{
        m->g = g ? *g : (husk_global_t){ 0 };
        m->g.warn = NULL; /* nobody to tell: stderr is /dev/null */
        m->id = xstrdup(id);
        m->store = xstrdup(store);
        m->bundle = xasprintf("%s/containers/%s", store, id);
        m->dirfd = open(m->bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (m->dirfd < 0)
                return util_syserr(err, errno, "open %s", m->bundle);
        m->nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (m->nullfd < 0)
                return util_syserr(err, errno, "open /dev/null");
        husk_service_info_t info = { 0 };
        int r = svc_record_load(m->dirfd, store, id, &info, err);
        if (r < 0)
                return r;
        m->g.root = xstrdup(info.root); /* kept for the monitor's life */
        m->auto_remove = info.auto_remove;
        r = svc_policy_parse(info.restart, &m->policy, err);
        uint64_t max = info.log_max_size;
        husk_service_info_done(&info);
        if (r < 0)
                return r;
        (void)unlinkat(m->dirfd, SVC_STOP_FILE, 0);
        if ((r = svc_logw_open(&m->log, m->dirfd, max, err)) < 0)
                return r;
        sigset_t set;
        sigemptyset(&set);
        int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                sigaddset(&set, sigs[i]);
        if (sigprocmask(SIG_SETMASK, &set, NULL) < 0 ||
            (m->sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
                return util_syserr(err, errno, "signalfd");
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return util_syserr(err, errno, "prctl PR_SET_CHILD_SUBREAPER");
        return 0;
}

static _Noreturn void monitor_main(const husk_global_t *g, const char *store, const char *id,
                                   int rfd)
{
        monitor_t m = { .dirfd = -1, .nullfd = -1, .sfd = -1, .report = rfd };
        husk_error_t err = { 0 };
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        int r = detach_fds(&m.report);
        if (r < 0) {
                dprintf(rfd, "ERR %d monitor: set up its fds: %s%c", -r, strerror(-r), '\0');
                _exit(1);
        }
        if (chdir("/") < 0) {
                /* "/" always exists; a failure changes nothing for the container */
        }
        (void)prctl(PR_SET_NAME, "husk-monitor", 0, 0, 0);
        m.log.fd = -1;
        if (monitor_init(&m, g, store, id, &err) < 0) {
                report(&m, err.code ? err.code : EIO, err.msg);
                _exit(1);
        }
        supervise(&m);
        svc_logw_close(&m.log);
        report(&m, EIO, "the monitor ended before the container started");
        if (m.auto_remove && !m.restart_req && m.started && !m.gone) {
                husk_error_t e = { 0 };
                (void)husk_image_container_remove(m.bundle, m.id, &e); /* --rm: all of it */
        }
        _exit(0);
}
