/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: the API gateway's data plane (src/gateway/event.c, src/gw/match.c), the pure
 * path between a stranger's request on the --api-listen listener and a function, and between a
 * function's answer (its author controls it) and the HTTP answer. The first byte selects:
 *   'a'  an answer: the next byte '1' for payload format 1.0 (else 2.0), the rest the
 *        function's JSON result -> gwd_map_response. Invariants: a status from 100 to 599;
 *        every header name a token (RFC 9110 5.6.2) and no name or value with CR, LF or NUL
 *        (a function must never split the answer or inject a header); with isBase64Encoded the
 *        body is the decoded bytes, else the "body" string (2.0 without statusCode: the JSON).
 *   'l'  an access log format (the control plane's AccessLogSettings.Format) -> gwd_log_line
 *        with variables holding control characters: the line has no line break the format
 *        did not have.
 *   else a request (after the selector): "METHOD RAW_URI [HTTP/1.x]", header lines "Name:
 *        value", an empty line, the body. Split as src/gateway/listen.c's first_call does (the
 *        431 bound, gwd_path_hostile, gwd_pct_decode), then matched (gw_select_api,
 *        gw_match_request) against a fixed API whose $default and "prod" stages hold
 *        {param}, {proxy+}, ANY and $default routes; both events (gwd_event_v2, gwd_event_v1)
 *        must be a JSON object in valid UTF-8 whose body is the request's bytes (as text or
 *        base64); matched parameters are pieces of the decoded
 *        path; gwd_proxy_url with the match's parameters gives a URL without CR, LF, space or
 *        a "." / ".." segment, which gwd_url_split splits; gwd_cors_headers and gwd_log_line
 *        with the request's values give header-safe headers and a one-line log line.
 * Corpus (tests/fuzz/corpus/gateway): requests as tests/integration/gateway.sh sends them
 * (path parameters, greedy paths, repeated query parameters, cookies, binary bodies, hostile
 * paths, overlong headers) and functions' answers (bare JSON values, the structured forms,
 * header injections, invalid statuses, bytes that are not UTF-8), log formats. */
#include "fuzz.h"

#include "gateway/gwd.h"
#include "gw/gw.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static gw_store *G;
static gw_snapshot *S;
static char api_id[GW_ID_LEN + 1];

static void mk_route(const char *key, const char *target)
{
        gw_error err;
        gw_route r = {.route_key = (char *)key, .target = (char *)target};
        if (gw_route_create(G, api_id, &r, &err) < 0)
                fuzz_fail("gw_route_create %s: %s", key, err.msg);
        free(r.authorization_type);
}

/* Once: the store and one API (routes, two stages: $default auto-deployed, "prod" deployed by
 * hand with stage variables); its snapshot is kept for the process's life. */
static void api_init(void)
{
        if (S)
                return;
        gw_error err;
        memset(&err, 0, sizeof(err));
        char *path = xasprintf("%s/gw.db", fuzz_root());
        if (gw_store_open(path, &G, &err) < 0)
                fuzz_fail("gw_store_open %s: %s", path, err.msg);
        free(path);
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
        free(i.method);
        free(i.connection_type);
        char *target = xasprintf("integrations/%s", i.id);
        gw_stage st = {.name = (char *)GW_DEFAULT_STAGE, .auto_deploy = true,
                       .default_throttle = {-1, -1}};
        char *vars[] = {(char *)"env", (char *)"prod", (char *)"ver", (char *)"v 1", NULL};
        gw_stage prod = {.name = (char *)"prod", .default_throttle = {-1, -1}, .variables = vars};
        if (gw_stage_create(G, api_id, &st, &err) < 0 || gw_stage_create(G, api_id, &prod, &err) < 0)
                fuzz_fail("gw_stage_create: %s", err.msg);
        static const char *const keys[] = {
                "GET /items/{id}",       "POST /items/{id}/parts/{part}", "ANY /files/{proxy+}",
                "GET /files/{name}",     "ANY /{proxy+}",                 "GET /",
                "DELETE /a/b/{c}/d",     "PUT /x/{y+}",                   GW_DEFAULT_ROUTE};
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
                mk_route(keys[k], target);
        free(target);
        gw_deployment d = {0};
        if (gw_deployment_create(G, api_id, "prod", &d, &err) < 0)
                fuzz_fail("gw_deployment_create: %s", err.msg);
        free(d.status);
        S = gw_store_snapshot(G, &err);
        if (!S)
                fuzz_fail("snapshot: %s", err.msg);
}

