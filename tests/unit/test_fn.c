/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for husk-fn's pure logic (src/fn/plan.c) and its durable store (src/fn/db.c) on a
 * temporary database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/fn/fn.h"
#include "util/util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <time.h>

static void test_names(void **state)
{
        assert_true(fn_name_valid("echo"));
        assert_true(fn_name_valid("my-Func_9"));
        char n64[65];
        memset(n64, 'a', 64);
        n64[64] = '\0';
        assert_true(fn_name_valid(n64));
        char n65[66];
        memset(n65, 'a', 65);
        n65[65] = '\0';
        assert_false(fn_name_valid(n65));
        assert_false(fn_name_valid(""));
        assert_false(fn_name_valid(NULL));
        assert_false(fn_name_valid(".."));
        assert_false(fn_name_valid("a/b"));
        assert_false(fn_name_valid("a b"));
        assert_false(fn_name_valid("a\nb"));
        assert_false(fn_name_valid("é"));
}

static void test_invoke_path(void **state)
{
        char name[FN_NAME_MAX + 1];
        assert_int_equal(fn_parse_invoke_path("/2015-03-31/functions/echo/invocations", name), 0);
        assert_string_equal(name, "echo");
        assert_int_equal(fn_parse_invoke_path("/2015-03-31/functions//invocations", name), -EINVAL);
        assert_int_equal(fn_parse_invoke_path("/2015-03-31/functions/../invocations", name), -EINVAL);
        /* %2f decoded by the server: the name holds '/', refused */
        assert_int_equal(fn_parse_invoke_path("/2015-03-31/functions/a/../b/invocations", name), -EINVAL);
        assert_int_equal(fn_parse_invoke_path("/2015-03-31/functions/echo/invocation", name), -ENOENT);
        assert_int_equal(fn_parse_invoke_path("/2015-03-31/functions/echo", name), -ENOENT);
        assert_int_equal(fn_parse_invoke_path("/", name), -ENOENT);
        assert_int_equal(fn_parse_invoke_path("", name), -ENOENT);
        assert_int_equal(fn_parse_invoke_path(NULL, name), -ENOENT);
        char *longp = xasprintf("/2015-03-31/functions/%0300d/invocations", 0);
        assert_int_equal(fn_parse_invoke_path(longp, name), -EINVAL);
        free(longp);
}

static void test_memory(void **state)
{
        unsigned mb = 0;
        assert_int_equal(fn_parse_memory_mb("128", &mb), 0);
        assert_int_equal(mb, 128);
        assert_int_equal(fn_parse_memory_mb("256M", &mb), 0);
        assert_int_equal(mb, 256);
        assert_int_equal(fn_parse_memory_mb("512mb", &mb), 0);
        assert_int_equal(mb, 512);
        assert_int_equal(fn_parse_memory_mb("1G", &mb), 0);
        assert_int_equal(mb, 1024);
        assert_int_equal(fn_parse_memory_mb("10240", &mb), 0);
        assert_int_equal(fn_parse_memory_mb("10241", &mb), -ERANGE);
        assert_int_equal(fn_parse_memory_mb("15", &mb), -ERANGE);
        assert_int_equal(fn_parse_memory_mb("99999999999999999999999", &mb), -ERANGE);
        assert_int_equal(fn_parse_memory_mb("128K", &mb), -EINVAL);
        assert_int_equal(fn_parse_memory_mb("-1", &mb), -EINVAL);
        assert_int_equal(fn_parse_memory_mb("", &mb), -EINVAL);
}

static void test_duration(void **state)
{
        uint64_t ms = 0;
        assert_int_equal(fn_parse_duration_ms("3", &ms), 0);
        assert_int_equal(ms, 3000);
        assert_int_equal(fn_parse_duration_ms("3s", &ms), 0);
        assert_int_equal(ms, 3000);
        assert_int_equal(fn_parse_duration_ms("500ms", &ms), 0);
        assert_int_equal(ms, 500);
        assert_int_equal(fn_parse_duration_ms("10m", &ms), 0);
        assert_int_equal(ms, 600000);
        assert_int_equal(fn_parse_duration_ms("1h", &ms), 0);
        assert_int_equal(ms, 3600000);
        assert_int_equal(fn_parse_duration_ms("0", &ms), 0);
        assert_int_equal(ms, 0);
        assert_int_equal(fn_parse_duration_ms("1d", &ms), -EINVAL);
        assert_int_equal(fn_parse_duration_ms("1.5s", &ms), -EINVAL);
        assert_int_equal(fn_parse_duration_ms("s", &ms), -EINVAL);
        assert_int_equal(fn_parse_duration_ms("99999999999999h", &ms), -ERANGE);
}

