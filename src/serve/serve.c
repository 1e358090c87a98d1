/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: request/response helpers shared by the listener and the adapters, and the
 * router's classification of a request by its shape. Pure code: no sockets. */
#include "serve.h"
#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *serve_req_header(const serve_req *r, const char *name)
{
        for (size_t i = 0; i < r->n_headers; i++)
                if (strcasecmp(r->headers[i].name, name) == 0)
                        return r->headers[i].value;
        return NULL;
}

void serve_resp_set(serve_resp *w, unsigned status, const char *content_type, char *body, size_t len)
{
        w->status = status;
        free(w->body);
        w->body = body;
        w->len = body ? len : 0;
        if (content_type)
                serve_resp_header(w, "Content-Type", content_type);
}

void serve_resp_header(serve_resp *w, const char *name, const char *value)
{
        for (size_t i = 0; i < w->n_headers; i++)
                if (strcasecmp(w->headers[i].name, name) == 0) {
                        free(w->headers[i].value);
                        w->headers[i].value = xstrdup(value);
                        return;
                }
        if (w->n_headers == SERVE_RESP_HEADERS_MAX)
                return;
        w->headers[w->n_headers].name = xstrdup(name);
        w->headers[w->n_headers].value = xstrdup(value);
        w->n_headers++;
}

void serve_resp_free(serve_resp *w)
{
        free(w->body);
        for (size_t i = 0; i < w->n_headers; i++) {
                free(w->headers[i].name);
                free(w->headers[i].value);
        }
        memset(w, 0, sizeof(*w));
}

void serve_rest_error(serve_resp *w, unsigned status, const char *type, bool lambda_type,
                      const char *msg_key, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *m = NULL;
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        utf8_scrub(m);
        _cleanup_free_ char *q = json_quote(m ? m : type);
        free(m);
        char *b = lambda_type ? xasprintf("{\"Type\":\"%s\",\"%s\":%s}",
                                          status >= 500 ? "Service" : "User", msg_key, q)
                              : xasprintf("{\"%s\":%s}", msg_key, q);
        serve_resp_set(w, status, "application/json", b, strlen(b));
        serve_resp_header(w, "x-amzn-ErrorType", type);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int serve_url_decode(const char *s, size_t len, bool plus_is_space, char **ret, size_t *ret_len)
{
        char *o = xmalloc(len + 1);
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '%') {
                        if (len - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
                                free(o);
                                return -EINVAL;
                        }
                        o[n++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                        i += 2;
                } else if (c == '+' && plus_is_space) {
                        o[n++] = ' ';
                } else {
                        o[n++] = c;
                }
        }
        o[n] = '\0';
        *ret = o;
        if (ret_len)
                *ret_len = n;
        return 0;
}

int serve_form_parse(const char *s, size_t len, size_t max_pairs, serve_kv **ret, size_t *ret_n)
{
        serve_kv *kv = NULL;
        size_t n = 0;
        size_t i = 0;
        while (i < len) {
                const char *amp = memchr(s + i, '&', len - i);
                size_t end = amp ? (size_t)(amp - s) : len;
                if (end > i) {
                        if (n == max_pairs) {
                                serve_kvs_free(kv, n);
                                return -E2BIG;
                        }
                        const char *eq = memchr(s + i, '=', end - i);
                        size_t nend = eq ? (size_t)(eq - s) : end;
                        char *name = NULL, *value = NULL;
                        size_t nl = 0, vl = 0;
                        if (serve_url_decode(s + i, nend - i, true, &name, &nl) < 0 ||
                            serve_url_decode(eq ? eq + 1 : s + end, eq ? end - nend - 1 : 0, true,
                                             &value, &vl) < 0 ||
                            strlen(name) != nl || strlen(value) != vl) {
                                free(name);
                                free(value);
                                serve_kvs_free(kv, n);
                                return -EINVAL;
                        }
                        kv = xrealloc(kv, (n + 1) * sizeof(*kv));
                        kv[n].name = name;
                        kv[n].value = value;
                        n++;
                }
                i = end + 1;
        }
        *ret = kv;
        *ret_n = n;
        return 0;
}

const char *serve_kvs_get(const serve_kv *kv, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(kv[i].name, name) == 0)
                        return kv[i].value;
        return NULL;
}

