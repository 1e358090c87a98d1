/* SPDX-License-Identifier: Apache-2.0 */
/* husk metrics (issue 17): one process-wide registry of counters, gauges and summaries, filled by
 * the semantic modules (functions in src/fn, queues in src/queue, routes in src/gateway) and read
 * by the edge: Prometheus text at GET /metrics (src/serve/prom.c) and `husk fn stats` /
 * `husk queue stats`. No HTTP here, and nothing that blocks: every call takes one mutex briefly.
 *
 * A series is a family name plus a label set. Label sets are built with hm_labels() (escaped as
 * Prometheus text wants) and passed as that string; the registry keys series by both. Bounded:
 * at most HM_SERIES_MAX series; past it new series are dropped and counted in
 * husk_metrics_dropped_series_total (named in /metrics).
 *
 * Gauges that are a view of state (a queue's visible messages) are filled at scrape time by
 * collectors: hm_collector_add(fn, ud) is called once; fn(ud) runs before each rendering and
 * calls hm_set(). A module that goes away removes its collector first. */
#ifndef HUSK_METRICS_H
#define HUSK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define HM_SERIES_MAX 20000
#define HM_SUMMARY_WINDOW 1024 /* the newest observations a summary's quantiles are taken over */

/* The families (names are the contract between modules and tests):
 * functions, label function="NAME":
 *   husk_function_invocations_total           counter
 *   husk_function_errors_total                counter (function errors, timeouts, crashes)
 *   husk_function_throttles_total             counter (429s)
 *   husk_function_duration_milliseconds       summary: quantile="0.5"|"0.99", _max, _sum, _count
 *   husk_function_concurrent_executions       gauge (invocations running now)
 *   husk_function_iterator_age_milliseconds   summary (queue mappings: age of the batch's oldest
 *                                             message when it was handed to the function)
 *   husk_function_dead_letter_errors_total    counter (a failed event not delivered to its DLQ)
 * queues, label queue="NAME":
 *   husk_queue_messages_sent_total, husk_queue_messages_received_total,
 *   husk_queue_messages_deleted_total         counters
 *   husk_queue_messages_visible, husk_queue_messages_in_flight, husk_queue_messages_delayed,
 *   husk_queue_oldest_message_age_seconds     gauges (collector)
 * routes, labels api="ID",stage="NAME",route="KEY":
 *   husk_route_requests_total, husk_route_4xx_total, husk_route_5xx_total   counters
 *   husk_route_latency_milliseconds, husk_route_integration_latency_milliseconds   summaries
 * schedules, label schedule="GROUP/NAME":
 *   husk_schedule_invocations_total, husk_schedule_failures_total   counters */

typedef enum hm_type { HM_COUNTER = 1, HM_GAUGE, HM_SUMMARY } hm_type;

/* "k1=\"v1\",k2=\"v2\"" for the NULL-terminated pairs (k1, v1, k2, v2, ..., NULL), values
 * escaped (\\, \", \n). Allocated. */
char *hm_labels(const char *k1, ...) __attribute__((sentinel));

/* Declares a family's type and help text (idempotent; a family used before it is declared is
 * rendered "untyped"). */
void hm_declare(const char *family, hm_type type, const char *help);
void hm_inc(const char *family, const char *labels, double delta); /* counters */
void hm_set(const char *family, const char *labels, double value); /* gauges */
void hm_add(const char *family, const char *labels, double delta); /* gauges, +/- */
void hm_observe(const char *family, const char *labels, double value); /* summaries */
/* Removes every series of family whose labels contain `needle` (e.g. a deleted function's
 * `function="NAME"`), so that deleted things stop being reported. */
void hm_forget(const char *labels_needle);

typedef void (*hm_collector_fn)(void *ud);
void hm_collector_add(hm_collector_fn fn, void *ud);
void hm_collector_remove(hm_collector_fn fn, void *ud);

/* One series as read back (for rendering and for the stats commands). */
typedef struct hm_sample {
        const char *family;
        hm_type type;
        const char *help;
        const char *labels;
        double value;        /* counter/gauge; summary: the count */
        double sum, max;     /* summaries: sum since created; max, like p50 and p99, ... */
        double p50, p99;     /* summaries, over the newest HM_SUMMARY_WINDOW observations */
} hm_sample;
/* Runs the collectors, then calls fn for every series, grouped by family in name order. */
void hm_foreach(void (*fn)(const hm_sample *s, void *ud), void *ud);

#endif
