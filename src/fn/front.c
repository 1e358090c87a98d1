/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the one front door (issue 13). Every request is classified by its shape
 * (serve_route_of) and handed to the code of its protocol:
 *   POST /2015-03-31/functions/NAME/invocations   Lambda's Invoke, here: X-Amz-Invocation-Type
 *       RequestResponse (default: waits, 200 with the result, and X-Amz-Function-Error when the
 *       function failed), Event (durable, 202 at once) or DryRun (204); its body streams in
 *       under Lambda's payload limits
 *   X-Amz-Target: AmazonSQS.*                      SQS over AWS JSON 1.0 (sqs_json_handle)
 *   Action=... (query or form body)                SQS's query protocol (sqs_query_handle)
 *   other Lambda REST paths                        Lambda's control plane (lambda_api below)
 * Every request is checked (AWS Signature Version 4, auth.h) before anything acts on it; an
 * error is rendered in the shape of the protocol the request used. Loopback by default, and a
 * unix socket when asked; a worker's own endpoint is never reachable from here. Each worker
 * also gets this door inside its network namespace (FN_ENDPOINT_PORT, fn_front_serve_worker):
 * checked the same way, with fewer connections. */
#include "fn.h"
#include "queue/queue.h"
#include "serve/auth.h"
#include "serve/serve.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <microhttpd.h>

typedef enum { T_SYNC, T_EVENT, T_DRYRUN } itype;

/* The bound of a body other than Invoke's (which has Lambda's own): an SQS request carries at
 * most 256 KiB of messages, which JSON escaping (\u0009 for a tab: 6 bytes) or the query
 * protocol's percent-encoding (3 bytes a byte) may grow; 2 MiB holds the worst of them. */
#define FRONT_BODY_MAX (2u << 20)
/* Parameters of one query-protocol request (a batch of 10 entries with 10 attributes each
 * needs about 500). */
#define FRONT_FORM_PAIRS_MAX 4096

struct fn_front {
        fn_host *h;
        struct q_engine *q;
        const char *q_error; /* why there is no engine */
        struct gw_store *gw;          /* issue 17: HTTP APIs' control plane; NULL: 503 */
        struct sched_engine *sched;   /* issue 17: schedules; NULL: 503 */
        bool auth_on;          /* false: --no-auth */
        pthread_mutex_t auth_mu; /* guards auth and creds_st */
        serve_auth auth;       /* the keys in force */
        char *store;           /* STORE/credentials is read again when it changes */
        struct stat creds_st;
        struct MHD_Daemon *tcp, *local;
        fn_guard *guard;
        char *unix_path;
        unsigned idle_s;
};

typedef struct freq {
        bool started;
        char *raw_uri; /* as sent: path and query (MHD_OPTION_URI_LOG_CALLBACK) */
        serve_route route;
        char *path;        /* percent-decoded */
        char *raw_path;    /* as sent */
        char *query;       /* as sent, without '?' */
        serve_kv *headers; /* copies, in the order received */
        size_t n_headers;
        /* Invoke */
        char name[FN_NAME_MAX + 1];
        itype type;
        bool tail; /* X-Amz-Log-Type: Tail */
        /* the body */
        size_t limit;
        char *body;
        size_t len;
        bool too_large;
        bool answered; /* an error went out before the body */
        char principal[SERVE_KEY_ID_LEN + 1];
        fn_result res;
        bool have_res;
} freq;

/* Every answer goes out through here: from now on the guard bounds the time to send it. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
        fn_guard_set(c, FN_GUARD_SENDING);
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

/* Sends w (its body taken) and frees it. */
static enum MHD_Result send_resp(struct MHD_Connection *c, serve_resp *w, const char *request_id)
{
        struct MHD_Response *r =
                w->body ? MHD_create_response_from_buffer(w->len, w->body, MHD_RESPMEM_MUST_FREE)
                        : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        w->body = NULL;
        bool have_id = false;
        for (size_t i = 0; i < w->n_headers; i++) {
                MHD_add_response_header(r, w->headers[i].name, w->headers[i].value);
                have_id |= strcasecmp(w->headers[i].name, "x-amzn-RequestId") == 0;
        }
        if (!have_id && request_id)
                MHD_add_response_header(r, "x-amzn-RequestId", request_id);
        unsigned status = w->status ? w->status : 500;
        serve_resp_free(w);
        return queue(c, status, r);
}

