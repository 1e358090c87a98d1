/* SPDX-License-Identifier: Apache-2.0 */
/* Dead-letter redrive (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask): one
 * background thread moves the visible messages of a dead-letter queue back to the queue each
 * came from (or to a given destination) in chunks, each chunk one op of the writer, at most
 * max_per_second. Moved messages start over: receive count 0. Tasks live in memory (a restart
 * forgets them; messages already moved stay moved). */
#include "qint.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define Q_MOVE_CHUNK 100
#define Q_TASKS_MAX 1000

struct q_mtask {
        char handle[80];
        char source[Q_NAME_MAX + 1];
        char dest[Q_NAME_MAX + 1]; /* "" : the original sources */
        char status[16];
        uint64_t moved, to_move;
        uint32_t max_per_second;
        uint64_t started_ms;
        char failure[200];
        q_mtask *next;
};

/* An ARN of ours or a bare name, to a name. */
static int resolve(const q_engine *q, const char *s, char name[Q_NAME_MAX + 1])
{
        if (!s)
                return -1;
        if (strncmp(s, "arn:", 4) == 0)
                return q_name_from_arn(q, s, name);
        if (!q_name_valid(s))
                return -1;
        snprintf(name, Q_NAME_MAX + 1, "%s", s);
        return 0;
}

struct chunk_arg {
        const char *source, *dest;
        unsigned max;
        uint64_t moved;
        bool done;
        char failure[200];
};

static int chunk_op(q_engine *q, void *p, q_error *err)
{
        struct chunk_arg *a = p;
        qinfo s, d = { 0 };
        if (q_load(q, a->source, &s, err) < 0) {
                snprintf(a->failure, sizeof(a->failure), "the source queue %s was deleted",
                         a->source);
                return 0;
        }
        uint64_t now = q_now(q);
        sqlite3_stmt *st = q_stmt(
                q,
                "SELECT id, src, grp FROM messages WHERE qid = ?1 AND visible_at <= ?2 ORDER BY id LIMIT ?3");
        if (!st) {
                qinfo_free(&s);
                return q_dberr(q, err, "move");
        }
        sqlite3_bind_int64(st, 1, s.id);
        sqlite3_bind_int64(st, 2, (int64_t)now);
        sqlite3_bind_int64(st, 3, a->max);
        int64_t ids[Q_MOVE_CHUNK];
        char *srcs[Q_MOVE_CHUNK], *grps[Q_MOVE_CHUNK];
        size_t n = 0;
        while (n < a->max && n < Q_MOVE_CHUNK && sqlite3_step(st) == SQLITE_ROW) {
                ids[n] = sqlite3_column_int64(st, 0);
                const unsigned char *t = sqlite3_column_text(st, 1);
                srcs[n] = t ? xstrdup((const char *)t) : NULL;
                t = sqlite3_column_text(st, 2);
                grps[n++] = t ? xstrdup((const char *)t) : NULL;
        }
        sqlite3_reset(st);
        int r = 0;
        if (n == 0)
                a->done = true;
        for (size_t k = 0; k < n; k++) {
                const char *to = a->dest ? a->dest : srcs[k];
                if (r == 0 && !a->failure[0]) {
                        if (!to || (d.id == 0 || strcmp(d.name, to) != 0)) {
                                qinfo_free(&d);
                                if (!to || q_load(q, to, &d, NULL) < 0) {
                                        snprintf(a->failure, sizeof(a->failure),
                                                 "the destination queue %s does not exist",
                                                 to ? to : "(unknown)");
                                        memset(&d, 0, sizeof(d));
                                }
                        }
                        if (!a->failure[0] && d.fifo != s.fifo)
                                snprintf(a->failure, sizeof(a->failure),
                                         "the destination queue %s is not of the source's type",
                                         d.name);
                        if (!a->failure[0]) {
                                r = q_move_row(q, ids[k], &d, NULL, true, now, err);
                                if (r == 0)
                                        a->moved++;
                                if (r == 0 && grps[k])
                                        r = q_fifo_refresh(q, s.id, grps[k], err);
                        }
                }
                free(srcs[k]);
                free(grps[k]);
        }
        qinfo_free(&s);
        qinfo_free(&d);
        return r;
}

