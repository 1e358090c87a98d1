/* SPDX-License-Identifier: Apache-2.0 */
/* The "floor" of a function request, for tools/bench-gateway: the least any host of Lambda-style
 * functions does for one request on this machine. A caller's HTTP request is handed to a runtime
 * process that holds a Runtime API connection (GET .../invocation/next), the runtime posts its
 * answer (POST .../response, answered 202) and asks for the next event, and the answer goes back
 * to the caller: three HTTP exchanges on loopback, as with husk. Here the server is one epoll
 * thread with no HTTP library, no store, no logs, no metrics, no limits and no containers, and
 * the runtimes are plain processes that echo the event.
 *   gw-floor SECONDS RUNTIMES
 *       prints "listening 127.0.0.1:PORT" once the runtimes are connected, serves for SECONDS,
 *       then stops them and exits (also on SIGTERM). Any request whose path does not start with /2018-06-01/ is a
 *       caller's request (its body is the event; the answer is 200 with the runtime's body).
 * Loopback benchmarks only: not installed, not a server to keep running. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
#define MAX_CONNS 65536
#define MAX_RUNTIMES 256

typedef struct conn {
        int fd;
        char in[BUF];
        size_t in_len;
        char *out;
        size_t out_len, out_off;
        bool runtime, waiting; /* a runtime whose GET /next is unanswered */
        bool dead;             /* closed at the end of the epoll batch */
        struct conn *peer;     /* runtime: the caller it serves; caller: queued or served */
        struct conn *qnext;
        unsigned long id;
        char *event;
        size_t event_len;
} conn;

static int ep;
static conn *conns[MAX_CONNS];
static conn *runtimes_waiting[MAX_RUNTIMES];
static int n_waiting;
static conn *q_head, *q_tail;
static unsigned long next_id;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
        (void)sig;
        stop = 1;
}

static void die(const char *m)
{
        perror(m);
        exit(1);
}

static void conn_close(conn *c)
{
        if (c->peer)
                c->peer->peer = NULL;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        conns[c->fd] = NULL;
        free(c->out);
        free(c->event);
        free(c);
}

