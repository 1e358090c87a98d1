/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's pure part: API Gateway's Lambda proxy events (payload format 1.0 and 2.0), the
 * mapping of a function's answer back to HTTP, HTTP_PROXY upstream URLs, CORS, access logs.
 * No I/O: tests/unit/test_gateway.c checks it against the shapes AWS documents. */
#include "gwd.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void gwd_hdrs_free(gwd_hdr *h, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(h[i].name);
                free(h[i].value);
        }
        free(h);
}

void gwd_hdr_add(gwd_hdr **h, size_t *n, const char *name, const char *value)
{
        *h = xrealloc(*h, (*n + 1) * sizeof(**h));
        (*h)[*n].name = xstrdup(name);
        (*h)[*n].value = xstrdup(value ? value : "");
        (*n)++;
}

const char *gwd_hdr_get(const gwd_hdr *h, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(h[i].name, name) == 0)
                        return h[i].value;
        return NULL;
}

/* ---- percent-coding ---- */
static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int gwd_pct_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
        char *out = xmalloc(len + 1);
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] != '%') {
                        out[n++] = s[i];
                        continue;
                }
                /* "%XY": both digits present and hexadecimal */
                int a = i + 2 < len ? hexval(s[i + 1]) : -1;
                int b = i + 2 < len ? hexval(s[i + 2]) : -1;
                if (a < 0 || b < 0) {
                        free(out);
                        return -EINVAL;
                }
                out[n++] = (char)(a << 4 | b);
                i += 2;
        }
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
        return 0;
}

/* ---- the events ---- */
/* Text bodies pass as they are; anything that is not UTF-8 text goes base64 (as API Gateway
 * does for binary media). UTF-8 as RFC 3629 has it: an overlong form, a surrogate or a code
 * point past U+10FFFF is not, and event_finish would make those bytes '?' (the body
 * altered) where base64 keeps them. */
static bool utf8_text(const char *s, size_t len)
{
        return !memchr(s, '\0', len) && utf8_valid_prefix(s, len) == len;
}

