/* SPDX-License-Identifier: Apache-2.0 */
/* A Lambda custom-runtime bootstrap for husk's function tests, speaking the Runtime API
 * (2018-06-01) over plain HTTP/1.1 at $AWS_LAMBDA_RUNTIME_API. Static: it runs in the busybox
 * image. The behaviour follows $_HANDLER (the function's --handler):
 *   echo       answers the event unchanged (and prints it, for the log)
 *   env        answers {"name","memory","version","handler","api","task_root","log_group","tz"}
 *   sleep      sleeps the event's "ms" (default 10000) then answers {"slept":MS}
 *   error      reports an error through /error (errorType "Boom")
 *   crash      dies of SIGSEGV on the first invocation
 *   exit       exits with status 3 on the first invocation
 *   oom        touches memory until the cgroup limit ends it
 *   slowinit   sleeps $SLOW_INIT_MS (default 15000) before its first /next
 *   initerror  reports /init/error and exits 1
 *   net        tries a TCP connect to 1.1.1.1:80 and answers {"connect":"ERRNO NAME"}
 *   forkbomb   forks without end (every child forks too; a failed fork retries after 10 ms)
 *   spam       writes the event's "bytes" (default 50 MiB) of output at once, answers {"wrote":N}
 *   rapislow   opens one more Runtime API connection and trickles a request into it, a byte
 *              every 100 ms for the event's "ms" (default 8000); answers {"closed_after_ms":N}
 *              (-1: the server never closed it)
 *   rapiconns  opens 12 more Runtime API connections, sends a request on each and answers
 *              {"answered":N}: how many got an answer
 *   probe      answers {"exe","cwd","tmp_mb","marker","ctx"}: its own executable, its working
 *              folder, the size of /tmp in MB, the first line of /var/task/marker.txt, and the
 *              invocation's Lambda-Runtime-Client-Context header (the Lambda API's tests)
 *   sqs        an SQS batch of an event source mapping (issue 14): prints "sqs-batch N" and, for
 *              each record in order, "sqs-ok MESSAGEID GROUP BODY" (its record of a processed
 *              message) or "sqs-fail MESSAGEID GROUP BODY"; answers {"batchItemFailures":[...]}.
 *              A body containing "boom" fails the whole invocation (/error). A body containing
 *              "fail" fails while its ApproximateReceiveCount is at most the number after
 *              "fail" (none: always). In a FIFO batch the items after a failed one of the same
 *              message group fail too (not processed), as Lambda asks of FIFO handlers. A body
 *              containing "slow" takes 200 ms. Last, "sqs-span START_US END_US" (realtime).
 *   sqsnoop    answers {} (throughput of a mapping)
 *   sqslat     prints "sqs-lat-us N" for each record: the realtime microseconds now minus the
 *              number the body holds (a sender's clock), answers {}
 *   sqsput     sends the event as a message to the queue $RESULT_QUEUE through the server's
 *              front door ($AWS_ENDPOINT_URL, SQS JSON signed with $AWS_ACCESS_KEY_ID), tries
 *              one unsigned request and a connect to 127.0.0.1:$PROBE_PORT; answers the
 *              statuses (see sqsput below)
 *   endpointconns  opens 24 connections to the front door inside (127.0.0.1:9000) at once,
 *              sends a request on each and answers {"answered":N} */
#include "util/sha256.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in api;
static int conn = -1;
static char client_context[4096]; /* of the current invocation */

static void die(const char *what)
{
        fprintf(stderr, "bootstrap: %s: %s\n", what, strerror(errno));
        exit(2);
}

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* As HTTP clients of real runtimes do: a refused connect (the Runtime API allows a worker few
 * connections, and a closed one may still count for a moment) is tried again for a while. */
