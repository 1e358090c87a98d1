/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the front door. POST /2015-03-31/functions/NAME/invocations as Lambda's Invoke:
 * X-Amz-Invocation-Type RequestResponse (default: waits, 200 with the result, and
 * X-Amz-Function-Error when the function failed), Event (durable, 202 at once) or DryRun (204).
 * Errors are JSON bodies with Lambda's names (x-amzn-ErrorType). Loopback by default; a
 * worker's own endpoint is never reachable from here. */
#include "fn.h"
#include "util/json.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <microhttpd.h>

typedef enum { T_SYNC, T_EVENT, T_DRYRUN } itype;

typedef struct freq {
        fn_host *h;
        char name[FN_NAME_MAX + 1];
        itype type;
        size_t limit;
        char *body;
        size_t len;
        bool too_large;
        fn_result res;
        bool have_res;
        unsigned max_events;
} freq;

/* Every answer goes out through here: from now on the guard bounds the time to send it. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
        fn_guard_set(c, FN_GUARD_SENDING);
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result error_reply(struct MHD_Connection *c, unsigned status, const char *type,
                                   const char *msg)
{
        _cleanup_free_ char *m = json_quote(msg);
        _cleanup_free_ char *body = xasprintf("{\"Type\":\"User\",\"message\":%s}", m);
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
                                                                 MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "x-amzn-ErrorType", type);
        return queue(c, status, r);
}

/* The checks that need no body: path, name, method, type, declared length, the function. */
static enum MHD_Result first_call(fn_host *h, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
        char name[FN_NAME_MAX + 1];
        int r = fn_parse_invoke_path(url, name);
        if (r == -ENOENT)
                return error_reply(c, 404, "UnknownOperationException", "Unknown operation: only "
                                   "POST /2015-03-31/functions/NAME/invocations is served");
        if (r < 0) {
                _cleanup_free_ char *m = xasprintf("1 validation error detected: Value at "
                                                   "'functionName' failed to satisfy constraint: "
                                                   "Member must satisfy regular expression "
                                                   "pattern: [a-zA-Z0-9-_]{1,%d}", FN_NAME_MAX);
                return error_reply(c, 400, "ValidationException", m);
        }
        if (strcmp(method, "POST") != 0)
                return error_reply(c, 405, "MethodNotAllowedException", "Invoke takes POST");
        const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Invocation-Type");
        itype type;
        if (!t || strcmp(t, "RequestResponse") == 0)
                type = T_SYNC;
        else if (strcmp(t, "Event") == 0)
                type = T_EVENT;
        else if (strcmp(t, "DryRun") == 0)
                type = T_DRYRUN;
        else
                return error_reply(c, 400, "InvalidParameterValueException",
                                   "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun");
        size_t limit = type == T_EVENT ? FN_ASYNC_PAYLOAD_MAX : FN_SYNC_PAYLOAD_MAX;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        uint64_t declared = 0;
        if (cl && parse_uint64(cl, &declared) == 0 && declared > limit) {
                _cleanup_free_ char *m = xasprintf("Request must be smaller than %zu bytes for "
                                                   "the InvokeFunction operation", limit);
                return error_reply(c, 413, "RequestTooLargeException", m);
        }
        fn_def *d = NULL;
        husk_error_t err = { 0 };
        if (fn_db_get(fn_host_db(h), name, &d, &err) < 0)
                return error_reply(c, err.code == ENOENT ? 404 : 500,
                                   err.code == ENOENT ? "ResourceNotFoundException" : "ServiceException",
                                   err.msg);
        freq *q = xcalloc(1, sizeof(*q));
        q->max_events = d->max_events;
        fn_def_free(d);
        q->h = h;
        snprintf(q->name, sizeof(q->name), "%s", name);
        q->type = type;
        q->limit = limit;
        *con_cls = q;
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
        if (etype)
                MHD_add_response_header(r, "x-amzn-ErrorType", etype);
        return queue(c, status, r);
}

static enum MHD_Result final_call(struct MHD_Connection *c, freq *q)
{
        if (q->too_large) {
                _cleanup_free_ char *m = xasprintf("Request must be smaller than %zu bytes for the "
                                                   "InvokeFunction operation", q->limit);
                return error_reply(c, 413, "RequestTooLargeException", m);
        }
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
                husk_error_t err = { 0 };
                /* Committed before the 202: an accepted invocation survives a kill -9. Past
                 * the function's bound of unfinished events: 429, as Lambda's throttle. */
                if (fn_db_async_add(fn_host_db(q->h), id, q->name, q->body ? q->body : "", q->len,
                                    q->max_events, 0, &err) < 0)
                        return err.code == EAGAIN
                                       ? error_reply(c, 429, "TooManyRequestsException", err.msg)
                                       : error_reply(c, 500, "ServiceException", err.msg);
                fn_host_kick(q->h);
                struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                                         MHD_RESPMEM_PERSISTENT);
                MHD_add_response_header(r, "x-amzn-RequestId", id);
                return queue(c, 202, r);
        }
        fn_guard_set(c, FN_GUARD_BUSY);
        fn_host_invoke(q->h, q->name, q->body ? q->body : "", q->len, true, &q->res);
        q->have_res = true;
        return result_reply(c, q);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
        (void)version;
        freq *q = *con_cls;
        if (!q)
                return first_call(cls, c, url, method, con_cls);
        if (*upload_size) {
                if (q->too_large || q->len + *upload_size > q->limit) {
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
        if (q->have_res)
                return MHD_YES;
        return final_call(c, q);
}

/* After the answer went out: the worker's END/REPORT and freeze happen off the caller's path. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        (void)toe;
        fn_guard_set(c, FN_GUARD_IDLE); /* a kept-alive connection waits for its next request */
        freq *q = *con_cls;
        if (!q)
                return;
        if (q->have_res) {
                fn_host_finish(cls, &q->res);
                fn_result_done(&q->res);
        }
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

/* Thread per connection (a sync invoke blocks its handler until the result), with bounds: at
 * most FN_FRONT_CONNECTIONS connections (FN_FRONT_PER_IP from one address), and the guard
 * gives each request request_timeout_ms to arrive in full (headers and body, however slowly
 * the bytes come) and its answer as long to go out; a kept-alive connection waits as long for
 * its next request. poll, not select: connection fds may pass FD_SETSIZE. */
struct MHD_Daemon *fn_front_start(fn_host *h, const char *listen, uint64_t request_timeout_ms,
                                  fn_guard **ret_guard, unsigned *ret_port, husk_error_t *err)
{
        struct sockaddr_in a;
        if (parse_listen(listen, &a, err) < 0)
                return NULL;
        uint64_t limit = request_timeout_ms ? request_timeout_ms : FN_REQUEST_TIMEOUT_DEFAULT_MS;
        fn_guard *g = fn_guard_new(limit, true);
        unsigned idle_s = (unsigned)((limit + 999) / 1000);
        struct MHD_Daemon *d = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0,
                NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                MHD_OPTION_CONNECTION_TIMEOUT, idle_s, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                MHD_OPTION_NOTIFY_CONNECTION, fn_guard_notify, g, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)FN_FRONT_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                (unsigned)FN_FRONT_PER_IP, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                MHD_OPTION_END);
        if (!d) {
                fn_guard_free(g);
                husk_error_set(err, EADDRINUSE, "listen on %s", listen);
                return NULL;
        }
        *ret_guard = g;
        const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        *ret_port = i ? i->port : ntohs(a.sin_port);
        return d;
}