static bool tchar(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void check_headers(const char *what, const gwd_hdr *h, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const char *name = h[i].name, *value = h[i].value;
                if (!name || !value || !*name)
                        fuzz_fail("%s: header %zu without a name or value", what, i);
                for (const char *p = name; *p; p++)
                        if (!tchar((unsigned char)*p))
                                fuzz_fail("%s: header name '%s' is not a token (byte 0x%02x)",
                                          what, name, (unsigned char)*p);
                if (strpbrk(value, "\r\n"))
                        fuzz_fail("%s: header %s: a CR or LF in its value '%s'", what, name,
                                  value);
        }
}

/* ---------------------------------------------------------------- answers */

static void check_answer(const char *ver, const uint8_t *data, size_t size)
{
        char *body = fuzz_strndup(data, size);
        gwd_resp w;
        if (gwd_map_response(ver, body, size, &w) < 0) {
                free(body);
                return;
        }
        if (w.status < 100 || w.status > 599)
                fuzz_fail("answer: status %u", w.status);
        check_headers("answer", w.headers, w.n_headers);
        if (!w.body)
                fuzz_fail("answer: no body");
        /* the body: what the function gave */
        json_value *v = NULL;
        char why[128];
        if (json_parse(body, size, &v, why, sizeof(why)) < 0)
                fuzz_fail("answer: mapped, but not JSON (%s)", why);
        bool v1 = strcmp(ver, "1.0") == 0;
        if (v->type == JSON_OBJECT && (v1 || json_get(v, "statusCode"))) {
                const json_value *b = json_get(v, "body"), *b64 = json_get(v, "isBase64Encoded");
                const char *s = b && b->type == JSON_STRING ? b->str : "";
                char *want = NULL;
                size_t wl = 0;
                if (b64 && b64->type == JSON_BOOL && b64->boolean) {
                        if (base64_decode(s, strlen(s), &want, &wl) < 0)
                                fuzz_fail("answer: isBase64Encoded with a body that is not "
                                          "base64, mapped");
                } else {
                        want = xstrdup(s);
                        wl = strlen(s);
                }
                if (w.len != wl || memcmp(w.body, want, wl) != 0)
                        fuzz_fail("answer: the body is not the function's (%zu bytes, want %zu)",
                                  w.len, wl);
                free(want);
        } else if (w.status != 200 || w.len != size || memcmp(w.body, body, size) != 0) {
                fuzz_fail("answer: an inferred 2.0 answer is not 200 with the JSON as its body");
        }
        json_value_free(v);
        gwd_resp_done(&w);
        free(body);
}

/* ---------------------------------------------------------------- access logs */

static size_t count_nl(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n' || *s == '\r';
        return n;
}

static void check_log_format(const uint8_t *data, size_t size)
{
        char *format = fuzz_strndup(data, size);
        gwd_logvars v = {.request_id = "req\n1", .api_id = api_id, .stage = "$default",
                         .route_key = "GET /items/{id}", .method = "GET",
                         .path = "/a\r\nInjected: 1", .protocol = "HTTP/1.1",
                         .source_ip = "127.0.0.1", .user_agent = "ua\x01\x1b[31m",
                         .domain = NULL, .error_message = "a\nb", .integration_error = "",
                         .status = 200, .integration_status = 0, .response_latency = 12,
                         .integration_latency = -1, .response_length = 5,
                         .time_ms = 1765213228123ull};
        char *line = gwd_log_line(format, &v);
        if (count_nl(line) != count_nl(format))
                fuzz_fail("log line: a value broke the line: '%s'", line);
        free(line);
        free(format);
}

/* ---------------------------------------------------------------- requests */

typedef struct request {
        char *method, *raw_path, *query, *path, *protocol;
        gwd_hdr *headers;
        size_t n_headers;
        const char *body;
        size_t len;
} request;

static void request_done(request *q)
{
        free(q->method);
        free(q->raw_path);
        free(q->query);
        free(q->path);
        free(q->protocol);
        gwd_hdrs_free(q->headers, q->n_headers);
}

/* The request as libmicrohttpd hands it to listen.c: the request line split at its first and
 * last space (a URI with spaces is kept), header values without the blanks around them. */
