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
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
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

static void send1(q_engine *q, const char *queue, const char *body, const char *group,
                  const char *dedup, q_send_result *res)
{
        q_send_entry e = { .body = body,
                           .body_len = strlen(body),
                           .delay_seconds = -1,
                           .group_id = group,
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

/* Expects call to fail with code; prints the message on mismatch. */
#define EXPECT_ERR(want_, call)                                                                    \
        do {                                                                                       \
                q_error e_ = { 0 };                                                                \
                q_error *err = &e_;                                                                \
                int r_ = (call);                                                                   \
                if (r_ != -1 || e_.code != (want_))                                                \
                        fail_msg("%s: rc %d code %d (%s), want %s", #call, r_, e_.code, e_.msg,    \
                                 q_err_json_name(want_));                                          \
        } while (0)

#define EXPECT_OK(call)                                                                            \
        do {                                                                                       \
                q_error e_ = { 0 };                                                                \
                q_error *err = &e_;                                                                \
                if ((call) != 0)                                                                   \
                        fail_msg("%s: %s", #call, e_.msg);                                         \
        } while (0)

static void test_md5_vectors(void **state)
{
        (void)state;
        char out[33];
        /* vectors of the AWS CLI's own SQS examples (awscli/examples/sqs/receive-message.rst) */
        q_msg_attr two[] = {
                { .name = "PostalCode", .data_type = "String", .string_value = "ABC123" },
                { .name = "City", .data_type = "String", .string_value = "Any City" },
        };
        q_md5_attrs(two, 2, out);
        assert_string_equal(out, "9424c491ff2bbec06ecbc9d226bc3ae7");
        q_md5_attrs(two, 1, out);
        assert_string_equal(out, "b8e89563a83b6381835710c1e088e74f");
        /* String + Binary + Number, computed independently (python3 hashlib, SQS's documented
         * encoding) */
        unsigned char hello[] = "Hello, World!";
        q_msg_attr three[] = {
                { .name = "Population", .data_type = "Number", .string_value = "1250800" },
                { .name = "Greeting",
                  .data_type = "Binary",
                  .binary_value = hello,
                  .binary_len = 13 },
                { .name = "City", .data_type = "String", .string_value = "Any City" },
        };
        q_md5_attrs(three, 3, out);
        assert_string_equal(out, "28eb0e573cf8e8a77e349a2f968eac4a");
        q_md5_attrs(three, 0, out);
        assert_string_equal(out, "");
        const char *body = "Information about the largest city in Any Region.";
        q_md5_body(body, strlen(body), out);
        assert_string_equal(out, "51b0a3256d59467f973009b739163aa0");

        /* what send returns and receive gives back agree */
        q_engine *q = *state;
        mkq(q, "md5", NULL);
        q_send_entry e = { .body = body,
                           .body_len = strlen(body),
                           .delay_seconds = -1,
                           .attrs = three,
                           .n_attrs = 3 };
        q_send_result res;
        EXPECT_OK(q_send(q, "md5", "AKID", &e, 1, &res, err));
        assert_string_equal(res.md5_attrs, "28eb0e573cf8e8a77e349a2f968eac4a");
        assert_string_equal(res.md5_body, "51b0a3256d59467f973009b739163aa0");
        q_message *m;
        assert_int_equal(recv_n(q, "md5", 1, -1, &m), 1);
        assert_string_equal(m[0].md5_attrs, "28eb0e573cf8e8a77e349a2f968eac4a");
        assert_int_equal(m[0].n_attrs, 3);
        char again[33];
        q_md5_attrs(m[0].attrs, m[0].n_attrs, again);
        assert_string_equal(again, "28eb0e573cf8e8a77e349a2f968eac4a");
        bool seen_bin = false;
        for (size_t i = 0; i < m[0].n_attrs; i++)
                if (strcmp(m[0].attrs[i].name, "Greeting") == 0) {
                        assert_int_equal(m[0].attrs[i].binary_len, 13);
                        assert_memory_equal(m[0].attrs[i].binary_value, hello, 13);
                        seen_bin = true;
                }
        assert_true(seen_bin);
        q_messages_free(m, 1);
}

/* A receive with VisibilityTimeout 0 and room for several messages hands each out once (the
 * engine handed the same message out again and again within one answer, counts 1..10). */
static void test_visibility_zero_once(void **state)
{
        q_engine *q = *state;
        mkq(q, "vis0", NULL);
        mkq(q, "vis0.fifo", "FifoQueue=true", "ContentBasedDeduplication=true", NULL);
        send1(q, "vis0", "a", NULL, NULL, NULL);
        send1(q, "vis0", "b", NULL, NULL, NULL);
        send1(q, "vis0.fifo", "x", "g", NULL, NULL);
        q_message *m = NULL;
        size_t n = recv_n(q, "vis0", 10, 0, &m);
        assert_int_equal(n, 2);
        assert_string_not_equal(m[0].message_id, m[1].message_id);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(q_kvs_get(&m[i].sys, "ApproximateReceiveCount"), "1");
        q_messages_free(m, n);
        n = recv_n(q, "vis0.fifo", 10, 0, &m);
        assert_int_equal(n, 1);
        assert_string_equal(q_kvs_get(&m[0].sys, "ApproximateReceiveCount"), "1");
        q_messages_free(m, n);
}

static void test_visibility_redelivery(void **state)
{
        q_engine *q = *state;
        mkq(q, "vis", "VisibilityTimeout=30", NULL);
        send1(q, "vis", "m", NULL, NULL, NULL);
        q_message *a, *b, *none;
        assert_int_equal(recv_n(q, "vis", 1, -1, &a), 1);
        assert_string_equal(q_kvs_get(&a[0].sys, "ApproximateReceiveCount"), "1");
        const char *first = q_kvs_get(&a[0].sys, "ApproximateFirstReceiveTimestamp");
        advance(29000);
        assert_int_equal(recv_n(q, "vis", 1, -1, &none), 0);
        advance(1000);
        assert_int_equal(recv_n(q, "vis", 1, -1, &b), 1);
        assert_string_equal(b[0].message_id, a[0].message_id);
        assert_string_equal(q_kvs_get(&b[0].sys, "ApproximateReceiveCount"), "2");
        assert_string_equal(q_kvs_get(&b[0].sys, "ApproximateFirstReceiveTimestamp"), first);
        assert_string_not_equal(a[0].receipt_handle, b[0].receipt_handle);
        /* the old handle cannot change the visibility; the current one can */
        EXPECT_ERR(Q_E_INVALID_PARAMETER,
                   q_change_visibility(q, "vis", a[0].receipt_handle, 60, err));
        EXPECT_OK(q_change_visibility(q, "vis", b[0].receipt_handle, 60, err));
        advance(59000);
        assert_int_equal(recv_n(q, "vis", 1, -1, &none), 0);
        /* visibility 0 makes it visible at once */
        EXPECT_OK(q_change_visibility(q, "vis", b[0].receipt_handle, 0, err));
        EXPECT_ERR(Q_E_MESSAGE_NOT_INFLIGHT,
                   q_change_visibility(q, "vis", b[0].receipt_handle, 10, err));
        q_message *c;
        assert_int_equal(recv_n(q, "vis", 1, 5, &c), 1);
        assert_string_equal(q_kvs_get(&c[0].sys, "ApproximateReceiveCount"), "3");
        advance(6000);
        /* its visibility ended: MessageNotInflight with the current handle */
        EXPECT_ERR(Q_E_MESSAGE_NOT_INFLIGHT,
                   q_change_visibility(q, "vis", c[0].receipt_handle, 10, err));
        EXPECT_ERR(Q_E_INVALID_PARAMETER,
                   q_change_visibility(q, "vis", c[0].receipt_handle, 43201, err));
        /* an older handle of a message that still exists deletes it (as in SQS) */
        del(q, "vis", a[0].receipt_handle);
        assert_int_equal(recv_n(q, "vis", 1, -1, &none), 0);
        q_stats st;
        EXPECT_OK(q_get_stats(q, "vis", &st, err));
        assert_int_equal(st.visible + st.in_flight, 0);
        /* malformed handles, and a handle of another queue */
        mkq(q, "vis2", NULL);
        EXPECT_ERR(Q_E_RECEIPT_HANDLE_INVALID,
                   q_delete_message(q, "vis2", a[0].receipt_handle, err));
        EXPECT_ERR(Q_E_RECEIPT_HANDLE_INVALID, q_delete_message(q, "vis", "garbage", err));
        EXPECT_ERR(Q_E_RECEIPT_HANDLE_INVALID, q_change_visibility(q, "vis", "1:2:3", 1, err));
        EXPECT_ERR(Q_E_MISSING_PARAMETER, q_delete_message(q, "vis", "", err));
        q_messages_free(a, 1);
        q_messages_free(b, 1);
        q_messages_free(c, 1);
}

static void test_dead_letter(void **state)
{
        q_engine *q = *state;
        mkq(q, "dlq", NULL);
        mkq(q, "dlq-fifo.fifo", "FifoQueue=true", NULL);
        q_kvs at = { 0 };
        /* RedrivePolicy checks */
        q_kvs_add(
                &at, "RedrivePolicy",
                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:nope\",\"maxReceiveCount\":2}");
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, "src", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(
                &at, "RedrivePolicy",
                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq-fifo.fifo\",\"maxReceiveCount\":2}");
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, "src", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(
                &at, "RedrivePolicy",
                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":0}");
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, "src", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "RedrivePolicy",
                  "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\"");
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, "src", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(
                &at, "RedrivePolicy",
                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":\"2\"}");
        EXPECT_OK(q_create(q, "src", &at, NULL, NULL, err));
        q_kvs_free(&at);
        const char *rp = "RedrivePolicy";
        q_kvs got;
        EXPECT_OK(q_get_attrs(q, "src", &rp, 1, &got, err));
        assert_string_equal(
                q_kvs_get(&got, "RedrivePolicy"),
                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":2}");
        q_kvs_free(&got);

        q_msg_attr attr = { .name = "k", .data_type = "String", .string_value = "v" };
        q_send_entry e = {
                .body = "poison", .body_len = 6, .delay_seconds = -1, .attrs = &attr, .n_attrs = 1
        };
        q_send_result res;
        EXPECT_OK(q_send(q, "src", "AKID", &e, 1, &res, err));
        q_message *m;
        for (int i = 1; i <= 2; i++) {
                assert_int_equal(recv_n(q, "src", 1, 0, &m), 1);
                char want[4];
                snprintf(want, sizeof(want), "%d", i);
                assert_string_equal(q_kvs_get(&m[0].sys, "ApproximateReceiveCount"), want);
                q_messages_free(m, 1);
        }
        /* the third receive moves it instead */
        assert_int_equal(recv_n(q, "src", 1, 0, &m), 0);
        assert_int_equal(recv_n(q, "dlq", 1, 30, &m), 1);
        assert_string_equal(m[0].message_id, res.message_id);
        assert_string_equal(m[0].body, "poison");
        assert_string_equal(m[0].md5_attrs, res.md5_attrs);
        assert_int_equal(m[0].n_attrs, 1);
        /* the count goes on in the dead-letter queue (SQS: received once at maxReceiveCount 1,
         * the first receive from the dead-letter queue says 2) */
        assert_string_equal(q_kvs_get(&m[0].sys, "ApproximateReceiveCount"), "3");
        q_messages_free(m, 1);

        char **names;
        size_t n;
        char *next;
        EXPECT_OK(q_dlq_sources(q, "dlq", 0, NULL, &names, &n, &next, err));
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "src");
        assert_null(next);
        free(names[0]);
        free(names);

        /* redrive back (StartMessageMoveTask) */
        advance(31000);
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_move_start(q, "src", NULL, 0, NULL, err));
        EXPECT_ERR(Q_E_RESOURCE_NOT_FOUND,
                   q_move_start(q, "arn:aws:sqs:us-east-1:000000000000:nope", NULL, 0, NULL, err));
        char *task = NULL;
        EXPECT_OK(q_move_start(q, "arn:aws:sqs:us-east-1:000000000000:dlq", NULL, 0, &task, err));
        assert_non_null(task);
        q_move_task *t = NULL;
        size_t nt = 0;
        for (int i = 0; i < 200; i++) {
                EXPECT_OK(q_move_list(q, "dlq", 10, &t, &nt, err));
                assert_int_equal(nt, 1);
                bool done = strcmp(t[0].status, "COMPLETED") == 0;
                if (done) {
                        assert_int_equal(t[0].moved, 1);
                        assert_string_equal(t[0].source_arn,
                                            "arn:aws:sqs:us-east-1:000000000000:dlq");
                }
                q_move_tasks_free(t, nt);
                if (done)
                        break;
                usleep(10000);
        }
        EXPECT_ERR(Q_E_UNSUPPORTED_OPERATION, q_move_cancel(q, task, NULL, err));
        EXPECT_ERR(Q_E_RESOURCE_NOT_FOUND, q_move_cancel(q, "no-such-task", NULL, err));
        free(task);
        assert_int_equal(recv_n(q, "src", 1, 0, &m), 1);
        assert_string_equal(m[0].message_id, res.message_id);
        assert_string_equal(q_kvs_get(&m[0].sys, "ApproximateReceiveCount"), "1");
        q_messages_free(m, 1);
}

