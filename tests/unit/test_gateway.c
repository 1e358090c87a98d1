/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the gateway's pure parts (issue 17): token buckets (src/gw/throttle.c, with a
 * moved clock), the Lambda proxy events of payload format 2.0 and 1.0 and the mapping of a
 * function's answer (src/gateway/event.c, against the shapes AWS documents), HTTP_PROXY URLs
 * and the refusal of paths that would leave the integration's prefix, CORS and access logs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/gateway/gwd.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static void test_bucket(void **state)
{
        (void)state;
        gw_bucket b = { 0 };
        gw_throttle t = { .rate = 10, .burst = 3 };
        uint64_t now = 1000000;
        /* starts full: the burst passes, the next is refused */
        assert_true(gw_bucket_take(&b, &t, now));
        assert_true(gw_bucket_take(&b, &t, now));
        assert_true(gw_bucket_take(&b, &t, now));
        assert_false(gw_bucket_take(&b, &t, now));
        /* 10 per second: one token after 100 ms, not after 99 */
        assert_false(gw_bucket_take(&b, &t, now + 99));
        assert_true(gw_bucket_take(&b, &t, now + 100));
        assert_false(gw_bucket_take(&b, &t, now + 100));
        /* a long pause refills to the burst only */
        now += 60000;
        for (int i = 0; i < 3; i++)
                assert_true(gw_bucket_take(&b, &t, now));
        assert_false(gw_bucket_take(&b, &t, now));
        /* a clock stepping back adds nothing */
        assert_false(gw_bucket_take(&b, &t, now - 5000));
        /* unset: no bound */
        gw_throttle none = { .rate = -1, .burst = -1 };
        gw_bucket u = { 0 };
        for (int i = 0; i < 1000; i++)
                assert_true(gw_bucket_take(&u, &none, now));
        /* rate 0 and burst 0: everything refused (AWS's way to close a route) */
        gw_throttle zero = { .rate = 0, .burst = 0 };
        gw_bucket z = { 0 };
        assert_false(gw_bucket_take(&z, &zero, now));
        assert_false(gw_bucket_take(&z, &zero, now + 100000));
        /* a burst lowered after the bucket filled caps it */
        gw_bucket l = { 0 };
        gw_throttle big = { .rate = 1, .burst = 100 }, small = { .rate = 1, .burst = 1 };
        assert_true(gw_bucket_take(&l, &big, now));
        assert_true(gw_bucket_take(&l, &small, now));
        assert_false(gw_bucket_take(&l, &small, now));
}

static const gwd_hdr hdrs[] = {
        { (char *)"Host", (char *)"abc123defg.execute-api.localhost:8080" },
        { (char *)"User-Agent", (char *)"curl/7.88" },
        { (char *)"X-Multi", (char *)"one" },
        { (char *)"x-multi", (char *)"two" },
        { (char *)"Cookie", (char *)"a=1; b=2" },
        { (char *)"Content-Type", (char *)"application/json" },
};

static gwd_req a_request(void)
{
        return (gwd_req){ .method = "POST",
                          .raw_path = "/prod/items/42",
                          .path = "/prod/items/42",
                          .query = "q=x%20y&q=z&flag",
                          .headers = hdrs,
                          .n_headers = sizeof(hdrs) / sizeof(hdrs[0]),
                          .body = "{\"k\":1}",
                          .len = 7,
                          .source_ip = "127.0.0.1",
                          .protocol = "HTTP/1.1",
                          .request_id = "req-1",
                          .time_ms = 1583348638390ull };
}

static const gw_kv params[] = { { "id", "42" } };
static char *vars[] = { (char *)"env", (char *)"test", NULL };

static gwd_ctx a_ctx(void)
{
        return (gwd_ctx){ .account = "000000000000",
                          .region = "us-east-1",
                          .api_id = "abc123defg",
                          .stage = "prod",
                          .route_key = "POST /items/{id}",
                          .params = params,
                          .n_params = 1,
                          .stage_vars = vars };
}

