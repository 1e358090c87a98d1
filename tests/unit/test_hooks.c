/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for hooks_run: real hooks (/bin/sh scripts) with the state on stdin, exact env and
 * args, only stdio, timeouts, failures with their stderr, the order and the stop-at-first-error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "process/hooks.h"
#include "util/util.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

static char *tmpdir;
static const char *const state =
        "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":4242,"
        "\"bundle\":\"/b\"}";

static int setup(void **st)
{
        char t[] = "/tmp/husk-hooks-test.XXXXXX";
        tmpdir = xstrdup(mkdtemp(t));
        /* husk ignores SIGPIPE: the hook must still get default dispositions. */
        signal(SIGPIPE, SIG_IGN);
        return 0;
}

static int teardown(void **st)
{
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        int r = system(cmd);
        free(tmpdir);
        return r == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
        char *buf = NULL;
        size_t len = 0;
        if (read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len) < 0)
                return NULL;
        return buf;
}

/* A hook running /bin/sh -c SCRIPT with argv[0] "myhook" and the given env. */
static config_hook sh_hook(const char *script, char **env, int timeout)
{
        config_hook h = { .path = "/bin/sh", .has_timeout = timeout > 0, .timeout = timeout };
        h.args = xcalloc(5, sizeof(char *));
        h.args[0] = "myhook";
        h.args[1] = "-c";
        h.args[2] = (char *)script;
        h.n_args = 3;
        h.env = env;
        h.n_env = strv_length(env);
        return h;
}

static int run_hooks(config_hook *hooks, size_t n, config_hook_kind kind, husk_error_t *err)
{
        config_hooks hs = { 0 };
        hs.hooks[kind] = hooks;
        hs.n_hooks[kind] = n;
        return hooks_run(&hs, kind, state, err);
}

static void test_kind_names(void **st)
{
        assert_string_equal(hooks_kind_name(HOOK_PRESTART), "prestart");
        assert_string_equal(hooks_kind_name(HOOK_CREATE_RUNTIME), "createRuntime");
        assert_string_equal(hooks_kind_name(HOOK_CREATE_CONTAINER), "createContainer");
        assert_string_equal(hooks_kind_name(HOOK_START_CONTAINER), "startContainer");
        assert_string_equal(hooks_kind_name(HOOK_POSTSTART), "poststart");
        assert_string_equal(hooks_kind_name(HOOK_POSTSTOP), "poststop");
        assert_string_equal(hooks_kind_name(HOOK_KIND_COUNT), "unknown");
}

static void test_state_env_args_fds(void **st)
{
        _cleanup_free_ char *script = xasprintf(
                "cat > %1$s/stdin; echo \"$0 $FOO\" > %1$s/args; env > %1$s/env; "
                "ls /proc/self/fd > %1$s/fds; grep SigIgn /proc/$$/status > %1$s/sigign",
                tmpdir);
        char *env[] = { "FOO=bar baz", "PATH=/usr/bin:/bin", NULL };
        config_hook h = sh_hook(script, env, 0);
        husk_error_t err = { 0 };
        /* An fd the caller forgot to mark CLOEXEC must not reach the hook. */
        int leak = open("/dev/null", O_RDONLY);
        assert_true(leak >= 0);
        int r = run_hooks(&h, 1, HOOK_CREATE_RUNTIME, &err);
        close(leak);
        if (r < 0)
                print_error("%s\n", err.msg);
        assert_int_equal(r, 0);
        _cleanup_free_ char *p1 = xasprintf("%s/stdin", tmpdir);
        _cleanup_free_ char *in = slurp(p1);
        assert_string_equal(in, state);
        _cleanup_free_ char *p2 = xasprintf("%s/args", tmpdir);
        _cleanup_free_ char *args = slurp(p2);
        assert_string_equal(args, "myhook bar baz\n");
        _cleanup_free_ char *p3 = xasprintf("%s/env", tmpdir);
        _cleanup_free_ char *envout = slurp(p3);
        /* Exactly the given env (sh adds PWD, and SHLVL/_ in some shells): no HOME, no LANG. */
        assert_non_null(strstr(envout, "FOO=bar baz\n"));
        assert_null(strstr(envout, "HOME="));
        assert_null(strstr(envout, "CMOCKA"));
        _cleanup_free_ char *p4 = xasprintf("%s/fds", tmpdir);
        _cleanup_free_ char *fds = slurp(p4);
        /* 0 1 2 and the fd ls opened for the listing: nothing else. */
        assert_string_equal(fds, "0\n1\n2\n3\n");
        _cleanup_free_ char *p5 = xasprintf("%s/sigign", tmpdir);
        _cleanup_free_ char *ign = slurp(p5);
        /* husk's ignored SIGPIPE is not inherited. */
        assert_string_equal(ign, "SigIgn:\t0000000000000000\n");
        free(h.args);
}

