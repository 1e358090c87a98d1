/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the metrics Lambda reports for each function (issue 17), into the registry of
 * src/metrics under the family names metrics.h gives. host.c and esm.c call these at the points
 * an invocation passes; every way in (Invoke RequestResponse and Event, queue mappings,
 * schedules) goes through fn_host_invoke_ex, so each is counted as Lambda counts it:
 *   Invocations   an invocation that reached the function (its code ran, or its init failed),
 *                 each attempt of an async event included; not throttled ones, not ones the
 *                 host could not run (unknown function, host stopping)
 *   Errors        those that ended in a function error (an error response, a timeout, a crash,
 *                 an out-of-memory kill, a failed init)
 *   Throttles     invocations refused at the concurrency limit (429, and an async attempt or
 *                 a mapping's batch that found no room)
 *   Duration      milliseconds from handing the event to the worker to its answer (not init)
 *   ConcurrentExecutions   invocations between getting a worker and their answer
 *   IteratorAge   (queue mappings) the age of a batch's oldest message when it is handed over
 *   DeadLetterErrors   husk has no dead-letter path for a function's failed async events (no
 *                 DeadLetterConfig: a failed event stays in the function's event list), so
 *                 this is 0 for every function, reported so that dashboards find it.
 *
 * A collector, run at each scrape, gives every function of the store its series (0 until it
 * is invoked) and forgets the series of functions that are gone (DeleteFunction, `husk fn rm`,
 * even while the server runs: the store is the truth). */
#include "fn.h"
#include "metrics/metrics.h"
#include "util/util.h"

#include <string.h>

#define F_INVOCATIONS "husk_function_invocations_total"
#define F_ERRORS "husk_function_errors_total"
#define F_THROTTLES "husk_function_throttles_total"
#define F_DURATION "husk_function_duration_milliseconds"
#define F_CONCURRENT "husk_function_concurrent_executions"
#define F_ITERATOR_AGE "husk_function_iterator_age_milliseconds"
#define F_DLQ_ERRORS "husk_function_dead_letter_errors_total"

/* The functions that have series, with their running invocations (ConcurrentExecutions is
 * set from here, so a function deleted while it runs is never reported below 0 later). */
typedef struct known {
        char name[FN_NAME_MAX + 1];
        long running;
        bool forgotten; /* its series were dropped (deleted) while it still ran */
        struct known *next;
} known;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static known *all;

static void declare(void)
{
        hm_declare(F_INVOCATIONS, HM_COUNTER,
                   "Invocations of the function (sync, async attempts, queue mappings, schedules), "
                   "function errors included, throttles not");
        hm_declare(F_ERRORS, HM_COUNTER,
                   "Invocations that ended in a function error (error response, timeout, crash, "
                   "failed init)");
        hm_declare(F_THROTTLES, HM_COUNTER, "Invocations refused at the concurrency limit");
        hm_declare(F_DURATION, HM_SUMMARY, "Time the function took to answer, in milliseconds");
        hm_declare(F_CONCURRENT, HM_GAUGE, "Invocations running now");
        hm_declare(F_ITERATOR_AGE, HM_SUMMARY,
                   "Queue mappings: age of a batch's oldest message when it was handed to the "
                   "function, in milliseconds");
        hm_declare(F_DLQ_ERRORS, HM_COUNTER,
                   "Failed events not delivered to a dead-letter queue (husk keeps failed async "
                   "events in the function's event list: always 0)");
}

/* Under mu: the entry of name, created (with zero series) when absent. */
static known *known_get(const char *name, const char *labels)
{
        known *k = all;
        while (k && strcmp(k->name, name) != 0)
                k = k->next;
        if (k && !k->forgotten)
                return k;
        if (!k) {
                k = xcalloc(1, sizeof(*k));
                snprintf(k->name, sizeof(k->name), "%s", name);
                k->next = all;
                all = k;
        }
        k->forgotten = false;
        hm_inc(F_INVOCATIONS, labels, 0);
        hm_inc(F_ERRORS, labels, 0);
        hm_inc(F_THROTTLES, labels, 0);
        hm_inc(F_DLQ_ERRORS, labels, 0);
        hm_set(F_CONCURRENT, labels, (double)k->running);
        return k;
}

static void running_add(const char *name, long delta)
{
        _cleanup_free_ char *l = hm_labels("function", name, NULL);
        pthread_mutex_lock(&mu);
        known *k = known_get(name, l);
        k->running += delta;
        hm_set(F_CONCURRENT, l, (double)k->running);
        pthread_mutex_unlock(&mu);
}

void fn_metrics_begin(const char *name)
{
        running_add(name, 1);
}

void fn_metrics_end(const char *name, fn_outcome outcome, double duration_ms)
{
        running_add(name, -1);
        _cleanup_free_ char *l = hm_labels("function", name, NULL);
        if (outcome == FN_OK || outcome == FN_FUNC_ERROR)
                hm_inc(F_INVOCATIONS, l, 1);
        if (outcome == FN_FUNC_ERROR)
                hm_inc(F_ERRORS, l, 1);
        if (duration_ms >= 0)
                hm_observe(F_DURATION, l, duration_ms);
}

void fn_metrics_throttle(const char *name)
{
        _cleanup_free_ char *l = hm_labels("function", name, NULL);
        pthread_mutex_lock(&mu);
        (void)known_get(name, l);
        pthread_mutex_unlock(&mu);
        hm_inc(F_THROTTLES, l, 1);
}

void fn_metrics_iterator_age(const char *name, double age_ms)
{
        _cleanup_free_ char *l = hm_labels("function", name, NULL);
        pthread_mutex_lock(&mu);
        (void)known_get(name, l);
        pthread_mutex_unlock(&mu);
        hm_observe(F_ITERATOR_AGE, l, age_ms < 0 ? 0 : age_ms);
}

static bool listed(fn_def **v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i]->name, name) == 0)
                        return true;
        return false;
}

/* At each scrape: the store's functions get their series; gone ones lose theirs. */
static void collect(void *ud)
{
        fn_host *h = ud;
        fn_def **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_list(fn_host_db(h), &v, &n, &err) < 0)
                return; /* the store could not be read: the figures of the last scrape stay */
        pthread_mutex_lock(&mu);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *l = hm_labels("function", v[i]->name, NULL);
                (void)known_get(v[i]->name, l);
        }
        for (known **pp = &all; *pp;) {
                known *k = *pp;
                if (listed(v, n, k->name)) {
                        pp = &k->next;
                        continue;
                }
                _cleanup_free_ char *l = hm_labels("function", k->name, NULL);
                hm_forget(l);
                if (k->running > 0) {
                        /* Invocations of it still run: their end sets the gauge again, and a
                         * later scrape forgets it once they are done. */
                        k->forgotten = true;
                        pp = &k->next;
                        continue;
                }
                *pp = k->next;
                free(k);
        }
        pthread_mutex_unlock(&mu);
        for (size_t i = 0; i < n; i++)
                fn_def_free(v[i]);
        free(v);
}

void fn_metrics_start(fn_host *h)
{
        declare();
        hm_collector_add(collect, h);
}

void fn_metrics_stop(fn_host *h)
{
        hm_collector_remove(collect, h);
}
