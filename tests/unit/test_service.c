/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure rules of detached services (src/libhusk/service/policy.c) and the log
 * writer's record/rotation behaviour on a temp folder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "service/service.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#define SEC 1000000000LL

static void test_policy_parse(void **state)
{
        (void)state;
        svc_policy p;
        husk_error_t err = { 0 };
        assert_int_equal(svc_policy_parse(NULL, &p, &err), 0);
        assert_int_equal(p.kind, SVC_RESTART_NO);
        assert_int_equal(svc_policy_parse("no", &p, &err), 0);
        assert_int_equal(p.kind, SVC_RESTART_NO);
        assert_int_equal(svc_policy_parse("always", &p, &err), 0);
        assert_int_equal(p.kind, SVC_RESTART_ALWAYS);
        assert_int_equal(svc_policy_parse("unless-stopped", &p, &err), 0);
        assert_int_equal(p.kind, SVC_RESTART_ALWAYS);
        assert_int_equal(svc_policy_parse("on-failure", &p, &err), 0);
        assert_int_equal(p.kind, SVC_RESTART_ON_FAILURE);
        assert_int_equal(p.max, 0);
        assert_int_equal(svc_policy_parse("on-failure:3", &p, &err), 0);
        assert_int_equal(p.kind, SVC_RESTART_ON_FAILURE);
        assert_int_equal(p.max, 3);
        assert_string_equal(svc_policy_name(&p), "on-failure");
        assert_int_equal(svc_policy_parse("on-failure:", &p, &err), -EINVAL);
        assert_int_equal(svc_policy_parse("on-failure:-1", &p, &err), -EINVAL);
        assert_int_equal(svc_policy_parse("on-failure:x", &p, &err), -EINVAL);
        assert_int_equal(svc_policy_parse("on-failures", &p, &err), -EINVAL);
        assert_int_equal(svc_policy_parse("sometimes", &p, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "sometimes"));
}

static void test_policy_restart(void **state)
{
        (void)state;
        svc_policy no = { SVC_RESTART_NO, 0 }, always = { SVC_RESTART_ALWAYS, 0 },
                   onf = { SVC_RESTART_ON_FAILURE, 0 }, onf2 = { SVC_RESTART_ON_FAILURE, 2 };
        assert_false(svc_policy_wants_restart(&no, 1, 0));
        assert_true(svc_policy_wants_restart(&always, 0, 100));
        assert_false(svc_policy_wants_restart(&onf, 0, 0));
        assert_true(svc_policy_wants_restart(&onf, 137, 1000));
        assert_true(svc_policy_wants_restart(&onf2, 1, 0));
        assert_true(svc_policy_wants_restart(&onf2, 1, 1));
        assert_false(svc_policy_wants_restart(&onf2, 1, 2)); /* two restarts made: done */
}

static void test_backoff(void **state)
{
        (void)state;
        svc_backoff b = { 0 };
        assert_int_equal(svc_backoff_next(&b, 5), 100);
        assert_int_equal(svc_backoff_next(&b, 5), 200);
        assert_int_equal(svc_backoff_next(&b, 5), 400);
        for (int i = 0; i < 10; i++)
                (void)svc_backoff_next(&b, 5);
        assert_int_equal(svc_backoff_next(&b, 5), 10000); /* capped */
        assert_int_equal(svc_backoff_next(&b, 9999), 10000);
        assert_int_equal(svc_backoff_next(&b, 10000), 100); /* a long run resets it */
        assert_int_equal(svc_backoff_next(&b, 0), 200);
}

static void test_time(void **state)
{
        (void)state;
        int64_t t;
        char buf[48];
        assert_int_equal(svc_time_parse("1970-01-01T00:00:00Z", &t), 0);
        assert_true(t == 0);
        assert_int_equal(svc_time_parse("2026-11-29T05:58:01.5Z", &t), 0);
        svc_time_format(t, buf, sizeof(buf));
        assert_string_equal(buf, "2026-11-29T05:58:01.500000000Z");
        int64_t u;
        assert_int_equal(svc_time_parse("2026-11-29T07:58:01.5+02:00", &u), 0);
        assert_true(u == t);
        assert_int_equal(svc_time_parse("2000-02-29T12:00:00Z", &t), 0);
        assert_true(t == 951825600LL * SEC);
        assert_int_equal(svc_time_parse("2026-11-29 05:58:01Z", &t), 0);
        assert_int_equal(svc_time_parse("2026-11-29T05:58:01", &t), -EINVAL);
        assert_int_equal(svc_time_parse("2026-13-29T05:58:01Z", &t), -EINVAL);
        assert_int_equal(svc_time_parse("2026-11-29T05:58:01Zx", &t), -EINVAL);
        assert_int_equal(svc_time_parse("2026-11-29T05:58:01.Z", &t), -EINVAL);
}