static const char *str_at(const json_value *v, const char *path)
{
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", path);
        const json_value *cur = v;
        for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && cur;
             k = strtok_r(NULL, ".", &save))
                cur = json_get(cur, k);
        if (!cur)
                return NULL;
        if (cur->type == JSON_BOOL)
                return cur->boolean ? "true" : "false";
        if (cur->type == JSON_NULL)
                return "null";
        return cur->str;
}

/* One event of r and c, parsed (gen: gwd_event_v2 or gwd_event_v1). */
static json_value *event(char *(*gen)(const gwd_req *, const gwd_ctx *, size_t *),
                         const gwd_req *r, const gwd_ctx *c)
{
        size_t len;
        char *doc = gen(r, c, &len);
        json_value *v = NULL;
        char why[128];
        assert_int_equal(json_parse(doc, len, &v, why, sizeof(why)), 0);
        free(doc);
        return v;
}

/* Each want[i][0] (a dotted path, as str_at) of v is want[i][1]. */
static void expect_at(const json_value *v, const char *const (*want)[2], size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const char *got = str_at(v, want[i][0]);
                if (!got || strcmp(got, want[i][1]) != 0)
                        fail_msg("%s: \"%s\", not \"%s\"", want[i][0], got ? got : "(absent)",
                                 want[i][1]);
        }
}

static void test_event_v2(void **state)
{
        (void)state;
        gwd_req r = a_request();
        gwd_ctx c = a_ctx();
        json_value *v = event(gwd_event_v2, &r, &c);
        static const char *const want[][2] = {
                { "version", "2.0" },
                { "routeKey", "POST /items/{id}" },
                { "rawPath", "/prod/items/42" },
                { "rawQueryString", "q=x%20y&q=z&flag" },
                /* headers lowercased, repeated ones comma-joined */
                { "headers.x-multi", "one,two" },
                { "headers.user-agent", "curl/7.88" },
                { "queryStringParameters.q", "x y,z" },
                { "queryStringParameters.flag", "" },
                { "requestContext.accountId", "000000000000" },
                { "requestContext.apiId", "abc123defg" },
                { "requestContext.domainName", "abc123defg.execute-api.localhost:8080" },
                { "requestContext.domainPrefix", "abc123defg" },
                { "requestContext.http.method", "POST" },
                { "requestContext.http.path", "/prod/items/42" },
                { "requestContext.http.protocol", "HTTP/1.1" },
                { "requestContext.http.sourceIp", "127.0.0.1" },
                { "requestContext.http.userAgent", "curl/7.88" },
                { "requestContext.requestId", "req-1" },
                { "requestContext.routeKey", "POST /items/{id}" },
                { "requestContext.stage", "prod" },
                { "requestContext.time", "04/Mar/2020:19:03:58 +0000" },
                { "requestContext.timeEpoch", "1583348638390" },
                { "body", "{\"k\":1}" },
                { "isBase64Encoded", "false" },
                { "pathParameters.id", "42" },
                { "stageVariables.env", "test" },
        };
        expect_at(v, want, ARRAY_SIZE(want));
        /* cookies apart, no cookie header */
        const json_value *ck = json_get(v, "cookies");
        assert_non_null(ck);
        assert_int_equal(ck->n, 2);
        assert_string_equal(ck->items[0]->str, "a=1");
        assert_string_equal(ck->items[1]->str, "b=2");
        assert_null(str_at(v, "headers.cookie"));
        json_value_free(v);
        /* a binary body goes base64; no query, no params, no variables: those keys are absent */
        r.body = "\x01\xff\x00z";
        r.len = 4;
        r.query = "";
        c.n_params = 0;
        c.stage_vars = NULL;
        v = event(gwd_event_v2, &r, &c);
        static const char *const want_bin[][2] = {
                { "body", "Af8Aeg==" },
                { "isBase64Encoded", "true" },
        };
        expect_at(v, want_bin, ARRAY_SIZE(want_bin));
        assert_null(json_get(v, "queryStringParameters"));
        assert_null(json_get(v, "pathParameters"));
        assert_null(json_get(v, "stageVariables"));
        json_value_free(v);
}