static bool lambda_shaped(serve_route route)
{
        return route != SERVE_ROUTE_SQS_JSON && route != SERVE_ROUTE_SQS_QUERY;
}

/* An error of the front door itself (size, auth, routing) in the shape of the request's
 * protocol: Lambda's x-amzn-ErrorType + {"message"}, SQS JSON's {"__type"}, or the query
 * protocol's <ErrorResponse>. code is AWS's name; coral names the JSON __type's namespace. */
static void shaped_error(serve_route route, serve_resp *w, unsigned status, const char *code,
                         bool coral, const char *msg, const char *request_id)
{
        if (route == SERVE_ROUTE_SQS_QUERY) {
                _cleanup_free_ char *m = serve_xml_escape(msg, strlen(msg));
                char *b = xasprintf("<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://queue."
                                    "amazonaws.com/doc/2012-11-05/\"><Error><Type>%s</Type><Code>%s"
                                    "</Code><Message>%s</Message><Detail/></Error><RequestId>%s"
                                    "</RequestId></ErrorResponse>",
                                    status >= 500 ? "Receiver" : "Sender", code, m, request_id);
                serve_resp_set(w, status, "text/xml", b, strlen(b));
                return;
        }
        _cleanup_free_ char *m = json_quote(msg);
        char *b;
        if (route == SERVE_ROUTE_SQS_JSON) {
                b = xasprintf("{\"__type\":\"%s#%s\",\"message\":%s}",
                              coral ? "com.amazon.coral.service" : "com.amazonaws.sqs", code, m);
                serve_resp_set(w, status, "application/x-amz-json-1.0", b, strlen(b));
        } else {
                b = xasprintf("{\"Type\":\"User\",\"message\":%s}", m);
                serve_resp_set(w, status, "application/json", b, strlen(b));
                serve_resp_header(w, "x-amzn-ErrorType", code);
        }
}

static enum MHD_Result error_send(struct MHD_Connection *c, serve_route route, unsigned status,
                                  const char *code, bool coral, const char *msg)
{
        char id[37];
        fn_uuid(id);
        serve_resp w = { 0 };
        shaped_error(route, &w, status, code, coral, msg, id);
        return send_resp(c, &w, id);
}

static enum MHD_Result error_reply(struct MHD_Connection *c, unsigned status, const char *type,
                                   const char *msg)
{
        return error_send(c, SERVE_ROUTE_LAMBDA_INVOKE, status, type, false, msg);
}

static enum MHD_Result header_copy(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
        (void)kind;
        freq *q = cls;
        if (!key)
                return MHD_YES;
        q->headers = xrealloc(q->headers, (q->n_headers + 1) * sizeof(*q->headers));
        q->headers[q->n_headers].name = xstrdup(key);
        q->headers[q->n_headers].value = xstrdup(value ? value : "");
        q->n_headers++;
        return MHD_YES;
}

/* Invoke's checks that need no body and reveal nothing: name, method, type, declared length.
 * Whether the function exists is looked up after the signature was checked. */
static enum MHD_Result invoke_first(struct MHD_Connection *c, freq *q, const char *url,
                                    const char *method)
{
        q->answered = true; /* unless all passes */
        if (fn_parse_invoke_path(url, q->name) < 0) {
                _cleanup_free_ char *m = xasprintf("1 validation error detected: Value at "
                                                   "'functionName' failed to satisfy constraint: "
                                                   "Member must satisfy regular expression "
                                                   "pattern: [a-zA-Z0-9-_]{1,%d}", FN_NAME_MAX);
                return error_reply(c, 400, "ValidationException", m);
        }
        if (strcmp(method, "POST") != 0)
                return error_reply(c, 405, "MethodNotAllowedException", "Invoke takes POST");
        const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Invocation-Type");
        if (!t || strcmp(t, "RequestResponse") == 0)
                q->type = T_SYNC;
        else if (strcmp(t, "Event") == 0)
                q->type = T_EVENT;
        else if (strcmp(t, "DryRun") == 0)
                q->type = T_DRYRUN;
        else
                return error_reply(c, 400, "InvalidParameterValueException",
                                   "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun");
        const char *lt = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Log-Type");
        if (lt && strcmp(lt, "Tail") != 0 && strcmp(lt, "None") != 0)
                return error_reply(c, 400, "InvalidParameterValueException",
                                   "X-Amz-Log-Type must be None or Tail");
        q->tail = lt && strcmp(lt, "Tail") == 0 && q->type == T_SYNC;
        q->limit = q->type == T_EVENT ? FN_ASYNC_PAYLOAD_MAX : FN_SYNC_PAYLOAD_MAX;
        q->answered = false;
        return MHD_YES;
}

