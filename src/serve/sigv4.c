/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: AWS Signature Version 4, both ways. The verifier rebuilds the canonical request
 * of what arrived (method, path encoded once more as AWS does for every service but S3, the
 * query sorted and re-encoded, the signed headers trimmed with their inner runs of spaces
 * collapsed, the SHA-256 of the body), derives the signing key from the secret through the
 * scope (date, region, service, "aws4_request") and compares in constant time. The signer of
 * husk's own clients uses the same canonical request. Crypto from libcrypto. */
#include "auth.h"
#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static void hex(const unsigned char *b, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[b[i] >> 4];
                out[2 * i + 1] = digits[b[i] & 15];
        }
        out[2 * n] = '\0';
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
        unsigned char d[SHA256_DIGEST_LENGTH];
        SHA256(p, n, d);
        hex(d, sizeof(d), out);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
        unsigned int len = 32;
        HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

void serve_amz_date(time_t t, char out[17])
{
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* "YYYYMMDDTHHMMSSZ", strictly. */
static int parse_amz_date(const char *s, time_t *ret)
{
        if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
                return -EINVAL;
        for (int i = 0; i < 15; i++)
                if (i != 8 && (s[i] < '0' || s[i] > '9'))
                        return -EINVAL;
        struct tm tm = { 0 };
        char buf[8];
        memcpy(buf, s, 4), buf[4] = '\0', tm.tm_year = atoi(buf) - 1900;
        memcpy(buf, s + 4, 2), buf[2] = '\0', tm.tm_mon = atoi(buf) - 1;
        memcpy(buf, s + 6, 2), buf[2] = '\0', tm.tm_mday = atoi(buf);
        memcpy(buf, s + 9, 2), buf[2] = '\0', tm.tm_hour = atoi(buf);
        memcpy(buf, s + 11, 2), buf[2] = '\0', tm.tm_min = atoi(buf);
        memcpy(buf, s + 13, 2), buf[2] = '\0', tm.tm_sec = atoi(buf);
        if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 60)
                return -EINVAL;
        *ret = timegm(&tm);
        return 0;
}

typedef struct qpair {
        char *name, *value; /* encoded */
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
        const qpair *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->value, y->value);
}

/* The query, each name and value decoded and encoded again the strict way, sorted. */
static int canonical_query(const char *q, bool skip_signature, char **ret)
{
        size_t len = strlen(q), n = 0, total = 0;
        qpair *v = NULL;
        int rc = 0;
        for (size_t i = 0; i < len;) {
                const char *amp = memchr(q + i, '&', len - i);
                size_t end = amp ? (size_t)(amp - q) : len;
                if (end > i) {
                        const char *eq = memchr(q + i, '=', end - i);
                        size_t nend = eq ? (size_t)(eq - q) : end;
                        char *name = NULL, *value = NULL;
                        size_t nl = 0, vl = 0;
                        if (serve_url_decode(q + i, nend - i, false, &name, &nl) < 0 ||
                            serve_url_decode(eq ? eq + 1 : "", eq ? end - nend - 1 : 0, false,
                                             &value, &vl) < 0) {
                                free(name);
                                rc = -EINVAL;
                                break;
                        }
                        if (!(skip_signature && strcmp(name, "X-Amz-Signature") == 0)) {
                                v = xrealloc(v, (n + 1) * sizeof(*v));
                                v[n].name = serve_url_encode(name, nl, false);
                                v[n].value = serve_url_encode(value, vl, false);
                                total += strlen(v[n].name) + strlen(v[n].value) + 2;
                                n++;
                        }
                        free(name);
                        free(value);
                }
                i = end + 1;
        }
        char *o = NULL;
        if (!rc) {
                if (n)
                        qsort(v, n, sizeof(*v), qpair_cmp); /* (v is NULL when n is 0) */
                o = xmalloc(total + 1);
                size_t k = 0;
                for (size_t i = 0; i < n; i++)
                        k += (size_t)sprintf(o + k, "%s%s=%s", i ? "&" : "", v[i].name, v[i].value);
                o[k] = '\0';
        }
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].value);
        }
        free(v);
        if (rc)
                return rc;
        *ret = o;
        return 0;
}