static void wait_task_done(q_engine *q, const char *source)
{
        for (int i = 0; i < 300; i++) {
                q_move_task *t = NULL;
                size_t nt = 0;
                EXPECT_OK(q_move_list(q, source, 1, &t, &nt, err));
                bool done = nt == 1 && strcmp(t[0].status, "RUNNING") != 0;
                if (done)
                        assert_string_equal(t[0].status, "COMPLETED");
                q_move_tasks_free(t, nt);
                if (done)
                        return;
                usleep(10000);
        }
        fail_msg("the move task did not finish");
}

static void test_fifo_dead_letter(void **state)
{
        q_engine *q = *state;
        mkq(q, "fdlq.fifo", "FifoQueue=true", NULL);
        q_kvs at = { 0 };
        q_kvs_add(&at, "FifoQueue", "true");
        q_kvs_add(&at, "ContentBasedDeduplication", "true");
        q_kvs_add(
                &at, "RedrivePolicy",
                "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:fdlq.fifo\",\"maxReceiveCount\":1}");
        EXPECT_OK(q_create(q, "fsrc.fifo", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_send_result r1;
        send1(q, "fsrc.fifo", "m1", "g", NULL, &r1);
        send1(q, "fsrc.fifo", "m2", "g", NULL, NULL);
        q_message *m;
        assert_int_equal(recv_n(q, "fsrc.fifo", 1, 0, &m), 1);
        assert_string_equal(m[0].body, "m1");
        q_messages_free(m, 1);
        /* m1 goes to the dead-letter queue; m2, now the group's head, is delivered */
        assert_int_equal(recv_n(q, "fsrc.fifo", 1, 30, &m), 1);
        assert_string_equal(m[0].body, "m2");
        del(q, "fsrc.fifo", m[0].receipt_handle);
        q_messages_free(m, 1);
        q_stats st;
        EXPECT_OK(q_get_stats(q, "fdlq.fifo", &st, err));
        assert_int_equal(st.visible, 1);
        EXPECT_OK(q_move_start(q, "fdlq.fifo", NULL, 10, NULL, err));
        wait_task_done(q, "fdlq.fifo");
        EXPECT_OK(q_get_stats(q, "fdlq.fifo", &st, err));
        assert_int_equal(st.visible + st.in_flight, 0);
        assert_int_equal(recv_n(q, "fdlq.fifo", 10, 30, &m), 0);
        assert_int_equal(recv_n(q, "fsrc.fifo", 10, 30, &m), 1);
        assert_string_equal(m[0].message_id, r1.message_id);
        assert_string_equal(q_kvs_get(&m[0].sys, "MessageGroupId"), "g");
        assert_string_equal(q_kvs_get(&m[0].sys, "SequenceNumber"), r1.sequence_number);
        q_messages_free(m, 1);
}

static void test_fifo_blocking(void **state)
{
        q_engine *q = *state;
        mkq(q, "f.fifo", "FifoQueue=true", "ContentBasedDeduplication=true", NULL);
        q_send_result r1, r2, r3;
        send1(q, "f.fifo", "a1", "A", NULL, &r1);
        send1(q, "f.fifo", "a2", "A", NULL, &r2);
        assert_true(strcmp(r1.sequence_number, r2.sequence_number) < 0);
        assert_int_equal(strlen(r1.sequence_number), 20);
        q_message *m, *none;
        assert_int_equal(recv_n(q, "f.fifo", 1, -1, &m), 1);
        assert_string_equal(m[0].body, "a1");
        assert_string_equal(q_kvs_get(&m[0].sys, "MessageGroupId"), "A");
        assert_string_equal(q_kvs_get(&m[0].sys, "SequenceNumber"), r1.sequence_number);
        assert_non_null(q_kvs_get(&m[0].sys, "MessageDeduplicationId"));
        /* group A is blocked while a1 is in flight */
        assert_int_equal(recv_n(q, "f.fifo", 10, -1, &none), 0);
        send1(q, "f.fifo", "b1", "B", NULL, &r3);
        q_message *b;
        assert_int_equal(recv_n(q, "f.fifo", 10, -1, &b), 1);
        assert_string_equal(b[0].body, "b1");
        q_messages_free(b, 1);
        /* a1 comes back first after its visibility ends, then a2 with it */
        advance(30000);
        q_message *again;
        assert_int_equal(recv_n(q, "f.fifo", 10, -1, &again), 3);
        size_t ia1 = 99, ia2 = 99;
        for (size_t i = 0; i < 3; i++) {
                if (strcmp(again[i].body, "a1") == 0)
                        ia1 = i;
                if (strcmp(again[i].body, "a2") == 0)
                        ia2 = i;
        }
        assert_true(ia1 < ia2 && ia2 < 3);
        assert_string_equal(q_kvs_get(&again[ia1].sys, "ApproximateReceiveCount"), "2");
        /* a FIFO handle whose visibility ended deletes nothing (SQS: the handle has expired) */
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_delete_message(q, "f.fifo", m[0].receipt_handle, err));
        del(q, "f.fifo", again[ia1].receipt_handle);
        q_messages_free(again, 3);
        q_messages_free(m, 1);
        /* per-message delay is refused on FIFO; a group id is refused on standard */
        q_send_entry e = { .body = "x", .body_len = 1, .delay_seconds = 5, .group_id = "A" };
        q_send_result res;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "f.fifo", "AKID", &e, 1, &res, err));
        e.delay_seconds = 0; /* accepted, as SQS does */
        EXPECT_OK(q_send(q, "f.fifo", "AKID", &e, 1, &res, err));
        e.delay_seconds = -1;
        e.group_id = "";
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "f.fifo", "AKID", &e, 1, &res, err));
        e.group_id = "a b";
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "f.fifo", "AKID", &e, 1, &res, err));
        e.group_id = NULL;
        EXPECT_ERR(Q_E_MISSING_PARAMETER, q_send(q, "f.fifo", "AKID", &e, 1, &res, err));
        e.id = "b1";
        EXPECT_OK(q_send(q, "f.fifo", "AKID", &e, 1, &res, err));
        assert_int_equal(res.code, Q_E_INVALID_PARAMETER);
        e.id = NULL;
        mkq(q, "std", NULL);
        e.group_id = "A";
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "std", "AKID", &e, 1, &res, err));
        e.group_id = NULL;
        e.dedup_id = "d";
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "std", "AKID", &e, 1, &res, err));
}

