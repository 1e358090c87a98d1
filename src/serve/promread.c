/* SPDX-License-Identifier: Apache-2.0 */
/* A strict reader of the Prometheus text exposition format 0.0.4 (prom.h says what it checks):
 * what `husk fn stats` and `husk queue stats` read a server's /metrics with, and what the tests
 * hold husk's writer to. */
#include "prom.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

typedef struct fam {
        char *name, *type;
        bool help, typed, closed, sampled;
} fam;

typedef struct reader {
        const char *p, *end;
        size_t line;
        char *why;
        size_t why_len;
        fam *fams;
        size_t n_fams;
        fam *cur;
        prom_doc doc;
        char **seen; /* open addressing: a key per sample (name and sorted labels) */
        size_t seen_cap, seen_n;
} reader;

static int bad(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(reader *r, const char *fmt, ...)
{
        if (r->why && r->why_len) {
                int n = snprintf(r->why, r->why_len, "line %zu: ", r->line);
                va_list ap;
                va_start(ap, fmt);
                if (n >= 0 && (size_t)n < r->why_len)
                        vsnprintf(r->why + n, r->why_len - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static bool nchar(char c, bool first, bool colon)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':'))
                return true;
        return !first && c >= '0' && c <= '9';
}

/* A metric (colon) or label name at s; its length, 0 when none. */
static size_t name_len(const char *s, const char *end, bool colon)
{
        size_t n = 0;
        while (s + n < end && nchar(s[n], n == 0, colon))
                n++;
        return n;
}

static bool blank(char c)
{
        return c == ' ' || c == '\t';
}

/* Go's strconv.ParseFloat as the format uses it: decimal or exponent forms, NaN, [+-]Inf. */
static bool parse_value(const char *s, size_t n, double *ret)
{
        _cleanup_free_ char *t = xstrndup(s, n);
        if (strcmp(t, "NaN") == 0) {
                *ret = NAN;
                return true;
        }
        const char *u = t + (*t == '+' || *t == '-');
        if (strcasecmp(u, "inf") == 0 || strcasecmp(u, "infinity") == 0) {
                *ret = *t == '-' ? -INFINITY : INFINITY;
                return true;
        }
        /* digits, at most one '.', an optional exponent: nothing strtod would take beyond Go
         * (hex floats, "nan(...)") */
        bool digit = false;
        for (const char *c = u; *c; c++) {
                if (*c >= '0' && *c <= '9')
                        digit = true;
                else if (*c != '.' && *c != 'e' && *c != 'E' && *c != '+' && *c != '-')
                        return false;
        }
        if (!digit)
                return false;
        char *e = NULL;
        errno = 0;
        *ret = strtod(t, &e);
        return e && *e == '\0' && errno != ERANGE;
}

static fam *fam_find(reader *r, const char *name, size_t n)
{
        for (size_t i = 0; i < r->n_fams; i++)
                if (strlen(r->fams[i].name) == n && strncmp(r->fams[i].name, name, n) == 0)
                        return &r->fams[i];
        return NULL;
}

/* The family named so, begun (closing the current one) when it is not the current one. */
static int fam_enter(reader *r, const char *name, size_t n, fam **ret)
{
        fam *f = fam_find(r, name, n);
        if (f && f == r->cur) {
                *ret = f;
                return 0;
        }
        if (f)
                return bad(r, "family %.*s appears again after other families began", (int)n, name);
        if (r->cur)
                r->cur->closed = true;
        r->fams = xrealloc(r->fams, (r->n_fams + 1) * sizeof(*r->fams));
        f = &r->fams[r->n_fams++];
        *f = (fam){ .name = xstrndup(name, n), .type = xstrdup("untyped") };
        r->cur = f;
        *ret = f;
        return 0;
}

static int comment(reader *r, const char *s, const char *end)
{
        s++; /* '#' */
        while (s < end && blank(*s))
                s++;
        bool help = (size_t)(end - s) >= 4 && strncmp(s, "HELP", 4) == 0;
        bool type = (size_t)(end - s) >= 4 && strncmp(s, "TYPE", 4) == 0;
        if ((!help && !type) || (s + 4 < end && !blank(s[4])))
                return 0; /* any other comment */
        s += 4;
        while (s < end && blank(*s))
                s++;
        size_t n = name_len(s, end, true);
        if (!n)
                return bad(r, "# %s without a metric name", help ? "HELP" : "TYPE");
        const char *name = s;
        s += n;
        if (s < end && !blank(*s))
                return bad(r, "# %s: not a metric name: %.*s", help ? "HELP" : "TYPE",
                           (int)(end - name), name);
        fam *f;
        int e = fam_enter(r, name, n, &f);
        if (e < 0)
                return e;
        while (s < end && blank(*s))
                s++;
        if (help) {
                if (f->help)
                        return bad(r, "a second # HELP for %s", f->name);
                f->help = true;
                for (; s < end; s++)
                        if (*s == '\\' && (s + 1 == end || (s[1] != '\\' && s[1] != 'n')))
                                return bad(r, "# HELP %s: an escape other than \\\\ or \\n", f->name);
                        else if (*s == '\\')
                                s++;
                return 0;
        }
        if (f->typed)
                return bad(r, "a second # TYPE for %s", f->name);
        if (f->sampled)
                return bad(r, "# TYPE %s after its samples", f->name);
        static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
        size_t tl = (size_t)(end - s);
        while (tl && blank(s[tl - 1]))
                tl--;
        for (size_t i = 0; i < ARRAY_SIZE(types); i++)
                if (strlen(types[i]) == tl && strncmp(types[i], s, tl) == 0) {
                        free(f->type);
                        f->type = xstrdup(types[i]);
                        f->typed = true;
                        return 0;
                }
        return bad(r, "# TYPE %s: unknown type '%.*s'", f->name, (int)tl, s);
}

/* {name="value",...} at *ps; labels appended to sm. */
static int labels(reader *r, const char **ps, const char *end, prom_sample *sm)
{
        const char *s = *ps + 1; /* '{' */
        for (;;) {
                while (s < end && blank(*s))
                        s++;
                if (s < end && *s == '}')
                        break;
                size_t n = name_len(s, end, false);
                if (!n)
                        return bad(r, "%s: a label name expected", sm->name);
                _cleanup_free_ char *ln = xstrndup(s, n);
                s += n;
                while (s < end && blank(*s))
                        s++;
                if (s >= end || *s != '=')
                        return bad(r, "%s: '=' expected after label %s", sm->name, ln);
                s++;
                while (s < end && blank(*s))
                        s++;
                if (s >= end || *s != '"')
                        return bad(r, "%s: label %s: a quoted value expected", sm->name, ln);
                s++;
                char *v = xmalloc((size_t)(end - s) + 1);
                size_t k = 0;
                for (; s < end && *s != '"'; s++) {
                        if (*s != '\\') {
                                v[k++] = *s;
                                continue;
                        }
                        if (++s == end || (*s != '\\' && *s != '"' && *s != 'n')) {
                                free(v);
                                return bad(r, "%s: label %s: an escape other than \\\\, \\\" or \\n",
                                           sm->name, ln);
                        }
                        v[k++] = *s == 'n' ? '\n' : *s;
                }
                v[k] = '\0';
                if (s >= end) {
                        free(v);
                        return bad(r, "%s: label %s: the value is not closed", sm->name, ln);
                }
                s++;
                for (size_t i = 0; i < sm->n_labels; i++)
                        if (strcmp(sm->labels[i].name, ln) == 0) {
                                free(v);
                                return bad(r, "%s: label %s twice", sm->name, ln);
                        }
                sm->labels = xrealloc(sm->labels, (sm->n_labels + 1) * sizeof(*sm->labels));
                sm->labels[sm->n_labels++] = (prom_label){ TAKE_PTR(ln), v };
                while (s < end && blank(*s))
                        s++;
                if (s < end && *s == ',') {
                        s++;
                        continue;
                }
                if (s < end && *s == '}')
                        break;
                return bad(r, "%s: ',' or '}' expected in the labels", sm->name);
        }
        *ps = s + 1;
        return 0;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
        size_t k = strlen(suf);
        return n > k && strncmp(s + n - k, suf, k) == 0;
}

/* The family a sample name belongs to: its own, or (NAME_sum, NAME_count, NAME_bucket) the
 * current summary's or histogram's. */
static size_t family_len(reader *r, const char *name, size_t n)
{
        static const char *const sufs[] = { "_sum", "_count", "_bucket" };
        if (r->cur && (strcmp(r->cur->type, "summary") == 0 || strcmp(r->cur->type, "histogram") == 0))
                for (size_t i = 0; i < ARRAY_SIZE(sufs); i++)
                        if (has_suffix(name, n, sufs[i]) && strlen(r->cur->name) == n - strlen(sufs[i]) &&
                            strncmp(r->cur->name, name, n - strlen(sufs[i])) == 0)
                                return n - strlen(sufs[i]);
        return n;
}

static int cmp_label(const void *a, const void *b)
{
        return strcmp(((const prom_label *)a)->name, ((const prom_label *)b)->name);
}

/* The sample's identity: its name and its labels in name order, NUL-free text. */
static char *sample_key(const prom_sample *s)
{
        _cleanup_free_ prom_label *l = xmalloc((s->n_labels + 1) * sizeof(*l));
        if (s->n_labels) { /* labels is NULL when there are none */
                memcpy(l, s->labels, s->n_labels * sizeof(*l));
                qsort(l, s->n_labels, sizeof(*l), cmp_label);
        }
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort(); /* out of memory */
        fputs(s->name, f);
        for (size_t i = 0; i < s->n_labels; i++)
                fprintf(f, "\x01%s\x02%zu:%s", l[i].name, strlen(l[i].value), l[i].value);
        fclose(f);
        return buf;
}

static uint64_t key_hash(const char *k)
{
        uint64_t h = 1469598103934665603ull;
        for (; *k; k++)
                h = (h ^ (unsigned char)*k) * 1099511628211ull;
        return h;
}

/* false when key was there already; else keeps it (taken). */
static bool seen_add(reader *r, char *key)
{
        if (2 * (r->seen_n + 1) > r->seen_cap) {
                size_t cap = r->seen_cap ? 2 * r->seen_cap : 256;
                char **t = xcalloc(cap, sizeof(*t));
                for (size_t i = 0; i < r->seen_cap; i++)
                        if (r->seen[i]) {
                                size_t j = key_hash(r->seen[i]) & (cap - 1);
                                while (t[j])
                                        j = (j + 1) & (cap - 1);
                                t[j] = r->seen[i];
                        }
                free(r->seen);
                r->seen = t;
                r->seen_cap = cap;
        }
        size_t j = key_hash(key) & (r->seen_cap - 1);
        for (; r->seen[j]; j = (j + 1) & (r->seen_cap - 1))
                if (strcmp(r->seen[j], key) == 0) {
                        free(key);
                        return false;
                }
        r->seen[j] = key;
        r->seen_n++;
        return true;
}

/* What a sample of its family's type must look like. */
static int sample_rules(reader *r, const prom_sample *sm)
{
        const char *t = sm->type, *suf = sm->name + strlen(sm->family);
        const char *q = prom_label_get(sm, "quantile"), *le = prom_label_get(sm, "le");
        double d;
        if (strcmp(t, "summary") == 0) {
                if (!*suf && (!q || !parse_value(q, strlen(q), &d)))
                        return bad(r, "%s: a summary's sample needs a quantile label", sm->name);
                if (*suf && q)
                        return bad(r, "%s: a quantile label on %s", sm->name, suf);
                if (strcmp(suf, "_count") == 0 && !(sm->value >= 0))
                        return bad(r, "%s: a count below 0", sm->name);
        } else if (strcmp(t, "histogram") == 0) {
                if (!*suf)
                        return bad(r, "%s: a histogram has only _bucket, _sum and _count", sm->name);
                if (strcmp(suf, "_bucket") == 0 && (!le || !parse_value(le, strlen(le), &d)))
                        return bad(r, "%s: a bucket needs an le label", sm->name);
        } else if (q && strcmp(t, "untyped") != 0) {
                return bad(r, "%s: a quantile label on a %s", sm->name, t);
        }
        if (strcmp(t, "counter") == 0 && !(sm->value >= 0))
                return bad(r, "%s: a counter below 0 or NaN", sm->name);
        return 0;
}

static void sample_free(prom_sample *s)
{
        for (size_t i = 0; i < s->n_labels; i++) {
                free(s->labels[i].name);
                free(s->labels[i].value);
        }
        free(s->labels);
        free(s->name);
        free(s->family);
        free(s->type);
}

static int sample(reader *r, const char *s, const char *end)
{
        size_t n = name_len(s, end, true);
        if (!n)
                return bad(r, "a metric name expected: %.*s", (int)(end - s), s);
        prom_sample sm = { .name = xstrndup(s, n) };
        const char *name = s;
        s += n;
        fam *f;
        int e = fam_enter(r, name, family_len(r, name, n), &f);
        if (e < 0)
                goto out;
        sm.family = xstrdup(f->name);
        sm.type = xstrdup(f->type);
        if (s < end && *s == '{' && (e = labels(r, &s, end, &sm)) < 0)
                goto out;
        if (s >= end || !blank(*s)) {
                e = bad(r, "%s: a blank and a value expected", sm.name);
                goto out;
        }
        while (s < end && blank(*s))
                s++;
        const char *v = s;
        while (s < end && !blank(*s))
                s++;
        if (!parse_value(v, (size_t)(s - v), &sm.value)) {
                e = bad(r, "%s: not a number: %.*s", sm.name, (int)(s - v), v);
                goto out;
        }
        while (s < end && blank(*s))
                s++;
        if (s < end) { /* a timestamp: an integer of milliseconds */
                const char *t = s + (*s == '-');
                if (t == end) {
                        e = bad(r, "%s: not a timestamp", sm.name);
                        goto out;
                }
                for (; t < end && !blank(*t); t++)
                        if (*t < '0' || *t > '9') {
                                e = bad(r, "%s: not a timestamp: %.*s", sm.name, (int)(end - s), s);
                                goto out;
                        }
                while (t < end && blank(*t))
                        t++;
                if (t != end) {
                        e = bad(r, "%s: text after the timestamp", sm.name);
                        goto out;
                }
        }
        if ((e = sample_rules(r, &sm)) < 0)
                goto out;
        if (!seen_add(r, sample_key(&sm))) {
                e = bad(r, "%s: the same sample twice", sm.name);
                goto out;
        }
        f->sampled = true;
        r->doc.s = xrealloc(r->doc.s, (r->doc.n + 1) * sizeof(*r->doc.s));
        r->doc.s[r->doc.n++] = sm;
        return 0;
out:
        sample_free(&sm);
        return e;
}

int prom_parse(const char *text, size_t len, prom_doc *ret, char *why, size_t why_len)
{
        reader r = { .p = text, .end = text + len, .why = why, .why_len = why_len };
        int e = 0;
        if (len > PROM_TEXT_MAX) {
                r.line = 0;
                e = bad(&r, "more than %u bytes", PROM_TEXT_MAX);
        }
        while (e == 0 && r.p < r.end) {
                r.line++;
                const char *nl = memchr(r.p, '\n', (size_t)(r.end - r.p));
                if (!nl) {
                        e = bad(&r, "the last line does not end in a newline");
                        break;
                }
                if (memchr(r.p, '\0', (size_t)(nl - r.p))) {
                        e = bad(&r, "a NUL byte");
                        break;
                }
                const char *s = r.p;
                while (s < nl && blank(*s))
                        s++;
                if (s == nl)
                        e = 0; /* an empty line */
                else if (*s == '#')
                        e = comment(&r, s, nl);
                else
                        e = sample(&r, s, nl);
                r.p = nl + 1;
        }
        for (size_t i = 0; i < r.n_fams; i++) {
                free(r.fams[i].name);
                free(r.fams[i].type);
        }
        free(r.fams);
        for (size_t i = 0; i < r.seen_cap; i++)
                free(r.seen[i]);
        free(r.seen);
        if (e < 0) {
                prom_doc_free(&r.doc);
                return e;
        }
        *ret = r.doc;
        return 0;
}

void prom_doc_free(prom_doc *d)
{
        for (size_t i = 0; i < d->n; i++)
                sample_free(&d->s[i]);
        free(d->s);
        d->s = NULL;
        d->n = 0;
}

const char *prom_label_get(const prom_sample *s, const char *name)
{
        for (size_t i = 0; i < s->n_labels; i++)
                if (strcmp(s->labels[i].name, name) == 0)
                        return s->labels[i].value;
        return NULL;
}
