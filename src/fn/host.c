/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the function host. Per function a pool of workers (containers from the function's
 * image); an invocation takes an idle worker (thawing it when frozen), starts one more (cold
 * start, up to the function's concurrency) or waits in a bounded queue. After the result the
 * worker is idle at once, and handed to the next waiting invocation without a freeze; one still
 * idle FREEZE_GRACE_MS later is frozen (cgroup freezer) by the reaper until its next invocation
 * or until it was idle for keep-warm (then removed).
 * A deadline, a crash, an OOM or a failed init end the worker; the host keeps serving.
 * Locking: h->mu guards every pool and worker field below; blocking work (container start and
 * removal, freezing, cgroup reads, log writes) runs outside it. */
#include "fn.h"
#include "husk/image.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <microhttpd.h>

#define CGROUP_PARENT "husk-fn"

typedef enum { W_STARTING, W_IDLE, W_BUSY, W_RETURNING, W_DEAD } wstate;

typedef struct inv {
        char id[37];
        const char *payload;
        size_t len;
        const char *client_context; /* for Lambda-Runtime-Client-Context, or NULL */
        uint64_t deadline_ms; /* wall clock, for Lambda-Runtime-Deadline-Ms */
        bool done;
        char *body;
        size_t body_len;
        char *error_type; /* NULL: a response */
        pthread_cond_t cv;
} inv_t;

typedef struct fn_pool fn_pool;

struct fn_worker {
        fn_host *h;
        fn_pool *p;
        fn_worker *next;
        char id[128];
        char *bundle;
        char *arn;
        pid_t pid;
        int out_r;
        struct MHD_Daemon *rapi;
        struct MHD_Daemon *endpoint; /* the front door inside (FN_ENDPOINT_PORT), under h->mu */
        wstate state;
        bool ready, frozen, exited, init_failed, teardown_queued, first_report_done;
        int peak_fd; /* its memory peak file, kept open (read at every REPORT); -1: not yet */
        int exit_status;
        char *init_error;
        uint64_t t_start, init_ns, idle_since;
        inv_t *inv;
        bool inv_taken;
        pthread_cond_t cv; /* /next waiting for an invocation; the cold start waiting for init */
        pthread_t log_thread;
        bool log_started;
        pthread_mutex_t out_mu; /* the pipe reads and the log writes of this worker */
        unsigned memory_mb, pids;
        char def_updated[40]; /* the definition it was started from */
        fn_guard *guard;      /* of its Runtime API */
        /* Under out_mu: the output budget of the current invocation (--log-rate). */
        fn_rate rate;
        char req_id[37];
        bool mid_line; /* the last byte logged was not a newline */
        /* Under out_mu: X-Amz-Log-Type Tail keeps the invocation's last FN_LOG_TAIL_MAX bytes. */
        bool tailing;
        size_t tail_len;
        char tail[FN_LOG_TAIL_MAX];
};

struct fn_pool {
        fn_pool *next;
        char *name;
        fn_worker *workers;
        unsigned alive, idle, returning, waiting;
        pthread_cond_t cv; /* a worker became idle or went away */
        int log_fd;
        char *log_path;
        uint64_t log_max; /* rotate past it (--log-max-size), under log_mu */
        pthread_mutex_t log_mu;
};

struct fn_host {
        fn_host_opts o;
        char *store, *fn_dir, *run_root;
        fn_db *db;
        fn_zygote *z;
        pthread_mutex_t mu;
        pthread_cond_t cv; /* reaper and dispatcher wake-ups */
        fn_pool *pools;
        fn_worker *teardown; /* queue, linked by next (after removal from the pool) */
        bool stopping;
        pthread_t reaper, dispatcher;
        bool threads;
        unsigned async_running;
        bool v2;
        /* The workers' cgroups: under CGROUP_PARENT in cg_base (/sys/fs/cgroup, or a user's
         * delegated cgroup v2 subtree in it), or none (a user without one: limits_warning says
         * what is not enforced and why). */
        char *cg_base, *cg_top; /* cg_top: "" (root), or the user's delegation root "/a/b" */
        bool rootless, no_cgroup;
        char *limits_warning;
        uint64_t worker_seq;
        int lock_fd; /* STORE/fn/serve.lock: one host per store */
        struct fn_front *front; /* under mu: what workers reach at FN_ENDPOINT_PORT, or NULL */
};

/* ---------------------------------------------------------------- cgroup files */

/* NULL when the workers have no cgroup. */
static char *cg_file(fn_host *h, const fn_worker *w, const char *ctrl, const char *file)
{
        if (h->no_cgroup)
                return NULL;
        if (h->v2)
                return xasprintf("%s/" CGROUP_PARENT "/%s/%s", h->cg_base, w->id, file);
        return xasprintf("%s/%s/" CGROUP_PARENT "/%s/%s", h->cg_base, ctrl, w->id, file);
}

/* "key N" from a flat keyed file (memory.events, memory.oom_control). */
static uint64_t cg_read_key(fn_host *h, const fn_worker *w, const char *ctrl, const char *file,
                            const char *key)
{
        _cleanup_free_ char *f = cg_file(h, w, ctrl, file), *text = NULL;
        if (!f || read_file_at(AT_FDCWD, f, 4096, &text, NULL) < 0)
                return 0;
        size_t kl = strlen(key);
        for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
                        return strtoull(l + kl + 1, NULL, 10);
        return 0;
}

/* Read at every invocation's REPORT: the file stays open (an open and a close of a cgroup file
 * cost more than the read). Only the worker's current invoker calls it. */
static uint64_t worker_peak(fn_host *h, fn_worker *w)
{
        if (w->peak_fd < 0) {
                _cleanup_free_ char *f = cg_file(h, w, "memory", h->v2 ? "memory.peak"
                                                                      : "memory.max_usage_in_bytes");
                if (!f)
                        return 0;
                w->peak_fd = open(f, O_RDONLY | O_CLOEXEC);
                if (w->peak_fd < 0)
                        return 0;
        }
        char buf[32];
        ssize_t n = pread(w->peak_fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        return strtoull(buf, NULL, 10);
}

static bool worker_oom(fn_host *h, const fn_worker *w)
{
        return h->v2 ? cg_read_key(h, w, "memory", "memory.events", "oom_kill") > 0
                     : cg_read_key(h, w, "memory", "memory.oom_control", "oom_kill") > 0;
}

/* The freezer, written directly: husk_pause/husk_resume load the state and open the cgroup
 * handle each time (measured here: ~480 µs per call, against ~50 µs for the write itself), and
 * a thaw is on every warm invocation's path. */
#define FREEZE_WAIT_MS 200 /* how long a freeze is waited for before it counts as asked for */
/* How long a worker stays idle unfrozen after an invocation: one taken again within it (a steady
 * load) costs no freeze and no thaw. The reaper freezes it between this and ~100 ms later. */
#define FREEZE_GRACE_MS 10
static int worker_freeze(fn_host *h, fn_worker *w, bool frozen)
{
        _cleanup_free_ char *f = h->v2 ? cg_file(h, w, "", "cgroup.freeze")
                                       : cg_file(h, w, "freezer", "freezer.state");
        const char *want = h->v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
        if (!f)
                return -ENOTSUP; /* no cgroup: an idle worker waits in /next, unfrozen */
        int r = write_file_at(AT_FDCWD, f, want);
        if (r < 0 || !frozen)
                return r;
        /* Wait until every task is frozen (v1: FREEZING -> FROZEN; v2: cgroup.events frozen 1). */
        uint64_t until = now_ns() + FREEZE_WAIT_MS * 1000000ull;
        for (int i = 0; now_ns() < until || i < 2; i++) {
                bool done;
                if (h->v2) {
                        done = cg_read_key(h, w, "", "cgroup.events", "frozen") == 1;
                } else {
                        _cleanup_free_ char *cur = NULL;
                        done = read_file_at(AT_FDCWD, f, 64, &cur, NULL) == 0 &&
                               strncmp(cur, "FROZEN", 6) == 0;
                        if (!done && i % 200 == 199)
                                (void)write_file_at(AT_FDCWD, f, want); /* a fork raced */
                }
                if (done)
                        return 0;
                struct timespec ts = { 0, 100000 };
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

/* cgroup v1: the first frozen cgroup of the system turns on the kernel's freezer_active static
 * key (kernel/cgroup/legacy_freezer.c) and the last thaw turns it off; each toggle patches
 * kernel text and took ~10 ms per write here, so a freeze and a thaw per invocation cost 20 ms.
 * An empty cgroup kept frozen while the host runs ("pin-PID") keeps the key on: a freeze or a
 * thaw then takes ~50 µs. Pins of hosts that died (kill -9) are removed at start. */
static char *pin_path(pid_t pid)
{
        return xasprintf("/sys/fs/cgroup/freezer/" CGROUP_PARENT "/pin-%d", (int)pid);
}

static void pin_release(pid_t pid)
{
        _cleanup_free_ char *p = pin_path(pid), *f = xasprintf("%s/freezer.state", p);
        (void)write_file_at(AT_FDCWD, f, "THAWED");
        (void)rmdir(p);
}

static void pin_freezer(fn_host *h)
{
        if (h->v2 || h->rootless)
                return;
        _cleanup_closedir_ DIR *d = opendir("/sys/fs/cgroup/freezer/" CGROUP_PARENT);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                int pid;
                if (strncmp(de->d_name, "pin-", 4) == 0 && parse_int(de->d_name + 4, &pid) == 0 &&
                    pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
                        pin_release(pid);
        }
        _cleanup_free_ char *p = pin_path(getpid()), *f = xasprintf("%s/freezer.state", p);
        /* Best effort: without the pin the host works, only its freezes are slow. */
        if (mkdir_p(p, 0755) == 0)
                (void)write_file_at(AT_FDCWD, f, "FROZEN");
}

/* ---------------------------------------------------------------- logs */

static void log_reopen(fn_pool *p)
{
        if (p->log_fd >= 0)
                close(p->log_fd);
        p->log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
}

/* Caller holds log_mu. `husk fn rm` unlinks the log: a function made again under the same
 * name gets a new file. Past --log-max-size the file becomes NAME.log.1 (the one rotated file,
 * as services keep ctr.log.1). */
static void log_prepare(fn_pool *p, size_t add)
{
        struct stat st;
        if (p->log_fd < 0 || fstat(p->log_fd, &st) < 0 || st.st_nlink == 0) {
                log_reopen(p);
                if (p->log_fd < 0 || fstat(p->log_fd, &st) < 0)
                        return;
        }
        uint64_t max = p->log_max ? p->log_max : FN_LOG_MAX_DEFAULT;
        if (st.st_size > 0 && (uint64_t)st.st_size + add > max) {
                _cleanup_free_ char *old = xasprintf("%s.1", p->log_path);
                /* When the rename fails the log keeps growing rather than losing output. */
                if (rename(p->log_path, old) == 0)
                        log_reopen(p);
        }
}

static void pool_log(fn_pool *p, const char *text, size_t len)
{
        pthread_mutex_lock(&p->log_mu);
        log_prepare(p, len);
        if (p->log_fd >= 0)
                (void)write_all(p->log_fd, text, len);
        pthread_mutex_unlock(&p->log_mu);
}

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The invocation's log, as Tail returns it: its last FN_LOG_TAIL_MAX bytes. Caller holds
 * w->out_mu. */
static void tail_add(fn_worker *w, const char *text, size_t len)
{
        if (!w->tailing || !len)
                return;
        if (len >= FN_LOG_TAIL_MAX) {
                memcpy(w->tail, text + len - FN_LOG_TAIL_MAX, FN_LOG_TAIL_MAX);
                w->tail_len = FN_LOG_TAIL_MAX;
                return;
        }
        if (w->tail_len + len > FN_LOG_TAIL_MAX) {
                size_t drop = w->tail_len + len - FN_LOG_TAIL_MAX;
                memmove(w->tail, w->tail + drop, w->tail_len - drop);
                w->tail_len -= drop;
        }
        memcpy(w->tail + w->tail_len, text, len);
        w->tail_len += len;
}

/* A line of the host's about one invocation (START, END, REPORT, errors): to the function's
 * log, and to the invocation's tail when it keeps one. */
static void worker_logf(fn_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void worker_logf(fn_worker *w, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n > 0) {
                pool_log(w->p, s, (size_t)n);
                pthread_mutex_lock(&w->out_mu);
                tail_add(w, s, (size_t)n);
                pthread_mutex_unlock(&w->out_mu);
        }
        free(s);
}

/* One line for what a window of the output budget dropped. Caller holds w->out_mu. */
static void log_dropped(fn_worker *w, uint64_t dropped)
{
        if (!dropped)
                return;
        _cleanup_free_ char *line = xasprintf(
                "%sRequestId: %s husk-fn: dropped %llu bytes of output: over the limit of %llu "
                "bytes per second per invocation (husk fn update %s --log-rate)\n",
                w->mid_line ? "\n" : "", w->req_id[0] ? w->req_id : "-",
                (unsigned long long)dropped, (unsigned long long)w->rate.rate, w->p->name);
        pool_log(w->p, line, strlen(line));
        tail_add(w, line, strlen(line));
        w->mid_line = false;
}

/* Logs what the output budget allows of buf. Caller holds w->out_mu. */
static void log_output(fn_worker *w, const char *buf, size_t n)
{
        uint64_t flushed = 0;
        size_t take = fn_rate_take(&w->rate, mono_ms(), n, &flushed);
        log_dropped(w, flushed);
        if (take) {
                pool_log(w->p, buf, take);
                tail_add(w, buf, take);
                w->mid_line = buf[take - 1] != '\n';
        }
}

/* The end of an invocation: the last window's drops are reported. Caller holds w->out_mu. */
static void log_flush_dropped(fn_worker *w)
{
        log_dropped(w, w->rate.dropped);
        w->rate.dropped = 0;
}

/* Copies what the worker wrote so far into the log. Caller holds w->out_mu. */
static bool drain_output(fn_worker *w)
{
        char buf[65536];
        for (;;) {
                ssize_t n = read(w->out_r, buf, sizeof(buf));
                if (n > 0) {
                        log_output(w, buf, (size_t)n);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                return n == 0; /* EOF: every writer is gone */
        }
}

static void *log_main(void *arg)
{
        fn_worker *w = arg;
        for (;;) {
                struct pollfd p = { .fd = w->out_r, .events = POLLIN };
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        break;
                pthread_mutex_lock(&w->out_mu);
                bool eof = drain_output(w);
                pthread_mutex_unlock(&w->out_mu);
                if (eof || (p.revents & (POLLERR | POLLNVAL)))
                        break;
        }
        return NULL;
}

/* ---------------------------------------------------------------- pools and workers */

static fn_pool *pool_get(fn_host *h, const char *name)
{
        for (fn_pool *p = h->pools; p; p = p->next)
                if (strcmp(p->name, name) == 0)
                        return p;
        fn_pool *p = xcalloc(1, sizeof(*p));
        p->name = xstrdup(name);
        pthread_cond_init(&p->cv, NULL);
        pthread_mutex_init(&p->log_mu, NULL);
        _cleanup_free_ char *rel = xasprintf("logs/%s.log", name);
        p->log_path = fn_path(h->store, rel);
        p->log_fd = -1;
        log_reopen(p);
        p->next = h->pools;
        h->pools = p;
        return p;
}

static void worker_unlink(fn_pool *p, fn_worker *w)
{
        for (fn_worker **pp = &p->workers; *pp; pp = &(*pp)->next)
                if (*pp == w) {
                        *pp = w->next;
                        w->next = NULL;
                        return;
                }
}

/* Caller holds h->mu. The worker leaves its pool's lists; the reaper removes its container. */
static void worker_kill_locked(fn_host *h, fn_worker *w)
{
        if (w->state == W_IDLE)
                w->p->idle--;
        if (w->state == W_RETURNING)
                w->p->returning--;
        w->state = W_DEAD;
        pthread_cond_broadcast(&w->cv);
        if (w->inv)
                pthread_cond_broadcast(&w->inv->cv);
        if (!w->teardown_queued) {
                w->teardown_queued = true;
                worker_unlink(w->p, w);
                w->next = h->teardown;
                h->teardown = w;
                pthread_cond_broadcast(&h->cv);
        }
}

/* Reaper thread: removes the container of a dead worker, then frees the slot. */
static void worker_destroy(fn_host *h, fn_worker *w)
{
        husk_global_t g = { .root = h->run_root };
        husk_error_t err = { 0 };
        if (w->pid > 0) {
                /* Through the cgroup: every process of the worker, frozen or not. */
                if (w->frozen)
                        (void)worker_freeze(h, w, false);
                (void)husk_kill(&g, w->id, SIGKILL, true, &err);
        }
        pthread_mutex_lock(&h->mu);
        pthread_cond_broadcast(&w->cv);
        struct MHD_Daemon *endpoint = TAKE_PTR(w->endpoint);
        pthread_mutex_unlock(&h->mu);
        if (endpoint)
                MHD_stop_daemon(endpoint);
        if (w->rapi)
                MHD_stop_daemon(w->rapi);
        fn_guard_free(w->guard); /* its connections are closed with the daemon */
        husk_error_clear(&err);
        (void)husk_delete(&g, w->id, true, &err); /* gone already when create failed */
        if (w->bundle) {
                husk_error_clear(&err);
                (void)husk_image_container_remove(w->bundle, w->id, &err);
        }
        if (w->log_started) {
                /* The container is gone: its pipe ends are closed, the log thread reads EOF. */
                pthread_join(w->log_thread, NULL);
        }
        if (w->out_r >= 0)
                close(w->out_r);
        if (w->peak_fd >= 0)
                close(w->peak_fd);
        pthread_mutex_lock(&h->mu);
        w->p->alive--;
        pthread_cond_broadcast(&w->p->cv);
        pthread_mutex_unlock(&h->mu);
        free(w->bundle);
        free(w->arn);
        free(w->init_error);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->out_mu);
        free(w);
}

static void on_exit_cb(void *ud, pid_t pid, int status)
{
        fn_host *h = ud;
        pthread_mutex_lock(&h->mu);
        for (fn_pool *p = h->pools; p; p = p->next)
                for (fn_worker *w = p->workers; w; w = w->next)
                        if (w->pid == pid && !w->exited) {
                                w->exited = true;
                                w->exit_status = status;
                                pthread_cond_broadcast(&w->cv);
                                if (w->inv)
                                        pthread_cond_broadcast(&w->inv->cv);
                                /* Idle: nobody else looks at it; busy ones end with their
                                 * invocation, starting ones in the cold start. */
                                if (w->state == W_IDLE)
                                        worker_kill_locked(h, w);
                                goto out;
                        }
out:
        pthread_mutex_unlock(&h->mu);
}

/* ---------------------------------------------------------------- the Runtime API listener */

typedef struct listen_job {
        pid_t pid;
        int fd[2]; /* FN_RUNTIME_API_PORT, FN_ENDPOINT_PORT */
        int err;
} listen_job;

static int listen_lo(int port)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
                int e = errno;
                close(s);
                return -e;
        }
        return s;
}

static void lo_up(int s)
{
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                (void)ioctl(s, SIOCSIFFLAGS, &ifr);
        }
}

/* A thread of its own enters the worker's network namespace, makes the listening sockets there
 * (127.0.0.1:9001 for the Runtime API and 127.0.0.1:9000 for the front door: the worker reaches
 * them, nothing outside the worker does) and goes back. */
static void *listen_main(void *arg)
{
        listen_job *j = arg;
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *path = xasprintf("/proc/%d/ns/net", (int)j->pid);
        _cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
        if (self < 0 || ns < 0) {
                j->err = errno;
                return NULL;
        }
        if (setns(ns, CLONE_NEWNET) < 0) {
                j->err = errno;
                return NULL;
        }
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s >= 0) {
                lo_up(s);
                close(s);
        }
        const int ports[2] = { FN_RUNTIME_API_PORT, FN_ENDPOINT_PORT };
        for (size_t i = 0; i < 2 && !j->err; i++) {
                int fd = listen_lo(ports[i]);
                if (fd < 0)
                        j->err = -fd;
                else
                        j->fd[i] = fd;
        }
        /* Going back may fail: a user's server (rootless) has no CAP_SYS_ADMIN over the host's
         * network namespace. No matter: this thread ends here, so no other work runs in there. */
        (void)setns(self, CLONE_NEWNET);
        return NULL;
}

