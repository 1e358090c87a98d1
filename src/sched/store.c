/* SPDX-License-Identifier: Apache-2.0 */
/* Schedules' durable model in SQLite (STORE/sched/sched.db): schedule groups and their tags,
 * schedules (with the runner's bookkeeping: the last slot taken, the next slot and when it
 * fires) and deliveries (a taken slot's target call, pending or running). WAL, synchronous
 * FULL: a slot recorded as taken survives a crash. */
#include "sint.h"
#include "metrics/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS groups(name TEXT PRIMARY KEY, created INTEGER NOT NULL,"
        " modified INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS tags(grp TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY(grp, key));"
        "CREATE TABLE IF NOT EXISTS schedules(grp TEXT NOT NULL, name TEXT NOT NULL,"
        " description TEXT, expression TEXT NOT NULL, tz TEXT, start_ms INTEGER, end_ms INTEGER,"
        " enabled INTEGER NOT NULL, flexible INTEGER NOT NULL, window_min INTEGER NOT NULL,"
        " target TEXT NOT NULL, role TEXT, input TEXT, dlq TEXT, max_age INTEGER NOT NULL,"
        " max_retries INTEGER NOT NULL, delete_after INTEGER NOT NULL, kms TEXT,"
        " created INTEGER NOT NULL, modified INTEGER NOT NULL, anchor INTEGER NOT NULL,"
        " last_slot INTEGER, next_slot INTEGER, next_fire INTEGER, PRIMARY KEY(grp, name));"
        "CREATE INDEX IF NOT EXISTS schedules_due ON schedules(next_fire);"
        "CREATE TABLE IF NOT EXISTS deliveries(id INTEGER PRIMARY KEY, grp TEXT NOT NULL,"
        " name TEXT NOT NULL, slot INTEGER NOT NULL, target TEXT NOT NULL, input TEXT,"
        " dlq TEXT, max_age INTEGER NOT NULL, max_retries INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0, due INTEGER NOT NULL,"
        " state INTEGER NOT NULL DEFAULT 0, last_error TEXT);"
        "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, due);"
        "INSERT OR IGNORE INTO groups VALUES('default', 0, 0);";

