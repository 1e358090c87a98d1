/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the metrics registry (src/metrics/metrics.c), its Prometheus text writer
 * (src/serve/prom.c) and the strict reader the stats commands use (src/serve/promread.c): the
 * writer's output is read back with the reader, which is itself held to the format by documents
 * it must refuse. The registry is process-wide: each test uses families of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "metrics/metrics.h"
#include "serve/prom.h"
#include "serve/serve.h"
#include "util/util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading the registry back ---- */

typedef struct found {
        const char *family, *labels;
        bool hit;
        hm_sample s;
        char labels_copy[256];
        size_t n_family; /* series of family seen */
} found;

static void find_cb(const hm_sample *s, void *ud)
{
        found *f = ud;
        if (strcmp(s->family, f->family) != 0)
                return;
        f->n_family++;
        if (f->labels && strcmp(s->labels, f->labels) == 0) {
                f->hit = true;
                f->s = *s;
                snprintf(f->labels_copy, sizeof(f->labels_copy), "%s", s->labels);
                f->s.labels = f->labels_copy;
        }
}

static found find(const char *family, const char *labels)
{
        found f = { .family = family, .labels = labels };
        hm_foreach(find_cb, &f);
        return f;
}

static double dropped(void)
{
        found f = find("husk_metrics_dropped_series_total", "");
        assert_true(f.hit);
        return f.s.value;
}

/* ---- the registry ---- */

static void test_labels(void **state)
{
        (void)state;
        _cleanup_free_ char *a = hm_labels("function", "f1", NULL);
        assert_string_equal(a, "function=\"f1\"");
        _cleanup_free_ char *b = hm_labels("api", "x", "route", "GET /a\\b\"c\nd", NULL);
        assert_string_equal(b, "api=\"x\",route=\"GET /a\\\\b\\\"c\\nd\"");
        /* a key a label name may not hold is made valid; a NULL value is empty */
        _cleanup_free_ char *c = hm_labels("9a-b", NULL, "", "v", NULL);
        assert_string_equal(c, "_a_b=\"\",_=\"v\"");
        _cleanup_free_ char *d = hm_labels("k", "v", "k2", NULL, NULL);
        assert_string_equal(d, "k=\"v\",k2=\"\"");
        _cleanup_free_ char *e = hm_labels("k", "v", "k", "w", NULL); /* the same literal twice */
        assert_string_equal(e, "k=\"v\",k=\"w\"");
}

static void test_counter_gauge(void **state)
{
        (void)state;
        hm_declare("t_cg_total", HM_COUNTER, "a counter");
        hm_declare("t_cg_total", HM_GAUGE, "other help"); /* idempotent: the first stays */
        hm_declare("t_cg_gauge", HM_GAUGE, "a gauge");
        hm_inc("t_cg_total", "k=\"a\"", 2);
        hm_inc("t_cg_total", "k=\"a\"", 0.5);
        hm_inc("t_cg_total", "k=\"a\"", -7); /* a counter never goes down */
        hm_inc("t_cg_total", "k=\"b\"", 0);  /* a series at 0 */
        hm_set("t_cg_gauge", "", 10);
        hm_add("t_cg_gauge", "", -3);
        hm_add("t_cg_gauge", NULL, 0.25); /* NULL labels: the empty set */
        found f = find("t_cg_total", "k=\"a\"");
        assert_true(f.hit);
        assert_int_equal(f.n_family, 2);
        assert_true(f.s.value == 2.5);
        assert_int_equal(f.s.type, HM_COUNTER);
        assert_string_equal(f.s.help, "a counter");
        f = find("t_cg_total", "k=\"b\"");
        assert_true(f.hit && f.s.value == 0);
        f = find("t_cg_gauge", "");
        assert_true(f.hit && f.s.value == 7.25);
        assert_int_equal(f.s.type, HM_GAUGE);
        /* used before declared: untyped (0) until declared */
        hm_set("t_cg_late", "", 1);
        assert_int_equal(find("t_cg_late", "").s.type, 0);
        hm_declare("t_cg_late", HM_GAUGE, "late");
        assert_int_equal(find("t_cg_late", "").s.type, HM_GAUGE);
}