static int make_listener(pid_t pid, int ret[2], husk_error_t *err)
{
        listen_job j = { .pid = pid, .fd = { -1, -1 } };
        pthread_t t;
        if (pthread_create(&t, NULL, listen_main, &j) != 0)
                return husk_error_set(err, EAGAIN, "start the listener thread");
        pthread_join(t, NULL);
        if (j.fd[0] < 0 || j.fd[1] < 0 || j.err) {
                for (size_t i = 0; i < 2; i++)
                        if (j.fd[i] >= 0)
                                close(j.fd[i]);
                return util_syserr(err, j.err ? j.err : EIO,
                                   "listen on 127.0.0.1:%d and :%d in the worker's network "
                                   "namespace", FN_RUNTIME_API_PORT, FN_ENDPOINT_PORT);
        }
        ret[0] = j.fd[0];
        ret[1] = j.fd[1];
        return 0;
}

/* ---------------------------------------------------------------- cold start */

/* config.json of the worker: prepare writes it; the cgroup goes under husk-fn/ (the text form
 * is ours: "linux": { is written once by the image run code): /husk-fn/ID for root, TOP/husk-fn/ID
 * for a user (TOP: its delegated subtree), none without a cgroup. */
static int set_cgroup_path(fn_host *h, const char *bundle, const char *id, husk_error_t *err)
{
        if (h->no_cgroup)
                return 0;
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle), *text = NULL;
        size_t len = 0;
        int r = read_file_at(AT_FDCWD, path, 16u << 20, &text, &len);
        if (r < 0)
                return util_syserr(err, -r, "read %s", path);
        char *at = strstr(text, "\"linux\": {");
        if (!at)
                at = strstr(text, "\"linux\":{");
        if (!at)
                return husk_error_set(err, EINVAL, "%s: no linux object", path);
        char *brace = strchr(at, '{') + 1;
        _cleanup_free_ char *out = xasprintf("%.*s\"cgroupsPath\": \"%s/" CGROUP_PARENT "/%s\",%s",
                                             (int)(brace - text), text, h->cg_top, id, brace);
        _cleanup_close_ int dir = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0 || write_file_atomic_at(dir, "config.json", out, strlen(out), 0600) < 0)
                return util_syserr(err, errno, "write %s", path);
        return 0;
}

