/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP APIs' records: freeing, validation (route keys, stage names) and the JSON form each
 * record has in the store. */
#include "gwint.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int gw_seterr(gw_error *err, gw_errcode code, const char *fmt, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                err->code = code;
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                va_end(ap);
        }
        return -1;
}

/* ---------------------------------------------------------------- freeing */

void gw_cors_free(gw_cors *c)
{
        if (!c)
                return;
        strv_free(c->allow_origins);
        strv_free(c->allow_methods);
        strv_free(c->allow_headers);
        strv_free(c->expose_headers);
        free(c);
}

static char **strv_dup(char *const *v)
{
        return v ? strv_copy(v, strv_length(v)) : NULL;
}

gw_cors *gw_cors_copy(const gw_cors *c)
{
        if (!c)
                return NULL;
        gw_cors *n = xcalloc(1, sizeof(*n));
        n->allow_origins = strv_dup(c->allow_origins);
        n->allow_methods = strv_dup(c->allow_methods);
        n->allow_headers = strv_dup(c->allow_headers);
        n->expose_headers = strv_dup(c->expose_headers);
        n->allow_credentials = c->allow_credentials;
        n->max_age = c->max_age;
        return n;
}

void gw_api_free(gw_api *a)
{
        if (!a)
                return;
        free(a->name);
        free(a->description);
        free(a->version);
        free(a->protocol);
        free(a->route_selection_expression);
        free(a->api_key_selection_expression);
        gw_cors_free(a->cors);
        strv_free(a->tags);
        free(a);
}

void gw_route_free(gw_route *r)
{
        if (!r)
                return;
        free(r->route_key);
        free(r->target);
        free(r->authorization_type);
        free(r->operation_name);
        free(r);
}

void gw_integration_free(gw_integration *i)
{
        if (!i)
                return;
        free(i->uri);
        free(i->method);
        free(i->payload_format_version);
        free(i->description);
        free(i->connection_type);
        free(i);
}

void gw_stage_free(gw_stage *s)
{
        if (!s)
                return;
        free(s->name);
        free(s->description);
        free(s->deployment_id);
        for (size_t i = 0; i < s->n_route_settings; i++)
                free(s->route_settings[i].route_key);
        free(s->route_settings);
        free(s->access_log_destination);
        free(s->access_log_format);
        strv_free(s->variables);
        strv_free(s->tags);
        free(s);
}

void gw_deployment_free(gw_deployment *d)
{
        if (!d)
                return;
        free(d->description);
        free(d->status);
        free(d);
}

/* ---------------------------------------------------------------- validation */

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY" };

static bool param_name_ok(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.'))
                        return false;
        }
        return true;
}