static void connect_api(void)
{
        if (conn >= 0)
                return;
        for (int i = 0;; i++) {
                conn = socket(AF_INET, SOCK_STREAM, 0);
                if (conn >= 0 && connect(conn, (struct sockaddr *)&api, sizeof(api)) == 0)
                        return;
                if (conn >= 0)
                        close(conn);
                conn = -1;
                if (i == 40)
                        die("connect to the Runtime API");
                sleep_ms(50);
        }
}

static void send_all(const char *p, size_t n)
{
        while (n) {
                ssize_t k = write(conn, p, n);
                if (k <= 0)
                        die("write");
                p += k;
                n -= (size_t)k;
        }
}

/* One request; returns the body (malloc'd) and fills the request id header when asked. */
static char *request(const char *method, const char *path, const char *body, const char *extra,
                     int *status, char *req_id, size_t *ret_len)
{
        connect_api();
        if (req_id)
                client_context[0] = '\0';
        char head[1024];
        size_t blen = body ? strlen(body) : 0;
        int n = snprintf(head, sizeof(head),
                         "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n%s\r\n", method,
                         path, getenv("AWS_LAMBDA_RUNTIME_API"), blen, extra ? extra : "");
        /* One write: a head and a body in two segments would wait on Nagle + delayed ACK. */
        char *msg = malloc((size_t)n + blen);
        if (!msg)
                exit(2);
        memcpy(msg, head, (size_t)n);
        if (blen)
                memcpy(msg + n, body, blen);
        send_all(msg, (size_t)n + blen);
        free(msg);
        size_t cap = 8192, len = 0;
        char *buf = malloc(cap + 1);
        char *end = NULL;
        static int retrying; /* a GET is idempotent: once more on a new connection */
        while (!end) {
                if (len == cap)
                        buf = realloc(buf, (cap *= 2) + 1);
                ssize_t k = read(conn, buf + len, cap - len);
                if (k == 0 && len == 0 && !retrying && strcmp(method, "GET") == 0) {
                        /* The server closed the kept-alive connection before this request. */
                        close(conn);
                        conn = -1;
                        free(buf);
                        retrying = 1;
                        char *r = request(method, path, body, extra, status, req_id, ret_len);
                        retrying = 0;
                        return r;
                }
                if (k <= 0)
                        die("read the answer");
                len += (size_t)k;
                buf[len] = '\0';
                end = strstr(buf, "\r\n\r\n");
        }
        *end = '\0';
        size_t hlen = (size_t)(end - buf) + 4;
        sscanf(buf, "HTTP/1.%*c %d", status);
        size_t clen = 0;
        for (char *l = strstr(buf, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
                if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
                        clen = strtoul(l + 17, NULL, 10);
                if (req_id && strncasecmp(l + 2, "Lambda-Runtime-Aws-Request-Id:", 30) == 0)
                        sscanf(l + 32, "%36s", req_id);
                if (req_id && strncasecmp(l + 2, "Lambda-Runtime-Client-Context:", 30) == 0) {
                        const char *v = l + 32, *e;
                        while (*v == ' ')
                                v++;
                        e = strstr(v, "\r\n");
                        size_t n = e ? (size_t)(e - v) : strlen(v);
                        if (n >= sizeof(client_context))
                                n = sizeof(client_context) - 1;
                        memcpy(client_context, v, n);
                        client_context[n] = '\0';
                }
        }
        char *out = malloc(clen + 1);
        size_t have = len - hlen < clen ? len - hlen : clen;
        memcpy(out, buf + hlen, have);
        while (have < clen) {
                ssize_t k = read(conn, out + have, clen - have);
                if (k <= 0)
                        die("read the body");
                have += (size_t)k;
        }
        out[clen] = '\0';
        free(buf);
        if (ret_len)
                *ret_len = clen;
        return out;
}

static void post(const char *path, const char *body, const char *extra)
{
        int st = 0;
        free(request("POST", path, body, extra, &st, NULL, NULL));
        if (st != 202)
                fprintf(stderr, "bootstrap: POST %s: HTTP %d\n", path, st);
}

static const char *env_or(const char *k, const char *d)
{
        const char *v = getenv(k);
        return v ? v : d;
}

static long num_field(const char *ev, const char *key, long def)
{
        const char *m = strstr(ev, key);
        if (m && (m = strchr(m, ':')))
                return strtol(m + 1, NULL, 10);
        return def;
}

/* ---- sqsput: a signed SQS JSON client of the server's front door ($AWS_ENDPOINT_URL) ----
 * SHA-256 is husk's freestanding one (src/libhusk/util/sha256.c) and HMAC (RFC 2104) is written
 * out here: the bootstrap stays static without libcrypto. */
static void sha256(const void *data, size_t len, uint8_t out[32])
{
        sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, data, len);
        sha256_final(&c, out);
}