static q_mtask *running_task(q_engine *q)
{
        for (q_mtask *t = q->tasks; t; t = t->next)
                if (strcmp(t->status, "RUNNING") == 0)
                        return t;
        return NULL;
}

static void *mover_main(void *arg)
{
        q_engine *q = arg;
        pthread_mutex_lock(&q->mu);
        while (!q->mover_stop) {
                q_mtask *t = running_task(q);
                if (!t) {
                        pthread_cond_wait(&q->move_cv, &q->mu);
                        continue;
                }
                char source[Q_NAME_MAX + 1], dest[Q_NAME_MAX + 1];
                snprintf(source, sizeof(source), "%s", t->source);
                snprintf(dest, sizeof(dest), "%s", t->dest);
                unsigned max = Q_MOVE_CHUNK;
                if (t->max_per_second && t->max_per_second < max)
                        max = t->max_per_second;
                uint32_t rate = t->max_per_second;
                pthread_mutex_unlock(&q->mu);

                struct chunk_arg a = { .source = source,
                                       .dest = dest[0] ? dest : NULL,
                                       .max = max };
                q_error e = { 0 };
                int r = q_run(q, chunk_op, &a, true, &e);

                pthread_mutex_lock(&q->mu);
                /* the task may have been cancelled meanwhile: it stays in the list */
                t->moved += a.moved;
                if (strcmp(t->status, "RUNNING") == 0) {
                        if (r < 0 || a.failure[0]) {
                                snprintf(t->status, sizeof(t->status), "FAILED");
                                snprintf(t->failure, sizeof(t->failure), "%.199s",
                                         r < 0 ? e.msg : a.failure);
                        } else if (a.done) {
                                snprintf(t->status, sizeof(t->status), "COMPLETED");
                        }
                }
                if (rate && a.moved && !q->mover_stop) {
                        struct timespec until;
                        clock_gettime(CLOCK_MONOTONIC, &until);
                        uint64_t ns = a.moved * 1000000000ull / rate;
                        until.tv_sec += (time_t)(ns / 1000000000ull);
                        until.tv_nsec += (long)(ns % 1000000000ull);
                        if (until.tv_nsec >= 1000000000) {
                                until.tv_sec++;
                                until.tv_nsec -= 1000000000;
                        }
                        while (!q->mover_stop &&
                               pthread_cond_timedwait(&q->move_cv, &q->mu, &until) == 0) {
                        }
                }
        }
        pthread_mutex_unlock(&q->mu);
        return NULL;
}

void q_move_stop(q_engine *q)
{
        pthread_mutex_lock(&q->mu);
        q->mover_stop = true;
        pthread_cond_broadcast(&q->move_cv);
        bool started = q->mover_started;
        pthread_mutex_unlock(&q->mu);
        if (started)
                pthread_join(q->mover, NULL);
        q->mover_started = false;
        for (q_mtask *t = q->tasks, *n; t; t = n) {
                n = t->next;
                free(t);
        }
        q->tasks = NULL;
}

struct start_arg {
        const char *source, *dest;
        uint64_t to_move;
};