/* Appends value trimmed, runs of spaces and tabs as one space. */
static void append_trimmed(char **buf, size_t *len, const char *value)
{
        size_t vl = strlen(value);
        *buf = xrealloc(*buf, *len + vl + 2);
        bool space = false, any = false;
        for (size_t i = 0; i < vl; i++) {
                char c = value[i];
                if (c == ' ' || c == '\t') {
                        space = any;
                        continue;
                }
                if (space)
                        (*buf)[(*len)++] = ' ';
                space = false;
                any = true;
                (*buf)[(*len)++] = c;
        }
        (*buf)[*len] = '\0';
}

/* "name:v1,v2\n" for each signed header, in the order signed_headers lists them. */
static int canonical_headers(const serve_req *r, const char *signed_headers, char **ret)
{
        char *o = xstrdup("");
        size_t len = 0;
        const char *p = signed_headers;
        while (*p) {
                const char *semi = strchr(p, ';');
                size_t nl = semi ? (size_t)(semi - p) : strlen(p);
                bool found = false;
                if (nl == 0)
                        goto bad;
                o = xrealloc(o, len + nl + 3);
                for (size_t i = 0; i < nl; i++) {
                        char c = p[i];
                        if (c >= 'A' && c <= 'Z')
                                goto bad; /* SignedHeaders are lower case */
                        o[len++] = c;
                }
                o[len++] = ':';
                o[len] = '\0';
                for (size_t i = 0; i < r->n_headers; i++) {
                        const char *h = r->headers[i].name;
                        if (strlen(h) != nl || strncasecmp(h, p, nl) != 0)
                                continue;
                        if (found) {
                                o = xrealloc(o, len + 2);
                                o[len++] = ',';
                                o[len] = '\0';
                        }
                        append_trimmed(&o, &len, r->headers[i].value);
                        found = true;
                }
                if (!found)
                        goto bad;
                o = xrealloc(o, len + 2);
                o[len++] = '\n';
                o[len] = '\0';
                p += nl + (semi ? 1 : 0);
                if (semi && !*p)
                        goto bad;
        }
        *ret = o;
        return 0;
bad:
        free(o);
        return -EINVAL;
}

int serve_sigv4_canonical(const serve_req *r, const char *method, const char *signed_headers,
                          const char *payload_hash, unsigned flags, char **ret)
{
        _cleanup_free_ char *query = NULL, *headers = NULL, *path = NULL;
        const char *raw = r->raw_path && r->raw_path[0] ? r->raw_path : "/";
        const char *q = r->query ? r->query : "";
        path = flags & SERVE_SIGV4_PATH_AS_SENT ? xstrdup(raw) : serve_url_encode(raw, strlen(raw), true);
        if (flags & SERVE_SIGV4_QUERY_AS_SENT)
                query = xstrdup(q);
        else if (canonical_query(q, flags & SERVE_SIGV4_PRESIGNED, &query) < 0)
                return -EINVAL;
        if (canonical_headers(r, signed_headers, &headers) < 0)
                return -EINVAL;
        *ret = xasprintf("%s\n%s\n%s\n%s\n%s\n%s", method ? method : r->method, path, query,
                         headers, signed_headers, payload_hash);
        return 0;
}

/* The hex signature of a canonical request for the scope date/region/service. */
static void signature(const char *secret, const char *amz_date, const char *date,
                      const char *region, const char *service, const char *canonical,
                      char out[65])
{
        char creq_hash[65];
        sha256_hex(canonical, strlen(canonical), creq_hash);
        _cleanup_free_ char *sts = xasprintf("AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                                             amz_date, date, region, service, creq_hash);
        _cleanup_free_ char *k0 = xasprintf("AWS4%s", secret);
        unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
        hmac(k0, strlen(k0), date, k1);
        hmac(k1, 32, region, k2);
        hmac(k2, 32, service, k3);
        hmac(k3, 32, "aws4_request", k4);
        hmac(k4, 32, sts, sig);
        hex(sig, 32, out);
        OPENSSL_cleanse(k1, 32);
        OPENSSL_cleanse(k2, 32);
        OPENSSL_cleanse(k3, 32);
        OPENSSL_cleanse(k4, 32);
}

char *serve_sigv4_sign(const serve_req *r, const serve_creds *creds, const char *region,
                       const char *service, const char *amz_date, const char *signed_headers)
{
        char payload[65], sig[65], date[9];
        sha256_hex(r->body ? r->body : "", r->body ? r->len : 0, payload);
        _cleanup_free_ char *creq = NULL;
        if (strlen(amz_date) != 16 ||
            serve_sigv4_canonical(r, NULL, signed_headers, payload, 0, &creq) < 0)
                return NULL;
        memcpy(date, amz_date, 8);
        date[8] = '\0';
        signature(creds->secret, amz_date, date, region, service, creq, sig);
        return xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                         "Signature=%s",
                         creds->key_id, date, region, service, signed_headers, sig);
}