static void test_hook_not_reading_stdin(void **st)
{
        /* A large state the hook never reads: EPIPE/SIGPIPE must not hurt husk. */
        char *big = xmalloc(1 << 20);
        memset(big, 'x', (1 << 20) - 1);
        big[(1 << 20) - 1] = '\0';
        char *env[] = { NULL };
        config_hook h = sh_hook("exit 0", env, 5);
        config_hooks hs = { 0 };
        hs.hooks[HOOK_POSTSTOP] = &h;
        hs.n_hooks[HOOK_POSTSTOP] = 1;
        husk_error_t err = { 0 };
        assert_int_equal(hooks_run(&hs, HOOK_POSTSTOP, big, &err), 0);
        free(big);
        free(h.args);
}

static void test_failure_message(void **st)
{
        char *env[] = { NULL };
        config_hook h[2] = { sh_hook("exit 0", env, 0),
                             sh_hook("echo first line >&2; echo second >&2; exit 3", env, 0) };
        husk_error_t err = { 0 };
        assert_int_equal(run_hooks(h, 2, HOOK_PRESTART, &err), -ECANCELED);
        assert_string_equal(err.msg,
                            "hook prestart[1] /bin/sh exited with status 3: first line second");
        free(h[0].args);
        free(h[1].args);
}

static void test_stops_at_first_failure(void **st)
{
        char *env[] = { NULL };
        _cleanup_free_ char *marker = xasprintf("%s/ran-second", tmpdir);
        _cleanup_free_ char *s2 = xasprintf("touch %s", marker);
        config_hook h[2] = { sh_hook("exit 1", env, 0), sh_hook(s2, env, 0) };
        husk_error_t err = { 0 };
        assert_int_equal(run_hooks(h, 2, HOOK_POSTSTART, &err), -ECANCELED);
        assert_non_null(strstr(err.msg, "hook poststart[0] /bin/sh exited with status 1"));
        assert_int_equal(access(marker, F_OK), -1);
        free(h[0].args);
        free(h[1].args);
}

static void test_timeout_kills(void **st)
{
        char *env[] = { NULL };
        _cleanup_free_ char *pidfile = xasprintf("%s/sleeper", tmpdir);
        /* The hook starts a child and waits: the whole process group must die. */
        _cleanup_free_ char *script = xasprintf("sleep 30 & echo $! > %s; wait", pidfile);
        config_hook h = sh_hook(script, env, 1);
        husk_error_t err = { 0 };
        uint64_t t0 = now_ns();
        assert_int_equal(run_hooks(&h, 1, HOOK_CREATE_CONTAINER, &err), -ETIMEDOUT);
        uint64_t ms = (now_ns() - t0) / 1000000;
        assert_true(ms >= 900 && ms < 5000);
        assert_string_equal(err.msg, "hook createContainer[0] /bin/sh timed out after 1 s");
        _cleanup_free_ char *txt = slurp(pidfile);
        assert_non_null(txt);
        int pid = 0;
        assert_int_equal(parse_int(strtok(txt, "\n"), &pid), 0);
        usleep(100000);
        /* Killed (and reaped by init or a zombie at most: check its state). */
        _cleanup_free_ char *statp = xasprintf("/proc/%d/stat", pid);
        _cleanup_free_ char *stat = slurp(statp);
        if (stat) {
                char *rp = strrchr(stat, ')');
                assert_non_null(rp);
                assert_true(rp[2] == 'Z' || rp[2] == 'X');
        }
        free(h.args);
}