static void test_billed(void **state)
{
        assert_int_equal(fn_billed_ms(0), 1);
        assert_int_equal(fn_billed_ms(1), 1);
        assert_int_equal(fn_billed_ms(1000000), 1);
        assert_int_equal(fn_billed_ms(1000001), 2);
        assert_int_equal(fn_billed_ms(2950000), 3);
        assert_int_equal(fn_billed_ms(3000000000ull), 3000);
}

static void test_report(void **state)
{
        char *r = fn_report_line("8f507cfc-0000-4697-b07a-ac58fc914c95", 2950000, 128, 51u << 20, 0);
        assert_string_equal(r, "REPORT RequestId: 8f507cfc-0000-4697-b07a-ac58fc914c95\t"
                               "Duration: 2.95 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
                               "Max Memory Used: 51 MB\t");
        free(r);
        /* peak rounded up to whole MB; Init Duration on a cold start */
        r = fn_report_line("id", 1000, 256, (51u << 20) + 1, 123456789);
        assert_string_equal(r, "REPORT RequestId: id\tDuration: 0.00 ms\tBilled Duration: 1 ms\t"
                               "Memory Size: 256 MB\tMax Memory Used: 52 MB\t"
                               "Init Duration: 123.46 ms\t");
        free(r);
        r = fn_timeout_message(3000);
        assert_string_equal(r, "Task timed out after 3.00 seconds");
        free(r);
        r = fn_timeout_message(1500);
        assert_string_equal(r, "Task timed out after 1.50 seconds");
        free(r);
}

static void test_exit_message(void **state)
{
        char *m = fn_exit_message(3 << 8); /* exited 3 */
        assert_string_equal(m, "Runtime exited with error: exit status 3");
        free(m);
        m = fn_exit_message(SIGSEGV);
        assert_string_equal(m, "Runtime exited with error: signal: segmentation fault");
        free(m);
        m = fn_exit_message(SIGKILL);
        assert_string_equal(m, "Runtime exited with error: signal: killed");
        free(m);
        m = fn_exit_message(SIGUSR1);
        assert_string_equal(m, "Runtime exited with error: signal: 10");
        free(m);
}

static void test_admit(void **state)
{
        fn_counts c = { 0 };
        /* nothing alive: cold start */
        assert_int_equal(fn_admit(&c, 4, 10, true), FN_ADMIT_COLD);
        /* an idle worker is taken */
        c = (fn_counts){ .alive = 4, .idle = 1 };
        assert_int_equal(fn_admit(&c, 4, 10, true), FN_ADMIT_WARM);
        /* all busy, below the limit: one more */
        c = (fn_counts){ .alive = 3, .idle = 0 };
        assert_int_equal(fn_admit(&c, 4, 10, true), FN_ADMIT_COLD);
        /* at the limit: wait while the queue has room, then 429 */
        c = (fn_counts){ .alive = 4, .waiting = 9 };
        assert_int_equal(fn_admit(&c, 4, 10, true), FN_ADMIT_WAIT);
        c.waiting = 10;
        assert_int_equal(fn_admit(&c, 4, 10, true), FN_ADMIT_REJECT);
        /* no queue at all */
        c = (fn_counts){ .alive = 1 };
        assert_int_equal(fn_admit(&c, 1, 0, true), FN_ADMIT_REJECT);
        /* async invocations are never rejected: they wait */
        assert_int_equal(fn_admit(&c, 1, 0, false), FN_ADMIT_WAIT);
        /* a queued caller woken with others still waiting takes the idle worker */
        c = (fn_counts){ .alive = 1, .idle = 1, .waiting = 3 };
        assert_int_equal(fn_admit(&c, 1, 0, true), FN_ADMIT_WARM);
}