static bool text_type(const char *ct)
{
        if (!ct || !*ct)
                return true; /* no type: decided by the bytes */
        return strncasecmp(ct, "text/", 5) == 0 || strcasestr(ct, "json") ||
               strcasestr(ct, "xml") || strcasestr(ct, "javascript") ||
               strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

static void put_body(json_writer *w, const gwd_req *r, bool v1)
{
        if (!r->len) {
                if (v1)
                        json_kv_str(w, "body", NULL);
                json_kv_bool(w, "isBase64Encoded", false);
                return;
        }
        const char *ct = gwd_hdr_get(r->headers, r->n_headers, "content-type");
        if (text_type(ct) && utf8_text(r->body, r->len)) {
                json_kv_str(w, "body", r->body);
                json_kv_bool(w, "isBase64Encoded", false);
                return;
        }
        _cleanup_free_ char *e = base64_encode(r->body, r->len);
        json_kv_str(w, "body", e);
        json_kv_bool(w, "isBase64Encoded", true);
}

static char *lower(const char *s)
{
        char *l = xstrdup(s);
        for (char *p = l; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return l;
}

/* Distinct lowercased names, in the order first seen. */
static size_t header_names(const gwd_req *r, char ***ret)
{
        char **names = xcalloc(r->n_headers + 1, sizeof(*names));
        size_t n = 0;
        for (size_t i = 0; i < r->n_headers; i++) {
                char *l = lower(r->headers[i].name);
                bool seen = false;
                for (size_t k = 0; k < n && !seen; k++)
                        seen = strcmp(names[k], l) == 0;
                if (seen)
                        free(l);
                else
                        names[n++] = l;
        }
        *ret = names;
        return n;
}

/* A query string's pairs, decoded ("a=1&a=2&b" -> a 1, a 2, b ""). */
typedef struct qpair {
        char *name, *value;
} qpair;

static size_t query_pairs(const char *q, qpair **ret)
{
        qpair *p = NULL;
        size_t n = 0;
        while (q && *q) {
                size_t len = strcspn(q, "&");
                if (len) {
                        const char *eq = memchr(q, '=', len);
                        size_t nl = eq ? (size_t)(eq - q) : len;
                        char *name = NULL, *value = NULL;
                        size_t dl;
                        if (gwd_pct_decode(q, nl, &name, &dl) < 0 || strlen(name) != dl)
                                name = (free(name), xstrndup(q, nl));
                        const char *v = eq ? eq + 1 : q + len;
                        size_t vl = (size_t)(q + len - v);
                        if (gwd_pct_decode(v, vl, &value, &dl) < 0 || strlen(value) != dl)
                                value = (free(value), xstrndup(v, vl));
                        p = xrealloc(p, (n + 1) * sizeof(*p));
                        p[n++] = (qpair){ name, value };
                }
                q += len;
                if (*q == '&')
                        q++;
        }
        *ret = p;
        return n;
}

static void qpairs_free(qpair *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(p[i].name);
                free(p[i].value);
        }
        free(p);
}

static void put_params(json_writer *w, const gwd_ctx *c, bool null_when_none)
{
        if (!c->n_params) {
                if (null_when_none)
                        json_kv_str(w, "pathParameters", NULL);
                return;
        }
        json_key(w, "pathParameters");
        json_obj_begin(w);
        for (size_t i = 0; i < c->n_params; i++)
                json_kv_str(w, c->params[i].name, c->params[i].value);
        json_obj_end(w);
}

static void put_stage_vars(json_writer *w, const gwd_ctx *c, bool null_when_none)
{
        if (!c->stage_vars || !c->stage_vars[0]) {
                if (null_when_none)
                        json_kv_str(w, "stageVariables", NULL);
                return;
        }
        json_key(w, "stageVariables");
        json_obj_begin(w);
        for (size_t i = 0; c->stage_vars[i] && c->stage_vars[i + 1]; i += 2)
                json_kv_str(w, c->stage_vars[i], c->stage_vars[i + 1]);
        json_obj_end(w);
}

void gwd_clf_time(uint64_t epoch_ms, char out[32])
{
        time_t t = (time_t)(epoch_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        snprintf(out, 32, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, mon[tm.tm_mon],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *domain_name(const gwd_req *r, const gwd_ctx *c)
{
        const char *host = gwd_hdr_get(r->headers, r->n_headers, "host");
        if (host && *host)
                return xstrdup(host);
        return xasprintf("%s.execute-api.%s.amazonaws.com", c->api_id, c->region);
}

static char *domain_prefix(const char *domain)
{
        return xstrndup(domain, strcspn(domain, ".:"));
}

/* The event, valid UTF-8 (RFC 8259): the path, query, method and headers are a stranger's
 * bytes (libmicrohttpd passes any byte but CR, LF and NUL; %FF decodes to one), which the
 * writer copies as they are, and a function's JSON parser refuses such an event. Each byte
 * that is not UTF-8 becomes '?' (outside strings the document is ASCII; a body that is not
 * UTF-8 went base64 already). */
static char *event_finish(json_writer *w, size_t *ret_len)
{
        char *doc = json_writer_finish(w);
        utf8_scrub(doc);
        *ret_len = strlen(doc);
        return doc;
}

char *gwd_event_v2(const gwd_req *r, const gwd_ctx *c, size_t *ret_len)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "version", "2.0");
        json_kv_str(w, "routeKey", c->route_key);
        json_kv_str(w, "rawPath", r->raw_path);
        json_kv_str(w, "rawQueryString", r->query);
        /* Cookies: the Cookie headers' pieces, as their own list (not among the headers). */
        bool cookies = false;
        for (size_t i = 0; i < r->n_headers; i++) {
                if (strcasecmp(r->headers[i].name, "cookie") != 0)
                        continue;
                for (const char *p = r->headers[i].value; *p;) {
                        p += strspn(p, " ;");
                        size_t l = strcspn(p, ";");
                        while (l && p[l - 1] == ' ')
                                l--;
                        if (l) {
                                if (!cookies) {
                                        json_key(w, "cookies");
                                        json_arr_begin(w);
                                        cookies = true;
                                }
                                _cleanup_free_ char *one = xstrndup(p, l);
                                json_str(w, one);
                        }
                        p += l;
                }
        }
        if (cookies)
                json_arr_end(w);
        /* Headers: lowercased names, repeated ones joined with commas. */
        char **names = NULL;
        size_t nn = header_names(r, &names);
        json_key(w, "headers");
        json_obj_begin(w);
        for (size_t k = 0; k < nn; k++) {
                if (strcmp(names[k], "cookie") == 0)
                        continue;
                size_t total = 1;
                for (size_t i = 0; i < r->n_headers; i++)
                        if (strcasecmp(r->headers[i].name, names[k]) == 0)
                                total += strlen(r->headers[i].value) + 1;
                _cleanup_free_ char *v = xcalloc(1, total);
                for (size_t i = 0; i < r->n_headers; i++) {
                        if (strcasecmp(r->headers[i].name, names[k]) != 0)
                                continue;
                        if (*v)
                                strcat(v, ",");
                        strcat(v, r->headers[i].value);
                }
                json_kv_str(w, names[k], v);
        }
        json_obj_end(w);
        /* Query parameters: repeated ones joined with commas; absent without a query. */
        qpair *q = NULL;
        size_t nq = query_pairs(r->query, &q);
        if (nq) {
                json_key(w, "queryStringParameters");
                json_obj_begin(w);
                for (size_t k = 0; k < nq; k++) {
                        bool seen = false;
                        for (size_t j = 0; j < k && !seen; j++)
                                seen = strcmp(q[j].name, q[k].name) == 0;
                        if (seen)
                                continue;
                        size_t total = 1;
                        for (size_t j = k; j < nq; j++)
                                if (strcmp(q[j].name, q[k].name) == 0)
                                        total += strlen(q[j].value) + 1;
                        _cleanup_free_ char *v = xcalloc(1, total);
                        bool first = true;
                        for (size_t j = k; j < nq; j++) {
                                if (strcmp(q[j].name, q[k].name) != 0)
                                        continue;
                                if (!first)
                                        strcat(v, ",");
                                strcat(v, q[j].value);
                                first = false;
                        }
                        json_kv_str(w, q[k].name, v);
                }
                json_obj_end(w);
        }
        qpairs_free(q, nq);
        _cleanup_free_ char *domain = domain_name(r, c);
        _cleanup_free_ char *prefix = domain_prefix(domain);
        char when[32];
        gwd_clf_time(r->time_ms, when);
        json_key(w, "requestContext");
        json_obj_begin(w);
        json_kv_str(w, "accountId", c->account);
        json_kv_str(w, "apiId", c->api_id);
        json_kv_str(w, "domainName", domain);
        json_kv_str(w, "domainPrefix", prefix);
        json_key(w, "http");
        json_obj_begin(w);
        json_kv_str(w, "method", r->method);
        json_kv_str(w, "path", r->path);
        json_kv_str(w, "protocol", r->protocol);
        json_kv_str(w, "sourceIp", r->source_ip);
        const char *ua = gwd_hdr_get(r->headers, r->n_headers, "user-agent");
        json_kv_str(w, "userAgent", ua ? ua : "");
        json_obj_end(w);
        json_kv_str(w, "requestId", r->request_id);
        json_kv_str(w, "routeKey", c->route_key);
        json_kv_str(w, "stage", c->stage);
        json_kv_str(w, "time", when);
        json_kv_uint(w, "timeEpoch", r->time_ms);
        json_obj_end(w);
        put_body(w, r, false);
        put_params(w, c, false);
        put_stage_vars(w, c, false);
        json_obj_end(w);
        for (size_t k = 0; k < nn; k++)
                free(names[k]);
        free(names);
        return event_finish(w, ret_len);
}

/* "GET /items/{id}" -> "/items/{id}"; "$default" stays. */
static const char *route_resource(const char *route_key)
{
        const char *sp = strchr(route_key, ' ');
        return sp ? sp + 1 : route_key;
}

char *gwd_event_v1(const gwd_req *r, const gwd_ctx *c, size_t *ret_len)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "version", "1.0");
        json_kv_str(w, "resource", route_resource(c->route_key));
        json_kv_str(w, "path", r->path);
        json_kv_str(w, "httpMethod", r->method);
        /* headers: the last value of a repeated one; multiValueHeaders: all of them. */
        char **names = NULL;
        size_t nn = header_names(r, &names);
        for (int pass = 0; pass < 2; pass++) {
                json_key(w, pass ? "multiValueHeaders" : "headers");
                json_obj_begin(w);
                for (size_t k = 0; k < nn; k++) {
                        json_key(w, names[k]);
                        if (pass)
                                json_arr_begin(w);
                        const char *last = "";
                        for (size_t i = 0; i < r->n_headers; i++) {
                                if (strcasecmp(r->headers[i].name, names[k]) != 0)
                                        continue;
                                if (pass)
                                        json_str(w, r->headers[i].value);
                                last = r->headers[i].value;
                        }
                        if (pass)
                                json_arr_end(w);
                        else
                                json_str(w, last);
                }
                json_obj_end(w);
        }
        for (size_t k = 0; k < nn; k++)
                free(names[k]);
        free(names);
        qpair *q = NULL;
        size_t nq = query_pairs(r->query, &q);
        for (int pass = 0; pass < 2; pass++) {
                const char *key = pass ? "multiValueQueryStringParameters" : "queryStringParameters";
                if (!nq) {
                        json_kv_str(w, key, NULL);
                        continue;
                }
                json_key(w, key);
                json_obj_begin(w);
                for (size_t k = 0; k < nq; k++) {
                        bool seen = false;
                        for (size_t j = 0; j < k && !seen; j++)
                                seen = strcmp(q[j].name, q[k].name) == 0;
                        if (seen)
                                continue;
                        json_key(w, q[k].name);
                        if (pass)
                                json_arr_begin(w);
                        const char *last = "";
                        for (size_t j = k; j < nq; j++) {
                                if (strcmp(q[j].name, q[k].name) != 0)
                                        continue;
                                if (pass)
                                        json_str(w, q[j].value);
                                last = q[j].value;
                        }
                        if (pass)
                                json_arr_end(w);
                        else
                                json_str(w, last);
                }
                json_obj_end(w);
        }
        qpairs_free(q, nq);
        _cleanup_free_ char *domain = domain_name(r, c);
        _cleanup_free_ char *prefix = domain_prefix(domain);
        char when[32];
        gwd_clf_time(r->time_ms, when);
        const char *ua = gwd_hdr_get(r->headers, r->n_headers, "user-agent");
        json_key(w, "requestContext");
        json_obj_begin(w);
        json_kv_str(w, "accountId", c->account);
        json_kv_str(w, "apiId", c->api_id);
        json_kv_str(w, "domainName", domain);
        json_kv_str(w, "domainPrefix", prefix);
        json_kv_str(w, "extendedRequestId", r->request_id);
        json_kv_str(w, "httpMethod", r->method);
        json_key(w, "identity");
        json_obj_begin(w);
        json_kv_str(w, "accessKey", NULL);
        json_kv_str(w, "accountId", NULL);
        json_kv_str(w, "caller", NULL);
        json_kv_str(w, "cognitoAuthenticationProvider", NULL);
        json_kv_str(w, "cognitoAuthenticationType", NULL);
        json_kv_str(w, "cognitoIdentityId", NULL);
        json_kv_str(w, "cognitoIdentityPoolId", NULL);
        json_kv_str(w, "principalOrgId", NULL);
        json_kv_str(w, "sourceIp", r->source_ip);
        json_kv_str(w, "user", NULL);
        json_kv_str(w, "userAgent", ua ? ua : "");
        json_kv_str(w, "userArn", NULL);
        json_obj_end(w);
        json_kv_str(w, "path", r->path);
        json_kv_str(w, "protocol", r->protocol);
        json_kv_str(w, "requestId", r->request_id);
        json_kv_str(w, "requestTime", when);
        json_kv_uint(w, "requestTimeEpoch", r->time_ms);
        json_kv_str(w, "resourceId", c->route_key);
        json_kv_str(w, "resourcePath", route_resource(c->route_key));
        json_kv_str(w, "stage", c->stage);
        json_obj_end(w);
        put_params(w, c, true);
        put_stage_vars(w, c, true);
        put_body(w, r, true);
        json_obj_end(w);
        return event_finish(w, ret_len);
}

