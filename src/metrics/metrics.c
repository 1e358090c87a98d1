/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics registry (metrics.h is the contract).
 *
 * One mutex guards a fixed hash of series keyed by (family, labels); a family is created on first
 * use and never freed (there are a few dozen), so its name and help stay valid for readers. A
 * summary keeps its count and sum since it was created (monotonic, as Prometheus' summaries)
 * and a ring of its newest HM_SUMMARY_WINDOW observations (grown on demand: a function invoked
 * a few times costs a few floats), over which p50, p99 and max are taken at read time (nearest
 * rank): the max follows what happens now, as p99 does, rather than one cold start long ago.
 *
 * Collectors run under a second mutex, outside the registry's: a collector may take its own
 * module's locks and call hm_set() freely, and hm_collector_remove() returns only once no run
 * of that collector is in progress. A collector must not add or remove collectors. */
#include "metrics.h"
#include "util/util.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#define BUCKETS 8192      /* a power of two; HM_SERIES_MAX / BUCKETS chains stay short */
#define RING_FIRST 16     /* a summary's first ring size; doubles up to HM_SUMMARY_WINDOW */
#define DROPPED_FAMILY "husk_metrics_dropped_series_total"

typedef struct hm_family {
        char *name;
        char *help;
        hm_type type; /* 0 until declared */
        struct hm_family *next;
} hm_family;

typedef struct series {
        struct series *next; /* in its bucket */
        uint64_t hash;
        hm_family *fam;
        char *labels;
        bool summary;
        double value; /* counter, gauge; summary: count */
        double sum;
        float *ring;
        uint32_t cap, len, pos; /* ring capacity, observations in it, next slot */
} series;

typedef struct collector {
        hm_collector_fn fn;
        void *ud;
        struct collector *next;
} collector;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static series *buckets[BUCKETS];
static hm_family *families;
static size_t n_series; /* not counting the dropped-series counter itself */
static series *dropped;

static pthread_mutex_t collect_mu = PTHREAD_MUTEX_INITIALIZER;
static collector *collectors;

/* ---- names and labels ---- */

static bool name_char(char c, bool first, bool colon)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':'))
                return true;
        return !first && c >= '0' && c <= '9';
}

static bool family_valid(const char *s)
{
        if (!s || !*s)
                return false;
        for (size_t i = 0; s[i]; i++)
                if (!name_char(s[i], i == 0, true))
                        return false;
        return true;
}

#define LABELS_MAX 16 /* label names in one set; more is refused */

/* A label set as hm_labels() builds it: name="value" pairs joined by ',', values escaped with
 * \\, \" and \n only, each name once; "" is the empty set. Checked once, when a series is
 * created. */
static bool labels_valid(const char *s)
{
        const char *names[LABELS_MAX];
        size_t lens[LABELS_MAX], n = 0;
        if (!*s)
                return true;
        for (;;) {
                if (!name_char(*s, true, false) || n == LABELS_MAX)
                        return false;
                names[n] = s;
                while (name_char(*s, false, false))
                        s++;
                lens[n] = (size_t)(s - names[n]);
                for (size_t i = 0; i < n; i++)
                        if (lens[i] == lens[n] && memcmp(names[i], names[n], lens[n]) == 0)
                                return false; /* a name twice */
                n++;
                if (*s++ != '=' || *s++ != '"')
                        return false;
                for (; *s != '"'; s++) {
                        if (!*s || *s == '\n')
                                return false;
                        if (*s == '\\' && *++s != '\\' && *s != '"' && *s != 'n')
                                return false;
                }
                s++;
                if (!*s)
                        return true;
                if (*s++ != ',')
                        return false;
        }
}

/* Writes v escaped at out (when not NULL); returns the length. */
static size_t escaped(char *out, const char *v)
{
        size_t n = 0;
        for (; v && *v; v++) {
                char e = *v == '\\' ? '\\' : *v == '"' ? '"' : *v == '\n' ? 'n' : 0;
                if (e && out) {
                        out[n] = '\\';
                        out[n + 1] = e;
                } else if (out) {
                        out[n] = *v;
                }
                n += e ? 2 : 1;
        }
        return n;
}

