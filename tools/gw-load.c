/* SPDX-License-Identifier: Apache-2.0 */
/* The client of tools/bench-gateway: HTTP/1.1 load over kept-alive connections, one epoll
 * thread, one request in flight per connection.
 *   gw-load load HOST:PORT SECONDS CONNS METHOD PATH [HOSTHDR] [BODY]
 *       prints "requests N rps R p50_us A p99_us B non2xx E status S errors X"
 *       (S: the status of the last non-2xx answer, 0 when none)
 *   gw-load idle HOST:PORT N SECONDS PATH [HOSTHDR [WAIT_S]]
 *       opens N connections, one GET on each (kept alive), holds them idle for SECONDS, then
 *       sends one more GET on each; prints "opened N answered_first A held H answered_last L"
 *       (answered: any complete HTTP answer, whatever its status, within WAIT_S, 60 by default)
 * Loopback tests only: bounded in connections (65000) and time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
        int fd;
        char in[65536];
        size_t in_len;
        size_t out_off;
        long long t0;
        bool busy, dead;
        int answers;
} conn;

static char *req;
static size_t req_len;
static struct sockaddr_in addr;

static long long now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int dial(void)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
        if (s < 0)
                return -1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
                close(s);
                return -1;
        }
        return s;
}

/* A whole answer in c->in: its length (headers + Content-Length body) and status, else 0. */
static size_t answer(conn *c, int *status)
{
        c->in[c->in_len < sizeof(c->in) ? c->in_len : sizeof(c->in) - 1] = '\0';
        char *eoh = strstr(c->in, "\r\n\r\n");
        if (!eoh)
                return 0;
        size_t hl = (size_t)(eoh - c->in) + 4;
        long cl = 0;
        for (char *p = c->in; p < eoh; p = strstr(p, "\r\n") + 2)
                if (strncasecmp(p, "content-length:", 15) == 0)
                        cl = strtol(p + 15, NULL, 10);
        if (c->in_len < hl + (size_t)cl)
                return 0;
        *status = atoi(c->in + 9);
        return hl + (size_t)cl;
}

static void send_req(conn *c)
{
        c->t0 = now_us();
        c->busy = true;
        c->out_off = 0;
        ssize_t w = send(c->fd, req, req_len, MSG_NOSIGNAL);
        if (w > 0)
                c->out_off = (size_t)w;
        else if (w < 0 && errno != EAGAIN)
                c->dead = true;
}

static int cmp_ll(const void *a, const void *b)
{
        long long x = *(const long long *)a, y = *(const long long *)b;
        return x < y ? -1 : x > y;
}

static void build(const char *method, const char *path, const char *host, const char *body)
{
        size_t bl = body ? strlen(body) : 0;
        req = malloc(strlen(path) + strlen(host) + bl + 256);
        req_len = (size_t)sprintf(req, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n"
                                       "Content-Type: application/json\r\n\r\n%s",
                                  method, path, host, bl, body ? body : "");
}

static void raise_nofile(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/* Reads what c has; true when an answer completed (its status in *status). */
static bool pump(conn *c, int *status)
{
        for (;;) {
                if (c->in_len >= sizeof(c->in) - 1) {
                        c->dead = true;
                        return false;
                }
                ssize_t r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
                if (r > 0) {
                        c->in_len += (size_t)r;
                        continue;
                }
                if (r == 0 || errno != EAGAIN)
                        c->dead = true;
                break;
        }
        size_t n = answer(c, status);
        if (!n)
                return false;
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
        c->busy = false;
        c->answers++;
        return true;
}

static int load(int seconds, int nconns)
{
        int ep = epoll_create1(EPOLL_CLOEXEC);
        conn *cs = calloc((size_t)nconns, sizeof(*cs));
        size_t cap = 1 << 20, n = 0;
        long long *lat = malloc(cap * sizeof(*lat));
        long errors = 0, non2xx = 0;
        int last_bad = 0;
        for (int i = 0; i < nconns; i++) {
                cs[i].fd = dial();
                struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &cs[i] };
                epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
        }
        long long start = now_us(), end = start + (long long)seconds * 1000000;
        struct epoll_event ev[256];
        while (now_us() < end) {
                int k = epoll_wait(ep, ev, 256, 100);
                for (int i = 0; i < k; i++) {
                        conn *c = ev[i].data.ptr;
                        if (c->dead)
                                continue;
                        if (!c->busy) {
                                send_req(c);
                                continue;
                        }
                        if (c->out_off < req_len) {
                                ssize_t w = send(c->fd, req + c->out_off, req_len - c->out_off,
                                                 MSG_NOSIGNAL);
                                if (w > 0)
                                        c->out_off += (size_t)w;
                        }
                        int st = 0;
                        if (pump(c, &st)) {
                                if (n == cap)
                                        lat = realloc(lat, (cap *= 2) * sizeof(*lat));
                                lat[n++] = now_us() - c->t0;
                                if (st < 200 || st > 299) {
                                        non2xx++;
                                        last_bad = st;
                                }
                                if (now_us() < end)
                                        send_req(c);
                        }
                        if (c->dead) {
                                errors++;
                                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                                close(c->fd);
                                /* a new connection in its place */
                                c->fd = dial();
                                c->dead = c->busy = false;
                                c->in_len = 0;
                                struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET,
                                                         .data.ptr = c };
                                if (c->fd >= 0)
                                        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
                                else
                                        c->dead = true;
                        }
                }
        }
        double secs = (double)(now_us() - start) / 1e6;
        qsort(lat, n, sizeof(*lat), cmp_ll);
        printf("requests %zu rps %.0f p50_us %lld p99_us %lld non2xx %ld status %d errors %ld\n", n,
               (double)n / secs, n ? lat[n / 2] : 0, n ? lat[(size_t)((double)n * 0.99)] : 0, non2xx,
               last_bad, errors);
        return 0;
}

