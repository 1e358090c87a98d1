/* SPDX-License-Identifier: Apache-2.0 */
/* apigatewayv2's control plane (issue 17): the REST JSON API the AWS CLI's `aws apigatewayv2`
 * speaks, an adapter of the front door over the HTTP APIs' store (src/gw). It parses each
 * request into the model's records, calls the store and renders API Gateway's shapes
 * (camelCase members, 201 for creates, 204 for deletes, errors as x-amzn-ErrorType +
 * {"message"}).
 *
 *   POST|GET             /v2/apis                     CreateApi (quick create too) / GetApis
 *   GET|PATCH|DELETE     /v2/apis/ID                  GetApi / UpdateApi (quick create's
 *                                                     Target and RouteKey too) / DeleteApi
 *   DELETE               /v2/apis/ID/cors             DeleteCorsConfiguration
 *   POST|GET             /v2/apis/ID/routes           CreateRoute / GetRoutes
 *   GET|PATCH|DELETE     /v2/apis/ID/routes/RID       GetRoute / UpdateRoute / DeleteRoute
 *   ... the same for /integrations, /stages (by name) and /deployments
 *   DELETE               /v2/apis/ID/stages/S/routesettings/KEY   DeleteRouteSettings
 *   DELETE               /v2/apis/ID/stages/S/accesslogsettings   DeleteAccessLogSettings
 *   POST|GET|DELETE      /v2/tags/ARN                 TagResource / GetTags / UntagResource
 * Lists page with maxResults (1..GW_PAGE_MAX) and nextToken (an offset). What husk does not
 * have (WebSocket APIs, authorizers, models, parameter mapping, VPC links, ...) is refused with
 * BadRequestException naming it, never silently ignored. What quick create made answers
 * "apiGatewayManaged": true; the store keeps it and refuses what AWS forbids for it. */
#include "serve.h"
#include "gw/gw.h"
#include "util/json.h"
#include "util/util.h"

#include <math.h>
#include <string.h>

#define GW_BODY_MAX (256u << 10)
#define GW_PAGE_DEFAULT 100
#define GW_PAGE_MAX 500
#define GW_SEGS_MAX 8

typedef struct ctx {
        gw_store *g;
        const serve_req *r;
        serve_resp *w;
        char region[64];
        char endpoint[256];
} ctx;

/* ---------------------------------------------------------------- answers */

/* API Gateway's errors: x-amzn-ErrorType and {"message"}. */
#define errorf(c, status, type, ...)                                                              \
        serve_rest_error((c)->w, status, type, false, "message", __VA_ARGS__)
#define error_out(c, status, type, msg) errorf(c, status, type, "%s", msg)

#define BAD(c, ...) errorf(c, 400, "BadRequestException", __VA_ARGS__)

static void store_error(ctx *c, const gw_error *e)
{
        switch (e->code) {
        case GW_E_NOT_FOUND: error_out(c, 404, "NotFoundException", e->msg); break;
        case GW_E_BAD_REQUEST: error_out(c, 400, "BadRequestException", e->msg); break;
        case GW_E_CONFLICT: error_out(c, 409, "ConflictException", e->msg); break;
        case GW_E_LIMIT: error_out(c, 429, "TooManyRequestsException", e->msg); break;
        default: error_out(c, 500, "InternalServerErrorException", e->msg); break;
        }
}

static void send_json(ctx *c, unsigned status, json_writer *j)
{
        char *b = json_writer_finish(j);
        serve_resp_set(c->w, status, "application/json", b, strlen(b));
}

static void no_content(ctx *c)
{
        serve_resp_set(c->w, 204, NULL, NULL, 0);
}

/* ---------------------------------------------------------------- rendering */

static void kv_map(json_writer *j, const char *key, char *const *kv)
{
        json_key(j, key);
        json_obj_begin(j);
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                json_kv_str(j, kv[i], kv[i + 1]);
        json_obj_end(j);
}

static void str_list(json_writer *j, const char *key, char *const *v)
{
        json_key(j, key);
        json_arr_begin(j);
        for (size_t i = 0; v && v[i]; i++)
                json_str(j, v[i]);
        json_arr_end(j);
}

static void w_opt(json_writer *j, const char *key, const char *s)
{
        if (s)
                json_kv_str(j, key, s);
}

/* ApiEndpoint: the --api-listen listener's address when the server has one. On a loopback or
 * wildcard address it names the API in the host (http://ID.localhost:PORT, which HTTP clients
 * resolve to the loopback address): the gateway selects the API by that name. Elsewhere the
 * listener's own address (the API is then chosen by a Host header ID.execute-api.*, or is the
 * only one). */
static char *api_endpoint(ctx *c, const char *id)
{
        if (!*c->endpoint)
                return NULL;
        const char *hp = strncmp(c->endpoint, "http://", 7) == 0 ? c->endpoint + 7 : c->endpoint;
        const char *colon = strrchr(hp, ':');
        if (!colon)
                return xstrdup(c->endpoint);
        size_t hl = (size_t)(colon - hp);
        static const char *const local[] = { "127.0.0.1", "localhost", "0.0.0.0", "[::1]", "[::]",
                                             "::1", "::" };
        for (size_t i = 0; i < ARRAY_SIZE(local); i++)
                if (strlen(local[i]) == hl && strncmp(hp, local[i], hl) == 0)
                        return xasprintf("http://%s.localhost%s", id, colon);
        return xstrdup(c->endpoint);
}

static void cors_json(json_writer *j, const gw_cors *cors)
{
        json_key(j, "corsConfiguration");
        json_obj_begin(j);
        json_kv_bool(j, "allowCredentials", cors->allow_credentials);
        if (cors->allow_headers)
                str_list(j, "allowHeaders", cors->allow_headers);
        if (cors->allow_methods)
                str_list(j, "allowMethods", cors->allow_methods);
        if (cors->allow_origins)
                str_list(j, "allowOrigins", cors->allow_origins);
        if (cors->expose_headers)
                str_list(j, "exposeHeaders", cors->expose_headers);
        if (cors->max_age >= 0)
                json_kv_int(j, "maxAge", cors->max_age);
        json_obj_end(j);
}

static void api_json(ctx *c, json_writer *j, const gw_api *a)
{
        json_obj_begin(j);
        _cleanup_free_ char *ep = api_endpoint(c, a->id);
        if (ep && !a->disable_execute_api_endpoint)
                json_kv_str(j, "apiEndpoint", ep);
        json_kv_bool(j, "apiGatewayManaged", false);
        json_kv_str(j, "apiId", a->id);
        w_opt(j, "apiKeySelectionExpression", a->api_key_selection_expression);
        if (a->cors)
                cors_json(j, a->cors);
        json_kv_str(j, "createdDate", a->created);
        w_opt(j, "description", a->description);
        json_kv_bool(j, "disableExecuteApiEndpoint", a->disable_execute_api_endpoint);
        json_kv_str(j, "name", a->name);
        json_kv_str(j, "protocolType", a->protocol);
        w_opt(j, "routeSelectionExpression", a->route_selection_expression);
        kv_map(j, "tags", a->tags);
        w_opt(j, "version", a->version);
        json_obj_end(j);
}