static char *too_large_message(const freq *q)
{
        if (q->route == SERVE_ROUTE_LAMBDA_INVOKE)
                return xasprintf("Request must be smaller than %zu bytes for the InvokeFunction "
                                 "operation", q->limit);
        return xasprintf("Request body must be at most %zu bytes (the front door's bound)", q->limit);
}

static enum MHD_Result too_large(struct MHD_Connection *c, const freq *q)
{
        _cleanup_free_ char *m = too_large_message(q);
        const char *code = lambda_shaped(q->route) ? "RequestTooLargeException"
                                                   : "RequestEntityTooLarge";
        return error_send(c, q->route, 413, code, false, m);
}

/* The request line and headers are in: classify, check what needs no body. */
static enum MHD_Result first_call(fn_front *f, struct MHD_Connection *c, freq *q, const char *url,
                                  const char *method)
{
        (void)f;
        q->started = true;
        MHD_get_connection_values(c, MHD_HEADER_KIND, header_copy, q);
        const char *raw = q->raw_uri ? q->raw_uri : url;
        const char *qm = strchr(raw, '?');
        size_t plen = qm ? (size_t)(qm - raw) : strlen(raw);
        q->raw_path = xstrndup(raw, plen);
        q->query = xstrdup(qm ? qm + 1 : "");
        size_t dl = 0;
        if (serve_url_decode(raw, plen, false, &q->path, &dl) < 0 || strlen(q->path) != dl) {
                free(q->path); /* a bad escape or a decoded NUL: MHD's decoded view instead */
                q->path = xstrdup(url);
        }
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        const char *target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
        q->route = serve_route_of(method, url, qm ? qm + 1 : "", ct, target);
        /* A Lambda path that only fails Invoke's name rule is Invoke's 400, not an unknown path. */
        char name[FN_NAME_MAX + 1];
        if (q->route == SERVE_ROUTE_LAMBDA_API && fn_parse_invoke_path(url, name) == -EINVAL)
                q->route = SERVE_ROUTE_LAMBDA_INVOKE;
        q->limit = FRONT_BODY_MAX;
        switch (q->route) {
        case SERVE_ROUTE_LAMBDA_INVOKE:
        {
                enum MHD_Result r = invoke_first(c, q, url, method);
                if (q->answered)
                        return r;
                break;
        }
        case SERVE_ROUTE_LAMBDA_API:
                /* CreateFunction and UpdateFunctionCode: a 50 MB zip in base64 */
                if (fn_api_body_max(method, url))
                        q->limit = fn_api_body_max(method, url);
                break;
        case SERVE_ROUTE_UNKNOWN:
                q->answered = true;
                return error_reply(c, 404, "UnknownOperationException",
                                   "Unknown operation: neither a Lambda path, nor an SQS request "
                                   "(X-Amz-Target: AmazonSQS.*, or Action=)");
        default:
                break;
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        uint64_t declared = 0;
        if (cl && parse_uint64(cl, &declared) == 0 && declared > q->limit) {
                q->answered = true;
                return too_large(c, q);
        }
        return MHD_YES;
}

static enum MHD_Result result_reply(struct MHD_Connection *c, freq *q)
{
        fn_result *res = &q->res;
        unsigned status = 200;
        const char *etype = NULL;
        switch (res->outcome) {
        case FN_OK:
        case FN_FUNC_ERROR: status = 200; break;
        case FN_REJECTED: status = 429; etype = "TooManyRequestsException"; break;
        case FN_NOT_FOUND: status = 404; etype = "ResourceNotFoundException"; break;
        case FN_HOST_ERROR: status = 500; etype = "ServiceException"; break;
        }
        struct MHD_Response *r = MHD_create_response_from_buffer(res->len, res->body ? res->body : "",
                                                                 MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "x-amzn-RequestId", res->request_id);
        if (status == 200)
                MHD_add_response_header(r, "X-Amz-Executed-Version", "$LATEST");
        if (res->error_kind)
                MHD_add_response_header(r, "X-Amz-Function-Error", res->error_kind);
        if (res->log_tail)
                MHD_add_response_header(r, "X-Amz-Log-Result", res->log_tail);
        if (etype)
                MHD_add_response_header(r, "x-amzn-ErrorType", etype);
        return queue(c, status, r);
}

/* Invoke after the body arrived (and its signature was checked). */
static enum MHD_Result invoke_final(fn_front *f, struct MHD_Connection *c, freq *q)
{
        fn_def *d = NULL;
        husk_error_t err = { 0 };
        if (fn_db_get(fn_host_db(f->h), q->name, &d, &err) < 0)
                return error_reply(c, err.code == ENOENT ? 404 : 500,
                                   err.code == ENOENT ? "ResourceNotFoundException" : "ServiceException",
                                   err.msg);
        unsigned max_events = d->max_events;
        fn_def_free(d);
        if (q->len) {
                json_value *v = NULL;
                char why[128];
                if (json_parse(q->body, q->len, &v, why, sizeof(why)) < 0) {
                        _cleanup_free_ char *m = xasprintf("Could not parse request body into "
                                                           "json: %s", why);
                        return error_reply(c, 400, "InvalidRequestContentException", m);
                }
                json_value_free(v);
        }
        if (q->type == T_DRYRUN) {
                struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                                         MHD_RESPMEM_PERSISTENT);
                return queue(c, 204, r);
        }
        if (q->type == T_EVENT) {
                char id[37];
                fn_uuid(id);
                /* Committed before the 202: an accepted invocation survives a kill -9. Past
                 * the function's bound of unfinished events: 429, as Lambda's throttle. */
                if (fn_db_async_add(fn_host_db(f->h), id, q->name, q->body ? q->body : "", q->len,
                                    max_events, 0, &err) < 0) {
                        if (err.code == EAGAIN)
                                fn_metrics_throttle(q->name);
                        return err.code == EAGAIN
                                       ? error_reply(c, 429, "TooManyRequestsException", err.msg)
                                       : error_reply(c, 500, "ServiceException", err.msg);
                }
                fn_host_kick(f->h);
                struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                                         MHD_RESPMEM_PERSISTENT);
                MHD_add_response_header(r, "x-amzn-RequestId", id);
                return queue(c, 202, r);
        }
        /* ClientContext: base64 of a JSON object (Lambda: at most 3583 bytes), passed to the
         * Runtime API decoded, as Lambda-Runtime-Client-Context. */
        _cleanup_free_ char *ctx = NULL;
        const char *cc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Client-Context");
        if (cc && *cc) {
                size_t n = 0;
                json_value *v = NULL;
                char why[128];
                bool ok = strlen(cc) <= 3583 && base64_decode(cc, strlen(cc), &ctx, &n) == 0 &&
                          strlen(ctx) == n && fn_text_printable(ctx) &&
                          json_parse(ctx, n, &v, why, sizeof(why)) == 0 && v->type == JSON_OBJECT;
                json_value_free(v);
                if (!ok)
                        return error_reply(c, 400, "InvalidRequestContentException",
                                           "Client context must be a valid Base64-encoded JSON "
                                           "object of at most 3583 bytes (without control "
                                           "characters)");
        }
        fn_invoke_opts io = { .tail = q->tail, .client_context = ctx };
        fn_guard_set(c, FN_GUARD_BUSY);
        fn_host_invoke_ex(f->h, q->name, q->body ? q->body : "", q->len, true, &io, &q->res);
        q->have_res = true;
        return result_reply(c, q);
}

