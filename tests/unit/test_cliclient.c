/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/serve/cliclient.c, the prelude of husk's server clients: the option syntax
 * (values, flags, positional words, the messages of each mistake) and where the server, region
 * and keys come from (the options, the files the server writes in its store, the environment). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/serve/cliclient.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct targs {
        const char *store, *endpoint, *region;
        const char *kv[4];
        size_t n_kv;
        bool del, help;
        const char *pos[2];
        int npos;
} targs;

static const cliclient_opt values[] = { { "store", offsetof(targs, store) },
                                        { "endpoint", offsetof(targs, endpoint) },
                                        { "region", offsetof(targs, region) } };
static const cliclient_opt flags[] = { { "--delete", offsetof(targs, del) } };

static int kv_opt(void *ud, const char *name, size_t len, const char *val)
{
        targs *a = ud;
        if (len != 2 || strncmp(name, "kv", 2) != 0)
                return 0;
        if (!strchr(val, '='))
                return -cliclient_fail("t", "--kv %s: use K=V", val);
        a->kv[a->n_kv++] = val;
        return 1;
}

static const cliclient_syntax syntax = {
        .prog = "t", .help = "t --help", .values = values, .n_values = ARRAY_SIZE(values),
        .flags = flags, .n_flags = ARRAY_SIZE(flags), .help_off = offsetof(targs, help),
        .pos_off = offsetof(targs, pos), .npos_off = offsetof(targs, npos), .max_pos = 2,
        .more = kv_opt,
};

/* cliclient_parse over the words of line; *err gets what it printed on stderr. */
static int parse_line(const cliclient_syntax *s, const char *line, targs *a, char *err, size_t len)
{
        static char buf[512];
        char *argv[16];
        int argc = 0;
        snprintf(buf, sizeof(buf), "%s", line);
        for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " "))
                argv[argc++] = w;
        memset(a, 0, sizeof(*a));
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        FILE *f = tmpfile();
        assert_non_null(f);
        dup2(fileno(f), STDERR_FILENO);
        int r = cliclient_parse(s, argc, argv, a);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        rewind(f);
        size_t n = fread(err, 1, len - 1, f);
        err[n] = '\0';
        fclose(f);
        return r;
}

static void test_parse_words(void **state)
{
        (void)state;
        targs a;
        char err[256];
        assert_int_equal(parse_line(&syntax, "ls --endpoint 127.0.0.1:1 --region=eu-west-3 "
                                             "--delete --kv A=1 --kv=B=2 -h x",
                                    &a, err, sizeof(err)),
                         0);
        assert_string_equal(err, "");
        assert_string_equal(a.endpoint, "127.0.0.1:1");
        assert_string_equal(a.region, "eu-west-3");
        assert_null(a.store);
        assert_true(a.del);
        assert_true(a.help);
        assert_int_equal(a.n_kv, 2);
        assert_string_equal(a.kv[1], "B=2");
        assert_int_equal(a.npos, 2);
        assert_string_equal(a.pos[0], "ls");
        assert_string_equal(a.pos[1], "x");
        /* "--" and "-f" (a flag of husk fn, not of this syntax) are words */
        assert_int_equal(parse_line(&syntax, "-- -f", &a, err, sizeof(err)), 0);
        assert_string_equal(a.pos[0], "--");
        assert_string_equal(a.pos[1], "-f");
}

static void test_parse_mistakes(void **state)
{
        (void)state;
        static const struct {
                const char *line, *err;
        } cases[] = {
                { "a b c", "t: too many arguments at 'c' (t --help)\n" },
                { "ls --region", "t: --region needs a value\n" },
                { "ls --nope x", "t: unknown option --nope (t --help)\n" },
                { "ls --delete=1", "t: unknown option --delete (t --help)\n" },
                { "ls --kv AB", "t: --kv AB: use K=V\n" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                targs a;
                char err[256];
                assert_int_equal(parse_line(&syntax, cases[i].line, &a, err, sizeof(err)), 1);
                assert_string_equal(err, cases[i].err);
        }
        cliclient_syntax plain = syntax;
        plain.plain_overflow = true;
        targs a;
        char err[256];
        assert_int_equal(parse_line(&plain, "a b c", &a, err, sizeof(err)), 1);
        assert_string_equal(err, "t: too many arguments at c\n");
}

static void test_open(void **state)
{
        (void)state;
        char store[] = "/tmp/test_cliclient.XXXXXX";
        assert_non_null(mkdtemp(store));
        unsetenv("AWS_ACCESS_KEY_ID");
        unsetenv("AWS_SECRET_ACCESS_KEY");
        cliclient c;
        /* nothing written: the defaults, unsigned */
        cliclient_open(&c, "t", store, NULL, NULL);
        assert_string_equal(c.endpoint, "127.0.0.1:9000");
        assert_string_equal(c.region, "us-east-1");
        assert_false(c.have_creds);
        cliclient_close(&c);
        /* what the server wrote (its first line), and the keys of the environment */
        _cleanup_free_ char *dir = xasprintf("%s/fn", store);
        assert_int_equal(mkdir_p(dir, 0700), 0);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(write_file_atomic_at(dfd, "serve.addr", "/run/x.sock\n", 12, 0644), 0);
        assert_int_equal(write_file_atomic_at(dfd, "serve.region", "eu-west-3", 9, 0644), 0);
        setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
        cliclient_open(&c, "t", store, NULL, NULL);
        assert_string_equal(c.endpoint, "/run/x.sock");
        assert_string_equal(c.region, "eu-west-3");
        assert_true(c.have_creds);
        assert_string_equal(c.creds.key_id, "AKIDEXAMPLE");
        cliclient_close(&c);
        /* the options first */
        cliclient_open(&c, "t", store, "127.0.0.1:1", "ap-south-1");
        assert_string_equal(c.endpoint, "127.0.0.1:1");
        assert_string_equal(c.region, "ap-south-1");
        cliclient_close(&c);
        _cleanup_free_ char *ep = cliclient_endpoint(store, NULL);
        assert_string_equal(ep, "/run/x.sock");
        unsetenv("AWS_ACCESS_KEY_ID");
        unsetenv("AWS_SECRET_ACCESS_KEY");
        assert_int_equal(unlinkat(dfd, "serve.addr", 0) | unlinkat(dfd, "serve.region", 0), 0);
        close(dfd);
        assert_int_equal(rmdir(dir) | rmdir(store), 0);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_words),
        cmocka_unit_test(test_parse_mistakes),
        cmocka_unit_test(test_open),
};

int main(void)
{
        return cmocka_run_group_tests(tests, NULL, NULL);
}
