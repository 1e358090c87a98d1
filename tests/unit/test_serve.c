/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the front door's pure code: src/serve/serve.c (forms, URL coding, XML escaping,
 * routing by shape), src/serve/sigv4.c (AWS Signature Version 4, checked against requests that
 * real clients signed: /usr/bin/aws 2.9, boto3 1.26 and curl 7.88, captured byte for byte into
 * tests/unit/fixtures/sigv4 with the AWS documentation's example keys below) and
 * src/serve/creds.c (STORE/credentials). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/serve/auth.h"
#include "../../src/serve/serve.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FIXTURES
#define FIXTURES "tests/unit/fixtures/sigv4"
#endif

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* ---- serve.c ---- */

static void test_form_parse(void **state)
{
        (void)state;
        serve_kv *kv = NULL;
        size_t n = 0;
        const char *s = "a=1&b=&c&&d=%20+x&a=2&e=%C3%BC";
        assert_int_equal(serve_form_parse(s, strlen(s), 100, &kv, &n), 0);
        assert_int_equal(n, 6);
        assert_string_equal(kv[0].name, "a");
        assert_string_equal(kv[0].value, "1");
        assert_string_equal(kv[1].value, "");
        assert_string_equal(kv[2].name, "c");
        assert_string_equal(kv[2].value, "");
        assert_string_equal(kv[3].value, "  x");
        assert_string_equal(serve_kvs_get(kv, n, "a"), "1"); /* the first of duplicates */
        assert_string_equal(kv[4].value, "2");
        assert_string_equal(kv[5].value, "\xc3\xbc");
        assert_null(serve_kvs_get(kv, n, "A"));
        serve_kvs_free(kv, n);
        /* empty input, only separators */
        assert_int_equal(serve_form_parse("", 0, 10, &kv, &n), 0);
        assert_int_equal(n, 0);
        serve_kvs_free(kv, n);
        assert_int_equal(serve_form_parse("&&&", 3, 10, &kv, &n), 0);
        assert_int_equal(n, 0);
        serve_kvs_free(kv, n);
        /* malformed escapes and NUL bytes */
        static const char *const bad[] = { "a=%zz", "a=%4", "a=%", "%=1", "a=%00", "a%00b=1" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(serve_form_parse(bad[i], strlen(bad[i]), 10, &kv, &n), -EINVAL);
        /* a raw NUL inside the length */
        assert_int_equal(serve_form_parse("a=b\0c", 5, 10, &kv, &n), -EINVAL);
        /* the bound on pairs */
        assert_int_equal(serve_form_parse("a=1&b=2&c=3", 11, 2, &kv, &n), -E2BIG);
        assert_int_equal(serve_form_parse("a=1&b=2", 7, 2, &kv, &n), 0);
        serve_kvs_free(kv, n);
        /* only len bytes are read */
        assert_int_equal(serve_form_parse("a=1&b=2", 3, 10, &kv, &n), 0);
        assert_int_equal(n, 1);
        serve_kvs_free(kv, n);
}

static void test_url_coding(void **state)
{
        (void)state;
        char *d = NULL;
        size_t dl = 0;
        assert_int_equal(serve_url_decode("a%2Fb%2fc+d", 11, false, &d, &dl), 0);
        assert_string_equal(d, "a/b/c+d");
        free(d);
        assert_int_equal(serve_url_decode("a+b", 3, true, &d, &dl), 0);
        assert_string_equal(d, "a b");
        free(d);
        assert_int_equal(serve_url_decode("%41%00", 6, false, &d, &dl), 0);
        assert_int_equal(dl, 2); /* a decoded NUL is kept with its length here */
        free(d);
        assert_int_equal(serve_url_decode("%4g", 3, false, &d, &dl), -EINVAL);
        char *e = serve_url_encode("a b/~-._*+=\xc3\xbc", 13, false);
        assert_string_equal(e, "a%20b%2F~-._%2A%2B%3D%C3%BC");
        free(e);
        e = serve_url_encode("/x y/z", 6, true);
        assert_string_equal(e, "/x%20y/z");
        free(e);
        e = serve_url_encode("", 0, true);
        assert_string_equal(e, "");
        free(e);
}

static void test_xml_escape(void **state)
{
        (void)state;
        char *x = serve_xml_escape("<a&'\">\x01\t\n\r", 10);
        assert_string_equal(x, "&lt;a&amp;&apos;&quot;&gt;&#x1;\t\n&#xD;");
        free(x);
}

static void test_route_of(void **state)
{
        (void)state;
        static const struct {
                const char *method, *path, *query, *ct, *target;
                serve_route want;
        } t[] = {
                { "POST", "/2015-03-31/functions/f/invocations", "", NULL, NULL,
                  SERVE_ROUTE_LAMBDA_INVOKE },
                { "GET", "/2015-03-31/functions/f/invocations", "", NULL, NULL,
                  SERVE_ROUTE_LAMBDA_INVOKE }, /* the method is Invoke's own 405 */
                { "POST", "/2015-03-31/functions/a/b/invocations", "", NULL, NULL,
                  SERVE_ROUTE_LAMBDA_API },
                { "POST", "/2015-03-31/functions//invocations", "", NULL, NULL,
                  SERVE_ROUTE_LAMBDA_API },
                { "GET", "/2015-03-31/functions/", "", NULL, NULL, SERVE_ROUTE_LAMBDA_API },
                { "GET", "/2017-03-31/tags/arn", "", NULL, NULL, SERVE_ROUTE_LAMBDA_API },
                { "POST", "/", "", "application/x-amz-json-1.0", "AmazonSQS.ListQueues",
                  SERVE_ROUTE_SQS_JSON },
                /* the target wins over a Lambda path */
                { "POST", "/2015-03-31/functions/f/invocations", "", NULL, "AmazonSQS.X",
                  SERVE_ROUTE_SQS_JSON },
                { "POST", "/", "", NULL, "AmazonSQSX", SERVE_ROUTE_UNKNOWN },
                { "POST", "/", "", NULL, "DynamoDB_20120810.ListTables", SERVE_ROUTE_UNKNOWN },
                { "GET", "/", "Action=ListQueues", NULL, NULL, SERVE_ROUTE_SQS_QUERY },
                { "GET", "/000000000000/q", "Version=1&Action=GetQueueUrl", NULL, NULL,
                  SERVE_ROUTE_SQS_QUERY },
                { "GET", "/", "XAction=ListQueues", NULL, NULL, SERVE_ROUTE_UNKNOWN },
                { "POST", "/", "", "application/x-www-form-urlencoded; charset=utf-8", NULL,
                  SERVE_ROUTE_SQS_QUERY },
                { "PUT", "/", "", "application/x-www-form-urlencoded", NULL, SERVE_ROUTE_UNKNOWN },
                { "GET", "/metrics", "", NULL, NULL, SERVE_ROUTE_METRICS },
                { "POST", "/metrics", "", NULL, NULL, SERVE_ROUTE_UNKNOWN },
                { "HEAD", "/metrics", "", NULL, NULL, SERVE_ROUTE_METRICS },
                { "GET", "/metrics/", "", NULL, NULL, SERVE_ROUTE_UNKNOWN },
                { "GET", "/metricsx", "", NULL, NULL, SERVE_ROUTE_UNKNOWN },
                { "GET", "/", "", NULL, NULL, SERVE_ROUTE_UNKNOWN },
                { "GET", "/", NULL, NULL, NULL, SERVE_ROUTE_UNKNOWN },
                { "GET", "/v2/apis", "", NULL, NULL, SERVE_ROUTE_APIGW },
                { "POST", "/v2/apis/abc/routes", "", "application/json", NULL, SERVE_ROUTE_APIGW },
                { "GET", "/v2/tags/arn:aws:apigateway:us-east-1::/apis/a", "", NULL, NULL,
                  SERVE_ROUTE_APIGW },
                { "GET", "/v2/apisx", "", NULL, NULL, SERVE_ROUTE_UNKNOWN },
                { "POST", "/schedules/s1", "", "application/json", NULL, SERVE_ROUTE_SCHEDULER },
                { "GET", "/schedules", "MaxResults=5", NULL, NULL, SERVE_ROUTE_SCHEDULER },
                { "GET", "/schedule-groups/default", "", NULL, NULL, SERVE_ROUTE_SCHEDULER },
                { "GET", "/tags/arn:aws:scheduler:us-east-1:000000000000:schedule-group/g", "",
                  NULL, NULL, SERVE_ROUTE_SCHEDULER },
                { "GET", "/schedulesx", "", NULL, NULL, SERVE_ROUTE_UNKNOWN },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                serve_route r = serve_route_of(t[i].method, t[i].path, t[i].query, t[i].ct,
                                               t[i].target);
                if (r != t[i].want)
                        fail_msg("case %zu: %s %s?%s: %d, want %d", i, t[i].method, t[i].path,
                                 t[i].query ? t[i].query : "(null)", r, t[i].want);
        }
}

/* ---- sigv4.c: a captured request ---- */

typedef struct fixture {
        char *raw; /* the file; the fields below point into it */
        char method[16];
        char *raw_path, *query, *path;
        serve_kv headers[32];
        size_t n_headers;
        char *body;
        size_t len;
        serve_req req;
        time_t date;
} fixture;

static void fixture_req(fixture *f)
{
        const char *host = NULL;
        for (size_t i = 0; i < f->n_headers; i++)
                if (strcasecmp(f->headers[i].name, "Host") == 0)
                        host = f->headers[i].value;
        f->req = (serve_req){ .method = f->method,
                              .path = f->path,
                              .raw_path = f->raw_path,
                              .query = f->query,
                              .headers = f->headers,
                              .n_headers = f->n_headers,
                              .body = f->body,
                              .len = f->len,
                              .host = host ? host : "",
                              .principal = "",
                              .request_id = "" };
}

/* Parses an HTTP/1.1 request as captured: request line, headers, body. */
static void fixture_load(const char *name, fixture *f)
{
        memset(f, 0, sizeof(*f));
        _cleanup_free_ char *path = xasprintf("%s/%s", FIXTURES, name);
        size_t n = 0;
        if (read_file_at(AT_FDCWD, path, 1 << 20, &f->raw, &n) < 0)
                fail_msg("cannot read %s", path);
        char *end = strstr(f->raw, "\r\n\r\n");
        assert_non_null(end);
        *end = '\0';
        f->body = end + 4;
        f->len = n - (size_t)(f->body - f->raw);
        char *line = f->raw, *next = strstr(line, "\r\n");
        if (next)
                *next = '\0';
        char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        assert_non_null(sp2);
        *sp1 = *sp2 = '\0';
        snprintf(f->method, sizeof(f->method), "%s", line);
        f->raw_path = sp1 + 1;
        char *qm = strchr(f->raw_path, '?');
        f->query = qm ? qm + 1 : (char *)"";
        if (qm)
                *qm = '\0';
        size_t dl;
        assert_int_equal(serve_url_decode(f->raw_path, strlen(f->raw_path), false, &f->path, &dl), 0);
        while (next) {
                line = next + 2;
                next = strstr(line, "\r\n");
                if (next)
                        *next = '\0';
                char *colon = strchr(line, ':');
                assert_non_null(colon);
                *colon = '\0';
                char *v = colon + 1;
                while (*v == ' ')
                        v++;
                assert_true(f->n_headers < ARRAY_SIZE(f->headers));
                f->headers[f->n_headers].name = line;
                f->headers[f->n_headers].value = v;
                f->n_headers++;
        }
        fixture_req(f);
        /* the clock of the capture: X-Amz-Date, from the header or the presigned query */
        const char *d = serve_req_header(&f->req, "X-Amz-Date");
        char qd[17] = "";
        const char *p = strstr(f->query, "X-Amz-Date=");
        if (!d && p) {
                memcpy(qd, p + 11, 16);
                d = qd;
        }
        assert_non_null(d);
        struct tm tm = { 0 };
        assert_non_null(strptime(d, "%Y%m%dT%H%M%SZ", &tm));
        f->date = timegm(&tm);
}

static void fixture_free(fixture *f)
{
        free(f->path);
        free(f->raw);
}

static const char *service_of(const char *name)
{
        return strstr(name, "lambda") ? "lambda" : "sqs";
}

static serve_auth_status verify(const fixture *f, const char *service, time_t now,
                                const char *key, const char *secret, const char *region)
{
        serve_auth a = { .region = region };
        snprintf(a.creds.key_id, sizeof(a.creds.key_id), "%s", key);
        snprintf(a.creds.secret, sizeof(a.creds.secret), "%s", secret);
        char why[512] = "";
        return serve_sigv4_verify(&a, &f->req, service, now, why, sizeof(why));
}

static const char *const fixtures[] = {
        "aws_sqs_send.http",       "aws_lambda_invoke.http",      "aws_lambda_invoke_arn.http",
        "boto3_sqs_batch.http",    "boto3_sqs_presigned.http",    "curl_sqs_json.http",
        "curl_sqs_query_get.http", "curl_lambda_invoke.http",     "curl_lambda_invoke_pct.http",
};

/* Each real client's request verifies at its own time, and within the skew either way. */
static void test_sigv4_real_clients(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
                fixture f;
                fixture_load(fixtures[i], &f);
                const char *svc = service_of(fixtures[i]);
                serve_auth_status st = verify(&f, svc, f.date, KEY_ID, SECRET, "us-east-1");
                if (st != SERVE_AUTH_OK)
                        fail_msg("%s: status %d", fixtures[i], st);
                /* (a presigned URL: within its X-Amz-Expires of 600 s) */
                time_t later = strstr(fixtures[i], "presigned") ? 9 * 60 : 14 * 60;
                assert_int_equal(verify(&f, svc, f.date + later, KEY_ID, SECRET, "us-east-1"),
                                 SERVE_AUTH_OK);
                assert_int_equal(verify(&f, svc, f.date - 14 * 60, KEY_ID, SECRET, "us-east-1"),
                                 SERVE_AUTH_OK);
                fixture_free(&f);
        }
}

/* Every way a request can be wrong is refused, with its reason. */
static void test_sigv4_refusals(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
                fixture f;
                fixture_load(fixtures[i], &f);
                const char *svc = service_of(fixtures[i]);
                bool presigned = strstr(fixtures[i], "presigned") != NULL;
                time_t t = f.date;
                /* the clock: AWS's 15 minutes (a presigned URL: its X-Amz-Expires of 600 s) */
                assert_int_equal(verify(&f, svc, t + 16 * 60, KEY_ID, SECRET, "us-east-1"),
                                 SERVE_AUTH_EXPIRED);
                assert_int_equal(verify(&f, svc, t - 16 * 60, KEY_ID, SECRET, "us-east-1"),
                                 SERVE_AUTH_EXPIRED);
                /* the wrong secret, another key, region, service */
                assert_int_equal(verify(&f, svc, t, KEY_ID, "x" SECRET, "us-east-1"),
                                 SERVE_AUTH_BAD_SIGNATURE);
                assert_int_equal(verify(&f, svc, t, "AKIAIOSFODNN7EXAMPLF", SECRET, "us-east-1"),
                                 SERVE_AUTH_UNKNOWN_KEY);
                assert_int_equal(verify(&f, svc, t, KEY_ID, SECRET, "eu-west-1"),
                                 SERVE_AUTH_BAD_SIGNATURE);
                assert_int_equal(verify(&f, strcmp(svc, "sqs") ? "sqs" : "lambda", t, KEY_ID,
                                        SECRET, "us-east-1"),
                                 SERVE_AUTH_BAD_SIGNATURE);
                /* a tampered body */
                _cleanup_free_ char *body = xmalloc(f.len + 2);
                memcpy(body, f.body, f.len);
                body[f.len] = 'x';
                body[f.len + 1] = '\0';
                f.req.body = body;
                f.req.len = f.len + 1;
                assert_int_equal(verify(&f, svc, t, KEY_ID, SECRET, "us-east-1"),
                                 SERVE_AUTH_BAD_SIGNATURE);
                f.req.body = f.body;
                f.req.len = f.len;
                /* a tampered signed header (Host is always signed) */
                for (size_t k = 0; k < f.n_headers; k++)
                        if (strcasecmp(f.headers[k].name, "Host") == 0)
                                f.headers[k].value = (char *)"127.0.0.1:1";
                assert_int_equal(verify(&f, svc, t, KEY_ID, SECRET, "us-east-1"),
                                 SERVE_AUTH_BAD_SIGNATURE);
                fixture_free(&f);
                /* a tampered query: a parameter added, a value changed */
                fixture_load(fixtures[i], &f);
                _cleanup_free_ char *q1 = xasprintf("%s%sAction=DeleteQueue", f.query,
                                                    f.query[0] ? "&" : "");
                f.req.query = q1;
                assert_int_equal(verify(&f, svc, t, KEY_ID, SECRET, "us-east-1"),
                                 SERVE_AUTH_BAD_SIGNATURE);
                f.req.query = f.query;
                /* a signed header removed: malformed (it cannot be rebuilt) */
                if (!presigned) {
                        for (size_t k = 0; k < f.n_headers; k++)
                                if (strcasecmp(f.headers[k].name, "Host") == 0)
                                        f.headers[k].name = (char *)"X-Host";
                        assert_int_equal(verify(&f, svc, t, KEY_ID, SECRET, "us-east-1"),
                                         SERVE_AUTH_MALFORMED);
                }
                fixture_free(&f);
                /* no X-Amz-Date; no Authorization at all */
                if (!presigned) {
                        fixture_load(fixtures[i], &f);
                        for (size_t k = 0; k < f.n_headers; k++)
                                if (strcasecmp(f.headers[k].name, "X-Amz-Date") == 0)
                                        f.headers[k].name = (char *)"X-Amz-Datf";
                        assert_int_equal(verify(&f, svc, t, KEY_ID, SECRET, "us-east-1"),
                                         SERVE_AUTH_MALFORMED);
                        fixture_free(&f);
                        fixture_load(fixtures[i], &f);
                        for (size_t k = 0; k < f.n_headers; k++)
                                if (strcasecmp(f.headers[k].name, "Authorization") == 0)
                                        f.headers[k].name = (char *)"X-Authorization";
                        assert_int_equal(verify(&f, svc, t, KEY_ID, SECRET, "us-east-1"),
                                         SERVE_AUTH_MISSING);
                        fixture_free(&f);
                }
        }
}