static int fail(sched_error *err, sched_errcode code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(sched_error *err, sched_errcode code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        return -1;
}

static int db_fail(sched_engine *s, sched_error *err)
{
        return fail(err, SCHED_E_INTERNAL, "the schedule store: %s", sqlite3_errmsg(s->db));
}

int sched_exec(sched_engine *s, const char *sql)
{
        return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* ---- clocks ---- */
static int64_t real_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The test clock: the file holds epoch milliseconds (written by a test); an unreadable or
 * malformed file keeps the last value read. */
static int64_t file_ms(sched_engine *s)
{
        char buf[32];
        int fd = open(s->clock_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                char *end;
                if (n > 0) {
                        buf[n] = '\0';
                        long long v = strtoll(buf, &end, 10);
                        if (end != buf && (*end == '\0' || *end == '\n') && v > 0)
                                s->last_file_ms = v;
                }
        }
        return s->last_file_ms;
}

int64_t sched_now(sched_engine *s)
{
        if (s->clock)
                return (int64_t)s->clock(s->clock_ctx);
        if (s->clock_file)
                return file_ms(s);
        return real_ms();
}

/* ---- open / close ---- */
int sched_open(const sched_opts *o, sched_engine **ret, char *why, size_t why_len)
{
        *ret = NULL;
        sched_engine *s = calloc(1, sizeof(*s));
        if (!s) {
                snprintf(why, why_len, "out of memory");
                return -1;
        }
        pthread_mutex_init(&s->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cv, &ca);
        pthread_condattr_destroy(&ca);
        snprintf(s->region, sizeof(s->region), "%s", o->region ? o->region : "us-east-1");
        snprintf(s->account, sizeof(s->account), "%s", o->account ? o->account : "000000000000");
        s->targets = o->targets;
        s->clock = o->clock;
        s->clock_ctx = o->clock_ctx;
        /* The integration tests' clock: only when asked for explicitly, and never with an
         * injected one. */
        const char *cf = getenv("HUSK_SCHED_CLOCK_FILE");
        if (!o->clock && cf && *cf) {
                s->clock_file = strdup(cf);
                if (!s->clock_file || file_ms(s) <= 0) {
                        snprintf(why, why_len, "HUSK_SCHED_CLOCK_FILE=%s: not a file holding "
                                 "epoch milliseconds", cf);
                        sched_close(s);
                        return -1;
                }
        }
        int r = sqlite3_open_v2(o->path, &s->db,
                                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                NULL);
        if (r != SQLITE_OK) {
                snprintf(why, why_len, "%s: %s", o->path,
                         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
                sched_close(s);
                return -1;
        }
        sqlite3_busy_timeout(s->db, 10000);
        /* The default group dates from the store's first start. */
        char created_sql[160];
        snprintf(created_sql, sizeof(created_sql), "UPDATE groups SET created = %lld, modified = %lld"
                 " WHERE name = 'default' AND created = 0", (long long)sched_now(s),
                 (long long)sched_now(s));
        /* A second server on the same store would fire every slot twice: one owner. */
        if (sched_exec(s, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                          " PRAGMA synchronous=FULL;") < 0 ||
            sched_exec(s, "BEGIN IMMEDIATE") < 0 || sched_exec(s, schema) < 0 ||
            /* At most once: a target call that was running when the server stopped is not made
             * again (the target may have run); pending ones (not yet called, or waiting for a
             * retry) go on. */
            sched_exec(s, "DELETE FROM deliveries WHERE state = 1") < 0 ||
            sched_exec(s, created_sql) < 0 ||
            sched_exec(s, "COMMIT") < 0) {
                snprintf(why, why_len, "%s: %s", o->path, sqlite3_errmsg(s->db));
                sched_close(s);
                return -1;
        }
        hm_declare("husk_schedule_invocations_total", HM_COUNTER,
                   "Target calls made by a schedule (retries included).");
        hm_declare("husk_schedule_failures_total", HM_COUNTER,
                   "Target calls of a schedule that failed, and dead-letter sends that failed.");
        *ret = s;
        return 0;
}

void sched_close(sched_engine *s)
{
        if (!s)
                return;
        if (s->db)
                sqlite3_close(s->db);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s->clock_file);
        free(s);
}

/* ---- names, ARNs ---- */
static bool name_ok(const char *n)
{
        size_t len = n ? strlen(n) : 0;
        return len >= 1 && len <= SCHED_NAME_MAX &&
               strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == len;
}

char *sched_arn(sched_engine *s, const char *group, const char *name)
{
        char *a = NULL;
        if (asprintf(&a, "arn:aws:scheduler:%s:%s:schedule/%s/%s", s->region, s->account, group,
                     name) < 0)
                return NULL;
        return a;
}

char *sched_group_arn(sched_engine *s, const char *group)
{
        char *a = NULL;
        if (asprintf(&a, "arn:aws:scheduler:%s:%s:schedule-group/%s", s->region, s->account,
                     group) < 0)
                return NULL;
        return a;
}

/* "arn:aws:SERVICE:REGION:ACCOUNT:" of this server: the rest, or NULL. */
static const char *our_arn(sched_engine *s, const char *arn, const char *service)
{
        char pre[128];
        snprintf(pre, sizeof(pre), "arn:aws:%s:%s:%s:", service, s->region, s->account);
        return arn && strncmp(arn, pre, strlen(pre)) == 0 ? arn + strlen(pre) : NULL;
}

static bool queue_name_ok(const char *q)
{
        size_t len = q ? strlen(q) : 0;
        return len >= 1 && len <= 80 &&
               strspn(q, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == len;
}

/* ---- slots ---- */
int64_t sched_next_bounded(const sched_expr *e, int64_t anchor, int64_t start, int64_t end,
                           int64_t after)
{
        if (start != SCHED_NO_TIME && after < start - 1)
                after = start - 1;
        int64_t t = sched_expr_next(e, anchor, after);
        if (t == SCHED_NO_TIME || (end != SCHED_NO_TIME && t > end))
                return SCHED_NO_TIME;
        return t;
}

int64_t sched_next_slot(const char *expression, const char *tz, int64_t anchor, int64_t start,
                        int64_t end, int64_t after)
{
        sched_expr *e = NULL;
        char why[256];
        if (sched_expr_parse(expression, tz, &e, why, sizeof(why)) < 0)
                return SCHED_NO_TIME;
        int64_t t = sched_next_bounded(e, anchor, start, end, after);
        sched_expr_free(e);
        return t;
}

int64_t sched_flex_offset(const char *group, const char *name, int64_t slot, int window_min)
{
        if (window_min <= 0)
                return 0;
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        char key[200];
        int n = snprintf(key, sizeof(key), "%s/%s/%lld", group, name, (long long)slot);
        for (int i = 0; i < n && i < (int)sizeof(key); i++)
                h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
        return (int64_t)(h % ((uint64_t)window_min * 60000));
}

int sched_store_reschedule(sched_engine *s, const char *group, const char *name, int64_t after)
{
        sqlite3_stmt *st = NULL;
        int rc = -1;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT expression, tz, anchor, start_ms, end_ms, flexible,"
                               " window_min, enabled FROM schedules WHERE grp = ? AND name = ?",
                               -1, &st, NULL) != SQLITE_OK)
                return -1;
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
                int64_t start = sqlite3_column_type(st, 3) == SQLITE_NULL ? SCHED_NO_TIME
                                                                          : sqlite3_column_int64(st, 3);
                int64_t end = sqlite3_column_type(st, 4) == SQLITE_NULL ? SCHED_NO_TIME
                                                                        : sqlite3_column_int64(st, 4);
                int64_t next = sched_next_slot((const char *)sqlite3_column_text(st, 0),
                                               (const char *)sqlite3_column_text(st, 1),
                                               sqlite3_column_int64(st, 2), start, end, after);
                int win = sqlite3_column_int(st, 5) ? sqlite3_column_int(st, 6) : 0;
                bool enabled = sqlite3_column_int(st, 7);
                sqlite3_finalize(st);
                st = NULL;
                if (sqlite3_prepare_v2(s->db,
                                       "UPDATE schedules SET next_slot = ?, next_fire = ?"
                                       " WHERE grp = ? AND name = ?",
                                       -1, &st, NULL) != SQLITE_OK)
                        return -1;
                if (next == SCHED_NO_TIME || !enabled) {
                        sqlite3_bind_null(st, 1);
                        sqlite3_bind_null(st, 2);
                } else {
                        sqlite3_bind_int64(st, 1, next);
                        sqlite3_bind_int64(st, 2, next + sched_flex_offset(group, name, next, win));
                }
                sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        }
        sqlite3_finalize(st);
        return rc;
}