static void test_summary(void **state)
{
        (void)state;
        hm_declare("t_sum_ms", HM_SUMMARY, "a summary");
        for (int i = 100; i >= 1; i--) /* order does not matter */
                hm_observe("t_sum_ms", "s=\"a\"", i);
        found f = find("t_sum_ms", "s=\"a\"");
        assert_true(f.hit);
        assert_true(f.s.value == 100);
        assert_true(f.s.sum == 5050);
        assert_true(f.s.max == 100);
        assert_true(f.s.p50 == 50); /* nearest rank: the 50th of 100 */
        assert_true(f.s.p99 == 99);
        /* one observation: every quantile is it */
        hm_observe("t_sum_ms", "s=\"one\"", 0.1);
        f = find("t_sum_ms", "s=\"one\"");
        assert_true(f.s.p50 == 0.1 && f.s.p99 == 0.1 && f.s.max == 0.1 && f.s.value == 1);
        /* quantiles and max over the newest HM_SUMMARY_WINDOW; count and sum over all */
        double sum = 0;
        for (int i = 1; i <= 2000; i++) {
                hm_observe("t_sum_ms", "s=\"w\"", i);
                sum += i;
        }
        hm_observe("t_sum_ms", "s=\"w\"", NAN); /* ignored */
        f = find("t_sum_ms", "s=\"w\"");
        assert_true(f.s.value == 2000);
        assert_true(f.s.sum == sum);
        assert_true(f.s.max == 2000);
        int first = 2000 - HM_SUMMARY_WINDOW + 1; /* the window: first .. 2000 */
        assert_true(f.s.p50 == first + HM_SUMMARY_WINDOW / 2 - 1);
        int r99 = (int)((HM_SUMMARY_WINDOW * 99 + 99) / 100); /* ceil(0.99 * window) */
        assert_true(f.s.p99 == first + r99 - 1);
        /* the max is the window's: a slow first call leaves it with the window */
        hm_observe("t_sum_ms", "s=\"m\"", 1e6);
        for (int i = 0; i < HM_SUMMARY_WINDOW - 1; i++)
                hm_observe("t_sum_ms", "s=\"m\"", 1);
        f = find("t_sum_ms", "s=\"m\"");
        assert_true(f.s.max == 1e6 && f.s.p99 == 1);
        hm_observe("t_sum_ms", "s=\"m\"", 2);
        f = find("t_sum_ms", "s=\"m\"");
        assert_true(f.s.max == 2 && f.s.p99 == 1 && f.s.sum == 1e6 + HM_SUMMARY_WINDOW + 1);
}

static int cmp_f(const void *a, const void *b)
{
        float x = *(const float *)a, y = *(const float *)b;
        return (x > y) - (x < y);
}

/* The quantiles against a sorted copy, for windows of every size with many duplicates. */
static void test_summary_random(void **state)
{
        (void)state;
        srand(7);
        float v[HM_SUMMARY_WINDOW];
        for (int n = 1; n <= 300; n++) {
                char l[32];
                snprintf(l, sizeof(l), "n=\"%d\"", n);
                for (int i = 0; i < n; i++) {
                        v[i] = (float)(rand() % (n % 7 == 0 ? 3 : 1000));
                        hm_observe("t_rand_ms", l, v[i]);
                }
                qsort(v, (size_t)n, sizeof(float), cmp_f);
                found f = find("t_rand_ms", l);
                int r50 = (n * 50 + 99) / 100, r99 = (n * 99 + 99) / 100; /* ceil */
                if (f.s.p50 != v[r50 - 1] || f.s.p99 != v[r99 - 1] || f.s.max != v[n - 1])
                        fail_msg("n %d: p50 %g p99 %g max %g, want %g %g %g", n, f.s.p50, f.s.p99,
                                 f.s.max, v[r50 - 1], v[r99 - 1], v[n - 1]);
        }
        hm_forget("n=\"1\""); /* (leaves room for the bound test) */
}