static int start_op(q_engine *q, void *p, q_error *err)
{
        struct start_arg *a = p;
        qinfo s;
        if (q_load(q, a->source, &s, NULL) < 0)
                return q_seterr(
                        err, Q_E_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the SourceArn parameter doesn't exist.");
        sqlite3_stmt *st = q_stmt(q, "SELECT COUNT(*) FROM queues WHERE dlq = ?1");
        if (!st) {
                qinfo_free(&s);
                return q_dberr(q, err, "move");
        }
        sqlite3_bind_text(st, 1, s.name, -1, SQLITE_STATIC);
        int64_t sources = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        int r = 0;
        if (sources == 0)
                r = q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Source queue %s must be configured as a dead-letter queue (no queue's RedrivePolicy names it).",
                        s.name);
        if (r == 0 && a->dest) {
                qinfo d;
                if (q_load(q, a->dest, &d, NULL) < 0)
                        r = q_seterr(
                                err, Q_E_RESOURCE_NOT_FOUND,
                                "The resource that you specified for the DestinationArn parameter doesn't exist.");
                else {
                        if (d.fifo != s.fifo)
                                r = q_seterr(
                                        err, Q_E_INVALID_PARAMETER,
                                        "The destination queue must be of the source queue's type.");
                        qinfo_free(&d);
                }
        }
        if (r == 0) {
                st = q_stmt(q, "SELECT COUNT(*) FROM messages WHERE qid = ?1");
                if (st) {
                        sqlite3_bind_int64(st, 1, s.id);
                        a->to_move = sqlite3_step(st) == SQLITE_ROW
                                             ? (uint64_t)sqlite3_column_int64(st, 0)
                                             : 0;
                        sqlite3_reset(st);
                }
        }
        qinfo_free(&s);
        return r;
}

int q_move_start(q_engine *q, const char *source, const char *dest, uint32_t max_per_second,
                 char **ret_task_handle, q_error *err)
{
        char sname[Q_NAME_MAX + 1], dname[Q_NAME_MAX + 1];
        if (!source || !*source)
                return q_seterr(err, Q_E_MISSING_PARAMETER,
                                "The request must contain the parameter SourceArn.");
        if (resolve(q, source, sname) < 0)
                return q_seterr(
                        err, Q_E_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the SourceArn parameter doesn't exist.");
        if (dest && *dest && resolve(q, dest, dname) < 0)
                return q_seterr(
                        err, Q_E_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the DestinationArn parameter doesn't exist.");
        if (max_per_second > 500)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %u for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: at most 500.",
                        max_per_second);
        struct start_arg a = { .source = sname, .dest = dest && *dest ? dname : NULL };
        if (q_run(q, start_op, &a, false, err) < 0)
                return -1;
        pthread_mutex_lock(&q->mu);
        size_t ntasks = 0;
        for (q_mtask *t = q->tasks; t; t = t->next, ntasks++)
                if (strcmp(t->source, sname) == 0 && strcmp(t->status, "RUNNING") == 0) {
                        pthread_mutex_unlock(&q->mu);
                        return q_seterr(err, Q_E_INVALID_PARAMETER,
                                        "A message move task is already running on %s.", sname);
                }
        if (q->mover_stop) {
                pthread_mutex_unlock(&q->mu);
                return q_seterr(err, Q_E_INTERNAL, "the queue engine is closing");
        }
        /* bound the history: drop the oldest finished tasks */
        while (ntasks >= Q_TASKS_MAX) {
                q_mtask **pp = &q->tasks, **last = NULL;
                for (; *pp; pp = &(*pp)->next)
                        if (strcmp((*pp)->status, "RUNNING") != 0)
                                last = pp;
                if (!last)
                        break;
                q_mtask *old = *last;
                *last = old->next;
                free(old);
                ntasks--;
        }
        q_mtask *t = xcalloc(1, sizeof(*t));
        char id[37];
        q_uuid(id);
        snprintf(t->handle, sizeof(t->handle), "%s", id);
        snprintf(t->source, sizeof(t->source), "%s", sname);
        if (a.dest)
                snprintf(t->dest, sizeof(t->dest), "%s", dname);
        snprintf(t->status, sizeof(t->status), "RUNNING");
        t->to_move = a.to_move;
        t->max_per_second = max_per_second;
        t->started_ms = q_now(q);
        t->next = q->tasks;
        q->tasks = t;
        if (!q->mover_started) {
                if (q_thread_start(&q->mover, mover_main, q) != 0) {
                        snprintf(t->status, sizeof(t->status), "FAILED");
                        pthread_mutex_unlock(&q->mu);
                        return q_seterr(err, Q_E_INTERNAL, "cannot start the message mover thread");
                }
                q->mover_started = true;
        }
        pthread_cond_broadcast(&q->move_cv);
        if (ret_task_handle)
                *ret_task_handle = xstrdup(t->handle);
        pthread_mutex_unlock(&q->mu);
        return 0;
}

int q_move_cancel(q_engine *q, const char *task_handle, uint64_t *ret_moved, q_error *err)
{
        pthread_mutex_lock(&q->mu);
        for (q_mtask *t = q->tasks; t; t = t->next) {
                if (!task_handle || strcmp(t->handle, task_handle) != 0)
                        continue;
                if (strcmp(t->status, "RUNNING") != 0) {
                        pthread_mutex_unlock(&q->mu);
                        return q_seterr(
                                err, Q_E_UNSUPPORTED_OPERATION,
                                "Only a RUNNING message move task can be cancelled; this one is %s.",
                                t->status);
                }
                snprintf(t->status, sizeof(t->status), "CANCELLED");
                if (ret_moved)
                        *ret_moved = t->moved;
                pthread_mutex_unlock(&q->mu);
                return 0;
        }
        pthread_mutex_unlock(&q->mu);
        return q_seterr(err, Q_E_RESOURCE_NOT_FOUND, "The message move task %.100s does not exist.",
                        task_handle ? task_handle : "");
}

static int exists_op(q_engine *q, void *p, q_error *err)
{
        qinfo i;
        if (q_load(q, p, &i, NULL) < 0)
                return q_seterr(
                        err, Q_E_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the SourceArn parameter doesn't exist.");
        qinfo_free(&i);
        return 0;
}

int q_move_list(q_engine *q, const char *source, unsigned max, q_move_task **ret, size_t *ret_n,
                q_error *err)
{
        *ret = NULL;
        *ret_n = 0;
        char sname[Q_NAME_MAX + 1];
        if (resolve(q, source, sname) < 0)
                return q_seterr(
                        err, Q_E_RESOURCE_NOT_FOUND,
                        "The resource that you specified for the SourceArn parameter doesn't exist.");
        if (max > 10)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %u for parameter MaxResults is invalid. Reason: must be between 1 and 10.",
                        max);
        if (q_run(q, exists_op, sname, false, err) < 0)
                return -1;
        if (max == 0)
                max = 1;
        q_move_task *v = xcalloc(max, sizeof(*v));
        size_t n = 0;
        pthread_mutex_lock(&q->mu);
        for (q_mtask *t = q->tasks; t && n < max; t = t->next) {
                if (strcmp(t->source, sname) != 0)
                        continue;
                v[n].task_handle = strcmp(t->status, "RUNNING") == 0 ? xstrdup(t->handle) : NULL;
                v[n].source_arn = q_queue_arn(q, t->source);
                v[n].dest_arn = t->dest[0] ? q_queue_arn(q, t->dest) : NULL;
                v[n].status = xstrdup(t->status);
                v[n].moved = t->moved;
                v[n].to_move = t->to_move;
                v[n].max_per_second = t->max_per_second;
                v[n].started_ms = t->started_ms;
                n++;
        }
        pthread_mutex_unlock(&q->mu);
        *ret = v;
        *ret_n = n;
        return 0;
}

void q_move_tasks_free(q_move_task *t, size_t n)
{
        if (!t)
                return;
        for (size_t i = 0; i < n; i++) {
                free(t[i].task_handle);
                free(t[i].source_arn);
                free(t[i].dest_arn);
                free(t[i].status);
        }
        free(t);
}