static void route_json(json_writer *j, const gw_route *r)
{
        json_obj_begin(j);
        json_kv_bool(j, "apiGatewayManaged", r->managed);
        json_kv_bool(j, "apiKeyRequired", false);
        json_kv_str(j, "authorizationType", r->authorization_type ? r->authorization_type : "NONE");
        w_opt(j, "operationName", r->operation_name);
        json_kv_str(j, "routeId", r->id);
        json_kv_str(j, "routeKey", r->route_key);
        w_opt(j, "target", r->target);
        json_obj_end(j);
}

static void integration_json(json_writer *j, const gw_integration *i)
{
        json_obj_begin(j);
        json_kv_bool(j, "apiGatewayManaged", i->managed);
        w_opt(j, "connectionType", i->connection_type);
        w_opt(j, "description", i->description);
        json_kv_str(j, "integrationId", i->id);
        w_opt(j, "integrationMethod", i->method);
        json_kv_str(j, "integrationType", i->type == GW_INT_HTTP_PROXY ? "HTTP_PROXY" : "AWS_PROXY");
        w_opt(j, "integrationUri", i->uri);
        w_opt(j, "payloadFormatVersion", i->payload_format_version);
        json_kv_uint(j, "timeoutInMillis", i->timeout_ms);
        json_obj_end(j);
}

static void throttle_json(json_writer *j, const gw_throttle *t, bool detailed)
{
        json_obj_begin(j);
        json_kv_bool(j, "detailedMetricsEnabled", detailed);
        if (t->burst >= 0)
                json_kv_int(j, "throttlingBurstLimit", t->burst);
        if (t->rate >= 0) {
                json_key(j, "throttlingRateLimit");
                if (t->rate == floor(t->rate))
                        json_fixed(j, t->rate, 1);
                else
                        json_fixed(j, t->rate, 6);
        }
        json_obj_end(j);
}

static void stage_json(json_writer *j, const gw_stage *s)
{
        json_obj_begin(j);
        if (s->access_log_destination) {
                json_key(j, "accessLogSettings");
                json_obj_begin(j);
                json_kv_str(j, "destinationArn", s->access_log_destination);
                w_opt(j, "format", s->access_log_format);
                json_obj_end(j);
        }
        json_kv_bool(j, "apiGatewayManaged", s->managed);
        json_kv_bool(j, "autoDeploy", s->auto_deploy);
        json_kv_str(j, "createdDate", s->created);
        json_key(j, "defaultRouteSettings");
        throttle_json(j, &s->default_throttle, false);
        w_opt(j, "deploymentId", s->deployment_id);
        w_opt(j, "description", s->description);
        if (s->auto_deploy && s->deployment_id) {
                _cleanup_free_ char *m = xasprintf("Successfully deployed stage with deployment "
                                                   "ID '%s'", s->deployment_id);
                json_kv_str(j, "lastDeploymentStatusMessage", m);
        }
        json_kv_str(j, "lastUpdatedDate", s->updated);
        json_key(j, "routeSettings");
        json_obj_begin(j);
        for (size_t i = 0; i < s->n_route_settings; i++) {
                json_key(j, s->route_settings[i].route_key);
                throttle_json(j, &s->route_settings[i].throttle,
                              s->route_settings[i].detailed_metrics);
        }
        json_obj_end(j);
        json_kv_str(j, "stageName", s->name);
        kv_map(j, "stageVariables", s->variables);
        kv_map(j, "tags", s->tags);
        json_obj_end(j);
}

static void deployment_json(json_writer *j, const gw_deployment *d)
{
        json_obj_begin(j);
        json_kv_bool(j, "autoDeployed", d->auto_deployed);
        json_kv_str(j, "createdDate", d->created);
        json_kv_str(j, "deploymentId", d->id);
        json_kv_str(j, "deploymentStatus", d->status ? d->status : "DEPLOYED");
        w_opt(j, "description", d->description);
        json_obj_end(j);
}

/* ---------------------------------------------------------------- parsing */

static json_value *parse_body(ctx *c)
{
        json_value *v = NULL;
        char why[128];
        if (c->r->len > GW_BODY_MAX) {
                BAD(c, "the request body is larger than %u bytes", GW_BODY_MAX);
                return NULL;
        }
        if (utf8_valid_prefix(c->r->body, c->r->len) != c->r->len) {
                BAD(c, "the request body is not valid UTF-8");
                return NULL;
        }
        if (c->r->len == 0) {
                v = xcalloc(1, sizeof(*v));
                v->type = JSON_OBJECT;
                return v;
        }
        if (json_parse(c->r->body, c->r->len, &v, why, sizeof(why)) < 0 || v->type != JSON_OBJECT) {
                BAD(c, "Could not parse request body into json: %s", v ? "not an object" : why);
                json_value_free(v);
                return NULL;
        }
        return v;
}

/* A member of type t, NULL when absent or null; *bad (and the answer) when of another type. */
static const json_value *member(ctx *c, const json_value *o, const char *key, json_type t,
                                bool *bad)
{
        if (*bad)
                return NULL;
        const json_value *v = json_get(o, key);
        if (!v || v->type == JSON_NULL)
                return NULL;
        if (v->type != t) {
                static const char *const names[] = { "null", "a boolean", "a number", "a string",
                                                     "a list", "an object" };
                BAD(c, "%s must be %s", key, names[t]);
                *bad = true;
                return NULL;
        }
        return v;
}

static void set_str(char **f, const json_value *v)
{
        if (!v)
                return;
        free(*f);
        *f = xstrdup(v->str);
}

static bool get_int(ctx *c, const json_value *v, const char *key, int64_t min, int64_t max,
                    int64_t *ret, bool *bad)
{
        int64_t x;
        if (!v)
                return false;
        if (parse_int64(v->str, &x) < 0 || x < min || x > max) {
                BAD(c, "%s %s: a whole number from %lld to %lld", key, v->str, (long long)min,
                    (long long)max);
                *bad = true;
                return false;
        }
        *ret = x;
        return true;
}

static char **strings(ctx *c, const json_value *v, const char *key, size_t max, bool *bad)
{
        if (!v || *bad)
                return NULL;
        if (v->n > max) {
                BAD(c, "%s: at most %zu items", key, max);
                *bad = true;
                return NULL;
        }
        char **out = xcalloc(v->n + 1, sizeof(char *));
        for (size_t i = 0; i < v->n; i++) {
                if (v->items[i]->type != JSON_STRING || strlen(v->items[i]->str) > 1024) {
                        strv_free(out);
                        BAD(c, "%s: a list of strings (each at most 1024 bytes)", key);
                        *bad = true;
                        return NULL;
                }
                out[i] = xstrdup(v->items[i]->str);
        }
        return out;
}