/* Lambda's control plane (src/fn/api.c). */
static void lambda_api(fn_host *h, const serve_req *r, serve_resp *w)
{
        fn_api_handle(h, r, w);
}

/* The keys for one request. STORE/credentials is read again when it changed (another inode,
 * size or mtime: a key rotated by hand or by a tool), so a new key needs no restart; a file
 * that cannot be read or is refused (others may read it) leaves the keys in force. */
static void auth_snapshot(fn_front *f, serve_auth *ret)
{
        _cleanup_free_ char *path = serve_creds_path(f->store);
        struct stat st;
        pthread_mutex_lock(&f->auth_mu);
        if (stat(path, &st) == 0 &&
            (st.st_ino != f->creds_st.st_ino || st.st_dev != f->creds_st.st_dev ||
             st.st_size != f->creds_st.st_size ||
             st.st_mtim.tv_sec != f->creds_st.st_mtim.tv_sec ||
             st.st_mtim.tv_nsec != f->creds_st.st_mtim.tv_nsec)) {
                serve_creds c;
                char why[512];
                if (serve_creds_load(f->store, false, &c, why, sizeof(why)) == 0)
                        f->auth.creds = c;
                explicit_bzero(&c, sizeof(c));
                f->creds_st = st;
        }
        *ret = f->auth;
        pthread_mutex_unlock(&f->auth_mu);
}

