/* SPDX-License-Identifier: Apache-2.0 */
/* `husk api ...`: HTTP APIs for people without the AWS CLI, over the running server's
 * apigatewayv2 API (signed with the store's keys, or $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY),
 * the same requests `aws apigatewayv2` sends. A route made here is a route and its own
 * integration; a stage made here deploys itself at every change (AutoDeploy). */
#include "apicli.h"
#include "cliclient.h"
#include "gw/gw.h"
#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENDPOINT_OPTS                                                                              \
        "  --endpoint ADDR:PORT|SOCKET        the server (default: the one serving STORE)\n"        \
        "  --region REGION                    region to sign for (default: the server's)\n"         \
        "  --store DIR                        the store (default /var/lib/husk)\n"

#define TARGET_OPTS                                                                                \
        "  --function F                       a function of the server (name or ARN): AWS_PROXY\n"  \
        "  --url http://HOST[:PORT][/PATH]    a service (a husk service's name, an IP or\n"         \
        "                                     localhost): HTTP_PROXY\n"                             \
        "  --payload 2.0|1.0                  the event format a function gets (default 2.0)\n"    \
        "  --timeout DURATION                 to the integration, 50ms .. 30s (default 29s)\n"

static const char usage_text[] =
        "Usage: husk api COMMAND [options]\n\n"
        "HTTP APIs (API Gateway's) of the running `husk serve`: routes to functions and services,\n"
        "served on its --api-listen address. The same API the AWS CLI's apigatewayv2 uses.\n\n"
        "Commands:\n"
        "  create NAME [--route 'METHOD /path'] [--function F|--url URL]\n"
        "                                     a new API (with a target: its route and the\n"
        "                                     $default stage); prints its id\n"
        "  ls                                 ids, names, route counts and endpoints\n"
        "  inspect ID                         the API, routes, integrations and stages, as JSON\n"
        "  rm ID                              delete the API and all it holds\n"
        "  routes ID                          the routes and their targets\n"
        "  route add ID 'METHOD /path' --function F|--url URL [--payload 2.0|1.0] [--timeout 29s]\n"
        "  route rm ID ROUTE_ID|'METHOD /path'\n"
        "  stage add ID NAME [--rate N] [--burst N] [--access-log NAME]\n"
        "  stage ls ID | stage rm ID NAME\n\n"
        "Options:\n" ENDPOINT_OPTS;

static const struct {
        const char *name, *text;
} cmd_help[] = {
        { "create", "Usage: husk api create NAME [--route 'METHOD /path'] [--function F | --url URL]\n\n"
                    "Create an HTTP API and print its id. With --function or --url (API Gateway's\n"
                    "quick create): an integration to it, the route (--route, default $default)\n"
                    "and the $default stage, deployed at every change.\n\nOptions:\n"
                    "  --route 'METHOD /path'             the route key, e.g. 'GET /items/{id}'\n"
                    TARGET_OPTS ENDPOINT_OPTS },
        { "ls", "Usage: husk api ls\n\nList the HTTP APIs: id, name, routes, endpoint.\n\n"
                "Options:\n" ENDPOINT_OPTS },
        { "inspect", "Usage: husk api inspect ID\n\n"
                     "Print the API with its routes, integrations and stages as JSON.\n\n"
                     "Options:\n" ENDPOINT_OPTS },
        { "rm", "Usage: husk api rm ID\n\nDelete the API with its routes, integrations, stages and "
                "deployments.\n\nOptions:\n" ENDPOINT_OPTS },
        { "routes", "Usage: husk api routes ID\n\nList the API's routes: id, key and target, and\n"
                    "(managed) after the route quick create made (it is not removed, and its key\n"
                    "changes only with the API's: aws apigatewayv2 update-api --route-key).\n\n"
                    "Options:\n" ENDPOINT_OPTS },
        { "route", "Usage: husk api route add ID 'METHOD /path' --function F|--url URL [options]\n"
                   "       husk api route rm ID ROUTE_ID|'METHOD /path'\n\n"
                   "Add a route with its own integration (prints the route's id), or remove one\n"
                   "(with its integration when no other route uses it). METHOD is GET, POST, PUT,\n"
                   "PATCH, DELETE, HEAD, OPTIONS or ANY; a path segment may be {name}, the last\n"
                   "{name+} (greedy); '$default' catches what no route matches.\n\nOptions:\n"
                   TARGET_OPTS ENDPOINT_OPTS },
        { "stage", "Usage: husk api stage add ID NAME [--rate N] [--burst N] [--access-log NAME]\n"
                   "       husk api stage ls ID\n"
                   "       husk api stage rm ID NAME\n\n"
                   "A stage serves the API's routes under /NAME ($default: at the root). A stage\n"
                   "made here deploys itself at every change of the API (AutoDeploy). The $default\n"
                   "stage quick create made is listed (managed): it goes only with the API.\n\n"
                   "Options:\n"
                   "  --rate N                           requests per second of each route (token bucket)\n"
                   "  --burst N                          the bucket's size\n"
                   "  --access-log NAME                  one JSON line per request (API Gateway's\n"
                   "                                     $context variables) to the server's\n"
                   "                                     STORE/gw/logs/NAME.log\n" ENDPOINT_OPTS },
};

