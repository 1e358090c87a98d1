/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's listener (issue 17): libmicrohttpd in epoll mode with two polling threads, not a
 * thread per connection. A request is received and checked on a polling thread (size and header
 * bounds, a path that would climb out of its prefix, the API, stage and route, CORS preflight,
 * throttling), then its connection is suspended while one of a bounded pool of workers runs the
 * integration (a function of this server, or an HTTP service); the worker resumes it with the
 * answer. Nothing about a request reaches an integration before all checks passed.
 *
 * Bounds: connections (--api-connections; RLIMIT_NOFILE's soft limit is raised to its hard one
 * at start), workers (--api-workers) and the requests waiting for one (--api-backlog: 503 past
 * it), a request must arrive in full within GWD_RECEIVE_MS of its request line (a watchdog shuts
 * slow clients' sockets down), an answer must go out as fast, and an integration has its
 * TimeoutInMillis (504 after it, whether the function is still running or not). */
#include "gwd.h"
#include "metrics/metrics.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#define API_RATE_DEFAULT 10000.0 /* AWS's account-level throttle quota */
#define API_BURST_DEFAULT 5000
#define SEND_MS 30000        /* an answer must be read within this */
#define LOG_MAX (10u << 20)  /* an access log rotates to NAME.log.1 past it, as function logs */
#define BUCKETS_MAX 100000   /* throttling buckets kept (route x stage x API) */

typedef enum { PH_IDLE = 0, PH_RECEIVING, PH_BUSY, PH_SENDING, PH_DEAD } phase;

/* One open connection, for the watchdog. */
typedef struct gconn {
        int fd;
        int phase;       /* atomic */
        uint64_t t0;     /* atomic: the phase's start */
        struct gconn *prev, *next;
} gconn;

typedef enum { J_WAITING = 0, J_RUNNING, J_ANSWERED } jstate;
struct greq;

/* An integration's run: owned by the queue/worker and by its request (refs). */
typedef struct job {
        int refs;           /* under g->mu */
        int state;          /* atomic: jstate; the one who moves it to J_ANSWERED answers */
        struct greq *q;     /* valid until the request is answered */
        struct MHD_Connection *c;
        uint64_t deadline;  /* monotonic ms */
        gw_int_type type;
        char *function, *payload, *payload_version; /* AWS_PROXY */
        size_t payload_len;
        char *host, *target, *method; /* HTTP_PROXY */
        unsigned port;
        gwd_hdr *headers;
        size_t n_headers;
        char *body;
        size_t len;
        unsigned timeout_ms;
        struct job *next;               /* the queue */
        struct job *fprev, *fnext;      /* in flight (queued or running) */
} job;

typedef struct greq {
        bool started, dispatched, answered;
        char *raw_uri, *method, *version;
        char *raw_path, *path, *query;
        gwd_hdr *headers;
        size_t n_headers;
        char *body;
        size_t len;
        bool too_large;
        char request_id[40];
        uint64_t t_start_ms, t_epoch_ms;
        char source_ip[INET6_ADDRSTRLEN];
        gw_snapshot *snap;
        gw_match m;
        bool have_match;
        char *labels; /* metrics */
        job *j;
        gwd_resp resp;      /* filled by the worker or the timeout */
        long integration_ms;
        unsigned integration_status;
        const char *error_message;
        gwd_hdr *cors;
        size_t n_cors;
        unsigned status;
        size_t resp_len;
} greq;

typedef struct bucket_ent {
        char *key;
        gw_bucket b;
        struct bucket_ent *next;
} bucket_ent;

typedef struct logfile {
        char *path;
        int fd;
        uint64_t size;
        struct logfile *next;
} logfile;

struct gateway {
        gateway_opts o;
        char *store_dir, *region, *account;
        unsigned port;
        struct MHD_Daemon *d;
        unsigned conn_limit, workers, backlog;
        /* the pool */
        pthread_mutex_t mu;
        pthread_cond_t cv;
        job *head, *tail;
        size_t queued;
        job *flight;
        bool stopping;
        pthread_t *threads;
        unsigned n_threads;
        /* the watchdog */
        pthread_mutex_t cmu;
        gconn *conns;
        pthread_t wd;
        bool wd_started;
        uint64_t last_limit_log, last_backlog_log;
        unsigned n_conns; /* atomic */
        /* throttling */
        pthread_mutex_t bmu;
        bucket_ent *buckets[4096];
        size_t n_buckets;
        gw_throttle api_throttle;
        /* access logs */
        pthread_mutex_t lmu;
        logfile *logs;
        gwd_upstreams *ups;
};

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t epoch_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A request id as API Gateway's apigw-requestid: base64-ish, 16 characters. */
static void request_id(char out[40])
{
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char r[15];
        if (getentropy(r, sizeof(r)) < 0)
                memset(r, 0, sizeof(r)); /* ids need not be secret, only distinct enough */
        for (size_t i = 0; i < sizeof(r); i++)
                out[i] = a[r[i] % 62];
        out[15] = '=';
        out[16] = '\0';
}

static void set_phase(struct MHD_Connection *c, phase p)
{
        const union MHD_ConnectionInfo *i =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        gconn *k = i ? i->socket_context : NULL;
        if (!k)
                return;
        __atomic_store_n(&k->t0, mono_ms(), __ATOMIC_RELAXED);
        __atomic_store_n(&k->phase, (int)p, __ATOMIC_RELEASE);
}

/* ---- throttling ---- */
static bool take(gateway *g, const char *key, const gw_throttle *t, uint64_t now)
{
        if (t->rate < 0 || t->burst < 0)
                return true;
        unsigned h = 5381;
        for (const char *p = key; *p; p++)
                h = h * 33 + (unsigned char)*p;
        h %= ARRAY_SIZE(g->buckets);
        pthread_mutex_lock(&g->bmu);
        bucket_ent *e = g->buckets[h];
        while (e && strcmp(e->key, key) != 0)
                e = e->next;
        if (!e && g->n_buckets < BUCKETS_MAX) {
                e = xcalloc(1, sizeof(*e));
                e->key = xstrdup(key);
                e->next = g->buckets[h];
                g->buckets[h] = e;
                g->n_buckets++;
        }
        /* Past the bound of buckets (only with huge models) a new route is not throttled. */
        bool ok = e ? gw_bucket_take(&e->b, t, now) : true;
        pthread_mutex_unlock(&g->bmu);
        return ok;
}

/* ---- access logs ---- */
/* Where a stage's AccessLogSettings.DestinationArn writes: STORE/gw/logs/NAME.log, NAME the
 * log group of a CloudWatch ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]) or the last
 * component of a file path ('/' and other bytes outside [A-Za-z0-9._#-] become '_'). Never a
 * path of the caller's choosing: the keys that configure a stage are in every function's
 * environment, and this server runs as root; a destination such as /etc/cron.d/x would let a
 * workload write a file of the host (the line's text is partly the client's). */
static char *log_path(gateway *g, const char *dest)
{
        const char *lg = strstr(dest, ":log-group:");
        size_t n;
        if (lg) {
                lg += strlen(":log-group:");
                n = strcspn(lg, ":");
        } else {
                const char *slash = strrchr(dest, '/');
                lg = slash ? slash + 1 : dest;
                n = strlen(lg);
                if (n > 4 && strcmp(lg + n - 4, ".log") == 0)
                        n -= 4;
        }
        if (!n || n > 512)
                return NULL;
        char *name = xstrndup(lg, n);
        for (char *p = name; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._#-", *p))
                        *p = '_';
        if (name[0] == '.')
                name[0] = '_';
        char *p = xasprintf("%s/gw/logs/%s.log", g->store_dir, name);
        free(name);
        return p;
}

static int log_open(const char *path, uint64_t *size)
{
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        struct stat st;
        *size = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
        return fd;
}

static void log_write(gateway *g, const char *dest, const char *line)
{
        _cleanup_free_ char *path = log_path(g, dest);
        if (!path)
                return;
        size_t len = strlen(line);
        pthread_mutex_lock(&g->lmu);
        logfile *f = g->logs;
        while (f && strcmp(f->path, path) != 0)
                f = f->next;
        if (!f) {
                f = xcalloc(1, sizeof(*f));
                f->path = xstrdup(path);
                f->fd = log_open(path, &f->size);
                f->next = g->logs;
                g->logs = f;
        }
        if (f->fd >= 0 && f->size + len + 1 > LOG_MAX) {
                _cleanup_free_ char *old = xasprintf("%s.1", path);
                (void)rename(path, old);
                close(f->fd);
                f->fd = log_open(path, &f->size);
        }
        if (f->fd >= 0) {
                _cleanup_free_ char *l = xasprintf("%s\n", line);
                ssize_t w = write(f->fd, l, len + 1);
                if (w > 0)
                        f->size += (uint64_t)w;
        }
        pthread_mutex_unlock(&g->lmu);
}

/* ---- answers ---- */
static enum MHD_Result send_resp(struct MHD_Connection *c, greq *q, gwd_resp *w)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(
                w->len, w->body ? w->body : (void *)"", w->body ? MHD_RESPMEM_MUST_FREE
                                                                : MHD_RESPMEM_PERSISTENT);
        w->body = NULL;
        for (size_t i = 0; i < w->n_headers; i++)
                MHD_add_response_header(r, w->headers[i].name, w->headers[i].value);
        for (size_t i = 0; i < q->n_cors; i++)
                MHD_add_response_header(r, q->cors[i].name, q->cors[i].value);
        MHD_add_response_header(r, "apigw-requestid", q->request_id);
        q->status = w->status ? w->status : 500;
        q->resp_len = w->len;
        q->answered = true;
        gwd_resp_done(w);
        set_phase(c, PH_SENDING);
        enum MHD_Result ret = MHD_queue_response(c, q->status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result message(struct MHD_Connection *c, greq *q, unsigned status, const char *msg)
{
        gwd_resp w = { 0 };
        gwd_resp_message(&w, status, msg);
        q->error_message = msg;
        return send_resp(c, q, &w);
}

/* ---- the pool ---- */
static void job_unref(gateway *g, job *j)
{
        pthread_mutex_lock(&g->mu);
        bool last = --j->refs == 0;
        pthread_mutex_unlock(&g->mu);
        if (!last)
                return;
        free(j->function);
        free(j->payload);
        free(j->payload_version);
        free(j->host);
        free(j->target);
        free(j->method);
        gwd_hdrs_free(j->headers, j->n_headers);
        free(j->body);
        free(j);
}

/* The answer for j's request, from whoever got there first (the worker, the timeout, or the
 * stop). false: someone else answered already (w is the caller's to drop). */
static bool job_answer(job *j, gwd_resp *w, long integration_ms)
{
        int s = __atomic_load_n(&j->state, __ATOMIC_ACQUIRE);
        for (;;) {
                if (s == J_ANSWERED)
                        return false;
                if (__atomic_compare_exchange_n(&j->state, &s, J_ANSWERED, false, __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE))
                        break;
        }
        greq *q = j->q;
        q->resp = *w;
        q->integration_ms = integration_ms;
        *w = (gwd_resp){ 0 };
        MHD_resume_connection(j->c);
        return true;
}

static void run_function(gateway *g, job *j, gwd_resp *w, void **finish)
{
        gateway_result res = { 0 };
        g->o.invoke(g->o.ud, j->function, j->payload, j->payload_len, &res);
        *finish = res.finish;
        switch (res.outcome) {
        case GATEWAY_OK:
                if (gwd_map_response(j->payload_version, res.body ? res.body : "", res.len, w) < 0)
                        gwd_resp_message(w, 500, "Internal Server Error");
                break;
        case GATEWAY_THROTTLED: gwd_resp_message(w, 429, "Too Many Requests"); break;
        default: gwd_resp_message(w, 500, "Internal Server Error"); break;
        }
        free(res.body);
}

static bool ipv4_literal(const char *h)
{
        struct in_addr a;
        return inet_pton(AF_INET, h, &a) == 1;
}

static void run_proxy(gateway *g, job *j, gwd_resp *w)
{
        char addr[64];
        if (strcmp(j->host, "localhost") == 0)
                snprintf(addr, sizeof(addr), "127.0.0.1");
        else if (ipv4_literal(j->host))
                snprintf(addr, sizeof(addr), "%s", j->host);
        else if (!g->o.resolve || g->o.resolve(g->o.ud, j->host, addr, sizeof(addr)) < 0 ||
                 !ipv4_literal(addr)) {
                gwd_resp_message(w, 503, "Service Unavailable");
                return;
        }
        uint64_t now = mono_ms();
        unsigned left = j->deadline > now ? (unsigned)(j->deadline - now) : 1;
        switch (gwd_proxy_do(g->ups, addr, j->port, j->method, j->target, j->headers,
                             j->n_headers, j->body, j->len, left, w)) {
        case GWD_PROXY_OK: break;
        case GWD_PROXY_TIMEOUT: gwd_resp_message(w, 504, "Service Unavailable"); break;
        case GWD_PROXY_CONNECT: gwd_resp_message(w, 503, "Service Unavailable"); break;
        case GWD_PROXY_BAD: gwd_resp_message(w, 502, "Bad Gateway"); break;
        }
}

static void *worker_main(void *arg)
{
        gateway *g = arg;
        for (;;) {
                pthread_mutex_lock(&g->mu);
                while (!g->head && !g->stopping)
                        pthread_cond_wait(&g->cv, &g->mu);
                job *j = g->head;
                if (!j) {
                        pthread_mutex_unlock(&g->mu);
                        return NULL;
                }
                g->head = j->next;
                if (!g->head)
                        g->tail = NULL;
                g->queued--;
                pthread_mutex_unlock(&g->mu);
                int s = J_WAITING;
                /* Answered already (timed out in the queue, or the stop): nothing to run. */
                if (__atomic_compare_exchange_n(&j->state, &s, J_RUNNING, false, __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE)) {
                        uint64_t t0 = mono_ms();
                        gwd_resp w = { 0 };
                        void *finish = NULL;
                        if (j->type == GW_INT_AWS_PROXY)
                                run_function(g, j, &w, &finish);
                        else
                                run_proxy(g, j, &w);
                        if (!job_answer(j, &w, (long)(mono_ms() - t0)))
                                gwd_resp_done(&w);
                        /* the function's END/REPORT and freeze, while the answer goes out */
                        if (finish && g->o.finish)
                                g->o.finish(g->o.ud, finish);
                }
                pthread_mutex_lock(&g->mu);
                if (j->fprev)
                        j->fprev->fnext = j->fnext;
                else
                        g->flight = j->fnext;
                if (j->fnext)
                        j->fnext->fprev = j->fprev;
                j->fprev = j->fnext = NULL;
                pthread_mutex_unlock(&g->mu);
                job_unref(g, j);
        }
}

/* ---- the watchdog: slow clients, integration timeouts ---- */
static void watch_conns(gateway *g, uint64_t now)
{
        pthread_mutex_lock(&g->cmu);
        for (gconn *k = g->conns; k; k = k->next) {
                int p = __atomic_load_n(&k->phase, __ATOMIC_ACQUIRE);
                uint64_t t0 = __atomic_load_n(&k->t0, __ATOMIC_RELAXED);
                uint64_t limit = p == PH_RECEIVING ? GWD_RECEIVE_MS : p == PH_SENDING ? SEND_MS : 0;
                if (limit && now > t0 + limit) {
                        /* MHD sees EOF and closes it; the fd is still this connection's: MHD
                         * reports the close (which takes cmu) before it closes the fd. */
                        (void)shutdown(k->fd, SHUT_RDWR);
                        __atomic_store_n(&k->phase, PH_DEAD, __ATOMIC_RELEASE);
                }
        }
        pthread_mutex_unlock(&g->cmu);
}

static void watch_jobs(gateway *g, uint64_t now)
{
        for (;;) {
                job *late = NULL;
                pthread_mutex_lock(&g->mu);
                for (job *j = g->flight; j && !late; j = j->fnext)
                        if (now >= j->deadline &&
                            __atomic_load_n(&j->state, __ATOMIC_ACQUIRE) != J_ANSWERED) {
                                late = j;
                                late->refs++;
                        }
                pthread_mutex_unlock(&g->mu);
                if (!late)
                        return;
                gwd_resp w = { 0 };
                gwd_resp_message(&w, 504, "Service Unavailable");
                if (!job_answer(late, &w, (long)late->timeout_ms))
                        gwd_resp_done(&w);
                job_unref(g, late);
        }
}

static void *watchdog_main(void *arg)
{
        gateway *g = arg;
        for (;;) {
                struct timespec ts = { 0, 50000000 };
                nanosleep(&ts, NULL);
                pthread_mutex_lock(&g->mu);
                bool stop = g->stopping;
                pthread_mutex_unlock(&g->mu);
                if (stop)
                        return NULL;
                uint64_t now = mono_ms();
                watch_jobs(g, now);
                watch_conns(g, now);
        }
}

static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
        gateway *g = cls;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *i =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                /* At the bound MHD stops accepting: the next ones wait in the listen backlog.
                 * Named once a second at most. */
                unsigned n = __atomic_add_fetch(&g->n_conns, 1, __ATOMIC_RELAXED);
                uint64_t now = mono_ms();
                if (n >= g->conn_limit &&
                    now - __atomic_load_n(&g->last_limit_log, __ATOMIC_RELAXED) >= 1000) {
                        __atomic_store_n(&g->last_limit_log, now, __ATOMIC_RELAXED);
                        fprintf(stderr, "husk fn: gateway: %u connections open: new ones wait or "
                                        "are refused (--api-connections %u; RLIMIT_NOFILE bounds "
                                        "its default)\n", n, g->conn_limit);
                }
                gconn *k = xcalloc(1, sizeof(*k));
                k->fd = i ? i->connect_fd : -1;
                k->t0 = mono_ms();
                pthread_mutex_lock(&g->cmu);
                k->next = g->conns;
                if (g->conns)
                        g->conns->prev = k;
                g->conns = k;
                pthread_mutex_unlock(&g->cmu);
                *socket_context = k;
                return;
        }
        gconn *k = *socket_context;
        if (!k)
                return;
        __atomic_sub_fetch(&g->n_conns, 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&g->cmu);
        if (k->prev)
                k->prev->next = k->next;
        else
                g->conns = k->next;
        if (k->next)
                k->next->prev = k->prev;
        pthread_mutex_unlock(&g->cmu);
        free(k);
        *socket_context = NULL;
}

/* ---- requests ---- */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
        (void)cls;
        set_phase(c, PH_RECEIVING); /* from the request line on, the whole request is bounded */
        greq *q = xcalloc(1, sizeof(*q));
        q->raw_uri = xstrdup(uri ? uri : "/");
        q->t_start_ms = mono_ms();
        q->t_epoch_ms = epoch_ms();
        request_id(q->request_id);
        return q;
}