static char **worker_env(fn_host *h, const fn_def *d, const char *wid)
{
        const char *region = h->o.region ? h->o.region : "us-east-1";
        char day[16];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y/%m/%d", &tm);
        char *fixed[] = {
                xasprintf("AWS_LAMBDA_FUNCTION_NAME=%s", d->name),
                xasprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%u", d->memory_mb),
                xstrdup("AWS_LAMBDA_FUNCTION_VERSION=$LATEST"),
                xasprintf("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", d->name),
                xasprintf("AWS_LAMBDA_LOG_STREAM_NAME=%s/[$LATEST]%s", day, wid),
                xasprintf("AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", FN_RUNTIME_API_PORT),
                xasprintf("_HANDLER=%s", d->handler),
                xstrdup("LAMBDA_TASK_ROOT=/var/task"),
                xstrdup("LAMBDA_RUNTIME_DIR=/var/runtime"),
                xasprintf("AWS_REGION=%s", region),
                xasprintf("AWS_DEFAULT_REGION=%s", region),
                xstrdup("AWS_EXECUTION_ENV=AWS_Lambda_provided.husk"),
                xstrdup("TZ=:UTC"),
        };
        /* The server's APIs, as a Lambda function has its role's keys: the SDKs and the CLI
         * take AWS_ENDPOINT_URL (and the per-service ones) as a custom endpoint. */
        char *reach[6] = { 0 };
        size_t nr = 0;
        pthread_mutex_lock(&h->mu);
        if (h->front) {
                char id[FN_WORKER_KEY_MAX], secret[FN_WORKER_KEY_MAX];
                fn_front_worker_creds(h->front, id, secret);
                char url[32];
                snprintf(url, sizeof(url), "http://127.0.0.1:%d", FN_ENDPOINT_PORT);
                reach[nr++] = xasprintf("AWS_ACCESS_KEY_ID=%s", id);
                reach[nr++] = xasprintf("AWS_SECRET_ACCESS_KEY=%s", secret);
                reach[nr++] = xasprintf("AWS_ENDPOINT_URL=%s", url);
                reach[nr++] = xasprintf("AWS_ENDPOINT_URL_SQS=%s", url);
                reach[nr++] = xasprintf("AWS_ENDPOINT_URL_LAMBDA=%s", url);
                explicit_bzero(secret, sizeof(secret));
        }
        pthread_mutex_unlock(&h->mu);
        size_t nf = ARRAY_SIZE(fixed), nu = strv_length(d->env);
        char **v = xcalloc(nf + nr + nu + 1, sizeof(char *));
        /* The user's first: ours win (applied later) for the names Lambda reserves. */
        for (size_t i = 0; i < nu; i++)
                v[i] = xstrdup(d->env[i]);
        for (size_t i = 0; i < nf; i++)
                v[nu + i] = fixed[i];
        for (size_t i = 0; i < nr; i++)
                v[nu + nf + i] = reach[i];
        return v;
}