/* Queue bytes on c and send what the socket takes now (EPOLLOUT sends the rest). */
static void send_bytes(conn *c, const char *p, size_t n)
{
        if (c->out_len == c->out_off) {
                ssize_t w = write(c->fd, p, n);
                if (w == (ssize_t)n)
                        return;
                if (w < 0)
                        w = 0;
                p += w;
                n -= (size_t)w;
        }
        c->out = realloc(c->out, c->out_len + n);
        if (!c->out)
                die("realloc");
        memcpy(c->out + c->out_len, p, n);
        c->out_len += n;
        struct epoll_event e = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void send_answer(conn *c, const char *status, const char *extra, const char *body,
                        size_t len)
{
        char h[512];
        int n = snprintf(h, sizeof(h), "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%s"
                         "Content-Length: %zu\r\n\r\n", status, extra, len);
        char *all = malloc((size_t)n + len);
        if (!all)
                die("malloc");
        memcpy(all, h, (size_t)n);
        memcpy(all + n, body, len);
        send_bytes(c, all, (size_t)n + len);
        free(all);
}

/* Give the caller's event to the waiting runtime rt. */
static void dispatch(conn *rt, conn *caller)
{
        char extra[128];
        snprintf(extra, sizeof(extra), "Lambda-Runtime-Aws-Request-Id: %lu\r\n"
                 "Lambda-Runtime-Deadline-Ms: 0\r\n", caller->id);
        rt->waiting = false;
        rt->peer = caller;
        caller->peer = rt;
        send_answer(rt, "200 OK", extra, caller->event, caller->event_len);
}

static void runtime_ready(conn *rt)
{
        conn *caller = q_head;
        if (caller) {
                q_head = caller->qnext;
                if (!q_head)
                        q_tail = NULL;
                dispatch(rt, caller);
                return;
        }
        rt->waiting = true;
        if (n_waiting < MAX_RUNTIMES)
                runtimes_waiting[n_waiting++] = rt;
}

/* One complete request on c: method/path in the first line, body of len at body. */
static void on_request(conn *c, const char *path, const char *body, size_t len)
{
        if (strncmp(path, "/2018-06-01/runtime/invocation/", 31) == 0) {
                c->runtime = true;
                if (strstr(path, "/response")) {
                        conn *caller = c->peer;
                        c->peer = NULL;
                        send_answer(c, "202 Accepted", "", "{\"status\":\"OK\"}", 15);
                        if (caller) {
                                caller->peer = NULL;
                                send_answer(caller, "200 OK", "", body, len);
                        }
                } else {
                        runtime_ready(c);
                }
                return;
        }
        c->id = ++next_id;
        free(c->event);
        c->event = malloc(len + 1);
        if (!c->event)
                die("malloc");
        memcpy(c->event, body, len);
        c->event_len = len;
        while (n_waiting > 0) {
                conn *rt = runtimes_waiting[--n_waiting];
                if (rt->waiting) {
                        dispatch(rt, c);
                        return;
                }
        }
        c->qnext = NULL;
        if (q_tail)
                q_tail->qnext = c;
        else
                q_head = c;
        q_tail = c;
}

/* Parse every complete request in c->in. */
static void parse(conn *c)
{
        for (;;) {
                c->in[c->in_len] = '\0';
                char *end = strstr(c->in, "\r\n\r\n");
                if (!end)
                        return;
                size_t hlen = (size_t)(end - c->in) + 4, blen = 0;
                const char *cl = strcasestr(c->in, "\r\ncontent-length:");
                if (cl && cl < end)
                        blen = strtoul(cl + 17, NULL, 10);
                if (hlen + blen > BUF - 1) {
                        c->dead = true;
                        return;
                }
                if (c->in_len < hlen + blen)
                        return;
                char path[256] = "";
                sscanf(c->in, "%*s %255s", path);
                on_request(c, path, c->in + hlen, blen);
                memmove(c->in, c->in + hlen + blen, c->in_len - hlen - blen);
                c->in_len -= hlen + blen;
        }
}

static void add_conn(int fd)
{
        if (fd >= MAX_CONNS) {
                close(fd);
                return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn *c = calloc(1, sizeof(*c));
        if (!c)
                die("calloc");
        c->fd = fd;
        conns[fd] = c;
        struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* A runtime: GET next, POST the event back as the response, again; exits when the server goes. */
static void runtime_main(const struct sockaddr_in *a)
{
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (s < 0 || connect(s, (const struct sockaddr *)a, sizeof(*a)) < 0)
                _exit(1);
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        static char in[BUF], out[BUF + 512];
        size_t have = 0;
        const char *next = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";
        bool want_event = true;
        if (write(s, next, strlen(next)) < 0)
                _exit(0);
        for (;;) {
                ssize_t r = read(s, in + have, BUF - 1 - have);
                if (r <= 0)
                        _exit(0);
                have += (size_t)r;
                for (;;) {
                        in[have] = '\0';
                        char *end = strstr(in, "\r\n\r\n");
                        if (!end)
                                break;
                        size_t hlen = (size_t)(end - in) + 4, blen = 0;
                        const char *cl = strcasestr(in, "\r\ncontent-length:");
                        if (cl && cl < end)
                                blen = strtoul(cl + 17, NULL, 10);
                        if (have < hlen + blen)
                                break;
                        int n;
                        if (want_event) {
                                unsigned long id = 0;
                                const char *h = strcasestr(in, "\r\nlambda-runtime-aws-request-id:");
                                if (h)
                                        id = strtoul(h + 32, NULL, 10);
                                n = snprintf(out, sizeof(out), "POST /2018-06-01/runtime/invocation/%lu/"
                                             "response HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
                                             id, blen);
                                memcpy(out + n, in + hlen, blen);
                                n += (int)blen;
                        } else {
                                n = (int)strlen(next);
                                memcpy(out, next, (size_t)n);
                        }
                        want_event = !want_event;
                        if (write(s, out, (size_t)n) != n)
                                _exit(0);
                        memmove(in, in + hlen + blen, have - hlen - blen);
                        have -= hlen + blen;
                }
        }
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: gw-floor SECONDS RUNTIMES\n");
                return 2;
        }
        int secs = atoi(argv[1]), nrt = atoi(argv[2]);
        if (secs <= 0 || secs > 3600 || nrt <= 0 || nrt > MAX_RUNTIMES) {
                fprintf(stderr, "gw-floor: SECONDS in 1..3600, RUNTIMES in 1..%d\n", MAX_RUNTIMES);
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        signal(SIGTERM, on_term); /* stop early: the runtimes are stopped too */
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof(a);
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4096) < 0 ||
            getsockname(ls, (struct sockaddr *)&a, &al) < 0)
                die("listen");
        pid_t pids[MAX_RUNTIMES];
        for (int i = 0; i < nrt; i++) {
                pids[i] = fork();
                if (pids[i] < 0)
                        die("fork");
                if (pids[i] == 0) {
                        close(ls);
                        runtime_main(&a);
                }
        }
        ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event le = { .events = EPOLLIN, .data.ptr = NULL };
        epoll_ctl(ep, EPOLL_CTL_ADD, ls, &le);
        bool announced = false;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                struct timespec t;
                clock_gettime(CLOCK_MONOTONIC, &t);
                if (t.tv_sec - t0.tv_sec >= secs || stop)
                        break;
                if (!announced && n_waiting == nrt) {
                        printf("listening 127.0.0.1:%u\n", ntohs(a.sin_port));
                        fflush(stdout);
                        announced = true;
                }
                struct epoll_event ev[256];
                int n = epoll_wait(ep, ev, 256, 100);
                for (int i = 0; i < n; i++) {
                        conn *c = ev[i].data.ptr;
                        if (!c) {
                                int fd;
                                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                                        add_conn(fd);
                                continue;
                        }
                        if (ev[i].events & EPOLLOUT) {
                                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                                if (w > 0)
                                        c->out_off += (size_t)w;
                                if (c->out_off == c->out_len) {
                                        c->out_off = c->out_len = 0;
                                        struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
                                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
                                }
                        }
                        if (c->dead)
                                continue;
                        if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                                ssize_t r = read(c->fd, c->in + c->in_len, BUF - 1 - c->in_len);
                                if (r > 0) {
                                        c->in_len += (size_t)r;
                                        parse(c);
                                } else if (!(r < 0 && errno == EAGAIN)) {
                                        c->dead = true;
                                }
                        }
                }
                /* The connections that went: off the queue and the waiting runtimes, then closed
                 * (an event later in the batch could still have named them). */
                for (int i = 0; i < n; i++) {
                        conn *c = ev[i].data.ptr;
                        if (!c || !c->dead || conns[c->fd] != c)
                                continue;
                        for (conn **p = &q_head, *prev = NULL; *p; prev = *p, p = &(*p)->qnext)
                                if (*p == c) {
                                        *p = c->qnext;
                                        if (q_tail == c)
                                                q_tail = prev;
                                        break;
                                }
                        for (int k = 0; k < n_waiting; k++)
                                if (runtimes_waiting[k] == c)
                                        runtimes_waiting[k] = runtimes_waiting[--n_waiting];
                        conn_close(c);
                }
        }
        for (int i = 0; i < nrt; i++)
                kill(pids[i], SIGKILL);
        for (int i = 0; i < nrt; i++)
                waitpid(pids[i], NULL, 0);
        return 0;
}