static void test_attempt_id(void **state)
{
        q_engine *q = *state;
        mkq(q, "at.fifo", "FifoQueue=true", "ContentBasedDeduplication=true", NULL);
        send1(q, "at.fifo", "x1", "g", NULL, NULL);
        send1(q, "at.fifo", "x2", "g", NULL, NULL);
        q_receive_req r = {
                .max = 1, .visibility_timeout = 30, .wait_seconds = 0, .attempt_id = "try-1"
        };
        q_message *a, *b, *c;
        size_t na, nb, nc;
        EXPECT_OK(q_receive(q, "at.fifo", &r, &a, &na, err));
        assert_int_equal(na, 1);
        /* the retry (a lost answer) gets the same message and handle, not a second receive */
        EXPECT_OK(q_receive(q, "at.fifo", &r, &b, &nb, err));
        assert_int_equal(nb, 1);
        assert_string_equal(a[0].receipt_handle, b[0].receipt_handle);
        assert_string_equal(q_kvs_get(&b[0].sys, "ApproximateReceiveCount"), "1");
        /* once deleted, the same attempt id is a fresh receive */
        del(q, "at.fifo", a[0].receipt_handle);
        EXPECT_OK(q_receive(q, "at.fifo", &r, &c, &nc, err));
        assert_int_equal(nc, 1);
        assert_string_equal(c[0].body, "x2");
        q_messages_free(a, na);
        q_messages_free(b, nb);
        q_messages_free(c, nc);
        /* a different type under the same name is another queue */
        q_kvs at = { 0 };
        q_kvs_add(&at, "FifoQueue", "true");
        mkq(q, "plain", NULL);
        EXPECT_ERR(Q_E_QUEUE_EXISTS, q_create(q, "plain", &at, NULL, NULL, err));
        q_kvs_free(&at);
}

static void test_dedup(void **state)
{
        q_engine *q = *state;
        mkq(q, "d.fifo", "FifoQueue=true", NULL);
        q_send_result a, b, c;
        /* no dedup id and no content-based deduplication */
        q_send_entry e = { .body = "x", .body_len = 1, .delay_seconds = -1, .group_id = "g" };
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "d.fifo", "AKID", &e, 1, &a, err));
        send1(q, "d.fifo", "one", "g", "id1", &a);
        advance(299000);
        send1(q, "d.fifo", "one again", "g", "id1", &b);
        assert_string_equal(a.message_id, b.message_id);
        assert_string_equal(a.sequence_number, b.sequence_number);
        q_stats st;
        EXPECT_OK(q_get_stats(q, "d.fifo", &st, err));
        assert_int_equal(st.visible, 1);
        advance(1001); /* the 5-minute window of the first send is over */
        send1(q, "d.fifo", "one", "g", "id1", &c);
        assert_string_not_equal(a.message_id, c.message_id);
        assert_true(strcmp(a.sequence_number, c.sequence_number) < 0);
        EXPECT_OK(q_get_stats(q, "d.fifo", &st, err));
        assert_int_equal(st.visible, 2);
        /* content-based: the body's SHA-256 */
        mkq(q, "c.fifo", "FifoQueue=true", "ContentBasedDeduplication=true", NULL);
        send1(q, "c.fifo", "same", "g1", NULL, &a);
        send1(q, "c.fifo", "same", "g2", NULL, &b);
        send1(q, "c.fifo", "other", "g1", NULL, &c);
        assert_string_equal(a.message_id, b.message_id);
        assert_string_not_equal(a.message_id, c.message_id);
        q_message *m;
        assert_int_equal(recv_n(q, "c.fifo", 10, -1, &m), 2);
        assert_string_equal(q_kvs_get(&m[0].sys, "MessageDeduplicationId"),
                            "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5");
        q_messages_free(m, 2);
        /* a duplicate within one batch */
        mkq(q, "b.fifo", "FifoQueue=true", NULL);
        q_send_entry be[2] = {
                { .id = "e1",
                  .body = "p",
                  .body_len = 1,
                  .delay_seconds = -1,
                  .group_id = "g",
                  .dedup_id = "same" },
                { .id = "e2",
                  .body = "q",
                  .body_len = 1,
                  .delay_seconds = -1,
                  .group_id = "g",
                  .dedup_id = "same" },
        };
        q_send_result br[2];
        EXPECT_OK(q_send(q, "b.fifo", "AKID", be, 2, br, err));
        assert_int_equal(br[0].code, Q_OK);
        assert_int_equal(br[1].code, Q_OK);
        assert_string_equal(br[0].message_id, br[1].message_id);
}

struct poller {
        q_engine *q;
        const char *queue;
        int wait;
        size_t n;
        double secs;
};

static double mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *poll_thread(void *p)
{
        struct poller *a = p;
        q_receive_req r = { .max = 10, .visibility_timeout = -1, .wait_seconds = a->wait };
        q_message *m = NULL;
        q_error e;
        double t0 = mono();
        if (q_receive(a->q, a->queue, &r, &m, &a->n, &e) < 0)
                a->n = 999;
        a->secs = mono() - t0;
        q_messages_free(m, a->n == 999 ? 0 : a->n);
        return NULL;
}

static void test_long_poll(void **state)
{
        q_engine *q = *state;
        mkq(q, "lp", NULL);
        /* nothing arrives: answers after WaitTimeSeconds */
        struct poller a = { .q = q, .queue = "lp", .wait = 1 };
        poll_thread(&a);
        assert_int_equal(a.n, 0);
        assert_true(a.secs >= 0.95 && a.secs < 3.0);
        /* a send wakes the poller at once */
        struct poller b = { .q = q, .queue = "lp", .wait = 10 };
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, poll_thread, &b), 0);
        usleep(150000);
        send1(q, "lp", "wake", NULL, NULL, NULL);
        pthread_join(th, NULL);
        assert_int_equal(b.n, 1);
        assert_true(b.secs < 2.0); /* of 10 s */
        /* a send to another queue does not answer it; the queue's own wait time applies when
         * the request gives none */
        mkq(q, "other", NULL);
        q_kvs at = { 0 };
        q_kvs_add(&at, "ReceiveMessageWaitTimeSeconds", "1");
        EXPECT_OK(q_set_attrs(q, "lp", &at, err));
        q_kvs_free(&at);
        struct poller c = { .q = q, .queue = "lp", .wait = -1 };
        assert_int_equal(pthread_create(&th, NULL, poll_thread, &c), 0);
        usleep(100000);
        send1(q, "other", "not for lp", NULL, NULL, NULL);
        pthread_join(th, NULL);
        assert_int_equal(c.n, 0);
        assert_true(c.secs >= 0.95);
        /* shutdown wakes every waiter */
        struct poller d = { .q = q, .queue = "lp", .wait = 20 };
        assert_int_equal(pthread_create(&th, NULL, poll_thread, &d), 0);
        usleep(150000);
        q_engine_shutdown(q);
        pthread_join(th, NULL);
        assert_int_equal(d.n, 0);
        assert_true(d.secs < 2.0); /* of 20 s */
}