bool gw_route_key_valid(const char *key, char *why, size_t why_len)
{
#define WHY(...) (snprintf(why, why_len, __VA_ARGS__), false)
        if (!key)
                return WHY("a route key is required");
        if (strcmp(key, GW_DEFAULT_ROUTE) == 0)
                return true;
        size_t len = strlen(key);
        if (len > GW_ROUTE_KEY_MAX)
                return WHY("a route key has at most %d bytes", GW_ROUTE_KEY_MAX);
        const char *sp = strchr(key, ' ');
        if (!sp)
                return WHY("'%.100s': a route key is \"$default\" or \"METHOD /path\"", key);
        size_t ml = (size_t)(sp - key);
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(methods) && !ok; i++)
                ok = strlen(methods[i]) == ml && strncmp(methods[i], key, ml) == 0;
        if (!ok)
                return WHY("'%.*s': the method of a route key is one of GET POST PUT PATCH DELETE "
                           "HEAD OPTIONS ANY", (int)(ml > 20 ? 20 : ml), key);
        const char *p = sp + 1;
        if (*p != '/')
                return WHY("'%.100s': the path of a route key starts with /", key);
        if (strcmp(p, "/") == 0)
                return true;
        size_t n_params = 0;
        const char *names[GW_PATH_PARAMS_MAX];
        size_t name_lens[GW_PATH_PARAMS_MAX];
        while (*p == '/') {
                const char *seg = p + 1, *end = strchr(seg, '/');
                size_t n = end ? (size_t)(end - seg) : strlen(seg);
                if (n == 0)
                        return WHY("'%.100s': empty path segment (// or a trailing /)", key);
                if (seg[0] == '{') {
                        if (seg[n - 1] != '}' || n < 3)
                                return WHY("'%.100s': a path parameter is a whole segment {name}",
                                           key);
                        const char *name = seg + 1;
                        size_t nl = n - 2;
                        bool greedy = name[nl - 1] == '+';
                        if (greedy)
                                nl--;
                        if (!param_name_ok(name, nl))
                                return WHY("'%.100s': a parameter's name is made of A-Z a-z 0-9 _ - .",
                                           key);
                        if (greedy && end)
                                return WHY("'%.100s': a greedy path variable {%.*s+} must be the "
                                           "last segment", key, (int)nl, name);
                        if (n_params == GW_PATH_PARAMS_MAX)
                                return WHY("'%.100s': more than %d path parameters "
                                           "(GW_PATH_PARAMS_MAX)", key, GW_PATH_PARAMS_MAX);
                        for (size_t i = 0; i < n_params; i++)
                                if (name_lens[i] == nl && strncmp(names[i], name, nl) == 0)
                                        return WHY("'%.100s': the parameter {%.*s} appears twice",
                                                   key, (int)nl, name);
                        names[n_params] = name;
                        name_lens[n_params++] = nl;
                } else {
                        for (size_t i = 0; i < n; i++) {
                                unsigned char c = (unsigned char)seg[i];
                                if (c <= 0x20 || c == 0x7f || c == '{' || c == '}' || c == '?' ||
                                    c == '#')
                                        return WHY("'%.100s': a path segment holds no spaces, "
                                                   "control characters, { } ? or #", key);
                        }
                        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                                return WHY("'%.100s': . and .. are not path segments", key);
                }
                p = seg + n;
        }
        return true;
#undef WHY
}

char *gw_route_key_norm(const char *key)
{
        char *out = xmalloc(strlen(key) + 1), *o = out;
        const char *p = key;
        while (*p) {
                if (*p == '{' && (p == key || p[-1] == '/')) {
                        const char *close = strchr(p, '}');
                        if (close) {
                                bool greedy = close > p && close[-1] == '+';
                                *o++ = '{';
                                if (greedy)
                                        *o++ = '+';
                                *o++ = '}';
                                p = close + 1;
                                continue;
                        }
                }
                *o++ = *p++;
        }
        *o = '\0';
        return out;
}

static bool fn_name_ok(const char *s, size_t n)
{
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
                        return false;
        return true;
}

/* arn:aws:lambda:REGION:ACCOUNT:function:NAME */
static bool lambda_arn_ok(const char *s, size_t n)
{
        static const char pre[] = "arn:aws:lambda:";
        if (n <= strlen(pre) || strncmp(s, pre, strlen(pre)) != 0)
                return false;
        const char *p = s + strlen(pre), *e = s + n;
        const char *c1 = memchr(p, ':', (size_t)(e - p));            /* after REGION */
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(e - c1 - 1)) : NULL; /* after ACCOUNT */
        if (!c1 || !c2 || c1 == p || (size_t)(c2 - c1 - 1) != 12)
                return false;
        for (const char *q = c1 + 1; q < c2; q++)
                if (*q < '0' || *q > '9')
                        return false;
        if ((size_t)(e - c2 - 1) < 10 || strncmp(c2 + 1, "function:", 9) != 0)
                return false;
        return fn_name_ok(c2 + 10, (size_t)(e - c2 - 10));
}