/* Copies [s, s+n) into out (size cap) when it fits. */
static bool copy_part(char *out, size_t cap, const char *s, size_t n)
{
        if (n == 0 || n >= cap)
                return false;
        memcpy(out, s, n);
        out[n] = '\0';
        return true;
}

/* "AKID/DATE/REGION/SERVICE/aws4_request" */
static int parse_credential(const char *s, size_t n, serve_sigv4_parts *p)
{
        const char *end = s + n, *f[5];
        size_t l[5];
        for (int i = 0; i < 5; i++) {
                const char *slash = i < 4 ? memchr(s, '/', (size_t)(end - s)) : NULL;
                if (i < 4 && !slash)
                        return -EINVAL;
                f[i] = s;
                l[i] = (size_t)((slash ? slash : end) - s);
                s = slash ? slash + 1 : end;
        }
        if (!copy_part(p->key_id, sizeof(p->key_id), f[0], l[0]) || l[1] != 8 ||
            !copy_part(p->date, sizeof(p->date), f[1], l[1]) ||
            !copy_part(p->region, sizeof(p->region), f[2], l[2]) ||
            !copy_part(p->service, sizeof(p->service), f[3], l[3]) || l[4] != 12 ||
            memcmp(f[4], "aws4_request", 12) != 0)
                return -EINVAL;
        return 0;
}

static int bad(char *why, size_t why_len, const char *msg)
{
        snprintf(why, why_len, "%s", msg);
        return -EINVAL;
}

int serve_sigv4_parse_authorization(const char *v, serve_sigv4_parts *ret, char *why,
                                    size_t why_len)
{
        static const char alg[] = "AWS4-HMAC-SHA256";
        serve_sigv4_parts p;
        memset(&p, 0, sizeof(p));
        if (strncmp(v, alg, sizeof(alg) - 1) != 0 || (v[sizeof(alg) - 1] != ' '))
                return bad(why, why_len, "Authorization: only AWS4-HMAC-SHA256 is accepted");
        const char *s = v + sizeof(alg) - 1;
        bool have_c = false, have_h = false, have_s = false;
        while (*s) {
                while (*s == ' ' || *s == ',')
                        s++;
                if (!*s)
                        break;
                const char *eq = strchr(s, '=');
                if (!eq)
                        return bad(why, why_len, "Authorization: a part without '='");
                size_t vl = strcspn(eq + 1, ", ");
                const char *val = eq + 1;
                size_t kl = (size_t)(eq - s);
                if (kl == 10 && strncmp(s, "Credential", 10) == 0 && !have_c) {
                        if (parse_credential(val, vl, &p) < 0)
                                return bad(why, why_len, "Authorization: Credential must be "
                                           "KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
                        have_c = true;
                } else if (kl == 13 && strncmp(s, "SignedHeaders", 13) == 0 && !have_h) {
                        if (!copy_part(p.signed_headers, sizeof(p.signed_headers), val, vl))
                                return bad(why, why_len, "Authorization: SignedHeaders is empty "
                                           "or too long");
                        have_h = true;
                } else if (kl == 9 && strncmp(s, "Signature", 9) == 0 && !have_s) {
                        if (vl != 64 || strspn(val, "0123456789abcdef") < 64)
                                return bad(why, why_len, "Authorization: Signature must be 64 "
                                           "lower-case hex digits");
                        memcpy(p.signature, val, 64);
                        p.signature[64] = '\0';
                        have_s = true;
                } else {
                        return bad(why, why_len, "Authorization: an unknown or repeated part");
                }
                s = val + vl;
        }
        if (!have_c || !have_h || !have_s)
                return bad(why, why_len, "Authorization needs Credential, SignedHeaders and "
                           "Signature");
        *ret = p;
        return 0;
}

static bool has_signed(const char *list, const char *name)
{
        size_t n = strlen(name);
        for (const char *p = list; p; p = strchr(p, ';')) {
                if (*p == ';')
                        p++;
                if (strncmp(p, name, n) == 0 && (p[n] == ';' || p[n] == '\0'))
                        return true;
        }
        return false;
}

static serve_auth_status fail(char *why, size_t why_len, serve_auth_status st, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));
static serve_auth_status fail(char *why, size_t why_len, serve_auth_status st, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
        return st;
}