static void test_long_poll_visibility(void **state)
{
        /* real clock here: the waiter sleeps until the in-flight message's visibility ends */
        q_engine_close(*state);
        q_config c = { 0 };
        q_engine *q = NULL;
        q_error e;
        assert_int_equal(q_engine_open(dbpath, &c, &q, &e), 0);
        *state = q;
        mkq(q, "lpv", NULL);
        send1(q, "lpv", "x", NULL, NULL, NULL);
        q_message *m;
        assert_int_equal(recv_n(q, "lpv", 1, 1, &m), 1);
        q_messages_free(m, 1);
        struct poller a = { .q = q, .queue = "lpv", .wait = 5 };
        poll_thread(&a);
        assert_int_equal(a.n, 1);
        assert_true(a.secs >= 0.5 && a.secs < 3.0); /* of 5 s */
}

static void test_delay(void **state)
{
        q_engine *q = *state;
        mkq(q, "dq", "DelaySeconds=10", NULL);
        send1(q, "dq", "late", NULL, NULL, NULL);
        q_message *m;
        assert_int_equal(recv_n(q, "dq", 10, -1, &m), 0);
        q_stats st;
        EXPECT_OK(q_get_stats(q, "dq", &st, err));
        assert_int_equal(st.delayed, 1);
        const char *names[] = { "ApproximateNumberOfMessagesDelayed", "DelaySeconds" };
        q_kvs got;
        EXPECT_OK(q_get_attrs(q, "dq", names, 2, &got, err));
        assert_string_equal(q_kvs_get(&got, "ApproximateNumberOfMessagesDelayed"), "1");
        assert_string_equal(q_kvs_get(&got, "DelaySeconds"), "10");
        q_kvs_free(&got);
        advance(10000);
        assert_int_equal(recv_n(q, "dq", 10, -1, &m), 1);
        q_messages_free(m, 1);
        /* per message: overrides the queue's */
        q_send_entry e = { .body = "soon", .body_len = 4, .delay_seconds = 2 };
        q_send_result res;
        EXPECT_OK(q_send(q, "dq", "AKID", &e, 1, &res, err));
        e.delay_seconds = 0;
        e.body = "now";
        e.body_len = 3;
        EXPECT_OK(q_send(q, "dq", "AKID", &e, 1, &res, err));
        assert_int_equal(recv_n(q, "dq", 10, -1, &m), 1);
        assert_string_equal(m[0].body, "now");
        q_messages_free(m, 1);
        advance(2000);
        assert_int_equal(recv_n(q, "dq", 10, -1, &m), 1);
        assert_string_equal(m[0].body, "soon");
        q_messages_free(m, 1);
        e.delay_seconds = 901;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "dq", "AKID", &e, 1, &res, err));
}

static void test_retention(void **state)
{
        q_engine *q = *state;
        mkq(q, "ret", "MessageRetentionPeriod=60", NULL);
        mkq(q, "ret.fifo", "FifoQueue=true", "ContentBasedDeduplication=true",
            "MessageRetentionPeriod=60", NULL);
        send1(q, "ret", "old", NULL, NULL, NULL);
        send1(q, "ret.fifo", "old", "g", NULL, NULL);
        advance(30000);
        send1(q, "ret", "young", NULL, NULL, NULL);
        send1(q, "ret.fifo", "young", "g", NULL, NULL);
        advance(30000);
        q_message *m;
        assert_int_equal(recv_n(q, "ret", 10, -1, &m), 1);
        assert_string_equal(m[0].body, "young");
        q_messages_free(m, 1);
        assert_int_equal(recv_n(q, "ret.fifo", 10, -1, &m), 1);
        assert_string_equal(m[0].body, "young");
        q_messages_free(m, 1);
        advance(30000);
        q_stats st;
        EXPECT_OK(q_get_stats(q, "ret", &st, err));
        assert_int_equal(st.visible + st.in_flight + st.delayed, 0);
        EXPECT_OK(q_get_stats(q, "ret.fifo", &st, err));
        assert_int_equal(st.visible + st.in_flight + st.delayed, 0);
}

static void test_purge(void **state)
{
        q_engine *q = *state;
        mkq(q, "pq", NULL);
        for (int i = 0; i < 5; i++)
                send1(q, "pq", "x", NULL, NULL, NULL);
        EXPECT_OK(q_purge(q, "pq", err));
        q_message *m;
        assert_int_equal(recv_n(q, "pq", 10, -1, &m), 0);
        advance(59000);
        EXPECT_ERR(Q_E_PURGE_IN_PROGRESS, q_purge(q, "pq", err));
        advance(1000);
        EXPECT_OK(q_purge(q, "pq", err));
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE, q_purge(q, "nope", err));
}

