/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for util: checked integer parsing and error helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/base64.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static void test_parse_uint32(void **state)
{
        uint32_t v = 7;
        assert_int_equal(parse_uint32("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_uint32("4294967295", &v), 0);
        assert_int_equal(v, 4294967295u);
        assert_int_equal(parse_uint32("4294967296", &v), -ERANGE);
        assert_int_equal(parse_uint32("-1", &v), -EINVAL);
        assert_int_equal(parse_uint32("", &v), -EINVAL);
        assert_int_equal(parse_uint32("12a", &v), -EINVAL);
        assert_int_equal(parse_uint32(" 1", &v), -EINVAL);
        assert_int_equal(parse_uint32("+1", &v), -EINVAL);
}

/* rm_rf_at at a depth far beyond the fd limit: one fd per level would fail with EMFILE. */
static void test_rm_rf_deep(void **state)
{
        (void)state;
        char tmpl[] = "/tmp/husk-rmrf-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        int top = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(top >= 0);
        assert_int_equal(mkdirat(top, "t", 0700), 0);
        int cur = openat(top, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 600; i++) {
                assert_int_equal(mkdirat(cur, "d", 0700), 0);
                int f = openat(cur, i % 2 ? "f" : "g", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_true(f >= 0);
                close(f);
                assert_int_equal(symlinkat("/etc", cur, "s"), 0);
                int n = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(cur);
                cur = n;
        }
        close(cur);
        struct rlimit saved;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        struct rlimit low = { 64, saved.rlim_max }; /* the soft limit: no privilege needed */
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        int r = rm_rf_at(top, "t");
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        assert_int_equal(r, 0);
        assert_int_equal(faccessat(top, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(access("/etc/passwd", F_OK), 0); /* symlinks were not followed */
        assert_int_equal(rm_rf_at(top, "t"), 0); /* gone already: fine */
        close(top);
        assert_int_equal(rmdir(tmpl), 0);
}

static void test_parse_int(void **state)
{
        int v = 0;
        assert_int_equal(parse_int("-42", &v), 0);
        assert_int_equal(v, -42);
        assert_int_equal(parse_int("2147483648", &v), -ERANGE);
        assert_int_equal(parse_int("0x10", &v), -EINVAL);
}

static void test_error_prefix(void **state)
{
        husk_error_t err = { 0 };
        assert_int_equal(husk_error_set(&err, ENOENT, "open %s", "x"), -ENOENT);
        assert_int_equal(husk_error_prefix(&err, "create %s", "c1"), -ENOENT);
        assert_string_equal(err.msg, "create c1: open x");
        assert_int_equal(util_syserr(&err, EACCES, "mkdir %s", "/a"), -EACCES);
        assert_string_equal(err.msg, "mkdir /a: Permission denied");
        assert_int_equal(husk_error_set(&err, 0, "bad"), -EINVAL);
}

static void test_rootless_ids(void **state)
{
        assert_true(util_idmap_is_identity("         0          0 4294967295\n"));
        assert_false(util_idmap_is_identity("         0       1001          1\n"));
        assert_false(util_idmap_is_identity("0 0 4294967295\n1 2 3\n"));
        assert_false(util_idmap_is_identity("0 0 65536\n"));
        const char *sub = "# comment\nalice:100000:65536\nbob:x:5\nbob:0:0\n1002:300000:1000\n"
                          "bob:200000:65536\ncarl:4294967295:2\n";
        uint32_t start = 0, count = 0;
        assert_int_equal(util_subid_parse(sub, "alice", 1001, &start, &count), 0);
        assert_int_equal(start, 100000);
        assert_int_equal(count, 65536);
        /* broken lines are skipped, never read as 0 */
        assert_int_equal(util_subid_parse(sub, "bob", 1003, &start, &count), 0);
        assert_int_equal(start, 200000);
        /* by uid */
        assert_int_equal(util_subid_parse(sub, "dave", 1002, &start, &count), 0);
        assert_int_equal(start, 300000);
        assert_int_equal(count, 1000);
        /* a range past 2^32 */
        assert_int_equal(util_subid_parse(sub, "carl", 1004, &start, &count), -ENOENT);
        assert_int_equal(util_subid_parse(sub, "eve", 1005, &start, &count), -ENOENT);
        assert_int_equal(util_subid_parse(sub, NULL, 1005, &start, &count), -ENOENT);
}

static void test_base64(void **state)
{
        (void)state;
        static const struct {
                const char *plain, *b64;
        } v[] = { { "", "" },       { "f", "Zg==" },       { "fo", "Zm8=" },
                  { "foo", "Zm9v" }, { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
                  { "foobar", "Zm9vYmFy" } };
        for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
                char *e = base64_encode(v[i].plain, strlen(v[i].plain));
                assert_string_equal(e, v[i].b64);
                free(e);
                char *d = NULL;
                size_t n = 0;
                assert_int_equal(base64_decode(v[i].b64, strlen(v[i].b64), &d, &n), 0);
                assert_int_equal(n, strlen(v[i].plain));
                assert_memory_equal(d, v[i].plain, n);
                free(d);
        }
        char *d = NULL;
        size_t n = 0;
        static const char *const bad[] = { "Zg=",  "Zg",   "Z===",     "Zm9v\n", "Zm=v",
                                           "Zm 9", "@@@@", "Zg==Zg==", "Zm9v=",  "!!!!" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(base64_decode(bad[i], strlen(bad[i]), &d, &n), -EINVAL);
        /* every byte value survives */
        unsigned char all[256];
        for (int i = 0; i < 256; i++)
                all[i] = (unsigned char)i;
        char *e = base64_encode(all, sizeof(all));
        assert_int_equal(base64_decode(e, strlen(e), &d, &n), 0);
        assert_int_equal(n, 256);
        assert_memory_equal(d, all, 256);
        free(d);
        free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_uint32),
                cmocka_unit_test(test_parse_int),
                cmocka_unit_test(test_rm_rf_deep),
                cmocka_unit_test(test_error_prefix),
                cmocka_unit_test(test_rootless_ids),
                cmocka_unit_test(test_base64),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
