/* SPDX-License-Identifier: Apache-2.0 */
/* JSON writer and a small bounded reader (see json.h). */
#include "util/json.h"
#include "util/util.h"

#include <inttypes.h>
#include <string.h>

/* ---------------- writer ---------------- */

typedef struct strbuf {
        char *p;
        size_t len, cap;
} strbuf;

static void sb_grow(strbuf *b, size_t more)
{
        if (b->len + more + 1 <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + more + 1)
                cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
}

static void sb_add(strbuf *b, const char *s, size_t n)
{
        sb_grow(b, n);
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *s)
{
        sb_add(b, s, strlen(s));
}

static void sb_putc(strbuf *b, char c)
{
        sb_add(b, &c, 1);
}

static void sb_quote(strbuf *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        sb_putc(b, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        sb_puts(b, "\\\"");
                        break;
                case '\\':
                        sb_puts(b, "\\\\");
                        break;
                case '\n':
                        sb_puts(b, "\\n");
                        break;
                case '\r':
                        sb_puts(b, "\\r");
                        break;
                case '\t':
                        sb_puts(b, "\\t");
                        break;
                case '\b':
                        sb_puts(b, "\\b");
                        break;
                case '\f':
                        sb_puts(b, "\\f");
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f) {
                                char u[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0 };
                                sb_puts(b, u);
                        } else {
                                sb_putc(b, (char)*p);
                        }
                }
        }
        sb_putc(b, '"');
}

#define JSON_WRITER_DEPTH 64

struct json_writer {
        strbuf b;
        bool pretty;
        int depth;
        bool after_key;                 /* a key was written: the value follows on the same line */
        bool has_items[JSON_WRITER_DEPTH]; /* per level: at least one item written */
};

json_writer *json_writer_new(bool pretty)
{
        json_writer *w = xcalloc(1, sizeof(*w));
        w->pretty = pretty;
        sb_grow(&w->b, 0);
        w->b.p[0] = '\0';
        return w;
}

static void newline_indent(json_writer *w)
{
        if (!w->pretty)
                return;
        sb_putc(&w->b, '\n');
        for (int i = 0; i < w->depth; i++)
                sb_puts(&w->b, "  ");
}

/* Separator and indentation before a value or a key. */
static void before_item(json_writer *w)
{
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth > 0) {
                if (w->has_items[w->depth - 1])
                        sb_putc(&w->b, ',');
                w->has_items[w->depth - 1] = true;
                newline_indent(w);
        }
}

static void open_level(json_writer *w, char c)
{
        before_item(w);
        sb_putc(&w->b, c);
        if (w->depth < JSON_WRITER_DEPTH) {
                w->has_items[w->depth] = false;
                w->depth++;
        }
}

static void close_level(json_writer *w, char c)
{
        if (w->depth > 0) {
                w->depth--;
                if (w->has_items[w->depth])
                        newline_indent(w);
        }
        sb_putc(&w->b, c);
}

void json_obj_begin(json_writer *w)
{
        open_level(w, '{');
}

void json_obj_end(json_writer *w)
{
        close_level(w, '}');
}

void json_arr_begin(json_writer *w)
{
        open_level(w, '[');
}

void json_arr_end(json_writer *w)
{
        close_level(w, ']');
}

void json_key(json_writer *w, const char *key)
{
        before_item(w);
        sb_quote(&w->b, key);
        sb_puts(&w->b, w->pretty ? ": " : ":");
        w->after_key = true;
}

void json_str(json_writer *w, const char *s)
{
        before_item(w);
        if (s)
                sb_quote(&w->b, s);
        else
                sb_puts(&w->b, "null");
}

void json_int(json_writer *w, int64_t v)
{
        char buf[32];
        before_item(w);
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        sb_puts(&w->b, buf);
}

void json_uint(json_writer *w, uint64_t v)
{
        char buf[32];
        before_item(w);
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        sb_puts(&w->b, buf);
}

void json_fixed(json_writer *w, double v, int decimals)
{
        char buf[64];
        before_item(w);
        snprintf(buf, sizeof(buf), "%.*f", decimals, v);
        sb_puts(&w->b, buf);
}

void json_bool(json_writer *w, bool v)
{
        before_item(w);
        sb_puts(&w->b, v ? "true" : "false");
}

void json_null(json_writer *w)
{
        before_item(w);
        sb_puts(&w->b, "null");
}