static void test_errors(void **state)
{
        q_engine *q = *state;
        q_send_result res[11];
        q_message *m;
        size_t n;
        /* names */
        assert_true(q_name_valid("a"));
        assert_true(q_name_valid("A-b_9.fifo"));
        assert_false(q_name_valid(""));
        assert_false(q_name_valid("a.b"));
        assert_false(q_name_valid("../x"));
        assert_false(q_name_valid(".fifo"));
        char long81[82];
        memset(long81, 'a', 81);
        long81[81] = 0;
        assert_false(q_name_valid(long81));
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, "a/b", NULL, NULL, NULL, err));
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, long81, NULL, NULL, NULL, err));
        EXPECT_ERR(Q_E_MISSING_PARAMETER, q_create(q, "", NULL, NULL, NULL, err));
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, "x.fifo", NULL, NULL, NULL, err));
        q_kvs at = { 0 };
        q_kvs_add(&at, "FifoQueue", "true");
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_create(q, "notfifo", &at, NULL, NULL, err));
        q_kvs_free(&at);
        /* attributes */
        q_kvs_add(&at, "VisibilityTimeout", "43201");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_VALUE, q_create(q, "e1", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "Bogus", "1");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_create(q, "e1", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "QueueArn", "x");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_create(q, "e1", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "ContentBasedDeduplication", "true");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_create(q, "e1", &at, NULL, NULL, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "MaximumMessageSize", "1023");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_VALUE, q_create(q, "e1", &at, NULL, NULL, err));
        q_kvs_free(&at);
        /* same attributes: success, not created; others: QueueAlreadyExists */
        mkq(q, "e1", "VisibilityTimeout=10", NULL);
        bool created = true;
        q_kvs_add(&at, "VisibilityTimeout", "10");
        EXPECT_OK(q_create(q, "e1", &at, NULL, &created, err));
        assert_false(created);
        q_kvs_free(&at);
        q_kvs_add(&at, "VisibilityTimeout", "11");
        EXPECT_ERR(Q_E_QUEUE_EXISTS, q_create(q, "e1", &at, NULL, NULL, err));
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE, q_set_attrs(q, "nope", &at, err));
        q_kvs_free(&at);
        /* as SQS answers: FifoQueue is unknown on a standard queue, a FIFO queue stays one */
        q_kvs_add(&at, "FifoQueue", "true");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_set_attrs(q, "e1", &at, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "FifoQueue", "false");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_set_attrs(q, "e1", &at, err));
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_create(q, "e2", &at, NULL, NULL, err));
        mkq(q, "e3.fifo", "FifoQueue=true", NULL);
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_VALUE, q_set_attrs(q, "e3.fifo", &at, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "FifoQueue", "true");
        EXPECT_OK(q_set_attrs(q, "e3.fifo", &at, err));
        q_kvs_free(&at);
        q_kvs_add(&at, "FifoThroughputLimit", "perQueue");
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_create(q, "e2", &at, NULL, NULL, err));
        q_kvs_free(&at);
        const char *bad = "Nope";
        q_kvs got;
        EXPECT_ERR(Q_E_INVALID_ATTRIBUTE_NAME, q_get_attrs(q, "e1", &bad, 1, &got, err));
        /* deleted recently */
        EXPECT_OK(q_delete(q, "e1", err));
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE, q_exists(q, "e1", err));
        EXPECT_ERR(Q_E_QUEUE_DELETED_RECENTLY, q_create(q, "e1", NULL, NULL, NULL, err));
        advance(60000);
        EXPECT_OK(q_create(q, "e1", NULL, NULL, &created, err));
        assert_true(created);

        /* batches */
        q_send_entry e[11];
        char ids[11][8];
        for (int i = 0; i < 11; i++) {
                snprintf(ids[i], sizeof(ids[i]), "m%d", i);
                e[i] = (q_send_entry){
                        .id = ids[i], .body = "b", .body_len = 1, .delay_seconds = -1
                };
        }
        EXPECT_ERR(Q_E_EMPTY_BATCH, q_send(q, "e1", "AKID", e, 0, res, err));
        EXPECT_ERR(Q_E_TOO_MANY_ENTRIES, q_send(q, "e1", "AKID", e, 11, res, err));
        e[1].id = "m0";
        EXPECT_ERR(Q_E_BATCH_IDS_NOT_DISTINCT, q_send(q, "e1", "AKID", e, 2, res, err));
        e[1].id = "bad id!";
        EXPECT_ERR(Q_E_INVALID_BATCH_ENTRY_ID, q_send(q, "e1", "AKID", e, 2, res, err));
        e[1].id = ids[1];
        static char big[200 * 1024];
        memset(big, 'x', sizeof(big));
        e[0].body = big;
        e[0].body_len = sizeof(big);
        e[1].body = big;
        e[1].body_len = sizeof(big);
        EXPECT_ERR(Q_E_BATCH_TOO_LONG, q_send(q, "e1", "AKID", e, 2, res, err));
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE, q_send(q, "nope", "AKID", e, 1, res, err));
        /* one bad entry fails alone */
        e[1].body = "\x01";
        e[1].body_len = 1;
        EXPECT_OK(q_send(q, "e1", "AKID", e, 3, res, err));
        assert_int_equal(res[0].code, Q_OK);
        assert_int_equal(res[1].code, Q_E_INVALID_MESSAGE_CONTENTS);
        assert_int_equal(res[2].code, Q_OK);
        assert_int_equal(strlen(res[2].message_id), 36);

        /* message size and contents */
        static char huge[Q_MESSAGE_MAX + 1];
        memset(huge, 'y', sizeof(huge));
        q_send_entry one = { .body = huge, .body_len = Q_MESSAGE_MAX, .delay_seconds = -1 };
        EXPECT_OK(q_send(q, "e1", "AKID", &one, 1, res, err));
        one.body_len = Q_MESSAGE_MAX + 1;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "e1", "AKID", &one, 1, res, err));
        q_msg_attr a1 = { .name = "n", .data_type = "String", .string_value = "v" };
        one.body_len = Q_MESSAGE_MAX - 2; /* + 1 + 6 + 1 bytes of attribute: over */
        one.attrs = &a1;
        one.n_attrs = 1;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "e1", "AKID", &one, 1, res, err));
        one.n_attrs = 0;
        const char *badbodies[] = {
                "a\x01",        "\x7f\xff",         "\xc3", "\xc0\xaf", "\xed\xa0\x80",
                "\xef\xbf\xbe", "\xf4\x90\x80\x80", "a\0b"
        };
        size_t badlens[] = { 2, 2, 1, 2, 3, 3, 4, 3 };
        for (size_t i = 0; i < sizeof(badlens) / sizeof(badlens[0]); i++) {
                one.body = badbodies[i];
                one.body_len = badlens[i];
                EXPECT_ERR(Q_E_INVALID_MESSAGE_CONTENTS,
                           q_send(q, "e1", "AKID", &one, 1, res, err));
        }
        const char *good =
                "tab\tnl\ncr\r \xc3\xa9 \xe2\x82\xac \xef\xbf\xbd \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
        one.body = good;
        one.body_len = strlen(good);
        EXPECT_OK(q_send(q, "e1", "AKID", &one, 1, res, err));
        one.body_len = 0;
        EXPECT_ERR(Q_E_MISSING_PARAMETER, q_send(q, "e1", "AKID", &one, 1, res, err));
        one.body = "ok";
        one.body_len = 2;

        /* message attributes */
        q_msg_attr bads[][1] = {
                { { .name = "AWS.x", .data_type = "String", .string_value = "v" } },
                { { .name = "a..b", .data_type = "String", .string_value = "v" } },
                { { .name = ".a", .data_type = "String", .string_value = "v" } },
                { { .name = "a b", .data_type = "String", .string_value = "v" } },
                { { .name = "n", .data_type = "Strin", .string_value = "v" } },
                { { .name = "n", .data_type = "String.", .string_value = "v" } },
                { { .name = "n", .data_type = "String", .string_value = "" } },
                { { .name = "n", .data_type = "Number", .string_value = "12a" } },
                { { .name = "n",
                    .data_type = "Number",
                    .string_value = "123456789012345678901234567890123456789" } },
                { { .name = "n", .data_type = "Binary" } },
                { { .name = "n", .data_type = "String", .string_value = "\x02" } },
        };
        for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
                one.attrs = bads[i];
                one.n_attrs = 1;
                EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "e1", "AKID", &one, 1, res, err));
        }
        q_msg_attr okattrs[] = {
                { .name = "Amazonia", .data_type = "Number.float", .string_value = "-1.5e10" },
                { .name = "a.b", .data_type = "String.label", .string_value = "v" },
        };
        one.attrs = okattrs;
        one.n_attrs = 2;
        EXPECT_OK(q_send(q, "e1", "AKID", &one, 1, res, err));
        q_msg_attr many[11];
        char names[11][8];
        for (int i = 0; i < 11; i++) {
                snprintf(names[i], sizeof(names[i]), "a%d", i);
                many[i] = (q_msg_attr){ .name = names[i],
                                        .data_type = "String",
                                        .string_value = "v" };
        }
        one.attrs = many;
        one.n_attrs = 11;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "e1", "AKID", &one, 1, res, err));
        one.n_attrs = 0;
        q_msg_attr sys = { .name = "Other", .data_type = "String", .string_value = "v" };
        one.sys_attrs = &sys;
        one.n_sys_attrs = 1;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_send(q, "e1", "AKID", &one, 1, res, err));
        sys.name = "AWSTraceHeader";
        EXPECT_OK(q_send(q, "e1", "AKID", &one, 1, res, err));
        assert_int_equal(strlen(res[0].md5_sys_attrs), 32);

        /* receive parameters */
        q_receive_req r = { .max = 11, .visibility_timeout = -1, .wait_seconds = 0 };
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_receive(q, "e1", &r, &m, &n, err));
        r.max = 1;
        r.wait_seconds = 21;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_receive(q, "e1", &r, &m, &n, err));
        r.wait_seconds = 0;
        r.visibility_timeout = 43201;
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_receive(q, "e1", &r, &m, &n, err));
        r.visibility_timeout = -1;
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE, q_receive(q, "nope", &r, &m, &n, err));
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE, q_receive(q, "../etc", &r, &m, &n, err));

        /* tags */
        q_kvs tags = { 0 };
        char k[16];
        for (int i = 0; i < 51; i++) {
                snprintf(k, sizeof(k), "k%d", i);
                q_kvs_add(&tags, k, "v");
        }
        EXPECT_ERR(Q_E_OVER_LIMIT, q_tag(q, "e1", &tags, err));
        q_kvs_free(&tags);
        q_kvs_add(&tags, "aws:x", "v");
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_tag(q, "e1", &tags, err));
        q_kvs_free(&tags);
        EXPECT_ERR(Q_E_MISSING_PARAMETER, q_tag(q, "e1", &tags, err));

        /* error names */
        assert_string_equal(q_err_json_name(Q_E_NONEXISTENT_QUEUE), "QueueDoesNotExist");
        assert_string_equal(q_err_query_name(Q_E_NONEXISTENT_QUEUE),
                            "AWS.SimpleQueueService.NonExistentQueue");
        assert_int_equal(q_err_status(Q_E_INTERNAL), 500);
        assert_int_equal(q_err_status(Q_E_OVER_LIMIT), 400);
        assert_false(q_err_sender_fault(Q_E_INTERNAL));
        assert_true(q_err_sender_fault(Q_E_RECEIPT_HANDLE_INVALID));
}

static void test_batches(void **state)
{
        q_engine *q = *state;
        mkq(q, "bt", NULL);
        q_send_entry e[10];
        char ids[10][8], bodies[10][8];
        for (int i = 0; i < 10; i++) {
                snprintf(ids[i], sizeof(ids[i]), "i%d", i);
                snprintf(bodies[i], sizeof(bodies[i]), "b%d", i);
                e[i] = (q_send_entry){ .id = ids[i],
                                       .body = bodies[i],
                                       .body_len = strlen(bodies[i]),
                                       .delay_seconds = -1 };
        }
        q_send_result res[10];
        uint64_t s0, s1;
        q_engine_counters(q, NULL, &s0, NULL, NULL);
        EXPECT_OK(q_send(q, "bt", "AKID", e, 10, res, err));
        q_engine_counters(q, NULL, &s1, NULL, NULL);
        assert_int_equal(s1 - s0, 1); /* a batch is one commit */
        q_message *m;
        assert_int_equal(recv_n(q, "bt", 10, -1, &m), 10);
        const char *rids[4] = { "x0", "x1", "x2", "x3" };
        const char *rh[4] = { m[0].receipt_handle, "bogus", m[1].receipt_handle,
                              m[2].receipt_handle };
        uint32_t to[4] = { 100, 100, 43201, 0 };
        q_batch_result br[4];
        EXPECT_OK(q_change_visibility_batch(q, "bt", rids, rh, to, 4, br, err));
        assert_int_equal(br[0].code, Q_OK);
        assert_int_equal(br[1].code, Q_E_RECEIPT_HANDLE_INVALID);
        assert_int_equal(br[2].code, Q_E_INVALID_PARAMETER);
        assert_int_equal(br[3].code, Q_OK);
        const char *dh[10];
        const char *dids[10];
        for (int i = 0; i < 10; i++) {
                dh[i] = m[i].receipt_handle;
                dids[i] = ids[i];
        }
        dh[5] = "bogus";
        EXPECT_OK(q_delete_batch(q, "bt", dids, dh, 10, (q_batch_result[10]){ 0 }, err));
        q_batch_result dr[10];
        dh[5] = "bogus";
        EXPECT_OK(q_delete_batch(q, "bt", dids, dh, 10, dr, err));
        assert_int_equal(dr[5].code, Q_E_RECEIPT_HANDLE_INVALID);
        assert_int_equal(dr[4].code, Q_OK);
        EXPECT_ERR(Q_E_EMPTY_BATCH, q_delete_batch(q, "bt", dids, dh, 0, dr, err));
        dids[1] = dids[0];
        EXPECT_ERR(Q_E_BATCH_IDS_NOT_DISTINCT, q_delete_batch(q, "bt", dids, dh, 2, dr, err));
        q_messages_free(m, 10);
        /* m[5] still exists, visible again after 30 s */
        advance(30000);
        assert_int_equal(recv_n(q, "bt", 10, -1, &m), 1);
        assert_string_equal(m[0].body, "b5");
        q_messages_free(m, 1);
}