/* ---- schedules ---- */
void sched_def_clear(sched_def *d)
{
        free(d->description);
        free(d->expression);
        free(d->timezone);
        free(d->target_arn);
        free(d->role_arn);
        free(d->input);
        free(d->dlq_arn);
        free(d->kms_key_arn);
        memset(d, 0, sizeof(*d));
}

void sched_defs_free(sched_def *d, size_t n)
{
        for (size_t i = 0; i < n; i++)
                sched_def_clear(&d[i]);
        free(d);
}

static bool group_exists(sched_engine *s, const char *g)
{
        sqlite3_stmt *st = NULL;
        bool r = false;
        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM groups WHERE name = ?", -1, &st, NULL) ==
            SQLITE_OK) {
                sqlite3_bind_text(st, 1, g, -1, SQLITE_STATIC);
                r = sqlite3_step(st) == SQLITE_ROW;
        }
        sqlite3_finalize(st);
        return r;
}

static int64_t count_of(sched_engine *s, const char *sql)
{
        sqlite3_stmt *st = NULL;
        int64_t n = -1;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

static int validate(sched_engine *s, const sched_def *d, sched_error *err)
{
        if (!name_ok(d->name))
                return fail(err, SCHED_E_VALIDATION, "Name '%.80s': 1 to %d characters of "
                            "[0-9a-zA-Z-_.]", d->name, SCHED_NAME_MAX);
        if (!name_ok(d->group))
                return fail(err, SCHED_E_VALIDATION, "GroupName '%.80s': 1 to %d characters of "
                            "[0-9a-zA-Z-_.]", d->group, SCHED_NAME_MAX);
        if (d->description && strlen(d->description) > SCHED_DESCRIPTION_MAX)
                return fail(err, SCHED_E_VALIDATION, "Description: at most %d characters",
                            SCHED_DESCRIPTION_MAX);
        sched_expr *e = NULL;
        if (sched_expr_parse(d->expression, d->timezone, &e, err->msg, sizeof(err->msg)) < 0) {
                err->code = SCHED_E_VALIDATION;
                return -1;
        }
        sched_expr_free(e);
        if (d->start_ms != SCHED_NO_TIME && d->end_ms != SCHED_NO_TIME && d->end_ms <= d->start_ms)
                return fail(err, SCHED_E_VALIDATION, "The EndDate must be after the StartDate.");
        if (d->flexible && (d->window_minutes < 1 || d->window_minutes > 1440))
                return fail(err, SCHED_E_VALIDATION, "FlexibleTimeWindow.MaximumWindowInMinutes: "
                            "1 to 1440 with Mode FLEXIBLE");
        if (!d->flexible && d->window_minutes)
                return fail(err, SCHED_E_VALIDATION, "FlexibleTimeWindow.MaximumWindowInMinutes "
                            "is only valid with Mode FLEXIBLE");
        const char *fn = our_arn(s, d->target_arn, "lambda"), *q = our_arn(s, d->target_arn, "sqs");
        if (!d->target_arn || strlen(d->target_arn) > SCHED_ARN_MAX ||
            !((fn && strncmp(fn, "function:", 9) == 0 && fn[9]) || (q && queue_name_ok(q))))
                return fail(err, SCHED_E_VALIDATION, "Target.Arn '%.200s': a Lambda function ARN "
                            "(arn:aws:lambda:%s:%s:function:NAME) or an SQS queue ARN "
                            "(arn:aws:sqs:%s:%s:NAME) of this server", d->target_arn ? d->target_arn : "",
                            s->region, s->account, s->region, s->account);
        if (!d->role_arn || strncmp(d->role_arn, "arn:aws:iam::", 13) != 0 ||
            strlen(d->role_arn) > SCHED_ARN_MAX)
                return fail(err, SCHED_E_VALIDATION, "Target.RoleArn: an IAM role ARN "
                            "(arn:aws:iam::ACCOUNT:role/NAME; accepted, not used)");
        if (d->input && (strlen(d->input) < 1 || strlen(d->input) > SCHED_INPUT_MAX))
                return fail(err, SCHED_E_VALIDATION, "Target.Input: 1 to %u bytes (256 KB)",
                            SCHED_INPUT_MAX);
        if (d->max_age_s < 60 || d->max_age_s > 86400)
                return fail(err, SCHED_E_VALIDATION, "RetryPolicy.MaximumEventAgeInSeconds: 60 "
                            "to 86400");
        if (d->max_retries < 0 || d->max_retries > 185)
                return fail(err, SCHED_E_VALIDATION, "RetryPolicy.MaximumRetryAttempts: 0 to 185");
        const char *dq = our_arn(s, d->dlq_arn, "sqs");
        if (d->dlq_arn && !(dq && queue_name_ok(dq)))
                return fail(err, SCHED_E_VALIDATION, "DeadLetterConfig.Arn '%.200s': an SQS queue "
                            "ARN of this server (arn:aws:sqs:%s:%s:NAME)", d->dlq_arn, s->region,
                            s->account);
        return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t v)
{
        if (v == SCHED_NO_TIME)
                sqlite3_bind_null(st, i);
        else
                sqlite3_bind_int64(st, i, v);
}

int sched_put(sched_engine *s, const sched_def *din, bool create, sched_error *err)
{
        sched_def d = *din;
        if (!d.group[0])
                snprintf(d.group, sizeof(d.group), "default");
        if (validate(s, &d, err) < 0)
                return -1;
        pthread_mutex_lock(&s->mu);
        int rc = -1;
        int64_t now = sched_now(s);
        sqlite3_stmt *st = NULL;
        if (sched_exec(s, "BEGIN IMMEDIATE") < 0) {
                db_fail(s, err);
                goto out;
        }
        if (!group_exists(s, d.group)) {
                fail(err, SCHED_E_NOT_FOUND, "Schedule group %s does not exist.", d.group);
                goto rollback;
        }
        sqlite3_prepare_v2(s->db, "SELECT created FROM schedules WHERE grp = ? AND name = ?", -1,
                           &st, NULL);
        sqlite3_bind_text(st, 1, d.group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d.name, -1, SQLITE_STATIC);
        bool exists = sqlite3_step(st) == SQLITE_ROW;
        int64_t created = exists ? sqlite3_column_int64(st, 0) : now;
        sqlite3_finalize(st);
        st = NULL;
        if (create && exists) {
                fail(err, SCHED_E_CONFLICT, "Schedule %s already exists.", d.name);
                goto rollback;
        }
        if (!create && !exists) {
                fail(err, SCHED_E_NOT_FOUND, "Schedule %s does not exist.", d.name);
                goto rollback;
        }
        if (create && count_of(s, "SELECT count(*) FROM schedules") >= SCHED_SCHEDULES_MAX) {
                fail(err, SCHED_E_QUOTA, "this store holds %d schedules, the most it keeps "
                     "(SCHED_SCHEDULES_MAX); delete some first", SCHED_SCHEDULES_MAX);
                goto rollback;
        }
        /* A rate() counts from StartDate, else from this change; the first slot comes after
         * the change (a change never fires at once). */
        int64_t anchor = d.start_ms != SCHED_NO_TIME ? d.start_ms : now;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO schedules(grp, name, description, expression,"
                               " tz, start_ms, end_ms, enabled, flexible, window_min, target, role,"
                               " input, dlq, max_age, max_retries, delete_after, kms, created,"
                               " modified, anchor, last_slot) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                               "?,?,?,?,?,?,?,?)",
                               -1, &st, NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto rollback;
        }
        sqlite3_bind_text(st, 1, d.group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d.name, -1, SQLITE_STATIC);
        bind_text_or_null(st, 3, d.description);
        bind_text_or_null(st, 4, d.expression);
        bind_text_or_null(st, 5, d.timezone);
        bind_time(st, 6, d.start_ms);
        bind_time(st, 7, d.end_ms);
        sqlite3_bind_int(st, 8, d.enabled);
        sqlite3_bind_int(st, 9, d.flexible);
        sqlite3_bind_int(st, 10, d.flexible ? d.window_minutes : 0);
        bind_text_or_null(st, 11, d.target_arn);
        bind_text_or_null(st, 12, d.role_arn);
        bind_text_or_null(st, 13, d.input);
        bind_text_or_null(st, 14, d.dlq_arn);
        sqlite3_bind_int(st, 15, d.max_age_s);
        sqlite3_bind_int(st, 16, d.max_retries);
        sqlite3_bind_int(st, 17, d.delete_after);
        bind_text_or_null(st, 18, d.kms_key_arn);
        sqlite3_bind_int64(st, 19, created);
        sqlite3_bind_int64(st, 20, now);
        sqlite3_bind_int64(st, 21, anchor);
        sqlite3_bind_int64(st, 22, now);
        if (sqlite3_step(st) != SQLITE_DONE || sched_store_reschedule(s, d.group, d.name, now) < 0 ||
            sched_exec(s, "COMMIT") < 0) {
                db_fail(s, err);
                goto rollback;
        }
        rc = 0;
        pthread_cond_broadcast(&s->cv);
        goto out;
rollback:
        sched_exec(s, "ROLLBACK");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

#define DEF_COLS                                                                                   \
        "grp, name, description, expression, tz, start_ms, end_ms, enabled, flexible,"            \
        " window_min, target, role, input, dlq, max_age, max_retries, delete_after, kms, created," \
        " modified"

static char *col_dup(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *)t) : NULL;
}