/* A refused signature, in the request's protocol: the query protocol's codes, or the coral
 * exceptions of JSON services (SQS JSON's __type, Lambda's x-amzn-ErrorType). Always 403. */
static void auth_error(serve_route route, serve_resp *w, serve_auth_status st, const char *why,
                       const char *request_id)
{
        const char *qc, *jc;
        switch (st) {
        case SERVE_AUTH_MISSING:
                qc = "MissingAuthenticationToken";
                jc = "MissingAuthenticationTokenException";
                break;
        case SERVE_AUTH_MALFORMED:
                qc = "IncompleteSignature";
                jc = "IncompleteSignatureException";
                break;
        case SERVE_AUTH_UNKNOWN_KEY:
                qc = "InvalidClientTokenId";
                jc = "UnrecognizedClientException";
                break;
        default: /* a wrong or expired signature */
                qc = "SignatureDoesNotMatch";
                jc = "InvalidSignatureException";
                break;
        }
        shaped_error(route, w, 403, route == SERVE_ROUTE_SQS_QUERY ? qc : jc, true, why,
                     request_id);
}

/* The query protocol's parameters: the query string's, then a form body's. */
static int query_params(const serve_req *r, serve_kv **ret, size_t *ret_n)
{
        serve_kv *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        int e = serve_form_parse(r->query, strlen(r->query), FRONT_FORM_PAIRS_MAX, &a, &na);
        if (e < 0)
                return e;
        const char *ct = serve_req_header(r, "Content-Type");
        if (strcmp(r->method, "POST") == 0 && ct &&
            strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
                e = serve_form_parse(r->body, r->len, FRONT_FORM_PAIRS_MAX - na, &b, &nb);
                if (e < 0) {
                        serve_kvs_free(a, na);
                        return e;
                }
        }
        a = xrealloc(a, (na + nb + 1) * sizeof(*a));
        if (nb)
                memcpy(a + na, b, nb * sizeof(*b));
        free(b);
        /* A presigned request's X-Amz-* parameters are the signature's, not the operation's. */
        size_t n = 0;
        for (size_t i = 0; i < na + nb; i++) {
                if (strncmp(a[i].name, "X-Amz-", 6) == 0) {
                        free(a[i].name);
                        free(a[i].value);
                        continue;
                }
                a[n++] = a[i];
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

static void sqs_query(fn_front *f, const serve_req *r, serve_resp *w)
{
        serve_kv *p = NULL;
        size_t n = 0;
        int e = query_params(r, &p, &n);
        if (e == -E2BIG) {
                _cleanup_free_ char *m = xasprintf("more than %u parameters", FRONT_FORM_PAIRS_MAX);
                shaped_error(SERVE_ROUTE_SQS_QUERY, w, 400, "MalformedQueryString", false, m,
                             r->request_id);
                return;
        }
        if (e < 0) {
                shaped_error(SERVE_ROUTE_SQS_QUERY, w, 400, "MalformedQueryString", false,
                             "the query string or form body is not valid "
                             "application/x-www-form-urlencoded text (a bad %-escape or a NUL)",
                             r->request_id);
                return;
        }
        sqs_query_handle(f->q, r, p, n, w);
        serve_kvs_free(p, n);
}

/* A request that came through a worker's own door (FN_ENDPOINT_PORT inside its namespace), not
 * through the server's listeners. */
static bool from_worker(fn_front *f, struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
        return ci && ci->daemon != f->tcp && ci->daemon != f->local;
}

/* What a function may ask of the server through its door: the queues and Invoke, as a Lambda
 * execution role that grants sqs:* and lambda:InvokeFunction. The control planes (Lambda's,
 * mappings, HTTP APIs, schedules) and /metrics are the server's: a workload that could call
 * them would act on the host with the server's rights (CreateFunction from an archive path on
 * the host, other functions' environments, an HTTP API that proxies to the host's loopback). */
static bool worker_may(serve_route route)
{
        return route == SERVE_ROUTE_SQS_JSON || route == SERVE_ROUTE_SQS_QUERY ||
               route == SERVE_ROUTE_LAMBDA_INVOKE;
}

/* The service name a request's SigV4 scope must carry. */
static const char *route_service(serve_route route)
{
        switch (route) {
        case SERVE_ROUTE_SQS_JSON:
        case SERVE_ROUTE_SQS_QUERY: return "sqs";
        case SERVE_ROUTE_APIGW: return "apigateway";
        case SERVE_ROUTE_SCHEDULER: return "scheduler";
        default: return "lambda";
        }
}

/* The whole request is in: check it, then hand it to its protocol. */
static enum MHD_Result final_call(fn_front *f, struct MHD_Connection *c, freq *q, const char *method)
{
        if (q->too_large)
                return too_large(c, q);
        char id[37];
        fn_uuid(id);
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        serve_req r = { .method = method,
                        .path = q->path,
                        .raw_path = q->raw_path,
                        .query = q->query,
                        .headers = q->headers,
                        .n_headers = q->n_headers,
                        .body = q->body ? q->body : "",
                        .len = q->len,
                        .host = host ? host : "",
                        .principal = "anonymous",
                        .request_id = id };
        serve_resp w = { 0 };
        if (!worker_may(q->route) && from_worker(f, c)) {
                shaped_error(q->route, &w, 403, "AccessDeniedException", false,
                             "a function may use the queues (SQS) and Invoke through its "
                             "endpoint; the control planes are served on the server's own "
                             "listener only", id);
                return send_resp(c, &w, id);
        }
        /* Nothing acts on a request before this check (issue 13). */
        /* /metrics is read unsigned, as Prometheus scrapes (what it shows: names and counts). */
        if (f->auth_on && q->route != SERVE_ROUTE_METRICS) {
                char why[512];
                serve_auth a;
                auth_snapshot(f, &a);
                serve_auth_status st = serve_sigv4_verify(&a, &r, route_service(q->route),
                                                          time(NULL), why, sizeof(why));
                memcpy(q->principal, a.creds.key_id, sizeof(q->principal));
                explicit_bzero(&a, sizeof(a));
                if (st != SERVE_AUTH_OK) {
                        auth_error(q->route, &w, st, why, id);
                        return send_resp(c, &w, id);
                }
                r.principal = q->principal;
        }
        if (q->route == SERVE_ROUTE_LAMBDA_INVOKE)
                return invoke_final(f, c, q);
        bool sqs = q->route == SERVE_ROUTE_SQS_JSON || q->route == SERVE_ROUTE_SQS_QUERY;
        if (sqs && !f->q) {
                _cleanup_free_ char *m = xasprintf("the queue service is not available: %s",
                                                   f->q_error ? f->q_error : "no engine");
                shaped_error(q->route, &w, 503, "ServiceUnavailable", false, m, id);
                return send_resp(c, &w, id);
        }
        /* A long poll (ReceiveMessage with WaitTimeSeconds) waits here up to 20 s: the guard
         * bounds receiving and sending, not the work between. */
        fn_guard_set(c, FN_GUARD_BUSY);
        switch (q->route) {
        case SERVE_ROUTE_SQS_JSON:
                sqs_json_handle(f->q, &r, serve_req_header(&r, "X-Amz-Target") + strlen("AmazonSQS."),
                                &w);
                break;
        case SERVE_ROUTE_SQS_QUERY: sqs_query(f, &r, &w); break;
        case SERVE_ROUTE_LAMBDA_API: lambda_api(f->h, &r, &w); break;
        case SERVE_ROUTE_APIGW: apigw_handle(f->gw, &r, &w); break;
        case SERVE_ROUTE_SCHEDULER: scheduler_handle(f->sched, &r, &w); break;
        case SERVE_ROUTE_METRICS: prom_handle(&r, &w); break;
        default:
                shaped_error(q->route, &w, 404, "UnknownOperationException",
                             false, "Unknown operation", id);
                break;
        }
        return send_resp(c, &w, id);
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
        (void)cls;
        (void)c;
        freq *q = xcalloc(1, sizeof(*q));
        q->raw_uri = xstrdup(uri ? uri : "/");
        return q; /* the access handler's *con_cls */
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
        (void)version;
        freq *q = *con_cls;
        if (!q)
                q = *con_cls = xcalloc(1, sizeof(*q));
        if (!q->started)
                return first_call(cls, c, q, url, method);
        if (*upload_size) {
                if (q->answered || q->too_large || q->len + *upload_size > q->limit) {
                        q->too_large = true; /* keep reading (and dropping) to answer 413 */
                } else {
                        q->body = xrealloc(q->body, q->len + *upload_size + 1);
                        memcpy(q->body + q->len, upload, *upload_size);
                        q->len += *upload_size;
                        q->body[q->len] = '\0';
                }
                *upload_size = 0;
                return MHD_YES;
        }
        if (q->have_res || q->answered)
                return MHD_YES;
        q->answered = true;
        return final_call(cls, c, q, method);
}

/* After the answer went out: the worker's END/REPORT and freeze happen off the caller's path. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        (void)toe;
        fn_front *f = cls;
        fn_guard_set(c, FN_GUARD_IDLE); /* a kept-alive connection waits for its next request */
        freq *q = *con_cls;
        if (!q)
                return;
        if (q->have_res) {
                fn_host_finish(f->h, &q->res);
                fn_result_done(&q->res);
        }
        serve_kvs_free(q->headers, q->n_headers);
        free(q->raw_uri);
        free(q->path);
        free(q->raw_path);
        free(q->query);
        free(q->body);
        free(q);
        *con_cls = NULL;
}

static int parse_listen(const char *s, struct sockaddr_in *a, husk_error_t *err)
{
        const char *colon = strrchr(s, ':');
        uint32_t port;
        if (!colon || parse_uint32(colon + 1, &port) < 0 || port > 65535)
                return husk_error_set(err, EINVAL, "--listen %s: use ADDRESS:PORT (IPv4)", s);
        _cleanup_free_ char *host = xstrndup(s, (size_t)(colon - s));
        memset(a, 0, sizeof(*a));
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                return husk_error_set(err, EINVAL, "--listen %s: not an IPv4 address", s);
        return 0;
}

/* A listening unix socket at path, mode 0600 from its creation (the socket inode's mode is set
 * before bind; bind applies it). A socket file left by a dead server is replaced; one that
 * answers belongs to a running server: EADDRINUSE. */
static int unix_listen(const char *path, husk_error_t *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!path[0] || strlen(path) >= sizeof(sa.sun_path))
                return husk_error_set(err, EINVAL, "--listen-unix %s: a path of 1 to %zu bytes",
                                      path, sizeof(sa.sun_path) - 1);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return husk_error_set(err, EEXIST, "--listen-unix %s: exists and is not a "
                                              "socket", path);
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        return husk_error_set(err, EADDRINUSE, "--listen-unix %s: a server "
                                              "answers there already", path);
                (void)unlink(path);
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return husk_error_set(err, errno, "socket");
        if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return husk_error_set(err, errno, "--listen-unix %s: bind", path);
        if (chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
                int e = errno;
                (void)unlink(path);
                return husk_error_set(err, e, "--listen-unix %s", path);
        }
        return TAKE_FD(fd);
}

