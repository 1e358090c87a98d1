/* SPDX-License-Identifier: Apache-2.0 */
/* The runner: takes due slots and calls targets.
 *
 * Taking a slot is one transaction: the schedule's last slot and next slot move on and a
 * delivery row (the target, the input, the retry policy: a copy, so that a change or a delete
 * of the schedule does not touch an event already taken) is inserted, pending. A thread then
 * claims a pending delivery (state running, one attempt more: committed) and only then calls
 * the target. The slot therefore never fires twice: a server killed between the claim and the
 * end of the call drops that delivery at its next start (at most once: the target may or may
 * not have run; it is not run again), and a delivery still pending (never called, or waiting
 * for its retry) goes on after a restart.
 *
 * Several slots due at once (a server that was down, a clock that jumped): only the latest
 * fires, and only when it is still within its window plus SCHED_GRACE_MS; older ones are
 * skipped. Retries: SCHED_RETRY_BASE_MS doubling up to SCHED_RETRY_CAP_MS (no jitter), until
 * MaximumRetryAttempts retries were made or the next one would come later than
 * MaximumEventAgeInSeconds after the slot; then the dead-letter event (the input as body, with
 * EventBridge Scheduler's message attributes) goes to the DeadLetterConfig queue. */
#include "sint.h"
#include "metrics/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAKE_BATCH 64

typedef struct delivery {
        int64_t id, slot;
        char group[SCHED_NAME_MAX + 1], name[SCHED_NAME_MAX + 1];
        char *target, *input, *dlq;
        int max_age_s, max_retries, attempts;
} delivery;

static void delivery_clear(delivery *d)
{
        free(d->target);
        free(d->input);
        free(d->dlq);
        memset(d, 0, sizeof(*d));
}

static char *dup_col(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *)t) : NULL;
}