/* A string map ({"k": "v"}) as key, value, ..., NULL. */
static char **str_map(ctx *c, const json_value *v, const char *key, size_t max, bool *bad)
{
        if (!v || *bad)
                return NULL;
        if (v->n > max) {
                BAD(c, "%s: at most %zu entries", key, max);
                *bad = true;
                return NULL;
        }
        char **out = xcalloc(2 * v->n + 1, sizeof(char *));
        for (size_t i = 0; i < v->n; i++) {
                if (v->items[i]->type != JSON_STRING) {
                        strv_free(out);
                        BAD(c, "%s: values are strings", key);
                        *bad = true;
                        return NULL;
                }
                out[2 * i] = xstrdup(v->keys[i]);
                out[2 * i + 1] = xstrdup(v->items[i]->str);
        }
        return out;
}

/* Merges the pairs of add into *kv (a key given again replaces its value; "" drops it when
 * drop_empty). */
static void merge_kv(char ***kv, char **add, bool drop_empty)
{
        size_t n = strv_length(*kv);
        for (size_t i = 0; add && add[i] && add[i + 1]; i += 2) {
                size_t at = 0;
                while (at < n && strcmp((*kv)[at], add[i]) != 0)
                        at += 2;
                if (at < n) {
                        free((*kv)[at + 1]);
                        (*kv)[at + 1] = xstrdup(add[i + 1]);
                        continue;
                }
                *kv = xrealloc(*kv, (n + 3) * sizeof(char *));
                (*kv)[n++] = xstrdup(add[i]);
                (*kv)[n++] = xstrdup(add[i + 1]);
                (*kv)[n] = NULL;
        }
        if (!drop_empty || !*kv)
                return;
        size_t o = 0;
        for (size_t i = 0; i + 1 < n; i += 2) {
                if (!*(*kv)[i + 1]) {
                        free((*kv)[i]);
                        free((*kv)[i + 1]);
                        continue;
                }
                (*kv)[o++] = (*kv)[i];
                (*kv)[o++] = (*kv)[i + 1];
        }
        (*kv)[o] = NULL;
}

/* Members that name a feature husk does not have: refused, naming it. */
static bool refuse(ctx *c, const json_value *o, const char *const *keys, size_t n,
                   const char *what)
{
        for (size_t i = 0; i < n; i++) {
                const json_value *v = json_get(o, keys[i]);
                if (!v || v->type == JSON_NULL || (v->type == JSON_BOOL && !v->boolean) ||
                    ((v->type == JSON_OBJECT || v->type == JSON_ARRAY) && v->n == 0))
                        continue;
                BAD(c, "%s is not supported by husk (%s)", keys[i], what);
                return true;
        }
        return false;
}

static void cors_free(gw_cors *cors)
{
        if (!cors)
                return;
        strv_free(cors->allow_origins);
        strv_free(cors->allow_methods);
        strv_free(cors->allow_headers);
        strv_free(cors->expose_headers);
        free(cors);
}

static int parse_cors(ctx *c, const json_value *v, gw_cors **ret)
{
        bool bad = false;
        gw_cors *cors = xcalloc(1, sizeof(*cors));
        cors->max_age = -1;
        const json_value *x;
        cors->allow_origins = strings(c, member(c, v, "allowOrigins", JSON_ARRAY, &bad),
                                      "CorsConfiguration.AllowOrigins", 100, &bad);
        cors->allow_methods = strings(c, member(c, v, "allowMethods", JSON_ARRAY, &bad),
                                      "CorsConfiguration.AllowMethods", 100, &bad);
        cors->allow_headers = strings(c, member(c, v, "allowHeaders", JSON_ARRAY, &bad),
                                      "CorsConfiguration.AllowHeaders", 100, &bad);
        cors->expose_headers = strings(c, member(c, v, "exposeHeaders", JSON_ARRAY, &bad),
                                       "CorsConfiguration.ExposeHeaders", 100, &bad);
        if ((x = member(c, v, "allowCredentials", JSON_BOOL, &bad)))
                cors->allow_credentials = x->boolean;
        int64_t age;
        if (get_int(c, member(c, v, "maxAge", JSON_NUMBER, &bad), "CorsConfiguration.MaxAge", -1,
                    86400, &age, &bad))
                cors->max_age = (int)age;
        if (!bad && cors->allow_credentials && cors->allow_origins)
                for (size_t i = 0; cors->allow_origins[i]; i++)
                        if (strcmp(cors->allow_origins[i], "*") == 0) {
                                BAD(c, "CorsConfiguration: allowCredentials cannot be true when "
                                       "allowOrigins holds *");
                                bad = true;
                                break;
                        }
        if (bad) {
                cors_free(cors);
                return -1;
        }
        *ret = cors;
        return 0;
}

/* The members of CreateApi/UpdateApi onto a. */
static int apply_api(ctx *c, const json_value *o, gw_api *a, bool create)
{
        static const char *const unsupported[] = { "credentialsArn", "disableSchemaValidation" };
        if (refuse(c, o, unsupported, ARRAY_SIZE(unsupported), "no IAM roles, no WebSocket APIs"))
                return -1;
        bool bad = false;
        const json_value *v;
        set_str(&a->name, member(c, o, "name", JSON_STRING, &bad));
        set_str(&a->description, member(c, o, "description", JSON_STRING, &bad));
        set_str(&a->version, member(c, o, "version", JSON_STRING, &bad));
        set_str(&a->route_selection_expression,
                member(c, o, "routeSelectionExpression", JSON_STRING, &bad));
        set_str(&a->api_key_selection_expression,
                member(c, o, "apiKeySelectionExpression", JSON_STRING, &bad));
        if ((v = member(c, o, "protocolType", JSON_STRING, &bad))) {
                if (!create) {
                        BAD(c, "ProtocolType cannot be changed");
                        return -1;
                }
                if (strcmp(v->str, "HTTP") != 0) {
                        BAD(c, "ProtocolType %.32s is not supported: husk serves HTTP APIs only "
                               "(no WEBSOCKET APIs)", v->str);
                        return -1;
                }
                set_str(&a->protocol, v);
        }
        if ((v = member(c, o, "disableExecuteApiEndpoint", JSON_BOOL, &bad)))
                a->disable_execute_api_endpoint = v->boolean;
        if ((v = member(c, o, "corsConfiguration", JSON_OBJECT, &bad))) {
                gw_cors *cors = NULL;
                if (parse_cors(c, v, &cors) < 0)
                        return -1;
                cors_free(a->cors);
                a->cors = cors;
        }
        if (create && (v = member(c, o, "tags", JSON_OBJECT, &bad)))
                a->tags = str_map(c, v, "Tags", GW_TAGS_MAX, &bad);
        return bad ? -1 : 0;
}