/* ---- the function's answer ---- */
void gwd_resp_done(gwd_resp *w)
{
        gwd_hdrs_free(w->headers, w->n_headers);
        free(w->body);
        *w = (gwd_resp){ 0 };
}

void gwd_resp_message(gwd_resp *w, unsigned status, const char *msg)
{
        gwd_resp_done(w);
        _cleanup_free_ char *m = json_quote(msg);
        w->status = status;
        w->body = xasprintf("{\"message\":%s}", m);
        w->len = strlen(w->body);
        gwd_hdr_add(&w->headers, &w->n_headers, "Content-Type", "application/json");
}

/* A header value as the function gave it: a string, or a number or boolean as its text. */
static const char *scalar_text(const json_value *v)
{
        if (!v)
                return NULL;
        if (v->type == JSON_STRING || v->type == JSON_NUMBER)
                return v->str;
        if (v->type == JSON_BOOL)
                return v->boolean ? "true" : "false";
        return NULL;
}

/* A header name or value the function chose must not split the answer (CR, LF, NUL). */
static bool header_safe(const char *s)
{
        for (; *s; s++)
                if (*s == '\r' || *s == '\n')
                        return false;
        return true;
}

/* RFC 9110 5.6.2: a field name is a token. Anything else (a space, a colon, a control
 * character, a byte past 0x7e, a separator such as "(" or "/") is not a header a client can
 * parse: libmicrohttpd would send it as it is. */