static void row_def(sqlite3_stmt *st, sched_def *d)
{
        memset(d, 0, sizeof(*d));
        snprintf(d->group, sizeof(d->group), "%s", sqlite3_column_text(st, 0));
        snprintf(d->name, sizeof(d->name), "%s", sqlite3_column_text(st, 1));
        d->description = col_dup(st, 2);
        d->expression = col_dup(st, 3);
        d->timezone = col_dup(st, 4);
        d->start_ms = sqlite3_column_type(st, 5) == SQLITE_NULL ? SCHED_NO_TIME
                                                                : sqlite3_column_int64(st, 5);
        d->end_ms = sqlite3_column_type(st, 6) == SQLITE_NULL ? SCHED_NO_TIME
                                                              : sqlite3_column_int64(st, 6);
        d->enabled = sqlite3_column_int(st, 7);
        d->flexible = sqlite3_column_int(st, 8);
        d->window_minutes = sqlite3_column_int(st, 9);
        d->target_arn = col_dup(st, 10);
        d->role_arn = col_dup(st, 11);
        d->input = col_dup(st, 12);
        d->dlq_arn = col_dup(st, 13);
        d->max_age_s = sqlite3_column_int(st, 14);
        d->max_retries = sqlite3_column_int(st, 15);
        d->delete_after = sqlite3_column_int(st, 16);
        d->kms_key_arn = col_dup(st, 17);
        d->created_ms = sqlite3_column_int64(st, 18);
        d->modified_ms = sqlite3_column_int64(st, 19);
}