static void hmac256(const void *key, size_t klen, const char *msg, uint8_t out[32])
{
        uint8_t k[64] = { 0 }, inner[32];
        if (klen > 64) {
                sha256(key, klen, k);
        } else {
                memcpy(k, key, klen);
        }
        size_t mlen = strlen(msg);
        uint8_t *b = malloc(64 + (mlen > 32 ? mlen : 32));
        if (!b)
                exit(2);
        for (int i = 0; i < 64; i++)
                b[i] = k[i] ^ 0x36;
        memcpy(b + 64, msg, mlen);
        sha256(b, 64 + mlen, inner);
        for (int i = 0; i < 64; i++)
                b[i] = k[i] ^ 0x5c;
        memcpy(b + 64, inner, 32);
        sha256(b, 64 + 32, out);
        free(b);
}

static void hex32(const uint8_t in[32], char out[65])
{
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* One request on a new connection to $AWS_ENDPOINT_URL (http://ADDR:PORT): method and path
 * (no query), for the SigV4 service `service`, with X-Amz-Target when target is not NULL (an
 * SQS JSON action), signed with $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY for $AWS_REGION unless
 * !sign. Returns the answer's body (malloc'd), *status its HTTP status (-1: no connection). */
static char *aws_call(const char *method, const char *path, const char *service,
                      const char *target, const char *body, int sign, int *status)
{
        const char *url = env_or("AWS_ENDPOINT_URL", ""), *region = env_or("AWS_REGION", "");
        const char *ctype = target ? "application/x-amz-json-1.0" : "application/json";
        char addr[64];
        int port = 0;
        *status = -1;
        if (sscanf(url, "http://%63[^:]:%d", addr, &port) != 2)
                return strdup("no AWS_ENDPOINT_URL");
        char hostport[80], date[17], day[9], th[128] = "", tl[128] = "";
        snprintf(hostport, sizeof(hostport), "%s:%d", addr, port);
        if (target) {
                snprintf(th, sizeof(th), "X-Amz-Target: %s\r\n", target);
                snprintf(tl, sizeof(tl), "x-amz-target:%s\n", target);
        }
        const char *signed_h = target ? "content-type;host;x-amz-date;x-amz-target"
                                      : "content-type;host;x-amz-date";
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
        memcpy(day, date, 8);
        day[8] = '\0';
        char auth[512] = "";
        if (sign) {
                uint8_t d[32], k[32];
                char bh[65], ch[65], sig[65];
                sha256(body, strlen(body), d);
                hex32(d, bh);
                char *creq = NULL, *sts = NULL, *secret = NULL;
                if (asprintf(&creq, "%s\n%s\n\ncontent-type:%s\nhost:%s\nx-amz-date:%s\n%s\n"
                                    "%s\n%s", method, path, ctype, hostport, date, tl, signed_h,
                             bh) < 0)
                        exit(2);
                sha256(creq, strlen(creq), d);
                hex32(d, ch);
                if (asprintf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", date, day,
                             region, service, ch) < 0 ||
                    asprintf(&secret, "AWS4%s", env_or("AWS_SECRET_ACCESS_KEY", "")) < 0)
                        exit(2);
                hmac256(secret, strlen(secret), day, k);
                hmac256(k, 32, region, k);
                hmac256(k, 32, service, k);
                hmac256(k, 32, "aws4_request", k);
                hmac256(k, 32, sts, d);
                hex32(d, sig);
                snprintf(auth, sizeof(auth), "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/"
                         "%s/aws4_request, SignedHeaders=%s, Signature=%s\r\n",
                         env_or("AWS_ACCESS_KEY_ID", ""), day, region, service, signed_h, sig);
                free(creq);
                free(sts);
                free(secret);
        }
        char *msg = NULL;
        int n = asprintf(&msg, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
                               "X-Amz-Date: %s\r\n%s%sContent-Length: %zu\r\nConnection: close"
                               "\r\n\r\n%s", method, path, hostport, ctype, date, th, auth,
                         strlen(body), body);
        if (n < 0)
                exit(2);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
        inet_pton(AF_INET, addr, &sa.sin_addr);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                char *e = strdup(strerror(errno));
                if (s >= 0)
                        close(s);
                free(msg);
                return e;
        }
        for (size_t off = 0; off < (size_t)n;) {
                ssize_t k = write(s, msg + off, (size_t)n - off);
                if (k <= 0)
                        break;
                off += (size_t)k;
        }
        free(msg);
        size_t cap = 8192, len = 0;
        char *buf = malloc(cap + 1);
        for (;;) {
                if (len == cap)
                        buf = realloc(buf, (cap *= 2) + 1);
                ssize_t k = read(s, buf + len, cap - len);
                if (k <= 0)
                        break;
                len += (size_t)k;
        }
        close(s);
        buf[len] = '\0';
        sscanf(buf, "HTTP/1.%*c %d", status);
        char *b = strstr(buf, "\r\n\r\n");
        char *out = strdup(b ? b + 4 : "");
        free(buf);
        return out;
}