static bool header_name_token(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!(*s >= '0' && *s <= '9') && !(*s >= 'a' && *s <= 'z') &&
                    !(*s >= 'A' && *s <= 'Z') && !strchr("!#$%&'*+-.^_`|~", *s))
                        return false;
        return true;
}

static int add_fn_header(gwd_resp *w, const char *name, const char *value)
{
        if (!value || !header_name_token(name) || !header_safe(value))
                return -1;
        if (gwd_hop_by_hop(name) || strcasecmp(name, "content-length") == 0)
                return 0; /* the listener frames the answer itself */
        gwd_hdr_add(&w->headers, &w->n_headers, name, value);
        return 0;
}

static int structured(const json_value *v, bool v1, gwd_resp *w)
{
        const json_value *sc = json_get(v, "statusCode");
        uint64_t status = 200;
        if (sc) {
                const char *t = scalar_text(sc);
                if (!t || sc->type == JSON_BOOL || parse_uint64(t, &status) < 0 || status < 100 ||
                    status > 599)
                        return -1;
        } else if (v1) {
                return -1; /* payload 1.0 requires statusCode */
        }
        w->status = (unsigned)status;
        const json_value *h = json_get(v, "headers");
        if (h && h->type == JSON_OBJECT)
                for (size_t i = 0; i < h->n; i++)
                        if (add_fn_header(w, h->keys[i], scalar_text(h->items[i])) < 0)
                                return -1;
        const json_value *mh = json_get(v, "multiValueHeaders");
        if (mh && mh->type == JSON_OBJECT)
                for (size_t i = 0; i < mh->n; i++) {
                        const json_value *a = mh->items[i];
                        if (a->type != JSON_ARRAY)
                                return -1;
                        for (size_t k = 0; k < a->n; k++)
                                if (add_fn_header(w, mh->keys[i], scalar_text(a->items[k])) < 0)
                                        return -1;
                }
        const json_value *ck = json_get(v, "cookies");
        if (ck && ck->type == JSON_ARRAY && !v1)
                for (size_t i = 0; i < ck->n; i++)
                        if (add_fn_header(w, "Set-Cookie", scalar_text(ck->items[i])) < 0)
                                return -1;
        const json_value *b = json_get(v, "body");
        const char *body = b && b->type == JSON_STRING ? b->str : "";
        const json_value *b64v = json_get(v, "isBase64Encoded");
        if (b64v && b64v->type == JSON_BOOL && b64v->boolean) {
                if (base64_decode(body, strlen(body), &w->body, &w->len) < 0)
                        return -1;
        } else {
                w->body = xstrdup(body);
                w->len = strlen(body);
        }
        if (!gwd_hdr_get(w->headers, w->n_headers, "content-type") && !v1)
                gwd_hdr_add(&w->headers, &w->n_headers, "Content-Type", "application/json");
        return 0;
}