/* Cold start, outside h->mu: container, listener, Runtime API, start; then wait for the first
 * /next (init done), bounded by the init timeout. */
static int worker_start(fn_host *h, fn_worker *w, const fn_def *d, husk_error_t *err)
{
        _cleanup_strv_ char **env = worker_env(h, d, w->id);
        _cleanup_free_ char *mem = xasprintf("%um", d->memory_mb);
        /* A fork bomb in the handler ends at the worker's pids.max, not the host's. */
        _cleanup_free_ char *pids = xasprintf("%u", d->pids ? d->pids : FN_PIDS_DEFAULT);
        husk_image_resolved_t *res = NULL;
        char *boot[] = { "/var/runtime/bootstrap", NULL };
        /* EphemeralStorage: the size of /tmp; a Zip package's task root, read-only. */
        _cleanup_free_ char *tmp = xasprintf("/tmp:size=%um,mode=1777",
                                             d->ephemeral_mb ? d->ephemeral_mb : FN_EPHEMERAL_DEFAULT_MB);
        _cleanup_free_ char *task = d->code_dir && *d->code_dir
                                            ? xasprintf("%s:/var/task:ro", d->code_dir) : NULL;
        char *tmpfs[] = { tmp, NULL }, *vols[] = { task, NULL };
        _cleanup_strv_ char **argv = NULL;
        husk_image_run_opts_t o = {
                .image = { .store = h->store },
                .ref = d->image_id,
                .env = env,
                .network = "none",
                /* Without a cgroup (a user's, limits_warning) they cannot apply. */
                .memory = h->no_cgroup ? NULL : mem,
                .pids_limit = h->no_cgroup ? NULL : pids,
                .workdir = "/var/task",
                .root = h->run_root, /* recorded in the folder: prune asks this root */
                .tmpfs = tmpfs,
                .volumes = task ? vols : NULL,
        };
        int r = husk_image_resolve(&o.image, d->image_id, &res, err);
        if (r < 0)
                return r;
        bool zip = task != NULL;
        /* A custom runtime without an entrypoint: Lambda runs /var/runtime/bootstrap. */
        if (!res->config.entrypoint && !res->config.cmd)
                o.command = boot;
        if (!res->config.working_dir || !*res->config.working_dir)
                o.workdir = "/";
        else
                o.workdir = NULL;
        /* A Zip package of a custom runtime (provided.*) brings its own bootstrap. */
        char *zboot[] = { "/var/task/bootstrap", NULL };
        if (zip && strncmp(d->runtime ? d->runtime : "", "provided", 8) == 0) {
                o.entrypoint = "";
                o.command = zboot;
        }
        if (zip)
                o.workdir = "/var/task";
        /* ImageConfig: EntryPoint and Command as Docker joins them; WorkingDirectory. */
        if (d->entrypoint && d->entrypoint[0]) {
                size_t ne = strv_length(d->entrypoint);
                char *const *rest = d->command ? d->command : res->config.cmd;
                size_t nr = strv_length(rest);
                argv = xcalloc(ne + nr, sizeof(char *));
                for (size_t i = 1; i < ne; i++)
                        argv[i - 1] = xstrdup(d->entrypoint[i]);
                for (size_t i = 0; i < nr; i++)
                        argv[ne - 1 + i] = xstrdup(rest[i]);
                o.entrypoint = d->entrypoint[0];
                o.command = argv;
        } else if (d->command && d->command[0]) {
                o.command = d->command;
        }
        if (d->workdir && *d->workdir)
                o.workdir = d->workdir;
        husk_image_resolved_free(res);

        husk_image_container_t c = { 0 };
        if ((r = husk_image_container_prepare(&o, w->id, &c, err)) < 0)
                return r;
        w->bundle = TAKE_PTR(c.bundle);
        husk_image_container_done(&c);
        if ((r = set_cgroup_path(h, w->bundle, w->id, err)) < 0)
                return r;
        int pp[2];
        if (pipe2(pp, O_CLOEXEC) < 0)
                return util_syserr(err, errno, "pipe");
        w->out_r = pp[0];
        r = fn_zygote_create(h->z, w->id, w->bundle, pp[1], &w->pid, err);
        close(pp[1]);
        if (r < 0)
                return r;
        fcntl(w->out_r, F_SETFL, O_NONBLOCK);
        if (pthread_create(&w->log_thread, NULL, log_main, w) == 0)
                w->log_started = true;
        int lfd[2] = { -1, -1 };
        if ((r = make_listener(w->pid, lfd, err)) < 0)
                return r;
        /* The front door inside: a daemon of this worker's own (stopped with it, or by
         * fn_host_set_front(h, NULL) when the front door stops first). */
        pthread_mutex_lock(&h->mu);
        bool endpoint_failed = false;
        if (h->front) {
                w->endpoint = fn_front_serve_worker(h->front, lfd[1]);
                endpoint_failed = !w->endpoint;
        } else {
                close(lfd[1]);
        }
        pthread_mutex_unlock(&h->mu);
        if (endpoint_failed) {
                close(lfd[0]);
                return husk_error_set(err, EIO, "serve 127.0.0.1:%d in the worker's network "
                                      "namespace", FN_ENDPOINT_PORT);
        }
        w->guard = fn_guard_new(h->o.request_timeout_ms ? h->o.request_timeout_ms
                                                        : FN_REQUEST_TIMEOUT_DEFAULT_MS,
                                false);
        if ((r = fn_rapi_start(w, lfd[0], w->guard, &w->rapi, err)) < 0)
                return r;
        husk_global_t g = { .root = h->run_root };
        w->t_start = now_ns();
        if ((r = husk_start(&g, w->id, err)) < 0)
                return r;
        uint64_t limit = now_ns() + h->o.init_timeout_ms * 1000000ull;
        pthread_mutex_lock(&h->mu);
        while (!w->ready && !w->exited && !w->init_failed && w->state != W_DEAD) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t left = limit > now_ns() ? limit - now_ns() : 0;
                if (!left)
                        break;
                uint64_t t = (uint64_t)ts.tv_nsec + (left < 100000000 ? left : 100000000);
                ts.tv_sec += (time_t)(t / 1000000000);
                ts.tv_nsec = (long)(t % 1000000000);
                pthread_cond_timedwait(&w->cv, &h->mu, &ts);
        }
        if (w->ready)
                r = 0;
        else if (w->init_failed)
                r = husk_error_set(err, EIO, "%s", w->init_error ? w->init_error : "init error");
        else if (w->exited) {
                char *m = fn_exit_message(w->exit_status);
                r = husk_error_set(err, EIO, "init: %s", m);
                free(m);
        }
        else
                r = husk_error_set(err, ETIMEDOUT, "init did not finish within %.2f seconds",
                                   (double)h->o.init_timeout_ms / 1000.0);
        pthread_mutex_unlock(&h->mu);
        return r;
}

/* ---------------------------------------------------------------- invoke */

void fn_result_done(fn_result *r)
{
        free(r->body);
        r->body = NULL;
        free(r->log_tail);
        r->log_tail = NULL;
}

static void set_error(fn_result *res, fn_outcome o, const char *type, const char *msg)
{
        _cleanup_free_ char *m = json_quote(msg), *t = json_quote(type);
        free(res->body);
        res->outcome = o;
        res->body = xasprintf("{\"errorMessage\":%s,\"errorType\":%s}", m, t);
        res->len = strlen(res->body);
}