void serve_kvs_free(serve_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].name);
                free(kv[i].value);
        }
        free(kv);
}

char *serve_url_encode(const char *s, size_t len, bool keep_slash)
{
        static const char hex[] = "0123456789ABCDEF";
        char *o = xmalloc(len * 3 + 1);
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
                        o[n++] = (char)c;
                } else {
                        o[n++] = '%';
                        o[n++] = hex[c >> 4];
                        o[n++] = hex[c & 15];
                }
        }
        o[n] = '\0';
        return o;
}

char *serve_xml_escape(const char *s, size_t len)
{
        size_t cap = len * 6 + 1, n = 0;
        char *o = xmalloc(cap);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                const char *rep = NULL;
                char num[8];
                switch (c) {
                case '&': rep = "&amp;"; break;
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '"': rep = "&quot;"; break;
                case '\'': rep = "&apos;"; break;
                default:
                        if (c < 0x20 && c != '\t' && c != '\n') {
                                snprintf(num, sizeof(num), "&#x%X;", c);
                                rep = num;
                        }
                }
                if (rep) {
                        size_t l = strlen(rep);
                        memcpy(o + n, rep, l);
                        n += l;
                } else {
                        o[n++] = (char)c;
                }
        }
        o[n] = '\0';
        return o;
}

static bool has_prefix(const char *s, const char *p)
{
        return strncmp(s, p, strlen(p)) == 0;
}

/* Lambda's REST paths: /YYYY-MM-DD/ followed by one of the resources Lambda serves. */
static bool lambda_path(const char *path)
{
        static const char *const pre[] = { "/2015-03-31/", "/2016-08-19/", "/2017-03-31/",
                                           "/2017-10-31/", "/2018-10-31/", "/2019-09-25/",
                                           "/2019-09-30/", "/2020-04-22/", "/2020-06-30/",
                                           "/2021-10-31/" };
        for (size_t i = 0; i < ARRAY_SIZE(pre); i++)
                if (has_prefix(path, pre[i]))
                        return true;
        return false;
}

static bool invoke_path(const char *path)
{
        const char *p = "/2015-03-31/functions/";
        if (!has_prefix(path, p))
                return false;
        const char *name = path + strlen(p);
        const char *slash = strchr(name, '/');
        return slash && slash != name && strcmp(slash, "/invocations") == 0;
}

/* apigatewayv2's REST paths (issue 17). */
static bool apigw_path(const char *path)
{
        return strcmp(path, "/v2/apis") == 0 || has_prefix(path, "/v2/apis/") ||
               has_prefix(path, "/v2/tags/");
}

/* EventBridge Scheduler's REST paths (issue 17). */
static bool scheduler_path(const char *path)
{
        return strcmp(path, "/schedules") == 0 || has_prefix(path, "/schedules/") ||
               strcmp(path, "/schedule-groups") == 0 || has_prefix(path, "/schedule-groups/") ||
               has_prefix(path, "/tags/arn:aws:scheduler:");
}

static bool query_has_action(const char *query)
{
        if (!query)
                return false;
        for (const char *p = query; p; p = strchr(p, '&')) {
                if (*p == '&')
                        p++;
                if (has_prefix(p, "Action="))
                        return true;
        }
        return false;
}

serve_route serve_route_of(const char *method, const char *path, const char *query,
                           const char *content_type, const char *target)
{
        if (target && has_prefix(target, "AmazonSQS."))
                return SERVE_ROUTE_SQS_JSON;
        if (invoke_path(path))
                return SERVE_ROUTE_LAMBDA_INVOKE;
        if (lambda_path(path))
                return SERVE_ROUTE_LAMBDA_API;
        if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
            strcmp(path, "/metrics") == 0)
                return SERVE_ROUTE_METRICS;
        if (apigw_path(path))
                return SERVE_ROUTE_APIGW;
        if (scheduler_path(path))
                return SERVE_ROUTE_SCHEDULER;
        if (query_has_action(query))
                return SERVE_ROUTE_SQS_QUERY;
        if (strcmp(method, "POST") == 0 && content_type &&
            has_prefix(content_type, "application/x-www-form-urlencoded"))
                return SERVE_ROUTE_SQS_QUERY;
        return SERVE_ROUTE_UNKNOWN;
}