/* An SQS JSON action (AmazonSQS.ACTION) through aws_call. */
static char *sqs_call(const char *action, const char *body, int sign, int *status)
{
        char target[96];
        snprintf(target, sizeof(target), "AmazonSQS.%s", action);
        return aws_call("POST", "/", "sqs", target, body, sign, status);
}

/* s as the inside of a JSON string (quotes, backslashes and control characters escaped). */
static char *json_esc(const char *s)
{
        char *out = malloc(6 * strlen(s) + 1), *o = out;
        if (!out)
                exit(2);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        *o++ = '\\';
                        *o++ = (char)*p;
                } else if (*p < 0x20) {
                        o += sprintf(o, "\\u%04x", *p);
                } else {
                        *o++ = (char)*p;
                }
        }
        *o = '\0';
        return out;
}

/* The value of "key":"..." in a JSON text (no escapes in it), malloc'd; "" when absent. */
static char *json_str(const char *text, const char *key)
{
        char pat[64];
        snprintf(pat, sizeof(pat), "\"%s\":\"", key);
        const char *p = strstr(text, pat);
        if (!p)
                return strdup("");
        p += strlen(pat);
        const char *e = strchr(p, '"');
        return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

/* endpointconns: opens 24 connections to 127.0.0.1:9000 at once and sends an unsigned SQS
 * query request on each; answers {"answered":N}: how many got an answer. */
static char *endpointconns(void)
{
        enum { N = 24 };
        int s[N], answered = 0;
        static const char req[] = "GET /?Action=ListQueues HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n";
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9000) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (int i = 0; i < N; i++) {
                s[i] = socket(AF_INET, SOCK_STREAM, 0);
                if (connect(s[i], (struct sockaddr *)&a, sizeof(a)) == 0)
                        (void)send(s[i], req, sizeof(req) - 1, MSG_NOSIGNAL);
        }
        for (int i = 0; i < N; i++) {
                struct pollfd p = { .fd = s[i], .events = POLLIN };
                char buf[512];
                if (poll(&p, 1, 2000) == 1 && recv(s[i], buf, sizeof(buf), 0) > 0)
                        answered++;
        }
        for (int i = 0; i < N; i++)
                close(s[i]);
        char *out = NULL;
        if (asprintf(&out, "{\"answered\":%d}", answered) < 0)
                exit(2);
        return out;
}