#define PROG "husk api"
#define fail(...) cliclient_fail(PROG, __VA_ARGS__)

#define MAX_POS 4

typedef struct aargs {
        const char *store, *endpoint, *region, *route, *function, *url, *payload, *timeout, *rate,
                *burst, *access_log;
        bool help;
        const char *pos[MAX_POS];
        int npos;
} aargs;

static const cliclient_opt str_opts[] = {
        { "store", offsetof(aargs, store) },       { "endpoint", offsetof(aargs, endpoint) },
        { "region", offsetof(aargs, region) },     { "route", offsetof(aargs, route) },
        { "function", offsetof(aargs, function) }, { "url", offsetof(aargs, url) },
        { "payload", offsetof(aargs, payload) },   { "timeout", offsetof(aargs, timeout) },
        { "rate", offsetof(aargs, rate) },         { "burst", offsetof(aargs, burst) },
        { "access-log", offsetof(aargs, access_log) },
};

static const cliclient_syntax syntax = {
        .prog = PROG, .help = PROG " --help", .values = str_opts,
        .n_values = ARRAY_SIZE(str_opts), .help_off = offsetof(aargs, help),
        .pos_off = offsetof(aargs, pos), .npos_off = offsetof(aargs, npos), .max_pos = MAX_POS,
};

/* ---------------------------------------------------------------- the client */

static char *api_error(const serve_answer *an, const json_value *v)
{
        const char *m = json_get_str(v, "message");
        return xstrdup(m ? m : an->body);
}

static const cliclient_wire wire = { .hint = " (is `husk serve` running?)", .error = api_error };

/* One request of the apigatewayv2 API; body taken (may be NULL). *ret (when asked) gets the
 * parsed answer. Non-zero: printed. */
static int call(cliclient *c, const char *method, const char *path, char *body, json_value **ret)
{
        return cliclient_rest(c, &wire, "apigateway", method, path, body, ret);
}

/* Every item of a paged list (follows nextToken); *ret: an array of the items' copies is not
 * needed, so the callback sees each item. */
static int each_item(cliclient *c, const char *path, void (*cb)(void *, const json_value *),
                     void *ud)
{
        _cleanup_free_ char *token = NULL;
        do {
                _cleanup_free_ char *p = xasprintf("%s?maxResults=500%s%s", path,
                                                   token ? "&nextToken=" : "", token ? token : "");
                json_value *v = NULL;
                int r = call(c, "GET", p, NULL, &v);
                if (r)
                        return r;
                const json_value *items = json_get(v, "items");
                for (size_t i = 0; items && items->type == JSON_ARRAY && i < items->n; i++)
                        cb(ud, items->items[i]);
                free(token);
                token = json_get_str(v, "nextToken") ? xstrdup(json_get_str(v, "nextToken")) : NULL;
                json_value_free(v);
        } while (token);
        return 0;
}

static bool api_id_ok(const char *s)
{
        return strlen(s) == GW_ID_LEN && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == GW_ID_LEN;
}

/* "29s", "500ms", "1m": milliseconds. */
static int duration_ms(const char *s, long *ret)
{
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0)
                return -1;
        double mult = strcmp(end, "ms") == 0 ? 1 : strcmp(end, "s") == 0 || !*end ? 1000
                                                 : strcmp(end, "m") == 0        ? 60000
                                                                                : -1;
        if (mult < 0 || v * mult > 1e9)
                return -1;
        *ret = (long)(v * mult + 0.5);
        return 0;
}

/* ---------------------------------------------------------------- integrations */

