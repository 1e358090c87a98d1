/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks: fork + execve(path, args, env) with the container state JSON on stdin, stdout and
 * stderr captured, an optional timeout (SIGKILL to the hook's process group). Runs in the
 * caller's namespaces (host side for prestart/createRuntime/poststart/poststop; the process module
 * calls it from the container side for createContainer/startContainer). */
#include "process/hooks.h"
#include "util/util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOK_OUTPUT_MAX 4096 /* bytes of stderr/stdout kept for the error message */
#define HOOK_ERR_LINES 5

const char *hooks_kind_name(config_hook_kind kind)
{
        static const char *const names[HOOK_KIND_COUNT] = {
                "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
        };
        return kind < HOOK_KIND_COUNT ? names[kind] : "unknown";
}

struct capture {
        int fd;
        char buf[HOOK_OUTPUT_MAX];
        size_t len;
};

/* Hook child, after fork: only async-signal-safe calls, then execve or _exit(127). */
static __attribute__((noreturn)) void hook_child(const config_hook *h, const hooks_opts *o, int in,
                                                 int out, int errfd)
{
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        /* Ignored signals (SIGPIPE in husk) stay ignored across execve: reset them. */
        for (int s = 1; s < NSIG; s++) {
                if (s == SIGKILL || s == SIGSTOP)
                        continue;
                /* glibc refuses its reserved real-time signals (32, 33), which a caller may have
                 * ignored: reset those through the raw syscall. All-zero is SIG_DFL with no
                 * flags and an empty mask in every arch's kernel sigaction layout. */
                if (signal(s, SIG_DFL) == SIG_ERR) {
                        uint64_t zero[8] = { 0 };
                        syscall(SYS_rt_sigaction, s, zero, NULL, (size_t)(_NSIG / 8));
                }
        }
        /* Its own process group, so a timeout kills whatever the hook started. */
        setpgid(0, 0);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
                _exit(127);
        if (o->cwd_fd >= 0 && fchdir(o->cwd_fd) < 0) {
                static const char msg[] = "husk: cannot enter the hook's working directory\n";
                if (write(2, msg, sizeof(msg) - 1) > 0) {
                        /* best effort */
                }
                _exit(127);
        }
        /* Only stdio reaches the hook, whatever the caller forgot to mark CLOEXEC. */
        if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
                for (int fd = 3; fd < 1024; fd++)
                        close(fd);
        char *fallback_argv[] = { h->path, NULL };
        char *empty_env[] = { NULL };
        /* No "env" in the hook: runc and crun pass their own environment (PATH included) to the
         * hooks they run; an explicit (even empty) list is used as it is. */
        char **env = h->env ? h->env : o->default_env ? o->default_env : empty_env;
        execve(h->path, h->n_args ? h->args : fallback_argv, env);
        int e = errno;
        static const char msg[] = "husk: cannot execute hook: ";
        if (write(2, msg, sizeof(msg) - 1) > 0) {
                const char *es = strerror(e); /* glibc's table: no allocation */
                if (write(2, es, strlen(es)) > 0 && write(2, "\n", 1) > 0) {
                        /* best effort */
                }
        }
        _exit(127);
}

static void capture_read(struct capture *c)
{
        char tmp[4096];
        for (;;) {
                ssize_t n = read(c->fd, tmp, sizeof(tmp));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0 || errno != EAGAIN) {
                                close(c->fd);
                                c->fd = -1;
                        }
                        return;
                }
                size_t keep = (size_t)n;
                if (keep > sizeof(c->buf) - c->len)
                        keep = sizeof(c->buf) - c->len;
                memcpy(c->buf + c->len, tmp, keep);
                c->len += keep;
        }
}

/* Write more of the state to the hook's stdin; closes the fd when done or when the hook closed
 * its end (EPIPE is not an error: a hook need not read its stdin). SIGPIPE is blocked around the
 * write and a SIGPIPE raised by it is consumed. */
