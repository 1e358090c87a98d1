/* SPDX-License-Identifier: Apache-2.0 */
/* The queue engine's internals, shared by the files under src/queue (and its unit test). Not a contract. */
#ifndef HUSK_QUEUE_QINT_H
#define HUSK_QUEUE_QINT_H

#include "queue.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>

/* One unit of work for the writer thread: fn runs inside the writer's open transaction (in a
 * savepoint of its own: a failing op is rolled back alone), then the writer commits the whole
 * batch once and wakes every caller of the batch. */
typedef struct q_op q_op;
typedef int (*q_op_fn)(q_engine *q, void *arg, q_error *err);
struct q_op {
        q_op_fn fn;
        void *arg;
        q_error *err;
        int rc;
        bool done;
        bool durable;   /* needs an fsync before its caller returns */
        uint64_t epoch; /* the commit that holds its change; its caller waits for synced >= epoch */
        char wake[2][Q_NAME_MAX + 1]; /* queues whose waiters to wake after the commit */
        q_op *next;
};

/* A queue with long pollers waiting on it. */
typedef struct q_waiter q_waiter;
struct q_waiter {
        char name[Q_NAME_MAX + 1];
        pthread_cond_t cv;
        uint64_t gen;
        unsigned refs;
        q_waiter *next;
};

typedef struct q_mtask q_mtask; /* a message move task (move.c) */

#define Q_STMT_SLOTS 512
#define Q_SYNCERS 4

/* FIFO ReceiveRequestAttemptId memory (best effort, in memory only). */
typedef struct q_attempt {
        int64_t qid;
        char id[129];
        uint64_t expires;
        size_t n;
        int64_t rowids[Q_RECEIVE_MAX];
        uint64_t tokens[Q_RECEIVE_MAX];
} q_attempt;
#define Q_ATTEMPTS_MAX 256

struct q_engine {
        sqlite3 *db;
        char region[64];
        char account[32];
        q_clock_fn clock;
        void *clock_ctx;
        int wal_fd;

        pthread_mutex_t mu;
        pthread_cond_t work_cv; /* the writer waits for work */
        pthread_cond_t done_cv; /* callers wait for their op */
        q_op *head, *tail;
        bool stop;     /* the writer ends */
        bool shutdown; /* no new long poll starts, every waiter wakes */
        pthread_t writer;
        bool writer_started;
        q_waiter *waiters;

        /* writer thread only */
        q_op *cur;
        int sync_full; /* -1 unknown, 0 NORMAL, 1 FULL */
        struct {
                const char *sql;
                sqlite3_stmt *st;
        } stmts[Q_STMT_SLOTS];
        uint64_t last_sweep;
        q_attempt attempts[Q_ATTEMPTS_MAX];
        size_t attempt_next;

        /* pipelined fsync of the WAL (engine.c), under mu */
        pthread_cond_t sync_cv;
        uint64_t commit_epoch;  /* commits that wait for a sync */
        uint64_t started_epoch; /* the newest commit a running fdatasync covers */
        uint64_t synced_epoch;  /* every commit up to it is on disk */
        uint64_t failed_epoch;  /* an fdatasync covering up to it failed */
        int sync_errno;
        pthread_t syncers[Q_SYNCERS];
        size_t n_syncers;

        /* counters (under mu) */
        uint64_t n_commits, n_syncs, n_ops, n_batches;

        /* move tasks (move.c), under mu */
        q_mtask *tasks;
        pthread_cond_t move_cv;
        pthread_t mover;
        bool mover_started;
        bool mover_stop;
        uint64_t task_serial;

        /* metrics (qmetrics.c): the queues the last scrape reported, in name order; only its
         * collector touches them */
        char **m_names;
        size_t m_n;
};

/* ---- engine.c ---- */
/* false: durable batches commit with synchronous=FULL in the writer (no syncer threads); for
 * the benchmark's comparison. Read by q_engine_open. */
extern bool q_pipelined_fsync;
/* Tests: microseconds added to every WAL fsync, so that grouping does not depend on how fast
 * the test machine's disk is (tmpfs syncs in no time). 0 in production. */