static fn_worker *worker_new(fn_host *h, fn_pool *p, const fn_def *d)
{
        fn_worker *w = xcalloc(1, sizeof(*w));
        w->h = h;
        w->p = p;
        w->out_r = -1;
        w->peak_fd = -1;
        w->state = W_STARTING;
        w->memory_mb = d->memory_mb;
        w->pids = d->pids ? d->pids : FN_PIDS_DEFAULT;
        w->rate.rate = d->log_rate ? d->log_rate : FN_LOG_RATE_DEFAULT;
        snprintf(w->def_updated, sizeof(w->def_updated), "%s", d->updated);
        pthread_cond_init(&w->cv, NULL);
        pthread_mutex_init(&w->out_mu, NULL);
        char rnd[37];
        fn_uuid(rnd);
        snprintf(w->id, sizeof(w->id), "%s.%llu.%.8s", d->name,
                 (unsigned long long)++h->worker_seq, rnd);
        w->arn = fn_host_function_arn(h, d->name);
        w->next = p->workers;
        p->workers = w;
        return w;
}

/* An idle worker of the current definition; idle ones of an older definition (husk fn update)
 * are removed, as Lambda replaces its environments after an update. */
static fn_worker *take_idle(fn_host *h, fn_pool *p, const fn_def *d)
{
        for (fn_worker *w = p->workers, *nx; w; w = nx) {
                nx = w->next;
                if (w->state != W_IDLE)
                        continue;
                if (strcmp(w->def_updated, d->updated) != 0) {
                        worker_kill_locked(h, w);
                        continue;
                }
                w->state = W_BUSY;
                p->idle--;
                return w;
        }
        return NULL;
}

typedef struct pending {
        fn_worker *w;
        uint64_t dur;
        bool keep;
        bool logged; /* END and REPORT are written already (Tail) */
} pending_t;

/* The invocation's output so far, then its END and REPORT lines. */
static void finish_log(fn_host *h, fn_worker *w, const char *req_id, uint64_t dur_ns)
{
        pthread_mutex_lock(&w->out_mu);
        if (w->out_r >= 0)
                (void)drain_output(w);
        log_flush_dropped(w);
        pthread_mutex_unlock(&w->out_mu);
        uint64_t init = 0;
        if (!w->first_report_done) {
                init = w->init_ns;
                w->first_report_done = true;
        }
        _cleanup_free_ char *rep = fn_report_line(req_id, dur_ns, w->memory_mb, worker_peak(h, w), init);
        worker_logf(w, "END RequestId: %s\n%s\n", req_id, rep);
}

/* With h->mu held: a worker that was returning (after an invocation, or while the reaper froze
 * it) is offered again and one waiting invocation is woken to take it (a broadcast would wake
 * every waiter to find one worker); one that exited meanwhile, or is not to be kept, is torn down. */
static void back_idle_locked(fn_host *h, fn_worker *w, bool keep)
{
        if (keep && w->state == W_RETURNING && !w->exited) {
                w->state = W_IDLE;
                w->p->returning--;
                w->p->idle++;
                pthread_cond_signal(&w->p->cv);
        } else if (w->state != W_DEAD) {
                worker_kill_locked(h, w);
        }
}

/* The end of an invocation, outside h->mu: output, END and REPORT lines (unless logged), then
 * the worker is offered again, unfrozen, or torn down (back_idle_locked). The reaper freezes
 * the worker if it is still idle FREEZE_GRACE_MS later (freeze_idle). */
static void finish(fn_host *h, fn_worker *w, const char *req_id, uint64_t dur_ns, bool keep,
                   bool logged)
{
        if (!logged)
                finish_log(h, w, req_id, dur_ns);
        pthread_mutex_lock(&h->mu);
        if (keep)
                w->idle_since = now_ns();
        back_idle_locked(h, w, keep);
        pthread_mutex_unlock(&h->mu);
}

/* Reaper, with h->mu held (released around each freeze): workers idle and unfrozen for
 * FREEZE_GRACE_MS are frozen. While one freezes it counts as returning, so that an invocation
 * waits for it rather than cold-start another. Returns the ms until the next one is due (or
 * `max`). */
static long freeze_idle(fn_host *h, long max)
{
        if (h->no_cgroup)
                return max;
        uint64_t grace = FREEZE_GRACE_MS * 1000000ull;
        for (fn_pool *p = h->pools; p; p = p->next) {
        again:
                for (fn_worker *w = p->workers; w; w = w->next) {
                        if (w->state != W_IDLE || w->frozen || w->exited)
                                continue;
                        uint64_t now = now_ns();
                        if (now - w->idle_since < grace) {
                                long left = (long)((grace - (now - w->idle_since)) / 1000000) + 1;
                                if (left < max)
                                        max = left;
                                continue;
                        }
                        w->state = W_RETURNING;
                        p->idle--;
                        p->returning++;
                        pthread_mutex_unlock(&h->mu);
                        /* -ETIMEDOUT: the freeze is asked for but its tasks have not all stopped
                         * within the wait (a loaded host). The worker still counts as frozen,
                         * so that its next invocation thaws it. */
                        int fr = worker_freeze(h, w, true);
                        if (fr == 0 || fr == -ETIMEDOUT) {
                                w->frozen = true;
                                fn_guard_pause(w->guard, true);
                        } else {
                                w->idle_since = now_ns(); /* tried again after the grace */
                        }
                        if (fr == -ETIMEDOUT)
                                worker_logf(w, "husk-fn: warning: the worker was still freezing "
                                               "after %d ms (a loaded host); it is thawed at its "
                                               "next invocation\n", FREEZE_WAIT_MS);
                        pthread_mutex_lock(&h->mu);
                        back_idle_locked(h, w, true);
                        /* The list may have changed while h->mu was released. */
                        goto again;
                }
        }
        return max;
}

/* Waits for a worker, cold-starting one when allowed. NULL and res filled on failure. */
static fn_worker *acquire(fn_host *h, const fn_def *d, bool may_queue, fn_result *res, bool *ret_cold)
{
        pthread_mutex_lock(&h->mu);
        fn_pool *p = pool_get(h, d->name);
        pthread_mutex_lock(&p->log_mu);
        p->log_max = d->log_max_size;
        pthread_mutex_unlock(&p->log_mu);
        bool queued = false;
        fn_worker *w = NULL;
        for (;;) {
                /* Stopping: the reaper may be gone, so no worker would come back to a waiter. */
                if (h->stopping) {
                        if (queued)
                                p->waiting--;
                        pthread_mutex_unlock(&h->mu);
                        set_error(res, FN_HOST_ERROR, "ServiceException",
                                  "the function host is stopping");
                        return NULL;
                }
                fn_counts c = { .alive = p->alive, .idle = p->idle,
                                .waiting = p->waiting - (queued ? 1 : 0) };
                fn_admit_t a = fn_admit(&c, d->concurrency, d->max_queue, may_queue);
                /* A worker that is returning (being frozen) is about to be idle: wait for it
                 * rather than start another one. */
                if (a == FN_ADMIT_COLD && p->returning > 0)
                        a = FN_ADMIT_WAIT;
                if (a == FN_ADMIT_WARM && (w = take_idle(h, p, d)))
                        break;
                if (a == FN_ADMIT_COLD) {
                        p->alive++;
                        w = worker_new(h, p, d);
                        *ret_cold = true;
                        break;
                }
                /* A reserved concurrency of 0 (PutFunctionConcurrency) throttles every call. */
                if ((a == FN_ADMIT_REJECT && !queued) || d->concurrency == 0) {
                        if (queued)
                                p->waiting--;
                        unsigned waiting = p->waiting;
                        pthread_mutex_unlock(&h->mu);
                        res->outcome = FN_REJECTED;
                        res->reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
                        free(res->body);
                        res->body = xasprintf("{\"Type\":\"User\",\"message\":\"Rate Exceeded: "
                                              "function %s is at its concurrency limit (%u) and "
                                              "%u invocations already wait\",\"Reason\":\"%s\"}",
                                              d->name, d->concurrency, waiting, res->reason);
                        res->len = strlen(res->body);
                        return NULL;
                }
                if (!queued) {
                        queued = true;
                        p->waiting++;
                }
                pthread_cond_wait(&p->cv, &h->mu);
        }
        if (queued)
                p->waiting--;
        pthread_mutex_unlock(&h->mu);
        return w;
}