static enum MHD_Result header_copy(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
        (void)kind;
        greq *q = cls;
        if (key)
                gwd_hdr_add(&q->headers, &q->n_headers, key, value);
        return MHD_YES;
}

static void source_ip(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
        snprintf(out, INET6_ADDRSTRLEN, "-");
        const union MHD_ConnectionInfo *i =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!i || !i->client_addr)
                return;
        if (i->client_addr->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)i->client_addr)->sin_addr, out,
                          INET6_ADDRSTRLEN);
        else if (i->client_addr->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)i->client_addr)->sin6_addr,
                          out, INET6_ADDRSTRLEN);
}

/* The request line and headers are in: the checks that need no body. */
static enum MHD_Result first_call(gateway *g, struct MHD_Connection *c, greq *q,
                                  const char *method, const char *version)
{
        (void)g;
        q->started = true;
        q->method = xstrdup(method);
        q->version = xstrdup(version && *version ? version : "HTTP/1.1");
        source_ip(c, q->source_ip);
        MHD_get_connection_values(c, MHD_HEADER_KIND, header_copy, q);
        const char *raw = q->raw_uri;
        const char *qm = strchr(raw, '?');
        size_t plen = qm ? (size_t)(qm - raw) : strlen(raw);
        q->raw_path = xstrndup(raw, plen);
        q->query = xstrdup(qm ? qm + 1 : "");
        size_t total = strlen(method) + strlen(raw) + 10; /* "GET /x HTTP/1.1" */
        for (size_t i = 0; i < q->n_headers; i++)
                total += strlen(q->headers[i].name) + strlen(q->headers[i].value) + 4;
        if (total > GWD_HEADERS_MAX || q->n_headers > GWD_HEADER_COUNT_MAX)
                return message(c, q, 431, "Request Header Fields Too Large");
        size_t dl = 0;
        if (raw[0] != '/' || gwd_path_hostile(q->raw_path) ||
            gwd_pct_decode(q->raw_path, plen, &q->path, &dl) < 0 || strlen(q->path) != dl)
                return message(c, q, 400, "Bad Request");
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        uint64_t declared = 0;
        if (cl && (parse_uint64(cl, &declared) < 0))
                return message(c, q, 400, "Bad Request");
        if (declared > GWD_BODY_MAX)
                return message(c, q, 413, "Request Entity Too Large");
        return MHD_YES;
}

