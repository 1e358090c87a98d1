/* SPDX-License-Identifier: Apache-2.0 */
/* The client of tools/bench-queue: drives an SQS server over the query protocol (form POST,
 * XML answers, which husk and the peer emulators all serve), on keep-alive connections, without
 * signatures (servers run without auth for the benchmark). Modes:
 *   queue-load latency HOST:PORT QUEUE N
 *       one receiver long-polls (WaitTimeSeconds=20) while the sender sends one message at a
 *       time; prints, per message, microseconds from the start of SendMessage to the receive
 *       answer that carries it (then deletes it), one per line.
 *   queue-load cycle HOST:PORT QUEUE THREADS MESSAGES
 *       THREADS workers, each: SendMessageBatch of 10, ReceiveMessage of up to 10,
 *       DeleteMessageBatch of what came, until MESSAGES messages in all were deleted; prints
 *       "messages SECONDS msgs_per_s" on one line.
 *   queue-load floor DB_PATH MESSAGES BATCH
 *       the floor: a plain SQLite insert loop (WAL, synchronous=FULL), BATCH rows per commit;
 *       prints "messages SECONDS msgs_per_s".
 * The queue is created (CreateQueue) by the client before it starts. Exit 1 on any non-200. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in addr;
static char host[64];
static const char *qname;
static char qurl_enc[1024]; /* "&QueueUrl=..." as CreateQueue answered, form-encoded */

static long long now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
        fprintf(stderr, "queue-load: %s\n", what);
        exit(1);
}

static int dial(void)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                die("connect");
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return s;
}

typedef struct conn {
        int fd;
        char *buf; /* response buffer */
        size_t cap, have;
} conn;

static void writeall(int fd, const char *p, size_t n)
{
        while (n) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        die("write");
                p += w;
                n -= (size_t)w;
        }
}

static void fill(conn *c)
{
        if (c->cap - c->have < 65536) {
                c->cap = c->cap ? c->cap * 2 : 262144;
                c->buf = realloc(c->buf, c->cap + 1);
                if (!c->buf)
                        die("out of memory");
        }
        ssize_t r = read(c->fd, c->buf + c->have, c->cap - c->have);
        if (r <= 0)
                die("server closed the connection");
        c->have += (size_t)r;
        c->buf[c->have] = '\0';
}

/* Sends a form POST to the queue's path; returns the body (in c->buf, NUL-terminated). */
static char *post(conn *c, const char *form)
{
        char head[512];
        int hl = snprintf(head, sizeof(head),
                          "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: "
                          "application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
                          "/", host, strlen(form) + strlen(qurl_enc));
        writeall(c->fd, head, (size_t)hl);
        writeall(c->fd, form, strlen(form));
        writeall(c->fd, qurl_enc, strlen(qurl_enc));
        c->have = 0;
        char *end;
        for (;;) {
                fill(c);
                if ((end = strstr(c->buf, "\r\n\r\n")))
                        break;
        }
        int status = atoi(c->buf + 9);
        size_t hdr = (size_t)(end + 4 - c->buf);
        char *cl = strcasestr(c->buf, "\r\ncontent-length:");
        char *body;
        if (cl && cl < end) {
                size_t len = strtoul(cl + 17, NULL, 10);
                while (c->have < hdr + len)
                        fill(c);
                body = c->buf + hdr;
                body[len] = '\0';
        } else { /* chunked */
                size_t at = hdr, out = hdr;
                for (;;) {
                        char *nl;
                        while (!(nl = strstr(c->buf + at, "\r\n")))
                                fill(c);
                        size_t n = strtoul(c->buf + at, NULL, 16);
                        size_t data = (size_t)(nl + 2 - c->buf);
                        while (c->have < data + n + 2)
                                fill(c);
                        memmove(c->buf + out, c->buf + data, n);
                        out += n;
                        at = data + n + 2;
                        if (n == 0)
                                break;
                }
                body = c->buf + hdr;
                c->buf[out] = '\0';
        }
        if (status != 200) {
                fprintf(stderr, "queue-load: HTTP %d: %s\n", status, body);
                exit(1);
        }
        return body;
}

/* Appends s to o, form-encoded. */
static void enc(char **o, size_t *n, const char *s, size_t len)
{
        static const char hex[] = "0123456789ABCDEF";
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)s[i];
                if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '.' || ch == '_' || ch == '~') {
                        (*o)[(*n)++] = (char)ch;
                } else {
                        (*o)[(*n)++] = '%';
                        (*o)[(*n)++] = hex[ch >> 4];
                        (*o)[(*n)++] = hex[ch & 15];
                }
        }
        (*o)[*n] = '\0';
}