static void test_event_v1(void **state)
{
        (void)state;
        gwd_req r = a_request();
        gwd_ctx c = a_ctx();
        json_value *v = event(gwd_event_v1, &r, &c);
        static const char *const want[][2] = {
                { "version", "1.0" },
                { "resource", "/items/{id}" },
                { "path", "/prod/items/42" },
                { "httpMethod", "POST" },
                /* headers: the last value; multiValueHeaders: all (below) */
                { "headers.x-multi", "two" },
                { "headers.cookie", "a=1; b=2" },
                { "queryStringParameters.q", "z" },
                { "requestContext.httpMethod", "POST" },
                { "requestContext.identity.sourceIp", "127.0.0.1" },
                { "requestContext.identity.userAgent", "curl/7.88" },
                { "requestContext.requestTime", "04/Mar/2020:19:03:58 +0000" },
                { "requestContext.requestTimeEpoch", "1583348638390" },
                { "requestContext.resourcePath", "/items/{id}" },
                { "requestContext.stage", "prod" },
                { "requestContext.requestId", "req-1" },
                { "pathParameters.id", "42" },
                { "stageVariables.env", "test" },
                { "body", "{\"k\":1}" },
                { "isBase64Encoded", "false" },
        };
        expect_at(v, want, ARRAY_SIZE(want));
        const json_value *mv = json_get(json_get(v, "multiValueHeaders"), "x-multi");
        assert_non_null(mv);
        assert_int_equal(mv->n, 2);
        assert_string_equal(mv->items[0]->str, "one");
        const json_value *mq = json_get(json_get(v, "multiValueQueryStringParameters"), "q");
        assert_non_null(mq);
        assert_int_equal(mq->n, 2);
        assert_string_equal(mq->items[0]->str, "x y");
        json_value_free(v);
        /* absent things are null in 1.0 */
        r.query = "";
        r.len = 0;
        c.n_params = 0;
        c.stage_vars = NULL;
        v = event(gwd_event_v1, &r, &c);
        static const char *const want_absent[][2] = {
                { "queryStringParameters", "null" },
                { "multiValueQueryStringParameters", "null" },
                { "pathParameters", "null" },
                { "stageVariables", "null" },
                { "body", "null" },
        };
        expect_at(v, want_absent, ARRAY_SIZE(want_absent));
        json_value_free(v);
}

/* A stranger's bytes that are not UTF-8 (a header, a %FF path, a query) reach the events as
 * '?' (fuzz_gateway: req-event-*-not-utf8): a function's JSON parser refuses anything else. */
static void test_event_not_utf8(void **state)
{
        (void)state;
        const gwd_hdr h[] = { { (char *)"X-Latin", (char *)"caf\xe9" },
                              { (char *)"X-\xff", (char *)"\xc3\x28" } };
        gwd_req r = a_request();
        r.path = "/prod/items/\xff\xfe";
        r.query = "x=%e9&\xff=1";
        r.headers = h;
        r.n_headers = 2;
        gwd_ctx c = a_ctx();
        for (int k = 0; k < 2; k++) {
                size_t len = 0;
                _cleanup_free_ char *doc = k ? gwd_event_v1(&r, &c, &len) : gwd_event_v2(&r, &c, &len);
                assert_int_equal(utf8_valid_prefix(doc, len), len);
                assert_non_null(strstr(doc, "\"caf?\""));
                assert_non_null(strstr(doc, "/prod/items/??"));
        }
        /* a body that looks like UTF-8 but is not (a surrogate, an overlong '/', a code point
         * past U+10FFFF) goes base64, unchanged (fuzz_gateway: req-event-body-not-utf8) */
        static const char body[] = "a\xed\xa0\x80 b\xe0\x80\xaf c\xf4\x90\x80\x80";
        r = a_request();
        r.body = body;
        r.len = sizeof(body) - 1;
        size_t len = 0;
        _cleanup_free_ char *doc = gwd_event_v2(&r, &c, &len);
        json_value *v = NULL;
        assert_int_equal(json_parse(doc, len, &v, NULL, 0), 0);
        const json_value *b64 = json_get(v, "isBase64Encoded");
        assert_true(b64 && b64->type == JSON_BOOL && b64->boolean);
        _cleanup_free_ char *e = base64_encode(body, sizeof(body) - 1);
        assert_string_equal(json_get_str(v, "body"), e);
        json_value_free(v);
}