static char *route_labels(const gw_match *m)
{
        return hm_labels("api", m->api->id, "stage", m->stage->name, "route",
                         m->route_key ? m->route_key : "-", NULL);
}

/* Is name one of the comma-separated tokens of list (case-insensitive)? */
static bool listed(const char *list, const char *name)
{
        size_t nl = strlen(name);
        for (const char *p = list; *p;) {
                p += strspn(p, " \t,");
                size_t l = strcspn(p, ",");
                size_t t = l;
                while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
                        t--;
                if (t == nl && strncasecmp(p, name, nl) == 0)
                        return true;
                p += l;
        }
        return false;
}

/* The forwarded request of an HTTP_PROXY integration. */
static int proxy_job(gateway *g, greq *q, const char *method, job *j)
{
        char why[128];
        _cleanup_free_ char *url = NULL;
        const gw_integration *in = q->m.integration;
        if (gwd_proxy_url(in->uri, q->m.params, q->m.n_params, q->query, &url, why,
                          sizeof(why)) < 0)
                return -EINVAL;
        char host[256];
        if (gwd_url_split(url, host, sizeof(host), &j->port, &j->target) < 0)
                return -EIO;
        j->host = xstrdup(host);
        j->method = xstrdup(in->method && strcmp(in->method, "ANY") != 0 ? in->method : method);
        const char *xff = NULL;
        /* RFC 9110 7.6.1: the headers a Connection header names are hop-by-hop too. */
        const char *conn = gwd_hdr_get(q->headers, q->n_headers, "connection");
        for (size_t i = 0; i < q->n_headers; i++) {
                const char *n = q->headers[i].name;
                if (conn && listed(conn, n))
                        continue;
                if (gwd_hop_by_hop(n) || strcasecmp(n, "host") == 0 ||
                    strcasecmp(n, "content-length") == 0 || strncasecmp(n, "x-forwarded-", 12) == 0) {
                        if (strcasecmp(n, "x-forwarded-for") == 0)
                                xff = q->headers[i].value;
                        continue;
                }
                gwd_hdr_add(&j->headers, &j->n_headers, n, q->headers[i].value);
        }
        _cleanup_free_ char *authority = j->port == 80 ? xstrdup(host)
                                                       : xasprintf("%s:%u", host, j->port);
        gwd_hdr_add(&j->headers, &j->n_headers, "Host", authority);
        _cleanup_free_ char *f = xff ? xasprintf("%s, %s", xff, q->source_ip) : xstrdup(q->source_ip);
        gwd_hdr_add(&j->headers, &j->n_headers, "X-Forwarded-For", f);
        gwd_hdr_add(&j->headers, &j->n_headers, "X-Forwarded-Proto", "http");
        char port[16];
        snprintf(port, sizeof(port), "%u", g->port);
        gwd_hdr_add(&j->headers, &j->n_headers, "X-Forwarded-Port", port);
        j->body = q->body;
        j->len = q->len;
        q->body = NULL;
        q->len = 0;
        return 0;
}