/* sqsput: the event goes to the queue $RESULT_QUEUE as a message (GetQueueUrl, then
 * SendMessage to the URL the server gave); also an unsigned GetQueueUrl and a connect to
 * 127.0.0.1:$PROBE_PORT (a port the test listens on, outside). Answers
 * {"url":URL,"url_status":N,"send_status":N,"unsigned_status":N,"probe":"ERRNO NAME"|"ok"}. */
static char *sqsput(const char *ev)
{
        char *q = json_esc(env_or("RESULT_QUEUE", "results")), *req = NULL, *out = NULL;
        int ust = 0, sst = 0, nst = 0;
        if (asprintf(&req, "{\"QueueName\":\"%s\"}", q) < 0)
                exit(2);
        char *ans = sqs_call("GetQueueUrl", req, 1, &ust);
        char *url = json_str(ans, "QueueUrl");
        free(ans);
        char *unsigned_ans = sqs_call("GetQueueUrl", req, 0, &nst);
        free(unsigned_ans);
        free(req);
        char *body = json_esc(ev), *uq = json_esc(url);
        if (asprintf(&req, "{\"QueueUrl\":\"%s\",\"MessageBody\":\"%s\"}", uq, body) < 0)
                exit(2);
        ans = sqs_call("SendMessage", req, 1, &sst);
        if (sst != 200)
                fprintf(stderr, "bootstrap: SendMessage: HTTP %d: %s\n", sst, ans);
        free(ans);
        free(req);
        free(body);
        const char *probe = "none";
        int port = atoi(env_or("PROBE_PORT", "0"));
        if (port > 0) {
                int s = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                probe = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 ? "ok" : strerror(errno);
                close(s);
        }
        /* The control planes, signed as well: a function may not use them (403). */
        int cst = 0, ast = 0, hst = 0;
        free(aws_call("POST", "/2015-03-31/functions", "lambda", NULL,
                      "{\"FunctionName\":\"evil\",\"PackageType\":\"Image\",\"Role\":"
                      "\"arn:aws:iam::000000000000:role/r\",\"Code\":{\"ImageUri\":\"/etc/passwd\"}}",
                      1, &cst));
        free(aws_call("GET", "/v2/apis", "apigateway", NULL, "", 1, &ast));
        free(aws_call("GET", "/schedules", "scheduler", NULL, "", 1, &hst));
        if (asprintf(&out, "{\"url\":\"%s\",\"url_status\":%d,\"send_status\":%d,"
                           "\"unsigned_status\":%d,\"probe\":\"%s\",\"create_status\":%d,"
                           "\"apis_status\":%d,\"schedules_status\":%d}",
                     uq, ust, sst, nst, probe, cst, ast, hst) < 0)
                exit(2);
        free(uq);
        free(url);
        free(q);
        return out;
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int api_socket(void)
{
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&api, sizeof(api)) < 0)
                die("connect to the Runtime API");
        return s;
}

