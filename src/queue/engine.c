/* SPDX-License-Identifier: Apache-2.0 */
/* The queue engine's core: the SQLite store, the writer thread (group commit) and the waiters.
 *
 * Every call is an op handed to one writer thread. The writer takes every op queued so far, runs
 * them in one transaction (each in a savepoint of its own, so a failing op is undone alone) and
 * commits once. The commit is written to the WAL without an fsync (synchronous=NORMAL); then a
 * syncer thread fdatasync()s the WAL file, and only then do the callers of ops that changed state
 * (sends, deletes, visibility changes, queue changes) return. So an acknowledged change is on
 * disk exactly as with synchronous=FULL (a WAL commit is durable once its frames are synced;
 * SQLite itself syncs the WAL before every checkpoint), but the writer does not stop for the
 * fsync: it commits the next batch while up to Q_SYNCERS fsyncs run, and N concurrent senders
 * share one fsync. Reads and receives do not wait for an fsync (a receive lost in a crash only
 * makes its message visible again early, which SQS allows). Long pollers are woken at commit.
 * If the WAL file cannot be opened, durable batches fall back to synchronous=FULL commits. */
#include "qint.h"
#include "util/util.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS queues ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, fifo INTEGER NOT NULL,"
        " created INTEGER NOT NULL, modified INTEGER NOT NULL, vis INTEGER NOT NULL,"
        " delay INTEGER NOT NULL, retention INTEGER NOT NULL, max_size INTEGER NOT NULL,"
        " wait INTEGER NOT NULL, cbd INTEGER NOT NULL, dlq TEXT NOT NULL, max_receive INTEGER NOT NULL,"
        " redrive TEXT, redrive_allow TEXT, policy TEXT, kms_key TEXT, sse TEXT, dedup_scope TEXT,"
        " throughput TEXT, kms_reuse INTEGER NOT NULL, last_purge INTEGER NOT NULL DEFAULT 0,"
        " seq INTEGER NOT NULL DEFAULT 0, n_sent INTEGER NOT NULL DEFAULT 0,"
        " n_received INTEGER NOT NULL DEFAULT 0, n_deleted INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX IF NOT EXISTS queues_dlq ON queues (dlq, name);"
        "CREATE TABLE IF NOT EXISTS tags (qid INTEGER NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL,"
        " PRIMARY KEY (qid, k)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS deleted_queues (name TEXT PRIMARY KEY, at INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        /* id: FIFO order within a queue (a new row's id is above every existing one) */
        "CREATE TABLE IF NOT EXISTS messages ("
        " id INTEGER PRIMARY KEY, qid INTEGER NOT NULL, mid TEXT NOT NULL, nonce INTEGER NOT NULL,"
        " body BLOB NOT NULL, attrs BLOB, md5_body TEXT NOT NULL, md5_attrs TEXT NOT NULL,"
        " trace TEXT, md5_sys TEXT NOT NULL, sender TEXT NOT NULL, sent INTEGER NOT NULL,"
        " visible_at INTEGER NOT NULL, rc INTEGER NOT NULL DEFAULT 0,"
        " first_rc INTEGER NOT NULL DEFAULT 0, token INTEGER NOT NULL DEFAULT 0, grp TEXT,"
        " dedup TEXT, seq TEXT, src TEXT);"
        "CREATE INDEX IF NOT EXISTS messages_vis ON messages (qid, visible_at);"
        "CREATE INDEX IF NOT EXISTS messages_sent ON messages (qid, sent);"
        "CREATE INDEX IF NOT EXISTS messages_grp ON messages (qid, grp, id) WHERE grp IS NOT NULL;"
        /* FIFO: one row per message group that has messages: its head (lowest id) and when
         * that head is visible */
        "CREATE TABLE IF NOT EXISTS groups (qid INTEGER NOT NULL, grp TEXT NOT NULL,"
        " head INTEGER NOT NULL, avail INTEGER NOT NULL, PRIMARY KEY (qid, grp)) WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS groups_avail ON groups (qid, avail);"
        "CREATE TABLE IF NOT EXISTS dedup (qid INTEGER NOT NULL, k TEXT NOT NULL, mid TEXT NOT NULL,"
        " seq TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (qid, k)) WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS dedup_exp ON dedup (expires);";

bool q_pipelined_fsync = true;
unsigned q_test_sync_delay_us;

