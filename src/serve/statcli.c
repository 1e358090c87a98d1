/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn stats` and `husk queue stats`: one unsigned GET /metrics to the running server, read
 * with the strict reader (promread.c), shown per function or per queue. The figures are the
 * server's registry at that moment (metrics/metrics.h names them); nothing is computed here but
 * the layout. */
#include "statcli.h"
#include "cliclient.h"
#include "prom.h"
#include "util/json.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int fetch(const char *who, const char *endpoint, prom_doc *ret)
{
        serve_call c = { .endpoint = endpoint, .method = "GET", .path = "/metrics" };
        serve_answer an;
        char why[512];
        if (serve_client_call(&c, &an, why, sizeof(why)) < 0)
                return cliclient_fail(who, "%s (is `husk serve` running?)", why);
        if (an.status != 200) {
                int r = cliclient_fail(who, "GET /metrics on %s: HTTP %u: %.200s", endpoint,
                                       an.status, an.body);
                serve_answer_free(&an);
                return r;
        }
        int r = prom_parse(an.body, an.len, ret, why, sizeof(why));
        serve_answer_free(&an);
        if (r < 0)
                return cliclient_fail(who, "the /metrics of %s is not valid exposition text: %s",
                                      endpoint, why);
        return 0;
}

/* The value of sample `name` whose label key is `who` (and quantile q, when given); NAN when
 * the server reports none. */
static double value_of(const prom_doc *d, const char *name, const char *key, const char *who,
                       const char *q)
{
        for (size_t i = 0; i < d->n; i++) {
                const prom_sample *s = &d->s[i];
                const char *v = prom_label_get(s, key), *sq = prom_label_get(s, "quantile");
                if (strcmp(s->name, name) == 0 && v && strcmp(v, who) == 0 &&
                    (q ? sq && strcmp(sq, q) == 0 : !sq))
                        return s->value;
        }
        return NAN;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct values of label key on samples whose family starts with prefix, sorted. */
static char **subjects(const prom_doc *d, const char *prefix, const char *key, size_t *ret_n)
{
        char **v = NULL;
        size_t n = 0;
        for (size_t i = 0; i < d->n; i++) {
                const char *x = prom_label_get(&d->s[i], key);
                if (!x || strncmp(d->s[i].family, prefix, strlen(prefix)) != 0)
                        continue;
                bool dup = false;
                for (size_t k = 0; k < n && !dup; k++)
                        dup = strcmp(v[k], x) == 0;
                if (dup)
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(*v));
                v[n++] = xstrdup(x);
                v[n] = NULL;
        }
        if (n)
                qsort(v, n, sizeof(*v), cmp_str);
        *ret_n = n;
        return v;
}

/* A column: its title, the sample, the quantile, and whether it is a count. */
typedef struct col {
        const char *title, *json, *sample, *quantile;
        bool count;
} col;

static const col fn_cols[] = {
        { "INVOCATIONS", "Invocations", "husk_function_invocations_total", NULL, true },
        { "ERRORS", "Errors", "husk_function_errors_total", NULL, true },
        { "THROTTLES", "Throttles", "husk_function_throttles_total", NULL, true },
        { "CONCURRENT", "ConcurrentExecutions", "husk_function_concurrent_executions", NULL, true },
        { "DLQ_ERRORS", "DeadLetterErrors", "husk_function_dead_letter_errors_total", NULL, true },
        { "P50_MS", NULL, "husk_function_duration_milliseconds", "0.5", false },
        { "P99_MS", NULL, "husk_function_duration_milliseconds", "0.99", false },
        { "MAX_MS", NULL, "husk_function_duration_milliseconds_max", NULL, false },
        { "ITER_AGE_P99_MS", NULL, "husk_function_iterator_age_milliseconds", "0.99", false },
};

static const col q_cols[] = {
        { "SENT", "MessagesSent", "husk_queue_messages_sent_total", NULL, true },
        { "RECEIVED", "MessagesReceived", "husk_queue_messages_received_total", NULL, true },
        { "DELETED", "MessagesDeleted", "husk_queue_messages_deleted_total", NULL, true },
        { "VISIBLE", "MessagesVisible", "husk_queue_messages_visible", NULL, true },
        { "IN_FLIGHT", "MessagesInFlight", "husk_queue_messages_in_flight", NULL, true },
        { "DELAYED", "MessagesDelayed", "husk_queue_messages_delayed", NULL, true },
        { "OLDEST_AGE_S", "OldestMessageAgeSeconds", "husk_queue_oldest_message_age_seconds", NULL,
          false },
};

static void cell(char *out, size_t len, double v, bool count)
{
        if (isnan(v))
                snprintf(out, len, "-");
        else if (count)
                snprintf(out, len, "%.0f", v);
        else
                snprintf(out, len, "%.2f", v);
}

static void table(const prom_doc *d, char **who, size_t n, const char *first, const char *key,
                  const col *cols, size_t nc)
{
        /* the cells first: each column is as wide as its title or its widest value */
        char(*cells)[32] = xcalloc(n * nc + 1, sizeof(*cells));
        size_t w0 = strlen(first), w[16] = { 0 };
        for (size_t c = 0; c < nc && c < ARRAY_SIZE(w); c++)
                w[c] = strlen(cols[c].title);
        for (size_t i = 0; i < n; i++) {
                if (strlen(who[i]) > w0)
                        w0 = strlen(who[i]);
                for (size_t c = 0; c < nc && c < ARRAY_SIZE(w); c++) {
                        char *b = cells[i * nc + c];
                        cell(b, sizeof(*cells),
                             value_of(d, cols[c].sample, key, who[i], cols[c].quantile), cols[c].count);
                        if (strlen(b) > w[c])
                                w[c] = strlen(b);
                }
        }
        printf("%-*s", (int)w0, first);
        for (size_t c = 0; c < nc && c < ARRAY_SIZE(w); c++)
                printf("  %*s", (int)w[c], cols[c].title);
        putchar('\n');
        for (size_t i = 0; i < n; i++) {
                printf("%-*s", (int)w0, who[i]);
                for (size_t c = 0; c < nc && c < ARRAY_SIZE(w); c++)
                        printf("  %*s", (int)w[c], cells[i * nc + c]);
                putchar('\n');
        }
        free(cells);
}

static void json_num(json_writer *w, const char *key, double v, bool count)
{
        json_key(w, key);
        if (isnan(v))
                json_null(w);
        else if (count && v >= 0)
                json_uint(w, (uint64_t)v);
        else
                json_fixed(w, v, 3);
}

/* {"Count", "Sum", "P50", "P99", "Max"} of summary family f for label key=who, or null. */
static void json_summary(json_writer *w, const prom_doc *d, const char *jkey, const char *f,
                         const char *key, const char *who)
{
        _cleanup_free_ char *cnt = xasprintf("%s_count", f), *sum = xasprintf("%s_sum", f),
                            *max = xasprintf("%s_max", f);
        double count = value_of(d, cnt, key, who, NULL);
        json_key(w, jkey);
        if (isnan(count)) {
                json_null(w);
                return;
        }
        json_obj_begin(w);
        json_num(w, "Count", count, true);
        json_num(w, "Sum", value_of(d, sum, key, who, NULL), false);
        json_num(w, "P50", value_of(d, f, key, who, "0.5"), false);
        json_num(w, "P99", value_of(d, f, key, who, "0.99"), false);
        json_num(w, "Max", value_of(d, max, key, who, NULL), false);
        json_obj_end(w);
}

static void json_one(json_writer *w, const prom_doc *d, const char *name_key, const char *key,
                     const char *who, const col *cols, size_t nc, bool fn)
{
        json_obj_begin(w);
        json_kv_str(w, name_key, who);
        for (size_t c = 0; c < nc; c++)
                if (cols[c].json)
                        json_num(w, cols[c].json, value_of(d, cols[c].sample, key, who, NULL),
                                 cols[c].count);
        if (fn) {
                json_summary(w, d, "Duration", "husk_function_duration_milliseconds", key, who);
                json_summary(w, d, "IteratorAge", "husk_function_iterator_age_milliseconds", key, who);
        }
        json_obj_end(w);
}

static int show(const char *who_cmd, const char *endpoint, const char *name, bool json, bool fn)
{
        const char *key = fn ? "function" : "queue";
        const col *cols = fn ? fn_cols : q_cols;
        size_t nc = fn ? ARRAY_SIZE(fn_cols) : ARRAY_SIZE(q_cols);
        prom_doc d = { 0 };
        if (fetch(who_cmd, endpoint, &d))
                return 1;
        size_t n = 0;
        _cleanup_strv_ char **all = subjects(&d, fn ? "husk_function_" : "husk_queue_", key, &n);
        char *one[] = { (char *)name, NULL };
        char **who = all;
        if (name) {
                bool found = false;
                for (size_t i = 0; i < n && !found; i++)
                        found = strcmp(all[i], name) == 0;
                if (!found) {
                        prom_doc_free(&d);
                        return cliclient_fail(who_cmd, "the server at %s reports no %s named %s",
                                              endpoint, fn ? "function" : "queue", name);
                }
                who = one;
                n = 1;
        }
        if (json) {
                json_writer *w = json_writer_new(true);
                if (!name)
                        json_arr_begin(w);
                for (size_t i = 0; i < n; i++)
                        json_one(w, &d, fn ? "FunctionName" : "QueueName", key, who[i], cols, nc, fn);
                if (!name)
                        json_arr_end(w);
                _cleanup_free_ char *out = json_writer_finish(w);
                printf("%s\n", out);
        } else {
                table(&d, who, n, fn ? "FUNCTION" : "QUEUE", key, cols, nc);
        }
        prom_doc_free(&d);
        return 0;
}

int statcli_functions(const char *endpoint, const char *name, bool json)
{
        return show("husk fn", endpoint, name, json, true);
}

int statcli_queues(const char *endpoint, const char *name, bool json)
{
        return show("husk queue", endpoint, name, json, false);
}
