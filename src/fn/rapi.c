/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the Lambda Runtime API (2018-06-01) of one worker, served with libmicrohttpd on the
 * socket made inside the worker's network namespace (host.c make_listener). One thread per
 * connection: invocation/next blocks in its handler until the worker has an invocation. */
#include "fn.h"
#include "util/util.h"

#include <string.h>
#include <microhttpd.h>

#define PREFIX "/2018-06-01/runtime/"

typedef struct rreq {
        char *body;
        size_t len;
        bool too_large;
} rreq;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *json)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json,
                                                                 MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type", "application/json");
        fn_guard_set(c, FN_GUARD_SENDING);
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result send_next(fn_worker *w, struct MHD_Connection *c)
{
        fn_next n;
        memset(&n, 0, sizeof(n));
        fn_guard_set(c, FN_GUARD_BUSY); /* /next waits for an invocation: not bounded here */
        if (fn_worker_next(w, &n) < 0)
                return reply(c, 500, "{\"errorMessage\":\"worker is stopping\","
                                     "\"errorType\":\"Runtime.ExitError\"}");
        struct MHD_Response *r = MHD_create_response_from_buffer(n.len, n.payload,
                                                                 MHD_RESPMEM_MUST_FREE);
        char dl[32];
        snprintf(dl, sizeof(dl), "%llu", (unsigned long long)n.deadline_ms);
        _cleanup_free_ char *trace = xasprintf("Root=1-00000000-%.24s;Parent=0000000000000000;"
                                               "Sampled=0", n.request_id);
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", n.request_id);
        MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", dl);
        MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", n.function_arn);
        MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", trace);
        /* X-Amz-Client-Context of the Invoke, decoded (the front door refused control bytes). */
        if (n.client_context)
                MHD_add_response_header(r, "Lambda-Runtime-Client-Context", n.client_context);
        free(n.client_context);
        fn_guard_set(c, FN_GUARD_SENDING);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
}

/* POST .../invocation/ID/response|error, POST .../init/error */
static enum MHD_Result posted(fn_worker *w, struct MHD_Connection *c, const char *path, rreq *q)
{
        const char *etype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                        "Lambda-Runtime-Function-Error-Type");
        if (strcmp(path, "init/error") == 0) {
                fn_worker_init_error(w, q->body ? q->body : "", q->len, etype);
                return reply(c, 202, "{\"status\":\"OK\"}");
        }
        static const char inv[] = "invocation/";
        if (strncmp(path, inv, sizeof(inv) - 1) != 0)
                return reply(c, 404, "{\"errorMessage\":\"unknown path\",\"errorType\":\"InvalidRequest\"}");
        const char *id = path + sizeof(inv) - 1, *slash = strchr(id, '/');
        if (!slash || slash - id != 36)
                return reply(c, 404, "{\"errorMessage\":\"unknown request id\","
                                     "\"errorType\":\"InvalidRequestID\"}");
        char rid[37];
        memcpy(rid, id, 36);
        rid[36] = '\0';
        bool is_error = strcmp(slash, "/error") == 0;
        if (!is_error && strcmp(slash, "/response") != 0)
                return reply(c, 404, "{\"errorMessage\":\"unknown path\",\"errorType\":\"InvalidRequest\"}");
        int r;
        if (q->too_large) {
                static const char big[] = "{\"errorMessage\":\"Response payload size exceeded "
                                          "maximum allowed payload size (6291456 bytes).\","
                                          "\"errorType\":\"Function.ResponseSizeTooLarge\"}";
                r = fn_worker_result(w, rid, big, sizeof(big) - 1, "Function.ResponseSizeTooLarge");
                return reply(c, 413, "{\"errorMessage\":\"payload too large\","
                                     "\"errorType\":\"RequestEntityTooLarge\"}");
        }
        if (is_error) {
                const char *b = q->len ? q->body : "{}";
                r = fn_worker_result(w, rid, b, q->len ? q->len : 2, etype ? etype : "Unhandled");
        } else {
                r = fn_worker_result(w, rid, q->body ? q->body : "", q->len, NULL);
        }
        if (r == -EALREADY)
                return reply(c, 400, "{\"errorMessage\":\"Invalid state transition\","
                                     "\"errorType\":\"InvalidStateTransition\"}");
        if (r < 0)
                return reply(c, 400, "{\"errorMessage\":\"unknown request id\","
                                     "\"errorType\":\"InvalidRequestID\"}");
        return reply(c, 202, "{\"status\":\"OK\"}");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
        fn_worker *w = cls;
        (void)version;
        if (strncmp(url, PREFIX, sizeof(PREFIX) - 1) != 0)
                return reply(c, 404, "{\"errorMessage\":\"unknown path\",\"errorType\":\"InvalidRequest\"}");
        const char *path = url + sizeof(PREFIX) - 1;
        /* Answer after the first call: a response queued while the request may still have a
         * body makes MHD close the connection (a bootstrap keeps one open). */
        rreq *q = *con_cls;
        if (!q) {
                *con_cls = xcalloc(1, sizeof(rreq));
                return MHD_YES;
        }
        if (strcmp(method, "GET") == 0) {
                if (*upload_size) {
                        *upload_size = 0;
                        return MHD_YES;
                }
                if (strcmp(path, "invocation/next") == 0)
                        return send_next(w, c);
                return reply(c, 404, "{\"errorMessage\":\"unknown path\",\"errorType\":\"InvalidRequest\"}");
        }
        if (strcmp(method, "POST") != 0)
                return reply(c, 405, "{\"errorMessage\":\"method not allowed\",\"errorType\":\"InvalidRequest\"}");
        if (*upload_size) {
                if (q->len + *upload_size > FN_SYNC_PAYLOAD_MAX) {
                        q->too_large = true;
                } else {
                        q->body = xrealloc(q->body, q->len + *upload_size + 1);
                        memcpy(q->body + q->len, upload, *upload_size);
                        q->len += *upload_size;
                        q->body[q->len] = '\0';
                }
                *upload_size = 0;
                return MHD_YES;
        }
        return posted(w, c, path, q);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        (void)cls;
        (void)toe;
        /* Between requests a kept-alive connection may idle for as long as the function works
         * (up to its timeout, then the worker is removed): the next request line restarts the
         * bound (fn_guard_uri_log). */
        fn_guard_set(c, FN_GUARD_IDLE);
        rreq *q = *con_cls;
        if (q) {
                free(q->body);
                free(q);
                *con_cls = NULL;
        }
}

/* No idle timeout: a frozen worker keeps its /next connection for keep-warm, and a function
 * may work for its whole timeout between two requests. The guard bounds each request from its
 * request line to its last body byte, and each answer, counting only the time the worker is
 * not frozen; at most FN_RAPI_CONNECTIONS connections (each is a host thread). */
int fn_rapi_start(fn_worker *w, int listen_fd, fn_guard *g, struct MHD_Daemon **ret,
                  husk_error_t *err)
{
        struct MHD_Daemon *d = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0,
                NULL, NULL, handler, w, MHD_OPTION_LISTEN_SOCKET, listen_fd,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_NOTIFY_COMPLETED, completed,
                NULL, MHD_OPTION_NOTIFY_CONNECTION, fn_guard_notify, g,
                MHD_OPTION_URI_LOG_CALLBACK, fn_guard_uri_log, NULL, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)FN_RAPI_CONNECTIONS, MHD_OPTION_END);
        if (!d) {
                close(listen_fd);
                return husk_error_set(err, EIO, "start the Runtime API server");
        }
        *ret = d;
        return 0;
}