int sched_get(sched_engine *s, const char *group, const char *name, sched_def *ret,
              sched_error *err)
{
        if (!group || !*group)
                group = "default";
        pthread_mutex_lock(&s->mu);
        sqlite3_stmt *st = NULL;
        int rc = -1;
        if (sqlite3_prepare_v2(s->db, "SELECT " DEF_COLS " FROM schedules WHERE grp = ? AND name = ?",
                               -1, &st, NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto out;
        }
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
                row_def(st, ret);
                rc = 0;
        } else if (!group_exists(s, group))
                fail(err, SCHED_E_NOT_FOUND, "Schedule group %s does not exist.", group);
        else
                fail(err, SCHED_E_NOT_FOUND, "Schedule %s does not exist.", name);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

int sched_delete(sched_engine *s, const char *group, const char *name, sched_error *err)
{
        if (!group || !*group)
                group = "default";
        pthread_mutex_lock(&s->mu);
        sqlite3_stmt *st = NULL;
        int rc = -1;
        if (sqlite3_prepare_v2(s->db, "DELETE FROM schedules WHERE grp = ? AND name = ?", -1, &st,
                               NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto out;
        }
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                db_fail(s, err);
        else if (sqlite3_changes(s->db) == 0)
                fail(err, SCHED_E_NOT_FOUND, "Schedule %s does not exist.", name);
        else
                rc = 0;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        if (rc == 0) {
                char *l = NULL;
                if (asprintf(&l, "schedule=\"%s/%s\"", group, name) >= 0)
                        hm_forget(l);
                free(l);
        }
        return rc;
}

/* Page tokens: the hex of the last key returned ("group/name"). */
static char *token_of(const char *key)
{
        size_t n = strlen(key);
        char *t = malloc(2 * n + 1);
        for (size_t i = 0; t && i < n; i++)
                sprintf(t + 2 * i, "%02x", (unsigned char)key[i]);
        if (t)
                t[2 * n] = '\0';
        return t;
}

static int key_of(const char *tok, char *key, size_t len, sched_error *err)
{
        size_t n = strlen(tok);
        if (n % 2 || n / 2 >= len || n > 2048)
                return fail(err, SCHED_E_VALIDATION, "NextToken: not a token this server gave");
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                if (sscanf(tok + 2 * i, "%2x", &v) != 1 || v == 0)
                        return fail(err, SCHED_E_VALIDATION, "NextToken: not a token this server gave");
                key[i] = (char)v;
        }
        key[n / 2] = '\0';
        return 0;
}

int sched_list(sched_engine *s, const sched_list_req *q, sched_def **ret, size_t *ret_n,
               char **ret_next, sched_error *err)
{
        unsigned max = q->max ? q->max : 100;
        char after[2 * SCHED_NAME_MAX + 2] = "";
        *ret = NULL, *ret_n = 0, *ret_next = NULL;
        if (max > 100)
                return fail(err, SCHED_E_VALIDATION, "MaxResults: 1 to 100");
        if (q->next_token && key_of(q->next_token, after, sizeof(after), err) < 0)
                return -1;
        pthread_mutex_lock(&s->mu);
        sqlite3_stmt *st = NULL;
        int rc = -1;
        if (q->group && !group_exists(s, q->group)) {
                fail(err, SCHED_E_NOT_FOUND, "Schedule group %s does not exist.", q->group);
                goto out;
        }
        if (sqlite3_prepare_v2(s->db,
                               "SELECT " DEF_COLS " FROM schedules WHERE (?1 IS NULL OR grp = ?1)"
                               " AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2)"
                               " AND (?3 = 0 OR enabled = (?3 = 1)) AND grp || '/' || name > ?4"
                               " ORDER BY grp || '/' || name LIMIT ?5",
                               -1, &st, NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto out;
        }
        bind_text_or_null(st, 1, q->group);
        bind_text_or_null(st, 2, q->name_prefix);
        sqlite3_bind_int(st, 3, q->state);
        sqlite3_bind_text(st, 4, after, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, (int)max + 1);
        sched_def *v = calloc(max + 1, sizeof(*v));
        size_t n = 0;
        while (v && sqlite3_step(st) == SQLITE_ROW)
                row_def(st, &v[n++]);
        if (n > max) {
                char key[2 * SCHED_NAME_MAX + 2];
                snprintf(key, sizeof(key), "%s/%s", v[max - 1].group, v[max - 1].name);
                *ret_next = token_of(key);
                sched_def_clear(&v[max]);
                n = max;
        }
        *ret = v, *ret_n = n;
        rc = 0;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

/* ---- groups and tags ---- */
void sched_tags_free(sched_tag *t, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(t[i].key);
                free(t[i].value);
        }
        free(t);
}

static int put_tags(sched_engine *s, const char *g, const sched_tag *tags, size_t n,
                    sched_error *err)
{
        for (size_t i = 0; i < n; i++) {
                size_t kl = tags[i].key ? strlen(tags[i].key) : 0,
                       vl = tags[i].value ? strlen(tags[i].value) : 0;
                if (kl < 1 || kl > 128 || vl < 1 || vl > 256)
                        return fail(err, SCHED_E_VALIDATION, "Tags: keys of 1 to 128 characters, "
                                    "values of 1 to 256");
        }
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO tags VALUES(?,?,?)", -1, &st, NULL) !=
            SQLITE_OK)
                return db_fail(s, err);
        for (size_t i = 0; i < n; i++) {
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, g, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, tags[i].key, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, tags[i].value, -1, SQLITE_STATIC);
                if (sqlite3_step(st) != SQLITE_DONE) {
                        sqlite3_finalize(st);
                        return db_fail(s, err);
                }
        }
        sqlite3_finalize(st);
        sqlite3_stmt *c = NULL;
        int64_t count = -1;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM tags WHERE grp = ?", -1, &c, NULL) ==
            SQLITE_OK) {
                sqlite3_bind_text(c, 1, g, -1, SQLITE_STATIC);
                if (sqlite3_step(c) == SQLITE_ROW)
                        count = sqlite3_column_int64(c, 0);
        }
        sqlite3_finalize(c);
        if (count > SCHED_TAGS_MAX)
                return fail(err, SCHED_E_VALIDATION, "Tags: at most %d on one schedule group",
                            SCHED_TAGS_MAX);
        return 0;
}

