/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of image run's pure planning (src/libhusk/image/runplan.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "image/run.h"

#include <string.h>

static void test_size(void **state)
{
        (void)state;
        int64_t v = 0;
        assert_int_equal(run_parse_size("4096", &v), 0);
        assert_int_equal(v, 4096);
        assert_int_equal(run_parse_size("512m", &v), 0);
        assert_int_equal(v, 512LL << 20);
        assert_int_equal(run_parse_size("1G", &v), 0);
        assert_int_equal(v, 1LL << 30);
        assert_int_equal(run_parse_size("1.5g", &v), 0);
        assert_int_equal(v, 3LL << 29);
        assert_int_equal(run_parse_size("64MiB", &v), 0);
        assert_int_equal(v, 64LL << 20);
        assert_int_equal(run_parse_size("100kb", &v), 0);
        assert_int_equal(v, 100 << 10);
        assert_int_equal(run_parse_size("", &v), -EINVAL);
        assert_int_equal(run_parse_size("-1m", &v), -EINVAL);
        assert_int_equal(run_parse_size("12x", &v), -EINVAL);
        assert_int_equal(run_parse_size("1.m", &v), -EINVAL);
        assert_int_equal(run_parse_size("99999999999999999999", &v), -ERANGE);
        assert_int_equal(run_parse_size("9999999999t", &v), -ERANGE);
}

static void test_cpus(void **state)
{
        (void)state;
        int64_t q = 0;
        uint64_t p = 0;
        assert_int_equal(run_parse_cpus("1.5", &q, &p), 0);
        assert_int_equal(q, 150000);
        assert_int_equal(p, 100000);
        assert_int_equal(run_parse_cpus("0.25", &q, &p), 0);
        assert_int_equal(q, 25000);
        assert_int_equal(run_parse_cpus("2", &q, &p), 0);
        assert_int_equal(q, 200000);
        assert_int_equal(run_parse_cpus("0", &q, &p), -ERANGE);
        assert_int_equal(run_parse_cpus("0.0001", &q, &p), -EINVAL);
        assert_int_equal(run_parse_cpus("1.", &q, &p), -EINVAL);
        assert_int_equal(run_parse_cpus("-1", &q, &p), -EINVAL);
        assert_int_equal(run_parse_cpus("abc", &q, &p), -EINVAL);
}

static void test_volume(void **state)
{
        (void)state;
        run_volume_t v = { 0 };
        const char *why = NULL;
        assert_int_equal(run_parse_volume("/h:/c", &v, &why), 0);
        assert_string_equal(v.host, "/h");
        assert_string_equal(v.ctr, "/c");
        assert_false(v.ro);
        run_volume_done(&v);
        assert_int_equal(run_parse_volume("/h/x:/c/y:ro", &v, &why), 0);
        assert_true(v.ro);
        run_volume_done(&v);
        assert_int_equal(run_parse_volume("/h:/c:rw,z", &v, &why), 0);
        assert_false(v.ro);
        run_volume_done(&v);
        assert_int_equal(run_parse_volume("named:/c", &v, &why), -EINVAL);
        assert_non_null(strstr(why, "absolute"));
        assert_int_equal(run_parse_volume("/h:c", &v, &why), -EINVAL);
        assert_int_equal(run_parse_volume("/h", &v, &why), -EINVAL);
        assert_int_equal(run_parse_volume("/h:/c:ro:x", &v, &why), -EINVAL);
        assert_int_equal(run_parse_volume("/h:/c:exec", &v, &why), -EINVAL);
}