/* Takes the slot of one due schedule (caller holds mu, inside no transaction). */
static void take_one(sched_engine *s, const char *g, const char *n, int64_t now)
{
        sqlite3_stmt *st = NULL;
        if (sched_exec(s, "BEGIN IMMEDIATE") < 0)
                return;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT expression, tz, anchor, start_ms, end_ms, flexible,"
                               " window_min, next_slot, delete_after, target, input, dlq, max_age,"
                               " max_retries FROM schedules WHERE grp = ? AND name = ?"
                               " AND next_fire <= ? AND enabled = 1",
                               -1, &st, NULL) != SQLITE_OK)
                goto rollback;
        sqlite3_bind_text(st, 1, g, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        if (sqlite3_step(st) != SQLITE_ROW)
                goto rollback;
        const char *expr = (const char *)sqlite3_column_text(st, 0),
                   *tz = (const char *)sqlite3_column_text(st, 1);
        int64_t anchor = sqlite3_column_int64(st, 2);
        int64_t start = sqlite3_column_type(st, 3) == SQLITE_NULL ? SCHED_NO_TIME
                                                                  : sqlite3_column_int64(st, 3);
        int64_t end = sqlite3_column_type(st, 4) == SQLITE_NULL ? SCHED_NO_TIME
                                                                : sqlite3_column_int64(st, 4);
        int win = sqlite3_column_int(st, 5) ? sqlite3_column_int(st, 6) : 0;
        int64_t slot = sqlite3_column_int64(st, 7);
        bool delete_after = sqlite3_column_int(st, 8);
        int64_t limit = (int64_t)win * 60000 + SCHED_GRACE_MS;
        sched_expr *e = NULL;
        char why[256];
        if (sched_expr_parse(expr, tz, &e, why, sizeof(why)) < 0)
                goto rollback; /* validated when stored: not reached */
        /* The latest slot that is due now, and not older than its limit (the walk is bounded
         * by the limit: at most a day and a minute of slots). */
        bool none = false; /* no slot left from the limit on: skipped, and no next */
        if (slot < now - limit) {
                int64_t t = sched_next_bounded(e, anchor, start, end, now - limit - 1);
                if (t != SCHED_NO_TIME)
                        slot = t;
                else
                        none = true;
        }
        while (!none) {
                int64_t t = sched_next_bounded(e, anchor, start, end, slot);
                if (t == SCHED_NO_TIME || t > now)
                        break;
                slot = t;
        }
        int64_t fire = slot + sched_flex_offset(g, n, slot, win);
        int64_t next = none ? SCHED_NO_TIME : sched_next_bounded(e, anchor, start, end, slot);
        sched_expr_free(e);
        bool due = fire <= now && now <= slot + limit;
        if (!due && slot > now - limit) {
                /* The latest slot is not due yet (its flexible offset): wait for it. */
                sqlite3_stmt *u = NULL;
                sqlite3_prepare_v2(s->db, "UPDATE schedules SET next_slot = ?, next_fire = ?"
                                   " WHERE grp = ? AND name = ?", -1, &u, NULL);
                sqlite3_bind_int64(u, 1, slot);
                sqlite3_bind_int64(u, 2, fire);
                sqlite3_bind_text(u, 3, g, -1, SQLITE_STATIC);
                sqlite3_bind_text(u, 4, n, -1, SQLITE_STATIC);
                int r = sqlite3_step(u);
                sqlite3_finalize(u);
                sqlite3_finalize(st);
                st = NULL;
                if (r != SQLITE_DONE || sched_exec(s, "COMMIT") < 0)
                        goto rollback;
                return;
        }
        sqlite3_stmt *ins = NULL;
        if (due) {
                sqlite3_prepare_v2(s->db,
                                   "INSERT INTO deliveries(grp, name, slot, target, input, dlq,"
                                   " max_age, max_retries, due) VALUES(?,?,?,?,?,?,?,?,?)",
                                   -1, &ins, NULL);
                sqlite3_bind_text(ins, 1, g, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 2, n, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 3, slot);
                sqlite3_bind_value(ins, 4, sqlite3_column_value(st, 9));
                sqlite3_bind_value(ins, 5, sqlite3_column_value(st, 10));
                sqlite3_bind_value(ins, 6, sqlite3_column_value(st, 11));
                sqlite3_bind_int(ins, 7, sqlite3_column_int(st, 12));
                sqlite3_bind_int(ins, 8, sqlite3_column_int(st, 13));
                sqlite3_bind_int64(ins, 9, now);
                int r = sqlite3_step(ins);
                sqlite3_finalize(ins);
                if (r != SQLITE_DONE)
                        goto rollback;
        }
        sqlite3_finalize(st);
        st = NULL;
        /* The slot is taken (or skipped): the schedule moves on. ActionAfterCompletion DELETE:
         * a schedule with no slot left goes. */
        const char *sql = next == SCHED_NO_TIME && delete_after
                                  ? "DELETE FROM schedules WHERE grp = ?3 AND name = ?4"
                                  : "UPDATE schedules SET last_slot = ?1, next_slot = NULL,"
                                    " next_fire = NULL WHERE grp = ?3 AND name = ?4";
        sqlite3_stmt *u = NULL;
        sqlite3_prepare_v2(s->db, sql, -1, &u, NULL);
        sqlite3_bind_int64(u, 1, slot);
        sqlite3_bind_text(u, 3, g, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 4, n, -1, SQLITE_STATIC);
        int r = sqlite3_step(u);
        sqlite3_finalize(u);
        if (r != SQLITE_DONE ||
            (!(next == SCHED_NO_TIME && delete_after) &&
             sched_store_reschedule(s, g, n, none ? now : slot) < 0) ||
            sched_exec(s, "COMMIT") < 0)
                goto rollback;
        return;
rollback:
        sqlite3_finalize(st);
        sched_exec(s, "ROLLBACK");
}

/* Takes every due slot (caller holds mu). */
static void take_slots(sched_engine *s, int64_t now)
{
        char keys[TAKE_BATCH][2][SCHED_NAME_MAX + 1];
        size_t n = 0;
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT grp, name FROM schedules WHERE next_fire <= ? AND enabled = 1"
                               " ORDER BY next_fire LIMIT ?",
                               -1, &st, NULL) != SQLITE_OK)
                return;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int(st, 2, TAKE_BATCH);
        while (n < TAKE_BATCH && sqlite3_step(st) == SQLITE_ROW) {
                snprintf(keys[n][0], sizeof(keys[n][0]), "%s", sqlite3_column_text(st, 0));
                snprintf(keys[n][1], sizeof(keys[n][1]), "%s", sqlite3_column_text(st, 1));
                n++;
        }
        sqlite3_finalize(st);
        for (size_t i = 0; i < n; i++)
                take_one(s, keys[i][0], keys[i][1], now);
}