/* A changed method, and a changed path. */
static void test_sigv4_method_path(void **state)
{
        (void)state;
        fixture f;
        fixture_load("aws_lambda_invoke.http", &f);
        assert_int_equal(verify(&f, "lambda", f.date, KEY_ID, SECRET, "us-east-1"), SERVE_AUTH_OK);
        f.req.method = "PUT";
        assert_int_equal(verify(&f, "lambda", f.date, KEY_ID, SECRET, "us-east-1"),
                         SERVE_AUTH_BAD_SIGNATURE);
        f.req.method = f.method;
        f.req.raw_path = "/2015-03-31/functions/other/invocations";
        assert_int_equal(verify(&f, "lambda", f.date, KEY_ID, SECRET, "us-east-1"),
                         SERVE_AUTH_BAD_SIGNATURE);
        fixture_free(&f);
        /* X-Amz-Content-Sha256 must be the body's */
        fixture_load("curl_lambda_invoke.http", &f);
        f.headers[f.n_headers].name = (char *)"X-Amz-Content-Sha256";
        f.headers[f.n_headers].value =
                (char *)"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        f.req.n_headers = f.n_headers + 1;
        assert_int_equal(verify(&f, "lambda", f.date, KEY_ID, SECRET, "us-east-1"),
                         SERVE_AUTH_BAD_SIGNATURE);
        fixture_free(&f);
}

