/* SPDX-License-Identifier: Apache-2.0 */
/* husk gateway (issue 17): API Gateway v2 "HTTP APIs" in front of functions and services.
 * The semantics only, no HTTP: the model (APIs, routes, integrations, stages, deployments), its
 * durable store (SQLite at STORE/gw/gw.db), route matching and token-bucket throttling. Unit
 * tests reach all of it without a server.
 *
 *   store.c    gw_store_*: the model in SQLite; every change bumps a generation counter
 *   match.c    gw_snapshot_*, gw_match: a read-only compiled copy of the model for the data
 *              plane, and API Gateway's route selection
 *   throttle.c gw_bucket_*: token buckets (rate per second, burst)
 *
 * The edges that use it:
 *   src/serve/apigw.c   the control plane: apigatewayv2's REST JSON API (/v2/apis...) on the
 *                       front door (SigV4 service "apigateway"), an adapter like sqs_json.c
 *   src/serve/apicli.c  `husk api ...` over the same API (signed client, client.h)
 *   src/gateway/        the data plane: the --api-listen listener (libmicrohttpd, epoll, a
 *                       bounded worker pool), Lambda proxy events (payload 1.0 and 2.0) and
 *                       their response mapping, HTTP_PROXY to services, throttling, CORS,
 *                       access logs
 *
 * Threads: a gw_store may be used from many threads (it serialises internally). A gw_snapshot
 * is immutable and reference counted: the data plane takes the newest with gw_store_snapshot()
 * (cheap when the generation did not change) and drops it with gw_snapshot_unref(). */
#ifndef HUSK_GW_H
#define HUSK_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bounds (AWS's quotas where they exist; husk's own otherwise, named in errors) ---- */
#define GW_APIS_MAX 600           /* HTTP APIs per store (AWS: 600 regional per account) */
#define GW_ROUTES_MAX 300         /* routes per API (AWS: 300) */
#define GW_INTEGRATIONS_MAX 300   /* integrations per API (AWS: 300) */
#define GW_STAGES_MAX 10          /* stages per API (AWS: 10) */
#define GW_ROUTE_KEY_MAX 512      /* bytes of "METHOD /path" */
#define GW_PATH_PARAMS_MAX 32     /* {name} segments of one route */
#define GW_NAME_MAX 128           /* an API's or stage's name (AWS: 128) */
#define GW_TIMEOUT_DEFAULT_MS 29000 /* integration timeout (TimeoutInMillis), the 29 s */
#define GW_TIMEOUT_MIN_MS 50
#define GW_TIMEOUT_MAX_MS 30000
#define GW_ID_LEN 10              /* API ids: 10 of [a-z0-9] */
#define GW_SUBID_LEN 7            /* route, integration, deployment ids: 7 of [a-z0-9] */
#define GW_DEPLOYMENTS_MAX 100    /* deployments kept per API (husk's: the oldest automatic
                                     ones no stage uses are dropped first) */
#define GW_TAGS_MAX 50            /* tags per resource (AWS: 50) */
#define GW_DEFAULT_STAGE "$default"
#define GW_DEFAULT_ROUTE "$default"

/* ---- errors: the HTTP status and x-amzn-ErrorType the control plane answers ---- */
typedef enum gw_errcode {
        GW_OK = 0,
        GW_E_NOT_FOUND,     /* 404 NotFoundException */
        GW_E_BAD_REQUEST,   /* 400 BadRequestException */
        GW_E_CONFLICT,      /* 409 ConflictException (a route key or stage name taken) */
        GW_E_LIMIT,         /* 429 TooManyRequestsException ... a bound above; the message names it */
        GW_E_INTERNAL,      /* 500 */
} gw_errcode;
typedef struct gw_error {
        gw_errcode code;
        char msg[512];
} gw_error;

/* ---- the model (owned strings; NULL when not set) ---- */
typedef struct gw_cors {
        char **allow_origins, **allow_methods, **allow_headers, **expose_headers; /* NULL-terminated */
        bool allow_credentials;
        int max_age; /* seconds, -1: not set */
} gw_cors;