/* Claims one due pending delivery: running, one attempt more, committed before the call. */
static bool claim(sched_engine *s, int64_t now, delivery *d)
{
        sqlite3_stmt *st = NULL;
        bool ok = false;
        if (sched_exec(s, "BEGIN IMMEDIATE") < 0)
                return false;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT id, grp, name, slot, target, input, dlq, max_age,"
                               " max_retries, attempts FROM deliveries WHERE state = 0 AND due <= ?"
                               " ORDER BY due LIMIT 1",
                               -1, &st, NULL) != SQLITE_OK)
                goto out;
        sqlite3_bind_int64(st, 1, now);
        if (sqlite3_step(st) != SQLITE_ROW)
                goto out;
        d->id = sqlite3_column_int64(st, 0);
        snprintf(d->group, sizeof(d->group), "%s", sqlite3_column_text(st, 1));
        snprintf(d->name, sizeof(d->name), "%s", sqlite3_column_text(st, 2));
        d->slot = sqlite3_column_int64(st, 3);
        d->target = dup_col(st, 4);
        d->input = dup_col(st, 5);
        d->dlq = dup_col(st, 6);
        d->max_age_s = sqlite3_column_int(st, 7);
        d->max_retries = sqlite3_column_int(st, 8);
        d->attempts = sqlite3_column_int(st, 9) + 1;
        sqlite3_finalize(st);
        st = NULL;
        char sql[128];
        snprintf(sql, sizeof(sql), "UPDATE deliveries SET state = 1, attempts = %d WHERE id = %lld",
                 d->attempts, (long long)d->id);
        ok = sched_exec(s, sql) == 0 && sched_exec(s, "COMMIT") == 0;
        if (!ok)
                delivery_clear(d);
out:
        sqlite3_finalize(st);
        if (!ok)
                sched_exec(s, "ROLLBACK");
        return ok;
}