/* The signer makes what real clients make, and what it signs verifies. */
static void test_sigv4_signer(void **state)
{
        (void)state;
        serve_creds c = { KEY_ID, SECRET };
        static const struct {
                const char *file, *service, *signed_headers;
        } t[] = {
                { "curl_lambda_invoke.http", "lambda", "host;x-amz-date" },
                { "aws_lambda_invoke.http", "lambda", "host;x-amz-date;x-amz-invocation-type" },
                { "aws_sqs_send.http", "sqs", "content-type;host;x-amz-date" },
                { "boto3_sqs_batch.http", "sqs", "content-type;host;x-amz-date" },
                /* (not curl_sqs_query_get: curl 7.88 signs the query unsorted, as sent) */
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                fixture f;
                fixture_load(t[i].file, &f);
                char d[17];
                serve_amz_date(f.date, d);
                _cleanup_free_ char *authz = serve_sigv4_sign(&f.req, &c, "us-east-1", t[i].service,
                                                              d, t[i].signed_headers);
                assert_non_null(authz);
                assert_string_equal(authz, serve_req_header(&f.req, "Authorization"));
                fixture_free(&f);
        }
        /* a request of husk fn invoke's shape */
        serve_kv h[] = { { (char *)"Content-Type", (char *)"application/json" },
                         { (char *)"Host", (char *)"127.0.0.1:9000" },
                         { (char *)"X-Amz-Date", (char *)"20261207T120000Z" },
                         { (char *)"X-Amz-Invocation-Type", (char *)"Event" },
                         { (char *)"Authorization", NULL } };
        const char *path = "/2015-03-31/functions/f/invocations";
        serve_req r = { .method = "POST", .path = path, .raw_path = path, .query = "",
                        .headers = h, .n_headers = 4, .body = "{\"a\": 1}", .len = 8 };
        char *authz = serve_sigv4_sign(&r, &c, "us-east-1", "lambda", "20261207T120000Z",
                                       "content-type;host;x-amz-date;x-amz-invocation-type");
        assert_non_null(authz);
        h[4].value = authz;
        r.n_headers = 5;
        serve_auth a = { .region = "us-east-1", .creds = c };
        char why[256];
        assert_int_equal(serve_sigv4_verify(&a, &r, "lambda", 1796644800, why, sizeof(why)),
                         SERVE_AUTH_OK);
        /* a header not present cannot be signed */
        assert_null(serve_sigv4_sign(&r, &c, "us-east-1", "lambda", "20261207T120000Z",
                                     "host;x-amz-target"));
        free(authz);
}

