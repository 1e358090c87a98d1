/* SPDX-License-Identifier: Apache-2.0 */
/* The queue engine alone, durability on (tools/bench-queue-engine runs it):
 *   queue-engine-bench DIR [SECONDS]
 * 1. the floor: a plain SQLite insert loop (WAL, synchronous=FULL), one commit per row, and
 *    one commit per 10 rows;
 * 2. full cycle: 4 threads, each send-batch(10) / receive(10) / delete-batch, messages/s;
 * 3. latency: send of one message -> a long-polling receiver has it (p50/p99).
 * Prints one line per figure. Not a test: never asserts on time. */
#include "queue/qint.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
        fprintf(stderr, "queue-engine-bench: %s: %s\n", what, msg);
        exit(1);
}

static int cmpd(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* The disk's own bound: p50 of write(4 KiB) + fdatasync on a file in DIR. */
static double fsync_p50_ms(const char *dir)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/fsync.probe", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                die("open", path);
        enum { N = 200 };
        static double d[N];
        char buf[4096];
        memset(buf, 'x', sizeof(buf));
        for (int i = 0; i < N; i++) {
                double t = now_s();
                if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fdatasync(fd) < 0)
                        die("fdatasync", path);
                d[i] = now_s() - t;
        }
        close(fd);
        unlink(path);
        qsort(d, N, sizeof(double), cmpd);
        return d[N / 2] * 1000;
}

static double floor_rate(const char *path, int per_commit, double secs)
{
        sqlite3 *db;
        if (sqlite3_open(path, &db) != SQLITE_OK)
                die("sqlite open", sqlite3_errmsg(db));
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, body BLOB)",
                     NULL, NULL, NULL);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "INSERT INTO m (body) VALUES (?1)", -1, &st, NULL);
        char body[100];
        memset(body, 'x', sizeof(body));
        long n = 0;
        double t0 = now_s(), t;
        while ((t = now_s()) - t0 < secs) {
                sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
                for (int i = 0; i < per_commit; i++) {
                        sqlite3_bind_blob(st, 1, body, sizeof(body), SQLITE_STATIC);
                        sqlite3_step(st);
                        sqlite3_reset(st);
                }
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
                n += per_commit;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return (double)n / (t - t0);
}

struct worker {
        q_engine *q;
        double until;
        long cycled;
};

static void *cycle(void *p)
{
        struct worker *w = p;
        char body[100];
        memset(body, 'x', sizeof(body));
        body[99] = 0;
        static const char *ids[10] = { "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9" };
        while (now_s() < w->until) {
                q_send_entry e[10];
                for (int i = 0; i < 10; i++)
                        e[i] = (q_send_entry){
                                .id = ids[i], .body = body, .body_len = 99, .delay_seconds = -1
                        };
                q_send_result res[10];
                q_error err;
                if (q_send(w->q, "bench", "AKID", e, 10, res, &err) < 0)
                        die("send", err.msg);
                q_receive_req r = { .max = 10, .visibility_timeout = 30, .wait_seconds = 1 };
                q_message *m;
                size_t n;
                if (q_receive(w->q, "bench", &r, &m, &n, &err) < 0)
                        die("receive", err.msg);
                if (n == 0)
                        continue;
                const char *rh[10];
                for (size_t i = 0; i < n; i++)
                        rh[i] = m[i].receipt_handle;
                q_batch_result br[10];
                if (q_delete_batch(w->q, "bench", ids, rh, n, br, &err) < 0)
                        die("delete", err.msg);
                w->cycled += (long)n;
                q_messages_free(m, n);
        }
        return NULL;
}

struct lat {
        q_engine *q;
        int samples;
        double *d;
        _Atomic double sent_at;
};

static void *lat_consumer(void *p)
{
        struct lat *l = p;
        for (int i = 0; i < l->samples; i++) {
                q_receive_req r = { .max = 1, .visibility_timeout = 30, .wait_seconds = 20 };
                q_message *m;
                size_t n;
                q_error err;
                if (q_receive(l->q, "lat", &r, &m, &n, &err) < 0)
                        die("receive", err.msg);
                if (n == 0) {
                        i--;
                        continue;
                }
                l->d[i] = now_s() - atomic_load(&l->sent_at);
                q_delete_message(l->q, "lat", m[0].receipt_handle, &err);
                q_messages_free(m, n);
        }
        return NULL;
}