static void parse_request(char *text, size_t size, request *q, char **raw_uri)
{
        char *end = text + size;
        char *nl = memchr(text, '\n', size);
        char *line = text;
        char *next = nl ? nl + 1 : end;
        if (nl)
                *nl = '\0';
        line[strcspn(line, "\r")] = '\0';
        char *sp = strchr(line, ' ');
        char *uri = sp ? sp + 1 : (char *)"";
        if (sp)
                *sp = '\0';
        char *ver = strrchr(uri, ' ');
        if (ver && strncmp(ver + 1, "HTTP/", 5) == 0) {
                *ver = '\0';
                q->protocol = xstrdup(ver + 1);
        } else {
                q->protocol = xstrdup("HTTP/1.1");
        }
        q->method = xstrdup(line);
        *raw_uri = xstrdup(uri);
        /* header lines, up to an empty one */
        char *p = next;
        while (p < end) {
                char *e = memchr(p, '\n', (size_t)(end - p));
                char *h = p;
                p = e ? e + 1 : end;
                if (e)
                        *e = '\0';
                else
                        end[0] = '\0';
                h[strcspn(h, "\r")] = '\0';
                if (!*h)
                        break;
                char *colon = strchr(h, ':');
                if (!colon || colon == h)
                        continue;
                *colon = '\0';
                char *value = colon + 1;
                value += strspn(value, " \t");
                size_t vl = strlen(value);
                while (vl && (value[vl - 1] == ' ' || value[vl - 1] == '\t'))
                        value[--vl] = '\0';
                gwd_hdr_add(&q->headers, &q->n_headers, h, value);
        }
        q->body = p;
        q->len = (size_t)(end - p);
}

static void check_match(const request *q, const gw_match *m)
{
        if (!m->route)
                fuzz_fail("%s %s: no route, with a $default route", q->method, q->path);
        if (!m->route_key || strcmp(m->route_key, m->route->route_key) != 0)
                fuzz_fail("%s %s: route key mismatch", q->method, q->path);
        size_t pl = strlen(q->path), sl = strlen(m->stage_path);
        /* the path after the stage's segment, or "/" for the stage's root ("/prod") */
        if ((sl > pl || strcmp(q->path + pl - sl, m->stage_path) != 0) &&
            strcmp(m->stage_path, "/") != 0)
                fuzz_fail("%s %s: stage path '%s' is not the path's end", q->method, q->path,
                          m->stage_path);
        if (m->n_params > GW_PATH_PARAMS_MAX)
                fuzz_fail("%s %s: %zu parameters", q->method, q->path, m->n_params);
        for (size_t i = 0; i < m->n_params; i++) {
                const gw_kv *kv = &m->params[i];
                char *brace = xasprintf("{%s}", kv->name), *greedy = xasprintf("{%s+}", kv->name);
                bool is_greedy = strstr(m->route_key, greedy) != NULL;
                if (!strstr(m->route_key, brace) && !is_greedy)
                        fuzz_fail("%s %s: parameter '%s' is not in the route %s", q->method,
                                  q->path, kv->name, m->route_key);
                if (!*kv->value || !strstr(m->stage_path, kv->value))
                        fuzz_fail("%s %s: parameter %s='%s' is not a piece of the path",
                                  q->method, q->path, kv->name, kv->value);
                if (!is_greedy && strchr(kv->value, '/'))
                        fuzz_fail("%s %s: parameter %s='%s' holds a slash", q->method, q->path,
                                  kv->name, kv->value);
                free(brace);
                free(greedy);
        }
}

/* The event: a JSON object in UTF-8 whose body is the request's bytes (base64 when
 * isBase64Encoded; 1.0 has null for no body). */
static void check_event(const char *what, const request *q, char *doc, size_t len)
{
        if (!doc || strlen(doc) != len)
                fuzz_fail("%s: length %zu, not the document's", what, len);
        json_value *v = fuzz_json_object(what, doc, len);
        const json_value *b = json_get(v, "body"), *b64 = json_get(v, "isBase64Encoded");
        if (!b64 || b64->type != JSON_BOOL)
                fuzz_fail("%s: no isBase64Encoded", what);
        if (!q->len) {
                if (b && b->type != JSON_NULL)
                        fuzz_fail("%s: a body for a request without one", what);
        } else if (!b || b->type != JSON_STRING) {
                fuzz_fail("%s: no body for a request of %zu bytes", what, q->len);
        } else {
                char *got = NULL;
                size_t gl = strlen(b->str);
                if (b64->boolean && base64_decode(b->str, gl, &got, &gl) < 0)
                        fuzz_fail("%s: isBase64Encoded with a body that is not base64", what);
                if (!b64->boolean)
                        got = xstrdup(b->str);
                if (gl != q->len || memcmp(got, q->body, gl) != 0)
                        fuzz_fail("%s: the body is not the request's (%zu bytes, sent %zu)",
                                  what, gl, q->len);
                free(got);
        }
        json_value_free(v);
        free(doc);
}