/* One pass of hm_labels: the length, and the text when out is not NULL. A key is the caller's
 * literal; anything a label name may not hold becomes '_' so that the text stays valid. */
static size_t labels_put(char *out, const char *k1, va_list ap)
{
        size_t n = 0;
        bool first = true;
        for (const char *k = k1; k; k = va_arg(ap, const char *), first = false) {
                const char *v = va_arg(ap, const char *);
                if (!first) {
                        if (out)
                                out[n] = ',';
                        n++;
                }
                size_t kl = *k ? strlen(k) : 1;
                for (size_t i = 0; out && i < kl; i++)
                        out[n + i] = *k && name_char(k[i], i == 0, false) ? k[i] : '_';
                n += kl;
                if (out)
                        memcpy(out + n, "=\"", 2);
                n += 2;
                n += escaped(out ? out + n : NULL, v);
                if (out)
                        out[n] = '"';
                n++;
        }
        return n;
}

char *hm_labels(const char *k1, ...)
{
        va_list ap;
        va_start(ap, k1);
        size_t n = labels_put(NULL, k1, ap);
        va_end(ap);
        char *buf = xmalloc(n + 1);
        va_start(ap, k1);
        labels_put(buf, k1, ap);
        va_end(ap);
        buf[n] = '\0';
        return buf;
}

/* ---- the table (under mu) ---- */