static void test_forget(void **state)
{
        (void)state;
        static const char *const l[] = { "function=\"a\"", "function=\"ab\"", "xfunction=\"a\"",
                                         "function=\"a\",x=\"1\"", "y=\"1\",function=\"a\"",
                                         "y=\"function=\\\"a\\\"\"" };
        for (size_t i = 0; i < ARRAY_SIZE(l); i++)
                hm_inc("t_forget_total", l[i], 1);
        hm_observe("t_forget_ms", "function=\"a\"", 1);
        assert_int_equal(find("t_forget_total", NULL).n_family, ARRAY_SIZE(l));
        hm_forget("function=\"a\"");
        hm_forget(""); /* nothing */
        assert_false(find("t_forget_total", l[0]).hit);
        assert_false(find("t_forget_total", l[3]).hit);
        assert_false(find("t_forget_total", l[4]).hit);
        assert_false(find("t_forget_ms", l[0]).hit);
        assert_true(find("t_forget_total", l[1]).hit);
        assert_true(find("t_forget_total", l[2]).hit);
        /* inside another label's value: not a label of its own */
        assert_true(find("t_forget_total", l[5]).hit);
        /* a forgotten series starts again from nothing */
        hm_inc("t_forget_total", l[0], 1);
        assert_true(find("t_forget_total", l[0]).s.value == 1);
}

static void test_invalid(void **state)
{
        (void)state;
        double d0 = dropped();
        hm_inc("9bad", "", 1);
        hm_inc("a-b", "", 1);
        hm_inc("", "", 1);
        hm_inc(NULL, "", 1);
        hm_inc("t_inv", "k=v", 1);
        hm_inc("t_inv", "k=\"open", 1);
        hm_inc("t_inv", "k=\"a\\x\"", 1);
        hm_inc("t_inv", "k=\"a\",", 1);
        hm_inc("t_inv", "=\"a\"", 1);
        hm_inc("t_inv", "k=\"a\nb\"", 1);
        hm_inc("t_inv", "k=\"a\",k=\"b\"", 1); /* a name twice */
        hm_observe("t_inv_ms", "k=\"a\",quantile=\"1\"", 1); /* the label a summary adds */
        assert_true(dropped() == d0 + 12);
        assert_int_equal(find("t_inv_ms", NULL).n_family, 0);
        assert_int_equal(find("t_inv", NULL).n_family, 0);
        hm_inc("t_inv", "k=\"a\\nb\\\\\\\"\",l=\"\"", 1); /* escapes as hm_labels writes them */
        assert_int_equal(find("t_inv", NULL).n_family, 1);
}

/* ---- threads ---- */

#define THREADS 8
#define ROUNDS 20000

static void *worker(void *arg)
{
        long id = (long)arg;
        char own[64];
        snprintf(own, sizeof(own), "t=\"%ld\"", id);
        for (int i = 0; i < ROUNDS; i++) {
                hm_inc("t_thr_total", "", 1);
                hm_add("t_thr_gauge", "", (i % 2) ? -1 : 1);
                hm_observe("t_thr_ms", "", i % 100);
                hm_inc("t_thr_own_total", own, 1);
                if (i % 1000 == 0) {
                        hm_inc("t_thr_tmp_total", own, 1);
                        hm_forget(own); /* forgets own series too: counted again below */
                }
        }
        hm_inc("t_thr_own_total", own, 1);
        return NULL;
}

static volatile int scraping = 1;
static unsigned scrapes;

static void count_cb(const hm_sample *s, void *ud)
{
        (void)s;
        (*(size_t *)ud)++;
}

static void *scraper(void *arg)
{
        (void)arg;
        while (__atomic_load_n(&scraping, __ATOMIC_SEQ_CST)) {
                size_t n = 0;
                hm_foreach(count_cb, &n);
                scrapes++;
        }
        return NULL;
}