int gwd_map_response(const char *payload_version, const char *body, size_t len, gwd_resp *w)
{
        bool v1 = payload_version && strcmp(payload_version, "1.0") == 0;
        *w = (gwd_resp){ 0 };
        json_value *v = NULL;
        char why[128];
        if (json_parse(body, len, &v, why, sizeof(why)) < 0)
                return -1;
        int r;
        /* 2.0: a JSON object with statusCode is a proxy response; anything else valid JSON is
         * the body of a 200 (API Gateway's "inferred" format). */
        if (v->type == JSON_OBJECT && (v1 || json_get(v, "statusCode"))) {
                r = structured(v, v1, w);
        } else if (v1) {
                r = -1;
        } else {
                w->status = 200;
                w->body = xstrndup(body, len);
                w->len = len;
                gwd_hdr_add(&w->headers, &w->n_headers, "Content-Type", "application/json");
                r = 0;
        }
        json_value_free(v);
        if (r < 0)
                gwd_resp_done(w);
        return r;
}

/* ---- HTTP_PROXY ---- */
bool gwd_hop_by_hop(const char *name)
{
        static const char *const hop[] = { "connection", "keep-alive", "proxy-authenticate",
                                           "proxy-authorization", "te", "trailer",
                                           "transfer-encoding", "upgrade", "proxy-connection",
                                           NULL };
        for (size_t i = 0; hop[i]; i++)
                if (strcasecmp(name, hop[i]) == 0)
                        return true;
        return false;
}