static void test_list_tags_attrs(void **state)
{
        q_engine *q = *state;
        const char *qs[] = { "a1", "a2", "a3", "a4", "a5", "b1" };
        for (size_t i = 0; i < 6; i++)
                mkq(q, qs[i], NULL);
        char **names;
        size_t n;
        char *next = NULL;
        EXPECT_OK(q_list(q, "a", 2, NULL, &names, &n, &next, err));
        assert_int_equal(n, 2);
        assert_string_equal(names[0], "a1");
        assert_string_equal(names[1], "a2");
        assert_non_null(next);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        char *tok = next;
        EXPECT_OK(q_list(q, "a", 2, tok, &names, &n, &next, err));
        free(tok);
        assert_int_equal(n, 2);
        assert_string_equal(names[0], "a3");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        tok = next;
        EXPECT_OK(q_list(q, "a", 2, tok, &names, &n, &next, err));
        free(tok);
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "a5");
        assert_null(next);
        free(names[0]);
        free(names);
        EXPECT_OK(q_list(q, NULL, 0, NULL, &names, &n, &next, err));
        assert_int_equal(n, 6);
        assert_null(next);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        EXPECT_ERR(Q_E_INVALID_PARAMETER, q_list(q, NULL, 1001, NULL, &names, &n, &next, err));

        q_kvs tags = { 0 };
        q_kvs_add(&tags, "team", "core");
        q_kvs_add(&tags, "env", "test");
        EXPECT_OK(q_tag(q, "a1", &tags, err));
        q_kvs_free(&tags);
        const char *rm = "env";
        EXPECT_OK(q_untag(q, "a1", &rm, 1, err));
        EXPECT_OK(q_list_tags(q, "a1", &tags, err));
        assert_int_equal(tags.n, 1);
        assert_string_equal(q_kvs_get(&tags, "team"), "core");
        q_kvs_free(&tags);
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE, q_list_tags(q, "zz", &tags, err));

        const char *all = "All";
        q_kvs got;
        EXPECT_OK(q_get_attrs(q, "a1", &all, 1, &got, err));
        assert_string_equal(q_kvs_get(&got, "QueueArn"), "arn:aws:sqs:us-east-1:000000000000:a1");
        assert_string_equal(q_kvs_get(&got, "VisibilityTimeout"), "30");
        assert_string_equal(q_kvs_get(&got, "MaximumMessageSize"), "262144");
        assert_string_equal(q_kvs_get(&got, "MessageRetentionPeriod"), "345600");
        assert_string_equal(q_kvs_get(&got, "ApproximateNumberOfMessages"), "0");
        assert_null(q_kvs_get(&got, "FifoQueue"));
        char ts[32];
        snprintf(ts, sizeof(ts), "%llu", (unsigned long long)(fake_clock(NULL) / 1000));
        assert_string_equal(q_kvs_get(&got, "CreatedTimestamp"), ts);
        q_kvs_free(&got);
        mkq(q, "ff.fifo", "FifoQueue=true", NULL);
        EXPECT_OK(q_get_attrs(q, "ff.fifo", &all, 1, &got, err));
        assert_string_equal(q_kvs_get(&got, "FifoQueue"), "true");
        assert_string_equal(q_kvs_get(&got, "ContentBasedDeduplication"), "false");
        q_kvs_free(&got);
        EXPECT_OK(q_get_attrs(q, "ff.fifo", &all, 0, &got, err));
        assert_int_equal(got.n, 0);

        /* URLs and ARNs */
        char name[Q_NAME_MAX + 1];
        EXPECT_OK(q_name_from_url(q, "http://localhost:9324/000000000000/a1", name, err));
        assert_string_equal(name, "a1");
        EXPECT_OK(q_name_from_url(q, "/000000000000/a1", name, err));
        EXPECT_OK(q_name_from_url(q, "a1", name, err));
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE,
                   q_name_from_url(q, "http://h/111111111111/a1", name, err));
        EXPECT_ERR(Q_E_INVALID_PARAMETER,
                   q_name_from_url(q, "http://h/000000000000/a1/", name, err));
        EXPECT_ERR(Q_E_NONEXISTENT_QUEUE,
                   q_name_from_url(q, "http://h/000000000000/..", name, err));
        char *url = q_queue_url(q, "127.0.0.1:9324", "a1");
        assert_string_equal(url, "http://127.0.0.1:9324/000000000000/a1");
        free(url);
}

/* ---- FIFO under 4 concurrent consumers ---- */
#define FG 4
#define FN 60
struct fifo_shared {
        q_engine *q;
        pthread_mutex_t mu;
        int next[FG];      /* next expected index per group */
        bool inflight[FG]; /* a consumer holds messages of the group */
        int total;
        bool bad;
        char why[200];
};

static void *fifo_consumer(void *p)
{
        struct fifo_shared *s = p;
        unsigned seed = (unsigned)(uintptr_t)pthread_self();
        for (int spins = 0; spins < 100000; spins++) {
                pthread_mutex_lock(&s->mu);
                bool done = s->total == FG * FN || s->bad;
                pthread_mutex_unlock(&s->mu);
                if (done)
                        break;
                q_receive_req r = { .max = 1 + (unsigned)(rand_r(&seed) % 10),
                                    .visibility_timeout = 30,
                                    .wait_seconds = 0 };
                q_message *m = NULL;
                size_t n = 0;
                q_error e;
                if (q_receive(s->q, "order.fifo", &r, &m, &n, &e) < 0)
                        break;
                pthread_mutex_lock(&s->mu);
                bool held[FG] = { false };
                for (size_t i = 0; i < n; i++) {
                        int g, idx;
                        if (sscanf(m[i].body, "%d:%d", &g, &idx) != 2 || g < 0 || g >= FG) {
                                s->bad = true;
                                continue;
                        }
                        if (s->inflight[g] && !held[g]) {
                                s->bad = true;
                                snprintf(s->why, sizeof(s->why),
                                         "group %d handed out while in flight", g);
                        }
                        s->inflight[g] = held[g] = true;
                        if (idx != s->next[g]) {
                                s->bad = true;
                                snprintf(s->why, sizeof(s->why), "group %d: got %d, want %d", g,
                                         idx, s->next[g]);
                        }
                        s->next[g] = idx + 1;
                        s->total++;
                }
                /* release before deleting: the group stays blocked until the deletes commit */
                for (int g = 0; g < FG; g++)
                        if (held[g])
                                s->inflight[g] = false;
                pthread_mutex_unlock(&s->mu);
                for (size_t i = 0; i < n; i++)
                        if (q_delete_message(s->q, "order.fifo", m[i].receipt_handle, &e) < 0)
                                s->bad = true;
                q_messages_free(m, n);
        }
        return NULL;
}

static void test_fifo_concurrent_order(void **state)
{
        q_engine *q = *state;
        mkq(q, "order.fifo", "FifoQueue=true", "ContentBasedDeduplication=true", NULL);
        for (int i = 0; i < FN; i++) {
                q_send_entry e[FG];
                char bodies[FG][16], ids[FG][8];
                for (int g = 0; g < FG; g++) {
                        snprintf(bodies[g], sizeof(bodies[g]), "%d:%d", g, i);
                        snprintf(ids[g], sizeof(ids[g]), "e%d", g);
                        static const char *groups[FG] = { "g0", "g1", "g2", "g3" };
                        e[g] = (q_send_entry){ .id = ids[g],
                                               .body = bodies[g],
                                               .body_len = strlen(bodies[g]),
                                               .delay_seconds = -1,
                                               .group_id = groups[g] };
                }
                q_send_result res[FG];
                EXPECT_OK(q_send(q, "order.fifo", "AKID", e, FG, res, err));
                for (int g = 0; g < FG; g++)
                        assert_int_equal(res[g].code, Q_OK);
        }
        struct fifo_shared s = { .q = q };
        pthread_mutex_init(&s.mu, NULL);
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&th[i], NULL, fifo_consumer, &s), 0);
        for (int i = 0; i < 4; i++)
                pthread_join(th[i], NULL);
        if (s.bad)
                fail_msg("FIFO: %s", s.why);
        assert_int_equal(s.total, FG * FN);
        for (int g = 0; g < FG; g++)
                assert_int_equal(s.next[g], FN);
        pthread_mutex_destroy(&s.mu);
}