static void test_threads(void **state)
{
        (void)state;
        hm_declare("t_thr_ms", HM_SUMMARY, "x");
        pthread_t t[THREADS], s;
        assert_int_equal(pthread_create(&s, NULL, scraper, NULL), 0);
        for (long i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
        __atomic_store_n(&scraping, 0, __ATOMIC_SEQ_CST);
        pthread_join(s, NULL);
        assert_true(scrapes > 0);
        assert_true(find("t_thr_total", "").s.value == THREADS * ROUNDS);
        assert_true(find("t_thr_gauge", "").s.value == 0);
        found f = find("t_thr_ms", "");
        assert_true(f.s.value == THREADS * ROUNDS);
        assert_true(f.s.max == 99);
        /* each thread's own counter restarted at its last forget (i = 19000): 999 + 1 */
        assert_int_equal(find("t_thr_own_total", NULL).n_family, THREADS);
        assert_true(find("t_thr_own_total", "t=\"3\"").s.value == 1000);
        assert_int_equal(find("t_thr_tmp_total", NULL).n_family, 0);
}

/* ---- collectors ---- */

static unsigned collected;
static void collect(void *ud)
{
        collected++;
        hm_set("t_coll_gauge", "", *(double *)ud);
}

static void test_collector(void **state)
{
        (void)state;
        double v = 42;
        hm_collector_add(collect, &v);
        unsigned c0 = collected;
        assert_true(find("t_coll_gauge", "").s.value == 42);
        v = 43;
        assert_true(find("t_coll_gauge", "").s.value == 43);
        assert_int_equal(collected, c0 + 2);
        hm_collector_remove(collect, &v);
        hm_collector_remove(collect, &v); /* absent: nothing */
        v = 44;
        assert_true(find("t_coll_gauge", "").s.value == 43);
        assert_int_equal(collected, c0 + 2);
}

/* ---- the text format ---- */

static void test_format_double(void **state)
{
        (void)state;
        static const struct {
                double v;
                const char *want;
        } t[] = { { 0, "0" }, { 3, "3" }, { -2.5, "-2.5" }, { 0.1, "0.1" }, { 1e20, "1e+20" },
                  { 123456789, "123456789" }, { 1.0 / 3, "0.3333333333333333" } };
        char b[32];
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                prom_format_double(t[i].v, b);
                assert_string_equal(b, t[i].want);
        }
        prom_format_double(NAN, b);
        assert_string_equal(b, "NaN");
        prom_format_double(INFINITY, b);
        assert_string_equal(b, "+Inf");
        prom_format_double(-INFINITY, b);
        assert_string_equal(b, "-Inf");
}

static const prom_sample *sample_of(const prom_doc *d, const char *name, const char *k,
                                    const char *v, const char *q)
{
        for (size_t i = 0; i < d->n; i++) {
                const char *x = prom_label_get(&d->s[i], k), *xq = prom_label_get(&d->s[i], "quantile");
                if (strcmp(d->s[i].name, name) == 0 && x && strcmp(x, v) == 0 &&
                    (q ? xq && strcmp(xq, q) == 0 : !xq))
                        return &d->s[i];
        }
        return NULL;
}