/* Receipt handles in an XML answer, unescaped; returns how many (at most max). */
static int receipts(const char *body, char out[][1024], int max)
{
        int k = 0;
        const char *p = body;
        while (k < max && (p = strstr(p, "<ReceiptHandle>"))) {
                p += 15;
                const char *e = strstr(p, "</ReceiptHandle>");
                if (!e || e - p >= 1000)
                        die("bad ReceiptHandle");
                size_t n = 0;
                for (const char *q = p; q < e; q++) {
                        if (*q == '&') {
                                static const struct { const char *e; char c; } ent[] = {
                                        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
                                        { "&quot;", '"' }, { "&apos;", '\'' } };
                                size_t j;
                                for (j = 0; j < 5; j++)
                                        if (strncmp(q, ent[j].e, strlen(ent[j].e)) == 0)
                                                break;
                                if (j == 5)
                                        die("unknown XML entity");
                                out[k][n++] = ent[j].c;
                                q += strlen(ent[j].e) - 1;
                        } else {
                                out[k][n++] = *q;
                        }
                }
                out[k][n] = '\0';
                k++;
                p = e;
        }
        return k;
}

static void create_queue(void)
{
        conn c = { .fd = dial() };
        char form[512];
        snprintf(form, sizeof(form), "Action=CreateQueue&QueueName=%s&Version=2012-11-05", qname);
        char *body = post(&c, form);
        char *u = strstr(body, "<QueueUrl>"), *e = u ? strstr(u, "</QueueUrl>") : NULL;
        if (!e || e - u > 500)
                die("CreateQueue answered no QueueUrl");
        char *o = qurl_enc;
        size_t n = (size_t)snprintf(qurl_enc, sizeof(qurl_enc), "&QueueUrl=");
        enc(&o, &n, u + 10, (size_t)(e - u - 10));
        close(c.fd);
        free(c.buf);
}

static void delete_batch(conn *c, char rh[][1024], int k)
{
        size_t cap = 256 + (size_t)k * 3200, n = 0;
        char *f = malloc(cap);
        n = (size_t)snprintf(f, cap, "Action=DeleteMessageBatch&Version=2012-11-05");
        for (int i = 0; i < k; i++) {
                n += (size_t)snprintf(f + n, cap - n,
                                      "&DeleteMessageBatchRequestEntry.%d.Id=m%d"
                                      "&DeleteMessageBatchRequestEntry.%d.ReceiptHandle=",
                                      i + 1, i, i + 1);
                enc(&f, &n, rh[i], strlen(rh[i]));
        }
        char *body = post(c, f);
        if (strstr(body, "<BatchResultErrorEntry>"))
                die("DeleteMessageBatch reported a failed entry");
        free(f);
}

/* ---- latency ---- */
static volatile int lat_stop;
static long long lat_sent_at;
static long long *lat_out;
static int lat_got;
static pthread_mutex_t lat_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lat_cv = PTHREAD_COND_INITIALIZER;

static void *lat_receiver(void *arg)
{
        int n = *(int *)arg;
        conn c = { .fd = dial() };
        char (*rh)[1024] = malloc(10 * 1024);
        while (lat_got < n) {
                char *body = post(&c, "Action=ReceiveMessage&Version=2012-11-05&WaitTimeSeconds=20&"
                                      "MaxNumberOfMessages=1");
                int k = receipts(body, rh, 10);
                if (k == 0)
                        continue;
                long long t = now_us();
                pthread_mutex_lock(&lat_mu);
                lat_out[lat_got++] = t - lat_sent_at;
                pthread_cond_signal(&lat_cv);
                pthread_mutex_unlock(&lat_mu);
                delete_batch(&c, rh, k);
        }
        free(rh);
        close(c.fd);
        return NULL;
}

static int latency(int n)
{
        lat_out = calloc((size_t)n, sizeof(*lat_out));
        pthread_t t;
        pthread_create(&t, NULL, lat_receiver, &n);
        conn c = { .fd = dial() };
        usleep(200000); /* the receiver is waiting */
        for (int i = 0; i < n; i++) {
                pthread_mutex_lock(&lat_mu);
                int want = lat_got + 1;
                lat_sent_at = now_us();
                pthread_mutex_unlock(&lat_mu);
                post(&c, "Action=SendMessage&Version=2012-11-05&MessageBody=ping");
                pthread_mutex_lock(&lat_mu);
                while (lat_got < want)
                        pthread_cond_wait(&lat_cv, &lat_mu);
                pthread_mutex_unlock(&lat_mu);
                usleep(2000); /* let the receiver's delete and next long poll start */
        }
        pthread_join(t, NULL);
        for (int i = 0; i < n; i++)
                printf("%lld\n", lat_out[i]);
        return 0;
}