/* CreateIntegration's body for --function/--url; NULL (printed) when the options are wrong. */
static char *integration_body(const aargs *a)
{
        if (!!a->function == !!a->url) {
                fail("give a target: --function F (a function) or --url http://... (a service)");
                return NULL;
        }
        long to = 0;
        if (a->timeout && (duration_ms(a->timeout, &to) < 0 || to < GW_TIMEOUT_MIN_MS ||
                           to > GW_TIMEOUT_MAX_MS)) {
                fail("--timeout %s: 50ms .. 30s (e.g. 29s)", a->timeout);
                return NULL;
        }
        const char *pfv = a->payload ? a->payload : a->function ? "2.0" : "1.0";
        if (a->payload && a->url) {
                fail("--payload is for --function (a service gets the request itself)");
                return NULL;
        }
        if (strcmp(pfv, "2.0") != 0 && strcmp(pfv, "1.0") != 0) {
                fail("--payload %s: 2.0 or 1.0", pfv);
                return NULL;
        }
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "integrationType", a->function ? "AWS_PROXY" : "HTTP_PROXY");
        json_kv_str(w, "integrationUri", a->function ? a->function : a->url);
        if (a->url)
                json_kv_str(w, "integrationMethod", "ANY");
        json_kv_str(w, "payloadFormatVersion", pfv);
        if (to)
                json_kv_int(w, "timeoutInMillis", to);
        json_obj_end(w);
        return json_writer_finish(w);
}

/* ---------------------------------------------------------------- commands */

static int cmd_create(cliclient *c, const aargs *a)
{
        if ((a->route || a->timeout || a->payload) && !a->function && !a->url)
                return fail("create: --route, --timeout and --payload need --function or --url");
        if (a->function && a->url)
                return fail("create: --function or --url, not both");
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "name", a->pos[1]);
        json_kv_str(w, "protocolType", "HTTP");
        bool quick = (a->function || a->url) && !a->timeout && !a->payload;
        if (quick) {
                json_kv_str(w, "target", a->function ? a->function : a->url);
                if (a->route)
                        json_kv_str(w, "routeKey", a->route);
        }
        json_obj_end(w);
        json_value *v = NULL;
        int r = call(c, "POST", "/v2/apis", json_writer_finish(w), &v);
        if (r)
                return r;
        _cleanup_free_ char *id = xstrdup(json_get_str(v, "apiId") ?: "");
        json_value_free(v);
        if ((a->function || a->url) && !quick) {
                /* options quick create has not: the same three steps one by one */
                _cleanup_free_ char *ip = xasprintf("/v2/apis/%s/integrations", id);
                _cleanup_free_ char *rp = xasprintf("/v2/apis/%s/routes", id);
                _cleanup_free_ char *sp = xasprintf("/v2/apis/%s/stages", id);
                char *ib = integration_body(a);
                json_value *iv = NULL;
                r = ib ? call(c, "POST", ip, ib, &iv) : 1;
                if (!r) {
                        json_writer *rw = json_writer_new(false);
                        json_obj_begin(rw);
                        json_kv_str(rw, "routeKey", a->route ? a->route : "$default");
                        _cleanup_free_ char *t = xasprintf("integrations/%s",
                                                           json_get_str(iv, "integrationId") ?: "");
                        json_kv_str(rw, "target", t);
                        json_obj_end(rw);
                        r = call(c, "POST", rp, json_writer_finish(rw), NULL);
                }
                json_value_free(iv);
                if (!r)
                        r = call(c, "POST", sp, xstrdup("{\"stageName\":\"$default\","
                                                        "\"autoDeploy\":true}"), NULL);
                if (r) {
                        /* nothing half-made stays */
                        _cleanup_free_ char *ap = xasprintf("/v2/apis/%s", id);
                        (void)call(c, "DELETE", ap, NULL, NULL);
                        return r;
                }
        }
        printf("%s\n", id);
        return 0;
}

typedef struct ls_row {
        cliclient *c;
} ls_row;

static void count_cb(void *ud, const json_value *v)
{
        (void)v;
        (*(size_t *)ud)++;
}

static void ls_cb(void *ud, const json_value *v)
{
        ls_row *l = ud;
        const char *id = json_get_str(v, "apiId");
        size_t n = 0;
        if (id) {
                _cleanup_free_ char *p = xasprintf("/v2/apis/%s/routes", id);
                (void)each_item(l->c, p, count_cb, &n);
        }
        printf("%-10s  %-24s  %6zu  %s\n", id ? id : "", json_get_str(v, "name") ?: "", n,
               json_get_str(v, "apiEndpoint") ?: "-");
}