/* ---- small things ---- */
static uint64_t real_clock(void *ctx)
{
        (void)ctx;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t q_now(q_engine *q)
{
        return q->clock(q->clock_ctx);
}

/* libcrypto's DRBG (seeded by the kernel; no syscall per call), getrandom if it fails. */
void q_random(void *buf, size_t n)
{
        if (n <= INT_MAX && RAND_bytes(buf, (int)n) == 1)
                return;
        unsigned char *p = buf;
        while (n > 0) {
                ssize_t r = getrandom(p, n, 0);
                if (r <= 0)
                        continue; /* EINTR; the pool is initialised long after boot */
                p += r;
                n -= (size_t)r;
        }
}

int q_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
        /* engine threads take no process signals: the server's sigwait() gets them, whenever
         * the engine was opened */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int r = pthread_create(t, NULL, fn, arg);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return r;
}

void q_uuid(char out[37])
{
        unsigned char b[16];
        q_random(b, sizeof(b));
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
}

int q_dberr(q_engine *q, q_error *err, const char *what)
{
        return q_seterr(err, Q_E_INTERNAL, "queue store: %s: %s", what, sqlite3_errmsg(q->db));
}

sqlite3_stmt *q_stmt(q_engine *q, const char *sql)
{
        size_t h = ((uintptr_t)sql >> 3) % Q_STMT_SLOTS;
        for (size_t i = 0; i < Q_STMT_SLOTS; i++) {
                size_t k = (h + i) % Q_STMT_SLOTS;
                if (q->stmts[k].sql == sql) {
                        sqlite3_reset(q->stmts[k].st);
                        sqlite3_clear_bindings(q->stmts[k].st);
                        return q->stmts[k].st;
                }
                if (!q->stmts[k].sql) {
                        sqlite3_stmt *st = NULL;
                        if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                                               NULL) != SQLITE_OK)
                                return NULL;
                        q->stmts[k].sql = sql;
                        q->stmts[k].st = st;
                        return st;
                }
        }
        return NULL;
}

static int exec(q_engine *q, const char *sql)
{
        sqlite3_stmt *st = q_stmt(q, sql);
        if (!st)
                return -1;
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        return r == SQLITE_DONE || r == SQLITE_ROW ? 0 : -1;
}

void q_engine_counters(q_engine *q, uint64_t *commits, uint64_t *syncs, uint64_t *ops,
                       uint64_t *batches)
{
        pthread_mutex_lock(&q->mu);
        if (commits)
                *commits = q->n_commits;
        if (syncs)
                *syncs = q->n_syncs;
        if (ops)
                *ops = q->n_ops;
        if (batches)
                *batches = q->n_batches;
        pthread_mutex_unlock(&q->mu);
}

/* ---- waiters ---- */
static q_waiter *waiter_find(q_engine *q, const char *name)
{
        for (q_waiter *w = q->waiters; w; w = w->next)
                if (strcmp(w->name, name) == 0)
                        return w;
        return NULL;
}

/* Under mu. */
static void wake_name(q_engine *q, const char *name)
{
        q_waiter *w = waiter_find(q, name);
        if (w) {
                w->gen++;
                pthread_cond_broadcast(&w->cv);
        }
}

void q_wake_later(q_engine *q, const char *name)
{
        if (!q->cur)
                return;
        for (size_t i = 0; i < 2; i++) {
                if (strcmp(q->cur->wake[i], name) == 0)
                        return;
                if (!q->cur->wake[i][0]) {
                        snprintf(q->cur->wake[i], sizeof(q->cur->wake[i]), "%s", name);
                        return;
                }
        }
}