/* A presigned request: the parts from X-Amz-* query parameters. */
static serve_auth_status presigned_parts(const serve_kv *kv, size_t n, serve_sigv4_parts *p,
                                         const char **ret_date, long *ret_expires, char *why,
                                         size_t why_len)
{
        const char *alg = serve_kvs_get(kv, n, "X-Amz-Algorithm");
        const char *cred = serve_kvs_get(kv, n, "X-Amz-Credential");
        const char *sh = serve_kvs_get(kv, n, "X-Amz-SignedHeaders");
        const char *sig = serve_kvs_get(kv, n, "X-Amz-Signature");
        const char *exp = serve_kvs_get(kv, n, "X-Amz-Expires");
        memset(p, 0, sizeof(*p));
        if (!alg || strcmp(alg, "AWS4-HMAC-SHA256") != 0 || !cred || !sh || !sig || !exp)
                return fail(why, why_len, SERVE_AUTH_MALFORMED, "a presigned request needs "
                            "X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, "
                            "X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
        char *end = NULL;
        errno = 0;
        long e = strtol(exp, &end, 10);
        if (errno || !*exp || *end || e < 1 || e > SERVE_SIGV4_EXPIRES_MAX)
                return fail(why, why_len, SERVE_AUTH_MALFORMED, "X-Amz-Expires must be 1 to %d "
                            "seconds", SERVE_SIGV4_EXPIRES_MAX);
        if (parse_credential(cred, strlen(cred), p) < 0 ||
            !copy_part(p->signed_headers, sizeof(p->signed_headers), sh, strlen(sh)) ||
            strlen(sig) != 64 || strspn(sig, "0123456789abcdef") != 64)
                return fail(why, why_len, SERVE_AUTH_MALFORMED, "malformed X-Amz-Credential, "
                            "X-Amz-SignedHeaders or X-Amz-Signature");
        memcpy(p->signature, sig, 65);
        *ret_date = serve_kvs_get(kv, n, "X-Amz-Date");
        *ret_expires = e;
        return SERVE_AUTH_OK;
}

/* After the parts are known: key, scope, clock, then the signature itself. */
static serve_auth_status check(const serve_auth *a, const serve_req *r, const char *service,
                               time_t now, const serve_sigv4_parts *p, const char *amz_date,
                               long expires, char *why, size_t why_len)
{
        time_t t;
        if (parse_amz_date(amz_date, &t) < 0)
                return fail(why, why_len, SERVE_AUTH_MALFORMED, "X-Amz-Date must be "
                            "YYYYMMDDTHHMMSSZ (UTC)");
        if (strncmp(amz_date, p->date, 8) != 0)
                return fail(why, why_len, SERVE_AUTH_BAD_SIGNATURE, "the credential's date %s is "
                            "not the day of X-Amz-Date %s", p->date, amz_date);
        if (strlen(p->key_id) != strlen(a->creds.key_id) ||
            CRYPTO_memcmp(p->key_id, a->creds.key_id, strlen(p->key_id)) != 0)
                return fail(why, why_len, SERVE_AUTH_UNKNOWN_KEY, "the access key id %s is not "
                            "known here (husk serve credentials shows the server's)", p->key_id);
        if (strcmp(p->region, a->region) != 0)
                return fail(why, why_len, SERVE_AUTH_BAD_SIGNATURE, "the credential is scoped to "
                            "region %s; this server serves %s", p->region, a->region);
        if (strcmp(p->service, service) != 0)
                return fail(why, why_len, SERVE_AUTH_BAD_SIGNATURE, "the credential is scoped to "
                            "service %s; this request is for %s", p->service, service);
        if (!has_signed(p->signed_headers, "host"))
                return fail(why, why_len, SERVE_AUTH_MALFORMED, "the Host header must be signed");
        if (expires ? (now < t - SERVE_SIGV4_SKEW_S || now > t + expires)
                    : (now < t - SERVE_SIGV4_SKEW_S || now > t + SERVE_SIGV4_SKEW_S)) {
                char nowd[17];
                serve_amz_date(now, nowd);
                return fail(why, why_len, SERVE_AUTH_EXPIRED, expires
                            ? "Signature expired: the presigned request of %s is past its "
                              "X-Amz-Expires (now %s)"
                            : "Signature expired: %s is more than 15 minutes from now (%s)",
                            amz_date, nowd);
        }
        char payload[65];
        sha256_hex(r->body ? r->body : "", r->body ? r->len : 0, payload);
        const char *declared = serve_req_header(r, "x-amz-content-sha256");
        if (declared && strcmp(declared, payload) != 0)
                return fail(why, why_len, SERVE_AUTH_BAD_SIGNATURE, "X-Amz-Content-Sha256 is not "
                            "the SHA-256 of the body");
        /* First the canonical request of AWS's rules (the path encoded once more, as for all
         * services but S3; the query sorted and re-encoded). Then the variants real clients
         * sign: curl 7.88 takes the path and the query as sent; botocore presigns a query
         * protocol call as POST though the URL is then fetched with GET. Each variant is signed
         * with the secret: none lets a request through that its signer did not sign. */
        bool pct = strchr(r->raw_path ? r->raw_path : "", '%') != NULL;
        bool post = expires && strcmp(r->method, "GET") == 0 && r->len == 0;
        for (unsigned v = 0; v < 8; v++) {
                unsigned flags = expires ? SERVE_SIGV4_PRESIGNED : 0;
                if ((v & 1) && !pct)
                        continue;
                if ((v & 2) && (expires || !r->query || !r->query[0]))
                        continue;
                if ((v & 4) && !post)
                        continue;
                flags |= (v & 1 ? SERVE_SIGV4_PATH_AS_SENT : 0) |
                         (v & 2 ? SERVE_SIGV4_QUERY_AS_SENT : 0);
                _cleanup_free_ char *creq = NULL;
                if (serve_sigv4_canonical(r, v & 4 ? "POST" : NULL, p->signed_headers, payload,
                                          flags, &creq) < 0)
                        return fail(why, why_len, SERVE_AUTH_MALFORMED, "a signed header is "
                                    "missing, or the query string is malformed");
                char sig[65];
                signature(a->creds.secret, amz_date, p->date, p->region, p->service, creq, sig);
                if (CRYPTO_memcmp(sig, p->signature, 64) == 0)
                        return SERVE_AUTH_OK;
        }
        return fail(why, why_len, SERVE_AUTH_BAD_SIGNATURE, "the signature does not match the "
                    "request: check the secret access key and the signing method");
}

serve_auth_status serve_sigv4_verify(const serve_auth *a, const serve_req *r, const char *service,
                                     time_t now, char *why, size_t why_len)
{
        const char *authz = serve_req_header(r, "Authorization");
        serve_sigv4_parts p;
        if (authz) {
                if (serve_sigv4_parse_authorization(authz, &p, why, why_len) < 0)
                        return SERVE_AUTH_MALFORMED;
                const char *date = serve_req_header(r, "X-Amz-Date");
                if (!date)
                        return fail(why, why_len, SERVE_AUTH_MALFORMED, "the request has no "
                                    "X-Amz-Date header");
                return check(a, r, service, now, &p, date, 0, why, why_len);
        }
        const char *q = r->query ? r->query : "";
        if (!strstr(q, "X-Amz-Signature=") && !strstr(q, "X-Amz-Credential="))
                return fail(why, why_len, SERVE_AUTH_MISSING, "the request is not signed (AWS "
                            "Signature Version 4 with the keys of `husk serve credentials`)");
        serve_kv *kv = NULL;
        size_t n = 0;
        if (serve_form_parse(q, strlen(q), 1024, &kv, &n) < 0)
                return fail(why, why_len, SERVE_AUTH_MALFORMED, "the query string is malformed");
        const char *date = NULL;
        long expires = 0;
        serve_auth_status st = presigned_parts(kv, n, &p, &date, &expires, why, why_len);
        if (st == SERVE_AUTH_OK)
                st = check(a, r, service, now, &p, date, expires, why, why_len);
        serve_kvs_free(kv, n);
        return st;
}