/* Runs one round of requests on every live connection; returns how many answered. */
static int round_all(int ep, conn *cs, int n, int timeout_s)
{
        for (int i = 0; i < n; i++)
                if (!cs[i].dead && cs[i].fd >= 0)
                        send_req(&cs[i]);
        int answered = 0, pending = 0;
        for (int i = 0; i < n; i++)
                pending += !cs[i].dead && cs[i].busy;
        long long end = now_us() + (long long)timeout_s * 1000000;
        struct epoll_event ev[512];
        while (pending > 0 && now_us() < end) {
                int k = epoll_wait(ep, ev, 512, 100);
                for (int i = 0; i < k; i++) {
                        conn *c = ev[i].data.ptr;
                        if (c->dead || !c->busy)
                                continue;
                        if (c->out_off < req_len) {
                                ssize_t w = send(c->fd, req + c->out_off, req_len - c->out_off,
                                                 MSG_NOSIGNAL);
                                if (w > 0)
                                        c->out_off += (size_t)w;
                        }
                        int st = 0;
                        if (pump(c, &st)) {
                                answered += st > 0;
                                pending--;
                        } else if (c->dead) {
                                pending--;
                        }
                }
        }
        return answered;
}

static int idle(int n, int seconds, int wait_s)
{
        int ep = epoll_create1(EPOLL_CLOEXEC);
        conn *cs = calloc((size_t)n, sizeof(*cs));
        int opened = 0;
        for (int i = 0; i < n; i++) {
                cs[i].fd = dial();
                if (cs[i].fd < 0) {
                        cs[i].dead = true;
                        continue;
                }
                opened++;
                struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &cs[i] };
                epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
        }
        /* connect completes in the background; a short wait for the handshakes */
        struct timespec ts = { 0, 200000000 };
        nanosleep(&ts, NULL);
        int first = round_all(ep, cs, n, wait_s);
        printf("opened %d answered_first %d", opened, first);
        fflush(stdout);
        sleep((unsigned)seconds);
        int held = 0;
        for (int i = 0; i < n; i++) {
                if (cs[i].dead)
                        continue;
                char b;
                ssize_t r = recv(cs[i].fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
                if (r == 0 || (r < 0 && errno != EAGAIN))
                        cs[i].dead = true;
                else
                        held++;
        }
        int last = round_all(ep, cs, n, wait_s);
        printf(" held %d answered_last %d\n", held, last);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: gw-load load HOST:PORT SECONDS CONNS METHOD PATH [HOST] [BODY]\n"
                                "       gw-load idle HOST:PORT N SECONDS PATH [HOST [WAIT_S]]\n");
                return 2;
        }
        raise_nofile();
        char host[64];
        snprintf(host, sizeof(host), "%s", argv[2]);
        char *colon = strrchr(host, ':');
        if (!colon)
                return 2;
        *colon = '\0';
        addr.sin_family = AF_INET;
        addr.sin_port = htons((uint16_t)atoi(colon + 1));
        if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
                return 2;
        if (strcmp(argv[1], "load") == 0 && argc >= 7) {
                int secs = atoi(argv[3]), conns = atoi(argv[4]);
                if (secs < 1 || secs > 600 || conns < 1 || conns > 4096)
                        return 2;
                build(argv[5], argv[6], argc > 7 ? argv[7] : argv[2], argc > 8 ? argv[8] : NULL);
                return load(secs, conns);
        }
        if (strcmp(argv[1], "idle") == 0 && argc >= 6) {
                int n = atoi(argv[3]), secs = atoi(argv[4]), wait_s = argc > 7 ? atoi(argv[7]) : 60;
                if (n < 1 || n > 65000 || secs < 0 || secs > 3600 || wait_s < 1 || wait_s > 600)
                        return 2;
                build("GET", argv[5], argc > 6 ? argv[6] : argv[2], NULL);
                return idle(n, secs, wait_s);
        }
        fprintf(stderr, "gw-load: unknown mode or missing arguments\n");
        return 2;
}
