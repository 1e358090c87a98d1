/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: one signed HTTP/1.1 request to the front door, for husk's own commands. */
#include "client.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int dial(const char *endpoint)
{
        int s;
        if (endpoint[0] == '/') {
                struct sockaddr_un un = { .sun_family = AF_UNIX };
                if (strlen(endpoint) >= sizeof(un.sun_path))
                        return -ENAMETOOLONG;
                memcpy(un.sun_path, endpoint, strlen(endpoint));
                s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s < 0)
                        return -errno;
                if (connect(s, (struct sockaddr *)&un, sizeof(un)) < 0) {
                        int e = errno;
                        close(s);
                        return -e;
                }
                return s;
        }
        const char *colon = strrchr(endpoint, ':');
        uint32_t port;
        if (!colon || parse_uint32(colon + 1, &port) < 0 || port > 65535)
                return -EINVAL;
        _cleanup_free_ char *host = xstrndup(endpoint, (size_t)(colon - endpoint));
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
                return -EINVAL;
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                close(s);
                return -e;
        }
        return s;
}

static int cmp_kv(const void *a, const void *b)
{
        return strcasecmp(((const serve_kv *)a)->name, ((const serve_kv *)b)->name);
}

int serve_client_call(const serve_call *c, serve_answer *ret, char *why, size_t why_len)
{
        memset(ret, 0, sizeof(*ret));
        const char *host = c->endpoint[0] == '/' ? "localhost" : c->endpoint;
        char amz_date[17];
        serve_amz_date(time(NULL), amz_date);
        /* Every header that is sent is signed: Host, X-Amz-Date and the caller's. */
        size_t nh = c->n_headers + 2;
        serve_kv *h = xcalloc(nh, sizeof(*h));
        for (size_t i = 0; i < c->n_headers; i++)
                h[i] = c->headers[i];
        h[c->n_headers] = (serve_kv){ (char *)"Host", (char *)host };
        h[c->n_headers + 1] = (serve_kv){ (char *)"X-Amz-Date", amz_date };
        qsort(h, nh, sizeof(*h), cmp_kv);
        _cleanup_free_ char *authz = NULL;
        if (c->creds) {
                size_t cap = 1, at = 0;
                for (size_t i = 0; i < nh; i++)
                        cap += strlen(h[i].name) + 1;
                _cleanup_free_ char *signed_headers = xmalloc(cap);
                for (size_t i = 0; i < nh; i++) {
                        for (const char *p = h[i].name; *p; p++)
                                signed_headers[at++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
                        signed_headers[at++] = i + 1 < nh ? ';' : '\0';
                }
                /* a query string in the path is signed as the query, as the server reads it */
                const char *qm = strchr(c->path, '?');
                _cleanup_free_ char *pp = qm ? xstrndup(c->path, (size_t)(qm - c->path)) : NULL;
                serve_req r = { .method = c->method, .path = pp ? pp : c->path,
                                .raw_path = pp ? pp : c->path, .query = qm ? qm + 1 : "",
                                .headers = h, .n_headers = nh,
                                .body = c->body ? c->body : "", .len = c->len };
                authz = serve_sigv4_sign(&r, c->creds, c->region, c->service, amz_date,
                                         signed_headers);
                if (!authz) {
                        free(h);
                        snprintf(why, why_len, "cannot sign the request");
                        return -EINVAL;
                }
        }
        size_t hcap = 256 + (authz ? strlen(authz) : 0), hl = 0;
        for (size_t i = 0; i < nh; i++)
                hcap += strlen(h[i].name) + strlen(h[i].value) + 4;
        _cleanup_free_ char *req = xmalloc(hcap);
        hl = (size_t)snprintf(req, hcap, "%s %s HTTP/1.1\r\n", c->method, c->path);
        for (size_t i = 0; i < nh; i++)
                hl += (size_t)snprintf(req + hl, hcap - hl, "%s: %s\r\n", h[i].name, h[i].value);
        free(h);
        if (authz)
                hl += (size_t)snprintf(req + hl, hcap - hl, "Authorization: %s\r\n", authz);
        hl += (size_t)snprintf(req + hl, hcap - hl, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                               c->len);
        _cleanup_close_ int s = dial(c->endpoint);
        if (s < 0) {
                snprintf(why, why_len, "connect to %s: %s (is `husk serve` running?)", c->endpoint,
                         strerror(-s));
                return s;
        }
        if (write_all(s, req, hl) < 0 || (c->len && write_all(s, c->body, c->len) < 0)) {
                int e = errno;
                snprintf(why, why_len, "send to %s: %s", c->endpoint, strerror(e));
                return -e;
        }
        size_t cap = 65536, n = 0;
        char *resp = xmalloc(cap + 1);
        for (;;) {
                if (n == cap) {
                        if (cap >= SERVE_CLIENT_ANSWER_MAX) {
                                free(resp);
                                snprintf(why, why_len, "the answer of %s is larger than %u bytes",
                                         c->endpoint, SERVE_CLIENT_ANSWER_MAX);
                                return -E2BIG;
                        }
                        resp = xrealloc(resp, (cap *= 2) + 1);
                }
                ssize_t k = read(s, resp + n, cap - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        resp[n] = '\0';
        char *body = strstr(resp, "\r\n\r\n");
        if (!body || sscanf(resp, "HTTP/1.%*c %u", &ret->status) != 1) {
                free(resp);
                snprintf(why, why_len, "a malformed answer from %s", c->endpoint);
                return -EPROTO;
        }
        *body = '\0';
        body += 4;
        ret->len = n - (size_t)(body - resp);
        ret->body = xmalloc(ret->len + 1);
        memcpy(ret->body, body, ret->len);
        ret->body[ret->len] = '\0';
        ret->head = resp;
        return 0;
}

void serve_answer_free(serve_answer *a)
{
        free(a->head);
        free(a->body);
        memset(a, 0, sizeof(*a));
}