static int cmd_ls(cliclient *c)
{
        printf("%-10s  %-24s  %6s  %s\n", "ID", "NAME", "ROUTES", "ENDPOINT");
        ls_row l = { c };
        return each_item(c, "/v2/apis", ls_cb, &l);
}

/* Copies a parsed value into a writer. */
static void copy_value(json_writer *w, const json_value *v)
{
        switch (v->type) {
        case JSON_NULL: json_null(w); break;
        case JSON_BOOL: json_bool(w, v->boolean); break;
        case JSON_NUMBER: {
                int64_t x;
                if (parse_int64(v->str, &x) == 0)
                        json_int(w, x);
                else
                        json_fixed(w, strtod(v->str, NULL), 3);
                break;
        }
        case JSON_STRING: json_str(w, v->str); break;
        case JSON_ARRAY:
                json_arr_begin(w);
                for (size_t i = 0; i < v->n; i++)
                        copy_value(w, v->items[i]);
                json_arr_end(w);
                break;
        case JSON_OBJECT:
                json_obj_begin(w);
                for (size_t i = 0; i < v->n; i++) {
                        json_key(w, v->keys[i]);
                        copy_value(w, v->items[i]);
                }
                json_obj_end(w);
                break;
        }
}

static void copy_cb(void *ud, const json_value *v)
{
        copy_value(ud, v);
}

static int cmd_inspect(cliclient *c, const aargs *a)
{
        _cleanup_free_ char *p = xasprintf("/v2/apis/%s", a->pos[1]);
        json_value *v = NULL;
        int r = call(c, "GET", p, NULL, &v);
        if (r)
                return r;
        json_writer *w = json_writer_new(true);
        json_obj_begin(w);
        for (size_t i = 0; v->type == JSON_OBJECT && i < v->n; i++) {
                json_key(w, v->keys[i]);
                copy_value(w, v->items[i]);
        }
        json_value_free(v);
        static const char *const parts[][2] = { { "routes", "routes" },
                                               { "integrations", "integrations" },
                                               { "stages", "stages" } };
        for (size_t k = 0; k < ARRAY_SIZE(parts) && !r; k++) {
                _cleanup_free_ char *pp = xasprintf("/v2/apis/%s/%s", a->pos[1], parts[k][1]);
                json_key(w, parts[k][0]);
                json_arr_begin(w);
                r = each_item(c, pp, copy_cb, w);
                json_arr_end(w);
        }
        json_obj_end(w);
        _cleanup_free_ char *out = json_writer_finish(w);
        if (!r)
                printf("%s\n", out);
        return r;
}

static int cmd_rm(cliclient *c, const aargs *a)
{
        _cleanup_free_ char *p = xasprintf("/v2/apis/%s", a->pos[1]);
        return call(c, "DELETE", p, NULL, NULL);
}

/* The integrations of an API, to show a route's target. */
typedef struct ints {
        json_value **v;
        size_t n;
} ints;

static void ints_cb(void *ud, const json_value *v)
{
        ints *l = ud;
        char why[64];
        json_value *copy = NULL;
        json_writer *w = json_writer_new(false);
        copy_value(w, v);
        _cleanup_free_ char *s = json_writer_finish(w);
        if (json_parse(s, strlen(s), &copy, why, sizeof(why)) < 0)
                return;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n++] = copy;
}

static void ints_free(ints *l)
{
        for (size_t i = 0; i < l->n; i++)
                json_value_free(l->v[i]);
        free(l->v);
}

typedef struct routes_ctx {
        ints in;
} routes_ctx;