typedef struct gw_api {
        char id[GW_ID_LEN + 1];
        char *name, *description, *version;
        char *protocol;                   /* "HTTP" (WEBSOCKET is refused: BadRequest) */
        char *route_selection_expression; /* "$request.method $request.path" */
        char *api_key_selection_expression; /* "$request.header.x-api-key" */
        gw_cors *cors;                    /* NULL: no CORS configuration */
        bool disable_execute_api_endpoint;
        char **tags;                      /* key, value, ..., NULL-terminated, or NULL */
        char created[32];                 /* RFC 3339 UTC */
} gw_api;

typedef struct gw_route {
        char id[GW_SUBID_LEN + 1];
        char *route_key;     /* "GET /items/{id}", "ANY /{proxy+}", "$default" */
        char *target;        /* "integrations/ID", or NULL (the route answers 404 until set) */
        char *authorization_type; /* "NONE" (others: BadRequest, not supported) */
        char *operation_name;
        bool managed;        /* ApiGatewayManaged: made by quick create. Kept by the store (a
                                column of its own), never taken from the caller's record */
} gw_route;

typedef enum gw_int_type { GW_INT_AWS_PROXY = 1, GW_INT_HTTP_PROXY } gw_int_type;
typedef struct gw_integration {
        char id[GW_SUBID_LEN + 1];
        gw_int_type type;
        /* AWS_PROXY: a function of this server (NAME, or its Lambda ARN, or
         *   arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations);
         * HTTP_PROXY: http://HOST:PORT/PATH where HOST is a husk service's name (its address on
         *   its husk network), an IP address or localhost. */
        char *uri;
        char *method;                 /* IntegrationMethod (HTTP_PROXY), "ANY" by default */
        char *payload_format_version; /* "1.0" or "2.0" (AWS_PROXY: required, as AWS) */
        unsigned timeout_ms;          /* GW_TIMEOUT_MIN_MS .. GW_TIMEOUT_MAX_MS */
        char *description;
        char *connection_type;        /* "INTERNET" */
        bool managed;                 /* ApiGatewayManaged (quick create), as gw_route's */
} gw_integration;

typedef struct gw_throttle {
        double rate;    /* requests per second; < 0: not set (inherit) */
        long burst;     /* < 0: not set */
} gw_throttle;

typedef struct gw_route_setting {
        char *route_key;
        gw_throttle throttle;
        bool detailed_metrics;
} gw_route_setting;

typedef struct gw_stage {
        char *name;             /* "$default" or [A-Za-z0-9_-]{1,128} */
        char *description;
        bool auto_deploy;
        char *deployment_id;    /* NULL until deployed (auto_deploy: always the newest) */
        gw_throttle default_throttle;      /* DefaultRouteSettings */
        gw_route_setting *route_settings;  /* RouteSettings */
        size_t n_route_settings;
        char *access_log_destination;      /* AccessLogSettings.DestinationArn: a file path or
                                              arn:aws:logs:...:log-group:NAME (written to
                                              STORE/gw/logs/NAME.log, NAME the log group or
                                              the path's last component: never a host path) */
        char *access_log_format;           /* AccessLogSettings.Format: $context.* variables */
        char **variables;                  /* StageVariables: key, value, ..., NULL-terminated */
        char **tags;
        char created[32], updated[32];
        bool managed;           /* ApiGatewayManaged (quick create's $default), as gw_route's */
} gw_stage;

typedef struct gw_deployment {
        char id[GW_SUBID_LEN + 1];
        char *description;
        char *status;           /* "DEPLOYED" */
        bool auto_deployed;
        char created[32];
} gw_deployment;

void gw_api_free(gw_api *a);
void gw_route_free(gw_route *r);
void gw_integration_free(gw_integration *i);
void gw_stage_free(gw_stage *s);
void gw_deployment_free(gw_deployment *d);