/* The pool's accounting over a sequence: concurrency is never exceeded and every admitted
 * invocation eventually runs. */
static void test_admit_simulation(void **state)
{
        fn_counts c = { 0 };
        unsigned conc = 4, queue = 8, busy = 0, run = 0, rejected = 0;
        for (int i = 0; i < 20; i++) {
                fn_admit_t a = fn_admit(&c, conc, queue, true);
                if (a == FN_ADMIT_COLD) {
                        c.alive++;
                        busy++;
                        run++;
                } else if (a == FN_ADMIT_WARM) {
                        c.idle--;
                        busy++;
                        run++;
                } else if (a == FN_ADMIT_WAIT) {
                        c.waiting++;
                } else {
                        rejected++;
                }
                assert_true(c.alive <= conc);
        }
        assert_int_equal(run, 4);
        assert_int_equal(c.waiting, 8);
        assert_int_equal(rejected, 8);
        /* drain: each finished invocation frees a worker for one waiter */
        while (c.waiting) {
                busy--;
                c.idle++;
                c.waiting--;
                fn_counts me = c;
                assert_int_equal(fn_admit(&me, conc, queue, true), FN_ADMIT_WARM);
                c.idle--;
                busy++;
                run++;
        }
        assert_int_equal(run, 12);
        assert_true(c.alive <= conc);
}

static void test_retry(void **state)
{
        assert_int_equal(fn_retry_delay_ms(1, 1000), 1000);
        assert_int_equal(fn_retry_delay_ms(2, 1000), 2000);
        assert_int_equal(fn_retry_delay_ms(3, 1000), -1); /* 3 attempts: the first and 2 retries */
}

static void test_uuid(void **state)
{
        char a[37], b[37];
        fn_uuid(a);
        fn_uuid(b);
        assert_int_equal(strlen(a), 36);
        assert_string_not_equal(a, b);
        assert_int_equal(a[8], '-');
        assert_int_equal(a[14], '4');
        assert_true(strchr("89ab", a[19]) != NULL);
}

static char *tmpdb(void)
{
        char dir[] = "/tmp/test_fn.XXXXXX";
        assert_non_null(mkdtemp(dir));
        return xasprintf("%s/fn.db", dir);
}

static void rm_db(char *path)
{
        char *cmd = xasprintf("rm -rf '%.*s'", (int)(strrchr(path, '/') - path), path);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(path);
}

static void test_db_functions(void **state)
{
        char *path = tmpdb();
        fn_db *db = NULL;
        husk_error_t err = { 0 };
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        char *env[] = { "A=1", "B=two words", NULL };
        fn_def d = { .name = "f1", .image = "x.tar", .image_id = "sha256:ab", .handler = "h",
                     .memory_mb = 256, .timeout_ms = 1500, .concurrency = 3, .max_queue = 5,
                     .keep_warm_ms = 2000, .env = env };
        assert_int_equal(fn_db_put(db, &d, true, &err), 0);
        assert_int_equal(fn_db_put(db, &d, true, &err), -EEXIST);
        fn_def *g = NULL;
        assert_int_equal(fn_db_get(db, "f1", &g, &err), 0);
        assert_string_equal(g->image_id, "sha256:ab");
        assert_int_equal(g->memory_mb, 256);
        assert_int_equal(g->timeout_ms, 1500);
        assert_int_equal(g->concurrency, 3);
        assert_int_equal(g->max_queue, 5);
        assert_int_equal(g->keep_warm_ms, 2000);
        assert_string_equal(g->env[1], "B=two words");
        assert_null(g->env[2]);
        fn_def_free(g);
        d.memory_mb = 512;
        assert_int_equal(fn_db_put(db, &d, false, &err), 0);
        assert_int_equal(fn_db_get(db, "f1", &g, &err), 0);
        assert_int_equal(g->memory_mb, 512);
        fn_def_free(g);
        d.name = "f0";
        assert_int_equal(fn_db_put(db, &d, false, &err), -ENOENT);
        assert_int_equal(fn_db_put(db, &d, true, &err), 0);
        fn_def **v = NULL;
        size_t n = 0;
        assert_int_equal(fn_db_list(db, &v, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0]->name, "f0"); /* sorted */
        for (size_t i = 0; i < n; i++)
                fn_def_free(v[i]);
        free(v);
        assert_int_equal(fn_db_rm(db, "f0", &err), 0);
        assert_int_equal(fn_db_rm(db, "f0", &err), -ENOENT);
        assert_int_equal(fn_db_get(db, "f0", &g, &err), -ENOENT);
        assert_string_equal(err.msg, "Function not found: f0");
        fn_db_close(db);
        rm_db(path);
}