int sched_group_create(sched_engine *s, const char *name, const sched_tag *tags, size_t n_tags,
                       sched_error *err)
{
        if (!name_ok(name))
                return fail(err, SCHED_E_VALIDATION, "Name '%.80s': 1 to %d characters of "
                            "[0-9a-zA-Z-_.]", name ? name : "", SCHED_NAME_MAX);
        pthread_mutex_lock(&s->mu);
        int rc = -1;
        int64_t now = sched_now(s);
        sqlite3_stmt *st = NULL;
        if (sched_exec(s, "BEGIN IMMEDIATE") < 0) {
                db_fail(s, err);
                goto out;
        }
        if (group_exists(s, name)) {
                fail(err, SCHED_E_CONFLICT, "Schedule group %s already exists.", name);
                goto rollback;
        }
        if (count_of(s, "SELECT count(*) FROM groups") >= SCHED_GROUPS_MAX) {
                fail(err, SCHED_E_QUOTA, "this store holds %d schedule groups, the most it keeps "
                     "(SCHED_GROUPS_MAX)", SCHED_GROUPS_MAX);
                goto rollback;
        }
        if (sqlite3_prepare_v2(s->db, "INSERT INTO groups VALUES(?,?,?)", -1, &st, NULL) !=
            SQLITE_OK) {
                db_fail(s, err);
                goto rollback;
        }
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, now);
        if (sqlite3_step(st) != SQLITE_DONE) {
                db_fail(s, err);
                goto rollback;
        }
        if (put_tags(s, name, tags, n_tags, err) < 0)
                goto rollback;
        if (sched_exec(s, "COMMIT") < 0) {
                db_fail(s, err);
                goto rollback;
        }
        rc = 0;
        goto out;