static void test_since(void **state)
{
        (void)state;
        int64_t now = 1000000 * SEC, t;
        assert_int_equal(svc_since_parse("10s", now, &t), 0);
        assert_true(t == now - 10 * SEC);
        assert_int_equal(svc_since_parse("5m", now, &t), 0);
        assert_true(t == now - 300 * SEC);
        assert_int_equal(svc_since_parse("1h30m", now, &t), 0);
        assert_true(t == now - 5400 * SEC);
        assert_int_equal(svc_since_parse("250ms", now, &t), 0);
        assert_true(t == now - 250000000);
        assert_int_equal(svc_since_parse("1.5s", now, &t), 0);
        assert_true(t == now - 1500000000);
        assert_int_equal(svc_since_parse("1970-01-02T00:00:00Z", now, &t), 0);
        assert_true(t == 86400 * SEC);
        assert_int_equal(svc_since_parse("1970-01-03", now, &t), 0);
        assert_true(t == 2 * 86400 * SEC);
        assert_int_equal(svc_since_parse("1700000000", now, &t), 0);
        assert_true(t == 1700000000LL * SEC);
        assert_int_equal(svc_since_parse("", now, &t), -EINVAL);
        assert_int_equal(svc_since_parse("10", now, &t), 0); /* unix seconds */
        assert_int_equal(svc_since_parse("10x", now, &t), -EINVAL);
        assert_int_equal(svc_since_parse("s", now, &t), -EINVAL);
        assert_int_equal(svc_since_parse("-5m", now, &t), -EINVAL);
}