/* "Code: message" from a target's why (src/fn/main.c's callbacks); else a generic code. */
static void split_why(const char *why, char *code, size_t code_len, const char **msg)
{
        const char *c = strstr(why, ": ");
        size_t n = c ? (size_t)(c - why) : 0;
        if (c && n > 0 && n < code_len &&
            strspn(why, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._") == n) {
                memcpy(code, why, n);
                code[n] = '\0';
                *msg = c + 2;
        } else {
                snprintf(code, code_len, "TargetInvocationFailed");
                *msg = why;
        }
}

static int call_target(sched_engine *s, const delivery *d, char *why, size_t why_len)
{
        const char *in = d->input ? d->input : "{}";
        if (strncmp(d->target, "arn:aws:sqs:", 12) == 0)
                return s->targets.send ? s->targets.send(s->targets.ud, d->target, in, strlen(in),
                                                         NULL, 0, why, why_len)
                                       : (snprintf(why, why_len, "no queue service"), -1);
        return s->targets.invoke ? s->targets.invoke(s->targets.ud, d->target, in, strlen(in), why,
                                                     why_len)
                                 : (snprintf(why, why_len, "no function service"), -1);
}

static void dead_letter(sched_engine *s, const delivery *d, const char *why, const char *cond,
                        const char *labels)
{
        if (!d->dlq || !s->targets.send)
                return;
        char code[64], retries[16], slot[40], exec_id[96];
        const char *msg;
        split_why(why, code, sizeof(code), &msg);
        snprintf(retries, sizeof(retries), "%d", d->attempts - 1);
        time_t t = (time_t)(d->slot / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(slot, sizeof(slot), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(exec_id, sizeof(exec_id), "%s-%lld", d->name, (long long)d->id);
        char *arn = sched_arn(s, d->group, d->name);
        const sched_attr attrs[] = {
                { "ERROR_CODE", code },
                { "ERROR_MESSAGE", msg },
                { "EXECUTION_ID", exec_id },
                { "EXHAUSTED_RETRY_CONDITION", cond },
                { "IS_PAYLOAD_TRUNCATED", "false" },
                { "RETRY_ATTEMPTS", retries },
                { "SCHEDULED_TIME", slot },
                { "SCHEDULE_ARN", arn ? arn : "" },
                { "TARGET_ARN", d->target },
        };
        const char *in = d->input ? d->input : "{}";
        char w[256];
        if (s->targets.send(s->targets.ud, d->dlq, in, strlen(in), attrs,
                            sizeof(attrs) / sizeof(attrs[0]), w, sizeof(w)) < 0)
                hm_inc("husk_schedule_failures_total", labels, 1);
        free(arn);
}

static int64_t backoff_ms(int attempts)
{
        int64_t b = SCHED_RETRY_BASE_MS;
        for (int i = 1; i < attempts && b < SCHED_RETRY_CAP_MS; i++)
                b *= 2;
        return b < SCHED_RETRY_CAP_MS ? b : SCHED_RETRY_CAP_MS;
}

/* Calls the target of a claimed delivery without mu, then records the outcome with it. */
static void deliver(sched_engine *s, delivery *d)
{
        char why[512] = "";
        char key[2 * SCHED_NAME_MAX + 2];
        snprintf(key, sizeof(key), "%s/%s", d->group, d->name);
        char *labels = hm_labels("schedule", key, NULL);
        pthread_mutex_unlock(&s->mu);
        int rc = call_target(s, d, why, sizeof(why));
        hm_inc("husk_schedule_invocations_total", labels ? labels : "", 1);
        if (rc < 0)
                hm_inc("husk_schedule_failures_total", labels ? labels : "", 1);
        const char *cond = NULL;
        int64_t now = 0, next = 0;
        if (rc < 0) {
                pthread_mutex_lock(&s->mu);
                now = sched_now(s);
                pthread_mutex_unlock(&s->mu);
                next = now + backoff_ms(d->attempts);
                if (d->attempts - 1 >= d->max_retries)
                        cond = "MaximumRetryAttempts";
                else if (next > d->slot + (int64_t)d->max_age_s * 1000)
                        cond = "MaximumEventAgeInSeconds";
                if (cond)
                        dead_letter(s, d, why, cond, labels ? labels : "");
        }
        pthread_mutex_lock(&s->mu);
        char sql[160];
        if (rc == 0 || cond)
                snprintf(sql, sizeof(sql), "DELETE FROM deliveries WHERE id = %lld",
                         (long long)d->id);
        else
                snprintf(sql, sizeof(sql), "UPDATE deliveries SET state = 0, due = %lld WHERE id = %lld",
                         (long long)next, (long long)d->id);
        /* On a failing store the row stays running: dropped at the next start (at most once). */
        (void)sched_exec(s, sql);
        free(labels);
}

int sched_tick(sched_engine *s)
{
        int calls = 0;
        pthread_mutex_lock(&s->mu);
        take_slots(s, sched_now(s));
        delivery d = { 0 };
        while (claim(s, sched_now(s), &d)) {
                deliver(s, &d);
                delivery_clear(&d);
                calls++;
        }
        pthread_mutex_unlock(&s->mu);
        return calls;
}

static void *runner(void *arg)
{
        sched_engine *s = arg;
        pthread_mutex_lock(&s->mu);
        while (!s->stopping) {
                int64_t now = sched_now(s);
                take_slots(s, now);
                delivery d = { 0 };
                if (claim(s, now, &d)) {
                        deliver(s, &d);
                        delivery_clear(&d);
                        continue;
                }
                /* Nothing due: look again soon (the test clock moves without telling). */
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_nsec += 200 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

int sched_start(sched_engine *s, char *why, size_t why_len)
{
        for (size_t i = 0; i < SCHED_INFLIGHT_MAX; i++) {
                int r = pthread_create(&s->threads[i], NULL, runner, s);
                if (r != 0) {
                        snprintf(why, why_len, "start the schedule runner: %s", strerror(r));
                        sched_stop(s);
                        return -1;
                }
                s->n_threads++;
        }
        return 0;
}

void sched_stop(sched_engine *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < s->n_threads; i++)
                pthread_join(s->threads[i], NULL);
        s->n_threads = 0;
}