/* ---- store.c ---- */
typedef struct gw_store gw_store;
/* path: STORE/gw/gw.db (the folder made 0700). */
int gw_store_open(const char *path, gw_store **ret, gw_error *err);
void gw_store_close(gw_store *s);
/* Changes since open; the data plane compares it to decide whether to reload. */
uint64_t gw_store_generation(gw_store *s);
/* What the control plane reports but the store does not keep: the server's region (in ARNs;
 * "us-east-1" until set) and the base URL of the --api-listen listener ("http://ADDR:PORT";
 * NULL: no listener). Set by the server (cmd_serve); read by src/serve/apigw.c. */
void gw_store_set_server(gw_store *s, const char *region, const char *endpoint);
void gw_store_server(gw_store *s, char *region, size_t region_len, char *endpoint,
                     size_t endpoint_len); /* endpoint "" when none */

/* Each create fills the ids and times it assigns into its argument. Updates take a full record
 * (the adapter reads, changes the fields the request names, writes back). Lists are allocated
 * arrays of allocated records. -1 with err filled on failure.
 *
 * What quick create made is ApiGatewayManaged, with AWS's rules (GW_E_BAD_REQUEST naming the
 * record and the rule): a managed route keeps its route key (UpdateApi's RouteKey changes it)
 * and is not deleted; a managed integration is updated but not deleted; the managed $default
 * stage is not deleted and keeps AutoDeploy. Deleting the API removes them with the rest. */
int gw_api_create(gw_store *s, gw_api *a, gw_error *err);
/* Quick create (CreateApi with Target), in one transaction: the API and, managed, an
 * integration to target (an http:// or https:// URL: HTTP_PROXY, payload 1.0, https then
 * refused as for any HTTP_PROXY; else a function, its name or Lambda ARN: AWS_PROXY, payload
 * 2.0), a route to it (route_key, "$default" when NULL) and the $default stage with
 * AutoDeploy. target NULL: gw_api_create (route_key must then be NULL). */
int gw_api_create_quick(gw_store *s, gw_api *a, const char *target, const char *route_key,
                        gw_error *err);
/* UpdateApi: the API's record and, for an API made by quick create, Target and RouteKey (NULL:
 * unchanged): route_key becomes the managed route's key, target the managed integration's URI
 * (with the type and payload quick create gives it when the type changes). All in one
 * transaction, deployed to the AutoDeploy stages. Target or RouteKey on an API not made by
 * quick create: GW_E_BAD_REQUEST. */
int gw_api_update_quick(gw_store *s, const gw_api *a, const char *target, const char *route_key,
                        gw_error *err);
int gw_api_get(gw_store *s, const char *api_id, gw_api **ret, gw_error *err);
int gw_api_list(gw_store *s, gw_api ***ret, size_t *ret_n, gw_error *err);
int gw_api_update(gw_store *s, const gw_api *a, gw_error *err);
int gw_api_delete(gw_store *s, const char *api_id, gw_error *err); /* with all it holds */

int gw_route_create(gw_store *s, const char *api_id, gw_route *r, gw_error *err);
int gw_route_get(gw_store *s, const char *api_id, const char *route_id, gw_route **ret,
                 gw_error *err);
int gw_route_list(gw_store *s, const char *api_id, gw_route ***ret, size_t *ret_n, gw_error *err);
int gw_route_update(gw_store *s, const char *api_id, const gw_route *r, gw_error *err);
int gw_route_delete(gw_store *s, const char *api_id, const char *route_id, gw_error *err);

int gw_integration_create(gw_store *s, const char *api_id, gw_integration *i, gw_error *err);
int gw_integration_get(gw_store *s, const char *api_id, const char *int_id,
                       gw_integration **ret, gw_error *err);
int gw_integration_list(gw_store *s, const char *api_id, gw_integration ***ret, size_t *ret_n,
                        gw_error *err);
int gw_integration_update(gw_store *s, const char *api_id, const gw_integration *i,
                          gw_error *err);
int gw_integration_delete(gw_store *s, const char *api_id, const char *int_id, gw_error *err);

int gw_stage_create(gw_store *s, const char *api_id, gw_stage *st, gw_error *err);
int gw_stage_get(gw_store *s, const char *api_id, const char *name, gw_stage **ret,
                 gw_error *err);