/* ---- the writer ---- */
static int sweep_all(q_engine *q, uint64_t now)
{
        sqlite3_stmt *st = q_stmt(q, "DELETE FROM dedup WHERE expires <= ?1");
        if (!st)
                return -1;
        sqlite3_bind_int64(st, 1, (int64_t)now);
        sqlite3_step(st);
        sqlite3_reset(st);
        st = q_stmt(q, "DELETE FROM deleted_queues WHERE at <= ?1");
        if (!st)
                return -1;
        sqlite3_bind_int64(st, 1, (int64_t)now - 60000);
        sqlite3_step(st);
        sqlite3_reset(st);
        /* retention, queue by queue */
        st = q_stmt(q, "SELECT name FROM queues ORDER BY id");
        if (!st)
                return -1;
        char **names = NULL;
        size_t n = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                names = xrealloc(names, (n + 1) * sizeof(*names));
                names[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_reset(st);
        for (size_t i = 0; i < n; i++) {
                qinfo qi;
                q_error e;
                if (q_load(q, names[i], &qi, &e) == 0) {
                        q_sweep_queue(q, &qi, &e);
                        qinfo_free(&qi);
                }
                free(names[i]);
        }
        free(names);
        return 0;
}

static void *writer_main(void *arg)
{
        q_engine *q = arg;
        pthread_mutex_lock(&q->mu);
        for (;;) {
                while (!q->head && !q->stop)
                        pthread_cond_wait(&q->work_cv, &q->mu);
                if (!q->head)
                        break;
                q_op *batch = q->head;
                q->head = q->tail = NULL;
                pthread_mutex_unlock(&q->mu);

                bool durable = false;
                size_t nops = 0;
                for (q_op *o = batch; o; o = o->next, nops++)
                        durable |= o->durable;
                /* with our own WAL fsync every commit is NORMAL; without, durable ones are FULL */
                int want = durable && q->wal_fd < 0 ? 1 : 0;
                if (q->sync_full != want) {
                        if (sqlite3_exec(q->db,
                                         want ? "PRAGMA synchronous=FULL"
                                              : "PRAGMA synchronous=NORMAL",
                                         NULL, NULL, NULL) == SQLITE_OK)
                                q->sync_full = want;
                }
                int before = sqlite3_total_changes(q->db);
                bool ok = exec(q, "BEGIN IMMEDIATE") == 0;
                if (ok) {
                        uint64_t now = q_now(q);
                        if (now >= q->last_sweep + 60000 || now < q->last_sweep) {
                                q->last_sweep = now;
                                if (exec(q, "SAVEPOINT sweep") == 0) {
                                        if (sweep_all(q, now) < 0)
                                                exec(q, "ROLLBACK TO sweep");
                                        exec(q, "RELEASE sweep");
                                }
                        }
                        for (q_op *o = batch; o; o = o->next) {
                                q->cur = o;
                                if (exec(q, "SAVEPOINT op") < 0) {
                                        o->rc = q_dberr(q, o->err, "savepoint");
                                        continue;
                                }
                                o->rc = o->fn(q, o->arg, o->err);
                                if (o->rc < 0) {
                                        exec(q, "ROLLBACK TO op");
                                        o->wake[0][0] = o->wake[1][0] = 0;
                                }
                                exec(q, "RELEASE op");
                        }
                        q->cur = NULL;
                        ok = exec(q, "COMMIT") == 0;
                        if (!ok) {
                                q_error e;
                                q_dberr(q, &e, "commit");
                                sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
                                for (q_op *o = batch; o; o = o->next)
                                        if (o->rc == 0) {
                                                o->rc = -1;
                                                if (o->err)
                                                        *o->err = e;
                                        }
                        }
                } else {
                        for (q_op *o = batch; o; o = o->next)
                                o->rc = q_dberr(q, o->err, "begin");
                }
                bool wrote = sqlite3_total_changes(q->db) != before;

                pthread_mutex_lock(&q->mu);
                q->n_batches++;
                q->n_ops += nops;
                if (ok && wrote) {
                        q->n_commits++;
                        if (durable && q->wal_fd < 0)
                                q->n_syncs++;
                        if (durable && q->wal_fd >= 0) {
                                uint64_t epoch = ++q->commit_epoch;
                                for (q_op *o = batch; o; o = o->next)
                                        if (o->durable && o->rc == 0)
                                                o->epoch = epoch;
                                pthread_cond_signal(&q->sync_cv);
                        }
                }
                for (q_op *o = batch, *next; o; o = next) {
                        next = o->next;
                        if (o->rc == 0)
                                for (size_t i = 0; i < 2; i++)
                                        if (o->wake[i][0])
                                                wake_name(q, o->wake[i]);
                        o->done = true;
                }
                pthread_cond_broadcast(&q->done_cv);
        }
        pthread_mutex_unlock(&q->mu);
        return NULL;
}

int q_run(q_engine *q, q_op_fn fn, void *arg, bool durable, q_error *err)
{
        q_op op = { .fn = fn, .arg = arg, .err = err, .durable = durable };
        pthread_mutex_lock(&q->mu);
        if (q->stop) {
                pthread_mutex_unlock(&q->mu);
                return q_seterr(err, Q_E_INTERNAL, "the queue engine is closing");
        }
        if (q->tail)
                q->tail->next = &op;
        else
                q->head = &op;
        q->tail = &op;
        pthread_cond_signal(&q->work_cv);
        while (!op.done || (op.epoch && q->synced_epoch < op.epoch && q->failed_epoch < op.epoch))
                pthread_cond_wait(&q->done_cv, &q->mu);
        if (op.epoch && q->synced_epoch < op.epoch) {
                int e = q->sync_errno;
                pthread_mutex_unlock(&q->mu);
                return q_seterr(err, Q_E_INTERNAL, "queue store: fsync of the WAL failed: %s",
                                strerror(e));
        }
        pthread_mutex_unlock(&q->mu);
        return op.rc;
}

/* A syncer: whenever a commit is newer than what running fsyncs cover, fdatasync the WAL. */
static void *syncer_main(void *arg)
{
        q_engine *q = arg;
        pthread_mutex_lock(&q->mu);
        for (;;) {
                while (q->commit_epoch <= q->started_epoch && !q->stop)
                        pthread_cond_wait(&q->sync_cv, &q->mu);
                if (q->commit_epoch <= q->started_epoch)
                        break;
                uint64_t e = q->commit_epoch;
                q->started_epoch = e;
                pthread_mutex_unlock(&q->mu);
                if (q_test_sync_delay_us)
                        usleep(q_test_sync_delay_us);
                int r = fdatasync(q->wal_fd) == 0 ? 0 : errno;
                pthread_mutex_lock(&q->mu);
                q->n_syncs++;
                if (r == 0) {
                        if (e > q->synced_epoch)
                                q->synced_epoch = e;
                } else {
                        q->sync_errno = r;
                        if (e > q->failed_epoch)
                                q->failed_epoch = e;
                }
                pthread_cond_broadcast(&q->done_cv);
        }
        pthread_mutex_unlock(&q->mu);
        return NULL;
}

/* The WAL file, for the syncers; and its directory entry on disk. */
static void open_wal(q_engine *q, const char *path)
{
        _cleanup_free_ char *wal = xasprintf("%s-wal", path);
        int fd = open(wal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return;
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = 0;
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0 || fdatasync(fd) < 0) {
                if (dfd >= 0)
                        close(dfd);
                close(fd);
                return;
        }
        close(dfd);
        q->wal_fd = fd;
}

/* ---- open / close ---- */
int q_engine_open(const char *path, const q_config *cfg, q_engine **ret, q_error *err)
{
        q_engine *q = xcalloc(1, sizeof(*q));
        q->wal_fd = -1;
        q->sync_full = -1;
        snprintf(q->region, sizeof(q->region), "%s",
                 cfg && cfg->region && *cfg->region ? cfg->region : Q_DEFAULT_REGION);
        snprintf(q->account, sizeof(q->account), "%s",
                 cfg && cfg->account && *cfg->account ? cfg->account : Q_DEFAULT_ACCOUNT);
        q->clock = cfg && cfg->clock ? cfg->clock : real_clock;
        q->clock_ctx = cfg ? cfg->clock_ctx : NULL;
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->work_cv, NULL);
        pthread_cond_init(&q->done_cv, NULL);
        pthread_cond_init(&q->sync_cv, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&q->move_cv, &ca);
        pthread_condattr_destroy(&ca);

        for (const char *c = q->account; *c; c++)
                if (*c < '0' || *c > '9' || strlen(q->account) != 12) {
                        q_seterr(err, Q_E_INVALID_PARAMETER, "account %s: not 12 digits",
                                 q->account);
                        goto fail;
                }
        int r = sqlite3_open_v2(path, &q->db,
                                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                        SQLITE_OPEN_EXRESCODE,
                                NULL);
        if (r != SQLITE_OK) {
                q_seterr(err, Q_E_INTERNAL, "open %s: %s", path,
                         q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(r));
                goto fail;
        }
        sqlite3_busy_timeout(q->db, 10000);
        /* NOMUTEX: only the writer thread uses the connection (open and close run before it
         * starts and after it ends). EXCLUSIVE: the store belongs to this engine while it is open (a second server on the
         * same store waits, then fails); no file-lock calls per transaction, no shared memory */
        char *msg = NULL;
        if (sqlite3_exec(q->db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                         " PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;", NULL, NULL,
                         &msg) != SQLITE_OK ||
            sqlite3_exec(q->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
                q_seterr(err, Q_E_INTERNAL, "%s: %s", path, msg ? msg : "schema");
                sqlite3_free(msg);
                goto fail;
        }
        q->sync_full = 1;
        /* SQLite keeps the WAL file (the same inode) while the connection is open: it is rewound
         * after a checkpoint, and cut back to journal_size_limit, never replaced */
        if (q_pipelined_fsync &&
            sqlite3_exec(q->db, "BEGIN IMMEDIATE; COMMIT;", NULL, NULL, NULL) == SQLITE_OK)
                open_wal(q, path);
        for (size_t i = 0; q->wal_fd >= 0 && i < Q_SYNCERS; i++) {
                if (q_thread_start(&q->syncers[i], syncer_main, q) != 0)
                        break;
                q->n_syncers++;
        }
        if (q->wal_fd >= 0 && q->n_syncers == 0) {
                close(q->wal_fd);
                q->wal_fd = -1;
        }
        if (q_thread_start(&q->writer, writer_main, q) != 0) {
                q_seterr(err, Q_E_INTERNAL, "cannot start the queue writer thread");
                goto fail;
        }
        q->writer_started = true;
        q_metrics_start(q);
        *ret = q;
        return 0;
fail:
        q_engine_close(q);
        return -1;
}

void q_engine_shutdown(q_engine *q)
{
        if (!q)
                return;
        pthread_mutex_lock(&q->mu);
        q->shutdown = true;
        for (q_waiter *w = q->waiters; w; w = w->next) {
                w->gen++;
                pthread_cond_broadcast(&w->cv);
        }
        pthread_cond_broadcast(&q->move_cv);
        pthread_mutex_unlock(&q->mu);
}

void q_engine_close(q_engine *q)
{
        if (!q)
                return;
        q_metrics_stop(q); /* no scrape reaches the engine from here on */
        q_engine_shutdown(q);
        q_move_stop(q);
        if (q->writer_started) {
                pthread_mutex_lock(&q->mu);
                q->stop = true;
                pthread_cond_signal(&q->work_cv);
                pthread_mutex_unlock(&q->mu);
                pthread_join(q->writer, NULL);
        }
        pthread_mutex_lock(&q->mu);
        q->stop = true;
        pthread_cond_broadcast(&q->sync_cv);
        pthread_mutex_unlock(&q->mu);
        for (size_t i = 0; i < q->n_syncers; i++)
                pthread_join(q->syncers[i], NULL);
        for (size_t i = 0; i < Q_STMT_SLOTS; i++)
                if (q->stmts[i].st)
                        sqlite3_finalize(q->stmts[i].st);
        if (q->db)
                sqlite3_close(q->db);
        if (q->wal_fd >= 0)
                close(q->wal_fd);
        for (q_waiter *w = q->waiters, *n; w; w = n) {
                n = w->next;
                pthread_cond_destroy(&w->cv);
                free(w);
        }
        pthread_cond_destroy(&q->move_cv);
        pthread_cond_destroy(&q->done_cv);
        pthread_cond_destroy(&q->sync_cv);
        pthread_cond_destroy(&q->work_cv);
        pthread_mutex_destroy(&q->mu);
        free(q);
}

/* ---- long-poll waits (used by q_receive) ---- */
/* Under no lock; returns the waiter (refs + 1) and its generation. */
q_waiter *q_waiter_get(q_engine *q, const char *name, uint64_t *gen)
{
        pthread_mutex_lock(&q->mu);
        q_waiter *w = waiter_find(q, name);
        if (!w) {
                w = xcalloc(1, sizeof(*w));
                snprintf(w->name, sizeof(w->name), "%s", name);
                pthread_condattr_t ca;
                pthread_condattr_init(&ca);
                pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
                pthread_cond_init(&w->cv, &ca);
                pthread_condattr_destroy(&ca);
                w->next = q->waiters;
                q->waiters = w;
        }
        w->refs++;
        *gen = w->gen;
        pthread_mutex_unlock(&q->mu);
        return w;
}

void q_waiter_put(q_engine *q, q_waiter *w)
{
        pthread_mutex_lock(&q->mu);
        if (--w->refs == 0) {
                for (q_waiter **pp = &q->waiters; *pp; pp = &(*pp)->next)
                        if (*pp == w) {
                                *pp = w->next;
                                break;
                        }
                pthread_cond_destroy(&w->cv);
                free(w);
        }
        pthread_mutex_unlock(&q->mu);
}

/* Waits until w's generation moves past gen, shutdown, or until (CLOCK_MONOTONIC). Returns
 * false on shutdown. */
bool q_waiter_wait(q_engine *q, q_waiter *w, uint64_t gen, const struct timespec *until)
{
        pthread_mutex_lock(&q->mu);
        while (w->gen == gen && !q->shutdown) {
                if (pthread_cond_timedwait(&w->cv, &q->mu, until) != 0)
                        break;
        }
        bool alive = !q->shutdown;
        pthread_mutex_unlock(&q->mu);
        return alive;
}