static void wait_result(fn_host *h, fn_worker *w, inv_t *iv, uint64_t limit_ns, bool *ret_timeout)
{
        *ret_timeout = false;
        while (!iv->done && !w->exited && !w->init_failed && w->state != W_DEAD) {
                uint64_t now = now_ns();
                if (now >= limit_ns) {
                        *ret_timeout = true;
                        return;
                }
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t left = limit_ns - now, t = (uint64_t)ts.tv_nsec + left;
                ts.tv_sec += (time_t)(t / 1000000000);
                ts.tv_nsec = (long)(t % 1000000000);
                pthread_cond_timedwait(&iv->cv, &h->mu, &ts);
        }
}

/* msg, and when the worker's fork()s failed at its pids.max, a note saying so. */
static char *with_pids_note(fn_host *h, const fn_worker *w, const fn_def *d, const char *msg)
{
        if (cg_read_key(h, w, "pids", "pids.events", "max") == 0)
                return xstrdup(msg);
        return xasprintf("%s (the worker reached its limit of %u processes and threads; "
                         "husk fn update %s --pids N)", msg, w->pids, d->name);
}

static int64_t wall_ms_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fn_host_invoke(fn_host *h, const char *name, const char *payload, size_t len, bool may_queue,
                    fn_result *res)
{
        fn_host_invoke_ex(h, name, payload, len, may_queue, NULL, res);
}

void fn_host_invoke_ex(fn_host *h, const char *name, const char *payload, size_t len,
                       bool may_queue, const fn_invoke_opts *io, fn_result *res)
{
        static const fn_invoke_opts none = { 0 };
        if (!io)
                io = &none;
        husk_error_t err = { 0 };
        fn_def *d = NULL;
        memset(res, 0, sizeof(*res));
        fn_uuid(res->request_id);
        if (fn_db_get(h->db, name, &d, &err) < 0) {
                _cleanup_free_ char *m = json_quote(err.msg);
                res->outcome = err.code == ENOENT ? FN_NOT_FOUND : FN_HOST_ERROR;
                res->body = xasprintf("{\"Type\":\"User\",\"message\":%s}", m);
                res->len = strlen(res->body);
                return;
        }
        bool cold = false;
        fn_worker *w = acquire(h, d, may_queue, res, &cold);
        if (!w) {
                if (res->outcome == FN_REJECTED)
                        fn_metrics_throttle(d->name);
                fn_def_free(d);
                return;
        }
        fn_metrics_begin(d->name);
        if (cold) {
                int r = worker_start(h, w, d, &err);
                pthread_mutex_lock(&h->mu);
                if (r == 0 && w->state == W_DEAD) /* the host is stopping */
                        r = husk_error_set(&err, ESHUTDOWN, "the function host is stopping");
                if (r < 0) {
                        fn_pool *p = w->p;
                        uint64_t t_start = w->t_start ? w->t_start : now_ns();
                        worker_kill_locked(h, w);
                        pthread_mutex_unlock(&h->mu);
                        _cleanup_free_ char *line = xasprintf(
                                "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\t"
                                "Error: %s\n", (double)(now_ns() - t_start) / 1e6, err.msg);
                        pool_log(p, line, strlen(line));
                        if (io->tail) {
                                size_t n = strlen(line);
                                size_t from = n > FN_LOG_TAIL_MAX ? n - FN_LOG_TAIL_MAX : 0;
                                res->log_tail = base64_encode(line + from, n - from);
                        }
                        bool timeout = err.code == ETIMEDOUT;
                        /* Stopping is the host's doing, not the function's (no async attempt). */
                        set_error(res, err.code == ESHUTDOWN ? FN_HOST_ERROR : FN_FUNC_ERROR,
                                  timeout ? "Runtime.InitTimeout" : "Runtime.InitError", err.msg);
                        res->error_kind = "Unhandled";
                        fn_metrics_end(d->name, res->outcome, -1);
                        fn_def_free(d);
                        return;
                }
                w->state = W_BUSY;
                pthread_mutex_unlock(&h->mu);
        } else if (w->frozen) {
                if (worker_freeze(h, w, false) == 0) {
                        w->frozen = false;
                        fn_guard_pause(w->guard, false);
                }
        }
        inv_t iv = { .payload = payload, .len = len, .client_context = io->client_context };
        memcpy(iv.id, res->request_id, sizeof(iv.id));
        pthread_cond_init(&iv.cv, NULL);
        /* Each invocation has its own output budget (--log-rate). */
        pthread_mutex_lock(&w->out_mu);
        log_flush_dropped(w);
        w->rate = (fn_rate){ .rate = d->log_rate ? d->log_rate : FN_LOG_RATE_DEFAULT };
        memcpy(w->req_id, iv.id, sizeof(w->req_id));
        w->tailing = io->tail;
        w->tail_len = 0;
        pthread_mutex_unlock(&w->out_mu);
        worker_logf(w, "START RequestId: %s Version: $LATEST\n", iv.id);
        uint64_t t0 = now_ns();
        iv.deadline_ms = (uint64_t)wall_ms_now() + d->timeout_ms;
        bool timeout = false;
        pthread_mutex_lock(&h->mu);
        w->inv = &iv;
        w->inv_taken = false;
        pthread_cond_broadcast(&w->cv);
        wait_result(h, w, &iv, t0 + d->timeout_ms * 1000000ull, &timeout);
        uint64_t dur = now_ns() - t0;
        w->inv = NULL;
        bool keep = iv.done && !w->exited && w->state == W_BUSY;
        bool exited = w->exited;
        int status = w->exit_status;
        if (keep) {
                w->state = W_RETURNING;
                w->p->returning++;
        }
        pthread_mutex_unlock(&h->mu);
        husk_global_t g = { .root = h->run_root };
        if (timeout) {
                /* The deadline: every process of the worker is killed through its cgroup. */
                husk_error_t kerr = { 0 };
                (void)husk_kill(&g, w->id, SIGKILL, true, &kerr);
                _cleanup_free_ char *t = fn_timeout_message(d->timeout_ms);
                _cleanup_free_ char *m = with_pids_note(h, w, d, t);
                char stamp[40];
                format_rfc3339(stamp, sizeof(stamp), false);
                set_error(res, FN_FUNC_ERROR, "Sandbox.Timedout", m);
                worker_logf(w, "%s %s %s\n", stamp, iv.id, m);
                res->error_kind = "Unhandled";
        } else if (iv.done) {
                res->outcome = iv.error_type ? FN_FUNC_ERROR : FN_OK;
                res->body = TAKE_PTR(iv.body);
                res->len = iv.body_len;
                if (iv.error_type)
                        res->error_kind = "Unhandled";
        } else {
                bool oom = worker_oom(h, w);
                _cleanup_free_ char *m = exited ? fn_exit_message(status) : xstrdup("worker lost");
                _cleanup_free_ char *full = oom ? xasprintf("%s (out of memory: the limit is %u MB)", m,
                                                            d->memory_mb)
                                                : with_pids_note(h, w, d, m);
                set_error(res, FN_FUNC_ERROR, oom ? "Runtime.OutOfMemory" : "Runtime.ExitError", full);
                worker_logf(w, "RequestId: %s Error: %s\n", iv.id, full);
                res->error_kind = "Unhandled";
        }
        free(iv.body);
        free(iv.error_type);
        pthread_cond_destroy(&iv.cv);
        pending_t *pd = xcalloc(1, sizeof(*pd));
        pd->w = w;
        pd->dur = dur;
        pd->keep = keep;
        if (io->tail) {
                /* The caller's answer carries the log: its END and REPORT lines come first. */
                finish_log(h, w, res->request_id, dur);
                pd->logged = true;
                pthread_mutex_lock(&w->out_mu);
                res->log_tail = base64_encode(w->tail, w->tail_len);
                w->tailing = false;
                pthread_mutex_unlock(&w->out_mu);
        }
        res->pending = pd;
        fn_metrics_end(d->name, res->outcome, (double)dur / 1e6);
        fn_def_free(d);
}

void fn_host_finish(fn_host *h, fn_result *res)
{
        pending_t *pd = TAKE_PTR(res->pending);
        if (!pd)
                return;
        finish(h, pd->w, res->request_id, pd->dur, pd->keep, pd->logged);
        free(pd);
}

/* ---------------------------------------------------------------- Runtime API callbacks */