static void test_tmpfs(void **state)
{
        (void)state;
        char *dest = NULL, **opts = NULL;
        const char *why = NULL;
        assert_int_equal(run_parse_tmpfs("/run:size=1m,mode=700", &dest, &opts, &why), 0);
        assert_string_equal(dest, "/run");
        assert_int_equal(strv_length(opts), 4);
        assert_string_equal(opts[0], "nosuid");
        assert_string_equal(opts[3], "mode=700");
        free(dest);
        strv_free(opts);
        assert_int_equal(run_parse_tmpfs("/x", &dest, &opts, &why), 0);
        assert_int_equal(strv_length(opts), 2);
        free(dest);
        strv_free(opts);
        assert_int_equal(run_parse_tmpfs("x:size=1m", &dest, &opts, &why), -EINVAL);
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# comment\n"
                             "broken:x:zz:1::/:/bin/sh\n"
                             "app:x:1000:1001:App:/home/app:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\n"
                            "appgrp:x:1001:\n"
                            "wheel:x:10:root,app\n"
                            "audio:x:29:app\n"
                            "nogroup:x:65534:\n";

static void test_user(void **state)
{
        (void)state;
        uid_t u = 9;
        gid_t g = 9;
        char *name = NULL;
        bool found = false;
        assert_int_equal(run_passwd_lookup(passwd, "app", &u, &g, &name, &found), 0);
        assert_int_equal(u, 1000);
        assert_int_equal(g, 1001);
        assert_string_equal(name, "app");
        assert_true(found);
        free(name);
        assert_int_equal(run_passwd_lookup(passwd, "65534", &u, &g, &name, &found), 0);
        assert_int_equal(u, 65534);
        assert_int_equal(g, 65534);
        free(name);
        g = 0;
        assert_int_equal(run_passwd_lookup(passwd, "4242", &u, &g, &name, &found), 0);
        assert_int_equal(u, 4242);
        assert_int_equal(g, 0);
        assert_false(found);
        assert_null(name);
        assert_int_equal(run_passwd_lookup(passwd, "ghost", &u, &g, &name, &found), -ENOENT);
        assert_int_equal(run_passwd_lookup(passwd, "broken", &u, &g, &name, &found), -ENOENT);
        assert_int_equal(run_passwd_lookup(passwd, "99999999999", &u, &g, &name, &found), -EINVAL);
        assert_int_equal(run_passwd_lookup(passwd, "1x", &u, &g, &name, &found), -EINVAL);
        assert_int_equal(run_passwd_lookup(NULL, "0", &u, &g, &name, &found), 0);
        assert_int_equal(u, 0);

        assert_int_equal(run_group_lookup(group, "audio", &g), 0);
        assert_int_equal(g, 29);
        assert_int_equal(run_group_lookup(group, "77", &g), 0);
        assert_int_equal(g, 77);
        assert_int_equal(run_group_lookup(group, "nope", &g), -ENOENT);

        gid_t *v = NULL;
        assert_int_equal(run_group_members(group, "app", 1001, &v), 2);
        assert_int_equal(v[0], 10);
        assert_int_equal(v[1], 29);
        free(v);
        assert_int_equal(run_group_members(group, "nobody", 65534, &v), 0);

        char *us = NULL, *gs = NULL;
        assert_int_equal(run_split_user("app:audio", &us, &gs), 0);
        assert_string_equal(us, "app");
        assert_string_equal(gs, "audio");
        free(us);
        free(gs);
        assert_int_equal(run_split_user("1000", &us, &gs), 0);
        assert_null(gs);
        free(us);
        assert_int_equal(run_split_user(":1", &us, &gs), -EINVAL);
        assert_int_equal(run_split_user("1:", &us, &gs), -EINVAL);
        assert_int_equal(run_split_user("1:2:3", &us, &gs), -EINVAL);
        assert_int_equal(run_split_user("", &us, &gs), -EINVAL);
}

static void test_env(void **state)
{
        (void)state;
        char *base[] = { "PATH=/bin", "A=1", "B=2", NULL };
        char *add[] = { "A=x", "C=3=4", "bogus", "=v", NULL };
        char **v = run_env_merge(base, add);
        assert_int_equal(strv_length(v), 4);
        assert_string_equal(v[0], "PATH=/bin");
        assert_string_equal(v[1], "A=x");
        assert_string_equal(v[2], "B=2");
        assert_string_equal(v[3], "C=3=4");
        strv_free(v);
        v = run_env_merge(NULL, NULL);
        assert_int_equal(strv_length(v), 1);
        assert_true(strncmp(v[0], "PATH=", 5) == 0);
        strv_free(v);
}

static bool has(char **v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static void test_caps(void **state)
{
        (void)state;
        const char *bad = NULL;
        char **v = run_caps(NULL, NULL, &bad);
        assert_true(has(v, "CAP_CHOWN"));
        assert_false(has(v, "CAP_SYS_ADMIN"));
        strv_free(v);
        char *add[] = { "net_admin", "CAP_SYS_PTRACE", NULL };
        char *drop[] = { "CHOWN", NULL };
        v = run_caps(add, drop, &bad);
        assert_true(has(v, "CAP_NET_ADMIN"));
        assert_true(has(v, "CAP_SYS_PTRACE"));
        assert_false(has(v, "CAP_CHOWN"));
        assert_true(has(v, "CAP_KILL"));
        strv_free(v);
        char *all[] = { "ALL", NULL };
        char *kill[] = { "KILL", NULL };
        v = run_caps(kill, all, &bad);
        assert_int_equal(strv_length(v), 1);
        assert_string_equal(v[0], "CAP_KILL");
        strv_free(v);
        v = run_caps(all, NULL, &bad);
        assert_true(has(v, "CAP_SYS_ADMIN"));
        assert_true(strv_length(v) > 30);
        strv_free(v);
        char *typo[] = { "CAP_NOPE", NULL };
        assert_null(run_caps(typo, NULL, &bad));
        assert_string_equal(bad, "CAP_NOPE");
}

static void test_args(void **state)
{
        (void)state;
        char *ep[] = { "/bin/sh", "-c", NULL };
        char *cmd[] = { "ls /data", NULL };
        char *over[] = { "echo hi", NULL };
        husk_image_config_t img = { .entrypoint = ep, .cmd = cmd };
        char **v = run_args(&img, NULL, NULL);
        assert_int_equal(strv_length(v), 3);
        assert_string_equal(v[2], "ls /data");
        strv_free(v);
        v = run_args(&img, NULL, over);
        assert_int_equal(strv_length(v), 3);
        assert_string_equal(v[2], "echo hi");
        strv_free(v);
        char *echo[] = { "x", NULL };
        v = run_args(&img, "/bin/echo", echo);
        assert_int_equal(strv_length(v), 2);
        assert_string_equal(v[0], "/bin/echo");
        assert_string_equal(v[1], "x");
        strv_free(v);
        v = run_args(&img, "/bin/true", NULL); /* --entrypoint drops the image's Cmd */
        assert_int_equal(strv_length(v), 1);
        strv_free(v);
        v = run_args(&img, "", over);
        assert_int_equal(strv_length(v), 1);
        assert_string_equal(v[0], "echo hi");
        strv_free(v);
        husk_image_config_t none = { 0 };
        assert_null(run_args(&none, NULL, NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size),   cmocka_unit_test(test_cpus),
                cmocka_unit_test(test_volume), cmocka_unit_test(test_tmpfs),
                cmocka_unit_test(test_user),   cmocka_unit_test(test_env),
                cmocka_unit_test(test_caps),   cmocka_unit_test(test_args),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
