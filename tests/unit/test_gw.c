/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP APIs' model (src/gw, issue 17) driven directly: store round trips and persistence,
 * bounds named in errors, conflicts, deployments and AutoDeploy, the snapshot's generation
 * reuse, route keys, and API Gateway's stage and route selection (many cases); what quick create
 * makes (ApiGatewayManaged), its rules, UpdateApi's Target and RouteKey, and a store of the
 * schema before the managed column opened and migrated. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gw/gwint.h"
#include "util/util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char dbpath[128];

static gw_store *open_store(void)
{
        gw_store *s = NULL;
        gw_error e = { 0 };
        if (gw_store_open(dbpath, &s, &e) < 0)
                fail_msg("open: %s", e.msg);
        return s;
}

static int setup(void **state)
{
        /* the shared memory folder when there is one: hundreds of synchronous commits */
        snprintf(dir, sizeof(dir), "%s/test_gw.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        assert_non_null(mkdtemp(dir));
        snprintf(dbpath, sizeof(dbpath), "%s/gw.db", dir);
        *state = open_store();
        return 0;
}

static int teardown(void **state)
{
        gw_store_close(*state);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

/* ---- helpers that make records ---- */

static char *mk_api(gw_store *s, const char *name)
{
        gw_api a = { .name = (char *)name };
        gw_error e = { 0 };
        if (gw_api_create(s, &a, &e) < 0)
                fail_msg("api create: %s", e.msg);
        free(a.protocol);
        free(a.route_selection_expression);
        free(a.api_key_selection_expression);
        return xstrdup(a.id);
}

static char *mk_int(gw_store *s, const char *api, const char *fn)
{
        gw_integration i = { .type = GW_INT_AWS_PROXY, .uri = (char *)fn,
                             .payload_format_version = (char *)"2.0" };
        gw_error e = { 0 };
        if (gw_integration_create(s, api, &i, &e) < 0)
                fail_msg("integration create: %s", e.msg);
        free(i.method);
        free(i.connection_type);
        return xstrdup(i.id);
}

/* 0, or the error code */
static int mk_route(gw_store *s, const char *api, const char *key, const char *int_id,
                    char *ret_id)
{
        _cleanup_free_ char *t = int_id ? xasprintf("integrations/%s", int_id) : NULL;
        gw_route r = { .route_key = (char *)key, .target = t };
        gw_error e = { 0 };
        int rc = gw_route_create(s, api, &r, &e);
        free(r.authorization_type);
        if (rc < 0)
                return (int)e.code;
        if (ret_id)
                strcpy(ret_id, r.id);
        return 0;
}

static int mk_stage(gw_store *s, const char *api, const char *name, bool auto_deploy)
{
        gw_stage st = { .name = (char *)name, .auto_deploy = auto_deploy,
                        .default_throttle = { -1, -1 } };
        gw_error e = { 0 };
        return gw_stage_create(s, api, &st, &e) < 0 ? (int)e.code : 0;
}

/* ---- the store ---- */

static void test_api_round_trip(void **state)
{
        gw_store *s = *state;
        gw_cors cors = { .allow_origins = (char *[]){ "https://a.example", NULL },
                         .allow_methods = (char *[]){ "GET", "POST", NULL },
                         .max_age = 300 };
        gw_api a = { .name = (char *)"shop", .description = (char *)"the shop", .cors = &cors,
                     .tags = (char *[]){ "team", "blue", NULL } };
        gw_error e = { 0 };
        assert_int_equal(gw_api_create(s, &a, &e), 0);
        assert_int_equal(strlen(a.id), GW_ID_LEN);
        assert_int_equal(strspn(a.id, "abcdefghijklmnopqrstuvwxyz0123456789"), GW_ID_LEN);
        assert_string_equal(a.protocol, "HTTP");
        assert_string_equal(a.route_selection_expression, "$request.method $request.path");
        assert_true(a.created[0] != '\0');
        gw_api *g = NULL;
        assert_int_equal(gw_api_get(s, a.id, &g, &e), 0);
        assert_string_equal(g->name, "shop");
        assert_string_equal(g->description, "the shop");
        assert_string_equal(g->cors->allow_origins[0], "https://a.example");
        assert_string_equal(g->cors->allow_methods[1], "POST");
        assert_null(g->cors->allow_headers);
        assert_int_equal(g->cors->max_age, 300);
        assert_string_equal(g->tags[0], "team");
        assert_string_equal(g->tags[1], "blue");
        assert_string_equal(g->created, a.created);
        /* update: full record; the creation time stays */
        free(g->name);
        g->name = xstrdup("shop2");
        gw_cors_free(g->cors);
        g->cors = NULL;
        strcpy(g->created, "1999-01-01T00:00:00Z");
        assert_int_equal(gw_api_update(s, g, &e), 0);
        gw_api_free(g);
        assert_int_equal(gw_api_get(s, a.id, &g, &e), 0);
        assert_string_equal(g->name, "shop2");
        assert_null(g->cors);
        assert_string_equal(g->created, a.created);
        gw_api_free(g);
        /* persistence across close and open */
        gw_store_close(s);
        *state = s = open_store();
        assert_int_equal(gw_api_get(s, a.id, &g, &e), 0);
        assert_string_equal(g->name, "shop2");
        gw_api_free(g);
        gw_api **v = NULL;
        size_t n = 0;
        assert_int_equal(gw_api_list(s, &v, &n, &e), 0);
        assert_int_equal(n, 1);
        gw_api_free(v[0]);
        free(v);
        free(a.protocol);
        free(a.route_selection_expression);
        free(a.api_key_selection_expression);
        assert_int_equal(gw_api_get(s, "nosuchapi0", &g, &e), -1);
        assert_int_equal(e.code, GW_E_NOT_FOUND);
        assert_non_null(strstr(e.msg, "nosuchapi0"));
}

static void test_api_bad(void **state)
{
        gw_store *s = *state;
        gw_error e = { 0 };
        char big[GW_NAME_MAX + 2];
        memset(big, 'n', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        gw_api a = { .name = big };
        assert_int_equal(gw_api_create(s, &a, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "GW_NAME_MAX"));
        gw_api w = { .name = (char *)"ws", .protocol = (char *)"WEBSOCKET" };
        assert_int_equal(gw_api_create(s, &w, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "WEBSOCKET"));
        gw_api nn = { 0 };
        assert_int_equal(gw_api_create(s, &nn, &e), -1);
        free(nn.protocol);
        gw_api **v = NULL;
        size_t n = 9;
        assert_int_equal(gw_api_list(s, &v, &n, &e), 0);
        assert_int_equal(n, 0); /* nothing left behind */
        free(v);
}

static void test_routes_conflicts_bounds(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_api(s, "r");
        _cleanup_free_ char *in = mk_int(s, api, "fn1");
        char id[16];
        assert_int_equal(mk_route(s, api, "GET /items/{id}", in, id), 0);
        assert_int_equal(strlen(id), GW_SUBID_LEN);
        assert_int_equal(mk_route(s, api, "GET /items/{id}", in, NULL), GW_E_CONFLICT);
        /* the same requests under another parameter name */
        assert_int_equal(mk_route(s, api, "GET /items/{other}", in, NULL), GW_E_CONFLICT);
        assert_int_equal(mk_route(s, api, "POST /items/{id}", in, NULL), 0);
        assert_int_equal(mk_route(s, api, "GET /items/{id+}", NULL, NULL), 0);
        assert_int_equal(mk_route(s, api, "$default", NULL, NULL), 0);
        assert_int_equal(mk_route(s, api, "$default", NULL, NULL), GW_E_CONFLICT);
        assert_int_equal(mk_route(s, api, "GET /x", "nosuchi", NULL), GW_E_BAD_REQUEST);
        assert_int_equal(mk_route(s, api, "BREW /x", NULL, NULL), GW_E_BAD_REQUEST);
        assert_int_equal(mk_route(s, "nosuchapi0", "GET /x", NULL, NULL), GW_E_NOT_FOUND);
        /* authorizers are refused */
        gw_route r = { .route_key = (char *)"GET /auth", .authorization_type = (char *)"JWT" };
        gw_error e = { 0 };
        assert_int_equal(gw_route_create(s, api, &r, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        /* get, update (a key taken by another route conflicts), delete */
        gw_route *g = NULL;
        assert_int_equal(gw_route_get(s, api, id, &g, &e), 0);
        assert_string_equal(g->route_key, "GET /items/{id}");
        assert_string_equal(g->authorization_type, "NONE");
        free(g->route_key);
        g->route_key = xstrdup("POST /items/{x}");
        assert_int_equal(gw_route_update(s, api, g, &e), -1);
        assert_int_equal(e.code, GW_E_CONFLICT);
        free(g->route_key);
        g->route_key = xstrdup("GET /things/{id}");
        assert_int_equal(gw_route_update(s, api, g, &e), 0);
        gw_route_free(g);
        assert_int_equal(gw_route_get(s, api, id, &g, &e), 0);
        assert_string_equal(g->route_key, "GET /things/{id}");
        gw_route_free(g);
        /* the integration is in use by a route */
        assert_int_equal(gw_integration_delete(s, api, in, &e), -1);
        assert_int_equal(e.code, GW_E_CONFLICT);
        assert_int_equal(gw_route_delete(s, api, id, &e), 0);
        assert_int_equal(gw_route_get(s, api, id, &g, &e), -1);
        assert_int_equal(e.code, GW_E_NOT_FOUND);
        assert_int_equal(gw_route_delete(s, api, id, &e), -1);
        assert_int_equal(e.code, GW_E_NOT_FOUND);
        /* GW_ROUTES_MAX */
        gw_route **v = NULL;
        size_t n = 0;
        assert_int_equal(gw_route_list(s, api, &v, &n, &e), 0);
        for (size_t i = 0; i < n; i++)
                gw_route_free(v[i]);
        free(v);
        for (size_t i = n; i < GW_ROUTES_MAX; i++) {
                char key[64];
                snprintf(key, sizeof(key), "GET /r%zu", i);
                assert_int_equal(mk_route(s, api, key, NULL, NULL), 0);
        }
        r = (gw_route){ .route_key = (char *)"GET /one-too-many" };
        assert_int_equal(gw_route_create(s, api, &r, &e), -1);
        free(r.authorization_type);
        assert_int_equal(e.code, GW_E_LIMIT);
        assert_non_null(strstr(e.msg, "GW_ROUTES_MAX"));
}

static void test_integrations(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_api(s, "i");
        gw_error e = { 0 };
        static const struct {
                gw_int_type type;
                const char *uri, *pfv;
                unsigned timeout;
                bool ok;
        } cases[] = {
                { GW_INT_AWS_PROXY, "hello", "2.0", 0, true },
                { GW_INT_AWS_PROXY, "hello", "1.0", 50, true },
                { GW_INT_AWS_PROXY, "hello", NULL, 0, false }, /* payload format required */
                { GW_INT_AWS_PROXY, "hello", "3.0", 0, false },
                { GW_INT_AWS_PROXY, "hello", "2.0", 49, false },
                { GW_INT_AWS_PROXY, "hello", "2.0", 30001, false },
                { GW_INT_AWS_PROXY, "hello", "2.0", 30000, true },
                { GW_INT_AWS_PROXY, "arn:aws:lambda:us-east-1:000000000000:function:hello", "2.0", 0, true },
                { GW_INT_AWS_PROXY, "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                    "arn:aws:lambda:us-east-1:000000000000:function:hello/invocations",
                  "2.0", 0, true },
                { GW_INT_AWS_PROXY, "arn:aws:lambda:us-east-1:0000:function:hello", "2.0", 0, false },
                { GW_INT_AWS_PROXY, "../etc", "2.0", 0, false },
                { GW_INT_HTTP_PROXY, "http://web:8080/x", NULL, 0, true },
                { GW_INT_HTTP_PROXY, "https://web/x", NULL, 0, false },
                { GW_INT_HTTP_PROXY, "ftp://web/x", NULL, 0, false },
                { GW_INT_HTTP_PROXY, "http:///x", NULL, 0, false },
                { GW_INT_HTTP_PROXY, "http://web", "2.0", 0, false },
        };
        for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
                gw_integration i = { .type = cases[k].type, .uri = (char *)cases[k].uri,
                                     .timeout_ms = cases[k].timeout };
                i.payload_format_version = cases[k].pfv ? xstrdup(cases[k].pfv) : NULL;
                int rc = gw_integration_create(s, api, &i, &e);
                if ((rc == 0) != cases[k].ok)
                        fail_msg("case %zu (%s): %d %s", k, cases[k].uri, rc, e.msg);
                if (rc == 0) {
                        gw_integration *g = NULL;
                        assert_int_equal(gw_integration_get(s, api, i.id, &g, &e), 0);
                        assert_int_equal(g->timeout_ms, cases[k].timeout ? cases[k].timeout
                                                                          : GW_TIMEOUT_DEFAULT_MS);
                        assert_string_equal(g->method, cases[k].type == GW_INT_HTTP_PROXY ? "ANY"
                                                                                         : "POST");
                        gw_integration_free(g);
                }
                free(i.payload_format_version);
                free(i.method);
                free(i.connection_type);
        }
        char fn[256];
        assert_int_equal(gw_lambda_function("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/"
                                            "functions/arn:aws:lambda:us-east-1:000000000000:"
                                            "function:f1/invocations", fn, sizeof(fn)), 0);
        assert_string_equal(fn, "arn:aws:lambda:us-east-1:000000000000:function:f1");
        assert_int_equal(gw_lambda_function("f1", fn, sizeof(fn)), 0);
        assert_string_equal(fn, "f1");
        assert_int_equal(gw_lambda_function("f1", fn, 2), -EINVAL);
        assert_int_equal(gw_lambda_function("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/"
                                            "functions//invocations", fn, sizeof(fn)), -EINVAL);
}

static void test_stages_deployments(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_api(s, "st");
        gw_error e = { 0 };
        assert_int_equal(mk_stage(s, api, "prod", false), 0);
        assert_int_equal(mk_stage(s, api, "prod", false), GW_E_CONFLICT);
        assert_int_equal(mk_stage(s, api, "bad name", false), GW_E_BAD_REQUEST);
        assert_int_equal(mk_stage(s, api, "", false), GW_E_BAD_REQUEST);
        assert_int_equal(mk_stage(s, api, GW_DEFAULT_STAGE, true), 0);
        for (int i = 2; i < GW_STAGES_MAX; i++) {
                char n[16];
                snprintf(n, sizeof(n), "s%d", i);
                assert_int_equal(mk_stage(s, api, n, false), 0);
        }
        gw_stage st = { .name = (char *)"eleventh", .default_throttle = { -1, -1 } };
        assert_int_equal(gw_stage_create(s, api, &st, &e), -1);
        assert_int_equal(e.code, GW_E_LIMIT);
        assert_non_null(strstr(e.msg, "GW_STAGES_MAX"));
        /* AutoDeploy: a deployment at creation and at each change */
        gw_stage *g = NULL;
        assert_int_equal(gw_stage_get(s, api, GW_DEFAULT_STAGE, &g, &e), 0);
        assert_non_null(g->deployment_id);
        _cleanup_free_ char *d1 = xstrdup(g->deployment_id);
        gw_stage_free(g);
        assert_int_equal(mk_route(s, api, "GET /a", NULL, NULL), 0);
        assert_int_equal(gw_stage_get(s, api, GW_DEFAULT_STAGE, &g, &e), 0);
        assert_string_not_equal(g->deployment_id, d1);
        gw_stage_free(g);
        /* a manual stage: no deployment until one is made for it */
        assert_int_equal(gw_stage_get(s, api, "prod", &g, &e), 0);
        assert_null(g->deployment_id);
        gw_stage_free(g);
        gw_deployment d = { .description = (char *)"first" };
        assert_int_equal(gw_deployment_create(s, api, "prod", &d, &e), 0);
        free(d.status);
        assert_int_equal(gw_stage_get(s, api, "prod", &g, &e), 0);
        assert_string_equal(g->deployment_id, d.id);
        gw_stage_free(g);
        gw_deployment *gd = NULL;
        assert_int_equal(gw_deployment_get(s, api, d.id, &gd, &e), 0);
        assert_string_equal(gd->description, "first");
        assert_string_equal(gd->status, "DEPLOYED");
        assert_false(gd->auto_deployed);
        gw_deployment_free(gd);
        /* in use by a stage: not deleted */
        assert_int_equal(gw_deployment_delete(s, api, d.id, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        /* CreateDeployment for an AutoDeploy stage is refused */
        gw_deployment d2 = { 0 };
        assert_int_equal(gw_deployment_create(s, api, GW_DEFAULT_STAGE, &d2, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_int_equal(gw_stage_delete(s, api, "prod", &e), 0);
        assert_int_equal(gw_deployment_delete(s, api, d.id, &e), 0);
        /* stage settings round trip */
        gw_route_setting rs = { .route_key = (char *)"GET /a", .throttle = { 2.5, 3 } };
        gw_stage full = { .name = (char *)"prod", .default_throttle = { 10, 20 },
                          .route_settings = &rs, .n_route_settings = 1,
                          .access_log_destination = (char *)"/tmp/x.log",
                          .access_log_format = (char *)"$context.requestId",
                          .variables = (char *[]){ "k", "v", NULL } };
        assert_int_equal(gw_stage_create(s, api, &full, &e), 0);
        assert_int_equal(gw_stage_get(s, api, "prod", &g, &e), 0);
        assert_true(g->default_throttle.rate == 10 && g->default_throttle.burst == 20);
        assert_int_equal(g->n_route_settings, 1);
        assert_true(g->route_settings[0].throttle.rate == 2.5);
        assert_int_equal(g->route_settings[0].throttle.burst, 3);
        assert_string_equal(g->access_log_destination, "/tmp/x.log");
        assert_string_equal(g->variables[1], "v");
        gw_stage_free(g);
}

static void test_delete_api_takes_all(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_api(s, "gone");
        _cleanup_free_ char *in = mk_int(s, api, "fn");
        assert_int_equal(mk_route(s, api, "ANY /{proxy+}", in, NULL), 0);
        assert_int_equal(mk_stage(s, api, GW_DEFAULT_STAGE, true), 0);
        _cleanup_free_ char *keep = mk_api(s, "kept");
        assert_int_equal(mk_stage(s, keep, GW_DEFAULT_STAGE, true), 0);
        gw_error e = { 0 };
        assert_int_equal(gw_api_delete(s, api, &e), 0);
        gw_route **v = NULL;
        size_t n = 0;
        assert_int_equal(gw_route_list(s, api, &v, &n, &e), -1);
        assert_int_equal(e.code, GW_E_NOT_FOUND);
        gw_deployment **dv = NULL;
        assert_int_equal(gw_deployment_list(s, api, &dv, &n, &e), -1);
        assert_int_equal(gw_api_delete(s, api, &e), -1);
        assert_int_equal(e.code, GW_E_NOT_FOUND);
        /* the rows are gone, not only unreachable: the same id made again finds nothing */
        gw_snapshot *snap = gw_store_snapshot(s, &e);
        assert_non_null(snap);
        char host[64];
        snprintf(host, sizeof(host), "%s.localhost", api);
        assert_null(gw_select_api(snap, host));
        snprintf(host, sizeof(host), "%s.localhost:8080", keep);
        assert_non_null(gw_select_api(snap, host));
        gw_snapshot_unref(snap);
        gw_stage **sv = NULL;
        assert_int_equal(gw_stage_list(s, keep, &sv, &n, &e), 0);
        assert_int_equal(n, 1);
        gw_stage_free(sv[0]);
        free(sv);
}

/* ---- route keys ---- */

static void test_route_keys(void **state)
{
        (void)state;
        static const struct {
                const char *key;
                bool ok;
        } cases[] = {
                { "$default", true },          { "GET /", true },
                { "GET /pets", true },         { "ANY /{proxy+}", true },
                { "POST /a/{b}/c/{d+}", true }, { "OPTIONS /a.json", true },
                { "get /pets", false },        { "GET", false },
                { "GET pets", false },         { "GET /pets/", false },
                { "GET //pets", false },       { "GET /{proxy+}/x", false },
                { "GET /{}", false },          { "GET /{a b}", false },
                { "GET /a{b}", false },        { "GET /{a}/{a}", false },
                { "GET /a b", false },         { "GET /a?b", false },
                { "GET /..", false },          { "GET /a/./b", false },
                { "$DEFAULT", false },         { "GET  /a", false },
                { "", false },                 { "TRACE /", false },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char why[256] = "";
                if (gw_route_key_valid(cases[i].key, why, sizeof(why)) != cases[i].ok)
                        fail_msg("'%s': expected %s (%s)", cases[i].key,
                                 cases[i].ok ? "valid" : "invalid", why);
                if (!cases[i].ok)
                        assert_true(why[0] != '\0');
        }
        /* GW_PATH_PARAMS_MAX and GW_ROUTE_KEY_MAX */
        char key[GW_ROUTE_KEY_MAX + 64] = "GET ";
        for (int i = 0; i < GW_PATH_PARAMS_MAX; i++)
                snprintf(key + strlen(key), sizeof(key) - strlen(key), "/{p%d}", i);
        char why[256];
        assert_true(gw_route_key_valid(key, why, sizeof(why)));
        strcat(key, "/{one}");
        assert_false(gw_route_key_valid(key, why, sizeof(why)));
        assert_non_null(strstr(why, "GW_PATH_PARAMS_MAX"));
        memset(key + 4, 'a', GW_ROUTE_KEY_MAX);
        key[4] = '/';
        key[GW_ROUTE_KEY_MAX + 4] = '\0';
        assert_false(gw_route_key_valid(key, why, sizeof(why)));
        assert_non_null(strstr(why, "512"));
        _cleanup_free_ char *norm = gw_route_key_norm("GET /a/{id}/b/{rest+}");
        assert_string_equal(norm, "GET /a/{}/b/{+}");
}

/* ---- matching ---- */

typedef struct mcase {
        const char *method, *path;
        const char *stage;     /* expected stage, NULL: -ENOENT */
        const char *route_key; /* expected route, NULL: none */
        const char *params;    /* "name=value;..." */
} mcase;

static void check_match(const gw_snapshot *snap, const gw_api *a, const mcase *c)
{
        gw_match m;
        int rc = gw_match_request(snap, a, c->method, c->path, &m);
        if (!c->stage) {
                if (rc != -ENOENT)
                        fail_msg("%s %s: a stage matched", c->method, c->path);
                gw_match_done(&m);
                return;
        }
        if (rc != 0)
                fail_msg("%s %s: no stage", c->method, c->path);
        if (strcmp(m.stage->name, c->stage) != 0)
                fail_msg("%s %s: stage %s, expected %s", c->method, c->path, m.stage->name, c->stage);
        const char *got = m.route ? m.route->route_key : NULL;
        if ((got == NULL) != (c->route_key == NULL) || (got && strcmp(got, c->route_key) != 0))
                fail_msg("%s %s: route %s, expected %s", c->method, c->path, got ? got : "(none)",
                         c->route_key ? c->route_key : "(none)");
        char params[1024] = "";
        for (size_t i = 0; i < m.n_params; i++)
                snprintf(params + strlen(params), sizeof(params) - strlen(params), "%s%s=%s",
                         i ? ";" : "", m.params[i].name, m.params[i].value);
        if (strcmp(params, c->params ? c->params : "") != 0)
                fail_msg("%s %s: params '%s', expected '%s'", c->method, c->path, params,
                         c->params ? c->params : "");
        gw_match_done(&m);
}

static void test_matching(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_api(s, "m");
        _cleanup_free_ char *in = mk_int(s, api, "fn");
        static const char *const keys[] = {
                "GET /pets",          "GET /pets/{id}",         "GET /pets/dog",
                "ANY /pets/{id}",     "POST /pets",             "ANY /pets/{id}/toys",
                "GET /{proxy+}",      "ANY /files/{path+}",     "GET /files/{dir}/{name}",
                "GET /",              "$default",               "DELETE /a/{x}/b/{y}",
                "GET /prod/inner",
        };
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                assert_int_equal(mk_route(s, api, keys[i], in, NULL), 0);
        assert_int_equal(mk_stage(s, api, GW_DEFAULT_STAGE, true), 0);
        assert_int_equal(mk_stage(s, api, "prod", true), 0);
        gw_error e = { 0 };
        gw_snapshot *snap = gw_store_snapshot(s, &e);
        assert_non_null(snap);
        const gw_api *a = gw_select_api(snap, NULL); /* the only API */
        assert_non_null(a);
        static const mcase cases[] = {
                /* literal before {param}, exact method before ANY */
                { "GET", "/pets", "$default", "GET /pets", NULL },
                { "POST", "/pets", "$default", "POST /pets", NULL },
                { "PUT", "/pets", "$default", "$default", NULL },
                { "GET", "/pets/dog", "$default", "GET /pets/dog", NULL },
                { "GET", "/pets/cat", "$default", "GET /pets/{id}", "id=cat" },
                { "PUT", "/pets/cat", "$default", "ANY /pets/{id}", "id=cat" },
                { "PUT", "/pets/dog", "$default", "ANY /pets/{id}", "id=dog" },
                { "GET", "/pets/cat/toys", "$default", "ANY /pets/{id}/toys", "id=cat" },
                /* greedy last before $default */
                { "GET", "/pets/cat/food", "$default", "GET /{proxy+}", "proxy=pets/cat/food" },
                { "POST", "/pets/cat/food", "$default", "$default", NULL },
                { "GET", "/files/a/b", "$default", "GET /files/{dir}/{name}", "dir=a;name=b" },
                { "GET", "/files/a/b/c", "$default", "ANY /files/{path+}", "path=a/b/c" },
                { "PUT", "/files/a", "$default", "ANY /files/{path+}", "path=a" },
                { "PUT", "/files", "$default", "$default", NULL },
                { "PUT", "/files/", "$default", "$default", NULL },
                { "GET", "/files", "$default", "GET /{proxy+}", "proxy=files" },
                /* the root */
                { "GET", "/", "$default", "GET /", NULL },
                { "POST", "/", "$default", "$default", NULL },
                /* a trailing slash is not a segment */
                { "GET", "/pets/", "$default", "GET /pets", NULL },
                { "GET", "/pets/cat/", "$default", "GET /pets/{id}", "id=cat" },
                /* an empty segment is no parameter */
                { "PUT", "/pets//toys", "$default", "$default", NULL },
                { "DELETE", "/a/1/b/2", "$default", "DELETE /a/{x}/b/{y}", "x=1;y=2" },
                { "DELETE", "/a/1/b", "$default", "$default", NULL },
                /* case matters */
                { "GET", "/PETS", "$default", "GET /{proxy+}", "proxy=PETS" },
                { "get", "/pets", "$default", "$default", NULL },
                /* the decoded path: what was %20 is a space in the parameter */
                { "GET", "/pets/big dog", "$default", "GET /pets/{id}", "id=big dog" },
                { "GET", "/pets/%2e%2e", "$default", "GET /pets/{id}", "id=%2e%2e" },
                /* the stage prefix */
                { "GET", "/prod/pets", "prod", "GET /pets", NULL },
                { "GET", "/prod", "prod", "GET /", NULL },
                { "GET", "/prod/", "prod", "GET /", NULL },
                { "GET", "/prod/pets/7", "prod", "GET /pets/{id}", "id=7" },
                { "GET", "/prod/prod/inner", "prod", "GET /prod/inner", NULL },
                { "GET", "/production/pets", "$default", "GET /{proxy+}", "proxy=production/pets" },
                { "GET", "/$default/pets", "$default", "GET /{proxy+}", "proxy=$default/pets" },
                { "GET", "/prod/x/y/", "prod", "GET /{proxy+}", "proxy=x/y/" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                check_match(snap, a, &cases[i]);
        /* the route's integration */
        gw_match m;
        assert_int_equal(gw_match_request(snap, a, "GET", "/pets", &m), 0);
        assert_non_null(m.integration);
        assert_string_equal(m.integration->id, in);
        assert_string_equal(m.route_key, "GET /pets");
        assert_string_equal(m.stage_path, "/pets");
        assert_true(m.throttle.rate < 0);
        gw_match_done(&m);
        assert_int_equal(gw_match_request(snap, a, "GET", "/prod/pets/1", &m), 0);
        assert_string_equal(m.stage_path, "/pets/1");
        gw_match_done(&m);
        gw_snapshot_unref(snap);
}

static void test_matching_stages(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_api(s, "ms");
        _cleanup_free_ char *in = mk_int(s, api, "fn");
        assert_int_equal(mk_route(s, api, "GET /a", in, NULL), 0);
        gw_error e = { 0 };
        /* no stage at all: -ENOENT; a stage without a deployment: no route */
        gw_snapshot *snap = gw_store_snapshot(s, &e);
        const gw_api *a = gw_select_api(snap, NULL);
        check_match(snap, a, &(mcase){ "GET", "/a", NULL, NULL, NULL });
        gw_snapshot_unref(snap);
        assert_int_equal(mk_stage(s, api, "v1", false), 0);
        snap = gw_store_snapshot(s, &e);
        a = gw_select_api(snap, NULL);
        check_match(snap, a, &(mcase){ "GET", "/a", NULL, NULL, NULL });
        check_match(snap, a, &(mcase){ "GET", "/v1/a", "v1", NULL, NULL });
        gw_snapshot_unref(snap);
        /* a deployment freezes the routes: a later route is not served by v1 */
        gw_deployment d = { 0 };
        assert_int_equal(gw_deployment_create(s, api, "v1", &d, &e), 0);
        free(d.status);
        assert_int_equal(mk_route(s, api, "GET /b", in, NULL), 0);
        snap = gw_store_snapshot(s, &e);
        a = gw_select_api(snap, NULL);
        check_match(snap, a, &(mcase){ "GET", "/v1/a", "v1", "GET /a", NULL });
        check_match(snap, a, &(mcase){ "GET", "/v1/b", "v1", NULL, NULL });
        gw_snapshot_unref(snap);
        /* throttling: the route's setting, else the stage's default */
        gw_route_setting rs = { .route_key = (char *)"GET /a", .throttle = { 5, -1 } };
        gw_stage st = { .name = (char *)GW_DEFAULT_STAGE, .auto_deploy = true,
                        .default_throttle = { 100, 50 }, .route_settings = &rs,
                        .n_route_settings = 1 };
        assert_int_equal(gw_stage_create(s, api, &st, &e), 0);
        snap = gw_store_snapshot(s, &e);
        a = gw_select_api(snap, NULL);
        check_match(snap, a, &(mcase){ "GET", "/b", "$default", "GET /b", NULL });
        gw_match m;
        assert_int_equal(gw_match_request(snap, a, "GET", "/a", &m), 0);
        assert_true(m.throttle.rate == 5 && m.throttle.burst == 50);
        gw_match_done(&m);
        assert_int_equal(gw_match_request(snap, a, "GET", "/b", &m), 0);
        assert_true(m.throttle.rate == 100 && m.throttle.burst == 50);
        gw_match_done(&m);
        assert_int_equal(gw_match_request(snap, a, "GET", "/nothing", &m), 0);
        assert_null(m.route);
        assert_null(m.route_key);
        gw_match_done(&m);
        gw_snapshot_unref(snap);
}

static void test_params_bound(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_api(s, "pb");
        char key[GW_ROUTE_KEY_MAX] = "GET ", path[512] = "", want[1024] = "";
        for (int i = 0; i < GW_PATH_PARAMS_MAX; i++) {
                snprintf(key + strlen(key), sizeof(key) - strlen(key), "/{p%d}", i);
                snprintf(path + strlen(path), sizeof(path) - strlen(path), "/v%d", i);
                snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sp%d=v%d",
                         i ? ";" : "", i, i);
        }
        assert_int_equal(mk_route(s, api, key, NULL, NULL), 0);
        _cleanup_free_ char *full = xstrdup(key);
        strcat(key, "/{one}");
        assert_int_equal(mk_route(s, api, key, NULL, NULL), GW_E_BAD_REQUEST);
        assert_int_equal(mk_stage(s, api, GW_DEFAULT_STAGE, true), 0);
        gw_error e = { 0 };
        gw_snapshot *snap = gw_store_snapshot(s, &e);
        const gw_api *a = gw_select_api(snap, NULL);
        check_match(snap, a, &(mcase){ "GET", path, "$default", full, want });
        /* one segment more or less: no route */
        strcat(path, "/more");
        check_match(snap, a, &(mcase){ "GET", path, "$default", NULL, NULL });
        gw_snapshot_unref(snap);
}

static void test_select_api(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *a1 = mk_api(s, "one");
        gw_error e = { 0 };
        gw_snapshot *snap = gw_store_snapshot(s, &e);
        /* one API: any Host that does not name another */
        assert_non_null(gw_select_api(snap, "127.0.0.1:8080"));
        assert_non_null(gw_select_api(snap, ""));
        assert_null(gw_select_api(snap, "zzzzzzzzzz.localhost:8080"));
        gw_snapshot_unref(snap);
        _cleanup_free_ char *a2 = mk_api(s, "two");
        snap = gw_store_snapshot(s, &e);
        assert_null(gw_select_api(snap, "127.0.0.1:8080")); /* which one? */
        char h[128];
        snprintf(h, sizeof(h), "%s.localhost:9000", a2);
        assert_string_equal(gw_select_api(snap, h)->id, a2);
        snprintf(h, sizeof(h), "%s.execute-api.us-east-1.amazonaws.com", a1);
        assert_string_equal(gw_select_api(snap, h)->id, a1);
        snprintf(h, sizeof(h), "%s.LOCALHOST", a1);
        assert_string_equal(gw_select_api(snap, h)->id, a1);
        snprintf(h, sizeof(h), "%s.example.com", a1);
        assert_null(gw_select_api(snap, h));
        snprintf(h, sizeof(h), "%.5s.localhost", a1);
        assert_null(gw_select_api(snap, h));
        gw_snapshot_unref(snap);
}

static void test_snapshot_generation(void **state)
{
        gw_store *s = *state;
        gw_error e = { 0 };
        uint64_t g0 = gw_store_generation(s);
        gw_snapshot *a = gw_store_snapshot(s, &e), *b = gw_store_snapshot(s, &e);
        assert_ptr_equal(a, b); /* nothing changed: the same snapshot */
        gw_snapshot_unref(b);
        _cleanup_free_ char *api = mk_api(s, "gen");
        assert_true(gw_store_generation(s) > g0);
        /* a failed change does not move the generation */
        uint64_t g1 = gw_store_generation(s);
        assert_int_equal(mk_route(s, api, "BAD", NULL, NULL), GW_E_BAD_REQUEST);
        assert_int_equal(gw_store_generation(s), g1);
        gw_snapshot *c = gw_store_snapshot(s, &e);
        assert_ptr_not_equal(a, c);
        assert_null(gw_select_api(a, NULL)); /* the old one is intact: it had no API */
        assert_non_null(gw_select_api(c, NULL));
        gw_snapshot_unref(a);
        gw_snapshot *d = gw_store_snapshot(s, &e);
        assert_ptr_equal(c, d);
        gw_snapshot_unref(c);
        gw_snapshot_unref(d);
        /* a snapshot outlives the store's newer ones */
        gw_snapshot *old = gw_store_snapshot(s, &e);
        assert_int_equal(mk_stage(s, api, "x", false), 0);
        gw_snapshot *newer = gw_store_snapshot(s, &e);
        gw_snapshot_unref(newer);
        assert_non_null(gw_select_api(old, NULL));
        gw_snapshot_unref(old);
}

/* ---- quick create: ApiGatewayManaged ---- */

/* The API's only route, integration and stage (quick create made one of each). */
static gw_route *only_route(gw_store *s, const char *api, size_t want)
{
        gw_route **v = NULL;
        size_t n = 0;
        gw_error e = { 0 };
        assert_int_equal(gw_route_list(s, api, &v, &n, &e), 0);
        assert_int_equal(n, want);
        for (size_t i = 1; i < n; i++)
                gw_route_free(v[i]);
        gw_route *r = v[0];
        free(v);
        return r;
}

static gw_integration *the_integration(gw_store *s, const char *api)
{
        gw_integration **v = NULL;
        size_t n = 0;
        gw_error e = { 0 };
        assert_int_equal(gw_integration_list(s, api, &v, &n, &e), 0);
        assert_int_equal(n, 1);
        gw_integration *i = v[0];
        free(v);
        return i;
}

static char *mk_quick(gw_store *s, const char *name, const char *target, const char *key)
{
        gw_api a = { .name = (char *)name };
        gw_error e = { 0 };
        if (gw_api_create_quick(s, &a, target, key, &e) < 0)
                fail_msg("quick create: %s", e.msg);
        free(a.protocol);
        free(a.route_selection_expression);
        free(a.api_key_selection_expression);
        return xstrdup(a.id);
}

/* The route a request on the API's $default stage selects ("" for none), from a fresh
 * snapshot: what the gateway serves. */
static void served(gw_store *s, const char *api, const char *method, const char *path,
                   char *out, size_t len)
{
        gw_error e = { 0 };
        gw_snapshot *snap = gw_store_snapshot(s, &e);
        assert_non_null(snap);
        char host[64];
        snprintf(host, sizeof(host), "%s.localhost", api);
        const gw_api *a = gw_select_api(snap, host);
        assert_non_null(a);
        gw_match m;
        assert_int_equal(gw_match_request(snap, a, method, path, &m), 0);
        snprintf(out, len, "%s", m.route ? m.route->route_key : "");
        if (m.route && m.integration)
                snprintf(out + strlen(out), len - strlen(out), " -> %s", m.integration->uri);
        gw_match_done(&m);
        gw_snapshot_unref(snap);
}

static void test_quick_create_managed(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_quick(s, "q", "hello", "GET /hi");
        gw_error e = { 0 };
        gw_route *r = only_route(s, api, 1);
        assert_true(r->managed);
        assert_string_equal(r->route_key, "GET /hi");
        gw_integration *in = the_integration(s, api);
        assert_true(in->managed);
        assert_int_equal(in->type, GW_INT_AWS_PROXY);
        assert_string_equal(in->payload_format_version, "2.0");
        _cleanup_free_ char *target = xasprintf("integrations/%s", in->id);
        assert_string_equal(r->target, target);
        gw_stage *st = NULL;
        assert_int_equal(gw_stage_get(s, api, GW_DEFAULT_STAGE, &st, &e), 0);
        assert_true(st->managed);
        assert_true(st->auto_deploy);
        assert_non_null(st->deployment_id);
        char got[256];
        served(s, api, "GET", "/hi", got, sizeof(got));
        assert_string_equal(got, "GET /hi -> hello");

        /* what the user makes is not managed, whatever the record says */
        gw_route mine = { .route_key = (char *)"GET /mine", .target = target, .managed = true };
        assert_int_equal(gw_route_create(s, api, &mine, &e), 0);
        free(mine.authorization_type);
        assert_false(mine.managed);
        gw_route *g = NULL;
        assert_int_equal(gw_route_get(s, api, mine.id, &g, &e), 0);
        assert_false(g->managed);
        assert_int_equal(gw_route_delete(s, api, mine.id, &e), 0);
        gw_route_free(g);
        assert_int_equal(mk_stage(s, api, "prod", true), 0);
        gw_stage *prod = NULL;
        assert_int_equal(gw_stage_get(s, api, "prod", &prod, &e), 0);
        assert_false(prod->managed);
        gw_stage_free(prod);
        assert_int_equal(gw_stage_delete(s, api, "prod", &e), 0);

        /* the managed route: its key stays, the rest may change; it is not deleted */
        free(r->route_key);
        r->route_key = xstrdup("GET /other");
        assert_int_equal(gw_route_update(s, api, r, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "GET /hi"));
        assert_non_null(strstr(e.msg, "ApiGatewayManaged"));
        assert_non_null(strstr(e.msg, "RouteKey"));
        free(r->route_key);
        r->route_key = xstrdup("GET /hi");
        r->operation_name = xstrdup("hi");
        r->managed = false; /* the record's flag is not what counts */
        assert_int_equal(gw_route_update(s, api, r, &e), 0);
        gw_route_free(r);
        r = only_route(s, api, 1);
        assert_true(r->managed);
        assert_string_equal(r->route_key, "GET /hi");
        assert_string_equal(r->operation_name, "hi");
        assert_int_equal(gw_route_delete(s, api, r->id, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "cannot be deleted"));
        assert_non_null(strstr(e.msg, r->id));

        /* the managed integration: updated, not deleted */
        in->timeout_ms = 5000;
        assert_int_equal(gw_integration_update(s, api, in, &e), 0);
        assert_int_equal(gw_integration_delete(s, api, in->id, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "ApiGatewayManaged"));
        gw_integration_free(in);
        in = the_integration(s, api);
        assert_true(in->managed);
        assert_int_equal(in->timeout_ms, 5000);

        /* the managed $default stage: its settings change, AutoDeploy stays, not deleted */
        st->default_throttle = (gw_throttle){ .rate = 10, .burst = 5 };
        st->description = xstrdup("tuned");
        assert_int_equal(gw_stage_update(s, api, st, &e), 0);
        st->auto_deploy = false;
        assert_int_equal(gw_stage_update(s, api, st, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "AutoDeploy"));
        assert_int_equal(gw_stage_delete(s, api, GW_DEFAULT_STAGE, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "$default"));
        gw_stage_free(st);
        assert_int_equal(gw_stage_get(s, api, GW_DEFAULT_STAGE, &st, &e), 0);
        assert_true(st->managed && st->auto_deploy);
        assert_string_equal(st->description, "tuned");
        assert_true(st->default_throttle.rate == 10 && st->default_throttle.burst == 5);
        gw_stage_free(st);

        /* durable: a reopened store still knows */
        gw_store_close(s);
        *state = s = open_store();
        gw_route_free(r);
        r = only_route(s, api, 1);
        assert_true(r->managed);
        assert_int_equal(gw_route_delete(s, api, r->id, &e), -1);
        gw_route_free(r);

        /* deleting the API takes them all */
        assert_int_equal(gw_api_delete(s, api, &e), 0);
        gw_route **v = NULL;
        size_t n = 0;
        assert_int_equal(gw_route_list(s, api, &v, &n, &e), -1);
        assert_int_equal(e.code, GW_E_NOT_FOUND);
        gw_integration_free(in);
}

static void test_quick_create_refusals(void **state)
{
        gw_store *s = *state;
        gw_error e = { 0 };
        gw_api *none = NULL;
        size_t n0 = 0;
        gw_api **v = NULL;
        assert_int_equal(gw_api_list(s, &v, &n0, &e), 0);
        free(v);
        static const struct {
                const char *target, *key, *why;
        } bad[] = {
                { "hello", "GET nope", "RouteKey" },
                { "no such thing!", NULL, "Target" },
                { "https://web/", NULL, "http://" },
                { NULL, "GET /x", "Target too" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                gw_api a = { .name = (char *)"bad" };
                assert_int_equal(gw_api_create_quick(s, &a, bad[i].target, bad[i].key, &e), -1);
                assert_int_equal(e.code, GW_E_BAD_REQUEST);
                if (!strstr(e.msg, bad[i].why))
                        fail_msg("%s: '%s' does not say %s", bad[i].target, e.msg, bad[i].why);
                free(a.protocol);
                free(a.route_selection_expression);
                free(a.api_key_selection_expression);
        }
        size_t n = 0;
        assert_int_equal(gw_api_list(s, &v, &n, &e), 0);
        assert_int_equal(n, n0); /* a refused quick create leaves no API */
        free(v);
        (void)none;
        /* a URL: HTTP_PROXY, payload 1.0, method ANY, route $default */
        _cleanup_free_ char *api = mk_quick(s, "u", "http://web:8080/base", NULL);
        gw_integration *in = the_integration(s, api);
        assert_int_equal(in->type, GW_INT_HTTP_PROXY);
        assert_string_equal(in->payload_format_version, "1.0");
        assert_string_equal(in->method, "ANY");
        gw_integration_free(in);
        gw_route *r = only_route(s, api, 1);
        assert_string_equal(r->route_key, GW_DEFAULT_ROUTE);
        assert_true(r->managed);
        gw_route_free(r);
}

static void test_update_api_quick(void **state)
{
        gw_store *s = *state;
        _cleanup_free_ char *api = mk_quick(s, "q", "hello", "GET /hi");
        gw_error e = { 0 };
        gw_api *a = NULL;
        assert_int_equal(gw_api_get(s, api, &a, &e), 0);
        char got[256];

        /* RouteKey: the managed route's key, served at once ($default auto-deploys) */
        assert_int_equal(gw_api_update_quick(s, a, NULL, "GET /new", &e), 0);
        gw_route *r = only_route(s, api, 1);
        assert_string_equal(r->route_key, "GET /new");
        assert_true(r->managed);
        gw_route_free(r);
        served(s, api, "GET", "/new", got, sizeof(got));
        assert_string_equal(got, "GET /new -> hello");
        served(s, api, "GET", "/hi", got, sizeof(got));
        assert_string_equal(got, "");

        /* Target: a URL makes it HTTP_PROXY (payload 1.0, ANY); a function AWS_PROXY again */
        gw_integration *in = the_integration(s, api);
        in->timeout_ms = 7000;
        assert_int_equal(gw_integration_update(s, api, in, &e), 0);
        gw_integration_free(in);
        assert_int_equal(gw_api_update_quick(s, a, "http://web:8080", NULL, &e), 0);
        in = the_integration(s, api);
        assert_int_equal(in->type, GW_INT_HTTP_PROXY);
        assert_string_equal(in->uri, "http://web:8080");
        assert_string_equal(in->payload_format_version, "1.0");
        assert_string_equal(in->method, "ANY");
        assert_int_equal(in->timeout_ms, 7000);
        assert_true(in->managed);
        gw_integration_free(in);
        served(s, api, "GET", "/new", got, sizeof(got));
        assert_string_equal(got, "GET /new -> http://web:8080");
        assert_int_equal(gw_api_update_quick(s, a, "arn:aws:lambda:us-east-1:000000000000:function:fn2",
                                             "ANY /{proxy+}", &e), 0);
        in = the_integration(s, api);
        assert_int_equal(in->type, GW_INT_AWS_PROXY);
        assert_string_equal(in->payload_format_version, "2.0");
        assert_string_equal(in->method, "POST");
        gw_integration_free(in);
        served(s, api, "GET", "/a/b", got, sizeof(got));
        assert_string_equal(got, "ANY /{proxy+} -> arn:aws:lambda:us-east-1:000000000000:function:fn2");

        /* refused: a bad target or key, a key another route has; nothing changes */
        _cleanup_free_ char *other = mk_int(s, api, "fn3");
        assert_int_equal(mk_route(s, api, "GET /taken", other, NULL), 0);
        free(a->name);
        a->name = xstrdup("renamed");
        assert_int_equal(gw_api_update_quick(s, a, NULL, "GET /taken", &e), -1);
        assert_int_equal(e.code, GW_E_CONFLICT);
        assert_int_equal(gw_api_update_quick(s, a, "no such thing!", NULL, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_int_equal(gw_api_update_quick(s, a, NULL, "GET nope", &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        gw_api *g = NULL;
        assert_int_equal(gw_api_get(s, api, &g, &e), 0);
        assert_string_equal(g->name, "q"); /* one transaction: the name did not change either */
        gw_api_free(g);
        served(s, api, "GET", "/a/b", got, sizeof(got));
        assert_string_equal(got, "ANY /{proxy+} -> arn:aws:lambda:us-east-1:000000000000:function:fn2");
        gw_api_free(a);

        /* an API not made by quick create */
        _cleanup_free_ char *plain = mk_api(s, "plain");
        _cleanup_free_ char *pin = mk_int(s, plain, "fn");
        assert_int_equal(mk_route(s, plain, "GET /p", pin, NULL), 0);
        assert_int_equal(gw_api_get(s, plain, &a, &e), 0);
        assert_int_equal(gw_api_update_quick(s, a, "hello", NULL, &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_non_null(strstr(e.msg, "not made by quick create"));
        assert_non_null(strstr(e.msg, plain));
        assert_int_equal(gw_api_update_quick(s, a, NULL, "GET /q", &e), -1);
        assert_int_equal(e.code, GW_E_BAD_REQUEST);
        assert_int_equal(gw_api_update_quick(s, a, NULL, NULL, &e), 0); /* a plain update */
        gw_api_free(a);
        r = only_route(s, plain, 1);
        assert_string_equal(r->route_key, "GET /p");
        assert_false(r->managed);
        gw_route_free(r);
}

/* A store written before the managed column (the schema of the first release, rows as it wrote
 * them) opens, gets the column, reads its records as not managed and takes quick creates. */
static void test_old_store_migrates(void **state)
{
        (void)state;
        char path[160];
        snprintf(path, sizeof(path), "%s/old.db", dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        static const char old_schema[] =
                "CREATE TABLE apis (api TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
                " PRIMARY KEY (api, id));"
                "CREATE TABLE routes (api TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
                " norm TEXT NOT NULL, PRIMARY KEY (api, id), UNIQUE (api, norm));"
                "CREATE TABLE integrations (api TEXT NOT NULL, id TEXT NOT NULL,"
                " doc TEXT NOT NULL, PRIMARY KEY (api, id));"
                "CREATE TABLE stages (api TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
                " PRIMARY KEY (api, id));"
                "CREATE TABLE deployments (api TEXT NOT NULL, id TEXT NOT NULL,"
                " doc TEXT NOT NULL, auto INTEGER NOT NULL, frozen TEXT NOT NULL,"
                " PRIMARY KEY (api, id));"
                "INSERT INTO apis VALUES ('', 'oldapi0000', '{\"id\":\"oldapi0000\",\"name\":\"old\","
                "\"protocol\":\"HTTP\",\"rse\":\"$request.method $request.path\",\"created\":"
                "\"2026-01-01T00:00:00Z\"}');"
                "INSERT INTO integrations VALUES ('oldapi0000', 'int0000', '{\"id\":\"int0000\","
                "\"type\":\"AWS_PROXY\",\"uri\":\"hello\",\"pfv\":\"2.0\",\"timeout_ms\":29000}');"
                "INSERT INTO routes VALUES ('oldapi0000', 'rte0000', '{\"id\":\"rte0000\","
                "\"key\":\"$default\",\"target\":\"integrations/int0000\"}', '$default');"
                "INSERT INTO stages VALUES ('oldapi0000', '$default', '{\"name\":\"$default\","
                "\"auto_deploy\":true,\"created\":\"x\",\"updated\":\"x\"}');";
        char *msg = NULL;
        if (sqlite3_exec(db, old_schema, NULL, NULL, &msg) != SQLITE_OK)
                fail_msg("old schema: %s", msg);
        sqlite3_close(db);

        gw_store *s = NULL;
        gw_error e = { 0 };
        if (gw_store_open(path, &s, &e) < 0)
                fail_msg("open an old store: %s", e.msg);
        gw_route *r = only_route(s, "oldapi0000", 1);
        assert_false(r->managed);
        assert_string_equal(r->route_key, "$default");
        assert_int_equal(gw_route_delete(s, "oldapi0000", r->id, &e), 0);
        gw_route_free(r);
        gw_integration *in = the_integration(s, "oldapi0000");
        assert_false(in->managed);
        gw_integration_free(in);
        _cleanup_free_ char *api = mk_quick(s, "new", "hello", NULL);
        gw_store_close(s);
        /* opened again (the column is there now): the same answers */
        assert_int_equal(gw_store_open(path, &s, &e), 0);
        r = only_route(s, api, 1);
        assert_true(r->managed);
        gw_route_free(r);
        gw_stage *st = NULL;
        assert_int_equal(gw_stage_get(s, "oldapi0000", GW_DEFAULT_STAGE, &st, &e), 0);
        assert_false(st->managed);
        gw_stage_free(st);
        assert_int_equal(gw_stage_delete(s, "oldapi0000", GW_DEFAULT_STAGE, &e), 0);
        gw_store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_api_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_api_bad, setup, teardown),
                cmocka_unit_test_setup_teardown(test_routes_conflicts_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_integrations, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stages_deployments, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_api_takes_all, setup, teardown),
                cmocka_unit_test(test_route_keys),
                cmocka_unit_test_setup_teardown(test_matching, setup, teardown),
                cmocka_unit_test_setup_teardown(test_matching_stages, setup, teardown),
                cmocka_unit_test_setup_teardown(test_params_bound, setup, teardown),
                cmocka_unit_test_setup_teardown(test_select_api, setup, teardown),
                cmocka_unit_test_setup_teardown(test_snapshot_generation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_quick_create_managed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_quick_create_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_update_api_quick, setup, teardown),
                cmocka_unit_test_setup_teardown(test_old_store_migrates, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