static int map(const char *ver, const char *body, gwd_resp *w)
{
        return gwd_map_response(ver, body, strlen(body), w);
}

static void test_response(void **state)
{
        (void)state;
        gwd_resp w;
        /* 2.0 structured */
        assert_int_equal(map("2.0", "{\"statusCode\":201,\"headers\":{\"X-A\":\"1\",\"X-N\":5},"
                                    "\"cookies\":[\"c=1\",\"d=2\"],\"body\":\"hi\"}", &w), 0);
        assert_int_equal(w.status, 201);
        assert_string_equal(gwd_hdr_get(w.headers, w.n_headers, "x-a"), "1");
        assert_string_equal(gwd_hdr_get(w.headers, w.n_headers, "x-n"), "5");
        size_t cookies = 0;
        for (size_t i = 0; i < w.n_headers; i++)
                cookies += strcmp(w.headers[i].name, "Set-Cookie") == 0;
        assert_int_equal(cookies, 2);
        assert_int_equal(w.len, 2);
        assert_memory_equal(w.body, "hi", 2);
        gwd_resp_done(&w);
        /* base64 */
        assert_int_equal(map("2.0", "{\"statusCode\":200,\"body\":\"AP8=\",\"isBase64Encoded\":true}",
                             &w), 0);
        assert_int_equal(w.len, 2);
        assert_memory_equal(w.body, "\x00\xff", 2);
        gwd_resp_done(&w);
        /* 2.0: a bare value is the body of a 200, application/json */
        assert_int_equal(map("2.0", "{\"hello\":\"world\"}", &w), 0);
        assert_int_equal(w.status, 200);
        assert_string_equal(w.body, "{\"hello\":\"world\"}");
        assert_string_equal(gwd_hdr_get(w.headers, w.n_headers, "content-type"), "application/json");
        gwd_resp_done(&w);
        assert_int_equal(map("2.0", "\"just text\"", &w), 0);
        assert_int_equal(w.status, 200);
        gwd_resp_done(&w);
        /* 1.0 requires statusCode */
        assert_int_equal(map("1.0", "{\"hello\":\"world\"}", &w), -1);
        assert_int_equal(map("1.0", "\"x\"", &w), -1);
        assert_int_equal(map("1.0", "{\"statusCode\":404,\"multiValueHeaders\":{\"X-M\":[\"a\",\"b\"]},"
                                    "\"body\":\"no\"}", &w), 0);
        assert_int_equal(w.status, 404);
        assert_int_equal(w.n_headers, 2);
        gwd_resp_done(&w);
        /* not JSON, a bad status, header injection, bad base64: refused (500 by the caller) */
        assert_int_equal(map("2.0", "not json", &w), -1);
        assert_int_equal(map("2.0", "{\"statusCode\":99}", &w), -1);
        assert_int_equal(map("2.0", "{\"statusCode\":\"abc\"}", &w), -1);
        assert_int_equal(map("2.0", "{\"statusCode\":200,\"headers\":{\"X\":\"a\\r\\nSet-Cookie: evil\"}}",
                             &w), -1);
        assert_int_equal(map("2.0", "{\"statusCode\":200,\"body\":\"@@\",\"isBase64Encoded\":true}", &w),
                         -1);
        /* a header name that is not a token (fuzz_gateway: ans-header-name-not-token) */
        assert_int_equal(map("2.0", "{\"statusCode\":200,\"headers\":{\"X(A)\":\"1\"}}", &w), -1);
        assert_int_equal(map("1.0", "{\"statusCode\":200,\"multiValueHeaders\":{\"X\\u0001\":[\"1\"]}}",
                             &w), -1);
        assert_int_equal(map("2.0", "{\"statusCode\":200,\"headers\":{\"caf\u00e9\":\"1\"}}", &w), -1);
        /* framing headers are the gateway's */
        assert_int_equal(map("2.0", "{\"statusCode\":200,\"headers\":{\"Content-Length\":\"9\","
                                    "\"Transfer-Encoding\":\"chunked\"},\"body\":\"x\"}", &w), 0);
        assert_null(gwd_hdr_get(w.headers, w.n_headers, "content-length"));
        assert_null(gwd_hdr_get(w.headers, w.n_headers, "transfer-encoding"));
        gwd_resp_done(&w);
}