/* ---- cycle ---- */
static long total_target;
static long deleted_total;
static pthread_mutex_t cyc_mu = PTHREAD_MUTEX_INITIALIZER;

static void *cycle_worker(void *arg)
{
        (void)arg;
        conn c = { .fd = dial() };
        char (*rh)[1024] = malloc(10 * 1024);
        char form[4096];
        for (;;) {
                pthread_mutex_lock(&cyc_mu);
                int done = deleted_total >= total_target;
                pthread_mutex_unlock(&cyc_mu);
                if (done)
                        break;
                size_t n = (size_t)snprintf(form, sizeof(form), "Action=SendMessageBatch&Version=2012-11-05");
                for (int i = 1; i <= 10; i++)
                        n += (size_t)snprintf(form + n, sizeof(form) - n,
                                              "&SendMessageBatchRequestEntry.%d.Id=e%d"
                                              "&SendMessageBatchRequestEntry.%d.MessageBody=message-%d-of-the-benchmark",
                                              i, i, i, i);
                char *body = post(&c, form);
                if (strstr(body, "<BatchResultErrorEntry>"))
                        die("SendMessageBatch reported a failed entry");
                body = post(&c, "Action=ReceiveMessage&Version=2012-11-05&MaxNumberOfMessages=10&"
                                "WaitTimeSeconds=1");
                int k = receipts(body, rh, 10);
                if (k) {
                        delete_batch(&c, rh, k);
                        pthread_mutex_lock(&cyc_mu);
                        deleted_total += k;
                        pthread_mutex_unlock(&cyc_mu);
                }
        }
        free(rh);
        close(c.fd);
        return NULL;
}

static int cycle(int threads, long messages)
{
        total_target = messages;
        pthread_t t[64];
        long long t0 = now_us();
        for (int i = 0; i < threads; i++)
                pthread_create(&t[i], NULL, cycle_worker, NULL);
        for (int i = 0; i < threads; i++)
                pthread_join(t[i], NULL);
        double s = (double)(now_us() - t0) / 1e6;
        printf("%ld %.3f %.0f\n", deleted_total, s, (double)deleted_total / s);
        return 0;
}

/* ---- floor ---- */
static int floor_loop(const char *path, long messages, int batch)
{
        sqlite3 *db;
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                             "CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, body TEXT)",
                         NULL, NULL, NULL) != SQLITE_OK)
                die("sqlite open");
        sqlite3_stmt *ins;
        sqlite3_prepare_v2(db, "INSERT INTO m (body) VALUES (?)", -1, &ins, NULL);
        long long t0 = now_us();
        for (long i = 0; i < messages; i += batch) {
                sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
                for (int j = 0; j < batch; j++) {
                        sqlite3_bind_text(ins, 1, "message-of-the-benchmark", -1, SQLITE_STATIC);
                        sqlite3_step(ins);
                        sqlite3_reset(ins);
                }
                if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                        die("sqlite commit");
        }
        double s = (double)(now_us() - t0) / 1e6;
        sqlite3_finalize(ins);
        sqlite3_close(db);
        printf("%ld %.3f %.0f\n", messages, s, (double)messages / s);
        return 0;
}

static void usage(void)
{
        fprintf(stderr, "usage: queue-load latency HOST:PORT QUEUE N\n"
                        "       queue-load cycle HOST:PORT QUEUE THREADS MESSAGES\n"
                        "       queue-load floor DB MESSAGES BATCH\n");
        exit(2);
}

int main(int argc, char **argv)
{
        if (argc < 2)
                usage();
        if (strcmp(argv[1], "floor") == 0) {
                if (argc != 5)
                        usage();
                return floor_loop(argv[2], atol(argv[3]), atoi(argv[4]) > 0 ? atoi(argv[4]) : 1);
        }
        if (argc < 5)
                usage();
        snprintf(host, sizeof(host), "%s", argv[2]);
        char *colon = strrchr(host, ':');
        if (!colon)
                usage();
        *colon = '\0';
        addr.sin_family = AF_INET;
        addr.sin_port = htons((unsigned short)atoi(colon + 1));
        if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
                usage();
        /* Host: localhost:PORT, so the queue URLs servers build match sqslite's own pattern. */
        snprintf(host, sizeof(host), "localhost:%s", colon + 1);
        qname = argv[3];
        create_queue();
        if (strcmp(argv[1], "latency") == 0)
                return latency(atoi(argv[4]));
        if (strcmp(argv[1], "cycle") == 0 && argc == 6) {
                int th = atoi(argv[4]);
                if (th < 1 || th > 64)
                        usage();
                return cycle(th, atol(argv[5]));
        }
        usage();
        return 2;
}
