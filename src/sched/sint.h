/* SPDX-License-Identifier: Apache-2.0 */
/* The sched module's internals shared between its files. */
#ifndef HUSK_SCHED_SINT_H
#define HUSK_SCHED_SINT_H

#include "sched.h"

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (tz.c). */
int64_t sched_days_of(int64_t y, int m, int d);
void sched_civil_of(int64_t days, int64_t *y, int *m, int *d);

#include <pthread.h>
#include <sqlite3.h>

struct sched_engine {
        sqlite3 *db;
        pthread_mutex_t mu; /* guards db and everything below */
        pthread_cond_t cv;
        bool stopping;
        pthread_t threads[SCHED_INFLIGHT_MAX];
        size_t n_threads;
        char region[40], account[16];
        sched_targets targets;
        uint64_t (*clock)(void *ctx);
        void *clock_ctx;
        char *clock_file; /* $HUSK_SCHED_CLOCK_FILE: the test clock */
        int64_t last_file_ms;
};

int64_t sched_now(sched_engine *s);
/* The next slot of a schedule (its expression, time zone, dates, anchor) after after_ms;
 * SCHED_NO_TIME when none. */
int64_t sched_next_slot(const char *expression, const char *tz, int64_t anchor, int64_t start,
                        int64_t end, int64_t after);
/* The same with the expression parsed once (the runner's catch-up walks many slots). */
int64_t sched_next_bounded(const sched_expr *e, int64_t anchor, int64_t start, int64_t end,
                           int64_t after);
/* Where in its flexible window a slot fires: a deterministic spread (a hash of the schedule's
 * group, name and slot) over [0, window), so that schedules on one slot do not all fire at
 * once, and a restart picks the same time. */
int64_t sched_flex_offset(const char *group, const char *name, int64_t slot, int window_min);
/* Recomputes next_slot/next_fire of one schedule after after_ms (its row must exist). */
int sched_store_reschedule(sched_engine *s, const char *group, const char *name, int64_t after);
int sched_exec(sched_engine *s, const char *sql);

#endif