/* The members of CreateIntegration/UpdateIntegration onto i. */
static int apply_integration(ctx *c, const json_value *o, gw_integration *i, bool create)
{
        static const char *const unsupported[] = {
                "connectionId",      "credentialsArn",         "integrationSubtype",
                "requestParameters", "requestTemplates",       "responseParameters",
                "tlsConfig",         "contentHandlingStrategy", "passthroughBehavior",
                "templateSelectionExpression",
        };
        if (refuse(c, o, unsupported, ARRAY_SIZE(unsupported),
                   "integrations are AWS_PROXY to a function or HTTP_PROXY to a URL, without "
                   "parameter mapping, IAM or VPC links"))
                return -1;
        bool bad = false;
        const json_value *v;
        if ((v = member(c, o, "integrationType", JSON_STRING, &bad))) {
                if (strcmp(v->str, "AWS_PROXY") == 0)
                        i->type = GW_INT_AWS_PROXY;
                else if (strcmp(v->str, "HTTP_PROXY") == 0)
                        i->type = GW_INT_HTTP_PROXY;
                else {
                        BAD(c, "IntegrationType %.32s is not supported: AWS_PROXY (a function) or "
                               "HTTP_PROXY (a URL)", v->str);
                        return -1;
                }
        } else if (create && !bad) {
                BAD(c, "IntegrationType is required: AWS_PROXY or HTTP_PROXY");
                return -1;
        }
        set_str(&i->uri, member(c, o, "integrationUri", JSON_STRING, &bad));
        set_str(&i->method, member(c, o, "integrationMethod", JSON_STRING, &bad));
        set_str(&i->payload_format_version, member(c, o, "payloadFormatVersion", JSON_STRING, &bad));
        set_str(&i->description, member(c, o, "description", JSON_STRING, &bad));
        set_str(&i->connection_type, member(c, o, "connectionType", JSON_STRING, &bad));
        int64_t t;
        if (get_int(c, member(c, o, "timeoutInMillis", JSON_NUMBER, &bad), "TimeoutInMillis",
                    GW_TIMEOUT_MIN_MS, GW_TIMEOUT_MAX_MS, &t, &bad))
                i->timeout_ms = (unsigned)t;
        if (!bad && i->type == GW_INT_HTTP_PROXY && i->uri && strncmp(i->uri, "https://", 8) == 0) {
                BAD(c, "IntegrationUri %.200s: husk's HTTP_PROXY integrations speak http:// (to "
                       "a husk service, an IP address or localhost), not https", i->uri);
                return -1;
        }
        return bad ? -1 : 0;
}

static int apply_route(ctx *c, const json_value *o, gw_route *r)
{
        static const char *const unsupported[] = {
                "authorizerId",  "authorizationScopes",   "apiKeyRequired",
                "requestModels", "requestParameters",     "modelSelectionExpression",
                "routeResponseSelectionExpression",
        };
        if (refuse(c, o, unsupported, ARRAY_SIZE(unsupported),
                   "routes have no authorizers, API keys, models or parameter checks"))
                return -1;
        bool bad = false;
        set_str(&r->route_key, member(c, o, "routeKey", JSON_STRING, &bad));
        set_str(&r->target, member(c, o, "target", JSON_STRING, &bad));
        set_str(&r->authorization_type, member(c, o, "authorizationType", JSON_STRING, &bad));
        set_str(&r->operation_name, member(c, o, "operationName", JSON_STRING, &bad));
        if (r->target && !*r->target) { /* "": the route loses its target (404 until set) */
                free(r->target);
                r->target = NULL;
        }
        if (!bad && r->authorization_type && strcmp(r->authorization_type, "NONE") != 0) {
                BAD(c, "AuthorizationType %.32s is not supported: husk has no authorizers "
                       "(NONE only)", r->authorization_type);
                return -1;
        }
        return bad ? -1 : 0;
}

/* RouteSettings / DefaultRouteSettings: throttling and detailed metrics. */
static int parse_settings(ctx *c, const json_value *v, const char *what, gw_throttle *t,
                          bool *detailed)
{
        bool bad = false;
        const json_value *x;
        static const char *const unsupported[] = { "dataTraceEnabled", "loggingLevel" };
        if (refuse(c, v, unsupported, ARRAY_SIZE(unsupported), "WebSocket APIs' logging"))
                return -1;
        if ((x = member(c, v, "throttlingRateLimit", JSON_NUMBER, &bad))) {
                char *end = NULL;
                double d = strtod(x->str, &end);
                if (!end || *end || !isfinite(d) || d < 0 || d > 1e6) {
                        BAD(c, "%s.ThrottlingRateLimit %s: 0 to 1000000 requests per second", what,
                            x->str);
                        return -1;
                }
                t->rate = d;
        }
        int64_t b;
        if (get_int(c, member(c, v, "throttlingBurstLimit", JSON_NUMBER, &bad), "ThrottlingBurstLimit",
                    0, 1000000, &b, &bad))
                t->burst = b;
        if ((x = member(c, v, "detailedMetricsEnabled", JSON_BOOL, &bad)) && detailed)
                *detailed = x->boolean;
        return bad ? -1 : 0;
}

/* An access log's destination: a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*])
 * or a file path. The gateway writes either to STORE/gw/logs/NAME.log, NAME the log group or the
 * path's last component, never to a path of the host: the keys that configure a stage are in
 * every function's environment. */
static bool log_destination_ok(const char *d)
{
        const char *lg = strstr(d, ":log-group:");
        if (strncmp(d, "arn:", 4) == 0)
                return strncmp(d, "arn:aws:logs:", 13) == 0 && lg && lg[11] && lg[11] != ':';
        const char *last = strrchr(d, '/');
        return *(last ? last + 1 : d) != '\0';
}

static void set_route_setting(gw_stage *s, const char *key, const gw_throttle *t, bool detailed)
{
        for (size_t i = 0; i < s->n_route_settings; i++)
                if (strcmp(s->route_settings[i].route_key, key) == 0) {
                        s->route_settings[i].throttle = *t;
                        s->route_settings[i].detailed_metrics = detailed;
                        return;
                }
        s->route_settings = xrealloc(s->route_settings,
                                     (s->n_route_settings + 1) * sizeof(*s->route_settings));
        s->route_settings[s->n_route_settings++] =
                (gw_route_setting){ .route_key = xstrdup(key), .throttle = *t,
                                    .detailed_metrics = detailed };
}