static void test_render_parse(void **state)
{
        (void)state;
        hm_declare("t_rp_total", HM_COUNTER, "help with \\ and\na newline");
        hm_declare("t_rp_ms", HM_SUMMARY, "durations");
        _cleanup_free_ char *l1 = hm_labels("function", "f", NULL);
        _cleanup_free_ char *l2 = hm_labels("function", "odd \"name\\\n", NULL);
        hm_inc("t_rp_total", l1, 3);
        hm_inc("t_rp_total", l2, 1);
        for (int i = 1; i <= 10; i++)
                hm_observe("t_rp_ms", l1, i);
        size_t len = 0;
        _cleanup_free_ char *text = prom_render(&len);
        assert_int_equal(strlen(text), len);
        prom_doc d = { 0 };
        char why[256] = "";
        int r = prom_parse(text, len, &d, why, sizeof(why));
        if (r < 0)
                fail_msg("the writer's output is refused: %s\n%s", why, text);
        /* the HELP line keeps its escapes */
        assert_non_null(strstr(text, "# HELP t_rp_total help with \\\\ and\\na newline\n"
                                     "# TYPE t_rp_total counter\n"));
        const prom_sample *s = sample_of(&d, "t_rp_total", "function", "odd \"name\\\n", NULL);
        assert_non_null(s); /* the label value reads back as it was */
        assert_true(s->value == 1);
        assert_string_equal(s->type, "counter");
        s = sample_of(&d, "t_rp_ms", "function", "f", "0.5");
        assert_non_null(s);
        assert_true(s->value == 5);
        assert_string_equal(s->type, "summary");
        assert_true(sample_of(&d, "t_rp_ms", "function", "f", "0.99")->value == 10);
        assert_true(sample_of(&d, "t_rp_ms_sum", "function", "f", NULL)->value == 55);
        assert_true(sample_of(&d, "t_rp_ms_count", "function", "f", NULL)->value == 10);
        s = sample_of(&d, "t_rp_ms_max", "function", "f", NULL);
        assert_non_null(s);
        assert_true(s->value == 10);
        assert_string_equal(s->type, "gauge");
        assert_string_equal(s->family, "t_rp_ms_max");
        assert_non_null(strstr(text, "# TYPE t_rp_ms summary\n"
                                     "t_rp_ms{function=\"f\",quantile=\"0.5\"} 5\n"
                                     "t_rp_ms{function=\"f\",quantile=\"0.99\"} 10\n"
                                     "t_rp_ms_sum{function=\"f\"} 55\n"
                                     "t_rp_ms_count{function=\"f\"} 10\n"
                                     "# HELP t_rp_ms_max "));
        /* every family has HELP and TYPE; the dropped-series counter is there */
        assert_non_null(strstr(text, "# TYPE husk_metrics_dropped_series_total counter\n"));
        prom_doc_free(&d);
}

static void test_reader_refuses(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "a 1",                                        /* no final newline */
                "a{} 1\n# TYPE a gauge\n",                    /* TYPE after its sample */
                "# TYPE a gauge\n# TYPE a gauge\na 1\n",      /* two TYPEs */
                "# HELP a x\n# HELP a y\n",                   /* two HELPs */
                "# TYPE a gaug\n",                            /* unknown type */
                "a 1\nb 1\na{x=\"1\"} 2\n",                   /* a family again */
                "a{x=\"1\",x=\"2\"} 1\n",                     /* a label twice */
                "a{x=\"1\"} 1\na{x=\"1\"} 2\n",               /* a sample twice */
                "a{x=\"\\t\"} 1\n",                           /* a bad escape */
                "a{x=\"1} 1\n",                               /* not closed */
                "a{x=1} 1\n",                                 /* not quoted */
                "a{1x=\"1\"} 1\n",                            /* a bad label name */
                "a{x=\"1\"}1\n",                              /* no blank */
                "a 0x10\n",                                   /* not Go's float */
                "a one\n",
                "a 1 12.5\n",                                 /* a bad timestamp */
                "a 1 12 13\n",
                "1a 1\n",                                     /* a bad name */
                "a-b 1\n",
                "# TYPE c counter\nc -1\n",                   /* a counter below 0 */
                "# TYPE s summary\ns 1\n",                    /* a summary without quantile */
                "# TYPE s summary\ns_sum{quantile=\"0.5\"} 1\n",
                "# TYPE s summary\ns{quantile=\"x\"} 1\n",
                "# TYPE h histogram\nh 1\n",
                "# TYPE h histogram\nh_bucket 1\n",           /* no le */
                "# TYPE g gauge\ng{quantile=\"0.5\"} 1\n",
                "# HELP a bad \\t escape\n",
                "# TYPE\n",
                "a\0 1\n",
        };
        static const size_t bad_len[ARRAY_SIZE(bad)] = { [ARRAY_SIZE(bad) - 1] = 5 };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                prom_doc d = { 0 };
                char why[256] = "";
                size_t n = bad_len[i] ? bad_len[i] : strlen(bad[i]);
                if (prom_parse(bad[i], n, &d, why, sizeof(why)) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_true(strncmp(why, "line ", 5) == 0);
        }
        static const char *const good[] = {
                "",
                "a 1\n",
                "\n# just a comment\n  a{x=\"1\",} 1 1700000000000\n",
                "# HELP a x\n# TYPE a untyped\na{x=\"\\\\\\\"\\n\"} -1.5e3\n",
                "# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum 0\ns_count 0\n"
                "# TYPE s_max gauge\ns_max +Inf\n",
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                "a\t1\n",
        };
        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                prom_doc d = { 0 };
                char why[256] = "";
                if (prom_parse(good[i], strlen(good[i]), &d, why, sizeof(why)) < 0)
                        fail_msg("refused: %s: %s", good[i], why);
                prom_doc_free(&d);
        }
}