static void feed_stdin(int *fd, const char *data, size_t len, size_t *off)
{
        sigset_t pipe_set, old, pending;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        bool was_pending = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        ssize_t n = write(*fd, data + *off, len - *off);
        int e = errno;
        if (n < 0 && e == EPIPE && !was_pending) {
                struct timespec zero = { 0, 0 };
                sigtimedwait(&pipe_set, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (n > 0)
                *off += (size_t)n;
        if ((n < 0 && e != EAGAIN && e != EINTR) || *off >= len) {
                close(*fd);
                *fd = -1;
        }
}

static int make_pipe(int p[2], bool parent_reads)
{
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        int mine = parent_reads ? p[0] : p[1];
        if (fcntl(mine, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

/* The first lines of the hook's stderr (or stdout when stderr is empty), for the error. */
static void output_excerpt(const struct capture *errc, const struct capture *outc, char *dst,
                           size_t dlen)
{
        const struct capture *c = errc->len ? errc : outc;
        size_t n = 0, lines = 0;
        while (n < c->len && lines < HOOK_ERR_LINES) {
                if (c->buf[n] == '\n')
                        lines++;
                n++;
        }
        while (n > 0 && (c->buf[n - 1] == '\n' || c->buf[n - 1] == ' '))
                n--;
        snprintf(dst, dlen, "%.*s", (int)n, c->buf);
        for (char *p = dst; *p; p++)
                if (*p == '\n')
                        *p = ' ';
}

struct hook_run {
        pid_t pid;
        int pidfd;
        int in;
        struct capture out, err;
};

static void hook_run_cleanup(struct hook_run *r)
{
        if (r->pid > 0) { /* still not reaped: an error path */
                kill(-r->pid, SIGKILL);
                kill(r->pid, SIGKILL);
                while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        if (r->pidfd >= 0)
                close(r->pidfd);
        if (r->in >= 0)
                close(r->in);
        if (r->out.fd >= 0)
                close(r->out.fd);
        if (r->err.fd >= 0)
                close(r->err.fd);
}

static int hook_spawn(const config_hook *h, const hooks_opts *o, struct hook_run *r)
{
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
        int ret = make_pipe(in, false);
        if (ret == 0)
                ret = make_pipe(out, true);
        if (ret == 0)
                ret = make_pipe(errp, true);
        pid_t pid = ret == 0 ? fork() : -1;
        if (ret == 0 && pid < 0)
                ret = -errno;
        if (pid == 0)
                hook_child(h, o, in[0], out[1], errp[1]);
        int fds[] = { in[0], out[1], errp[1] };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        r->in = in[1];
        r->out.fd = out[0];
        r->err.fd = errp[0];
        if (ret < 0)
                return ret;
        r->pid = pid;
        r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        return 0;
}

/* Poll the pipes until the hook exits or the deadline passes. Returns 0 with *status, or
 * -ETIME on timeout (the hook is killed and reaped by the cleanup). */
static int hook_wait(struct hook_run *r, const char *state, uint64_t deadline, int *status)
{
        size_t len = strlen(state), off = 0;
        for (;;) {
                struct pollfd p[4];
                int n = 0, timeout = -1;
                if (r->in >= 0)
                        p[n++] = (struct pollfd){ .fd = r->in, .events = POLLOUT };
                if (r->out.fd >= 0)
                        p[n++] = (struct pollfd){ .fd = r->out.fd, .events = POLLIN };
                if (r->err.fd >= 0)
                        p[n++] = (struct pollfd){ .fd = r->err.fd, .events = POLLIN };
                if (r->pidfd >= 0)
                        p[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
                else
                        timeout = 20; /* no pidfd: check with waitpid(WNOHANG) */
                if (deadline) {
                        uint64_t now = now_ns();
                        if (now >= deadline)
                                return -ETIME;
                        int left = (int)((deadline - now) / 1000000) + 1;
                        if (timeout < 0 || left < timeout)
                                timeout = left;
                }
                if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR)
                        return -errno;
                if (r->in >= 0)
                        feed_stdin(&r->in, state, len, &off);
                if (r->out.fd >= 0)
                        capture_read(&r->out);
                if (r->err.fd >= 0)
                        capture_read(&r->err);
                pid_t w = waitpid(r->pid, status, WNOHANG);
                /* ECHILD: the caller ignores SIGCHLD, the kernel reaped the hook already. */
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (w == r->pid) {
                        r->pid = 0;
                        /* Take what is already written; a daemon the hook left behind may keep
                         * the pipes open, so do not wait for EOF. */
                        if (r->out.fd >= 0)
                                capture_read(&r->out);
                        if (r->err.fd >= 0)
                                capture_read(&r->err);
                        return 0;
                }
        }
}

static int run_one(const config_hook *h, const hooks_opts *o, const char *kind, size_t idx,
                   const char *state, husk_error_t *err)
{
        struct hook_run r = { .pid = 0, .pidfd = -1, .in = -1, .out.fd = -1, .err.fd = -1 };
        int status = 0, ret = hook_spawn(h, o, &r);
        if (ret < 0) {
                hook_run_cleanup(&r);
                return util_syserr(err, -ret, "hook %s[%zu] %s: start", kind, idx, h->path);
        }
        uint64_t deadline = h->has_timeout && h->timeout > 0
                                    ? now_ns() + (uint64_t)h->timeout * 1000000000ULL
                                    : 0;
        ret = hook_wait(&r, state, deadline, &status);
        char excerpt[1024];
        output_excerpt(&r.err, &r.out, excerpt, sizeof(excerpt));
        hook_run_cleanup(&r);
        if (ret == -ETIME)
                return husk_error_set(err, ETIMEDOUT, "hook %s[%zu] %s timed out after %d s", kind,
                                      idx, h->path, h->timeout);
        if (ret < 0)
                return util_syserr(err, -ret, "hook %s[%zu] %s: wait", kind, idx, h->path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFSIGNALED(status))
                return husk_error_set(err, ECANCELED, "hook %s[%zu] %s killed by signal %d%s%s",
                                      kind, idx, h->path, WTERMSIG(status), *excerpt ? ": " : "",
                                      excerpt);
        return husk_error_set(err, ECANCELED, "hook %s[%zu] %s exited with status %d%s%s", kind,
                              idx, h->path, WEXITSTATUS(status), *excerpt ? ": " : "", excerpt);
}

bool hooks_kind_on_host(config_hook_kind kind)
{
        return kind == HOOK_PRESTART || kind == HOOK_CREATE_RUNTIME || kind == HOOK_POSTSTART ||
               kind == HOOK_POSTSTOP;
}

int hooks_run_ex(const config_hooks *h, config_hook_kind kind, const char *state_json,
                 const hooks_opts *o, husk_error_t *err)
{
        if (kind >= HOOK_KIND_COUNT)
                return husk_error_set(err, EINVAL, "unknown hook kind %d", (int)kind);
        for (size_t i = 0; i < h->n_hooks[kind]; i++) {
                int r = run_one(&h->hooks[kind][i], o, hooks_kind_name(kind), i,
                                state_json ? state_json : "", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

size_t hooks_run_each(const config_hooks *h, config_hook_kind kind, const char *state_json,
                      void (*warn)(void *ctx, const husk_error_t *err), void *ctx)
{
        const hooks_opts o = { .cwd_fd = -1, .default_env = hooks_kind_on_host(kind) ? environ : NULL };
        size_t failed = 0;
        for (size_t i = 0; kind < HOOK_KIND_COUNT && i < h->n_hooks[kind]; i++) {
                husk_error_t e = { 0 };
                if (run_one(&h->hooks[kind][i], &o, hooks_kind_name(kind), i,
                            state_json ? state_json : "", &e) < 0) {
                        failed++;
                        warn(ctx, &e);
                }
        }
        return failed;
}

int hooks_run(const config_hooks *h, config_hook_kind kind, const char *state_json,
              husk_error_t *err)
{
        const hooks_opts o = { .cwd_fd = -1, .default_env = hooks_kind_on_host(kind) ? environ : NULL };
        return hooks_run_ex(h, kind, state_json, &o, err);
}
