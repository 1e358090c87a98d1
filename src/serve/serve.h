/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: the shapes shared by the front door's listener and its protocol adapters.
 *
 * The listener (src/fn/front.c) reads a whole request, checks its SigV4 signature (auth.h),
 * routes it by shape and hands it to one adapter as a serve_req; the adapter translates it into
 * typed calls of an engine (src/queue for SQS, src/fn for Lambda) and renders the answer, in its
 * protocol's shape, into a serve_resp. Adapters never see sockets or libmicrohttpd.
 *
 *   sqs_json.c   AWS JSON 1.0: POST /, X-Amz-Target: AmazonSQS.<Operation>, JSON body
 *   sqs_query.c  the query protocol: Action=<Operation> in a form body (POST) or the query string,
 *                XML answers (xmlns http://queue.amazonaws.com/doc/2012-11-05/)
 *   (src/fn/api.c) Lambda's control plane under /2015-03-31/ and friends */
#ifndef HUSK_SERVE_H
#define HUSK_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct serve_kv {
        char *name;
        char *value;
} serve_kv;

typedef struct serve_req {
        const char *method;   /* "GET", "POST", ... */
        const char *path;     /* percent-decoded path, without the query string */
        const char *raw_path; /* the path as sent */
        const char *query;    /* the raw query string without '?', "" when none */
        const serve_kv *headers; /* as received; look up with serve_req_header() */
        size_t n_headers;
        const char *body; /* NUL-terminated copy of the body (may hold NULs before len) */
        size_t len;
        const char *host;      /* the Host header ("127.0.0.1:9000"), "" when absent */
        const char *principal; /* the access key id that signed it; "anonymous" with --no-auth */
        const char *request_id; /* a fresh UUID for x-amzn-RequestId / RequestId */
} serve_req;

#define SERVE_RESP_HEADERS_MAX 16

typedef struct serve_resp {
        unsigned status; /* 0 until set */
        char *body;      /* malloc'd, owned */
        size_t len;
        serve_kv headers[SERVE_RESP_HEADERS_MAX]; /* owned copies */
        size_t n_headers;
} serve_resp;

/* Case-insensitive header lookup; NULL when absent. */
const char *serve_req_header(const serve_req *r, const char *name);
/* Sets status, Content-Type (when not NULL) and the body (taken: must be malloc'd, or NULL). */
void serve_resp_set(serve_resp *w, unsigned status, const char *content_type, char *body, size_t len);
/* Adds a header (copied); past SERVE_RESP_HEADERS_MAX it is dropped. */
void serve_resp_header(serve_resp *w, const char *name, const char *value);
void serve_resp_free(serve_resp *w);
/* The error answer of a REST JSON service (Lambda, apigatewayv2): x-amzn-ErrorType: type and
 * the body {msg_key: message}, with lambda_type also Lambda's "Type" ("User" below 500,
 * "Service" from 500). The message is fmt's (type itself when formatting fails); each byte of
 * it that is not valid UTF-8 becomes '?', as it may quote what the client sent. */
void serve_rest_error(serve_resp *w, unsigned status, const char *type, bool lambda_type,
                      const char *msg_key, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

/* application/x-www-form-urlencoded (and query strings): name=value pairs split on '&', each
 * percent-decoded with '+' as space. A malformed escape (%zz, a lone %) is -EINVAL; a decoded
 * NUL byte is -EINVAL. At most max_pairs pairs (-E2BIG past it). Allocated, free with
 * serve_kvs_free. Duplicate names are kept in order. */
int serve_form_parse(const char *s, size_t len, size_t max_pairs, serve_kv **ret, size_t *ret_n);
const char *serve_kvs_get(const serve_kv *kv, size_t n, const char *name); /* first match, exact */
void serve_kvs_free(serve_kv *kv, size_t n);
/* Percent-decodes s (plus_is_space for forms). Returns -EINVAL on a malformed escape. */
int serve_url_decode(const char *s, size_t len, bool plus_is_space, char **ret, size_t *ret_len);
/* RFC 3986 encoding as SigV4 needs it: unreserved A-Za-z0-9-._~ kept, everything else %XX
 * (upper-case hex); '/' kept when keep_slash. */
char *serve_url_encode(const char *s, size_t len, bool keep_slash);
/* XML text escaping (& < > " ' and every byte < 0x20 except \t \n \r as &#xN;). */
char *serve_xml_escape(const char *s, size_t len);

/* ---- adapters: each fills w (always: a status is set on return) ---- */
struct q_engine;
/* AWS JSON 1.0; op is what follows "AmazonSQS." in X-Amz-Target. */
void sqs_json_handle(struct q_engine *q, const serve_req *r, const char *op, serve_resp *w);
/* The query protocol; params are the decoded pairs of the form body (POST) or query (GET),
 * Action among them. */
void sqs_query_handle(struct q_engine *q, const serve_req *r, const serve_kv *params, size_t n,
                      serve_resp *w);

/* Issue 17's adapters. */
struct gw_store;
struct sched_engine;
/* apigatewayv2's control plane (src/serve/apigw.c); g NULL: 503. */
void apigw_handle(struct gw_store *g, const serve_req *r, serve_resp *w);
/* EventBridge Scheduler's control plane (src/serve/scheduler.c); s NULL: 503. */
void scheduler_handle(struct sched_engine *s, const serve_req *r, serve_resp *w);
/* GET /metrics: the registry (src/metrics) in Prometheus text format 0.0.4 (src/serve/prom.c). */
void prom_handle(const serve_req *r, serve_resp *w);

/* How a request looks (the router's first step): pure, unit-tested. */
typedef enum serve_route {
        SERVE_ROUTE_UNKNOWN = 0,
        SERVE_ROUTE_LAMBDA_INVOKE, /* POST /2015-03-31/functions/NAME/invocations */
        SERVE_ROUTE_LAMBDA_API,    /* any other Lambda REST path (/2015-03-31/..., /2017-03-31/tags/...,
                                      /2019-09-30/functions/.../concurrency, ...) */
        SERVE_ROUTE_SQS_JSON,      /* X-Amz-Target: AmazonSQS.* */
        SERVE_ROUTE_SQS_QUERY,     /* Action= in the query string, or a form-encoded POST body */
        SERVE_ROUTE_METRICS,       /* GET or HEAD /metrics (issue 17): Prometheus text, unsigned */
        SERVE_ROUTE_APIGW,         /* /v2/apis, /v2/apis/..., /v2/tags/... (apigatewayv2, SigV4
                                      service "apigateway"; issue 17) */
        SERVE_ROUTE_SCHEDULER,     /* /schedules..., /schedule-groups..., /tags/arn:aws:scheduler:...
                                      (EventBridge Scheduler, SigV4 service "scheduler"; issue 17) */
} serve_route;
/* content_type and target may be NULL. */
serve_route serve_route_of(const char *method, const char *path, const char *query,
                           const char *content_type, const char *target);

#endif