static void test_handle(void **state)
{
        (void)state;
        serve_req r = { .method = "GET", .path = "/metrics" };
        serve_resp w = { 0 };
        prom_handle(&r, &w);
        assert_int_equal(w.status, 200);
        assert_non_null(strstr(w.body, "husk_metrics_dropped_series_total"));
        bool ct = false;
        for (size_t i = 0; i < w.n_headers; i++)
                ct |= strcmp(w.headers[i].name, "Content-Type") == 0 &&
                      strcmp(w.headers[i].value, PROM_CONTENT_TYPE) == 0;
        assert_true(ct);
        serve_resp_free(&w);
        r.method = "HEAD";
        prom_handle(&r, &w);
        assert_int_equal(w.status, 200);
        serve_resp_free(&w);
        r.method = "POST";
        prom_handle(&r, &w);
        assert_int_equal(w.status, 405);
        serve_resp_free(&w);
}

/* Last: fills the registry to its bound. */
static void test_bound(void **state)
{
        (void)state;
        size_t before = 0;
        hm_foreach(count_cb, &before); /* every series, the dropped counter included */
        double d0 = dropped();
        size_t room = HM_SERIES_MAX + 1 - before;
        for (size_t i = 0; i < room + 25; i++) {
                char l[64];
                snprintf(l, sizeof(l), "g=\"bound\",i=\"%zu\"", i);
                hm_inc("t_bound_total", l, 1);
        }
        assert_int_equal(find("t_bound_total", NULL).n_family, room);
        assert_true(dropped() == d0 + 25);
        /* an existing series still counts */
        hm_inc("t_bound_total", "g=\"bound\",i=\"0\"", 1);
        assert_true(find("t_bound_total", "g=\"bound\",i=\"0\"").s.value == 2);
        assert_true(dropped() == d0 + 25);
        /* and the text says so */
        size_t len = 0;
        _cleanup_free_ char *text = prom_render(&len);
        char want[128];
        snprintf(want, sizeof(want), "\nhusk_metrics_dropped_series_total %.0f\n", d0 + 25);
        assert_non_null(strstr(text, want));
        prom_doc d = { 0 };
        char why[256] = "";
        assert_int_equal(prom_parse(text, len, &d, why, sizeof(why)), 0);
        assert_true(d.n >= HM_SERIES_MAX);
        prom_doc_free(&d);
        /* forgetting makes room again */
        hm_forget("g=\"bound\"");
        assert_int_equal(find("t_bound_total", NULL).n_family, 0);
        hm_inc("t_bound_total", "g=\"again\"", 1);
        assert_true(find("t_bound_total", "g=\"again\"").hit);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_labels),        cmocka_unit_test(test_counter_gauge),
                cmocka_unit_test(test_summary),       cmocka_unit_test(test_summary_random),
                cmocka_unit_test(test_forget),
                cmocka_unit_test(test_invalid),       cmocka_unit_test(test_threads),
                cmocka_unit_test(test_collector),     cmocka_unit_test(test_format_double),
                cmocka_unit_test(test_render_parse),  cmocka_unit_test(test_reader_refuses),
                cmocka_unit_test(test_handle),        cmocka_unit_test(test_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
