/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: apigatewayv2's control plane (src/serve/apigw.c) over a real gateway store
 * (src/gw) in the harness's private folder. The input's first line is "METHOD RAW_PATH" (the
 * path as sent, with its query), the rest the body, as the listener hands them over. "@API@" in
 * the line is replaced by the id of an API made at the first run (with an integration, a route,
 * the $default stage with AutoDeploy and a stage "prod"; made again when an input deleted it),
 * "@INT@" and "@ROUTE@" by its integration's and route's ids, so that inputs reach the
 * sub-resources.
 * Invariants of every answer: a status from 200 to 599; 204 without a body; any other answer a
 * JSON object in valid UTF-8 (the adapter refuses a body that is not, and makes any byte of an
 * error message that is not UTF-8 a '?') with Content-Type application/json; an error (>= 400) has its
 * x-amzn-ErrorType and a "message". After each input, the snapshot rebuilds and every API's
 * routes match a request without crashing.
 * Corpus (tests/fuzz/corpus/apigw): requests recorded from aws apigatewayv2 2.9.19 against husk
 * serve (tests/integration/apigw_cli.sh's operations), ids replaced by the markers above. */
#include "fuzz.h"

#include "gw/gw.h"
#include "serve/serve.h"
#include "util/json.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_store *G;
static char api_id[GW_ID_LEN + 1], int_id[GW_SUBID_LEN + 1], route_id[GW_SUBID_LEN + 1];

static bool api_exists(void)
{
        gw_api *a = NULL;
        gw_error err;
        if (!*api_id || gw_api_get(G, api_id, &a, &err) < 0)
                return false;
        gw_api_free(a);
        return true;
}

/* The store, and the API the markers name (made again when an input deleted it). */
static void store_init(void)
{
        gw_error err;
        memset(&err, 0, sizeof(err));
        if (!G) {
                char *path = xasprintf("%s/gw.db", fuzz_root());
                if (gw_store_open(path, &G, &err) < 0)
                        fuzz_fail("gw_store_open %s: %s", path, err.msg);
                free(path);
                gw_store_set_server(G, "us-east-1", "http://127.0.0.1:8080");
        }
        if (api_exists())
                return;
        gw_api a = {.name = (char *)"fz"};
        if (gw_api_create(G, &a, &err) < 0)
                fuzz_fail("gw_api_create: %s", err.msg);
        memcpy(api_id, a.id, sizeof(api_id));
        free(a.protocol);
        free(a.route_selection_expression);
        free(a.api_key_selection_expression);
        gw_integration i = {.type = GW_INT_AWS_PROXY, .uri = (char *)"fn",
                            .payload_format_version = (char *)"2.0"};
        if (gw_integration_create(G, api_id, &i, &err) < 0)
                fuzz_fail("gw_integration_create: %s", err.msg);
        memcpy(int_id, i.id, sizeof(int_id));
        free(i.method);
        free(i.connection_type);
        char *target = xasprintf("integrations/%s", int_id);
        gw_route r = {.route_key = (char *)"GET /items/{id}", .target = target};
        if (gw_route_create(G, api_id, &r, &err) < 0)
                fuzz_fail("gw_route_create: %s", err.msg);
        memcpy(route_id, r.id, sizeof(route_id));
        free(r.authorization_type);
        free(target);
        gw_stage st = {.name = (char *)GW_DEFAULT_STAGE, .auto_deploy = true,
                       .default_throttle = {-1, -1}};
        gw_stage prod = {.name = (char *)"prod", .default_throttle = {-1, -1}};
        if (gw_stage_create(G, api_id, &st, &err) < 0 || gw_stage_create(G, api_id, &prod, &err) < 0)
                fuzz_fail("gw_stage_create: %s", err.msg);
}

static void check(const char *line, const serve_resp *w)
{
        if (w->status < 200 || w->status > 599)
                fuzz_fail("%s: status %u", line, w->status);
        if (w->status == 204) {
                if (w->body && w->len)
                        fuzz_fail("%s: 204 with a body", line);
                return;
        }
        if (!w->body)
                fuzz_fail("%s: no body", line);
        const char *ct = fuzz_resp_header(w, "Content-Type");
        if (!ct || strcmp(ct, "application/json") != 0)
                fuzz_fail("%s: Content-Type %s", line, ct ? ct : "(none)");
        json_value *v = fuzz_json_object(line, w->body, w->len);
        if (w->status >= 400) {
                if (!fuzz_resp_header(w, "x-amzn-ErrorType") || !json_get_str(v, "message"))
                        fuzz_fail("%s: error without x-amzn-ErrorType and message: %s", line,
                                  w->body);
        }
        json_value_free(v);
}

/* s with each marker replaced (allocated). */
static char *expand(const char *s)
{
        static const struct {
                const char *mark;
                const char *val;
        } m[] = {{"@API@", api_id}, {"@INT@", int_id}, {"@ROUTE@", route_id}};
        char *out = xstrdup(s);
        for (size_t k = 0; k < ARRAY_SIZE(m); k++) {
                char *at;
                while ((at = strstr(out, m[k].mark))) {
                        *at = '\0';
                        char *n = xasprintf("%s%s%s", out, m[k].val, at + strlen(m[k].mark));
                        free(out);
                        out = n;
                }
        }
        return out;
}

/* The data plane's side: the snapshot rebuilds and every API matches a few requests. */
static void exercise_snapshot(void)
{
        gw_error err;
        gw_snapshot *snap = gw_store_snapshot(G, &err);
        if (!snap)
                fuzz_fail("snapshot: %s", err.msg);
        char host[64];
        snprintf(host, sizeof(host), "%s.localhost:8080", api_id);
        const gw_api *a = gw_select_api(snap, host);
        if (!a && api_exists())
                fuzz_fail("the harness's API is not in the snapshot");
        if (!a) {
                gw_snapshot_unref(snap);
                return;
        }
        static const char *const paths[] = {"/", "/items/1", "/prod/items/2/", "/a/b/c", "//x"};
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                gw_match m;
                if (gw_match_request(snap, a, "GET", paths[i], &m) == 0 && m.route &&
                    strcmp(m.route_key, m.route->route_key) != 0)
                        fuzz_fail("match %s: route key mismatch", paths[i]);
                gw_match_done(&m);
        }
        gw_snapshot_unref(snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        store_init();
        char *line, *body;
        size_t blen, ll = fuzz_split_line(data, size, &line, &body, &blen);
        char *sp = strchr(line, ' ');
        if (!sp || strlen(line) != ll) {
                free(line);
                free(body);
                return 0;
        }
        *sp = '\0';
        char *raw = expand(sp + 1);
        char *q = strchr(raw, '?');
        char *query = xstrdup(q ? q + 1 : "");
        if (q)
                *q = '\0';
        char *path = NULL;
        size_t plen;
        if (serve_url_decode(raw, strlen(raw), false, &path, &plen) < 0)
                path = xstrdup(raw);
        serve_req r;
        fuzz_req_init(&r, line, path, raw, query, body, blen);
        serve_resp w;
        memset(&w, 0, sizeof(w));
        apigw_handle(G, &r, &w);
        check(sp + 1, &w);
        serve_resp_free(&w);
        exercise_snapshot();
        free(path);
        free(query);
        free(raw);
        free(body);
        free(line);
        return 0;
}