/* 1 when the peer closed s (EOF or an error), 0 when it is still open. */
static int peer_closed(int s)
{
        char c;
        ssize_t k = recv(s, &c, 1, MSG_DONTWAIT | MSG_PEEK);
        return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static char *rapislow(long ms)
{
        int s = api_socket();
        static const char head[] = "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        long t0 = now_ms(), closed = -1;
        if (send(s, head, sizeof(head) - 1, MSG_NOSIGNAL) < 0)
                closed = 0;
        while (closed < 0 && now_ms() - t0 < ms) {
                sleep_ms(100);
                if (peer_closed(s) || send(s, "a", 1, MSG_NOSIGNAL) < 0)
                        closed = now_ms() - t0;
        }
        close(s);
        char *out = NULL;
        if (asprintf(&out, "{\"closed_after_ms\":%ld}", closed) < 0)
                exit(2);
        return out;
}

static char *rapiconns(void)
{
        int s[12], answered = 0;
        static const char req[] = "GET /2018-06-01/runtime/nothing HTTP/1.1\r\nHost: x\r\n\r\n";
        for (int i = 0; i < 12; i++) {
                s[i] = api_socket();
                (void)send(s[i], req, sizeof(req) - 1, MSG_NOSIGNAL);
        }
        for (int i = 0; i < 12; i++) {
                struct pollfd p = { .fd = s[i], .events = POLLIN };
                char buf[512];
                if (poll(&p, 1, 1000) == 1 && recv(s[i], buf, sizeof(buf), 0) > 0)
                        answered++;
        }
        for (int i = 0; i < 12; i++)
                close(s[i]);
        char *out = NULL;
        if (asprintf(&out, "{\"answered\":%d}", answered) < 0)
                exit(2);
        return out;
}

/* The JSON string value of "key" inside [p, end), raw (escapes kept), into out. */
static int str_field(const char *p, const char *end, const char *key, char *out, size_t len)
{
        char pat[64];
        snprintf(pat, sizeof(pat), "\"%s\":\"", key);
        const char *m = strstr(p, pat);
        out[0] = '\0';
        if (!m || m >= end)
                return 0;
        m += strlen(pat);
        size_t n = 0;
        while (*m && *m != '"' && n + 2 < len) {
                if (*m == '\\' && m[1])
                        out[n++] = *m++;
                out[n++] = *m++;
        }
        out[n] = '\0';
        return 1;
}

static long realtime_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static char *sqs(const char *h, const char *ev)
{
        static const char rec[] = "{\"messageId\":\"";
        size_t cap = 64, len = 0;
        char *out = malloc(cap), failed_groups[64][130];
        int nfg = 0, n = 0, boom = 0;
        long t_us = realtime_us();
        strcpy(out, "{\"batchItemFailures\":[");
        len = strlen(out);
        for (const char *p = strstr(ev, rec); p; p = strstr(p + 1, rec))
                n++;
        if (strcmp(h, "sqs") == 0)
                printf("sqs-batch %d\n", n);
        for (const char *p = strstr(ev, rec); p;) {
                const char *next = strstr(p + 1, rec), *end = next ? next : p + strlen(p);
                static char body[300000];
                char id[64], group[130], cnt[16];
                str_field(p, end, "messageId", id, sizeof(id));
                str_field(p, end, "body", body, sizeof(body));
                if (!str_field(p, end, "MessageGroupId", group, sizeof(group)))
                        strcpy(group, "-");
                str_field(p, end, "ApproximateReceiveCount", cnt, sizeof(cnt));
                p = next;
                if (strcmp(h, "sqslat") == 0) {
                        printf("sqs-lat-us %ld\n", t_us - strtol(body, NULL, 10));
                        continue;
                }
                if (strcmp(h, "sqs") != 0)
                        continue;
                const char *f = strstr(body, "fail");
                int fail = 0;
                if (strstr(body, "boom"))
                        boom = 1;
                if (strstr(body, "slow"))
                        sleep_ms(200);
                if (f) {
                        char *e = NULL;
                        long upto = strtol(f + 4, &e, 10);
                        fail = e == f + 4 || atol(cnt) <= upto;
                }
                for (int i = 0; i < nfg && !fail; i++)
                        fail = strcmp(failed_groups[i], group) == 0;
                printf("sqs-%s %s %s %s\n", fail ? "fail" : "ok", id, group, body);
                if (!fail)
                        continue;
                if (strcmp(group, "-") != 0 && nfg < 64)
                        strcpy(failed_groups[nfg++], group);
                if (len + 128 > cap)
                        out = realloc(out, cap = 2 * cap + 128);
                len += (size_t)sprintf(out + len, "%s{\"itemIdentifier\":\"%s\"}",
                                       out[len - 1] == '[' ? "" : ",", id);
        }
        if (strcmp(h, "sqs") == 0)
                printf("sqs-span %ld %ld\n", t_us, realtime_us());
        fflush(stdout);
        if (boom) {
                free(out);
                return NULL;
        }
        if (strcmp(h, "sqs") != 0) {
                strcpy(out, "{}");
                return out;
        }
        out = realloc(out, len + 3);
        strcpy(out + len, "]}");
        return out;
}

static char *handle(const char *h, const char *ev)
{
        if (strcmp(h, "sqsput") == 0)
                return sqsput(ev);
        if (strcmp(h, "endpointconns") == 0)
                return endpointconns();
        if (strncmp(h, "sqs", 3) == 0)
                return sqs(h, ev);
        char *out = NULL;
        if (strcmp(h, "echo") == 0) {
                printf("echo: %s\n", ev);
                fflush(stdout);
                return strdup(ev);
        }
        if (strcmp(h, "env") == 0) {
                if (asprintf(&out, "{\"name\":\"%s\",\"memory\":\"%s\",\"version\":\"%s\","
                                   "\"handler\":\"%s\",\"api\":\"%s\",\"task_root\":\"%s\","
                                   "\"log_group\":\"%s\",\"tz\":\"%s\",\"custom\":\"%s\"}",
                             env_or("AWS_LAMBDA_FUNCTION_NAME", ""),
                             env_or("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ""),
                             env_or("AWS_LAMBDA_FUNCTION_VERSION", ""), env_or("_HANDLER", ""),
                             env_or("AWS_LAMBDA_RUNTIME_API", ""), env_or("LAMBDA_TASK_ROOT", ""),
                             env_or("AWS_LAMBDA_LOG_GROUP_NAME", ""), env_or("TZ", ""),
                             env_or("CUSTOM", "")) < 0)
                        exit(2);
                return out;
        }
        if (strcmp(h, "sleep") == 0) {
                const char *m = strstr(ev, "\"ms\"");
                long ms = 10000;
                if (m && (m = strchr(m, ':')))
                        ms = strtol(m + 1, NULL, 10);
                printf("sleeping %ld ms\n", ms);
                fflush(stdout);
                sleep_ms(ms);
                if (asprintf(&out, "{\"slept\":%ld}", ms) < 0)
                        exit(2);
                return out;
        }
        if (strcmp(h, "crash") == 0) {
                printf("crashing now\n");
                fflush(stdout);
                /* A real fault: raise() would be ignored, the bootstrap is its pid namespace's
                 * init (no handler installed); a fault is forced. */
                *(volatile int *)(uintptr_t)0 = 1;
        }
        if (strcmp(h, "exit") == 0)
                exit(3);
        if (strcmp(h, "oom") == 0) {
                for (;;) {
                        size_t n = 16u << 20;
                        char *p = malloc(n);
                        if (!p)
                                exit(4);
                        memset(p, 1, n);
                }
        }
        if (strcmp(h, "forkbomb") == 0) {
                printf("forking\n");
                fflush(stdout);
                for (;;)
                        if (fork() < 0)
                                sleep_ms(10);
        }
        if (strcmp(h, "spam") == 0) {
                long total = num_field(ev, "\"bytes\"", 50L << 20), done = 0;
                static char line[4096];
                memset(line, 'x', sizeof(line) - 1);
                line[sizeof(line) - 1] = '\n';
                while (done < total) {
                        size_t n = total - done < (long)sizeof(line) ? (size_t)(total - done)
                                                                     : sizeof(line);
                        if (write(1, line, n) < 0)
                                die("write");
                        done += (long)n;
                }
                if (asprintf(&out, "{\"wrote\":%ld}", done) < 0)
                        exit(2);
                return out;
        }
        if (strcmp(h, "rapislow") == 0)
                return rapislow(num_field(ev, "\"ms\"", 8000));
        if (strcmp(h, "rapiconns") == 0)
                return rapiconns();
        if (strcmp(h, "probe") == 0) {
                char exe[256] = "", cwd[256] = "", marker[256] = "";
                ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
                exe[n > 0 ? n : 0] = '\0';
                if (!getcwd(cwd, sizeof(cwd)))
                        cwd[0] = '\0';
                FILE *f = fopen("/var/task/marker.txt", "r");
                if (f) {
                        if (!fgets(marker, sizeof(marker), f))
                                marker[0] = '\0';
                        marker[strcspn(marker, "\n\"\\")] = '\0';
                        fclose(f);
                }
                struct statfs st;
                long tmp_mb = statfs("/tmp", &st) == 0 ? (long)(st.f_blocks * st.f_bsize >> 20) : -1;
                /* The context is JSON: as a string it needs its quotes escaped. */
                char ctx[2 * sizeof(client_context)], *o = ctx;
                for (const char *p = client_context; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                *o++ = '\\';
                        *o++ = *p;
                }
                *o = '\0';
                if (asprintf(&out, "{\"exe\":\"%s\",\"cwd\":\"%s\",\"tmp_mb\":%ld,\"marker\":\"%s\","
                                   "\"ctx\":\"%s\"}", exe, cwd, tmp_mb, marker, ctx) < 0)
                        exit(2);
                return out;
        }
        if (strcmp(h, "net") == 0) {
                int s = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
                inet_pton(AF_INET, "1.1.1.1", &a.sin_addr);
                int r = connect(s, (struct sockaddr *)&a, sizeof(a));
                if (asprintf(&out, "{\"connect\":\"%s\"}", r == 0 ? "ok" : strerror(errno)) < 0)
                        exit(2);
                return out;
        }
        return NULL; /* error */
}

int main(void)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        const char *a = getenv("AWS_LAMBDA_RUNTIME_API");
        const char *h = env_or("_HANDLER", "echo");
        if (!a)
                die("AWS_LAMBDA_RUNTIME_API is not set");
        char host[64];
        int port = 0;
        if (sscanf(a, "%63[^:]:%d", host, &port) != 2)
                die("AWS_LAMBDA_RUNTIME_API");
        api.sin_family = AF_INET;
        api.sin_port = htons((unsigned short)port);
        inet_pton(AF_INET, host, &api.sin_addr);
        if (strcmp(h, "slowinit") == 0)
                sleep_ms(strtol(env_or("SLOW_INIT_MS", "15000"), NULL, 10));
        if (strcmp(h, "initerror") == 0) {
                post("/2018-06-01/runtime/init/error",
                     "{\"errorMessage\":\"cannot start\",\"errorType\":\"Init.Boom\"}",
                     "Lambda-Runtime-Function-Error-Type: Init.Boom\r\n");
                exit(1);
        }
        for (;;) {
                int st = 0;
                char id[40] = "";
                size_t len = 0;
                char *ev = request("GET", "/2018-06-01/runtime/invocation/next", NULL, NULL, &st,
                                   id, &len);
                if (st != 200 || !id[0]) {
                        fprintf(stderr, "bootstrap: next: HTTP %d\n", st);
                        exit(2);
                }
                char *out = handle(h, ev);
                char path[128];
                if (out) {
                        snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/response", id);
                        post(path, out, NULL);
                } else {
                        snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/error", id);
                        post(path, "{\"errorMessage\":\"boom\",\"errorType\":\"Boom\"}",
                             "Lambda-Runtime-Function-Error-Type: Boom\r\n");
                }
                free(out);
                free(ev);
        }
}