/* Thread per connection (a sync invoke or a long poll blocks its handler until the answer),
 * with bounds: at most FN_FRONT_CONNECTIONS connections on each listener (FN_FRONT_PER_IP from
 * one address on TCP), and the guard gives each request request_timeout_ms to arrive in full
 * (headers and body, however slowly the bytes come) and its answer as long to go out; a
 * kept-alive connection waits as long for its next request. poll, not select: connection fds
 * may pass FD_SETSIZE. */
static struct MHD_Daemon *daemon_start(fn_front *f, const struct sockaddr_in *a, int fd,
                                       unsigned idle_s, unsigned limit)
{
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_POLL;
        if (fd >= 0)
                return MHD_start_daemon(
                        flags, 0, NULL, NULL, handler, f, MHD_OPTION_LISTEN_SOCKET, fd,
                        MHD_OPTION_CONNECTION_TIMEOUT, idle_s, MHD_OPTION_NOTIFY_COMPLETED,
                        completed, f, MHD_OPTION_URI_LOG_CALLBACK, uri_log, f,
                        MHD_OPTION_NOTIFY_CONNECTION, fn_guard_notify, f->guard,
                        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_END);
        return MHD_start_daemon(
                flags, 0, NULL, NULL, handler, f, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)a,
                MHD_OPTION_CONNECTION_TIMEOUT, idle_s, MHD_OPTION_NOTIFY_COMPLETED, completed, f,
                MHD_OPTION_URI_LOG_CALLBACK, uri_log, f, MHD_OPTION_NOTIFY_CONNECTION,
                fn_guard_notify, f->guard, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)FN_FRONT_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                (unsigned)FN_FRONT_PER_IP, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                MHD_OPTION_END);
}

