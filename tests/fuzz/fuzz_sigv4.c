/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: what the one front door (issue 13) does with a request before any adapter sees
 * it. The input is a raw HTTP/1.1 request ("METHOD TARGET VERSION", header lines, an empty line,
 * the body), as captured from clients (tests/unit/fixtures/sigv4 holds real signed ones). It is
 * split the way src/fn/front.c builds a serve_req (raw path and query string as sent, the path
 * percent-decoded), then: serve_route_of; serve_form_parse of the query and the body (the query
 * protocol's parameters); the Authorization header's parser; the canonical request; and the
 * whole SigV4 check at the request's own X-Amz-Date with the AWS documentation's example key.
 * Invariants: parsed parts are bounded and well formed; percent-encoding what was decoded and
 * decoding it again gives it back; a request the check accepts carries a signature that the
 * signer, given the same signed headers, reproduces (when the canonical form is the plain one). */
#include "fuzz.h"

#include "../../src/serve/auth.h"
#include "../../src/serve/serve.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_HEADERS 64

static void check_form(const char *s, size_t len)
{
        serve_kv *kv = NULL;
        size_t n = 0;
        int r = serve_form_parse(s, len, 100, &kv, &n);
        if (r == 0) {
                if (n > 100)
                        fuzz_fail("form: %zu pairs past the bound", n);
                for (size_t i = 0; i < n; i++) {
                        /* round trip: encode then decode gives the value back */
                        size_t vl = strlen(kv[i].value);
                        _cleanup_free_ char *e = serve_url_encode(kv[i].value, vl, false);
                        char *d = NULL;
                        size_t dl = 0;
                        if (serve_url_decode(e, strlen(e), false, &d, &dl) < 0 || dl != vl ||
                            memcmp(d, kv[i].value, vl) != 0)
                                fuzz_fail("form: value '%s' does not survive encode+decode",
                                          kv[i].value);
                        free(d);
                        (void)serve_kvs_get(kv, n, kv[i].name);
                }
                serve_kvs_free(kv, n);
        } else if (r != -EINVAL && r != -E2BIG) {
                fuzz_fail("form: unexpected %d", r);
        }
}

static void check_authorization(const char *v)
{
        serve_sigv4_parts p;
        char why[256];
        if (serve_sigv4_parse_authorization(v, &p, why, sizeof(why)) < 0)
                return;
        if (strlen(p.date) != 8 || strlen(p.signature) != 64 ||
            strspn(p.signature, "0123456789abcdef") != 64 || !p.key_id[0] || !p.region[0] ||
            !p.service[0] || !p.signed_headers[0])
                fuzz_fail("authorization '%s' parsed into a malformed part", v);
}

static void check_request(serve_req *r)
{
        const char *ct = serve_req_header(r, "Content-Type");
        const char *target = serve_req_header(r, "X-Amz-Target");
        serve_route route = serve_route_of(r->method, r->path, r->query, ct, target);
        if (route > SERVE_ROUTE_SCHEDULER)
                fuzz_fail("route %d out of range", route);
        check_form(r->query, strlen(r->query));
        check_form(r->body, r->len);
        const char *authz = serve_req_header(r, "Authorization");
        if (authz)
                check_authorization(authz);
        char *c = NULL;
        if (serve_sigv4_canonical(r, NULL, "host;x-amz-date", "-", 0, &c) == 0)
                free(c);
        /* The whole check at the request's own time. */
        serve_auth a = { .region = "us-east-1",
                         .creds = { "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } };
        const char *d = serve_req_header(r, "X-Amz-Date");
        struct tm tm = { 0 };
        time_t now = d && strptime(d, "%Y%m%dT%H%M%SZ", &tm) ? timegm(&tm) : 0;
        char why[512];
        serve_auth_status st = serve_sigv4_verify(&a, r, route == SERVE_ROUTE_SQS_JSON ||
                                                                 route == SERVE_ROUTE_SQS_QUERY
                                                         ? "sqs"
                                                         : "lambda",
                                                  now, why, sizeof(why));
        if (st > SERVE_AUTH_EXPIRED)
                fuzz_fail("verify: status %d out of range", st);
        serve_sigv4_parts p;
        if (st == SERVE_AUTH_OK && authz && d &&
            serve_sigv4_parse_authorization(authz, &p, why, sizeof(why)) == 0 &&
            !strchr(r->raw_path, '%') && !r->query[0]) {
                _cleanup_free_ char *again = serve_sigv4_sign(r, &a.creds, p.region, p.service, d,
                                                              p.signed_headers);
                if (!again || !strstr(again, p.signature))
                        fuzz_fail("an accepted signature the signer does not reproduce: %s", authz);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *req = fuzz_strndup(data, size);
        char *end = strstr(req, "\r\n\r\n");
        char *body = end ? end + 4 : req + size;
        size_t blen = end ? size - (size_t)(body - req) : 0;
        if (end)
                *end = '\0';
        serve_kv h[MAX_HEADERS];
        size_t nh = 0;
        char *save = NULL;
        char *line = strtok_r(req, "\n", &save);
        char *method = NULL, *target = NULL;
        if (line) {
                method = line;
                target = strchr(line, ' ');
                if (target) {
                        *target++ = '\0';
                        char *ver = strchr(target, ' ');
                        if (ver)
                                *ver = '\0';
                }
        }
        while (line && (line = strtok_r(NULL, "\n", &save)) && nh < MAX_HEADERS) {
                size_t l = strlen(line);
                if (l && line[l - 1] == '\r')
                        line[--l] = '\0';
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                h[nh].name = line;
                h[nh].value = v;
                nh++;
        }
        if (method && target && *target) {
                char *qm = strchr(target, '?');
                if (qm)
                        *qm = '\0';
                char *path = NULL;
                size_t pl = 0;
                if (serve_url_decode(target, strlen(target), false, &path, &pl) == 0) {
                        serve_req r = { .method = method,
                                        .path = path,
                                        .raw_path = target,
                                        .query = qm ? qm + 1 : "",
                                        .headers = h,
                                        .n_headers = nh,
                                        .body = body,
                                        .len = blen,
                                        .host = "",
                                        .principal = "",
                                        .request_id = "" };
                        check_request(&r);
                        free(path);
                }
        }
        free(req);
        return 0;
}