static int apply_stage(ctx *c, const json_value *o, gw_stage *s, bool create)
{
        static const char *const unsupported[] = { "clientCertificateId" };
        if (refuse(c, o, unsupported, ARRAY_SIZE(unsupported), "no client certificates"))
                return -1;
        bool bad = false;
        const json_value *v;
        if (create)
                set_str(&s->name, member(c, o, "stageName", JSON_STRING, &bad));
        set_str(&s->description, member(c, o, "description", JSON_STRING, &bad));
        set_str(&s->deployment_id, member(c, o, "deploymentId", JSON_STRING, &bad));
        if ((v = member(c, o, "autoDeploy", JSON_BOOL, &bad)))
                s->auto_deploy = v->boolean;
        if (!bad && s->auto_deploy && json_get_str(o, "deploymentId")) {
                BAD(c, "DeploymentId: a stage with AutoDeploy is deployed at every change; give "
                       "no DeploymentId");
                return -1;
        }
        if ((v = member(c, o, "defaultRouteSettings", JSON_OBJECT, &bad))) {
                gw_throttle t = { .rate = -1, .burst = -1 };
                if (parse_settings(c, v, "DefaultRouteSettings", &t, NULL) < 0)
                        return -1;
                s->default_throttle = t;
        }
        if ((v = member(c, o, "routeSettings", JSON_OBJECT, &bad))) {
                if (v->n > GW_ROUTES_MAX) {
                        BAD(c, "RouteSettings: at most %d (GW_ROUTES_MAX)", GW_ROUTES_MAX);
                        return -1;
                }
                for (size_t i = 0; i < v->n; i++) {
                        gw_throttle t = { .rate = -1, .burst = -1 };
                        bool detailed = false;
                        if (v->items[i]->type != JSON_OBJECT) {
                                BAD(c, "RouteSettings: an object per route key");
                                return -1;
                        }
                        if (parse_settings(c, v->items[i], "RouteSettings", &t, &detailed) < 0)
                                return -1;
                        set_route_setting(s, v->keys[i], &t, detailed);
                }
        }
        if ((v = member(c, o, "accessLogSettings", JSON_OBJECT, &bad))) {
                const json_value *d = member(c, v, "destinationArn", JSON_STRING, &bad),
                                 *f = member(c, v, "format", JSON_STRING, &bad);
                if (bad)
                        return -1;
                if (!d || !f) {
                        BAD(c, "AccessLogSettings: DestinationArn and Format are required");
                        return -1;
                }
                if (!log_destination_ok(d->str)) {
                        BAD(c, "AccessLogSettings.DestinationArn %.200s: a log group ARN "
                               "(arn:aws:logs:REGION:ACCOUNT:log-group:NAME) or a file name, "
                               "written to STORE/gw/logs/NAME.log", d->str);
                        return -1;
                }
                if (!strstr(f->str, "$context.requestId") &&
                    !strstr(f->str, "$context.extendedRequestId")) {
                        BAD(c, "AccessLogSettings.Format must contain $context.requestId or "
                               "$context.extendedRequestId");
                        return -1;
                }
                set_str(&s->access_log_destination, d);
                set_str(&s->access_log_format, f);
        }
        if ((v = member(c, o, "stageVariables", JSON_OBJECT, &bad))) {
                _cleanup_strv_ char **add = str_map(c, v, "StageVariables", 100, &bad);
                if (!bad)
                        merge_kv(&s->variables, add, !create);
        }
        if (create && (v = member(c, o, "tags", JSON_OBJECT, &bad)))
                s->tags = str_map(c, v, "Tags", GW_TAGS_MAX, &bad);
        return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- paging */

typedef struct page {
        size_t start, max;
} page;

static int page_of(ctx *c, page *p)
{
        serve_kv *q = NULL;
        size_t nq = 0;
        p->start = 0;
        p->max = GW_PAGE_DEFAULT;
        if (serve_form_parse(c->r->query, strlen(c->r->query), 16, &q, &nq) < 0) {
                BAD(c, "the query string is not valid");
                return -1;
        }
        const char *mr = serve_kvs_get(q, nq, "maxResults"), *nt = serve_kvs_get(q, nq, "nextToken");
        uint32_t x;
        int rc = 0;
        if (mr && (parse_uint32(mr, &x) < 0 || x < 1 || x > GW_PAGE_MAX)) {
                BAD(c, "MaxResults %.20s: 1 to %d", mr, GW_PAGE_MAX);
                rc = -1;
        } else if (mr) {
                p->max = x;
        }
        if (rc == 0 && nt && *nt) {
                if (parse_uint32(nt, &x) < 0) {
                        BAD(c, "NextToken %.40s: not a token of this server", nt);
                        rc = -1;
                } else {
                        p->start = x;
                }
        }
        serve_kvs_free(q, nq);
        return rc;
}

/* {"items": [...], "nextToken"}: the page of n records rendered by each. */
static void send_page(ctx *c, const page *p, void **recs, size_t n,
                      void (*each)(ctx *, json_writer *, const void *))
{
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_key(j, "items");
        json_arr_begin(j);
        size_t i;
        for (i = p->start; i < n && i < p->start + p->max; i++)
                each(c, j, recs[i]);
        json_arr_end(j);
        if (i < n) {
                char tok[24];
                snprintf(tok, sizeof(tok), "%zu", i);
                json_kv_str(j, "nextToken", tok);
        }
        json_obj_end(j);
        send_json(c, 200, j);
}

static void each_api(ctx *c, json_writer *j, const void *r) { api_json(c, j, r); }
static void each_route(ctx *c, json_writer *j, const void *r) { (void)c; route_json(j, r); }
static void each_int(ctx *c, json_writer *j, const void *r) { (void)c; integration_json(j, r); }
static void each_stage(ctx *c, json_writer *j, const void *r) { (void)c; stage_json(j, r); }
static void each_dep(ctx *c, json_writer *j, const void *r) { (void)c; deployment_json(j, r); }

static void free_list(void **v, size_t n, void (*fr)(void *))
{
        for (size_t i = 0; i < n; i++)
                fr(v[i]);
        free(v);
}

/* ---------------------------------------------------------------- APIs */

static void create_api(ctx *c)
{
        json_value *o = parse_body(c);
        if (!o)
                return;
        gw_api a = { 0 };
        bool bad = false;
        const json_value *target = NULL, *rk = NULL;
        if (apply_api(c, o, &a, true) == 0) {
                target = member(c, o, "target", JSON_STRING, &bad);
                rk = member(c, o, "routeKey", JSON_STRING, &bad);
                if (!bad && !a.protocol) {
                        BAD(c, "ProtocolType is required (HTTP)");
                        bad = true;
                } else if (!bad && !a.name) {
                        BAD(c, "Name is required");
                        bad = true;
                } else if (!bad && rk && !target) {
                        BAD(c, "RouteKey is for quick create: give Target too");
                        bad = true;
                }
                /* quick create (Target): the API, its integration, route and $default stage
                 * in one transaction of the store, each ApiGatewayManaged */
                gw_error err = { 0 };
                if (!bad && gw_api_create_quick(c->g, &a, target ? target->str : NULL,
                                                rk ? rk->str : NULL, &err) < 0) {
                        store_error(c, &err);
                } else if (!bad) {
                        json_writer *j = json_writer_new(false);
                        api_json(c, j, &a);
                        send_json(c, 201, j);
                }
        }
        free(a.name);
        free(a.description);
        free(a.version);
        free(a.protocol);
        free(a.route_selection_expression);
        free(a.api_key_selection_expression);
        cors_free(a.cors);
        strv_free(a.tags);
        json_value_free(o);
}

static void list_apis(ctx *c)
{
        page p;
        if (page_of(c, &p) < 0)
                return;
        gw_api **v = NULL;
        size_t n = 0;
        gw_error err = { 0 };
        if (gw_api_list(c->g, &v, &n, &err) < 0)
                return store_error(c, &err);
        send_page(c, &p, (void **)v, n, each_api);
        free_list((void **)v, n, (void (*)(void *))gw_api_free);
}

static gw_api *load_api(ctx *c, const char *id)
{
        gw_api *a = NULL;
        gw_error err = { 0 };
        if (gw_api_get(c->g, id, &a, &err) < 0) {
                store_error(c, &err);
                return NULL;
        }
        return a;
}

static void one_api(ctx *c, const char *id, const char *m)
{
        if (strcmp(m, "DELETE") == 0) {
                gw_error err = { 0 };
                if (gw_api_delete(c->g, id, &err) < 0)
                        return store_error(c, &err);
                return no_content(c);
        }
        gw_api *a = load_api(c, id);
        if (!a)
                return;
        if (strcmp(m, "PATCH") == 0) {
                json_value *o = parse_body(c);
                gw_error err = { 0 };
                bool bad = false;
                const json_value *target = NULL, *rk = NULL;
                if (!o || apply_api(c, o, a, false) < 0) {
                        json_value_free(o);
                        gw_api_free(a);
                        return;
                }
                /* quick create's members: they change what it made (refused by the store for
                 * an API it did not make) */
                target = member(c, o, "target", JSON_STRING, &bad);
                rk = member(c, o, "routeKey", JSON_STRING, &bad);
                int rc = bad ? -1
                             : gw_api_update_quick(c->g, a, target ? target->str : NULL,
                                                   rk ? rk->str : NULL, &err);
                json_value_free(o);
                if (rc < 0) {
                        gw_api_free(a);
                        if (!bad)
                                store_error(c, &err);
                        return;
                }
        }
        json_writer *j = json_writer_new(false);
        api_json(c, j, a);
        send_json(c, 200, j);
        gw_api_free(a);
}

static void delete_cors(ctx *c, const char *id)
{
        gw_api *a = load_api(c, id);
        if (!a)
                return;
        cors_free(a->cors);
        a->cors = NULL;
        gw_error err = { 0 };
        if (gw_api_update(c->g, a, &err) < 0)
                store_error(c, &err);
        else
                no_content(c);
        gw_api_free(a);
}

/* ---------------------------------------------------------------- routes, integrations */

static void routes(ctx *c, const char *api, const char *id, const char *m)
{
        gw_error err = { 0 };
        bool post = strcmp(m, "POST") == 0, get = strcmp(m, "GET") == 0;
        if (!id && get) {
                page p;
                gw_route **v = NULL;
                size_t n = 0;
                if (page_of(c, &p) < 0)
                        return;
                if (gw_route_list(c->g, api, &v, &n, &err) < 0)
                        return store_error(c, &err);
                send_page(c, &p, (void **)v, n, each_route);
                return free_list((void **)v, n, (void (*)(void *))gw_route_free);
        }
        if (id && strcmp(m, "DELETE") == 0) {
                if (gw_route_delete(c->g, api, id, &err) < 0)
                        return store_error(c, &err);
                return no_content(c);
        }
        gw_route *r = NULL;
        if (id && gw_route_get(c->g, api, id, &r, &err) < 0)
                return store_error(c, &err);
        if (!id)
                r = xcalloc(1, sizeof(*r));
        json_value *o = post || !get ? parse_body(c) : NULL;
        int rc = 0;
        if (post || !get) {
                rc = !o || apply_route(c, o, r) < 0 ? -1 : 0;
                if (rc == 0 && post && !r->route_key) {
                        BAD(c, "RouteKey is required");
                        rc = -1;
                }
                if (rc == 0 && (post ? gw_route_create(c->g, api, r, &err)
                                     : gw_route_update(c->g, api, r, &err)) < 0) {
                        store_error(c, &err);
                        rc = -1;
                }
        }
        if (rc == 0) {
                json_writer *j = json_writer_new(false);
                route_json(j, r);
                send_json(c, post ? 201 : 200, j);
        }
        json_value_free(o);
        gw_route_free(r);
}

static void integrations(ctx *c, const char *api, const char *id, const char *m)
{
        gw_error err = { 0 };
        bool post = strcmp(m, "POST") == 0, get = strcmp(m, "GET") == 0;
        if (!id && get) {
                page p;
                gw_integration **v = NULL;
                size_t n = 0;
                if (page_of(c, &p) < 0)
                        return;
                if (gw_integration_list(c->g, api, &v, &n, &err) < 0)
                        return store_error(c, &err);
                send_page(c, &p, (void **)v, n, each_int);
                return free_list((void **)v, n, (void (*)(void *))gw_integration_free);
        }
        if (id && strcmp(m, "DELETE") == 0) {
                if (gw_integration_delete(c->g, api, id, &err) < 0)
                        return store_error(c, &err);
                return no_content(c);
        }
        gw_integration *i = NULL;
        if (id && gw_integration_get(c->g, api, id, &i, &err) < 0)
                return store_error(c, &err);
        if (!id)
                i = xcalloc(1, sizeof(*i));
        json_value *o = post || !get ? parse_body(c) : NULL;
        int rc = 0;
        if (post || !get) {
                rc = !o || apply_integration(c, o, i, post) < 0 ? -1 : 0;
                if (rc == 0 && (post ? gw_integration_create(c->g, api, i, &err)
                                     : gw_integration_update(c->g, api, i, &err)) < 0) {
                        store_error(c, &err);
                        rc = -1;
                }
                /* the update filled its defaults on a copy: show what is stored */
                if (rc == 0 && !post) {
                        gw_integration_free(i);
                        i = NULL;
                        if (gw_integration_get(c->g, api, id, &i, &err) < 0) {
                                store_error(c, &err);
                                rc = -1;
                        }
                }
        }
        if (rc == 0) {
                json_writer *j = json_writer_new(false);
                integration_json(j, i);
                send_json(c, post ? 201 : 200, j);
        }
        json_value_free(o);
        gw_integration_free(i);
}

/* ---------------------------------------------------------------- stages, deployments */

static void stages(ctx *c, const char *api, const char *name, const char *m)
{
        gw_error err = { 0 };
        bool post = strcmp(m, "POST") == 0, get = strcmp(m, "GET") == 0;
        if (!name && get) {
                page p;
                gw_stage **v = NULL;
                size_t n = 0;
                if (page_of(c, &p) < 0)
                        return;
                if (gw_stage_list(c->g, api, &v, &n, &err) < 0)
                        return store_error(c, &err);
                send_page(c, &p, (void **)v, n, each_stage);
                return free_list((void **)v, n, (void (*)(void *))gw_stage_free);
        }
        if (name && strcmp(m, "DELETE") == 0) {
                if (gw_stage_delete(c->g, api, name, &err) < 0)
                        return store_error(c, &err);
                return no_content(c);
        }
        gw_stage *s = NULL;
        if (name && gw_stage_get(c->g, api, name, &s, &err) < 0)
                return store_error(c, &err);
        if (!name) {
                s = xcalloc(1, sizeof(*s));
                s->default_throttle = (gw_throttle){ -1, -1 };
        }
        json_value *o = post || !get ? parse_body(c) : NULL;
        int rc = 0;
        if (post || !get) {
                rc = !o || apply_stage(c, o, s, post) < 0 ? -1 : 0;
                if (rc == 0 && post && !s->name) {
                        BAD(c, "StageName is required");
                        rc = -1;
                }
                if (rc == 0 && (post ? gw_stage_create(c->g, api, s, &err)
                                     : gw_stage_update(c->g, api, s, &err)) < 0) {
                        store_error(c, &err);
                        rc = -1;
                }
                /* AutoDeploy set the deployment: show what is stored */
                if (rc == 0) {
                        _cleanup_free_ char *n = xstrdup(s->name);
                        gw_stage_free(s);
                        s = NULL;
                        if (gw_stage_get(c->g, api, n, &s, &err) < 0) {
                                store_error(c, &err);
                                rc = -1;
                        }
                }
        }
        if (rc == 0) {
                json_writer *j = json_writer_new(false);
                stage_json(j, s);
                send_json(c, post ? 201 : 200, j);
        }
        json_value_free(o);
        gw_stage_free(s);
}

/* DeleteRouteSettings (key: a route key) and DeleteAccessLogSettings (key NULL). */
static void stage_part_delete(ctx *c, const char *api, const char *name, const char *key)
{
        gw_error err = { 0 };
        gw_stage *s = NULL;
        if (gw_stage_get(c->g, api, name, &s, &err) < 0)
                return store_error(c, &err);
        if (key) {
                size_t o = 0;
                bool found = false;
                for (size_t i = 0; i < s->n_route_settings; i++) {
                        if (strcmp(s->route_settings[i].route_key, key) == 0) {
                                free(s->route_settings[i].route_key);
                                found = true;
                                continue;
                        }
                        s->route_settings[o++] = s->route_settings[i];
                }
                s->n_route_settings = o;
                if (!found) {
                        errorf(c, 404, "NotFoundException", "Stage %s has no route settings for "
                               "%.200s", name, key);
                        gw_stage_free(s);
                        return;
                }
        } else {
                free(s->access_log_destination);
                free(s->access_log_format);
                s->access_log_destination = s->access_log_format = NULL;
        }
        if (gw_stage_update(c->g, api, s, &err) < 0)
                store_error(c, &err);
        else
                no_content(c);
        gw_stage_free(s);
}

static void deployments(ctx *c, const char *api, const char *id, const char *m)
{
        gw_error err = { 0 };
        if (!id && strcmp(m, "GET") == 0) {
                page p;
                gw_deployment **v = NULL;
                size_t n = 0;
                if (page_of(c, &p) < 0)
                        return;
                if (gw_deployment_list(c->g, api, &v, &n, &err) < 0)
                        return store_error(c, &err);
                send_page(c, &p, (void **)v, n, each_dep);
                return free_list((void **)v, n, (void (*)(void *))gw_deployment_free);
        }
        if (id && strcmp(m, "DELETE") == 0) {
                if (gw_deployment_delete(c->g, api, id, &err) < 0)
                        return store_error(c, &err);
                return no_content(c);
        }
        if (id && strcmp(m, "GET") == 0) {
                gw_deployment *d = NULL;
                if (gw_deployment_get(c->g, api, id, &d, &err) < 0)
                        return store_error(c, &err);
                json_writer *j = json_writer_new(false);
                deployment_json(j, d);
                send_json(c, 200, j);
                return gw_deployment_free(d);
        }
        json_value *o = parse_body(c);
        if (!o)
                return;
        bool bad = false;
        if (id) { /* PATCH: UpdateDeployment, whose only member is the description */
                const json_value *desc = member(c, o, "description", JSON_STRING, &bad);
                gw_deployment *d = NULL;
                if (!bad && gw_deployment_update(c->g, api, id, desc ? desc->str : NULL, &d,
                                                 &err) < 0) {
                        store_error(c, &err);
                } else if (!bad) {
                        json_writer *j = json_writer_new(false);
                        deployment_json(j, d);
                        send_json(c, 200, j);
                }
                gw_deployment_free(d);
                return json_value_free(o);
        }
        const json_value *desc = member(c, o, "description", JSON_STRING, &bad),
                         *stage = member(c, o, "stageName", JSON_STRING, &bad);
        gw_deployment d = { .description = desc ? xstrdup(desc->str) : NULL };
        if (!bad && gw_deployment_create(c->g, api, stage ? stage->str : NULL, &d, &err) < 0) {
                store_error(c, &err);
        } else if (!bad) {
                json_writer *j = json_writer_new(false);
                deployment_json(j, &d);
                send_json(c, 201, j);
        }
        free(d.description);
        free(d.status);
        json_value_free(o);
}

/* ---------------------------------------------------------------- tags */

/* arn:aws:apigateway:REGION::/apis/ID or .../apis/ID/stages/NAME */
static int parse_arn(ctx *c, const char *arn, char *api, size_t api_len, char **stage)
{
        _cleanup_free_ char *pre = xasprintf("arn:aws:apigateway:%s::/apis/", c->region);
        *stage = NULL;
        if (strncmp(arn, pre, strlen(pre)) != 0) {
                errorf(c, 404, "NotFoundException", "Invalid resource ARN %.300s (husk's are "
                       "%sAPI_ID and %sAPI_ID/stages/NAME)", arn, pre, pre);
                return -1;
        }
        const char *id = arn + strlen(pre), *slash = strchr(id, '/');
        size_t n = slash ? (size_t)(slash - id) : strlen(id);
        if (n == 0 || n >= api_len || (slash && strncmp(slash, "/stages/", 8) != 0) ||
            (slash && !slash[8])) {
                errorf(c, 404, "NotFoundException", "Invalid resource ARN %.300s", arn);
                return -1;
        }
        memcpy(api, id, n);
        api[n] = '\0';
        if (slash)
                *stage = xstrdup(slash + 8);
        return 0;
}

static void tags(ctx *c, const char *arn, const char *m)
{
        char api[64];
        _cleanup_free_ char *stage = NULL;
        if (parse_arn(c, arn, api, sizeof(api), &stage) < 0)
                return;
        gw_error err = { 0 };
        gw_api *a = NULL;
        gw_stage *s = NULL;
        if (stage ? gw_stage_get(c->g, api, stage, &s, &err) < 0 : gw_api_get(c->g, api, &a, &err) < 0)
                return store_error(c, &err);
        char ***tv = s ? &s->tags : &a->tags;
        int rc = 0;
        if (strcmp(m, "GET") == 0) {
                json_writer *j = json_writer_new(false);
                json_obj_begin(j);
                kv_map(j, "tags", *tv);
                json_obj_end(j);
                send_json(c, 200, j);
                goto out;
        }
        if (strcmp(m, "POST") == 0) {
                json_value *o = parse_body(c);
                bool bad = false;
                const json_value *t = o ? member(c, o, "tags", JSON_OBJECT, &bad) : NULL;
                _cleanup_strv_ char **add = t ? str_map(c, t, "Tags", GW_TAGS_MAX, &bad) : NULL;
                json_value_free(o);
                if (!o || bad)
                        goto out;
                if (!t) {
                        BAD(c, "Tags is required");
                        goto out;
                }
                merge_kv(tv, add, false);
        } else if (strcmp(m, "DELETE") == 0) {
                serve_kv *q = NULL;
                size_t nq = 0;
                if (serve_form_parse(c->r->query, strlen(c->r->query), 256, &q, &nq) < 0) {
                        BAD(c, "the query string is not valid (tagKeys=KEY&tagKeys=...)");
                        goto out;
                }
                size_t n = strv_length(*tv), o = 0;
                for (size_t i = 0; i + 1 < n; i += 2) {
                        bool drop = false;
                        for (size_t k = 0; k < nq && !drop; k++)
                                drop = strcmp(q[k].name, "tagKeys") == 0 &&
                                       strcmp(q[k].value, (*tv)[i]) == 0;
                        if (drop) {
                                free((*tv)[i]);
                                free((*tv)[i + 1]);
                                continue;
                        }
                        (*tv)[o++] = (*tv)[i];
                        (*tv)[o++] = (*tv)[i + 1];
                }
                if (*tv)
                        (*tv)[o] = NULL;
                serve_kvs_free(q, nq);
        } else {
                errorf(c, 404, "NotFoundException", "Unknown operation %s on tags", m);
                goto out;
        }
        rc = s ? gw_stage_update(c->g, api, s, &err) : gw_api_update(c->g, a, &err);
        if (rc < 0)
                store_error(c, &err);
        else if (strcmp(m, "POST") == 0)
                serve_resp_set(c->w, 201, "application/json", xstrdup("{}"), 2);
        else
                no_content(c);
out:
        gw_api_free(a);
        gw_stage_free(s);
}

/* ---------------------------------------------------------------- routing */

/* The raw path's segments, each percent-decoded; -1 when malformed or too many. */
static int split_path(const char *raw, char **segs, size_t max, size_t *ret_n)
{
        size_t n = 0;
        const char *p = raw;
        if (*p != '/')
                return -1;
        while (*p == '/') {
                const char *s = p + 1, *e = strchr(s, '/');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (len == 0 && !e)
                        break; /* a trailing slash */
                if (n == max)
                        return -1;
                size_t dl;
                if (serve_url_decode(s, len, false, &segs[n], &dl) < 0 || strlen(segs[n]) != dl)
                        return -1;
                n++;
                p = s + len;
        }
        *ret_n = n;
        return 0;
}

static bool id_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

static void route_apis(ctx *c, char **s, size_t n, const char *m)
{
        bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0,
             del = strcmp(m, "DELETE") == 0, patch = strcmp(m, "PATCH") == 0;
        if (n == 2 && post)
                return create_api(c);
        if (n == 2 && get)
                return list_apis(c);
        if (n == 2 && strcmp(m, "PUT") == 0)
                return BAD(c, "ImportApi (OpenAPI definitions) is not supported by husk");
        if (n < 3)
                goto unknown;
        if (!id_ok(s[2]))
                return errorf(c, 404, "NotFoundException", "Invalid API identifier specified "
                              "%.64s", s[2]);
        if (n == 3 && (get || del || patch))
                return one_api(c, s[2], m);
        if (n == 3 && strcmp(m, "PUT") == 0)
                return BAD(c, "ReimportApi (OpenAPI definitions) is not supported by husk");
        if (n == 3) /* another method on an API (found by fuzz_apigw: no s[3] to read) */
                goto unknown;
        const char *kind = s[3], *id = n >= 5 ? s[4] : NULL;
        if (n == 4 && strcmp(kind, "cors") == 0 && del)
                return delete_cors(c, s[2]);
        bool coll = n == 4 && (get || post), item = n == 5 && (get || del || patch);
        if (strcmp(kind, "routes") == 0 && (coll || item))
                return routes(c, s[2], id, m);
        if (strcmp(kind, "integrations") == 0 && (coll || item))
                return integrations(c, s[2], id, m);
        if (strcmp(kind, "stages") == 0 && (coll || item))
                return stages(c, s[2], id, m);
        if (strcmp(kind, "stages") == 0 && n == 7 && del && strcmp(s[5], "routesettings") == 0)
                return stage_part_delete(c, s[2], s[4], s[6]);
        if (strcmp(kind, "stages") == 0 && n == 6 && del && strcmp(s[5], "accesslogsettings") == 0)
                return stage_part_delete(c, s[2], s[4], NULL);
        if (strcmp(kind, "deployments") == 0 && (coll || item))
                return deployments(c, s[2], id, m);
        static const struct {
                const char *kind, *what;
        } unsupported[] = {
                { "authorizers", "Authorizers are not supported by husk (routes are NONE)" },
                { "models", "Models are not supported by husk (WebSocket APIs' feature)" },
                { "routeresponses", "Route responses are not supported by husk (WebSocket APIs' "
                                    "feature)" },
                { "integrationresponses", "Integration responses are not supported by husk "
                                          "(WebSocket APIs' feature)" },
                { "exports", "ExportApi is not supported by husk" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
                if (strcmp(kind, unsupported[i].kind) == 0 ||
                    (n >= 6 && strcmp(s[5], unsupported[i].kind) == 0))
                        return BAD(c, "%s", unsupported[i].what);
unknown:
        errorf(c, 404, "NotFoundException", "Unknown operation: %s %.200s", m, c->r->path);
}

void apigw_handle(struct gw_store *g, const serve_req *r, serve_resp *w)
{
        ctx c = { .g = g, .r = r, .w = w };
        if (!g) {
                error_out(&c, 503, "ServiceUnavailableException",
                          "HTTP APIs are not served: the gateway store did not open (see the "
                          "server's log)");
                return;
        }
        gw_store_server(g, c.region, sizeof(c.region), c.endpoint, sizeof(c.endpoint));
        const char *raw = r->raw_path && *r->raw_path ? r->raw_path : r->path;
        if (strncmp(raw, "/v2/tags/", 9) == 0) {
                char *arn = NULL;
                size_t len;
                if (serve_url_decode(raw + 9, strlen(raw + 9), false, &arn, &len) < 0 ||
                    strlen(arn) != len) {
                        free(arn);
                        return BAD(&c, "the resource ARN in the path is not valid");
                }
                tags(&c, arn, r->method);
                free(arn);
                return;
        }
        char *s[GW_SEGS_MAX] = { 0 };
        size_t n = 0;
        if (split_path(raw, s, GW_SEGS_MAX, &n) < 0 || n < 2 || strcmp(s[0], "v2") != 0 ||
            strcmp(s[1], "apis") != 0)
                errorf(&c, 404, "NotFoundException", "Unknown operation: %s %.200s", r->method,
                       r->path);
        else
                route_apis(&c, s, n, r->method);
        for (size_t i = 0; i < GW_SEGS_MAX; i++)
                free(s[i]);
}