static void function_job(gateway *g, greq *q, const char *method, job *j)
{
        const gw_integration *in = q->m.integration;
        const char *ver = in->payload_format_version ? in->payload_format_version : "2.0";
        char *const *vars = q->m.stage->variables;
        gwd_req r = { .method = method,
                      .raw_path = q->raw_path,
                      .path = q->path,
                      .query = q->query,
                      .headers = q->headers,
                      .n_headers = q->n_headers,
                      .body = q->body ? q->body : "",
                      .len = q->len,
                      .source_ip = q->source_ip,
                      .protocol = q->version,
                      .request_id = q->request_id,
                      .time_ms = q->t_epoch_ms };
        gwd_ctx x = { .account = g->account,
                      .region = g->region,
                      .api_id = q->m.api->id,
                      .stage = q->m.stage->name,
                      .route_key = q->m.route_key,
                      .params = q->m.params,
                      .n_params = q->m.n_params,
                      .stage_vars = vars };
        j->payload = strcmp(ver, "1.0") == 0 ? gwd_event_v1(&r, &x, &j->payload_len)
                                             : gwd_event_v2(&r, &x, &j->payload_len);
        j->payload_version = xstrdup(ver);
        j->function = gwd_function_of(in->uri);
}

/* The whole request is in: select, check, and hand it to a worker. */
static enum MHD_Result final_call(gateway *g, struct MHD_Connection *c, greq *q, const char *method)
{
        if (q->too_large)
                return message(c, q, 413, "Request Entity Too Large");
        gw_error err = { 0 };
        q->snap = gw_store_snapshot(g->o.store, &err);
        if (!q->snap)
                return message(c, q, 500, "Internal Server Error");
        const char *host = gwd_hdr_get(q->headers, q->n_headers, "host");
        const gw_api *api = gw_select_api(q->snap, host);
        if (!api || gw_match_request(q->snap, api, method, q->path, &q->m) < 0)
                return message(c, q, 404, "Not Found");
        q->have_match = true;
        /* DisableExecuteApiEndpoint: API Gateway then serves the API only on custom domains, which
         * husk has not; its default endpoint answers 403, as AWS's does. */
        if (api->disable_execute_api_endpoint)
                return message(c, q, 403, "Forbidden");
        q->labels = route_labels(&q->m);
        /* CORS: the API's configuration answers preflights itself, and adds its headers to
         * every answer of an allowed origin. */
        bool preflight = false;
        const char *origin = gwd_hdr_get(q->headers, q->n_headers, "origin");
        gwd_cors_headers(api->cors, method, origin,
                         gwd_hdr_get(q->headers, q->n_headers, "access-control-request-method"),
                         gwd_hdr_get(q->headers, q->n_headers, "access-control-request-headers"),
                         &preflight, &q->cors, &q->n_cors);
        if (preflight) {
                gwd_resp w = { .status = 204 };
                return send_resp(c, q, &w);
        }
        if (!q->m.route || !q->m.integration)
                return message(c, q, 404, "Not Found");
        uint64_t now = mono_ms();
        _cleanup_free_ char *akey = xasprintf("%s", api->id);
        _cleanup_free_ char *rkey = xasprintf("%s\n%s\n%s", api->id, q->m.stage->name,
                                              q->m.route_key);
        if (!take(g, akey, &g->api_throttle, now) || !take(g, rkey, &q->m.throttle, now))
                return message(c, q, 429, "Too Many Requests");
        const gw_integration *in = q->m.integration;
        job *j = xcalloc(1, sizeof(*j));
        j->type = in->type;
        j->timeout_ms = in->timeout_ms ? in->timeout_ms : GW_TIMEOUT_DEFAULT_MS;
        if (in->type == GW_INT_HTTP_PROXY) {
                int r = proxy_job(g, q, method, j);
                if (r < 0) {
                        j->refs = 1;
                        job_unref(g, j);
                        return r == -EINVAL ? message(c, q, 400, "Bad Request")
                                            : message(c, q, 500, "Internal Server Error");
                }
        } else {
                function_job(g, q, method, j);
        }
        j->q = q;
        j->c = c;
        j->deadline = now + j->timeout_ms;
        pthread_mutex_lock(&g->mu);
        if (g->stopping || g->queued >= g->backlog) {
                bool stopping = g->stopping;
                pthread_mutex_unlock(&g->mu);
                j->refs = 1;
                job_unref(g, j);
                q->error_message = "backlog";
                /* named once a second at most */
                uint64_t t = mono_ms();
                if (!stopping &&
                    t - __atomic_load_n(&g->last_backlog_log, __ATOMIC_RELAXED) >= 1000) {
                        __atomic_store_n(&g->last_backlog_log, t, __ATOMIC_RELAXED);
                        fprintf(stderr, "husk fn: gateway: %u requests wait for a worker: new "
                                        "ones are answered 503 (--api-backlog %u, --api-workers "
                                        "%u)\n", g->backlog, g->backlog, g->workers);
                }
                return message(c, q, 503, "Service Unavailable");
        }
        j->refs = 2; /* the pool's and the request's */
        q->j = j;
        if (g->tail)
                g->tail->next = j;
        else
                g->head = j;
        g->tail = j;
        g->queued++;
        j->fnext = g->flight;
        if (g->flight)
                g->flight->fprev = j;
        g->flight = j;
        q->dispatched = true;
        set_phase(c, PH_BUSY);
        MHD_suspend_connection(c);
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
        (void)url;
        gateway *g = cls;
        greq *q = *con_cls;
        if (!q) {
                q = *con_cls = xcalloc(1, sizeof(*q));
                q->raw_uri = xstrdup(url);
                q->t_start_ms = mono_ms();
                q->t_epoch_ms = epoch_ms();
                request_id(q->request_id);
        }
        if (!q->started)
                return first_call(g, c, q, method, version);
        if (*upload_size) {
                if (q->answered || q->too_large || q->len + *upload_size > GWD_BODY_MAX) {
                        q->too_large = !q->answered;
                } else {
                        q->body = xrealloc(q->body, q->len + *upload_size + 1);
                        memcpy(q->body + q->len, upload, *upload_size);
                        q->len += *upload_size;
                        q->body[q->len] = '\0';
                }
                *upload_size = 0;
                return MHD_YES;
        }
        if (q->answered)
                return MHD_YES;
        if (q->dispatched) {
                /* resumed: the worker's (or the timeout's) answer */
                gwd_resp w = q->resp;
                q->resp = (gwd_resp){ 0 };
                q->integration_status = w.status;
                return send_resp(c, q, &w);
        }
        return final_call(g, c, q, method);
}