extern unsigned q_test_sync_delay_us;
uint64_t q_now(q_engine *q);
int q_run(q_engine *q, q_op_fn fn, void *arg, bool durable, q_error *err);
void q_wake_later(q_engine *q, const char *name); /* from an op: wake NAME's waiters after commit */
sqlite3_stmt *q_stmt(q_engine *q, const char *sql); /* cached, reset; NULL on error */
int q_seterr(q_error *err, q_errcode code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int q_dberr(q_engine *q, q_error *err, const char *what);
void q_random(void *buf, size_t n);
/* pthread_create with every signal blocked in the new thread. */
int q_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
void q_uuid(char out[37]);
/* Counters for tests and the benchmark: commits (transactions that wrote), fsync'ing commits,
 * ops, batches. */
void q_engine_counters(q_engine *q, uint64_t *commits, uint64_t *syncs, uint64_t *ops,
                       uint64_t *batches);

/* Queue rows. */
typedef struct qinfo {
        int64_t id;
        char name[Q_NAME_MAX + 1];
        bool fifo;
        int64_t created, modified; /* ms */
        int64_t vis, delay, retention, max_size, wait;
        bool cbd;
        char dlq[Q_NAME_MAX + 1]; /* dead-letter queue name, "" when none */
        int64_t max_receive;
        char *redrive, *redrive_allow, *policy, *kms_key, *sse, *dedup_scope, *throughput;
        int64_t kms_reuse;
        int64_t last_purge, seq, n_sent, n_received, n_deleted;
} qinfo;
void qinfo_free(qinfo *i);
/* 0 found, -1 with Q_E_NONEXISTENT_QUEUE (or a db error). */
int q_load(q_engine *q, const char *name, qinfo *ret, q_error *err);
int q_load_id(q_engine *q, int64_t id, qinfo *ret, q_error *err);
/* Drop the messages of queue i past its retention (and FIFO group heads). */
int q_sweep_queue(q_engine *q, const qinfo *i, q_error *err);
int q_fifo_refresh(q_engine *q, int64_t qid, const char *grp, q_error *err);
/* The name in a queue ARN of ours, or -1. */
int q_name_from_arn(const q_engine *q, const char *arn, char name[Q_NAME_MAX + 1]);

/* ---- util.c ---- */
/* Checks a body or string attribute value against SQS's allowed characters (and UTF-8). */
bool q_chars_valid(const char *s, size_t len, uint32_t *bad);
int q_check_attrs(const q_msg_attr *a, size_t n, bool system, size_t *ret_size, q_error *err);
/* Canonical encoding of attributes sorted by name (what the MD5 covers). */
unsigned char *q_attrs_encode(const q_msg_attr *a, size_t n, size_t *ret_len);
int q_attrs_decode(const unsigned char *b, size_t len, q_msg_attr **ret, size_t *ret_n);
void q_md5_hex(const void *data, size_t len, char out[33]);
void q_sha256_hex(const void *data, size_t len, char out[65]);
bool q_batch_id_valid(const char *id);

/* Long-poll waiters (engine.c). */
q_waiter *q_waiter_get(q_engine *q, const char *name, uint64_t *gen);
void q_waiter_put(q_engine *q, q_waiter *w);
struct timespec;
bool q_waiter_wait(q_engine *q, q_waiter *w, uint64_t gen, const struct timespec *until);

/* Moves message rowid to queue d as a new row (FIFO order in d follows arrival), visible now;
 * src: the queue it came from (kept for redrive), or NULL; reset_rc: receive count back to 0. */
int q_move_row(q_engine *q, int64_t rowid, const qinfo *d, const char *src, bool reset_rc,
               uint64_t now, q_error *err);

/* ---- move.c ---- */
void q_move_stop(q_engine *q);

/* ---- qmetrics.c ---- */
/* The registry's collector of this engine's queues (q_engine_open adds it, q_engine_close
 * removes it first, with the engine's series). */
void q_metrics_start(q_engine *q);
void q_metrics_stop(q_engine *q);

#endif