/* A URL must not break the upstream's request line or leave the integration's prefix. */
static void check_proxy(const request *q, const gw_match *m)
{
        static const char *const uris[] = {"http://svc:8080/base/{proxy}",
                                           "http://127.0.0.1:9/items/{id}/x?fixed=1",
                                           "http://localhost/{id}/{part}/{name}{c}",
                                           "http://[::1]:1/{y}?a=b"};
        for (size_t k = 0; k < ARRAY_SIZE(uris); k++) {
                char *url = NULL, why[128];
                if (gwd_proxy_url(uris[k], m->params, m->n_params, q->query, &url, why,
                                  sizeof(why)) < 0)
                        continue;
                for (const char *p = url; *p; p++)
                        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                                fuzz_fail("proxy url '%s': a space or control character (0x%02x)",
                                          url, (unsigned char)*p);
                const char *auth = strstr(url, "://");
                const char *path = auth ? strchr(auth + 3, '/') : NULL;
                if (path) {
                        char *pp = xstrndup(path, strcspn(path, "?#"));
                        if (gwd_path_hostile(pp))
                                fuzz_fail("proxy url '%s': a '.' or '..' segment", url);
                        /* the URI's literal path up to its first variable stays */
                        const char *up = strchr(uris[k] + 7, '/');
                        if (strncmp(pp, up, strcspn(up, "{")) != 0)
                                fuzz_fail("proxy url '%s' left the prefix of %s", url, uris[k]);
                        free(pp);
                }
                char host[256], *rest = NULL;
                unsigned port = 0;
                if (gwd_url_split(url, host, sizeof(host), &port, &rest) == 0) {
                        if (!*host || strpbrk(host, "/?") || port < 1 || port > 65535 ||
                            rest[0] != '/' || strpbrk(rest, " \r\n"))
                                fuzz_fail("url split '%s': host '%s' port %u rest '%s'", url,
                                          host, port, rest);
                        free(rest);
                }
                free(url);
        }
}

static void check_cors(const request *q)
{
        char *all[] = {(char *)"*", NULL};
        char *origins[] = {(char *)"https://a.example", (char *)"http://localhost:3000", NULL};
        char *methods[] = {(char *)"GET", (char *)"POST", NULL};
        char *hdrs[] = {(char *)"content-type", (char *)"x-amz-date", NULL};
        gw_cors open = {.allow_origins = all, .allow_methods = all, .allow_headers = all,
                        .max_age = -1};
        gw_cors strict = {.allow_origins = origins, .allow_methods = methods,
                          .allow_headers = hdrs, .expose_headers = hdrs,
                          .allow_credentials = true, .max_age = 300};
        const gw_cors *cfg[] = {NULL, &open, &strict};
        const char *origin = gwd_hdr_get(q->headers, q->n_headers, "origin");
        for (size_t k = 0; k < ARRAY_SIZE(cfg); k++) {
                gwd_hdr *h = NULL;
                size_t n = 0;
                bool preflight = false;
                gwd_cors_headers(cfg[k], q->method, origin,
                                 gwd_hdr_get(q->headers, q->n_headers,
                                             "access-control-request-method"),
                                 gwd_hdr_get(q->headers, q->n_headers,
                                             "access-control-request-headers"),
                                 &preflight, &h, &n);
                if (preflight && (!cfg[k] || strcmp(q->method, "OPTIONS") != 0 || !origin))
                        fuzz_fail("cors: a preflight for %s without OPTIONS, Origin or CORS",
                                  q->method);
                check_headers("cors", h, n);
                const char *ao = gwd_hdr_get(h, n, "access-control-allow-origin");
                if (ao && strcmp(ao, "*") != 0 && (!origin || strcmp(ao, origin) != 0))
                        fuzz_fail("cors: Access-Control-Allow-Origin %s for origin %s", ao,
                                  origin ? origin : "(none)");
                if (n && (!cfg[k] || !origin))
                        fuzz_fail("cors: headers without a CORS configuration or an Origin");
                gwd_hdrs_free(h, n);
        }
}