static void account(gateway *g, greq *q)
{
        long latency = (long)(mono_ms() - q->t_start_ms);
        if (q->labels) {
                hm_inc("husk_route_requests_total", q->labels, 1);
                if (q->status >= 400 && q->status < 500)
                        hm_inc("husk_route_4xx_total", q->labels, 1);
                if (q->status >= 500)
                        hm_inc("husk_route_5xx_total", q->labels, 1);
                hm_observe("husk_route_latency_milliseconds", q->labels, (double)latency);
                if (q->dispatched)
                        hm_observe("husk_route_integration_latency_milliseconds", q->labels,
                                   (double)q->integration_ms);
        }
        const gw_stage *st = q->have_match ? q->m.stage : NULL;
        if (!st || !st->access_log_destination || !st->access_log_format)
                return;
        gwd_logvars v = { .request_id = q->request_id,
                          .api_id = q->m.api->id,
                          .stage = st->name,
                          .route_key = q->m.route_key,
                          .method = q->method,
                          .path = q->path,
                          .protocol = q->version,
                          .source_ip = q->source_ip,
                          .user_agent = gwd_hdr_get(q->headers, q->n_headers, "user-agent"),
                          .domain = gwd_hdr_get(q->headers, q->n_headers, "host"),
                          .error_message = q->error_message,
                          .status = q->status,
                          .integration_status = q->dispatched ? q->integration_status : 0,
                          .response_latency = latency,
                          .integration_latency = q->dispatched ? q->integration_ms : -1,
                          .response_length = q->resp_len,
                          .time_ms = q->t_epoch_ms };
        _cleanup_free_ char *line = NULL;
        line = gwd_log_line(st->access_log_format, &v);
        log_write(g, st->access_log_destination, line);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        (void)toe;
        gateway *g = cls;
        set_phase(c, PH_IDLE); /* a kept-alive connection waits for its next request */
        greq *q = *con_cls;
        if (!q)
                return;
        if (q->answered)
                account(g, q);
        if (q->j)
                job_unref(g, q->j);
        if (q->have_match)
                gw_match_done(&q->m);
        if (q->snap)
                gw_snapshot_unref(q->snap);
        gwd_resp_done(&q->resp);
        gwd_hdrs_free(q->headers, q->n_headers);
        gwd_hdrs_free(q->cors, q->n_cors);
        free(q->labels);
        free(q->raw_uri);
        free(q->method);
        free(q->version);
        free(q->raw_path);
        free(q->path);
        free(q->query);
        free(q->body);
        free(q);
        *con_cls = NULL;
}