/* ---- durability ---- */
static void test_reopen(void **state)
{
        q_engine *q = *state;
        mkq(q, "dur", NULL);
        mkq(q, "dur.fifo", "FifoQueue=true", "ContentBasedDeduplication=true", NULL);
        for (int i = 0; i < 3; i++) {
                char b[8];
                snprintf(b, sizeof(b), "s%d", i);
                send1(q, "dur", b, NULL, NULL, NULL);
        }
        for (int i = 0; i < 5; i++) {
                char b[8];
                snprintf(b, sizeof(b), "f%d", i);
                send1(q, "dur.fifo", b, "g", NULL, NULL);
        }
        q_message *m;
        assert_int_equal(recv_n(q, "dur", 1, 30, &m), 1);
        char inflight[37];
        snprintf(inflight, sizeof(inflight), "%s", m[0].message_id);
        q_messages_free(m, 1);
        q_engine_close(q);
        q = *state = open_engine();
        /* the in-flight message stays invisible until its timeout ends */
        assert_int_equal(recv_n(q, "dur", 10, 30, &m), 2);
        for (int i = 0; i < 2; i++) {
                assert_string_not_equal(m[i].message_id, inflight);
                del(q, "dur", m[i].receipt_handle);
        }
        q_messages_free(m, 2);
        advance(30000);
        assert_int_equal(recv_n(q, "dur", 10, 30, &m), 1);
        assert_string_equal(m[0].message_id, inflight);
        assert_string_equal(q_kvs_get(&m[0].sys, "ApproximateReceiveCount"), "2");
        q_messages_free(m, 1);
        /* FIFO order survives */
        for (int i = 0; i < 5; i++) {
                char b[8];
                snprintf(b, sizeof(b), "f%d", i);
                assert_int_equal(recv_n(q, "dur.fifo", 1, 30, &m), 1);
                assert_string_equal(m[0].body, b);
                del(q, "dur.fifo", m[0].receipt_handle);
                q_messages_free(m, 1);
                q_engine_close(q);
                q = *state = open_engine();
        }
}

/* A child sends from 2 threads and receives + deletes from 2 others, reporting on a pipe each
 * acknowledged send ("S id"), each delete it is about to make ("R id") and each acknowledged
 * delete ("D id"). The parent kills it with SIGKILL mid-stream, reopens the store and, once every
 * visibility timeout is over, finds every acknowledged message either still queued or deleted,
 * and no message whose delete was acknowledged. */
struct crash_worker {
        q_engine *q;
        int fd;
        int id;
};

static void report(int fd, char kind, const char *id)
{
        char line[48];
        int n = snprintf(line, sizeof(line), "%c %s\n", kind, id);
        if (write(fd, line, (size_t)n) != n) /* one write < PIPE_BUF: atomic */
                _exit(4);
}

static void *crash_send(void *p)
{
        struct crash_worker *c = p;
        for (int i = 0;; i++) {
                char body[32];
                snprintf(body, sizeof(body), "t%d-%d", c->id, i);
                q_send_entry e = { .body = body, .body_len = strlen(body), .delay_seconds = -1 };
                q_send_result res;
                q_error err;
                if (q_send(c->q, "crash", "AKID", &e, 1, &res, &err) < 0)
                        _exit(3);
                report(c->fd, 'S', res.message_id);
        }
        return NULL;
}

static void *crash_consume(void *p)
{
        struct crash_worker *c = p;
        for (;;) {
                q_receive_req r = { .max = 5, .visibility_timeout = 60, .wait_seconds = 1 };
                q_message *m;
                size_t n;
                q_error err;
                if (q_receive(c->q, "crash", &r, &m, &n, &err) < 0)
                        _exit(5);
                for (size_t i = 0; i < n; i++) {
                        report(c->fd, 'R', m[i].message_id);
                        if (q_delete_message(c->q, "crash", m[i].receipt_handle, &err) < 0)
                                _exit(6);
                        report(c->fd, 'D', m[i].message_id);
                }
                q_messages_free(m, n);
        }
        return NULL;
}

static bool in_list(char (*v)[37], size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], id) == 0)
                        return true;
        return false;
}

static void test_crash(void **state)
{
        mkq(*state, "crash", NULL);
        q_engine_close(*state);
        *state = NULL;
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                alarm(60); /* a stuck child ends (and the check fails) instead of hanging the test */
                q_engine *q = open_engine();
                struct crash_worker c[4];
                pthread_t th[4];
                for (int i = 0; i < 4; i++) {
                        c[i] = (struct crash_worker){ .q = q, .fd = p[1], .id = i };
                        pthread_create(&th[i], NULL, i < 2 ? crash_send : crash_consume, &c[i]);
                }
                for (;;)
                        pause();
        }
        close(p[1]);
        FILE *f = fdopen(p[0], "r");
        enum { MAX = 200000 };
        char(*sent)[37] = calloc(MAX, 37), (*took)[37] = calloc(MAX, 37),
        (*gone)[37] = calloc(MAX, 37);
        size_t ns = 0, nt = 0, ng = 0;
        char line[64];
        bool killed = false;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (strlen(line) < 3)
                        continue;
                if (line[0] == 'S' && ns < MAX)
                        snprintf(sent[ns++], 37, "%.36s", line + 2);
                else if (line[0] == 'R' && nt < MAX)
                        snprintf(took[nt++], 37, "%.36s", line + 2);
                else if (line[0] == 'D' && ng < MAX)
                        snprintf(gone[ng++], 37, "%.36s", line + 2);
                if (!killed && ns >= 400 && ng >= 100) {
                        kill(pid, SIGKILL); /* what it acknowledged until now still arrives */
                        killed = true;
                }
        }
        fclose(f);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        q_engine *q = *state = open_engine();
        advance(3600 * 1000); /* every visibility timeout of the killed run is over */
        char(*left)[37] = calloc(MAX, 37);
        size_t nl = 0;
        for (;;) {
                q_message *m;
                size_t k = recv_n(q, "crash", 10, 300, &m);
                if (k == 0)
                        break;
                for (size_t i = 0; i < k && nl < MAX; i++)
                        snprintf(left[nl++], 37, "%s", m[i].message_id);
                q_messages_free(m, k);
        }
        print_message(
                "crash: %zu sends and %zu deletes acknowledged before SIGKILL, %zu messages left\n",
                ns, ng, nl);
        for (size_t i = 0; i < ng; i++)
                if (in_list(left, nl, gone[i]))
                        fail_msg("message %s came back after its delete was acknowledged", gone[i]);
        for (size_t i = 0; i < ns; i++)
                if (!in_list(left, nl, sent[i]) && !in_list(gone, ng, sent[i]) &&
                    !in_list(took, nt, sent[i]))
                        fail_msg("acknowledged message %s was lost", sent[i]);
        free(sent);
        free(took);
        free(gone);
        free(left);
}

/* ---- group commit ---- */
struct gc_sender {
        q_engine *q;
        int n;
};

static void *gc_send(void *p)
{
        struct gc_sender *g = p;
        for (int i = 0; i < g->n; i++) {
                q_send_entry e = { .body = "gc", .body_len = 2, .delay_seconds = -1 };
                q_send_result res;
                q_error err;
                if (q_send(g->q, "gc", "AKID", &e, 1, &res, &err) < 0)
                        return (void *)1;
        }
        return NULL;
}

static void test_group_commit(void **state)
{
        q_engine *q = *state;
        mkq(q, "gc", NULL);
        enum { THREADS = 16, EACH = 20 };
        uint64_t s0, s1, o0, o1;
        q_test_sync_delay_us = 2000; /* a disk with 2 ms fsyncs, even on tmpfs */
        q_engine_counters(q, NULL, &s0, &o0, NULL);
        pthread_t th[THREADS];
        struct gc_sender g = { .q = q, .n = EACH };
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, gc_send, &g), 0);
        for (int i = 0; i < THREADS; i++) {
                void *rv;
                pthread_join(th[i], &rv);
                assert_null(rv);
        }
        q_engine_counters(q, NULL, &s1, &o1, NULL);
        q_test_sync_delay_us = 0;
        uint64_t msgs = THREADS * EACH, syncs = s1 - s0;
        print_message("group commit: %llu messages from %d threads, %llu fsync'd commits\n",
                      (unsigned long long)msgs, THREADS, (unsigned long long)syncs);
        assert_int_equal(o1 - o0, msgs);
        assert_true(syncs * 2 <= msgs);
        q_stats st;
        EXPECT_OK(q_get_stats(q, "gc", &st, err));
        assert_int_equal(st.visible, msgs);
}