static void test_proxy_url(void **state)
{
        (void)state;
        char why[128];
        char *u = NULL;
        gw_kv p[] = { { "proxy", "a/b c/d.txt" } };
        assert_int_equal(gwd_proxy_url("http://web:8080/static/{proxy}", p, 1, "x=1", &u, why,
                                       sizeof(why)), 0);
        assert_string_equal(u, "http://web:8080/static/a/b%20c/d.txt?x=1");
        free(u);
        assert_int_equal(gwd_proxy_url("http://web/{proxy}?k=v", p, 1, "", &u, why, sizeof(why)), 0);
        assert_string_equal(u, "http://web/a/b%20c/d.txt?k=v");
        free(u);
        assert_int_equal(gwd_proxy_url("http://10.0.0.1:81", NULL, 0, "q", &u, why, sizeof(why)), 0);
        assert_string_equal(u, "http://10.0.0.1:81/?q");
        free(u);
        /* a query with a space, a control character or a byte past 0x7e (libmicrohttpd
         * passes them) cannot break the upstream's request line (fuzz_gateway:
         * req-proxy-query-space) */
        assert_int_equal(gwd_proxy_url("http://web/x", NULL, 0, "q=a b HTTP/1.0\t\x01\xff#f&z=%41",
                                       &u, why, sizeof(why)), 0);
        assert_string_equal(u, "http://web/x?q=a%20b%20HTTP/1.0%09%01%FF%23f&z=%41");
        free(u);
        /* traversal out of the prefix: refused */
        const char *bad[] = { "../etc/passwd", "a/../../x", "..", "./x", "a/..", "a\\..\\b",
                              "a\x01" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                gw_kv b[] = { { "proxy", bad[i] } };
                u = NULL;
                assert_int_equal(gwd_proxy_url("http://web/static/{proxy}", b, 1, "", &u, why,
                                               sizeof(why)), -EINVAL);
                assert_null(u);
        }
        /* an encoded '/', '?' or '%' in a value stays encoded: it cannot add a segment */
        gw_kv e[] = { { "proxy", "a%2f..%2fb?c" } };
        assert_int_equal(gwd_proxy_url("http://web/s/{proxy}", e, 1, "", &u, why, sizeof(why)), 0);
        assert_string_equal(u, "http://web/s/a%252f..%252fb%3Fc");
        free(u);
        /* raw paths refused before matching */
        assert_true(gwd_path_hostile("/app/../secret"));
        assert_true(gwd_path_hostile("/app/%2e%2e/secret"));
        assert_true(gwd_path_hostile("/app/%2E./secret"));
        assert_true(gwd_path_hostile("/app/./x"));
        assert_true(gwd_path_hostile("/app/%00"));
        assert_true(gwd_path_hostile("/app/%zz"));
        assert_false(gwd_path_hostile("/app/a..b/c"));
        assert_false(gwd_path_hostile("/app/%41"));
        assert_false(gwd_path_hostile("/"));
        char host[64];
        unsigned port;
        char *rest = NULL;
        assert_int_equal(gwd_url_split("http://web:8080/a?b", host, sizeof(host), &port, &rest), 0);
        assert_string_equal(host, "web");
        assert_int_equal(port, 8080);
        assert_string_equal(rest, "/a?b");
        free(rest);
        assert_int_equal(gwd_url_split("https://web/", host, sizeof(host), &port, &rest), -EINVAL);
        assert_int_equal(gwd_url_split("http://web:0/", host, sizeof(host), &port, &rest), -EINVAL);
}