static void test_killed_by_signal_and_bad_path(void **st)
{
        char *env[] = { NULL };
        config_hook h = sh_hook("kill -9 $$", env, 0);
        husk_error_t err = { 0 };
        assert_int_equal(run_hooks(&h, 1, HOOK_START_CONTAINER, &err), -ECANCELED);
        assert_string_equal(err.msg, "hook startContainer[0] /bin/sh killed by signal 9");
        free(h.args);
        config_hook missing = { .path = "/nonexistent/hook" };
        assert_int_equal(run_hooks(&missing, 1, HOOK_PRESTART, &err), -ECANCELED);
        assert_string_equal(err.msg, "hook prestart[0] /nonexistent/hook exited with status 127: "
                                     "husk: cannot execute hook: No such file or directory");
}

static void test_no_hooks(void **st)
{
        config_hooks hs = { 0 };
        husk_error_t err = { 0 };
        assert_int_equal(hooks_run(&hs, HOOK_POSTSTOP, state, &err), 0);
        assert_int_equal(hooks_run(&hs, HOOK_KIND_COUNT, state, &err), -EINVAL);
}

/* issue 16: a hook without "env" gets the default environment of its side (host: the runtime's
 * own, container: process.env), an explicit empty list stays empty; cwd_fd is its directory. */
static void test_default_env_and_cwd(void **st)
{
        _cleanup_free_ char *out = xasprintf("%s/envcwd", tmpdir);
        _cleanup_free_ char *script = xasprintf("{ pwd; echo \"v=$HUSK_UNIT_VAR\"; } > '%s'", out);
        config_hook h = sh_hook(script, NULL, 0);
        config_hooks hs = { 0 };
        hs.hooks[HOOK_CREATE_CONTAINER] = &h;
        hs.n_hooks[HOOK_CREATE_CONTAINER] = 1;
        char *penv[] = { "HUSK_UNIT_VAR=from-process-env", NULL };
        int dfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        hooks_opts o = { .cwd_fd = dfd, .default_env = penv };
        husk_error_t err = { 0 };
        assert_int_equal(hooks_run_ex(&hs, HOOK_CREATE_CONTAINER, state, &o, &err), 0);
        _cleanup_free_ char *got = slurp(out);
        _cleanup_free_ char *want = xasprintf("%s\nv=from-process-env\n", tmpdir);
        assert_string_equal(got, want);
        close(dfd);

        /* hooks_run on the host side: the caller's environment */
        setenv("HUSK_UNIT_VAR", "from-husk", 1);
        hs.hooks[HOOK_PRESTART] = &h;
        hs.n_hooks[HOOK_PRESTART] = 1;
        assert_int_equal(hooks_run(&hs, HOOK_PRESTART, state, &err), 0);
        free(got);
        got = slurp(out);
        assert_non_null(strstr(got, "v=from-husk"));
        /* container side through hooks_run: no environment at all */
        assert_int_equal(hooks_run(&hs, HOOK_CREATE_CONTAINER, state, &err), 0);
        free(got);
        got = slurp(out);
        assert_non_null(strstr(got, "v=\n"));
        /* an explicit empty list: empty, whatever the default */
        char *none[] = { NULL };
        h.env = none;
        assert_int_equal(hooks_run(&hs, HOOK_PRESTART, state, &err), 0);
        free(got);
        got = slurp(out);
        assert_non_null(strstr(got, "v=\n"));
        unsetenv("HUSK_UNIT_VAR");
        free(h.args);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kind_names),
                cmocka_unit_test(test_state_env_args_fds),
                cmocka_unit_test(test_hook_not_reading_stdin),
                cmocka_unit_test(test_failure_message),
                cmocka_unit_test(test_stops_at_first_failure),
                cmocka_unit_test(test_timeout_kills),
                cmocka_unit_test(test_killed_by_signal_and_bad_path),
                cmocka_unit_test(test_no_hooks),
                cmocka_unit_test(test_default_env_and_cwd),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
