/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's internal header. event.c is pure (tests/unit/test_gateway.c reaches it): the
 * Lambda proxy events API Gateway builds (payload format 1.0 and 2.0), the mapping of a
 * function's answer back to HTTP, the upstream path of an HTTP_PROXY integration, CORS and
 * access-log lines. listen.c is the listener (libmicrohttpd, epoll, a worker pool); proxy.c the
 * HTTP/1.1 client of HTTP_PROXY integrations. */
#ifndef HUSK_GWD_H
#define HUSK_GWD_H

#include "gateway.h"
#include "gw/gw.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* API Gateway's bounds for HTTP APIs (its quotas page): */
#define GWD_BODY_MAX (10u << 20)    /* payload size: 10 MB (413 past it) */
#define GWD_HEADERS_MAX 10240       /* request line and header values together (431 past it) */
#define GWD_HEADER_COUNT_MAX 200    /* husk's: headers of one request (431) */
/* husk's bounds (the options of husk serve name them): */
#define GWD_WORKERS_DEFAULT 64      /* threads running integrations */
#define GWD_BACKLOG_DEFAULT 4096    /* requests waiting for a worker (503 past it) */
#define GWD_RECEIVE_MS 10000        /* a request's headers and body must arrive within this */
#define GWD_IDLE_S 60               /* a kept-alive connection idle longer is closed */
#define GWD_RESPONSE_MAX (10u << 20) /* an integration's answer (502 past it) */

typedef struct gwd_hdr {
        char *name, *value;
} gwd_hdr;
void gwd_hdrs_free(gwd_hdr *h, size_t n);
void gwd_hdr_add(gwd_hdr **h, size_t *n, const char *name, const char *value);
/* The first value of a header (case-insensitive name), NULL when absent. */
const char *gwd_hdr_get(const gwd_hdr *h, size_t n, const char *name);

/* One request as the listener received it. */
typedef struct gwd_req {
        const char *method;
        const char *raw_path; /* as sent, without the query */
        const char *path;     /* percent-decoded */
        const char *query;    /* as sent, without '?' ("" when none) */
        const gwd_hdr *headers;
        size_t n_headers;
        const char *body;
        size_t len;
        const char *source_ip;
        const char *protocol; /* "HTTP/1.1" */
        const char *request_id;
        uint64_t time_ms;     /* epoch milliseconds of its arrival */
} gwd_req;

/* What the selection decided (from gw_match). */
typedef struct gwd_ctx {
        const char *account, *region;
        const char *api_id;
        const char *stage;
        const char *route_key;
        const gw_kv *params;
        size_t n_params;
        char *const *stage_vars; /* key, value, ..., NULL-terminated, or NULL */
} gwd_ctx;

/* ---- event.c ---- */
/* The event of an AWS_PROXY integration, payload format "2.0" or "1.0". Allocated JSON. */
char *gwd_event_v2(const gwd_req *r, const gwd_ctx *c, size_t *ret_len);
char *gwd_event_v1(const gwd_req *r, const gwd_ctx *c, size_t *ret_len);

typedef struct gwd_resp {
        unsigned status;
        gwd_hdr *headers;
        size_t n_headers;
        char *body;
        size_t len;
} gwd_resp;
void gwd_resp_done(gwd_resp *w);
/* {"message":"MSG"} with status, as API Gateway's own answers. */
void gwd_resp_message(gwd_resp *w, unsigned status, const char *msg);
/* Maps a function's answer (its JSON result) as API Gateway does for payload v1 ("1.0") or
 * v2: 0 and w filled, or -1 when the answer is not a valid proxy response (the caller answers
 * 500 Internal Server Error). */
int gwd_map_response(const char *payload_version, const char *body, size_t len, gwd_resp *w);

/* The URL of an HTTP_PROXY integration for a request: uri's {name} variables replaced by the
 * path parameters (each segment percent-encoded again; the greedy {proxy} keeps its slashes) and
 * the request's query appended. Refuses (-EINVAL, why filled) a parameter with a "." or ".."
 * segment, an encoded slash or backslash, or a control character: a greedy path must not leave
 * the integration's URI prefix. Allocated into *ret. */
int gwd_proxy_url(const char *uri, const gw_kv *params, size_t n_params, const char *query,
                  char **ret, char *why, size_t why_len);
/* A raw request path (as sent) that is refused before any route is chosen: a "." or ".."
 * segment, plain or percent-encoded, or an encoded NUL. */
bool gwd_path_hostile(const char *raw_path);

/* The function an AWS_PROXY integration's uri names: its name or Lambda ARN (from API
 * Gateway's arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations form).
 * Allocated. */
char *gwd_function_of(const char *uri);

/* Splits "http://HOST[:PORT]/PATH?Q" into host, port (80 by default) and the rest ("/" at
 * least). -EINVAL for anything else (https is not served: the upstreams are local). */
int gwd_url_split(const char *url, char *host, size_t host_len, unsigned *port, char **rest);

/* CORS: the headers an answer carries for a request from origin (NULL: not a CORS request) and,
 * for a preflight, the requested method and headers. *preflight is set when the request is a
 * preflight API Gateway answers itself (OPTIONS with Origin and
 * Access-Control-Request-Method, and the API has a CORS configuration). */
void gwd_cors_headers(const gw_cors *cors, const char *method, const char *origin,
                      const char *req_method, const char *req_headers, bool *preflight,
                      gwd_hdr **h, size_t *n);

/* Access logs: the variables of one request, and the line a format makes of them. */
typedef struct gwd_logvars {
        const char *request_id, *api_id, *stage, *route_key, *method, *path, *protocol;
        const char *source_ip, *user_agent, *domain, *error_message, *integration_error;
        unsigned status, integration_status; /* 0: none ("-") */
        long response_latency, integration_latency; /* ms, -1: none */
        size_t response_length;
        uint64_t time_ms;
} gwd_logvars;
/* $context.NAME replaced (unknown ones by "-"), one line without its newline. Allocated. */
char *gwd_log_line(const char *format, const gwd_logvars *v);
/* "07/Dec/2026:17:40:28 +0000" (API Gateway's requestTime) */
void gwd_clf_time(uint64_t epoch_ms, char out[32]);

/* Percent-decoding of a path or query part ("+" kept); -EINVAL on a bad escape. */
int gwd_pct_decode(const char *s, size_t len, char **ret, size_t *ret_len);

/* ---- proxy.c ---- */
typedef struct gwd_upstreams gwd_upstreams;
gwd_upstreams *gwd_upstreams_new(unsigned per_host);
void gwd_upstreams_free(gwd_upstreams *u);
typedef enum gwd_proxy_status {
        GWD_PROXY_OK = 0,
        GWD_PROXY_TIMEOUT,  /* 504 */
        GWD_PROXY_CONNECT,  /* 503: refused, unreachable */
        GWD_PROXY_BAD,      /* 502: not an HTTP answer, or too large */
} gwd_proxy_status;
/* Sends the request to addr:port (method, path-and-query, headers, body) within timeout_ms and
 * reads the whole answer into w. Hop-by-hop headers are dropped both ways. */
gwd_proxy_status gwd_proxy_do(gwd_upstreams *u, const char *addr, unsigned port,
                              const char *method, const char *target, const gwd_hdr *h,
                              size_t n, const char *body, size_t len, unsigned timeout_ms,
                              gwd_resp *w);
bool gwd_hop_by_hop(const char *name);

#endif