static void engine_run(const char *dir, const char *file, const char *label, double secs);

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: queue-engine-bench DIR [SECONDS]\n");
                return 2;
        }
        double secs = argc > 2 ? atof(argv[2]) : 5;
        char path[4096];
        snprintf(path, sizeof(path), "%s/floor.db", argv[1]);
        printf("disk: write 4 KiB + fdatasync, p50 %.2f ms\n", fsync_p50_ms(argv[1]));
        printf("floor: sqlite insert, 1 row per commit:   %8.0f rows/s\n",
               floor_rate(path, 1, secs));
        printf("floor: sqlite insert, 10 rows per commit: %8.0f rows/s\n",
               floor_rate(path, 10, secs));

        q_pipelined_fsync = false;
        engine_run(argv[1], "queue-full.db", "engine (synchronous=FULL commits in the writer)",
                   secs);
        q_pipelined_fsync = true;
        engine_run(argv[1], "queue.db", "engine (pipelined WAL fsync, the default)", secs);
        return 0;
}

static void engine_run(const char *dir, const char *file, const char *label, double secs)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        printf("%s:\n", label);
        q_engine *q;
        q_error err;
        if (q_engine_open(path, NULL, &q, &err) < 0)
                die("open", err.msg);
        bool created;
        if (q_create(q, "bench", NULL, NULL, &created, &err) < 0 ||
            q_create(q, "lat", NULL, NULL, &created, &err) < 0)
                die("create", err.msg);
        uint64_t c0, s0, o0, b0, c1, s1, o1, b1;
        q_engine_counters(q, &c0, &s0, &o0, &b0);
        struct worker w[4];
        pthread_t th[4];
        double t0 = now_s();
        for (int i = 0; i < 4; i++) {
                w[i] = (struct worker){ .q = q, .until = t0 + secs };
                pthread_create(&th[i], NULL, cycle, &w[i]);
        }
        long total = 0;
        for (int i = 0; i < 4; i++) {
                pthread_join(th[i], NULL);
                total += w[i].cycled;
        }
        double el = now_s() - t0;
        q_engine_counters(q, &c1, &s1, &o1, &b1);
        printf("  4 threads send-batch(10)/receive(10)/delete-batch: %8.0f messages/s full cycle\n",
               (double)total / el);
        printf("  %llu ops in %llu batches, %llu commits, %llu fsync'd commits (%.1f ops per batch)\n",
               (unsigned long long)(o1 - o0), (unsigned long long)(b1 - b0),
               (unsigned long long)(c1 - c0), (unsigned long long)(s1 - s0),
               (double)(o1 - o0) / (double)(b1 - b0 ? b1 - b0 : 1));

        struct lat l = { .q = q, .samples = 300 };
        l.d = calloc((size_t)l.samples, sizeof(double));
        pthread_t ct;
        pthread_create(&ct, NULL, lat_consumer, &l);
        for (int i = 0; i < l.samples; i++) {
                usleep(2000);
                q_send_entry e = { .body = "ping", .body_len = 4, .delay_seconds = -1 };
                q_send_result res;
                atomic_store(&l.sent_at, now_s());
                if (q_send(q, "lat", "AKID", &e, 1, &res, &err) < 0)
                        die("send", err.msg);
                /* wait for the consumer before the next sample */
                for (int k = 0; k < 2000 && l.d[i] == 0; k++)
                        usleep(500);
        }
        pthread_join(ct, NULL);
        qsort(l.d, (size_t)l.samples, sizeof(double), cmpd);
        printf("  send -> long-polling receive latency: p50 %.2f ms, p99 %.2f ms\n",
               l.d[l.samples / 2] * 1000, l.d[l.samples * 99 / 100] * 1000);
        free(l.d);
        q_engine_close(q);
}
