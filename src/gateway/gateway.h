/* SPDX-License-Identifier: Apache-2.0 */
/* husk gateway's data plane (issue 17): the --api-listen listener. An edge: HTTP in, the
 * model's selection (src/gw: gw_select_api, gw_match_request, gw_bucket_take), then the route's
 * integration: a function of this server (AWS_PROXY: API Gateway's proxy event, payload format
 * 1.0 or 2.0, and the mapping of the function's answer back to HTTP) or a husk service
 * (HTTP_PROXY). Not thread-per-connection: libmicrohttpd in epoll mode, connections suspended
 * while a bounded pool of workers runs integrations.
 *
 * It depends on src/gw and src/metrics only; the server (src/fn/main.c) supplies the ways to
 * invoke a function and to find a service's address. */
#ifndef HUSK_GATEWAY_H
#define HUSK_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_store;

typedef enum gateway_outcome {
        GATEWAY_OK = 0,       /* the function answered (body is its response) */
        GATEWAY_FUNC_ERROR,   /* the function failed, timed out or crashed: 500 (API
                                 Gateway's {"message":"Internal Server Error"}) */
        GATEWAY_THROTTLED,    /* the function's concurrency is exhausted: 429 */
        GATEWAY_NOT_FOUND,    /* no such function: 500 (as API Gateway: an integration error) */
        GATEWAY_HOST_ERROR,   /* 500 */
} gateway_outcome;

typedef struct gateway_result {
        gateway_outcome outcome;
        char *body; /* allocated (the caller frees) */
        size_t len;
        /* The rest of the invocation (the function's END/REPORT, its worker frozen and offered
         * again), left for after the answer went out: gateway_opts.finish(ud, finish) once,
         * NULL when nothing is left. */
        void *finish;
} gateway_result;

typedef struct gateway_opts {
        const char *listen;        /* ADDR:PORT (--api-listen) */
        struct gw_store *store;
        const char *store_dir;     /* STORE: access logs under STORE/gw/logs */
        const char *region, *account;
        /* Runs a function synchronously (blocks the calling pool thread). function is a name or a
         * Lambda ARN as the integration's uri gives it. */
        void (*invoke)(void *ud, const char *function, const char *payload, size_t len,
                       gateway_result *res);
        /* A husk service's address ("10.88.0.5") for an HTTP_PROXY host name: 0, or -ENOENT. */
        int (*resolve)(void *ud, const char *service, char *addr, size_t addr_len);
        /* Ends what invoke left (gateway_result.finish), after the answer was handed over. */
        void (*finish)(void *ud, void *finish);
        void *ud;
        /* Bounds (0: the default, named in gateway.c's messages by these options of husk serve):
         * --api-workers (threads running integrations, 64), --api-backlog (requests waiting
         * for one, 4096: 503 past it), --api-connections (open connections; RLIMIT_NOFILE's
         * soft limit less 1024 by default). */
        unsigned workers, backlog, connections;
        /* --api-throttle RATE:BURST: every API's own bucket over all its routes and stages
         * (api_rate < 0 or both 0: the default, AWS's account quota of 10,000/s, burst 5,000). */
        double api_rate;
        long api_burst;
} gateway_opts;

typedef struct gateway gateway;
/* Binds and starts serving; *ret_port is the bound port (for ADDR:0). -1 with why on failure. */
int gateway_start(const gateway_opts *o, gateway **ret, unsigned *ret_port, char *why,
                  size_t why_len);
/* Stops accepting, ends every connection, waits for the pool (integrations in progress are
 * answered 503 or finish). */
void gateway_stop(gateway *g);

#endif