static void sql(const char *stmt)
{
        sqlite3 *db;
        assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
        char *msg = NULL;
        if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
                fail_msg("%s: %s", stmt, msg);
        sqlite3_close(db);
}

/* The bounds named in their errors: queues per store, messages in flight (rows made directly
 * in the store, with the engine closed). */
static void test_bounds(void **state)
{
        q_engine *q = *state;
        mkq(q, "full-std", NULL);
        mkq(q, "full.fifo", "FifoQueue=true", "ContentBasedDeduplication=true", NULL);
        send1(q, "full-std", "one more", NULL, NULL, NULL);
        send1(q, "full.fifo", "one more", "other", NULL, NULL);
        q_engine_close(q);
        *state = NULL;
        char stmt[1024];
        snprintf(
                stmt, sizeof(stmt),
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < %d)"
                " INSERT INTO queues (name, fifo, created, modified, vis, delay, retention, max_size, wait, cbd,"
                " dlq, max_receive, kms_reuse) SELECT 'filler' || x, 0, 0, 0, 30, 0, 345600, 262144, 0, 0, '', 0,"
                " 300 FROM n",
                Q_QUEUES_MAX - 2);
        sql(stmt);
        snprintf(
                stmt, sizeof(stmt),
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < %d)"
                " INSERT INTO messages (qid, mid, nonce, body, md5_body, md5_attrs, md5_sys, sender, sent,"
                " visible_at, rc, grp) SELECT q.id, 'm' || x, x, 'b', '', '', '', '', %llu, %llu, 1,"
                " CASE q.fifo WHEN 1 THEN 'g' || x END FROM n, queues q WHERE q.name = 'full-std' OR"
                " (q.name = 'full.fifo' AND x <= %d);"
                "UPDATE queues SET n_received = %d WHERE name IN ('full-std', 'full.fifo')",
                Q_INFLIGHT_MAX_STANDARD, (unsigned long long)fake_clock(NULL),
                (unsigned long long)fake_clock(NULL) + 3600000, Q_INFLIGHT_MAX_FIFO,
                Q_INFLIGHT_MAX_STANDARD);
        sql(stmt);
        q = *state = open_engine();
        q_error e = { 0 };
        assert_int_equal(q_create(q, "one-too-many", NULL, NULL, NULL, &e), -1);
        assert_int_equal(e.code, Q_E_OVER_LIMIT);
        assert_non_null(strstr(e.msg, "Q_QUEUES_MAX"));
        q_receive_req r = { .max = 1, .visibility_timeout = -1, .wait_seconds = 0 };
        q_message *m;
        size_t n;
        assert_int_equal(q_receive(q, "full-std", &r, &m, &n, &e), -1);
        assert_int_equal(e.code, Q_E_OVER_LIMIT);
        assert_non_null(strstr(e.msg, "Q_INFLIGHT_MAX_STANDARD"));
        /* a FIFO queue at its bound answers no messages, as SQS does */
        EXPECT_OK(q_receive(q, "full.fifo", &r, &m, &n, err));
        assert_int_equal(n, 0);
}

/* Without the syncer threads (the fallback when the WAL file cannot be opened), every durable
 * batch commits with synchronous=FULL in the writer. */
static void test_full_sync_fallback(void **state)
{
        q_engine_close(*state);
        q_pipelined_fsync = false;
        q_engine *q = *state = open_engine();
        q_pipelined_fsync = true;
        mkq(q, "full", NULL);
        uint64_t s0, s1;
        q_engine_counters(q, NULL, &s0, NULL, NULL);
        send1(q, "full", "a", NULL, NULL, NULL);
        q_engine_counters(q, NULL, &s1, NULL, NULL);
        assert_int_equal(s1 - s0, 1);
        q_message *m;
        assert_int_equal(recv_n(q, "full", 10, -1, &m), 1);
        del(q, "full", m[0].receipt_handle);
        q_messages_free(m, 1);
        q_engine_close(q);
        q = *state = open_engine();
        assert_int_equal(recv_n(q, "full", 10, -1, &m), 0);
}

static void test_inflight_limit_and_stats(void **state)
{
        q_engine *q = *state;
        mkq(q, "st", NULL);
        for (int i = 0; i < 3; i++)
                send1(q, "st", "x", NULL, NULL, NULL);
        q_message *m;
        assert_int_equal(recv_n(q, "st", 2, 30, &m), 2);
        q_messages_free(m, 2);
        advance(5000);
        q_stats st;
        EXPECT_OK(q_get_stats(q, "st", &st, err));
        assert_int_equal(st.visible, 1);
        assert_int_equal(st.in_flight, 2);
        assert_int_equal(st.sent, 3);
        assert_int_equal(st.received, 2);
        assert_int_equal(st.oldest_ms, 5000);
}

/* ---- metrics (issue 17): the collector pages through every queue (q_stats_page: 64 a page) ---- */
typedef struct qm_seen {
        size_t series;     /* husk_queue_* series */
        double sent, received, deleted, visible, in_flight, delayed, age;
        bool gone_seen;    /* a series of the deleted queue */
} qm_seen;

static void qm_cb(const hm_sample *s, void *ud)
{
        qm_seen *m = ud;
        if (strncmp(s->family, "husk_queue_", 11) != 0)
                return;
        m->series++;
        if (strstr(s->labels, "queue=\"q069\""))
                m->gone_seen = true;
        if (strcmp(s->labels, "queue=\"q000\"") != 0)
                return;
        static const struct {
                const char *f;
                size_t off;
        } t[] = { { "husk_queue_messages_sent_total", offsetof(qm_seen, sent) },
                  { "husk_queue_messages_received_total", offsetof(qm_seen, received) },
                  { "husk_queue_messages_deleted_total", offsetof(qm_seen, deleted) },
                  { "husk_queue_messages_visible", offsetof(qm_seen, visible) },
                  { "husk_queue_messages_in_flight", offsetof(qm_seen, in_flight) },
                  { "husk_queue_messages_delayed", offsetof(qm_seen, delayed) },
                  { "husk_queue_oldest_message_age_seconds", offsetof(qm_seen, age) } };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                if (strcmp(s->family, t[i].f) == 0)
                        *(double *)((char *)m + t[i].off) = s->value;
}

static void test_metrics_collector(void **state)
{
        q_engine *q = *state;
        char name[16];
        for (int i = 0; i < 70; i++) { /* more than one page */
                snprintf(name, sizeof(name), "q%03d", i);
                mkq(q, name, NULL);
        }
        send1(q, "q000", "a", NULL, NULL, NULL);
        send1(q, "q000", "b", NULL, NULL, NULL);
        send1(q, "q000", "c", NULL, NULL, NULL);
        q_send_entry e = { .body = "d", .body_len = 1, .delay_seconds = 60 };
        q_send_result res;
        EXPECT_OK(q_send(q, "q000", "AKID", &e, 1, &res, err));
        advance(2500);
        q_message *m = NULL;
        assert_int_equal(recv_n(q, "q000", 2, 30, &m), 2);
        del(q, "q000", m[0].receipt_handle);
        del(q, "q000", m[0].receipt_handle); /* again: succeeds, deletes nothing */
        q_messages_free(m, 2);
        qm_seen s = { 0 };
        hm_foreach(qm_cb, &s);
        assert_int_equal(s.series, 70 * 7);
        assert_true(s.sent == 4 && s.received == 2 && s.deleted == 1);
        assert_true(s.visible == 1 && s.in_flight == 1 && s.delayed == 1);
        assert_true(s.age == 2.5);
        /* a deleted queue loses its series at the next scrape */
        EXPECT_OK(q_delete(q, "q069", err));
        s = (qm_seen){ 0 };
        hm_foreach(qm_cb, &s);
        assert_int_equal(s.series, 69 * 7);
        assert_false(s.gone_seen);
        /* a closed engine takes its series and its collector with it */
        q_engine_close(q);
        *state = open_engine(); /* for the teardown */
        q_engine_close(*state);
        s = (qm_seen){ 0 };
        hm_foreach(qm_cb, &s);
        assert_int_equal(s.series, 0);
        *state = open_engine();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_basic_cycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_md5_vectors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_visibility_redelivery, setup, teardown),
                cmocka_unit_test_setup_teardown(test_visibility_zero_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dead_letter, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fifo_blocking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fifo_dead_letter, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attempt_id, setup, teardown),
                cmocka_unit_test_setup_teardown(test_long_poll, setup, teardown),
                cmocka_unit_test_setup_teardown(test_long_poll_visibility, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delay, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
                cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_tags_attrs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fifo_concurrent_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
                cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inflight_limit_and_stats, setup, teardown),
                cmocka_unit_test_setup_teardown(test_full_sync_fallback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_metrics_collector, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