static void routes_cb(void *ud, const json_value *v)
{
        routes_ctx *rc = ud;
        const char *t = json_get_str(v, "target");
        const json_value *integ = NULL;
        for (size_t i = 0; t && i < rc->in.n && !integ; i++) {
                const char *id = json_get_str(rc->in.v[i], "integrationId");
                if (id && strncmp(t, "integrations/", 13) == 0 && strcmp(id, t + 13) == 0)
                        integ = rc->in.v[i];
        }
        _cleanup_free_ char *target = NULL;
        if (integ) {
                const char *type = json_get_str(integ, "integrationType") ?: "";
                const json_value *to = json_get(integ, "timeoutInMillis");
                target = xasprintf("%s %s%s%s%s%s ms", strcmp(type, "AWS_PROXY") == 0 ? "function" : "url",
                                   json_get_str(integ, "integrationUri") ?: "",
                                   strcmp(type, "AWS_PROXY") == 0 ? " payload " : "",
                                   strcmp(type, "AWS_PROXY") == 0
                                           ? json_get_str(integ, "payloadFormatVersion") ?: ""
                                           : "",
                                   " timeout ", to && to->str ? to->str : "-");
        }
        const json_value *m = json_get(v, "apiGatewayManaged");
        printf("%-8s  %-36s  %s%s\n", json_get_str(v, "routeId") ?: "", json_get_str(v, "routeKey") ?: "",
               target ? target : t ? t : "-",
               m && m->type == JSON_BOOL && m->boolean ? "  (managed)" : "");
}

static int cmd_routes(cliclient *c, const aargs *a)
{
        _cleanup_free_ char *ip = xasprintf("/v2/apis/%s/integrations", a->pos[1]);
        _cleanup_free_ char *rp = xasprintf("/v2/apis/%s/routes", a->pos[1]);
        routes_ctx rc = { 0 };
        int r = each_item(c, ip, ints_cb, &rc.in);
        if (!r) {
                printf("%-8s  %-36s  %s\n", "ID", "ROUTE", "TARGET");
                r = each_item(c, rp, routes_cb, &rc);
        }
        ints_free(&rc.in);
        return r;
}

static int route_add(cliclient *c, const aargs *a)
{
        char why[256];
        if (!gw_route_key_valid(a->pos[3], why, sizeof(why)))
                return fail("route add: %s", why);
        char *ib = integration_body(a);
        if (!ib)
                return 1;
        _cleanup_free_ char *ip = xasprintf("/v2/apis/%s/integrations", a->pos[2]);
        json_value *iv = NULL;
        int r = call(c, "POST", ip, ib, &iv);
        if (r)
                return r;
        _cleanup_free_ char *iid = xstrdup(json_get_str(iv, "integrationId") ?: "");
        json_value_free(iv);
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "routeKey", a->pos[3]);
        _cleanup_free_ char *t = xasprintf("integrations/%s", iid);
        json_kv_str(w, "target", t);
        json_obj_end(w);
        _cleanup_free_ char *rp = xasprintf("/v2/apis/%s/routes", a->pos[2]);
        json_value *rv = NULL;
        r = call(c, "POST", rp, json_writer_finish(w), &rv);
        if (r) {
                /* nothing half-made stays: the integration goes */
                _cleanup_free_ char *dp = xasprintf("%s/%s", ip, iid);
                (void)call(c, "DELETE", dp, NULL, NULL);
                return r;
        }
        printf("%s\n", json_get_str(rv, "routeId") ?: "");
        json_value_free(rv);
        return 0;
}

typedef struct find_route {
        const char *want;
        char *id, *target;
        size_t users; /* routes that target `target` (second pass) */
} find_route;

static void find_cb(void *ud, const json_value *v)
{
        find_route *f = ud;
        const char *id = json_get_str(v, "routeId"), *key = json_get_str(v, "routeKey");
        if (!f->id && ((id && strcmp(id, f->want) == 0) || (key && strcmp(key, f->want) == 0))) {
                f->id = xstrdup(id ? id : "");
                f->target = json_get_str(v, "target") ? xstrdup(json_get_str(v, "target")) : NULL;
        }
}

static void users_cb(void *ud, const json_value *v)
{
        find_route *f = ud;
        const char *t = json_get_str(v, "target");
        f->users += t && f->target && strcmp(t, f->target) == 0;
}

static int route_rm(cliclient *c, const aargs *a)
{
        _cleanup_free_ char *rp = xasprintf("/v2/apis/%s/routes", a->pos[2]);
        find_route f = { .want = a->pos[3] };
        int r = each_item(c, rp, find_cb, &f);
        if (!r && !f.id)
                r = fail("route rm: API %s has no route %s (husk api routes %s)", a->pos[2],
                         a->pos[3], a->pos[2]);
        if (!r) {
                _cleanup_free_ char *dp = xasprintf("%s/%s", rp, f.id);
                r = call(c, "DELETE", dp, NULL, NULL);
        }
        /* its integration too, when no other route uses it */
        if (!r && f.target && strncmp(f.target, "integrations/", 13) == 0 &&
            each_item(c, rp, users_cb, &f) == 0 && f.users == 0) {
                _cleanup_free_ char *ip = xasprintf("/v2/apis/%s/%s", a->pos[2], f.target);
                r = call(c, "DELETE", ip, NULL, NULL);
        }
        free(f.id);
        free(f.target);
        return r;
}