static uint64_t hash_of(const char *fam, const char *labels)
{
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (const char *p = fam; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* a byte no name holds separates the two */
        for (const char *p = labels; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ull;
        return h;
}

static hm_family *family_get(const char *name)
{
        hm_family **pp = &families;
        for (; *pp; pp = &(*pp)->next) {
                int c = strcmp((*pp)->name, name);
                if (c == 0)
                        return *pp;
                if (c > 0)
                        break;
        }
        hm_family *f = xcalloc(1, sizeof(*f));
        f->name = xstrdup(name);
        f->next = *pp;
        *pp = f; /* the list stays in name order */
        return f;
}

static series *series_new(hm_family *fam, const char *labels, uint64_t h)
{
        series *s = xcalloc(1, sizeof(*s));
        s->hash = h;
        s->fam = fam;
        s->labels = xstrdup(labels);
        s->next = buckets[h & (BUCKETS - 1)];
        buckets[h & (BUCKETS - 1)] = s;
        return s;
}

static void dropped_init(void)
{
        if (dropped)
                return;
        hm_family *f = family_get(DROPPED_FAMILY);
        f->type = HM_COUNTER;
        f->help = xstrdup("Series not recorded because the registry held its bound of series "
                          "(HM_SERIES_MAX), or whose name or labels were not valid");
        dropped = series_new(f, "", hash_of(DROPPED_FAMILY, ""));
}

/* The series, created when absent; NULL (and counted as dropped) past the bound or when the
 * name or labels are not valid. */
static series *lookup(const char *fam, const char *labels, bool summary)
{
        dropped_init();
        if (!fam)
                fam = "";
        if (!labels)
                labels = "";
        uint64_t h = hash_of(fam, labels);
        for (series *s = buckets[h & (BUCKETS - 1)]; s; s = s->next)
                if (s->hash == h && strcmp(s->fam->name, fam) == 0 && strcmp(s->labels, labels) == 0)
                        return s;
        /* A summary's own labels may not hold the quantile label its text adds. */
        bool bad = !family_valid(fam) || !labels_valid(labels) ||
                   (summary && (strncmp(labels, "quantile=", 9) == 0 || strstr(labels, ",quantile=")));
        if (n_series >= HM_SERIES_MAX || bad) {
                dropped->value += 1;
                return NULL;
        }
        n_series++;
        return series_new(family_get(fam), labels, h);
}

static void series_free(series *s)
{
        free(s->labels);
        free(s->ring);
        free(s);
}

void hm_declare(const char *name, hm_type type, const char *help)
{
        if (!family_valid(name))
                return;
        pthread_mutex_lock(&mu);
        dropped_init();
        hm_family *f = family_get(name);
        if (!f->type)
                f->type = type;
        /* The first help stays: readers may hold its pointer (hm_sample.help). */
        if (!f->help && help)
                f->help = xstrdup(help);
        pthread_mutex_unlock(&mu);
}

void hm_inc(const char *family, const char *labels, double delta)
{
        pthread_mutex_lock(&mu);
        series *s = lookup(family, labels, false);
        if (s && delta >= 0) /* a counter only goes up */
                s->value += delta;
        pthread_mutex_unlock(&mu);
}

void hm_set(const char *family, const char *labels, double value)
{
        pthread_mutex_lock(&mu);
        series *s = lookup(family, labels, false);
        if (s)
                s->value = value;
        pthread_mutex_unlock(&mu);
}

void hm_add(const char *family, const char *labels, double delta)
{
        pthread_mutex_lock(&mu);
        series *s = lookup(family, labels, false);
        if (s)
                s->value += delta;
        pthread_mutex_unlock(&mu);
}

void hm_observe(const char *family, const char *labels, double value)
{
        if (isnan(value))
                return;
        pthread_mutex_lock(&mu);
        series *s = lookup(family, labels, true);
        if (s) {
                if (s->len == s->cap && s->cap < HM_SUMMARY_WINDOW) {
                        uint32_t cap = s->cap ? s->cap * 2 : RING_FIRST;
                        if (cap > HM_SUMMARY_WINDOW)
                                cap = HM_SUMMARY_WINDOW;
                        s->ring = xrealloc(s->ring, cap * sizeof(*s->ring));
                        s->cap = cap;
                        s->pos = s->len; /* a ring grows only before it ever wrapped */
                }
                s->ring[s->pos] = (float)value;
                s->pos = (s->pos + 1) % s->cap;
                if (s->len < s->cap)
                        s->len++;
                s->summary = true;
                s->value += 1;
                s->sum += value;
        }
        pthread_mutex_unlock(&mu);
}

/* needle occurs in labels as whole pairs: at the start or after ',', and ending at a ',' or the
 * end (`function="a"` does not match `function="ab"` or `xfunction="a"`). */
static bool labels_match(const char *labels, const char *needle, size_t n)
{
        for (const char *p = labels; (p = strstr(p, needle)); p++)
                if ((p == labels || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
                        return true;
        return false;
}

void hm_forget(const char *needle)
{
        if (!needle || !*needle)
                return;
        size_t n = strlen(needle);
        pthread_mutex_lock(&mu);
        for (size_t b = 0; b < BUCKETS; b++)
                for (series **pp = &buckets[b]; *pp;) {
                        series *s = *pp;
                        if (s != dropped && labels_match(s->labels, needle, n)) {
                                *pp = s->next;
                                series_free(s);
                                n_series--;
                        } else {
                                pp = &s->next;
                        }
                }
        pthread_mutex_unlock(&mu);
}

/* ---- collectors ---- */

void hm_collector_add(hm_collector_fn fn, void *ud)
{
        collector *c = xcalloc(1, sizeof(*c));
        c->fn = fn;
        c->ud = ud;
        pthread_mutex_lock(&collect_mu);
        collector **pp = &collectors;
        while (*pp)
                pp = &(*pp)->next;
        *pp = c; /* in the order added */
        pthread_mutex_unlock(&collect_mu);
}

void hm_collector_remove(hm_collector_fn fn, void *ud)
{
        pthread_mutex_lock(&collect_mu);
        for (collector **pp = &collectors; *pp; pp = &(*pp)->next)
                if ((*pp)->fn == fn && (*pp)->ud == ud) {
                        collector *c = *pp;
                        *pp = c->next;
                        free(c);
                        break;
                }
        pthread_mutex_unlock(&collect_mu);
}

/* ---- reading ---- */

typedef struct snap {
        hm_sample s;
        char *labels;
        float *win;
        uint32_t n;
        bool summary;
} snap;

/* The rank (0-based) of the q quantile among n values, by nearest rank: the smallest value with
 * at least q of them at or below it (ceil(q * n) - 1, without libm). */
static uint32_t rank_of(uint32_t n, double q)
{
        double r = q * n;
        uint32_t i = (uint32_t)r;
        if ((double)i == r && i > 0)
                i--;
        return i < n ? i : n - 1;
}

/* Moves the k-th smallest of a[lo..hi] to a[k], smaller ones before it, larger after
 * (quickselect: linear on average; a scrape of thousands of summaries sorts nothing). */
static void select_kth(float *a, uint32_t lo, uint32_t hi, uint32_t k)
{
        while (lo < hi) {
                float pivot = a[lo + (hi - lo) / 2];
                uint32_t i = lo, j = hi;
                while (i <= j) {
                        while (a[i] < pivot)
                                i++;
                        while (a[j] > pivot)
                                j--;
                        if (i <= j) {
                                float t = a[i];
                                a[i] = a[j];
                                a[j] = t;
                                i++;
                                if (j == 0)
                                        break;
                                j--;
                        }
                }
                if (k <= j)
                        hi = j;
                else if (k >= i)
                        lo = i;
                else
                        return;
        }
}

/* A float of the ring read back at a float's precision (7 digits), so that 0.1 stays 0.1 and
 * not 0.100000001490116. */
static double read_back(float f)
{
        char b[32];
        snprintf(b, sizeof(b), "%.7g", (double)f);
        return strtod(b, NULL);
}

/* p50, p99 and max of the window (reordered). */
static void window_stats(float *w, uint32_t n, hm_sample *s)
{
        uint32_t k50 = rank_of(n, 0.5), k99 = rank_of(n, 0.99);
        select_kth(w, 0, n - 1, k50);
        select_kth(w, k50, n - 1, k99); /* everything from k50 on is at least the p50 */
        float max = w[k99];
        for (uint32_t i = k99; i < n; i++)
                if (w[i] > max)
                        max = w[i];
        s->p50 = read_back(w[k50]);
        s->p99 = read_back(w[k99]);
        s->max = read_back(max);
}

static int cmp_snap(const void *a, const void *b)
{
        const snap *x = a, *y = b;
        int c = strcmp(x->s.family, y->s.family);
        return c ? c : strcmp(x->labels, y->labels);
}

void hm_foreach(void (*fn)(const hm_sample *s, void *ud), void *ud)
{
        pthread_mutex_lock(&collect_mu);
        for (collector *c = collectors; c; c = c->next)
                c->fn(c->ud);
        pthread_mutex_unlock(&collect_mu);

        pthread_mutex_lock(&mu);
        dropped_init();
        size_t n = 0, cap = n_series + 1;
        snap *v = xcalloc(cap, sizeof(*v));
        for (size_t b = 0; b < BUCKETS; b++)
                for (series *s = buckets[b]; s && n < cap; s = s->next) {
                        snap *p = &v[n++];
                        p->summary = s->summary;
                        p->s = (hm_sample){ .family = s->fam->name,
                                            .type = s->fam->type,
                                            .help = s->fam->help,
                                            .value = s->value,
                                            .sum = s->sum };
                        /* Undeclared: a series that was observed is a summary, else untyped (0). */
                        if (!p->s.type && s->summary)
                                p->s.type = HM_SUMMARY;
                        p->labels = xstrdup(s->labels);
                        if (s->summary && s->len) {
                                p->win = xmalloc(s->len * sizeof(float));
                                memcpy(p->win, s->ring, s->len * sizeof(float));
                                p->n = s->len;
                        }
                }
        pthread_mutex_unlock(&mu);

        qsort(v, n, sizeof(*v), cmp_snap);
        for (size_t i = 0; i < n; i++) {
                snap *p = &v[i];
                p->s.labels = p->labels;
                p->s.p50 = p->s.p99 = p->s.max = NAN;
                if (p->n)
                        window_stats(p->win, p->n, &p->s);
                fn(&p->s, ud);
                free(p->labels);
                free(p->win);
        }
        free(v);
}