int gw_lambda_function(const char *uri, char *out, size_t out_len)
{
        if (!uri)
                return -EINVAL;
        const char *p = uri;
        size_t n = strlen(uri);
        static const char apigw[] = "arn:aws:apigateway:";
        if (strncmp(uri, apigw, strlen(apigw)) == 0) {
                const char *f = strstr(uri, ":lambda:path/2015-03-31/functions/");
                static const char inv[] = "/invocations";
                if (!f || n < strlen(inv) || strcmp(uri + n - strlen(inv), inv) != 0)
                        return -EINVAL;
                p = f + strlen(":lambda:path/2015-03-31/functions/");
                if (p > uri + n - strlen(inv))
                        return -EINVAL;
                n = (size_t)(uri + n - strlen(inv) - p);
                if (!lambda_arn_ok(p, n))
                        return -EINVAL;
        } else if (!(strncmp(uri, "arn:", 4) == 0 ? lambda_arn_ok(uri, n) : fn_name_ok(uri, n))) {
                return -EINVAL;
        }
        if (n + 1 > out_len)
                return -EINVAL;
        memcpy(out, p, n);
        out[n] = '\0';
        return 0;
}

bool gw_stage_name_valid(const char *name)
{
        if (!name)
                return false;
        if (strcmp(name, GW_DEFAULT_STAGE) == 0)
                return true;
        size_t n = strlen(name);
        if (n == 0 || n > GW_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* ---------------------------------------------------------------- the stored form */

static void w_str(json_writer *j, const char *key, const char *s)
{
        if (s)
                json_kv_str(j, key, s);
}

static void w_strv(json_writer *j, const char *key, char *const *v)
{
        if (!v)
                return;
        json_key(j, key);
        json_arr_begin(j);
        for (size_t i = 0; v[i]; i++)
                json_str(j, v[i]);
        json_arr_end(j);
}

static void w_throttle(json_writer *j, const char *key, const gw_throttle *t)
{
        json_key(j, key);
        json_obj_begin(j);
        if (t->rate >= 0) {
                json_key(j, "rate");
                json_fixed(j, t->rate, 6);
        }
        if (t->burst >= 0)
                json_kv_int(j, "burst", t->burst);
        json_obj_end(j);
}

static char *r_str(const json_value *v, const char *key)
{
        const char *s = json_get_str(v, key);
        return s ? xstrdup(s) : NULL;
}

static char **r_strv(const json_value *v, const char *key)
{
        const json_value *a = json_get(v, key);
        if (!a || a->type != JSON_ARRAY)
                return NULL;
        char **out = xcalloc(a->n + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; i < a->n; i++)
                if (a->items[i]->type == JSON_STRING)
                        out[n++] = xstrdup(a->items[i]->str);
        return out;
}

static bool r_bool(const json_value *v, const char *key)
{
        const json_value *b = json_get(v, key);
        return b && b->type == JSON_BOOL && b->boolean;
}

static int64_t r_int(const json_value *v, const char *key, int64_t def)
{
        const json_value *n = json_get(v, key);
        int64_t x;
        if (!n || n->type != JSON_NUMBER || parse_int64(n->str, &x) < 0)
                return def;
        return x;
}

static void r_throttle(const json_value *v, const char *key, gw_throttle *t)
{
        const json_value *o = json_get(v, key), *r = json_get(o, "rate");
        t->rate = -1;
        t->burst = -1;
        if (r && r->type == JSON_NUMBER) {
                char *end = NULL;
                double d = strtod(r->str, &end);
                if (end && !*end && isfinite(d) && d >= 0)
                        t->rate = d;
        }
        t->burst = r_int(o, "burst", -1);
}

static void r_id(const json_value *v, char *id, size_t len)
{
        const char *s = json_get_str(v, "id");
        snprintf(id, len, "%s", s ? s : "");
}

void gw_api_write(json_writer *j, const gw_api *a)
{
        json_obj_begin(j);
        json_kv_str(j, "id", a->id);
        w_str(j, "name", a->name);
        w_str(j, "description", a->description);
        w_str(j, "version", a->version);
        w_str(j, "protocol", a->protocol);
        w_str(j, "rse", a->route_selection_expression);
        w_str(j, "akse", a->api_key_selection_expression);
        if (a->cors) {
                json_key(j, "cors");
                json_obj_begin(j);
                w_strv(j, "origins", a->cors->allow_origins);
                w_strv(j, "methods", a->cors->allow_methods);
                w_strv(j, "headers", a->cors->allow_headers);
                w_strv(j, "expose", a->cors->expose_headers);
                json_kv_bool(j, "credentials", a->cors->allow_credentials);
                json_kv_int(j, "max_age", a->cors->max_age);
                json_obj_end(j);
        }
        json_kv_bool(j, "disable_endpoint", a->disable_execute_api_endpoint);
        w_strv(j, "tags", a->tags);
        json_kv_str(j, "created", a->created);
        json_obj_end(j);
}

int gw_api_read(const json_value *v, gw_api **ret)
{
        if (!v || v->type != JSON_OBJECT || !json_get_str(v, "id"))
                return -1;
        gw_api *a = xcalloc(1, sizeof(*a));
        r_id(v, a->id, sizeof(a->id));
        a->name = r_str(v, "name");
        a->description = r_str(v, "description");
        a->version = r_str(v, "version");
        a->protocol = r_str(v, "protocol");
        a->route_selection_expression = r_str(v, "rse");
        a->api_key_selection_expression = r_str(v, "akse");
        const json_value *c = json_get(v, "cors");
        if (c && c->type == JSON_OBJECT) {
                a->cors = xcalloc(1, sizeof(*a->cors));
                a->cors->allow_origins = r_strv(c, "origins");
                a->cors->allow_methods = r_strv(c, "methods");
                a->cors->allow_headers = r_strv(c, "headers");
                a->cors->expose_headers = r_strv(c, "expose");
                a->cors->allow_credentials = r_bool(c, "credentials");
                a->cors->max_age = (int)r_int(c, "max_age", -1);
        }
        a->disable_execute_api_endpoint = r_bool(v, "disable_endpoint");
        a->tags = r_strv(v, "tags");
        snprintf(a->created, sizeof(a->created), "%s", json_get_str(v, "created") ?: "");
        *ret = a;
        return 0;
}

void gw_route_write(json_writer *j, const gw_route *r)
{
        json_obj_begin(j);
        json_kv_str(j, "id", r->id);
        w_str(j, "key", r->route_key);
        w_str(j, "target", r->target);
        w_str(j, "auth", r->authorization_type);
        w_str(j, "op", r->operation_name);
        json_obj_end(j);
}

int gw_route_read(const json_value *v, gw_route **ret)
{
        if (!v || v->type != JSON_OBJECT || !json_get_str(v, "id") || !json_get_str(v, "key"))
                return -1;
        gw_route *r = xcalloc(1, sizeof(*r));
        r_id(v, r->id, sizeof(r->id));
        r->route_key = r_str(v, "key");
        r->target = r_str(v, "target");
        r->authorization_type = r_str(v, "auth");
        r->operation_name = r_str(v, "op");
        r->managed = r_bool(v, "managed");
        *ret = r;
        return 0;
}

void gw_integration_write(json_writer *j, const gw_integration *i)
{
        json_obj_begin(j);
        json_kv_str(j, "id", i->id);
        json_kv_str(j, "type", i->type == GW_INT_HTTP_PROXY ? "HTTP_PROXY" : "AWS_PROXY");
        w_str(j, "uri", i->uri);
        w_str(j, "method", i->method);
        w_str(j, "pfv", i->payload_format_version);
        json_kv_uint(j, "timeout_ms", i->timeout_ms);
        w_str(j, "description", i->description);
        w_str(j, "connection", i->connection_type);
        json_obj_end(j);
}

int gw_integration_read(const json_value *v, gw_integration **ret)
{
        const char *t = json_get_str(v, "type");
        if (!v || v->type != JSON_OBJECT || !json_get_str(v, "id") || !t)
                return -1;
        gw_integration *i = xcalloc(1, sizeof(*i));
        r_id(v, i->id, sizeof(i->id));
        i->type = strcmp(t, "HTTP_PROXY") == 0 ? GW_INT_HTTP_PROXY : GW_INT_AWS_PROXY;
        i->uri = r_str(v, "uri");
        i->method = r_str(v, "method");
        i->payload_format_version = r_str(v, "pfv");
        int64_t to = r_int(v, "timeout_ms", GW_TIMEOUT_DEFAULT_MS);
        i->timeout_ms = to < GW_TIMEOUT_MIN_MS || to > GW_TIMEOUT_MAX_MS ? GW_TIMEOUT_DEFAULT_MS
                                                                          : (unsigned)to;
        i->description = r_str(v, "description");
        i->connection_type = r_str(v, "connection");
        i->managed = r_bool(v, "managed");
        *ret = i;
        return 0;
}

void gw_stage_write(json_writer *j, const gw_stage *s)
{
        json_obj_begin(j);
        w_str(j, "name", s->name);
        w_str(j, "description", s->description);
        json_kv_bool(j, "auto_deploy", s->auto_deploy);
        w_str(j, "deployment", s->deployment_id);
        w_throttle(j, "default", &s->default_throttle);
        json_key(j, "routes");
        json_arr_begin(j);
        for (size_t i = 0; i < s->n_route_settings; i++) {
                const gw_route_setting *rs = &s->route_settings[i];
                json_obj_begin(j);
                w_str(j, "key", rs->route_key);
                w_throttle(j, "throttle", &rs->throttle);
                json_kv_bool(j, "detailed", rs->detailed_metrics);
                json_obj_end(j);
        }
        json_arr_end(j);
        w_str(j, "log_dest", s->access_log_destination);
        w_str(j, "log_format", s->access_log_format);
        w_strv(j, "variables", s->variables);
        w_strv(j, "tags", s->tags);
        json_kv_str(j, "created", s->created);
        json_kv_str(j, "updated", s->updated);
        json_obj_end(j);
}

int gw_stage_read(const json_value *v, gw_stage **ret)
{
        if (!v || v->type != JSON_OBJECT || !json_get_str(v, "name"))
                return -1;
        gw_stage *s = xcalloc(1, sizeof(*s));
        s->name = r_str(v, "name");
        s->description = r_str(v, "description");
        s->auto_deploy = r_bool(v, "auto_deploy");
        s->deployment_id = r_str(v, "deployment");
        r_throttle(v, "default", &s->default_throttle);
        const json_value *rs = json_get(v, "routes");
        if (rs && rs->type == JSON_ARRAY && rs->n) {
                s->route_settings = xcalloc(rs->n, sizeof(*s->route_settings));
                for (size_t i = 0; i < rs->n; i++) {
                        const char *k = json_get_str(rs->items[i], "key");
                        if (!k)
                                continue;
                        gw_route_setting *o = &s->route_settings[s->n_route_settings++];
                        o->route_key = xstrdup(k);
                        r_throttle(rs->items[i], "throttle", &o->throttle);
                        o->detailed_metrics = r_bool(rs->items[i], "detailed");
                }
        }
        s->access_log_destination = r_str(v, "log_dest");
        s->access_log_format = r_str(v, "log_format");
        s->variables = r_strv(v, "variables");
        s->tags = r_strv(v, "tags");
        snprintf(s->created, sizeof(s->created), "%s", json_get_str(v, "created") ?: "");
        snprintf(s->updated, sizeof(s->updated), "%s", json_get_str(v, "updated") ?: "");
        s->managed = r_bool(v, "managed");
        *ret = s;
        return 0;
}

void gw_deployment_write(json_writer *j, const gw_deployment *d)
{
        json_obj_begin(j);
        json_kv_str(j, "id", d->id);
        w_str(j, "description", d->description);
        w_str(j, "status", d->status);
        json_kv_bool(j, "auto", d->auto_deployed);
        json_kv_str(j, "created", d->created);
        json_obj_end(j);
}

int gw_deployment_read(const json_value *v, gw_deployment **ret)
{
        if (!v || v->type != JSON_OBJECT || !json_get_str(v, "id"))
                return -1;
        gw_deployment *d = xcalloc(1, sizeof(*d));
        r_id(v, d->id, sizeof(d->id));
        d->description = r_str(v, "description");
        d->status = r_str(v, "status");
        d->auto_deployed = r_bool(v, "auto");
        snprintf(d->created, sizeof(d->created), "%s", json_get_str(v, "created") ?: "");
        *ret = d;
        return 0;
}