int gw_stage_list(gw_store *s, const char *api_id, gw_stage ***ret, size_t *ret_n, gw_error *err);
int gw_stage_update(gw_store *s, const char *api_id, const gw_stage *st, gw_error *err);
int gw_stage_delete(gw_store *s, const char *api_id, const char *name, gw_error *err);

int gw_deployment_create(gw_store *s, const char *api_id, const char *stage, gw_deployment *d,
                         gw_error *err);
int gw_deployment_get(gw_store *s, const char *api_id, const char *dep_id,
                      gw_deployment **ret, gw_error *err);
int gw_deployment_list(gw_store *s, const char *api_id, gw_deployment ***ret, size_t *ret_n,
                       gw_error *err);
/* UpdateDeployment: only its description changes (the routes it froze stay). */
int gw_deployment_update(gw_store *s, const char *api_id, const char *dep_id,
                         const char *description, gw_deployment **ret, gw_error *err);
int gw_deployment_delete(gw_store *s, const char *api_id, const char *dep_id, gw_error *err);

/* ---- validation (pure) ---- */
/* "$default", or "METHOD /path" with METHOD one of GET POST PUT PATCH DELETE HEAD OPTIONS ANY,
 * a path of /-separated segments, each literal text, {name} or (last only) {name+}. */
bool gw_route_key_valid(const char *key, char *why, size_t why_len);
/* An AWS_PROXY integration's function: the name or Lambda ARN that uri gives (a function name,
 * arn:aws:lambda:REGION:ACCOUNT:function:NAME, or
 * arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/LAMBDA_ARN/invocations), copied
 * into out. -EINVAL when uri is none of them (or does not fit). */
int gw_lambda_function(const char *uri, char *out, size_t out_len);

/* ---- match.c: the data plane's compiled view ---- */
typedef struct gw_snapshot gw_snapshot;
/* The newest snapshot (taken or rebuilt), referenced: drop with gw_snapshot_unref. */
gw_snapshot *gw_store_snapshot(gw_store *s, gw_error *err);
void gw_snapshot_unref(gw_snapshot *snap);

typedef struct gw_kv {
        const char *name, *value; /* owned by the match */
} gw_kv;

/* What one request selected. Pointers into the snapshot stay valid while it is referenced. */
typedef struct gw_match {
        const gw_api *api;
        const gw_stage *stage;
        const gw_route *route;          /* NULL: no route matched (404 {"message":"Not Found"}) */
        const gw_integration *integration; /* NULL: the route has no target */
        const char *route_key;          /* the route's key ("$default" for the default route) */
        const char *stage_path;         /* the path after the stage prefix, "/..." */
        gw_kv params[GW_PATH_PARAMS_MAX]; /* path parameters, {proxy+} as "proxy" */
        size_t n_params;
        gw_throttle throttle;           /* in force for this route: route setting, else the
                                           stage's default, else unset (rate < 0) */
        char *buf;                      /* backing store of params: gw_match_done frees it */
} gw_match;

/* Which API a request on the --api-listen listener is for: the API whose id is the first label
 * of the Host header ("ID.execute-api.anything" or "ID.localhost"); without such a Host, the only
 * API when there is exactly one. NULL when none (404). */
const gw_api *gw_select_api(const gw_snapshot *snap, const char *host);

/* API Gateway's selection for HTTP APIs: the stage is the first path segment when a stage of
 * that name exists, else the $default stage (at the root); then the most specific route: exact
 * method before ANY, literal segments before {param}, {param} before {proxy+} greedy paths,
 * $default last. path is the decoded path without the query. 0 and m filled (m->route may be
 * NULL); -ENOENT when the API has no stage for the path. */
int gw_match_request(const gw_snapshot *snap, const gw_api *api, const char *method,
                     const char *path, gw_match *m);
void gw_match_done(gw_match *m);

/* ---- throttle.c: token buckets ---- */
typedef struct gw_bucket {
        double tokens;
        uint64_t last_ms;
} gw_bucket;
/* Takes one token at now_ms from a bucket of `burst` tokens refilled at `rate` per second:
 * true when the request may pass. A bucket starts full. */
bool gw_bucket_take(gw_bucket *b, const gw_throttle *t, uint64_t now_ms);

#endif