fn_front *fn_front_start(fn_host *h, const fn_front_opts *o, unsigned *ret_port, husk_error_t *err)
{
        struct sockaddr_in a;
        const char *listen = o->listen ? o->listen : FN_DEFAULT_LISTEN;
        if (parse_listen(listen, &a, err) < 0)
                return NULL;
        _cleanup_close_ int ufd = -1;
        if (o->listen_unix && (ufd = unix_listen(o->listen_unix, err)) < 0)
                return NULL;
        uint64_t limit = o->request_timeout_ms ? o->request_timeout_ms : FN_REQUEST_TIMEOUT_DEFAULT_MS;
        fn_front *f = xcalloc(1, sizeof(*f));
        f->h = h;
        f->q = o->queue;
        f->q_error = o->queue_error;
        f->gw = o->gw;
        f->sched = o->sched;
        pthread_mutex_init(&f->auth_mu, NULL);
        if (o->auth) {
                _cleanup_free_ char *cp = serve_creds_path(o->store);
                f->auth_on = true;
                f->auth = *o->auth;
                f->store = xstrdup(o->store);
                if (stat(cp, &f->creds_st) < 0)
                        memset(&f->creds_st, 0, sizeof(f->creds_st));
        }
        f->guard = fn_guard_new(limit, true);
        unsigned idle_s = (unsigned)((limit + 999) / 1000);
        f->idle_s = idle_s;
        f->tcp = daemon_start(f, &a, -1, idle_s, FN_FRONT_CONNECTIONS);
        if (!f->tcp) {
                husk_error_set(err, EADDRINUSE, "listen on %s", listen);
                goto fail;
        }
        if (ufd >= 0) {
                f->unix_path = xstrdup(o->listen_unix);
                f->local = daemon_start(f, NULL, ufd, idle_s, FN_FRONT_CONNECTIONS);
                if (!f->local) {
                        husk_error_set(err, EIO, "serve on the unix socket %s", o->listen_unix);
                        goto fail;
                }
                ufd = -1; /* the daemon's now */
        }
        const union MHD_DaemonInfo *i = MHD_get_daemon_info(f->tcp, MHD_DAEMON_INFO_BIND_PORT);
        *ret_port = i ? i->port : ntohs(a.sin_port);
        fn_host_set_front(h, f); /* workers started from now on reach it */
        return f;
fail:
        if (o->listen_unix)
                (void)unlink(o->listen_unix);
        fn_front_stop(f);
        return NULL;
}