int fn_worker_next(fn_worker *w, fn_next *n)
{
        fn_host *h = w->h;
        pthread_mutex_lock(&h->mu);
        if (!w->ready) {
                w->ready = true;
                w->init_ns = now_ns() - w->t_start;
                pthread_cond_broadcast(&w->cv);
        }
        while (w->state != W_DEAD && !(w->inv && !w->inv_taken))
                pthread_cond_wait(&w->cv, &h->mu);
        int r = -1;
        if (w->state != W_DEAD) {
                w->inv_taken = true;
                memcpy(n->request_id, w->inv->id, sizeof(n->request_id));
                /* A copy: the invoker may give up (deadline) while the answer is being sent. */
                n->payload = xmalloc(w->inv->len + 1);
                memcpy(n->payload, w->inv->payload, w->inv->len);
                n->len = w->inv->len;
                n->deadline_ms = w->inv->deadline_ms;
                n->function_arn = w->arn;
                n->client_context = w->inv->client_context ? xstrdup(w->inv->client_context) : NULL;
                r = 0;
        }
        pthread_mutex_unlock(&h->mu);
        return r;
}

int fn_worker_result(fn_worker *w, const char *id, const char *body, size_t len,
                     const char *error_type)
{
        fn_host *h = w->h;
        int r = -ENOENT;
        pthread_mutex_lock(&h->mu);
        inv_t *iv = w->inv;
        if (iv && iv->done)
                r = -EALREADY;
        else if (iv && w->inv_taken && strcmp(iv->id, id) == 0) {
                iv->body = xmalloc(len + 1);
                memcpy(iv->body, body, len);
                iv->body[len] = '\0';
                iv->body_len = len;
                iv->error_type = error_type ? xstrdup(error_type) : NULL;
                iv->done = true;
                pthread_cond_broadcast(&iv->cv);
                r = 0;
        }
        pthread_mutex_unlock(&h->mu);
        return r;
}

void fn_worker_init_error(fn_worker *w, const char *body, size_t len, const char *error_type)
{
        fn_host *h = w->h;
        pthread_mutex_lock(&h->mu);
        if (!w->ready && !w->init_failed) {
                w->init_failed = true;
                w->init_error = xasprintf("init error (%s): %.*s", error_type ? error_type : "Runtime.Unknown",
                                          (int)(len > 1024 ? 1024 : len), body);
                pthread_cond_broadcast(&w->cv);
        }
        pthread_mutex_unlock(&h->mu);
}

/* ---------------------------------------------------------------- reaper and async */

static void cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (ms % 1000) * 1000000L;
        ts.tv_sec += ms / 1000 + ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(cv, mu, &ts);
}

/* Keep-warm (scale to zero), removed functions, and the teardown queue. */
static void *reaper_main(void *arg)
{
        fn_host *h = arg;
        uint64_t last_warm = 0;
        pthread_mutex_lock(&h->mu);
        while (!h->stopping || h->teardown) {
                fn_worker *w = h->teardown;
                if (w) {
                        h->teardown = w->next;
                        pthread_mutex_unlock(&h->mu);
                        worker_destroy(h, w);
                        pthread_mutex_lock(&h->mu);
                        continue;
                }
                uint64_t now = now_ns();
                for (fn_pool *p = h->pools; p && now - last_warm >= 100000000ull; p = p->next) {
                        bool any_idle = false;
                        for (fn_worker *x = p->workers; x; x = x->next)
                                any_idle |= x->state == W_IDLE;
                        if (!any_idle)
                                continue;
                        fn_def *d = NULL;
                        husk_error_t err = { 0 };
                        pthread_mutex_unlock(&h->mu);
                        int r = fn_db_get(h->db, p->name, &d, &err);
                        pthread_mutex_lock(&h->mu);
                        uint64_t keep = r == 0 ? d->keep_warm_ms * 1000000ull : 0;
                        fn_def_free(d);
                        /* A worker may have turned idle while h->mu was released: its
                         * idle_since is later than `now`, and now - idle_since would wrap. */
                        uint64_t t = now_ns();
                        for (fn_worker *x = p->workers, *nx; x; x = nx) {
                                nx = x->next;
                                if (x->state == W_IDLE &&
                                    (r < 0 || (t >= x->idle_since && t - x->idle_since >= keep)))
                                        worker_kill_locked(h, x);
                        }
                }
                if (now - last_warm >= 100000000ull)
                        last_warm = now;
                long wait = h->stopping ? 100 : freeze_idle(h, 100);
                if (!h->teardown && !h->stopping)
                        cond_wait_ms(&h->cv, &h->mu, wait);
        }
        pthread_mutex_unlock(&h->mu);
        return NULL;
}

typedef struct async_job {
        fn_host *h;
        fn_async a;
} async_job;

static void *async_main(void *arg)
{
        async_job *j = arg;
        fn_host *h = j->h;
        fn_result res;
        fn_host_invoke(h, j->a.function, j->a.payload, j->a.len, false, &res);
        fn_host_finish(h, &res);
        husk_error_t err = { 0 };
        bool ok = res.outcome == FN_OK;
        int64_t next = ok ? 0 : fn_retry_delay_ms(j->a.attempts, h->o.retry_base_ms);
        if (res.outcome == FN_NOT_FOUND)
                next = -1;
        pthread_mutex_lock(&h->mu);
        bool stopping = h->stopping;
        pthread_mutex_unlock(&h->mu);
        if (res.outcome == FN_HOST_ERROR && stopping)
                /* Not an attempt: the event waits, untouched, for the next server. */
                (void)fn_db_async_release(h->db, j->a.id, &err);
        else
                (void)fn_db_async_finish(h->db, j->a.id, ok, next, res.body, &err);
        fn_result_done(&res);
        fn_async_free(&j->a);
        free(j);
        pthread_mutex_lock(&h->mu);
        h->async_running--;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        return NULL;
}

/* Runs due async invocations; each waits for a worker without a queue bound (they are durable,
 * not rejected). At most 64 run at once. */
static void *dispatcher_main(void *arg)
{
        fn_host *h = arg;
        uint64_t last_purge = 0;
        pthread_mutex_lock(&h->mu);
        while (!h->stopping) {
                size_t room = h->async_running < 64 ? 64 - h->async_running : 0;
                fn_async *v = NULL;
                size_t n = 0;
                if (room) {
                        husk_error_t err = { 0 };
                        pthread_mutex_unlock(&h->mu);
                        if (fn_db_async_claim(h->db, (uint64_t)wall_ms_now(), room, &v, &n, &err) < 0)
                                n = 0;
                        /* History is bounded: the newest finished events, for an hour. */
                        uint64_t now = now_ns();
                        if (now - last_purge > 1000000000ull) {
                                husk_error_t e2 = { 0 };
                                (void)fn_db_async_purge(h->db, 0, FN_EVENT_KEEP, FN_EVENT_KEEP_MS,
                                                        &e2);
                                last_purge = now;
                        }
                        pthread_mutex_lock(&h->mu);
                }
                for (size_t i = 0; i < n; i++) {
                        async_job *j = xcalloc(1, sizeof(*j));
                        j->h = h;
                        j->a = v[i];
                        pthread_t t;
                        pthread_attr_t at;
                        pthread_attr_init(&at);
                        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
                        h->async_running++;
                        if (pthread_create(&t, &at, async_main, j) != 0) {
                                h->async_running--;
                                husk_error_t err = { 0 };
                                (void)fn_db_async_finish(h->db, j->a.id, false, 1000, NULL, &err);
                                fn_async_free(&j->a);
                                free(j);
                        }
                        pthread_attr_destroy(&at);
                }
                free(v);
                if (!h->stopping)
                        cond_wait_ms(&h->cv, &h->mu, n ? 10 : 200);
        }
        pthread_mutex_unlock(&h->mu);
        return NULL;
}

void fn_host_kick(fn_host *h)
{
        pthread_mutex_lock(&h->mu);
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
}

/* ---------------------------------------------------------------- setup */

/* Workers left by a server that was killed: their containers go (they hold no accepted work:
 * async rows they were running are pending again). */
