/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP_PROXY integrations: a small HTTP/1.1 client run on the gateway's worker threads (it
 * blocks its worker, with a deadline on every step). Connections to an upstream are kept alive
 * and reused, at most per_host idle ones per upstream; a kept connection the upstream closed
 * meanwhile is retried once on a new one (only when nothing of the answer came back). */
#include "gwd.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64u << 10) /* an upstream's status line and headers */
#define UPSTREAMS_MAX 256    /* upstreams with kept connections */

typedef struct idle {
        char key[80]; /* "ADDR:PORT" */
        int fds[64];
        unsigned n;
} idle;

struct gwd_upstreams {
        pthread_mutex_t mu;
        unsigned per_host;
        idle *u;
        size_t n;
};

gwd_upstreams *gwd_upstreams_new(unsigned per_host)
{
        gwd_upstreams *u = xcalloc(1, sizeof(*u));
        pthread_mutex_init(&u->mu, NULL);
        u->per_host = per_host > 64 ? 64 : per_host;
        return u;
}

void gwd_upstreams_free(gwd_upstreams *u)
{
        if (!u)
                return;
        for (size_t i = 0; i < u->n; i++)
                for (unsigned k = 0; k < u->u[i].n; k++)
                        close(u->u[i].fds[k]);
        free(u->u);
        pthread_mutex_destroy(&u->mu);
        free(u);
}

static int pool_get(gwd_upstreams *u, const char *key)
{
        int fd = -1;
        pthread_mutex_lock(&u->mu);
        for (size_t i = 0; i < u->n; i++)
                if (strcmp(u->u[i].key, key) == 0 && u->u[i].n)
                        fd = u->u[i].fds[--u->u[i].n];
        pthread_mutex_unlock(&u->mu);
        return fd;
}

