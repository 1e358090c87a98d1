/* SPDX-License-Identifier: Apache-2.0 */
/* Typed getters over a yajl tree. Every error names the file and the JSON path of the value. */
#include "config/internal.h"

#include <inttypes.h>
#include <string.h>
#include <yajl/yajl_parse.h>

int jerr(jctx *c, const char *path, const char *fmt, ...)
{
        char msg[HUSK_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return husk_error_set(c->err, EINVAL, "%s: %s: %s", c->fname, path[0] ? path : ".", msg);
}

void jwarn(jctx *c, const char *path, const char *fmt, ...)
{
        char msg[HUSK_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        c->warnings = xrealloc(c->warnings, (c->n_warnings + 2) * sizeof(char *));
        c->warnings[c->n_warnings++] = xasprintf("%s: %s: %s", c->fname, path[0] ? path : ".", msg);
        c->warnings[c->n_warnings] = NULL;
}

void jpath_key(char *buf, const char *parent, const char *key)
{
        /* A path is only for messages: truncating a pathological one is fine. */
        if (snprintf(buf, JPATH_MAX, "%s.%s", parent, key) >= JPATH_MAX)
                buf[JPATH_MAX - 1] = '\0';
}

void jpath_idx(char *buf, const char *parent, size_t i)
{
        /* A path is only for messages: truncating a pathological one is fine. */
        if (snprintf(buf, JPATH_MAX, "%s[%zu]", parent, i) >= JPATH_MAX)
                buf[JPATH_MAX - 1] = '\0';
}

void jpath_qkey(char *buf, const char *parent, const char *key)
{
        /* A path is only for messages: truncating a pathological one is fine. */
        if (snprintf(buf, JPATH_MAX, "%s[\"%s\"]", parent, key) >= JPATH_MAX)
                buf[JPATH_MAX - 1] = '\0';
}

const char *jtype(yajl_val v)
{
        if (!v)
                return "nothing";
        switch (v->type) {
        case yajl_t_string:
                return "a string";
        case yajl_t_number:
                return "a number";
        case yajl_t_object:
                return "an object";
        case yajl_t_array:
                return "an array";
        case yajl_t_true:
        case yajl_t_false:
                return "a boolean";
        case yajl_t_null:
                return "null";
        default:
                return "an unknown value";
        }
}

yajl_val jfield(yajl_val obj, const char *key)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        /* JSON allows repeated keys; like Go's encoding/json, the last one wins. */
        for (size_t i = obj->u.object.len; i > 0; i--)
                if (strcmp(obj->u.object.keys[i - 1], key) == 0) {
                        yajl_val v = obj->u.object.values[i - 1];
                        return YAJL_IS_NULL(v) ? NULL : v;
                }
        return NULL;
}

bool jobject_empty(yajl_val v)
{
        return !v || YAJL_IS_NULL(v) || (YAJL_IS_OBJECT(v) && v->u.object.len == 0);
}

static int missing(jctx *c, const char *path)
{
        return jerr(c, path, "required, but missing");
}

/* The getters' lookup: obj.key (see jfield), its path into p (JPATH_MAX bytes). */
static yajl_val field(yajl_val obj, const char *parent, const char *key, char *p)
{
        jpath_key(p, parent, key);
        return jfield(obj, key);
}

/* Every value of an array (keys NULL) or of an object (its keys) is a string; else the error names
 * the first that is not. */
static int all_strings(jctx *c, const char *p, yajl_val *values, const char **keys, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (!YAJL_IS_STRING(values[i])) {
                        char pe[JPATH_MAX];
                        if (keys)
                                jpath_qkey(pe, p, keys[i]);
                        else
                                jpath_idx(pe, p, i);
                        return jerr(c, pe, "expected a string, got %s", jtype(values[i]));
                }
        return 0;
}

/* obj.key when it is of type t ("expected WHAT, got ..." when not). */
static int get_typed(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                     yajl_type t, const char *what, yajl_val *ret)
{
        char p[JPATH_MAX];
        yajl_val v = field(obj, parent, key, p);
        if (!v)
                return required ? missing(c, p) : 0;
        if (v->type != t)
                return jerr(c, p, "expected %s, got %s", what, jtype(v));
        *ret = v;
        return 0;
}

int jget_object(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                yajl_val *ret)
{
        return get_typed(c, obj, parent, key, required, yajl_t_object, "an object", ret);
}

int jget_section(jctx *c, yajl_val obj, const char *parent, const char *key, yajl_val *ret,
                 char *ret_path)
{
        jpath_key(ret_path, parent, key);
        return jget_object(c, obj, parent, key, false, ret);
}

int jget_array(jctx *c, yajl_val obj, const char *parent, const char *key, yajl_val *ret)
{
        return get_typed(c, obj, parent, key, false, yajl_t_array, "an array", ret);
}

int jget_objects(jctx *c, yajl_val obj, const char *parent, const char *key, yajl_val *ret,
                 char *ret_path)
{
        jpath_key(ret_path, parent, key);
        int r = jget_array(c, obj, parent, key, ret);
        if (r < 0 || !*ret)
                return r;
        for (size_t i = 0; i < (*ret)->u.array.len; i++) {
                yajl_val e = (*ret)->u.array.values[i];
                if (!YAJL_IS_OBJECT(e)) {
                        char ep[JPATH_MAX];
                        jpath_idx(ep, ret_path, i);
                        return jerr(c, ep, "expected an object, got %s", jtype(e));
                }
        }
        return 0;
}

int jparse_array(jctx *c, yajl_val obj, const char *parent, const char *key, bool check_first,
                 size_t size, jelem_fn fn, void *data, void *ret, size_t *ret_n)
{
        char path[JPATH_MAX], ep[JPATH_MAX];
        yajl_val a = NULL;
        int r = check_first ? jget_objects(c, obj, parent, key, &a, path)
                            : jget_array(c, obj, parent, key, &a);
        if (r < 0 || !a)
                return r;
        jpath_key(path, parent, key);
        size_t n = a->u.array.len;
        void *arr = xcalloc(n ? n : 1, size);
        /* ret points at a pointer of the element's type: every object pointer is stored alike. */
        memcpy(ret, &arr, sizeof(arr));
        *ret_n = n;
        for (size_t i = 0; i < n; i++) {
                yajl_val e = a->u.array.values[i];
                jpath_idx(ep, path, i);
                if (!YAJL_IS_OBJECT(e))
                        return jerr(c, ep, "expected an object, got %s", jtype(e));
                if ((r = fn(c, e, ep, (char *)arr + i * size, data)) < 0)
                        return r;
        }
        return 0;
}

int jget_string(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                char **ret)
{
        yajl_val v = NULL;
        int r = get_typed(c, obj, parent, key, required, yajl_t_string, "a string", &v);
        if (r < 0 || !v)
                return r;
        free(*ret);
        *ret = xstrdup(v->u.string);
        return 0;
}

void jdrop_empty(char **s)
{
        if (*s && !(*s)[0]) {
                free(*s);
                *s = NULL;
        }
}

int jget_bool(jctx *c, yajl_val obj, const char *parent, const char *key, bool *has, bool *ret)
{
        char p[JPATH_MAX];
        yajl_val v = field(obj, parent, key, p);
        if (!v)
                return 0;
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
                return jerr(c, p, "expected a boolean, got %s", jtype(v));
        if (has)
                *has = true;
        *ret = YAJL_IS_TRUE(v);
        return 0;
}

/* yajl's own integer conversion stops at INT64_MAX; read the number's text instead so that
 * 18446744073709551615 (RLIM_INFINITY) and friends keep their value. */
int jval_int64(jctx *c, yajl_val v, const char *path, int64_t min, int64_t max, int64_t *ret)
{
        if (!YAJL_IS_NUMBER(v))
                return jerr(c, path, "expected an integer, got %s", jtype(v));
        const char *s = v->u.number.r;
        int64_t x = 0;
        int r = parse_int64(s, &x);
        if (r == -ERANGE || (r == 0 && (x < min || x > max)))
                return jerr(c, path, "%s is out of range (%" PRId64 "..%" PRId64 ")", s, min, max);
        if (r < 0)
                return jerr(c, path, "expected an integer, got %s", s);
        *ret = x;
        return 0;
}

int jval_uint64(jctx *c, yajl_val v, const char *path, uint64_t max, uint64_t *ret)
{
        if (!YAJL_IS_NUMBER(v))
                return jerr(c, path, "expected an integer, got %s", jtype(v));
        const char *s = v->u.number.r;
        uint64_t x = 0;
        int r = s[0] == '-' ? -ERANGE : parse_uint64(s, &x);
        if (r == -ERANGE || (r == 0 && x > max)) {
                /* "-0.5" is not an integer at all: say so rather than "out of range". */
                int64_t dummy;
                if (s[0] == '-' && parse_int64(s, &dummy) == -EINVAL)
                        return jerr(c, path, "expected an integer, got %s", s);
                return jerr(c, path, "%s is out of range (0..%" PRIu64 ")", s, max);
        }
        if (r < 0)
                return jerr(c, path, "expected an integer, got %s", s);
        *ret = x;
        return 0;
}

int jget_int64(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
               int64_t min, int64_t max, bool *has, int64_t *ret)
{
        char p[JPATH_MAX];
        yajl_val v = field(obj, parent, key, p);
        if (!v)
                return required ? missing(c, p) : 0;
        int r = jval_int64(c, v, p, min, max, ret);
        if (r == 0 && has)
                *has = true;
        return r;
}

int jget_uint64(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                uint64_t max, bool *has, uint64_t *ret)
{
        char p[JPATH_MAX];
        yajl_val v = field(obj, parent, key, p);
        if (!v)
                return required ? missing(c, p) : 0;
        int r = jval_uint64(c, v, p, max, ret);
        if (r == 0 && has)
                *has = true;
        return r;
}

int jget_uint32(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                bool *has, uint32_t *ret)
{
        uint64_t x = 0;
        bool h = false;
        int r = jget_uint64(c, obj, parent, key, required, UINT32_MAX, &h, &x);
        if (r < 0)
                return r;
        if (h) {
                *ret = (uint32_t)x;
                if (has)
                        *has = true;
        }
        return 0;
}

int jget_strv(jctx *c, yajl_val obj, const char *parent, const char *key, char ***ret, size_t *n)
{
        char p[JPATH_MAX];
        yajl_val v = field(obj, parent, key, p);
        if (!v)
                return 0;
        if (!YAJL_IS_ARRAY(v))
                return jerr(c, p, "expected an array of strings, got %s", jtype(v));
        size_t len = v->u.array.len;
        int r = all_strings(c, p, v->u.array.values, NULL, len);
        if (r < 0)
                return r;
        char **out = xcalloc(len + 1, sizeof(char *));
        for (size_t i = 0; i < len; i++)
                out[i] = xstrdup(v->u.array.values[i]->u.string);
        strv_free(*ret);
        *ret = out;
        *n = len;
        return 0;
}

void config_kv_free(config_kv *kv, size_t n)
{
        for (size_t i = 0; kv && i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

int jget_kv(jctx *c, yajl_val obj, const char *parent, const char *key, config_kv **ret, size_t *n)
{
        char p[JPATH_MAX];
        yajl_val v = field(obj, parent, key, p);
        if (!v)
                return 0;
        if (!YAJL_IS_OBJECT(v))
                return jerr(c, p, "expected an object of strings, got %s", jtype(v));
        size_t len = v->u.object.len;
        int r = all_strings(c, p, v->u.object.values, v->u.object.keys, len);
        if (r < 0)
                return r;
        config_kv *out = xcalloc(len ? len : 1, sizeof(*out));
        for (size_t i = 0; i < len; i++) {
                out[i].key = xstrdup(v->u.object.keys[i]);
                out[i].value = xstrdup(v->u.object.values[i]->u.string);
        }
        config_kv_free(*ret, *n);
        *ret = out;
        *n = len;
        return 0;
}

/* Where and why text is not JSON: yajl_tree does not say where, so run the event parser again (only
 * on failure) and turn the byte offset into a line and column. */
static int json_syntax_error(jctx *c, const char *text, size_t len)
{
        char msg[256] = "parse error";
        size_t off = len;
        yajl_handle h = yajl_alloc(NULL, NULL, NULL);
        if (h) {
                yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
                if (st == yajl_status_ok)
                        st = yajl_complete_parse(h);
                else {
                        /* The count includes the offending character: point at it. */
                        off = yajl_get_bytes_consumed(h);
                        if (off > 0)
                                off--;
                }
                if (st != yajl_status_ok) {
                        unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)text, len);
                        if (e) {
                                snprintf(msg, sizeof(msg), "%s", (const char *)e);
                                yajl_free_error(h, e);
                        }
                }
                yajl_free(h);
        }
        /* yajl's message ends with a newline. */
        for (size_t l = strlen(msg); l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == ' '); l--)
                msg[l - 1] = '\0';
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
                if (text[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        return husk_error_set(c->err, EINVAL, "%s: invalid JSON at line %zu, column %zu: %s",
                              c->fname, line, col, msg);
}

int jparse(jctx *c, const char *json, size_t len, yajl_val *ret)
{
        if (len > CONFIG_MAX_SIZE)
                return husk_error_set(c->err, EFBIG, "%s: file too large (%zu bytes, limit %u)",
                                      c->fname, len, CONFIG_MAX_SIZE);
        /* yajl_tree_parse wants a NUL-terminated string and stops at an embedded NUL. */
        if (memchr(json, '\0', len))
                return husk_error_set(c->err, EINVAL, "%s: invalid JSON: contains a NUL byte",
                                      c->fname);
        _cleanup_free_ char *copy = xstrndup(json, len);
        yajl_val v = yajl_tree_parse(copy, NULL, 0);
        if (!v)
                return json_syntax_error(c, copy, len);
        *ret = v;
        return 0;
}

int jparse_doc(const char *json, size_t len, const char *fname, husk_error_t *err, jelem_fn fn,
               void *ret, char ***ret_warnings)
{
        jctx c = { .fname = fname, .err = err };
        yajl_val tree = NULL;
        int r = jparse(&c, json, len, &tree);
        if (r < 0)
                return r;
        r = fn(&c, tree, "", ret, NULL);
        yajl_tree_free(tree);
        if (r == 0 && ret_warnings)
                *ret_warnings = TAKE_PTR(c.warnings);
        strv_free(c.warnings);
        return r;
}