rollback:
        sched_exec(s, "ROLLBACK");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

int sched_group_get(sched_engine *s, const char *name, sched_group *ret, sched_error *err)
{
        pthread_mutex_lock(&s->mu);
        sqlite3_stmt *st = NULL;
        int rc = -1;
        if (sqlite3_prepare_v2(s->db, "SELECT created, modified FROM groups WHERE name = ?", -1,
                               &st, NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto out;
        }
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
                snprintf(ret->name, sizeof(ret->name), "%s", name);
                ret->created_ms = sqlite3_column_int64(st, 0);
                ret->modified_ms = sqlite3_column_int64(st, 1);
                rc = 0;
        } else
                fail(err, SCHED_E_NOT_FOUND, "Schedule group %s does not exist.", name);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

int sched_group_delete(sched_engine *s, const char *name, sched_error *err)
{
        if (name && strcmp(name, "default") == 0)
                return fail(err, SCHED_E_VALIDATION, "The default schedule group cannot be "
                            "deleted.");
        pthread_mutex_lock(&s->mu);
        int rc = -1;
        sqlite3_stmt *st = NULL;
        if (sched_exec(s, "BEGIN IMMEDIATE") < 0) {
                db_fail(s, err);
                goto out;
        }
        if (!group_exists(s, name)) {
                fail(err, SCHED_E_NOT_FOUND, "Schedule group %s does not exist.", name);
                goto rollback;
        }
        static const char *const dels[] = { "DELETE FROM schedules WHERE grp = ?",
                                            "DELETE FROM tags WHERE grp = ?",
                                            "DELETE FROM groups WHERE name = ?" };
        for (size_t i = 0; i < 3; i++) {
                if (sqlite3_prepare_v2(s->db, dels[i], -1, &st, NULL) != SQLITE_OK) {
                        db_fail(s, err);
                        goto rollback;
                }
                sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
                int r = sqlite3_step(st);
                sqlite3_finalize(st);
                st = NULL;
                if (r != SQLITE_DONE) {
                        db_fail(s, err);
                        goto rollback;
                }
        }
        if (sched_exec(s, "COMMIT") < 0) {
                db_fail(s, err);
                goto rollback;
        }
        rc = 0;
        goto out;
rollback:
        sched_exec(s, "ROLLBACK");
out:
        pthread_mutex_unlock(&s->mu);
        if (rc == 0) { /* its schedules' series go too */
                char *l = NULL;
                if (asprintf(&l, "schedule=\"%s/", name) >= 0)
                        hm_forget(l);
                free(l);
        }
        return rc;
}

int sched_group_list(sched_engine *s, const char *name_prefix, unsigned max,
                     const char *next_token, sched_group **ret, size_t *ret_n, char **ret_next,
                     sched_error *err)
{
        char after[SCHED_NAME_MAX + 2] = "";
        *ret = NULL, *ret_n = 0, *ret_next = NULL;
        if (!max)
                max = 100;
        if (max > 100)
                return fail(err, SCHED_E_VALIDATION, "MaxResults: 1 to 100");
        if (next_token && key_of(next_token, after, sizeof(after), err) < 0)
                return -1;
        pthread_mutex_lock(&s->mu);
        sqlite3_stmt *st = NULL;
        int rc = -1;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT name, created, modified FROM groups WHERE (?1 IS NULL OR"
                               " substr(name, 1, length(?1)) = ?1) AND name > ?2 ORDER BY name"
                               " LIMIT ?3",
                               -1, &st, NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto out;
        }
        bind_text_or_null(st, 1, name_prefix);
        sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, (int)max + 1);
        sched_group *v = calloc(max + 1, sizeof(*v));
        size_t n = 0;
        while (v && sqlite3_step(st) == SQLITE_ROW) {
                snprintf(v[n].name, sizeof(v[n].name), "%s", sqlite3_column_text(st, 0));
                v[n].created_ms = sqlite3_column_int64(st, 1);
                v[n].modified_ms = sqlite3_column_int64(st, 2);
                n++;
        }
        if (n > max) {
                *ret_next = token_of(v[max - 1].name);
                n = max;
        }
        *ret = v, *ret_n = n;
        rc = 0;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

/* The group an ARN names (arn:aws:scheduler:REGION:ACCOUNT:schedule-group/NAME), checked to
 * exist; the caller holds mu. */
static int group_of_arn(sched_engine *s, const char *arn, char *g, sched_error *err)
{
        const char *rest = our_arn(s, arn, "scheduler");
        if (!rest || strncmp(rest, "schedule-group/", 15) != 0 || !name_ok(rest + 15))
                return fail(err, SCHED_E_NOT_FOUND, "Resource %.200s does not exist (tags are kept "
                            "on schedule groups of this server).", arn ? arn : "");
        snprintf(g, SCHED_NAME_MAX + 1, "%s", rest + 15);
        if (!group_exists(s, g))
                return fail(err, SCHED_E_NOT_FOUND, "Schedule group %s does not exist.", g);
        return 0;
}

int sched_tag_resource(sched_engine *s, const char *arn, const sched_tag *tags, size_t n, sched_error *err)
{
        char g[SCHED_NAME_MAX + 1];
        pthread_mutex_lock(&s->mu);
        int rc = -1;
        if (group_of_arn(s, arn, g, err) < 0)
                goto out;
        if (sched_exec(s, "BEGIN IMMEDIATE") < 0) {
                db_fail(s, err);
                goto out;
        }
        if (put_tags(s, g, tags, n, err) < 0 || sched_exec(s, "COMMIT") < 0) {
                if (!err->code)
                        db_fail(s, err);
                sched_exec(s, "ROLLBACK");
                goto out;
        }
        rc = 0;
out:
        pthread_mutex_unlock(&s->mu);
        return rc;
}

int sched_untag_resource(sched_engine *s, const char *arn, const char *const *keys, size_t n,
                sched_error *err)
{
        char g[SCHED_NAME_MAX + 1];
        pthread_mutex_lock(&s->mu);
        int rc = -1;
        sqlite3_stmt *st = NULL;
        if (group_of_arn(s, arn, g, err) < 0)
                goto out;
        if (sqlite3_prepare_v2(s->db, "DELETE FROM tags WHERE grp = ? AND key = ?", -1, &st,
                               NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, g, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, keys[i], -1, SQLITE_STATIC);
                if (sqlite3_step(st) != SQLITE_DONE) {
                        db_fail(s, err);
                        goto out;
                }
        }
        rc = 0;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

int sched_list_tags(sched_engine *s, const char *arn, sched_tag **ret, size_t *ret_n,
               sched_error *err)
{
        char g[SCHED_NAME_MAX + 1];
        *ret = NULL, *ret_n = 0;
        pthread_mutex_lock(&s->mu);
        int rc = -1;
        sqlite3_stmt *st = NULL;
        if (group_of_arn(s, arn, g, err) < 0)
                goto out;
        if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM tags WHERE grp = ? ORDER BY key", -1,
                               &st, NULL) != SQLITE_OK) {
                db_fail(s, err);
                goto out;
        }
        sqlite3_bind_text(st, 1, g, -1, SQLITE_STATIC);
        sched_tag *v = calloc(SCHED_TAGS_MAX + 1, sizeof(*v));
        size_t n = 0;
        while (v && n <= SCHED_TAGS_MAX && sqlite3_step(st) == SQLITE_ROW) {
                v[n].key = col_dup(st, 0);
                v[n].value = col_dup(st, 1);
                n++;
        }
        *ret = v, *ret_n = n;
        rc = 0;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return rc;
}