static int stage_add(cliclient *c, const aargs *a)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "stageName", a->pos[3]);
        json_kv_bool(w, "autoDeploy", true);
        if (a->rate || a->burst) {
                json_key(w, "defaultRouteSettings");
                json_obj_begin(w);
                if (a->rate) {
                        char *end = NULL;
                        double d = strtod(a->rate, &end);
                        if (!end || end == a->rate || *end || d < 0 || d > 1e6) {
                                json_writer_free(w);
                                return fail("--rate %s: requests per second, 0 .. 1000000", a->rate);
                        }
                        json_key(w, "throttlingRateLimit");
                        json_fixed(w, d, 3);
                }
                if (a->burst) {
                        int64_t b;
                        if (parse_int64(a->burst, &b) < 0 || b < 0 || b > 1000000) {
                                json_writer_free(w);
                                return fail("--burst %s: 0 .. 1000000", a->burst);
                        }
                        json_kv_int(w, "throttlingBurstLimit", b);
                }
                json_obj_end(w);
        }
        if (a->access_log) {
                if (!*a->access_log || strchr(a->access_log, '/')) {
                        json_writer_free(w);
                        return fail("--access-log %s: a name (the log is the server's "
                                    "STORE/gw/logs/NAME.log)", a->access_log);
                }
                _cleanup_free_ char *path = xstrdup(a->access_log);
                json_key(w, "accessLogSettings");
                json_obj_begin(w);
                json_kv_str(w, "destinationArn", path);
                json_kv_str(w, "format",
                            "{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\","
                            "\"requestTime\":\"$context.requestTime\",\"httpMethod\":\"$context.httpMethod\","
                            "\"routeKey\":\"$context.routeKey\",\"status\":\"$context.status\","
                            "\"responseLength\":\"$context.responseLength\","
                            "\"responseLatency\":\"$context.responseLatency\","
                            "\"integrationLatency\":\"$context.integrationLatency\"}");
                json_obj_end(w);
        }
        json_obj_end(w);
        _cleanup_free_ char *p = xasprintf("/v2/apis/%s/stages", a->pos[2]);
        return call(c, "POST", p, json_writer_finish(w), NULL);
}

static void stage_cb(void *ud, const json_value *v)
{
        (void)ud;
        const json_value *d = json_get(v, "defaultRouteSettings");
        const json_value *rate = json_get(d, "throttlingRateLimit"), *burst = json_get(d, "throttlingBurstLimit");
        const json_value *log = json_get(v, "accessLogSettings");
        const json_value *m = json_get(v, "apiGatewayManaged");
        printf("%-16s  %-8s  %8s  %6s  %s%s\n", json_get_str(v, "stageName") ?: "",
               json_get_str(v, "deploymentId") ?: "-", rate && rate->str ? rate->str : "-",
               burst && burst->str ? burst->str : "-", json_get_str(log, "destinationArn") ?: "-",
               m && m->type == JSON_BOOL && m->boolean ? "  (managed)" : "");
}

static int stage_ls(cliclient *c, const aargs *a)
{
        _cleanup_free_ char *p = xasprintf("/v2/apis/%s/stages", a->pos[2]);
        printf("%-16s  %-8s  %8s  %6s  %s\n", "STAGE", "DEPLOYED", "RATE", "BURST", "ACCESS LOG");
        return each_item(c, p, stage_cb, NULL);
}

static int stage_rm(cliclient *c, const aargs *a)
{
        _cleanup_free_ char *enc = xstrdup(a->pos[3]);
        if (strcmp(enc, "$default") == 0) {
                free(enc);
                enc = xstrdup("%24default");
        }
        _cleanup_free_ char *p = xasprintf("/v2/apis/%s/stages/%s", a->pos[2], enc);
        return call(c, "DELETE", p, NULL, NULL);
}