/* MHD's own messages; the connection bound is named with the option that changes it (once a
 * second at most: a flood of refused connections must not flood the log). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        gateway *g = cls;
        char msg[512];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        if (strstr(msg, "onnection limit")) {
                uint64_t now = mono_ms();
                if (now - __atomic_load_n(&g->last_limit_log, __ATOMIC_RELAXED) < 1000)
                        return;
                __atomic_store_n(&g->last_limit_log, now, __ATOMIC_RELAXED);
                fprintf(stderr, "husk fn: gateway: %u connections open: new ones wait or are "
                                "refused (--api-connections %u; RLIMIT_NOFILE bounds its "
                                "default)\n", g->conn_limit, g->conn_limit);
                return;
        }
        fprintf(stderr, "husk fn: gateway: %s\n", msg);
}

static int parse_listen(const char *s, struct sockaddr_in *a, char *why, size_t why_len)
{
        const char *colon = strrchr(s, ':');
        uint32_t port;
        if (!colon || parse_uint32(colon + 1, &port) < 0 || port > 65535) {
                snprintf(why, why_len, "use ADDRESS:PORT (IPv4)");
                return -1;
        }
        _cleanup_free_ char *host = xstrndup(s, (size_t)(colon - s));
        memset(a, 0, sizeof(*a));
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
                snprintf(why, why_len, "%s is not an IPv4 address", host);
                return -1;
        }
        return 0;
}

/* The connection bound: what was asked, or what the open-file limit allows (its soft limit
 * raised to the hard one first) less a reserve for everything else the server opens. */