static void remove_leftovers(fn_host *h)
{
        husk_global_t g = { .root = h->run_root };
        husk_list_entry *e = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (husk_list(&g, &e, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++) {
                        husk_error_t e2 = { 0 };
                        (void)husk_delete(&g, e[i].id, true, &e2);
                }
                husk_list_free(e, n);
        }
        _cleanup_free_ char *cdir = xasprintf("%s/containers", h->store);
        _cleanup_closedir_ DIR *d = opendir(cdir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                /* Only ours: NAME.SEQ.RANDOM ids */
                if (de->d_name[0] == '.' || !strchr(de->d_name, '.'))
                        continue;
                _cleanup_free_ char *b = xasprintf("%s/%s", cdir, de->d_name);
                _cleanup_free_ char *name = xstrndup(de->d_name, strcspn(de->d_name, "."));
                if (!fn_name_valid(name))
                        continue;
                husk_error_t e2 = { 0 };
                (void)husk_image_container_remove(b, de->d_name, &e2);
        }
}

void fn_host_set_front(fn_host *h, struct fn_front *f)
{
        pthread_mutex_lock(&h->mu);
        h->front = f;
        if (f) {
                pthread_mutex_unlock(&h->mu);
                return;
        }
        /* Take every worker's daemon (one being destroyed took its own), then stop them
         * outside the lock: a request in progress may need the host. */
        size_t n = 0, cap = 0;
        struct MHD_Daemon **ds = NULL;
        for (fn_pool *p = h->pools; p; p = p->next)
                for (fn_worker *w = p->workers; w; w = w->next)
                        if (w->endpoint) {
                                if (n == cap) {
                                        cap = cap ? 2 * cap : 16;
                                        ds = xrealloc(ds, cap * sizeof(*ds));
                                }
                                ds[n++] = TAKE_PTR(w->endpoint);
                        }
        for (fn_worker *w = h->teardown; w; w = w->next)
                if (w->endpoint) {
                        if (n == cap) {
                                cap = cap ? 2 * cap : 16;
                                ds = xrealloc(ds, cap * sizeof(*ds));
                        }
                        ds[n++] = TAKE_PTR(w->endpoint);
                }
        pthread_mutex_unlock(&h->mu);
        for (size_t i = 0; i < n; i++)
                MHD_stop_daemon(ds[i]);
        free(ds);
}

int fn_host_new(const fn_host_opts *o, fn_host **ret, husk_error_t *err)
{
        fn_host *h = xcalloc(1, sizeof(*h));
        h->o = *o;
        if (!h->o.init_timeout_ms)
                h->o.init_timeout_ms = 10000;
        if (!h->o.retry_base_ms)
                h->o.retry_base_ms = 1000;
        h->store = xstrdup(o->store);
        h->fn_dir = fn_path(h->store, NULL);
        h->run_root = fn_path(h->store, "run");
        h->v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
        h->rootless = util_rootless();
        _cleanup_free_ char *why = NULL, *top = husk_rootless_cgroup_root(&why);
        h->no_cgroup = !top;
        h->cg_top = xstrdup(top && strcmp(top, "/") != 0 ? top : "");
        h->cg_base = xasprintf("/sys/fs/cgroup%s", h->cg_top);
        if (h->no_cgroup)
                h->limits_warning = xasprintf(
                        "rootless: the workers' memory and pids limits are not enforced: there is "
                        "no cgroup this user may write (%s); run husk fn serve in a delegated "
                        "cgroup v2 subtree (systemd's user@UID.service with Delegate=yes, or one "
                        "root makes and chowns to the user), or as root",
                        why);
        h->lock_fd = -1;
        pthread_mutex_init(&h->mu, NULL);
        pthread_cond_init(&h->cv, NULL);
        _cleanup_free_ char *logs = fn_path(h->store, "logs");
        int r = mkdir_p(logs, 0750);
        if (r == 0)
                r = mkdir_p(h->run_root, 0700);
        if (r < 0) {
                util_syserr(err, -r, "create %s", h->fn_dir);
                fn_host_free(h);
                return r;
        }
        /* One host per store: a second one would remove the first one's workers as leftovers. */
        _cleanup_free_ char *lock = fn_path(h->store, "serve.lock");
        h->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (h->lock_fd < 0 || flock(h->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK
                            ? husk_error_set(err, EBUSY, "another husk fn serve runs on the store %s",
                                             h->store)
                            : util_syserr(err, errno, "lock %s", lock);
                fn_host_free(h);
                return r;
        }
        remove_leftovers(h);
        pin_freezer(h);
        /* The zygote first: it must not inherit the db or any thread. */
        if ((r = fn_zygote_start(h->run_root, on_exit_cb, h, &h->z, err)) < 0) {
                fn_host_free(h);
                return r;
        }
        _cleanup_free_ char *dbp = fn_path(h->store, "fn.db");
        if ((r = fn_db_open(dbp, &h->db, err)) < 0 || (r = fn_db_async_recover(h->db, err)) < 0) {
                fn_host_free(h);
                return r;
        }
        fn_code_sweep(h->store, h->db);
        *ret = h;
        return 0;
}

int fn_host_run(fn_host *h, husk_error_t *err)
{
        fn_zygote_start_reader(h->z);
        if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0)
                return husk_error_set(err, EAGAIN, "start the reaper thread");
        if (pthread_create(&h->dispatcher, NULL, dispatcher_main, h) != 0) {
                pthread_mutex_lock(&h->mu);
                h->stopping = true;
                pthread_cond_broadcast(&h->cv);
                pthread_mutex_unlock(&h->mu);
                pthread_join(h->reaper, NULL);
                return husk_error_set(err, EAGAIN, "start the dispatcher thread");
        }
        h->threads = true;
        fn_metrics_start(h);
        return 0;
}

fn_db *fn_host_db(fn_host *h)
{
        return h->db;
}

const fn_host_opts *fn_host_options(fn_host *h)
{
        return &h->o;
}

const char *fn_host_limits_warning(fn_host *h)
{
        return h->limits_warning;
}

char *fn_host_function_arn(fn_host *h, const char *name)
{
        return xasprintf("arn:aws:lambda:%s:%s:function:%s", h->o.region ? h->o.region : "us-east-1",
                         h->o.account ? h->o.account : "000000000000", name);
}

void fn_host_free(fn_host *h)
{
        if (!h)
                return;
        fn_metrics_stop(h); /* no scrape reads the store from here on */
        /* Idle workers go at once; busy ones are killed through their cgroup so that their
         * invocations (async ones: the front door is stopped already) end and release them. */
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        for (fn_pool *p = h->pools; p; p = p->next)
                pthread_cond_broadcast(&p->cv); /* invocations waiting for a worker give up */
        char **busy = NULL;
        size_t nb = 0;
        for (fn_pool *p = h->pools; p; p = p->next)
                for (fn_worker *w = p->workers, *nx; w; w = nx) {
                        nx = w->next;
                        if (w->state == W_IDLE) {
                                worker_kill_locked(h, w);
                        } else if (w->pid > 0) {
                                busy = xrealloc(busy, (nb + 1) * sizeof(char *));
                                busy[nb++] = xstrdup(w->id);
                        }
                }
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        husk_global_t g = { .root = h->run_root };
        for (size_t i = 0; i < nb; i++) {
                husk_error_t err = { 0 };
                (void)husk_kill(&g, busy[i], SIGKILL, true, &err); /* may be gone already */
                free(busy[i]);
        }
        free(busy);
        pthread_mutex_lock(&h->mu);
        while (h->async_running)
                pthread_cond_wait(&h->cv, &h->mu);
        for (fn_pool *p = h->pools; p; p = p->next)
                while (p->workers)
                        worker_kill_locked(h, p->workers);
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        if (h->threads) {
                pthread_join(h->dispatcher, NULL);
                pthread_join(h->reaper, NULL);
        }
        while (h->teardown) {
                fn_worker *w = h->teardown;
                h->teardown = w->next;
                worker_destroy(h, w);
        }
        fn_zygote_stop(h->z);
        if (!h->v2 && !h->rootless)
                pin_release(getpid());
        for (fn_pool *p = h->pools, *nx; p; p = nx) {
                nx = p->next;
                if (p->log_fd >= 0)
                        close(p->log_fd);
                pthread_cond_destroy(&p->cv);
                pthread_mutex_destroy(&p->log_mu);
                free(p->log_path);
                free(p->name);
                free(p);
        }
        fn_db_close(h->db);
        if (h->lock_fd >= 0)
                close(h->lock_fd);
        free(h->cg_base);
        free(h->cg_top);
        free(h->limits_warning);
        free(h->store);
        free(h->fn_dir);
        free(h->run_root);
        free(h);
}
