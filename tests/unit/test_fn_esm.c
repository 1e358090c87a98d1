/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for event source mappings (issue 14): which items of a batch go back to the queue
 * (src/fn/esm_plan.c: Lambda's ReportBatchItemFailures rules and the FIFO group hold), and the
 * mapping records of src/fn/db.c (conflicts, state moves, a store made before them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/fn/fn.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

static const char *const ids[] = { "a", "b", "c", "d", "e" };

/* The failed items as a string of 0/1 for body, without groups. */
static const char *fails(bool ok, bool report, const char *body, const char *const *groups)
{
        static char out[6];
        bool f[5];
        memset(f, 0x55, sizeof(f)); /* not cleared by the caller: the function must */
        fn_esm_failures(ok, report, body, body ? strlen(body) : 0, ids, groups, 5, f);
        for (int i = 0; i < 5; i++)
                out[i] = f[i] ? '1' : '0';
        out[5] = '\0';
        return out;
}

static void test_failures(void **state)
{
        (void)state;
        /* without ReportBatchItemFailures: the invocation's outcome decides for all */
        assert_string_equal(fails(true, false, "{\"batchItemFailures\":[{\"itemIdentifier\":\"a\"}]}", NULL), "00000");
        assert_string_equal(fails(false, false, NULL, NULL), "11111");
        assert_string_equal(fails(false, true, "{}", NULL), "11111");
        /* complete success */
        assert_string_equal(fails(true, true, NULL, NULL), "00000");
        assert_string_equal(fails(true, true, "", NULL), "00000");
        assert_string_equal(fails(true, true, "null", NULL), "00000");
        assert_string_equal(fails(true, true, "{}", NULL), "00000");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[]}\n", NULL), "00000");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":null}", NULL), "00000");
        /* the named items only */
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"},"
                                              "{\"itemIdentifier\":\"e\"}]}", NULL), "01001");
        /* invalid answers: the whole batch */
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"itemIdentifier\":\"zz\"}]}", NULL), "11111");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", NULL), "11111");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"itemIdentifier\":null}]}", NULL), "11111");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"id\":\"a\"}]}", NULL), "11111");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[\"a\"]}", NULL), "11111");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":\"a\"}", NULL), "11111");
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[", NULL), "11111");
        assert_string_equal(fails(true, true, "\"ok\"", NULL), "11111");
        assert_string_equal(fails(true, true, "[]", NULL), "11111");
}

static void test_fifo_hold(void **state)
{
        (void)state;
        const char *const g[] = { "g1", "g2", "g1", "g2", "g1" };
        /* b (g2) fails: d (g2, after it) is held; a, c, e (g1) are not */
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}", g), "01010");
        /* c (g1) fails: e follows it, a came before it */
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"itemIdentifier\":\"c\"}]}", g), "00101");
        assert_string_equal(fails(true, true, "{}", g), "00000");
        assert_string_equal(fails(false, true, "{}", g), "11111");
        /* without groups (a standard queue) nothing is held */
        assert_string_equal(fails(true, true, "{\"batchItemFailures\":[{\"itemIdentifier\":\"a\"}]}", NULL), "10000");
}

static char *tmp_db(void)
{
        char dir[] = "/tmp/test_fn_esm.XXXXXX";
        assert_non_null(mkdtemp(dir));
        return xasprintf("%s/fn.db", dir);
}

static void rm_db(char *path)
{
        char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
        unlink(path);
        unlink(wal);
        unlink(shm);
        *strrchr(path, '/') = '\0';
        rmdir(path);
        free(wal);
        free(shm);
        free(path);
}

static void test_db(void **state)
{
        (void)state;
        char *path = tmp_db();
        fn_db *db = NULL;
        husk_error_t err = { 0 };
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        fn_esm_rec m = { .uuid = "11111111-1111-4111-8111-111111111111",
                         .queue_arn = (char *)"arn:aws:sqs:us-east-1:000000000000:q",
                         .function = (char *)"f", .batch_size = 100, .window_s = 5,
                         .max_concurrency = 7, .report_failures = true, .enabled = true,
                         .state = "Creating", .reason = (char *)"USER_INITIATED" };
        assert_int_equal(fn_db_esm_put(db, &m, true, &err), 0);
        assert_true(m.modified > 1.7e9);
        /* the same queue and function again: a conflict, whatever the uuid */
        fn_esm_rec m2 = m;
        snprintf(m2.uuid, sizeof(m2.uuid), "22222222-2222-4222-8222-222222222222");
        assert_int_equal(fn_db_esm_put(db, &m2, true, &err), -EEXIST);
        m2.function = (char *)"g";
        assert_int_equal(fn_db_esm_put(db, &m2, true, &err), 0);
        fn_esm_rec *g = NULL;
        assert_int_equal(fn_db_esm_get(db, m.uuid, &g, &err), 0);
        assert_string_equal(g->queue_arn, m.queue_arn);
        assert_string_equal(g->function, "f");
        assert_int_equal(g->batch_size, 100);
        assert_int_equal(g->window_s, 5);
        assert_int_equal(g->max_concurrency, 7);
        assert_true(g->report_failures && g->enabled);
        assert_string_equal(g->state, "Creating");
        fn_esm_rec_free(g);
        /* state moves only from the state the caller saw */
        assert_int_equal(fn_db_esm_state(db, m.uuid, "Updating", "Enabled", NULL, &err), 0);
        assert_int_equal(fn_db_esm_state(db, m.uuid, "Creating", "Enabled", NULL, &err), 1);
        assert_int_equal(fn_db_esm_get(db, m.uuid, &g, &err), 0);
        assert_string_equal(g->state, "Enabled");
        assert_string_equal(g->reason, "USER_INITIATED");
        fn_esm_rec_free(g);
        fn_esm_rec **v = NULL;
        size_t n = 0;
        assert_int_equal(fn_db_esm_list(db, &v, &n, &err), 0);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++)
                fn_esm_rec_free(v[i]);
        free(v);
        assert_int_equal(fn_db_esm_rm(db, m.uuid, &err), 0);
        assert_int_equal(fn_db_esm_get(db, m.uuid, &g, &err), -ENOENT);
        m.function = (char *)"h";
        assert_int_equal(fn_db_esm_put(db, &m, false, &err), -ENOENT);
        fn_db_close(db);
        /* a store made before mappings existed gets the table when opened */
        sqlite3 *s = NULL;
        assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
        assert_int_equal(sqlite3_exec(s, "DROP TABLE esm", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(s);
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        assert_int_equal(fn_db_esm_list(db, &v, &n, &err), 0);
        assert_int_equal(n, 0);
        free(v);
        fn_db_close(db);
        rm_db(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_failures),
                cmocka_unit_test(test_fifo_hold),
                cmocka_unit_test(test_db),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