void json_kv_str(json_writer *w, const char *key, const char *s)
{
        json_key(w, key);
        json_str(w, s);
}

void json_kv_int(json_writer *w, const char *key, int64_t v)
{
        json_key(w, key);
        json_int(w, v);
}

void json_kv_uint(json_writer *w, const char *key, uint64_t v)
{
        json_key(w, key);
        json_uint(w, v);
}

void json_kv_bool(json_writer *w, const char *key, bool v)
{
        json_key(w, key);
        json_bool(w, v);
}

char *json_writer_finish(json_writer *w)
{
        char *s = TAKE_PTR(w->b.p);
        free(w);
        return s;
}

void json_writer_free(json_writer *w)
{
        if (!w)
                return;
        free(w->b.p);
        free(w);
}

char *json_quote(const char *s)
{
        strbuf b = { 0 };
        sb_quote(&b, s);
        return b.p;
}

/* ---------------- reader ---------------- */

typedef struct reader {
        const char *s;
        size_t len, pos;
        char *errbuf;
        size_t errlen;
} reader;

static int rd_fail(reader *r, const char *what)
{
        if (r->errbuf && r->errlen)
                snprintf(r->errbuf, r->errlen, "%s at offset %zu", what, r->pos);
        return -EINVAL;
}

static void rd_ws(reader *r)
{
        while (r->pos < r->len && strchr(" \t\r\n", r->s[r->pos]) && r->s[r->pos])
                r->pos++;
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

static int rd_hex4(reader *r, unsigned *ret)
{
        if (r->len - r->pos < 4)
                return rd_fail(r, "truncated \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                int h = hexval(r->s[r->pos++]);
                if (h < 0)
                        return rd_fail(r, "bad \\u escape");
                v = v * 16 + (unsigned)h;
        }
        *ret = v;
        return 0;
}

static void put_utf8(strbuf *b, unsigned cp)
{
        char u[4];
        size_t n;
        if (cp < 0x80) {
                u[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                u[0] = (char)(0xe0 | (cp >> 12));
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (char)(0x80 | (cp & 0x3f));
                n = 3;
        } else {
                u[0] = (char)(0xf0 | (cp >> 18));
                u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[3] = (char)(0x80 | (cp & 0x3f));
                n = 4;
        }
        sb_add(b, u, n);
}

static int rd_escape(reader *r, strbuf *b)
{
        if (r->pos >= r->len)
                return rd_fail(r, "truncated escape");
        char c = r->s[r->pos++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *p = c ? strchr(from, c) : NULL;
        if (p) {
                sb_putc(b, to[p - from]);
                return 0;
        }
        if (c != 'u')
                return rd_fail(r, "bad escape");
        unsigned cp, lo;
        if (rd_hex4(r, &cp) < 0)
                return -EINVAL;
        if (cp >= 0xd800 && cp < 0xdc00) {
                if (r->len - r->pos < 2 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
                        return rd_fail(r, "lone surrogate");
                r->pos += 2;
                if (rd_hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                        return rd_fail(r, "bad surrogate pair");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
                return rd_fail(r, "lone surrogate");
        }
        if (cp == 0)
                return rd_fail(r, "NUL character in string");
        put_utf8(b, cp);
        return 0;
}

static int rd_string(reader *r, char **ret)
{
        strbuf b = { 0 };
        sb_grow(&b, 0);
        b.p[0] = '\0';
        r->pos++; /* opening quote */
        for (;;) {
                if (r->pos >= r->len) {
                        free(b.p);
                        return rd_fail(r, "unterminated string");
                }
                char c = r->s[r->pos];
                if (c == '"') {
                        r->pos++;
                        break;
                }
                if ((unsigned char)c < 0x20) {
                        free(b.p);
                        return rd_fail(r, "control character in string");
                }
                if (c == '\\') {
                        r->pos++;
                        if (rd_escape(r, &b) < 0) {
                                free(b.p);
                                return -EINVAL;
                        }
                        continue;
                }
                sb_putc(&b, c);
                r->pos++;
        }
        *ret = b.p;
        return 0;
}

static int rd_number(reader *r, char **ret)
{
        size_t start = r->pos;
        if (r->pos < r->len && r->s[r->pos] == '-')
                r->pos++;
        size_t digits = r->pos;
        while (r->pos < r->len && strchr("0123456789.eE+-", r->s[r->pos]) && r->s[r->pos])
                r->pos++;
        if (r->pos == digits || r->s[digits] < '0' || r->s[digits] > '9')
                return rd_fail(r, "bad number");
        *ret = xstrndup(r->s + start, r->pos - start);
        return 0;
}

static int rd_value(reader *r, int depth, json_value **ret);

static void push_item(json_value *v, char *key, json_value *item)
{
        v->items = xrealloc(v->items, (v->n + 1) * sizeof(*v->items));
        if (v->type == JSON_OBJECT) {
                v->keys = xrealloc(v->keys, (v->n + 1) * sizeof(*v->keys));
                v->keys[v->n] = key;
        }
        v->items[v->n++] = item;
}

static int rd_container(reader *r, int depth, json_value *v)
{
        bool obj = v->type == JSON_OBJECT;
        char close = obj ? '}' : ']';
        r->pos++;
        rd_ws(r);
        if (r->pos < r->len && r->s[r->pos] == close) {
                r->pos++;
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *key = NULL;
                rd_ws(r);
                if (obj) {
                        if (r->pos >= r->len || r->s[r->pos] != '"')
                                return rd_fail(r, "expected a key");
                        if (rd_string(r, &key) < 0)
                                return -EINVAL;
                        rd_ws(r);
                        if (r->pos >= r->len || r->s[r->pos] != ':')
                                return rd_fail(r, "expected ':'");
                        r->pos++;
                }
                json_value *item = NULL;
                if (rd_value(r, depth + 1, &item) < 0)
                        return -EINVAL;
                push_item(v, TAKE_PTR(key), item);
                rd_ws(r);
                if (r->pos >= r->len)
                        return rd_fail(r, "unterminated container");
                char c = r->s[r->pos++];
                if (c == close)
                        return 0;
                if (c != ',')
                        return rd_fail(r, "expected ',' or end of container");
        }
}

static bool rd_word(reader *r, const char *w)
{
        size_t n = strlen(w);
        if (r->len - r->pos >= n && memcmp(r->s + r->pos, w, n) == 0) {
                r->pos += n;
                return true;
        }
        return false;
}

static int rd_value(reader *r, int depth, json_value **ret)
{
        if (depth > JSON_MAX_DEPTH)
                return rd_fail(r, "nesting too deep");
        rd_ws(r);
        if (r->pos >= r->len)
                return rd_fail(r, "unexpected end");
        json_value *v = xcalloc(1, sizeof(*v));
        int rc = 0;
        char c = r->s[r->pos];
        if (c == '{' || c == '[') {
                v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
                rc = rd_container(r, depth, v);
        } else if (c == '"') {
                v->type = JSON_STRING;
                rc = rd_string(r, &v->str);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
                v->type = JSON_NUMBER;
                rc = rd_number(r, &v->str);
        } else if (rd_word(r, "true")) {
                v->type = JSON_BOOL;
                v->boolean = true;
        } else if (rd_word(r, "false")) {
                v->type = JSON_BOOL;
        } else if (rd_word(r, "null")) {
                v->type = JSON_NULL;
        } else {
                rc = rd_fail(r, "unexpected character");
        }
        if (rc < 0) {
                json_value_free(v);
                return rc;
        }
        *ret = v;
        return 0;
}

int json_parse(const char *text, size_t len, json_value **ret, char *errbuf, size_t errlen)
{
        reader r = { .s = text, .len = len, .errbuf = errbuf, .errlen = errlen };
        json_value *v = NULL;
        if (rd_value(&r, 0, &v) < 0)
                return -EINVAL;
        rd_ws(&r);
        if (r.pos != r.len) {
                json_value_free(v);
                return rd_fail(&r, "trailing data");
        }
        *ret = v;
        return 0;
}

void json_value_free(json_value *v)
{
        if (!v)
                return;
        for (size_t i = 0; i < v->n; i++) {
                json_value_free(v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->str);
        free(v);
}

const json_value *json_get(const json_value *v, const char *key)
{
        if (!v || v->type != JSON_OBJECT)
                return NULL;
        /* The last duplicate wins, like most decoders. */
        for (size_t i = v->n; i > 0; i--)
                if (strcmp(v->keys[i - 1], key) == 0)
                        return v->items[i - 1];
        return NULL;
}

const char *json_get_str(const json_value *v, const char *key)
{
        const json_value *m = json_get(v, key);
        return m && m->type == JSON_STRING ? m->str : NULL;
}