static unsigned connection_bound(unsigned asked)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl); /* best effort: the bound follows the result */
                (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
        uint64_t room = rl.rlim_cur > 2048 ? (uint64_t)rl.rlim_cur - 1024 : 1024;
        if (room > 1000000)
                room = 1000000;
        if (asked)
                return asked;
        return (unsigned)room;
}

static void declare_metrics(void)
{
        hm_declare("husk_route_requests_total", HM_COUNTER, "Requests to a route of an HTTP API");
        hm_declare("husk_route_4xx_total", HM_COUNTER, "Answers 400-499 of a route");
        hm_declare("husk_route_5xx_total", HM_COUNTER, "Answers 500-599 of a route");
        hm_declare("husk_route_latency_milliseconds", HM_SUMMARY,
                   "Time from a request's arrival to its answer");
        hm_declare("husk_route_integration_latency_milliseconds", HM_SUMMARY,
                   "Time the integration (function or service) took");
}

int gateway_start(const gateway_opts *o, gateway **ret, unsigned *ret_port, char *why,
                  size_t why_len)
{
        *ret = NULL;
        struct sockaddr_in a;
        if (parse_listen(o->listen, &a, why, why_len) < 0)
                return -1;
        if (!o->store) {
                snprintf(why, why_len, "no store of HTTP APIs");
                return -1;
        }
        gateway *g = xcalloc(1, sizeof(*g));
        g->o = *o;
        g->store_dir = xstrdup(o->store_dir ? o->store_dir : ".");
        g->region = xstrdup(o->region ? o->region : "us-east-1");
        g->account = xstrdup(o->account ? o->account : "000000000000");
        g->workers = o->workers ? o->workers : GWD_WORKERS_DEFAULT;
        g->backlog = o->backlog ? o->backlog : GWD_BACKLOG_DEFAULT;
        g->conn_limit = connection_bound(o->connections);
        bool api_default = o->api_rate < 0 || (o->api_rate == 0 && o->api_burst == 0);
        g->api_throttle = (gw_throttle){ api_default ? API_RATE_DEFAULT : o->api_rate,
                                         api_default ? API_BURST_DEFAULT : o->api_burst };
        pthread_mutex_init(&g->mu, NULL);
        pthread_cond_init(&g->cv, NULL);
        pthread_mutex_init(&g->cmu, NULL);
        pthread_mutex_init(&g->bmu, NULL);
        pthread_mutex_init(&g->lmu, NULL);
        g->ups = gwd_upstreams_new(64);
        _cleanup_free_ char *logs = xasprintf("%s/gw/logs", g->store_dir);
        (void)mkdir_p(logs, 0700); /* a failure shows when a log is written (it is not) */
        declare_metrics();
        g->port = ntohs(a.sin_port);
        g->d = MHD_start_daemon(
                MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
                NULL, NULL, handler, g, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, g, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&a,
                MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2, MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned)GWD_IDLE_S, MHD_OPTION_CONNECTION_LIMIT, g->conn_limit,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_NOTIFY_COMPLETED,
                completed, g, MHD_OPTION_URI_LOG_CALLBACK, uri_log, g,
                MHD_OPTION_NOTIFY_CONNECTION, notify_conn, g, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
                MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
        if (!g->d) {
                snprintf(why, why_len, "cannot listen there (in use, or not an address of this "
                                       "host)");
                gateway_stop(g);
                return -1;
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(g->d, MHD_DAEMON_INFO_BIND_PORT);
        if (di)
                g->port = di->port;
        g->threads = xcalloc(g->workers, sizeof(*g->threads));
        for (; g->n_threads < g->workers; g->n_threads++)
                if (pthread_create(&g->threads[g->n_threads], NULL, worker_main, g) != 0)
                        break;
        if (g->n_threads == 0 || pthread_create(&g->wd, NULL, watchdog_main, g) != 0) {
                snprintf(why, why_len, "cannot start the gateway's threads");
                gateway_stop(g);
                return -1;
        }
        g->wd_started = true;
        *ret_port = g->port;
        *ret = g;
        return 0;
}

void gateway_stop(gateway *g)
{
        if (!g)
                return;
        if (g->d)
                MHD_quiesce_daemon(g->d); /* no new connections */
        pthread_mutex_lock(&g->mu);
        g->stopping = true;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        /* Requests waiting or running are answered 503 now (a function still running finishes
         * in its worker; its answer is dropped). */
        for (;;) {
                job *j = NULL;
                pthread_mutex_lock(&g->mu);
                for (job *k = g->flight; k && !j; k = k->fnext)
                        if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) != J_ANSWERED) {
                                j = k;
                                j->refs++;
                        }
                pthread_mutex_unlock(&g->mu);
                if (!j)
                        break;
                gwd_resp w = { 0 };
                gwd_resp_message(&w, 503, "Service Unavailable");
                if (!job_answer(j, &w, -1))
                        gwd_resp_done(&w);
                job_unref(g, j);
        }
        if (g->wd_started)
                pthread_join(g->wd, NULL);
        for (unsigned i = 0; i < g->n_threads; i++)
                pthread_join(g->threads[i], NULL);
        /* resumed connections get their answers out as the daemon stops */
        if (g->d)
                MHD_stop_daemon(g->d);
        for (size_t i = 0; i < ARRAY_SIZE(g->buckets); i++)
                for (bucket_ent *e = g->buckets[i], *n; e; e = n) {
                        n = e->next;
                        free(e->key);
                        free(e);
                }
        for (logfile *f = g->logs, *n; f; f = n) {
                n = f->next;
                if (f->fd >= 0)
                        close(f->fd);
                free(f->path);
                free(f);
        }
        gwd_upstreams_free(g->ups);
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->cmu);
        pthread_mutex_destroy(&g->bmu);
        pthread_mutex_destroy(&g->lmu);
        free(g->threads);
        free(g->store_dir);
        free(g->region);
        free(g->account);
        free(g);
}