static void test_sigv4_parse_authorization(void **state)
{
        (void)state;
        serve_sigv4_parts p;
        char why[256];
        const char *good = "AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/sqs/aws4_request,"
                           " SignedHeaders=host;x-amz-date, Signature="
                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_int_equal(serve_sigv4_parse_authorization(good, &p, why, sizeof(why)), 0);
        assert_string_equal(p.key_id, "AKID");
        assert_string_equal(p.date, "20261207");
        assert_string_equal(p.region, "us-east-1");
        assert_string_equal(p.service, "sqs");
        assert_string_equal(p.signed_headers, "host;x-amz-date");
        static const char *const bad[] = {
                "",
                "AWS4-HMAC-SHA256",
                "AWS4-HMAC-SHA1 Credential=a/20261207/r/s/aws4_request, SignedHeaders=host, "
                "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "AWS4-HMAC-SHA256 Credential=a/2026120/r/s/aws4_request, SignedHeaders=host, "
                "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/s/aws5_request, SignedHeaders=host, "
                "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/aws4_request, SignedHeaders=host, "
                "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/s/aws4_request, SignedHeaders=host, "
                "Signature=0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/s/aws4_request, SignedHeaders=host, "
                "Signature=0123",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/s/aws4_request, SignedHeaders=host",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/s/aws4_request, SignedHeaders=, "
                "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/s/aws4_request, SignedHeaders=host, "
                "SignedHeaders=host, "
                "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "AWS4-HMAC-SHA256 Credential=a/20261207/r/s/aws4_request, Foo, "
                "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (serve_sigv4_parse_authorization(bad[i], &p, why, sizeof(why)) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
}

/* The canonical request: query sorted and re-encoded, headers trimmed and joined. */
static void test_sigv4_canonical(void **state)
{
        (void)state;
        serve_kv h[] = { { (char *)"Host", (char *)"h" },
                         { (char *)"X-A", (char *)"  a   b\tc  " },
                         { (char *)"x-a", (char *)"d" } };
        serve_req r = { .method = "GET", .raw_path = "/a b/%41", .query = "b=2&a=%7e&a=1&c",
                        .headers = h, .n_headers = 3, .body = "", .len = 0 };
        char *c = NULL;
        assert_int_equal(serve_sigv4_canonical(&r, NULL, "host;x-a", "H", 0, &c), 0);
        assert_string_equal(c, "GET\n/a%20b/%2541\na=1&a=~&b=2&c=\nhost:h\nx-a:a b c,d\n\nhost;x-a\nH");
        free(c);
        assert_int_equal(serve_sigv4_canonical(&r, "POST", "host;x-a", "H", SERVE_SIGV4_PATH_AS_SENT, &c), 0);
        assert_string_equal(c, "POST\n/a b/%41\na=1&a=~&b=2&c=\nhost:h\nx-a:a b c,d\n\nhost;x-a\nH");
        free(c);
        assert_int_equal(serve_sigv4_canonical(&r, NULL, "host;x-b", "H", 0, &c), -EINVAL);
        assert_int_equal(serve_sigv4_canonical(&r, NULL, "Host", "H", 0, &c), -EINVAL);
        assert_int_equal(serve_sigv4_canonical(&r, NULL, "host;", "H", 0, &c), -EINVAL);
        assert_int_equal(serve_sigv4_canonical(&r, NULL, "host", "H", SERVE_SIGV4_QUERY_AS_SENT, &c), 0);
        assert_string_equal(c, "GET\n/a%20b/%2541\nb=2&a=%7e&a=1&c\nhost:h\n\nhost\nH");
        free(c);
        r.query = "a=%zz";
        assert_int_equal(serve_sigv4_canonical(&r, NULL, "host", "H", 0, &c), -EINVAL);
}

/* ---- creds.c ---- */

static void test_creds(void **state)
{
        (void)state;
        char dir[] = "/tmp/husk-test-creds-XXXXXX";
        assert_non_null(mkdtemp(dir));
        serve_creds a, b;
        char why[512];
        assert_int_equal(serve_creds_load(dir, false, &a, why, sizeof(why)), -ENOENT);
        assert_int_equal(serve_creds_load(dir, true, &a, why, sizeof(why)), 0);
        assert_int_equal(strlen(a.key_id), 20);
        assert_memory_equal(a.key_id, "AKIA", 4);
        assert_int_equal(strlen(a.secret), 40);
        _cleanup_free_ char *path = serve_creds_path(dir);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        /* the same key on the next start */
        assert_int_equal(serve_creds_load(dir, true, &b, why, sizeof(why)), 0);
        assert_string_equal(a.key_id, b.key_id);
        assert_string_equal(a.secret, b.secret);
        /* readable by others: refused */
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(serve_creds_load(dir, true, &b, why, sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "0644"));
        /* a file of the AWS CLI's format, written by hand */
        assert_int_equal(unlink(path), 0);
        const char *text = "# mine\n[default]\naws_access_key_id=" KEY_ID
                           "\r\naws_secret_access_key =  " SECRET "  \n";
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, text, strlen(text)), 0);
        close(fd);
        assert_int_equal(serve_creds_load(dir, false, &b, why, sizeof(why)), 0);
        assert_string_equal(b.key_id, KEY_ID);
        assert_string_equal(b.secret, SECRET);
        /* a short secret */
        assert_int_equal(unlink(path), 0);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_int_equal(write_all(fd, "aws_access_key_id=" KEY_ID "\naws_secret_access_key=x\n",
                                   strlen("aws_access_key_id=" KEY_ID "\naws_secret_access_key=x\n")),
                         0);
        close(fd);
        assert_int_equal(serve_creds_load(dir, false, &b, why, sizeof(why)), -EINVAL);
        /* a symlink is not followed */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_true(serve_creds_load(dir, true, &b, why, sizeof(why)) < 0);
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_form_parse),
                cmocka_unit_test(test_url_coding),
                cmocka_unit_test(test_xml_escape),
                cmocka_unit_test(test_route_of),
                cmocka_unit_test(test_sigv4_real_clients),
                cmocka_unit_test(test_sigv4_refusals),
                cmocka_unit_test(test_sigv4_method_path),
                cmocka_unit_test(test_sigv4_signer),
                cmocka_unit_test(test_sigv4_parse_authorization),
                cmocka_unit_test(test_sigv4_canonical),
                cmocka_unit_test(test_creds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