static void test_log_format_parse(void **state)
{
        (void)state;
        size_t n = 0;
        char *rec = svc_log_format(1 * SEC + 5, SVC_STDERR, false, "a b\tc", 5, &n);
        assert_string_equal(rec, "1970-01-01T00:00:01.000000005Z stderr F a b\tc\n");
        assert_int_equal(n, strlen(rec));
        svc_log_rec r;
        assert_int_equal(svc_log_parse(rec, n, &r), 0);
        assert_true(r.ts == 1 * SEC + 5);
        assert_int_equal(r.stream, SVC_STDERR);
        assert_false(r.partial);
        assert_int_equal(r.len, 5);
        assert_memory_equal(r.text, "a b\tc", 5);
        free(rec);
        rec = svc_log_format(0, SVC_STDOUT, true, "", 0, &n);
        assert_int_equal(svc_log_parse(rec, n, &r), 0);
        assert_true(r.partial);
        assert_int_equal(r.stream, SVC_STDOUT);
        assert_int_equal(r.len, 0);
        free(rec);
        const char *bad[] = { "", "x stdout F a", "1970-01-01T00:00:01Z stdin F a",
                              "1970-01-01T00:00:01Z stdout X a", "1970-01-01T00:00:01Z stdout Fa" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(svc_log_parse(bad[i], strlen(bad[i]), &r), -EINVAL);
}

static void test_rotation(void **state)
{
        (void)state;
        assert_false(svc_log_should_rotate(0, 100, 10));  /* never an empty file */
        assert_false(svc_log_should_rotate(50, 50, 100));
        assert_true(svc_log_should_rotate(51, 50, 100));
        /* The writer on a real folder: the size stays bounded, one old file is kept. */
        char tmpl[] = "/tmp/test_service.XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        int d = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(d >= 0);
        svc_logw w;
        husk_error_t err = { 0 };
        assert_int_equal(svc_logw_open(&w, d, 4096, &err), 0);
        char line[101];
        memset(line, 'x', 100);
        line[100] = '\n';
        for (int i = 0; i < 200; i++)
                svc_logw_feed(&w, SVC_STDOUT, line, sizeof(line));
        svc_logw_close(&w);
        struct stat a, b;
        assert_int_equal(fstatat(d, SVC_LOG_FILE, &a, 0), 0);
        assert_int_equal(fstatat(d, SVC_LOG_OLD, &b, 0), 0);
        assert_true(a.st_size <= 4096 && b.st_size <= 4096 && b.st_size > 3000);
        assert_int_equal(faccessat(d, "ctr.log.2", F_OK, 0), -1);
        /* A line longer than the buffer becomes partial records then a full one. */
        assert_int_equal(svc_logw_open(&w, d, 1 << 20, &err), 0);
        char *big = xmalloc(SVC_LOG_LINE_MAX + 11);
        memset(big, 'y', SVC_LOG_LINE_MAX + 10);
        big[SVC_LOG_LINE_MAX + 10] = '\n';
        svc_logw_feed(&w, SVC_STDERR, big, SVC_LOG_LINE_MAX + 11);
        svc_logw_feed(&w, SVC_STDOUT, "no newline", 10);
        svc_logw_close(&w);
        free(big);
        char *text = NULL;
        assert_int_equal(read_file_at(d, SVC_LOG_FILE, 1 << 22, &text, NULL), 0);
        assert_non_null(strstr(text, " stderr P yyy"));
        assert_non_null(strstr(text, " stderr F yyyyyyyyyy\n"));
        assert_non_null(strstr(text, " stdout P no newline\n"));
        free(text);
        close(d);
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
        assert_int_equal(system(cmd), 0);
}

static void test_size(void **state)
{
        (void)state;
        uint64_t v;
        assert_int_equal(svc_size_parse("10m", &v), 0);
        assert_true(v == 10u << 20);
        assert_int_equal(svc_size_parse("4k", &v), 0);
        assert_true(v == 4096);
        assert_int_equal(svc_size_parse("1GiB", &v), 0);
        assert_true(v == 1u << 30);
        assert_int_equal(svc_size_parse("8192", &v), 0);
        assert_true(v == 8192);
        assert_int_equal(svc_size_parse("100", &v), -ERANGE);
        assert_int_equal(svc_size_parse("10x", &v), -EINVAL);
        assert_int_equal(svc_size_parse("-1m", &v), -EINVAL);
        assert_int_equal(svc_size_parse("99999999999999t", &v), -EINVAL);
}

static void test_status_text(void **state)
{
        (void)state;
        char b[96];
        int64_t now = 100000 * SEC;
        svc_human_duration(0, b, sizeof(b));
        assert_string_equal(b, "Less than a second");
        svc_human_duration(1 * SEC, b, sizeof(b));
        assert_string_equal(b, "1 second");
        svc_human_duration(59 * SEC, b, sizeof(b));
        assert_string_equal(b, "59 seconds");
        svc_human_duration(90 * SEC, b, sizeof(b));
        assert_string_equal(b, "About a minute");
        svc_human_duration(3 * 60 * SEC, b, sizeof(b));
        assert_string_equal(b, "3 minutes");
        svc_human_duration(3600 * SEC, b, sizeof(b));
        assert_string_equal(b, "About an hour");
        svc_human_duration(5 * 3600 * SEC, b, sizeof(b));
        assert_string_equal(b, "5 hours");
        svc_human_duration(3 * 86400 * SEC, b, sizeof(b));
        assert_string_equal(b, "3 days");
        svc_human_duration(21 * 86400 * SEC, b, sizeof(b));
        assert_string_equal(b, "3 weeks");
        svc_human_duration(800 * 86400 * SEC, b, sizeof(b));
        assert_string_equal(b, "2 years");
        husk_service_info_t i = { .status = HUSK_SERVICE_RUNNING, .started = now - 180 * SEC };
        svc_status_text(&i, now, b, sizeof(b));
        assert_string_equal(b, "Up 3 minutes");
        i = (husk_service_info_t){ .status = HUSK_SERVICE_EXITED, .has_exit = true, .exit_code = 3,
                                   .finished = now - 2 * SEC };
        svc_status_text(&i, now, b, sizeof(b));
        assert_string_equal(b, "Exited (3) 2 seconds ago");
        i.status = HUSK_SERVICE_RESTARTING;
        i.exit_code = 137;
        svc_status_text(&i, now, b, sizeof(b));
        assert_string_equal(b, "Restarting (137) 2 seconds ago");
        i = (husk_service_info_t){ .status = HUSK_SERVICE_EXITED, .exit_code = -1 };
        svc_status_text(&i, now, b, sizeof(b));
        assert_string_equal(b, "Exited (unknown)");
        i.status = HUSK_SERVICE_CREATED;
        svc_status_text(&i, now, b, sizeof(b));
        assert_string_equal(b, "Created");
}

static void test_ports_signals(void **state)
{
        (void)state;
        char *t = svc_port_text("8080:80");
        assert_string_equal(t, "0.0.0.0:8080->80/tcp");
        free(t);
        t = svc_port_text("127.0.0.1:53:53/udp");
        assert_string_equal(t, "127.0.0.1:53->53/udp");
        free(t);
        t = svc_port_text("80");
        assert_string_equal(t, "0.0.0.0:80->80/tcp");
        free(t);
        assert_null(svc_port_text("a:b"));
        int s = 0;
        assert_int_equal(svc_signal_parse("SIGUSR1", &s), 0);
        assert_int_equal(s, SIGUSR1);
        assert_int_equal(svc_signal_parse("term", &s), 0);
        assert_int_equal(s, SIGTERM);
        assert_int_equal(svc_signal_parse("9", &s), 0);
        assert_int_equal(s, 9);
        assert_int_equal(svc_signal_parse("RTMIN+1", &s), 0);
        assert_int_equal(s, SIGRTMIN + 1);
        assert_int_equal(svc_signal_parse("0", &s), -EINVAL);
        assert_int_equal(svc_signal_parse("SIGNOPE", &s), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_policy_parse),  cmocka_unit_test(test_policy_restart),
                cmocka_unit_test(test_backoff),       cmocka_unit_test(test_time),
                cmocka_unit_test(test_since),         cmocka_unit_test(test_log_format_parse),
                cmocka_unit_test(test_rotation),      cmocka_unit_test(test_size),
                cmocka_unit_test(test_status_text),   cmocka_unit_test(test_ports_signals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