void fn_front_stop(fn_front *f)
{
        if (!f)
                return;
        if (f->h)
                fn_host_set_front(f->h, NULL); /* every worker's daemon stops first */
        if (f->local)
                MHD_stop_daemon(f->local);
        if (f->tcp)
                MHD_stop_daemon(f->tcp);
        if (f->unix_path)
                (void)unlink(f->unix_path);
        fn_guard_free(f->guard);
        free(f->unix_path);
        free(f->store);
        explicit_bzero(&f->auth, sizeof(f->auth));
        pthread_mutex_destroy(&f->auth_mu);
        free(f);
}

struct MHD_Daemon *fn_front_serve_worker(fn_front *f, int listen_fd)
{
        struct MHD_Daemon *d = daemon_start(f, NULL, listen_fd, f->idle_s,
                                            FN_ENDPOINT_CONNECTIONS);
        if (!d)
                close(listen_fd);
        return d;
}

void fn_front_worker_creds(fn_front *f, char key_id[FN_WORKER_KEY_MAX],
                           char secret[FN_WORKER_KEY_MAX])
{
        if (!f->auth_on) {
                /* --no-auth: any keys do; SDKs want some. */
                snprintf(key_id, FN_WORKER_KEY_MAX, "husk");
                snprintf(secret, FN_WORKER_KEY_MAX, "no-auth");
                return;
        }
        serve_auth a;
        auth_snapshot(f, &a);
        snprintf(key_id, FN_WORKER_KEY_MAX, "%s", a.creds.key_id);
        snprintf(secret, FN_WORKER_KEY_MAX, "%s", a.creds.secret);
        explicit_bzero(&a, sizeof(a));
}
