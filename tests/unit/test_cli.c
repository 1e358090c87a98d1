/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the CLI's option parser and signal names (src/cli/options.c), and the format of
 * its stderr lines (src/cli/log.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/cli/cli.h"
#include "util/util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int dummy(cli_ctx *c, int argc, char **argv)
{
        return 0;
}

static const cli_cmd test_cmd = { "create", dummy, "CONTAINER_ID", "test" };

const cli_cmd *cli_find_command(const char *name)
{
        return &test_cmd;
}

static void test_signals(void **state)
{
        int s = -1;
        struct {
                const char *in;
                int want;
        } good[] = { { "9", 9 },          { "KILL", SIGKILL }, { "SIGKILL", SIGKILL }, { "kill", SIGKILL },
                     { "sigterm", SIGTERM }, { "15", 15 },      { "USR1", SIGUSR1 },    { "SIGHUP", 1 },
                     { "0", 0 },          { "64", 64 },        { "RTMIN", SIGRTMIN },  { "RTMIN+2", SIGRTMIN + 2 },
                     { "SIGRTMAX-1", SIGRTMAX - 1 }, { "WINCH", SIGWINCH } };
        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                s = -1;
                assert_int_equal(cli_parse_signal(good[i].in, &s), 0);
                assert_int_equal(s, good[i].want);
        }
        const char *bad[] = { "", "65", "-1", "9x", "SIG", "FOO", "SIGKILLX", "RTMIN-1", "RTMAX+1",
                              "RTMIN+99", " 9", "0x9", "99999999999999999999" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (cli_parse_signal(bad[i], &s) != -EINVAL)
                        fail_msg("accepted signal \"%s\"", bad[i]);
}

typedef struct parsed {
        const char *bundle, *pidfile;
        unsigned fds;
        bool detach, nopivot;
} parsed;

static int parse(parsed *p, char **argv, char ***pos, int *npos)
{
        cli_ctx c = { .command = "create" };
        const cli_opt opts[] = {
                { "bundle", 'b', OPT_STRING, &p->bundle, "" },
                { "pid-file", 0, OPT_STRING, &p->pidfile, "" },
                { "preserve-fds", 0, OPT_UINT, &p->fds, "" },
                { "detach", 'd', OPT_BOOL, &p->detach, "" },
                { "no-pivot", 0, OPT_BOOL, &p->nopivot, "" },
                { 0 },
        };
        int argc = 0;
        while (argv[argc])
                argc++;
        memset(p, 0, sizeof(*p));
        return cli_parse(&c, &test_cmd, opts, argc, argv, pos, npos);
}

static void test_parse_forms(void **state)
{
        parsed p;
        char **pos = NULL;
        int npos = 0;
        char *a1[] = { "create", "--bundle", "/b", "--pid-file=/p", "--preserve-fds", "2", "-d",
                       "--no-pivot", "c1", NULL };
        assert_int_equal(parse(&p, a1, &pos, &npos), 0);
        assert_string_equal(p.bundle, "/b");
        assert_string_equal(p.pidfile, "/p");
        assert_int_equal(p.fds, 2);
        assert_true(p.detach && p.nopivot);
        assert_int_equal(npos, 1);
        assert_string_equal(pos[0], "c1");
        free(pos);

        /* Short with value, single-dash long (Go flag style), =bool, options after the id, "--". */
        char *a2[] = { "create", "c2", "-b", "/x", "-pid-file", "/q", "--detach=false", "--", "-odd", NULL };
        assert_int_equal(parse(&p, a2, &pos, &npos), 0);
        assert_string_equal(p.bundle, "/x");
        assert_string_equal(p.pidfile, "/q");
        assert_false(p.detach);
        assert_int_equal(npos, 2);
        assert_string_equal(pos[0], "c2");
        assert_string_equal(pos[1], "-odd");
        free(pos);

        char *a3[] = { "create", "-b=/y", "c3", NULL };
        assert_int_equal(parse(&p, a3, &pos, &npos), 0);
        assert_string_equal(p.bundle, "/y");
        free(pos);
}

static void test_parse_errors(void **state)
{
        parsed p;
        char **pos = NULL;
        int npos = 0;
        /* Errors go to stderr (the CLI's job); silence them here. */
        FILE *saved = stderr;
        stderr = fopen("/dev/null", "w");
        char *e1[] = { "create", "--bogus", "c1", NULL };
        assert_int_equal(parse(&p, e1, &pos, &npos), -1);
        char *e2[] = { "create", "c1", "--bundle", NULL };
        assert_int_equal(parse(&p, e2, &pos, &npos), -1);
        char *e3[] = { "create", "--preserve-fds", "-1", "c1", NULL };
        assert_int_equal(parse(&p, e3, &pos, &npos), -1);
        char *e4[] = { "create", "--preserve-fds=abc", "c1", NULL };
        assert_int_equal(parse(&p, e4, &pos, &npos), -1);
        char *e5[] = { "create", "--detach=maybe", "c1", NULL };
        assert_int_equal(parse(&p, e5, &pos, &npos), -1);
        fclose(stderr);
        stderr = saved;
        /* --help anywhere: usage on stdout, return 1 (exit 0). */
        FILE *out = stdout;
        stdout = fopen("/dev/null", "w");
        char *h[] = { "create", "c1", "--help", NULL };
        assert_int_equal(parse(&p, h, &pos, &npos), 1);
        char *h2[] = { "create", "-h", NULL };
        assert_int_equal(parse(&p, h2, &pos, &npos), 1);
        fclose(stdout);
        stdout = out;
}

/* What fn(c) writes to fd 2. */
static char *capture_stderr(void (*fn)(cli_ctx *), cli_ctx *c)
{
        char path[] = "/tmp/husk-test-cli.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
        fn(c);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        char *buf = calloc(1, 4096);
        assert_non_null(buf);
        assert_true(pread(fd, buf, 4095, 0) >= 0);
        close(fd);
        return buf;
}

static void emit_debug_and_error(cli_ctx *c)
{
        cli_debug(c, "phase %s took %d ms", "mounts", 3);
        cli_fail(c, "container \"%s\" does not exist", "x");
}

/* --log-format json without --log: every line on stderr is one JSON object, --debug included
 * (runc's logger); text keeps "husk: ..." lines. */
static void test_json_stderr(void **state)
{
        cli_ctx c = { .command = "test", .log_json = true };
        c.g.debug = true;
        char *out = capture_stderr(emit_debug_and_error, &c);
        char *nl = strchr(out, '\n');
        assert_non_null(nl);
        *nl = '\0';
        const char *want1 = "{\"level\":\"debug\",\"msg\":\"phase mounts took 3 ms\",\"time\":\"";
        assert_memory_equal(out, want1, strlen(want1));
        assert_string_equal(out + strlen(out) - 2, "\"}");
        char *second = nl + 1;
        const char *want2 = "{\"level\":\"error\",\"msg\":\"container \\\"x\\\" does not exist\",";
        assert_memory_equal(second, want2, strlen(want2));
        assert_string_equal(second + strlen(second) - 3, "\"}\n");
        free(out);
        c.log_json = false;
        out = capture_stderr(emit_debug_and_error, &c);
        assert_string_equal(out, "husk: debug: phase mounts took 3 ms\n"
                                 "husk: container \"x\" does not exist\n");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_signals),
                cmocka_unit_test(test_parse_forms),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_json_stderr),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