/* Accepted rows survive a close (the process dying) and run again; claims take each row once;
 * a failed attempt comes back after its delay; three attempts at most. */
static void test_db_async(void **state)
{
        char *path = tmpdb();
        fn_db *db = NULL;
        husk_error_t err = { 0 };
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        assert_int_equal(fn_db_async_add(db, "id-1", "f", "{\"a\":1}", 7, 10, 0, &err), 0);
        assert_int_equal(fn_db_async_add(db, "id-2", "f", "", 0, 10, 0, &err), 0);
        fn_async *v = NULL;
        size_t n = 0;
        assert_int_equal(fn_db_async_claim(db, 0, 1, &v, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(v[0].id, "id-1");
        assert_string_equal(v[0].payload, "{\"a\":1}");
        assert_int_equal(v[0].attempts, 1);
        fn_async_free(&v[0]);
        free(v);
        /* "crash" here: id-1 is running, id-2 pending; reopen like a restarted server */
        fn_db_close(db);
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        unsigned cnt[4];
        assert_int_equal(fn_db_async_counts(db, "f", cnt, &err), 0);
        assert_int_equal(cnt[0], 1);
        assert_int_equal(cnt[1], 1);
        assert_int_equal(fn_db_async_recover(db, &err), 0);
        assert_int_equal(fn_db_async_claim(db, 0, 10, &v, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(v[0].attempts, 2); /* id-1: its second attempt */
        assert_int_equal(v[1].attempts, 1);
        /* id-1 fails a second time with a long delay: not due; id-2 succeeds */
        assert_int_equal(fn_db_async_finish(db, "id-1", false, 60000, "{}", &err), 0);
        assert_int_equal(fn_db_async_finish(db, "id-2", true, 0, "{}", &err), 0);
        for (size_t i = 0; i < n; i++)
                fn_async_free(&v[i]);
        free(v);
        assert_int_equal(fn_db_async_claim(db, 0, 10, &v, &n, &err), 0);
        assert_int_equal(n, 0);
        free(v);
        assert_int_equal(fn_db_async_finish(db, "id-1", false, -1, "{}", &err), 0);
        assert_int_equal(fn_db_async_counts(db, "f", cnt, &err), 0);
        assert_int_equal(cnt[0], 0);
        assert_int_equal(cnt[2], 1);
        assert_int_equal(cnt[3], 1);
        fn_db_close(db);
        rm_db(path);
}

/* Issue 12: env records are one variable per line; a control character would split or corrupt
 * one. */
static void test_env_check(void **state)
{
        (void)state;
        char why[200];
        assert_int_equal(fn_env_check("A=1", why, sizeof(why)), 0);
        assert_int_equal(fn_env_check("A=", why, sizeof(why)), 0);
        assert_int_equal(fn_env_check("A=two words=ok", why, sizeof(why)), 0);
        assert_int_equal(fn_env_check("A=1\nB=2", why, sizeof(why)), -EINVAL);
        assert_string_equal(why, "environment variable A: its value holds a control character "
                                 "(0x0a); line breaks and other control characters are not allowed");
        assert_int_equal(fn_env_check("A\rB=1", why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "A?B: its name"));
        assert_int_equal(fn_env_check("A=\x7f", why, sizeof(why)), -EINVAL);
        assert_int_equal(fn_env_check("A=\t", why, sizeof(why)), -EINVAL);
        assert_int_equal(fn_env_check("=1", why, sizeof(why)), -EINVAL);
        assert_int_equal(fn_env_check("NOEQ", why, sizeof(why)), -EINVAL);
        assert_true(fn_text_printable("function.handler"));
        assert_true(fn_text_printable("caf\xc3\xa9")); /* UTF-8 is text */
        assert_false(fn_text_printable("a\nb"));
}

/* The output budget of one invocation: rate bytes per one-second window, the rest dropped and
 * reported once when the next window starts. */
static void test_rate(void **state)
{
        (void)state;
        fn_rate r = { .rate = 1000 };
        uint64_t fl = 99;
        assert_int_equal(fn_rate_take(&r, 5000, 600, &fl), 600);
        assert_int_equal(fl, 0);
        assert_int_equal(fn_rate_take(&r, 5100, 600, &fl), 400);
        assert_int_equal(fn_rate_take(&r, 5900, 50, &fl), 0);
        assert_int_equal(r.dropped, 250);
        assert_int_equal(fn_rate_take(&r, 6000, 10, &fl), 10); /* a new window */
        assert_int_equal(fl, 250);
        assert_int_equal(r.dropped, 0);
        assert_int_equal(fn_rate_take(&r, 6999, 2000, &fl), 990);
        assert_int_equal(fl, 0);
        assert_int_equal(r.dropped, 1010);
}

static void test_db_limits(void **state)
{
        (void)state;
        char *path = tmpdb();
        fn_db *db = NULL;
        husk_error_t err = { 0 };
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        char *env[] = { "A=1", NULL };
        fn_def d = { .name = "f", .image = "x.tar", .image_id = "sha256:ab", .handler = "h",
                     .memory_mb = 128, .timeout_ms = 1000, .concurrency = 1, .max_queue = 1,
                     .keep_warm_ms = 0, .pids = 64, .log_max_size = 8192, .log_rate = 2048,
                     .max_events = 2, .env = env };
        assert_int_equal(fn_db_put(db, &d, true, &err), 0);
        fn_def *g = NULL;
        assert_int_equal(fn_db_get(db, "f", &g, &err), 0);
        assert_int_equal(g->pids, 64);
        assert_int_equal(g->log_max_size, 8192);
        assert_int_equal(g->log_rate, 2048);
        assert_int_equal(g->max_events, 2);
        fn_def_free(g);
        /* A variable with a line break would come back as two: refused at the record. */
        char *bad[] = { "A=1\nB=2", NULL };
        d.env = bad;
        assert_int_equal(fn_db_put(db, &d, false, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "control character"));
        d.env = env;
        d.handler = "h\nx";
        assert_int_equal(fn_db_put(db, &d, false, &err), -EINVAL);
        d.handler = "h";

        /* The queue of unfinished events is bounded per function. */
        const uint64_t t0 = 1700000000000ull;
        assert_int_equal(fn_db_async_add(db, "e1", "f", "{}", 2, 2, t0, &err), 0);
        assert_int_equal(fn_db_async_add(db, "e2", "f", "{}", 2, 2, t0, &err), 0);
        assert_int_equal(fn_db_async_add(db, "e3", "f", "{}", 2, 2, t0, &err), -EAGAIN);
        assert_non_null(strstr(err.msg, "--max-events"));
        assert_int_equal(fn_db_async_add(db, "o1", "other", "{}", 2, 2, t0, &err), 0);
        /* Six hours later e1/e2/o1 have expired: nothing runs, they are failed. */
        fn_async *v = NULL;
        size_t n = 9;
        assert_int_equal(fn_db_async_claim(db, t0 + FN_EVENT_MAX_AGE_MS + 1, 10, &v, &n, &err), 0);
        assert_int_equal(n, 0);
        free(v);
        unsigned cnt[4];
        assert_int_equal(fn_db_async_counts(db, "f", cnt, &err), 0);
        assert_int_equal(cnt[0], 0);
        assert_int_equal(cnt[3], 2);
        /* Room again; a finished event loses its payload. */
        assert_int_equal(fn_db_async_add(db, "e4", "f", "{\"big\":1}", 9, 2, 0, &err), 0);
        assert_int_equal(fn_db_async_claim(db, 0, 10, &v, &n, &err), 0);
        assert_int_equal(n, 1);
        fn_async_free(&v[0]);
        free(v);
        assert_int_equal(fn_db_async_finish(db, "e4", true, 0, "{}", &err), 0);
        sqlite3 *raw = NULL;
        assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(raw, "SELECT sum(length(payload)) FROM async WHERE"
                                                 " state IN ('done','failed')", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(st, 0), 0);
        sqlite3_finalize(st);
        sqlite3_close(raw);
        /* Purge: the newest `keep` of each function, none older than keep_ms. */
        assert_int_equal(fn_db_async_purge(db, 0, 1, 3600000, &err), 0);
        assert_int_equal(fn_db_async_counts(db, "f", cnt, &err), 0);
        assert_int_equal(cnt[2] + cnt[3], 1);
        assert_int_equal(cnt[2], 1); /* e4, the newest */
        /* o1 expired (finished) at t0 + 6 h, years ago: gone by age */
        assert_int_equal(fn_db_async_counts(db, "other", cnt, &err), 0);
        assert_int_equal(cnt[3], 0);
        assert_int_equal(fn_db_async_purge(db, ((uint64_t)time(NULL) + 3602) * 1000, 100, 3600000,
                                           &err), 0);
        assert_int_equal(fn_db_async_counts(db, "f", cnt, &err), 0);
        assert_int_equal(cnt[2] + cnt[3], 0);
        /* A claimed event that did not run (the host stopping) is pending again, its attempt
         * not counted. */
        assert_int_equal(fn_db_async_add(db, "e6", "f", "{}", 2, 2, 0, &err), 0);
        assert_int_equal(fn_db_async_claim(db, 0, 10, &v, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].attempts, 1);
        fn_async_free(&v[0]);
        free(v);
        assert_int_equal(fn_db_async_release(db, "e6", &err), 0);
        assert_int_equal(fn_db_async_claim(db, 0, 10, &v, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].attempts, 1);
        fn_async_free(&v[0]);
        free(v);
        assert_int_equal(fn_db_async_finish(db, "e6", true, 0, "{}", &err), 0);
        /* rm takes the function's events with it. */
        assert_int_equal(fn_db_async_add(db, "e5", "f", "{}", 2, 2, 0, &err), 0);
        assert_int_equal(fn_db_rm(db, "f", &err), 0);
        assert_int_equal(fn_db_async_counts(db, "f", cnt, &err), 0);
        assert_int_equal(cnt[0], 0);
        fn_db_close(db);
        rm_db(path);
}

/* The watchdog of the Runtime API and the front door cuts a request phase past its limit. A
 * phase stamped after the watchdog read the time (t0 > now) is not overdue: `now - t0 > limit`
 * wrapped and cut it at once (the TCG guest's lost invocations and closed connections). */
static void test_guard_overdue(void **state)
{
        (void)state;
        assert_false(fn_guard_overdue(1000, 1000, 30000));
        assert_false(fn_guard_overdue(31000, 1000, 30000));
        assert_true(fn_guard_overdue(31001, 1000, 30000));
        assert_false(fn_guard_overdue(1000, 1076, 30000)); /* t0 76 ms after now */
        assert_false(fn_guard_overdue(0, UINT64_MAX, 0));
        assert_true(fn_guard_overdue(UINT64_MAX, 0, 30000));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),       cmocka_unit_test(test_invoke_path),
                cmocka_unit_test(test_memory),      cmocka_unit_test(test_duration),
                cmocka_unit_test(test_billed),      cmocka_unit_test(test_report),
                cmocka_unit_test(test_exit_message), cmocka_unit_test(test_admit),
                cmocka_unit_test(test_admit_simulation), cmocka_unit_test(test_retry),
                cmocka_unit_test(test_uuid),        cmocka_unit_test(test_db_functions),
                cmocka_unit_test(test_db_async),    cmocka_unit_test(test_env_check),
                cmocka_unit_test(test_rate),        cmocka_unit_test(test_db_limits),
                cmocka_unit_test(test_guard_overdue),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