static bool dot_segment(const char *seg, size_t len)
{
        return (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.');
}

bool gwd_path_hostile(const char *raw_path)
{
        for (const char *p = raw_path; *p;) {
                p += strspn(p, "/");
                size_t len = strcspn(p, "/");
                if (dot_segment(p, len))
                        return true;
                char *d = NULL;
                size_t dl = 0;
                if (memchr(p, '%', len)) {
                        if (gwd_pct_decode(p, len, &d, &dl) < 0)
                                return true; /* a bad escape */
                        bool bad = strlen(d) != dl || dot_segment(d, dl);
                        free(d);
                        if (bad)
                                return true;
                }
                p += len;
        }
        return false;
}

/* One parameter's value into the upstream path, each segment percent-encoded again (RFC 3986's
 * unreserved characters and sub-delims stay). greedy: slashes separate segments. */
static int put_param(char **out, size_t *n, const char *v, bool greedy, char *why, size_t why_len)
{
        for (const char *p = v;;) {
                size_t len = greedy ? strcspn(p, "/") : strlen(p);
                if (dot_segment(p, len)) {
                        snprintf(why, why_len, "a '.' or '..' segment in the proxied path");
                        return -EINVAL;
                }
                for (size_t i = 0; i < len; i++) {
                        unsigned char c = (unsigned char)p[i];
                        if (c < 0x20 || c == 0x7f || c == '\\') {
                                snprintf(why, why_len, "a control character or backslash in the "
                                                       "proxied path");
                                return -EINVAL;
                        }
                        *out = xrealloc(*out, *n + 4);
                        if (isalnum(c) || strchr("-._~!$&'()*+,;=:@", c))
                                (*out)[(*n)++] = (char)c;
                        else
                                *n += (size_t)snprintf(*out + *n, 4, "%%%02X", c);
                }
                p += len;
                if (!*p)
                        break;
                *out = xrealloc(*out, *n + 2);
                (*out)[(*n)++] = '/';
                p++;
        }
        return 0;
}

int gwd_proxy_url(const char *uri, const gw_kv *params, size_t n_params, const char *query,
                  char **ret, char *why, size_t why_len)
{
        char *out = NULL;
        size_t n = 0;
        const char *p = uri;
        /* The scheme and authority are copied as they are: variables only in the path. */
        const char *auth = strstr(uri, "://");
        const char *path = auth ? strchr(auth + 3, '/') : NULL;
        size_t head = path ? (size_t)(path - uri) : strlen(uri);
        out = xrealloc(out, head + 1);
        memcpy(out, uri, head);
        n = head;
        p = uri + head;
        while (*p && *p != '?') {
                if (*p == '{') {
                        const char *end = strchr(p, '}');
                        if (!end)
                                goto literal;
                        size_t nl = (size_t)(end - p - 1);
                        bool greedy = nl && p[nl] == '+';
                        if (greedy)
                                nl--;
                        const char *val = NULL;
                        for (size_t i = 0; i < n_params; i++)
                                if (strlen(params[i].name) == nl &&
                                    strncmp(params[i].name, p + 1, nl) == 0)
                                        val = params[i].value;
                        if (!val)
                                goto literal;
                        /* {proxy} in the URI takes the greedy {proxy+} of the route whole. */
                        int r = put_param(&out, &n, val, true, why, why_len);
                        if (r < 0) {
                                free(out);
                                return r;
                        }
                        p = end + 1;
                        continue;
                }
literal:
                out = xrealloc(out, n + 2);
                out[n++] = *p++;
        }
        if (n == head) {
                out = xrealloc(out, n + 2);
                out[n++] = '/';
        }
        /* The integration's own query first, then the request's. */
        const char *uq = *p == '?' ? p + 1 : "";
        const char *sep = "?";
        for (int k = 0; k < 2; k++) {
                const char *q = k ? query : uq;
                if (!q || !*q)
                        continue;
                /* The request's query as sent, but a space, control character, byte past
                 * 0x7e or '#' encoded: libmicrohttpd passes them (a URI with spaces too), and
                 * raw they would break the upstream's request line. */
                size_t ql = strlen(q);
                out = xrealloc(out, n + 3 * ql + 2);
                out[n++] = *sep;
                for (size_t i = 0; i < ql; i++) {
                        unsigned char c = (unsigned char)q[i];
                        if (c <= 0x20 || c >= 0x7f || c == '#')
                                n += (size_t)snprintf(out + n, 4, "%%%02X", c);
                        else
                                out[n++] = (char)c;
                }
                sep = "&";
        }
        out = xrealloc(out, n + 1);
        out[n] = '\0';
        *ret = out;
        return 0;
}

int gwd_url_split(const char *url, char *host, size_t host_len, unsigned *port, char **rest)
{
        if (strncasecmp(url, "http://", 7) != 0)
                return -EINVAL;
        const char *h = url + 7;
        size_t hl = strcspn(h, ":/?");
        if (!hl || hl >= host_len)
                return -EINVAL;
        memcpy(host, h, hl);
        host[hl] = '\0';
        const char *p = h + hl;
        *port = 80;
        if (*p == ':') {
                uint32_t v;
                size_t pl = strcspn(p + 1, "/?");
                _cleanup_free_ char *ps = xstrndup(p + 1, pl);
                if (parse_uint32(ps, &v) < 0 || v < 1 || v > 65535)
                        return -EINVAL;
                *port = v;
                p += 1 + pl;
        }
        *rest = *p == '/' ? xstrdup(p) : xasprintf("/%s", p);
        return 0;
}

/* ---- CORS ---- */
static bool in_list(char *const *list, const char *v)
{
        for (size_t i = 0; list && list[i]; i++)
                if (strcmp(list[i], "*") == 0 || strcasecmp(list[i], v) == 0)
                        return true;
        return false;
}

static char *joined(char *const *list)
{
        size_t total = 1;
        for (size_t i = 0; list && list[i]; i++)
                total += strlen(list[i]) + 1;
        char *s = xcalloc(1, total);
        for (size_t i = 0; list && list[i]; i++) {
                if (i)
                        strcat(s, ",");
                strcat(s, list[i]);
        }
        return s;
}

void gwd_cors_headers(const gw_cors *cors, const char *method, const char *origin,
                      const char *req_method, const char *req_headers, bool *preflight,
                      gwd_hdr **h, size_t *n)
{
        *preflight = cors && strcmp(method, "OPTIONS") == 0 && origin && req_method;
        if (!cors || !origin)
                return;
        /* An origin not allowed gets no CORS headers: the browser refuses the answer. */
        if (!in_list(cors->allow_origins, origin))
                return;
        bool any = false;
        for (size_t i = 0; cors->allow_origins && cors->allow_origins[i]; i++)
                any |= strcmp(cors->allow_origins[i], "*") == 0;
        gwd_hdr_add(h, n, "Access-Control-Allow-Origin",
                    any && !cors->allow_credentials ? "*" : origin);
        if (!any || cors->allow_credentials)
                gwd_hdr_add(h, n, "Vary", "Origin");
        if (cors->allow_credentials)
                gwd_hdr_add(h, n, "Access-Control-Allow-Credentials", "true");
        if (!*preflight) {
                if (cors->expose_headers && cors->expose_headers[0]) {
                        _cleanup_free_ char *e = joined(cors->expose_headers);
                        gwd_hdr_add(h, n, "Access-Control-Expose-Headers", e);
                }
                return;
        }
        if (in_list(cors->allow_methods, req_method)) {
                _cleanup_free_ char *m = joined(cors->allow_methods);
                gwd_hdr_add(h, n, "Access-Control-Allow-Methods", m);
        }
        if (req_headers && *req_headers && cors->allow_headers && cors->allow_headers[0]) {
                _cleanup_free_ char *a = joined(cors->allow_headers);
                gwd_hdr_add(h, n, "Access-Control-Allow-Headers", a);
        }
        if (cors->max_age >= 0) {
                char age[24];
                snprintf(age, sizeof(age), "%d", cors->max_age);
                gwd_hdr_add(h, n, "Access-Control-Max-Age", age);
        }
}

/* ---- access logs ---- */
static void cat(char **out, size_t *n, size_t *cap, const char *s, size_t len)
{
        if (*n + len + 1 > *cap) {
                *cap = (*n + len + 1) * 2;
                *out = xrealloc(*out, *cap);
        }
        memcpy(*out + *n, s, len);
        *n += len;
        (*out)[*n] = '\0';
}

static void num(char *buf, size_t len, long v)
{
        if (v < 0)
                snprintf(buf, len, "-");
        else
                snprintf(buf, len, "%ld", v);
}

/* The value of one $context variable, NULL when husk does not know it. */
static const char *log_var(const char *name, size_t len, const gwd_logvars *v, char *buf,
                           size_t buf_len)
{
#define IS(s) (len == strlen(s) && strncmp(name, s, len) == 0)
        if (IS("requestId") || IS("extendedRequestId"))
                return v->request_id;
        if (IS("apiId"))
                return v->api_id;
        if (IS("stage"))
                return v->stage;
        if (IS("routeKey"))
                return v->route_key;
        if (IS("httpMethod"))
                return v->method;
        if (IS("path"))
                return v->path;
        if (IS("protocol"))
                return v->protocol;
        if (IS("identity.sourceIp"))
                return v->source_ip;
        if (IS("identity.userAgent"))
                return v->user_agent;
        if (IS("domainName"))
                return v->domain;
        if (IS("error.message"))
                return v->error_message;
        if (IS("integrationErrorMessage"))
                return v->integration_error;
        if (IS("status")) {
                num(buf, buf_len, v->status ? (long)v->status : -1);
                return buf;
        }
        if (IS("integrationStatus") || IS("integration.status")) {
                num(buf, buf_len, v->integration_status ? (long)v->integration_status : -1);
                return buf;
        }
        if (IS("responseLatency")) {
                num(buf, buf_len, v->response_latency);
                return buf;
        }
        if (IS("integrationLatency") || IS("integration.latency")) {
                num(buf, buf_len, v->integration_latency);
                return buf;
        }
        if (IS("responseLength")) {
                num(buf, buf_len, (long)v->response_length);
                return buf;
        }
        if (IS("requestTime")) {
                char t[32];
                gwd_clf_time(v->time_ms, t);
                snprintf(buf, buf_len, "%s", t);
                return buf;
        }
        if (IS("requestTimeEpoch")) {
                snprintf(buf, buf_len, "%llu", (unsigned long long)v->time_ms);
                return buf;
        }
        return NULL;
#undef IS
}

char *gwd_log_line(const char *format, const gwd_logvars *v)
{
        char *out = xstrdup("");
        size_t n = 0, cap = 1;
        for (const char *p = format; *p;) {
                const char *d = strstr(p, "$context.");
                if (!d) {
                        cat(&out, &n, &cap, p, strlen(p));
                        break;
                }
                cat(&out, &n, &cap, p, (size_t)(d - p));
                const char *name = d + 9;
                size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_.");
                while (len && name[len - 1] == '.')
                        len--;
                char buf[64];
                const char *val = log_var(name, len, v, buf, sizeof(buf));
                if (!val || !*val)
                        val = "-";
                /* A value never breaks the line: control characters become spaces. */
                for (const char *c = val; *c; c++) {
                        char ch = (unsigned char)*c < 0x20 ? ' ' : *c;
                        cat(&out, &n, &cap, &ch, 1);
                }
                p = name + len;
        }
        return out;
}

/* ---- AWS_PROXY ---- */
char *gwd_function_of(const char *uri)
{
        /* arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations */
        const char *f = strstr(uri, ":lambda:path/2015-03-31/functions/");
        if (strncmp(uri, "arn:", 4) == 0 && f) {
                f += strlen(":lambda:path/2015-03-31/functions/");
                const char *end = strstr(f, "/invocations");
                return end ? xstrndup(f, (size_t)(end - f)) : xstrdup(f);
        }
        return xstrdup(uri); /* a name or a Lambda ARN */
}