int apicli_main(int argc, char **argv)
{
        aargs a = { 0 };
        if (cliclient_parse(&syntax, argc, argv, &a))
                return 2;
        if (a.help && a.npos >= 1) {
                for (size_t k = 0; k < ARRAY_SIZE(cmd_help); k++)
                        if (strcmp(cmd_help[k].name, a.pos[0]) == 0) {
                                fputs(cmd_help[k].text, stdout);
                                return 0;
                        }
                return fail("unknown command '%s' (husk api --help)", a.pos[0]) + 1;
        }
        if (a.help || a.npos == 0) {
                fputs(usage_text, a.help ? stdout : stderr);
                return a.help ? 0 : 2;
        }
        static const struct {
                const char *name, *sub;
                int min, max;
        } cmds[] = { { "create", NULL, 2, 2 }, { "ls", NULL, 1, 1 },       { "inspect", NULL, 2, 2 },
                     { "rm", NULL, 2, 2 },     { "routes", NULL, 2, 2 },   { "route", "add", 4, 4 },
                     { "route", "rm", 4, 4 },  { "stage", "add", 4, 4 },   { "stage", "ls", 3, 3 },
                     { "stage", "rm", 4, 4 } };
        const char *cmd = a.pos[0], *sub = a.npos >= 2 ? a.pos[1] : "";
        size_t k;
        for (k = 0; k < ARRAY_SIZE(cmds); k++)
                if (strcmp(cmds[k].name, cmd) == 0 && (!cmds[k].sub || strcmp(cmds[k].sub, sub) == 0))
                        break;
        if (k == ARRAY_SIZE(cmds))
                return fail("unknown command '%s%s%s' (husk api --help)", cmd,
                            strcmp(cmd, "route") == 0 || strcmp(cmd, "stage") == 0 ? " " : "",
                            strcmp(cmd, "route") == 0 || strcmp(cmd, "stage") == 0 ? sub : "") + 1;
        if (a.npos < cmds[k].min || a.npos > cmds[k].max)
                return fail("%s%s%s: wrong number of arguments (husk api %s --help)", cmd,
                            cmds[k].sub ? " " : "", cmds[k].sub ? cmds[k].sub : "", cmd) + 1;
        /* the API id is checked here: it goes into a request path */
        const char *id = cmds[k].sub ? (a.npos >= 3 ? a.pos[2] : NULL)
                                     : (strcmp(cmd, "create") != 0 && a.npos >= 2 ? a.pos[1] : NULL);
        if (id && !api_id_ok(id))
                return fail("%s: '%s' is not an API id (%d of a-z 0-9; husk api ls)", cmd, id,
                            GW_ID_LEN) + 1;
        bool target_opts = a.function || a.url || a.payload || a.timeout || a.route;
        bool stage_opts = a.rate || a.burst || a.access_log;
        bool wants_target = strcmp(cmd, "create") == 0 || (cmds[k].sub && strcmp(cmd, "route") == 0 &&
                                                           strcmp(sub, "add") == 0);
        bool wants_stage = cmds[k].sub && strcmp(cmd, "stage") == 0 && strcmp(sub, "add") == 0;
        if ((target_opts && !wants_target) || (stage_opts && !wants_stage) ||
            (a.route && strcmp(cmd, "create") != 0))
                return fail("%s%s%s: an option that belongs to another command (husk api %s "
                            "--help)", cmd, cmds[k].sub ? " " : "", cmds[k].sub ? sub : "",
                            cmd) + 1;
        cliclient c;
        cliclient_open(&c, PROG, a.store, a.endpoint, a.region);
        int rc;
        if (strcmp(cmd, "create") == 0)
                rc = cmd_create(&c, &a);
        else if (strcmp(cmd, "ls") == 0)
                rc = cmd_ls(&c);
        else if (strcmp(cmd, "inspect") == 0)
                rc = cmd_inspect(&c, &a);
        else if (strcmp(cmd, "rm") == 0)
                rc = cmd_rm(&c, &a);
        else if (strcmp(cmd, "routes") == 0)
                rc = cmd_routes(&c, &a);
        else if (strcmp(cmd, "route") == 0)
                rc = strcmp(sub, "add") == 0 ? route_add(&c, &a) : route_rm(&c, &a);
        else
                rc = strcmp(sub, "add") == 0 ? stage_add(&c, &a)
                     : strcmp(sub, "ls") == 0 ? stage_ls(&c, &a)
                                              : stage_rm(&c, &a);
        cliclient_close(&c);
        return rc;
}