static void test_cors(void **state)
{
        (void)state;
        char *origins[] = { (char *)"https://a.example", NULL };
        char *methods[] = { (char *)"GET", (char *)"POST", NULL };
        char *headers[] = { (char *)"content-type", (char *)"x-token", NULL };
        char *expose[] = { (char *)"x-id", NULL };
        gw_cors c = { .allow_origins = origins, .allow_methods = methods, .allow_headers = headers,
                      .expose_headers = expose, .max_age = 300 };
        gwd_hdr *h = NULL;
        size_t n = 0;
        bool pre;
        gwd_cors_headers(&c, "OPTIONS", "https://a.example", "POST", "x-token", &pre, &h, &n);
        assert_true(pre);
        assert_string_equal(gwd_hdr_get(h, n, "access-control-allow-origin"), "https://a.example");
        assert_string_equal(gwd_hdr_get(h, n, "access-control-allow-methods"), "GET,POST");
        assert_string_equal(gwd_hdr_get(h, n, "access-control-allow-headers"), "content-type,x-token");
        assert_string_equal(gwd_hdr_get(h, n, "access-control-max-age"), "300");
        gwd_hdrs_free(h, n);
        h = NULL;
        n = 0;
        /* another origin: nothing */
        gwd_cors_headers(&c, "OPTIONS", "https://evil.example", "POST", NULL, &pre, &h, &n);
        assert_int_equal(n, 0);
        /* a simple request: origin and exposed headers */
        gwd_cors_headers(&c, "GET", "https://a.example", NULL, NULL, &pre, &h, &n);
        assert_false(pre);
        assert_string_equal(gwd_hdr_get(h, n, "access-control-expose-headers"), "x-id");
        gwd_hdrs_free(h, n);
        h = NULL;
        n = 0;
        /* no configuration: OPTIONS is an ordinary request */
        gwd_cors_headers(NULL, "OPTIONS", "https://a.example", "POST", NULL, &pre, &h, &n);
        assert_false(pre);
        assert_int_equal(n, 0);
}

static void test_log_line(void **state)
{
        (void)state;
        gwd_logvars v = { .request_id = "r1", .route_key = "GET /x", .method = "GET", .path = "/x",
                          .source_ip = "127.0.0.1", .status = 200, .response_latency = 12,
                          .integration_latency = -1, .stage = "$default",
                          .time_ms = 1583348638390ull, .user_agent = "a\nb" };
        char *l = gwd_log_line("{\"requestId\":\"$context.requestId\",\"status\":$context.status,"
                               "\"lat\":$context.responseLatency,\"il\":\"$context.integrationLatency\","
                               "\"ip\":\"$context.identity.sourceIp\",\"t\":\"$context.requestTime\","
                               "\"rk\":\"$context.routeKey\",\"ua\":\"$context.identity.userAgent\","
                               "\"x\":\"$context.nope\"}", &v);
        assert_string_equal(l, "{\"requestId\":\"r1\",\"status\":200,\"lat\":12,\"il\":\"-\","
                               "\"ip\":\"127.0.0.1\",\"t\":\"04/Mar/2020:19:03:58 +0000\","
                               "\"rk\":\"GET /x\",\"ua\":\"a b\",\"x\":\"-\"}");
        free(l);
        l = gwd_log_line("$context.requestId $context.httpMethod $context.path.", &v);
        assert_string_equal(l, "r1 GET /x.");
        free(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bucket),    cmocka_unit_test(test_event_v2),
                cmocka_unit_test(test_event_v1),  cmocka_unit_test(test_response),
                cmocka_unit_test(test_proxy_url), cmocka_unit_test(test_cors),
                cmocka_unit_test(test_log_line),  cmocka_unit_test(test_event_not_utf8),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