static void check_request(char *text, size_t size)
{
        request q = {0};
        char *raw = NULL;
        parse_request(text, size, &q, &raw);
        /* listen.c's first_call: the bounds, then the path */
        const char *qm = strchr(raw, '?');
        size_t plen = qm ? (size_t)(qm - raw) : strlen(raw);
        q.raw_path = xstrndup(raw, plen);
        q.query = xstrdup(qm ? qm + 1 : "");
        size_t total = strlen(q.method) + strlen(raw) + 10, dl = 0;
        for (size_t i = 0; i < q.n_headers; i++)
                total += strlen(q.headers[i].name) + strlen(q.headers[i].value) + 4;
        if (total > GWD_HEADERS_MAX || q.n_headers > GWD_HEADER_COUNT_MAX)
                goto out; /* 431 */
        if (raw[0] != '/' || gwd_path_hostile(q.raw_path) ||
            gwd_pct_decode(q.raw_path, plen, &q.path, &dl) < 0 || strlen(q.path) != dl)
                goto out; /* 400 */
        /* final_call: the API, the match */
        const gw_api *api = gw_select_api(S, gwd_hdr_get(q.headers, q.n_headers, "host"));
        gw_match m;
        if (!api || gw_match_request(S, api, q.method, q.path, &m) < 0)
                goto out; /* 404 */
        check_match(&q, &m);
        check_cors(&q);
        gwd_req r = {.method = q.method, .raw_path = q.raw_path, .path = q.path,
                     .query = q.query, .headers = q.headers, .n_headers = q.n_headers,
                     .body = q.body, .len = q.len, .source_ip = "127.0.0.1",
                     .protocol = q.protocol, .request_id = "fuzz-request-id",
                     .time_ms = 1765213228123ull};
        gwd_ctx x = {.account = "000000000000", .region = "us-east-1", .api_id = m.api->id,
                     .stage = m.stage->name, .route_key = m.route_key, .params = m.params,
                     .n_params = m.n_params, .stage_vars = m.stage->variables};
        size_t len = 0;
        char *doc = gwd_event_v2(&r, &x, &len);
        check_event("event 2.0", &q, doc, len);
        doc = gwd_event_v1(&r, &x, &len);
        check_event("event 1.0", &q, doc, len);
        check_proxy(&q, &m);
        gwd_logvars v = {.request_id = r.request_id, .api_id = m.api->id, .stage = m.stage->name,
                         .route_key = m.route_key, .method = q.method, .path = q.path,
                         .protocol = q.protocol, .source_ip = r.source_ip,
                         .user_agent = gwd_hdr_get(q.headers, q.n_headers, "user-agent"),
                         .domain = gwd_hdr_get(q.headers, q.n_headers, "host"),
                         .status = 200, .integration_status = 200, .response_latency = 3,
                         .integration_latency = 2, .response_length = q.len,
                         .time_ms = r.time_ms};
        char *line = gwd_log_line("$context.requestId $context.identity.sourceIp "
                                  "[$context.requestTime] \"$context.httpMethod "
                                  "$context.routeKey $context.path $context.protocol\" "
                                  "$context.status $context.responseLength "
                                  "$context.identity.userAgent $context.domainName "
                                  "$context.stage $context.apiId $context.unknown.",
                                  &v);
        for (const char *p = line; *p; p++)
                if ((unsigned char)*p < 0x20)
                        fuzz_fail("log line: a control character (0x%02x): '%s'",
                                  (unsigned char)*p, line);
        free(line);
        gw_match_done(&m);
out:
        free(raw);
        request_done(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        api_init();
        if (size < 1)
                return 0;
        switch (data[0]) {
        case 'a':
                if (size >= 2)
                        check_answer(data[1] == '1' ? "1.0" : "2.0", data + 2, size - 2);
                break;
        case 'l':
                check_log_format(data + 1, size - 1);
                break;
        default: {
                char *text = fuzz_strndup(data + 1, size - 1);
                check_request(text, size - 1);
                free(text);
        }
        }
        return 0;
}