static void pool_put(gwd_upstreams *u, const char *key, int fd)
{
        pthread_mutex_lock(&u->mu);
        idle *e = NULL;
        for (size_t i = 0; i < u->n && !e; i++)
                if (strcmp(u->u[i].key, key) == 0)
                        e = &u->u[i];
        if (!e && u->n < UPSTREAMS_MAX) {
                u->u = xrealloc(u->u, (u->n + 1) * sizeof(*u->u));
                e = &u->u[u->n++];
                memset(e, 0, sizeof(*e));
                snprintf(e->key, sizeof(e->key), "%s", key);
        }
        if (e && e->n < u->per_host) {
                e->fds[e->n++] = fd;
                fd = -1;
        }
        pthread_mutex_unlock(&u->mu);
        if (fd >= 0)
                close(fd);
}

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until deadline: 0, -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
        for (;;) {
                uint64_t now = mono_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = fd, .events = events };
                int r = poll(&p, 1, (int)(deadline - now));
                if (r > 0)
                        return 0;
                if (r == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

static int connect_to(const char *addr, unsigned port, uint64_t deadline)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
                return -EINVAL;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
                int e = errno;
                close(fd);
                return -e;
        }
        int r = wait_fd(fd, POLLOUT, deadline);
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
                r = -soerr;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static int send_all(int fd, const char *p, size_t len, uint64_t deadline)
{
        while (len) {
                ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
                if (w > 0) {
                        p += w;
                        len -= (size_t)w;
                        continue;
                }
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno != EAGAIN)
                        return -errno;
                int r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A growing buffer of what the upstream sent. */
typedef struct rbuf {
        char *p;
        size_t len, cap, off; /* off: consumed */
} rbuf;

/* Reads more into b: >0 bytes, 0 EOF, <0 error or -ETIMEDOUT. */
static ssize_t fill(int fd, rbuf *b, uint64_t deadline)
{
        if (b->cap - b->len < 16384) {
                b->cap = b->cap * 2 + 16384;
                b->p = xrealloc(b->p, b->cap + 1);
        }
        for (;;) {
                ssize_t r = recv(fd, b->p + b->len, b->cap - b->len, 0);
                if (r >= 0) {
                        b->len += (size_t)r;
                        b->p[b->len] = '\0';
                        return r;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                int w = wait_fd(fd, POLLIN, deadline);
                if (w < 0)
                        return w;
        }
}

static const char *find_crlfcrlf(const rbuf *b)
{
        return b->len >= 4 ? memmem(b->p, b->len, "\r\n\r\n", 4) : NULL;
}

typedef struct head {
        unsigned status;
        bool close, chunked, have_len, http10;
        uint64_t clen;
} head;

/* Parses the status line and headers (ends at eoh) into h and w's headers. */
static int parse_head(char *p, const char *eoh, head *h, gwd_resp *w, bool head_method)
{
        char *line_end = strstr(p, "\r\n");
        unsigned major = 0, minor = 0, status = 0;
        if (!line_end || sscanf(p, "HTTP/%u.%u %u", &major, &minor, &status) != 3 || major != 1 ||
            status < 100 || status > 599)
                return -1;
        h->status = status;
        h->http10 = minor == 0;
        h->close = h->http10;
        for (char *l = line_end + 2; l < eoh;) {
                char *e = strstr(l, "\r\n");
                if (!e || e > eoh)
                        break;
                *e = '\0';
                char *colon = strchr(l, ':');
                if (colon) {
                        *colon = '\0';
                        char *v = colon + 1;
                        v += strspn(v, " \t");
                        size_t vl = strlen(v);
                        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                                v[--vl] = '\0';
                        if (strcasecmp(l, "content-length") == 0) {
                                if (parse_uint64(v, &h->clen) < 0)
                                        return -1;
                                h->have_len = true;
                        } else if (strcasecmp(l, "transfer-encoding") == 0) {
                                h->chunked = strcasestr(v, "chunked") != NULL;
                        } else if (strcasecmp(l, "connection") == 0) {
                                if (strcasestr(v, "close"))
                                        h->close = true;
                                else if (strcasestr(v, "keep-alive"))
                                        h->close = false;
                        }
                        /* framing is the listener's; so is Date (it adds its own) */
                        if (!gwd_hop_by_hop(l) && strcasecmp(l, "content-length") != 0 &&
                            strcasecmp(l, "date") != 0)
                                gwd_hdr_add(&w->headers, &w->n_headers, l, v);
                }
                l = e + 2;
        }
        if (head_method || status == 204 || status == 304 || status < 200) {
                h->have_len = true;
                h->clen = 0;
                h->chunked = false;
        }
        return 0;
}

/* The body by Content-Length, chunks, or until EOF. */
static gwd_proxy_status read_body(int fd, rbuf *b, head *h, gwd_resp *w, uint64_t deadline)
{
        rbuf out = { 0 };
        if (h->chunked) {
                for (;;) {
                        char *e;
                        while (!(e = memmem(b->p + b->off, b->len - b->off, "\r\n", 2))) {
                                ssize_t r = fill(fd, b, deadline);
                                if (r <= 0)
                                        goto short_read;
                        }
                        uint64_t n = 0;
                        char *x = b->p + b->off;
                        if (sscanf(x, "%" SCNx64, &n) != 1 || n > GWD_RESPONSE_MAX ||
                            out.len + n > GWD_RESPONSE_MAX)
                                goto bad;
                        b->off = (size_t)(e + 2 - b->p);
                        while (b->len - b->off < n + 2) {
                                ssize_t r = fill(fd, b, deadline);
                                if (r <= 0)
                                        goto short_read;
                        }
                        if (n == 0) {
                                /* trailers are not kept; the connection is closed after */
                                h->close = true;
                                break;
                        }
                        out.p = xrealloc(out.p, out.len + n + 1);
                        memcpy(out.p + out.len, b->p + b->off, n);
                        out.len += n;
                        b->off += n + 2;
                }
        } else if (h->have_len) {
                if (h->clen > GWD_RESPONSE_MAX)
                        goto bad;
                while (b->len - b->off < h->clen) {
                        ssize_t r = fill(fd, b, deadline);
                        if (r <= 0)
                                goto short_read;
                }
                out.len = h->clen;
                out.p = xmalloc(out.len + 1);
                memcpy(out.p, b->p + b->off, out.len);
        } else {
                h->close = true;
                for (;;) {
                        if (b->len - b->off > GWD_RESPONSE_MAX)
                                goto bad;
                        ssize_t r = fill(fd, b, deadline);
                        if (r == 0)
                                break;
                        if (r < 0)
                                goto short_read;
                }
                out.len = b->len - b->off;
                out.p = xmalloc(out.len + 1);
                memcpy(out.p, b->p + b->off, out.len);
        }
        w->body = out.p;
        w->len = out.len;
        return GWD_PROXY_OK;
short_read:
        free(out.p);
        return mono_ms() >= deadline ? GWD_PROXY_TIMEOUT : GWD_PROXY_BAD;
bad:
        free(out.p);
        return GWD_PROXY_BAD;
}

static char *request_text(const char *method, const char *target, const gwd_hdr *h, size_t n,
                          size_t body_len, size_t *ret_len)
{
        size_t total = strlen(method) + strlen(target) + 64;
        for (size_t i = 0; i < n; i++)
                total += strlen(h[i].name) + strlen(h[i].value) + 4;
        char *s = xmalloc(total);
        size_t len = (size_t)snprintf(s, total, "%s %s HTTP/1.1\r\n", method, target);
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, total - len, "%s: %s\r\n", h[i].name, h[i].value);
        len += (size_t)snprintf(s + len, total - len, "Content-Length: %zu\r\n\r\n", body_len);
        *ret_len = len;
        return s;
}

gwd_proxy_status gwd_proxy_do(gwd_upstreams *u, const char *addr, unsigned port,
                              const char *method, const char *target, const gwd_hdr *h,
                              size_t n, const char *body, size_t len, unsigned timeout_ms,
                              gwd_resp *w)
{
        uint64_t deadline = mono_ms() + timeout_ms;
        char key[80];
        snprintf(key, sizeof(key), "%s:%u", addr, port);
        size_t rl = 0;
        _cleanup_free_ char *req = request_text(method, target, h, n, len, &rl);
        bool head_method = strcmp(method, "HEAD") == 0;
        for (int attempt = 0; attempt < 2; attempt++) {
                int fd = attempt == 0 ? pool_get(u, key) : -1;
                bool reused = fd >= 0;
                if (fd < 0) {
                        fd = connect_to(addr, port, deadline);
                        if (fd == -ETIMEDOUT)
                                return GWD_PROXY_TIMEOUT;
                        if (fd < 0)
                                return GWD_PROXY_CONNECT;
                }
                int r = send_all(fd, req, rl, deadline);
                if (r == 0 && len)
                        r = send_all(fd, body, len, deadline);
                rbuf b = { 0 };
                const char *eoh = NULL;
                ssize_t got = 0;
                while (r == 0 && !(eoh = find_crlfcrlf(&b))) {
                        if (b.len > HEAD_MAX) {
                                r = -E2BIG;
                                break;
                        }
                        got = fill(fd, &b, deadline);
                        if (got <= 0)
                                r = got == 0 ? -ECONNRESET : (int)got;
                }
                if (r < 0) {
                        close(fd);
                        free(b.p);
                        /* A kept connection closed by the upstream: once more on a new one. */
                        if (reused && b.len == 0 && r != -ETIMEDOUT)
                                continue;
                        return r == -ETIMEDOUT ? GWD_PROXY_TIMEOUT : GWD_PROXY_BAD;
                }
                head hd = { 0 };
                *w = (gwd_resp){ 0 };
                size_t hl = (size_t)(eoh - b.p) + 4;
                if (parse_head(b.p, eoh + 2, &hd, w, head_method) < 0) {
                        close(fd);
                        free(b.p);
                        gwd_resp_done(w);
                        return GWD_PROXY_BAD;
                }
                b.off = hl;
                gwd_proxy_status st = read_body(fd, &b, &hd, w, deadline);
                free(b.p);
                if (st != GWD_PROXY_OK) {
                        close(fd);
                        gwd_resp_done(w);
                        return st;
                }
                w->status = hd.status;
                if (hd.close)
                        close(fd);
                else
                        pool_put(u, key, fd);
                return GWD_PROXY_OK;
        }
        return GWD_PROXY_CONNECT;
}
