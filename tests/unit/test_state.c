/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the state module: id validation, JSON writer/reader, state.json round trip,
 * status logic with real (fake-container) pids, and lock/remove races. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "state/state.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void expect_bad_id(const char *id, const char *needle)
{
        husk_error_t err = { 0 };
        assert_int_equal(husk_id_validate(id, &err), -EINVAL);
        if (!strstr(err.msg, needle))
                fail_msg("id error \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_id_validate(void **state)
{
        husk_error_t err = { 0 };
        const char *good[] = { "a", "c1", "my-container_1.2", ".x", "..x", "x..", "a b", "日本",
                               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                assert_int_equal(husk_id_validate(good[i], &err), 0);
        expect_bad_id("", "must not be empty");
        expect_bad_id(NULL, "must not be empty");
        expect_bad_id(".", "are not allowed");
        expect_bad_id("..", "are not allowed");
        expect_bad_id("a/b", "must not contain '/'");
        expect_bad_id("../x", "must not contain '/'");
        expect_bad_id("/", "must not contain '/'");
        expect_bad_id("x/", "must not contain '/'");
        expect_bad_id("a\nb", "control characters");
        expect_bad_id("a\tb", "control characters");
        expect_bad_id("\x1b[31mred", "control characters");
        expect_bad_id("del\x7f", "control characters");
        /* The control character itself never reaches the message (terminal injection). */
        husk_id_validate("\x1b[2J", &err);
        assert_null(strchr(err.msg, '\x1b'));
        assert_non_null(strstr(err.msg, "\\u001b"));

        char id[1026];
        memset(id, 'a', sizeof(id));
        id[1024] = '\0';
        assert_int_equal(husk_id_validate(id, &err), 0);
        id[1024] = 'a';
        id[1025] = '\0';
        expect_bad_id(id, "longer than 1024");
        char big[2001];
        memset(big, 'z', 2000);
        big[2000] = '\0';
        expect_bad_id(big, "longer than 1024");
        assert_true(strlen(err.msg) < 200); /* the id is abbreviated in the message */
}

static void test_json_quote(void **state)
{
        _cleanup_free_ char *a = json_quote("plain");
        assert_string_equal(a, "\"plain\"");
        _cleanup_free_ char *b = json_quote("q\"b\\s/");
        assert_string_equal(b, "\"q\\\"b\\\\s/\"");
        _cleanup_free_ char *c = json_quote("\n\r\t\b\f\x01\x1f\x7f");
        assert_string_equal(c, "\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"");
        _cleanup_free_ char *d = json_quote("é ünïcode ✓");
        assert_string_equal(d, "\"é ünïcode ✓\"");
        _cleanup_free_ char *e = json_quote("");
        assert_string_equal(e, "\"\"");
}

static void test_json_writer(void **state)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "a", "x\"y");
        json_kv_int(w, "n", -5);
        json_kv_uint(w, "u", UINT64_MAX);
        json_kv_bool(w, "t", true);
        json_key(w, "null");
        json_str(w, NULL);
        json_key(w, "arr");
        json_arr_begin(w);
        json_int(w, 1);
        json_obj_begin(w);
        json_obj_end(w);
        json_arr_begin(w);
        json_arr_end(w);
        json_arr_end(w);
        json_obj_end(w);
        _cleanup_free_ char *s = json_writer_finish(w);
        assert_string_equal(s, "{\"a\":\"x\\\"y\",\"n\":-5,\"u\":18446744073709551615,\"t\":true,"
                               "\"null\":null,\"arr\":[1,{},[]]}");

        w = json_writer_new(true);
        json_obj_begin(w);
        json_kv_str(w, "id", "c1");
        json_key(w, "annotations");
        json_obj_begin(w);
        json_kv_str(w, "k", "v");
        json_obj_end(w);
        json_key(w, "empty");
        json_obj_begin(w);
        json_obj_end(w);
        json_obj_end(w);
        _cleanup_free_ char *p = json_writer_finish(w);
        assert_string_equal(p, "{\n  \"id\": \"c1\",\n  \"annotations\": {\n    \"k\": \"v\"\n  },\n"
                               "  \"empty\": {}\n}");
}

static void test_json_reader(void **state)
{
        const char *doc = " {\"s\":\"a\\u00e9\\ud83d\\ude00\\n\\\"\",\"n\":-12,\"b\":false,\"z\":null,"
                          "\"arr\":[1,[2],{}],\"o\":{\"k\":\"v\"},\"s\":\"dup\"} ";
        json_value *v = NULL;
        char why[128];
        assert_int_equal(json_parse(doc, strlen(doc), &v, why, sizeof(why)), 0);
        assert_string_equal(json_get_str(v, "s"), "dup"); /* last duplicate wins */
        assert_int_equal(json_get(v, "n")->type, JSON_NUMBER);
        assert_string_equal(json_get(v, "n")->str, "-12");
        assert_int_equal(json_get(v, "b")->type, JSON_BOOL);
        assert_false(json_get(v, "b")->boolean);
        assert_int_equal(json_get(v, "z")->type, JSON_NULL);
        assert_int_equal(json_get(v, "arr")->n, 3);
        assert_string_equal(json_get_str(json_get(v, "o"), "k"), "v");
        assert_null(json_get(v, "missing"));
        assert_string_equal(v->items[0]->str, "a\xc3\xa9\xf0\x9f\x98\x80\n\"");
        json_value_free(v);

        const char *bad[] = { "", "{", "{\"a\"}", "{\"a\":}", "[1,]", "[1 2]", "\"\\u0000\"",
                              "\"\\ud800\"", "\"a\nb\"", "tru", "{} x", "\"\\x\"", "-", "[01x]",
                              "{\"a\":1,}" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                v = NULL;
                if (json_parse(bad[i], strlen(bad[i]), &v, why, sizeof(why)) != -EINVAL)
                        fail_msg("accepted bad JSON %s", bad[i]);
                assert_null(v);
        }
        /* Depth is bounded: no stack exhaustion on hostile input. */
        char deep[200];
        memset(deep, '[', sizeof(deep));
        assert_int_equal(json_parse(deep, sizeof(deep), &v, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "deep"));
}

/* ---- state dir and state.json ---- */

static char *make_root(void)
{
        char tmpl[] = "/tmp/husk-unit-state.XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        return xasprintf("%s/root", tmpl);
}

static void rm_tree(const char *root)
{
        _cleanup_free_ char *top = xstrndup(root, strlen(root) - strlen("/root"));
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", top);
        assert_int_equal(system(cmd), 0);
}

static husk_state *sample_state(void)
{
        husk_state *s = xcalloc(1, sizeof(*s));
        s->id = xstrdup("c1");
        s->bundle = xstrdup("/b \"quoted\"\\dir");
        s->rootfs = xstrdup("/b/rootfs");
        s->pid = 4242;
        s->pid_start_time = 987654321ULL;
        snprintf(s->created, sizeof(s->created), "2026-11-29T01:32:44.247963276Z");
        s->owner = xstrdup("");
        s->n_annotations = 2;
        s->annotations = xcalloc(2, sizeof(config_kv));
        s->annotations[0].key = xstrdup("org.opencontainers.image.os");
        s->annotations[0].value = xstrdup("linux");
        s->annotations[1].key = xstrdup("ctl\x01");
        s->annotations[1].value = xstrdup("line1\nline2");
        s->cgroup = xstrdup("v1:/husk/c1");
        s->new_pidns = true;
        s->has_poststop = true;
        s->config_path = xstrdup("/b/config.json");
        s->terminal = true;
        s->start_phase_ns[0] = 1;
        s->start_phase_ns[7] = UINT64_MAX;
        return s;
}

static void test_state_round_trip(void **state)
{
        _cleanup_free_ char *root = make_root();
        husk_error_t err = { 0 };
        int fd = -1;
        assert_int_equal(state_dir_create(root, "c1", &fd, &err), 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        husk_state *s = sample_state();
        assert_int_equal(state_save(fd, s, &err), 0);
        husk_state *l = NULL;
        assert_int_equal(state_load(fd, &l, &err), 0);
        assert_string_equal(l->id, s->id);
        assert_string_equal(l->bundle, s->bundle);
        assert_string_equal(l->rootfs, s->rootfs);
        assert_int_equal(l->pid, s->pid);
        assert_true(l->pid_start_time == s->pid_start_time);
        assert_string_equal(l->created, s->created);
        assert_string_equal(l->owner, "");
        assert_int_equal(l->n_annotations, 2);
        assert_string_equal(l->annotations[1].key, "ctl\x01");
        assert_string_equal(l->annotations[1].value, "line1\nline2");
        assert_string_equal(l->cgroup, s->cgroup);
        assert_true(l->new_pidns && l->has_poststop && l->terminal);
        assert_string_equal(l->config_path, s->config_path);
        assert_true(l->start_phase_ns[0] == 1 && l->start_phase_ns[7] == UINT64_MAX);
        state_free(l);

        /* The OCI document: status, pid 0 when stopped, escaped strings parse back. */
        _cleanup_free_ char *doc = state_to_json(s, HUSK_STATUS_STOPPED, true);
        json_value *v = NULL;
        assert_int_equal(json_parse(doc, strlen(doc), &v, NULL, 0), 0);
        assert_string_equal(json_get_str(v, "status"), "stopped");
        assert_string_equal(json_get(v, "pid")->str, "0");
        assert_string_equal(json_get_str(v, "ociVersion"), HUSK_OCI_VERSION);
        assert_string_equal(json_get_str(v, "bundle"), s->bundle);
        assert_string_equal(json_get_str(json_get(v, "annotations"), "ctl\x01"), "line1\nline2");
        assert_null(json_get(v, "cgroup")); /* internal fields stay out of the OCI state */
        json_value_free(v);
        _cleanup_free_ char *run = state_to_json(s, HUSK_STATUS_RUNNING, false);
        assert_non_null(strstr(run, "\"pid\":4242"));
        assert_non_null(strstr(run, "\"status\":\"running\""));

        /* A second create of the same id fails with the engines' text. */
        int fd2 = -1;
        assert_int_equal(state_dir_create(root, "c1", &fd2, &err), -EEXIST);
        assert_string_equal(err.msg, "container with id c1 already exists");
        state_free(s);
        close(fd);
        assert_int_equal(state_dir_remove(root, "c1", &err), 0);
        assert_int_equal(state_dir_open(root, "c1", &fd2, &err), -ENOENT);
        assert_string_equal(err.msg, "container does not exist");
        /* Invalid ids never reach the file system. */
        assert_int_equal(state_dir_create(root, "../evil", &fd2, &err), -EINVAL);
        assert_int_equal(state_dir_open(root, "..", &fd2, &err), -EINVAL);
        _cleanup_free_ char *evil = xasprintf("%s/../evil", root);
        assert_int_equal(access(evil, F_OK), -1);
        rm_tree(root);
}

static void test_state_load_rejects(void **state)
{
        _cleanup_free_ char *root = make_root();
        husk_error_t err = { 0 };
        int fd = -1;
        husk_state *l = NULL;
        assert_int_equal(state_dir_create(root, "c2", &fd, &err), 0);
        assert_int_equal(state_load(fd, &l, &err), -ENOENT);
        const char *bad[] = {
                "not json",
                "[]",
                "{\"bundle\":\"/b\",\"rootfs\":\"/r\"}",
                "{\"id\":\"a/b\",\"bundle\":\"/b\",\"rootfs\":\"/r\"}",
                "{\"id\":\"c2\",\"bundle\":\"/b\",\"rootfs\":\"/r\",\"pid\":-1}",
                "{\"id\":\"c2\",\"bundle\":\"/b\",\"rootfs\":\"/r\",\"pid\":2147483648}",
                "{\"id\":\"c2\",\"bundle\":\"/b\",\"rootfs\":\"/r\",\"pid\":\"12\"}",
                "{\"id\":\"c2\",\"bundle\":1,\"rootfs\":\"/r\"}",
                "{\"id\":\"c2\",\"bundle\":\"/b\",\"rootfs\":\"/r\",\"annotations\":{\"k\":1}}",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_int_equal(write_file_atomic_at(fd, STATE_FILE_NAME, bad[i], strlen(bad[i]), 0600),
                                 0);
                l = NULL;
                if (state_load(fd, &l, &err) != -EINVAL)
                        fail_msg("state.json accepted: %s", bad[i]);
                assert_null(l);
                assert_non_null(strstr(err.msg, "state.json"));
        }
        const char *good = "{\"id\":\"c2\",\"bundle\":\"/b\",\"rootfs\":\"/r\",\"pid\":7,\"extra\":[1,{}]}";
        assert_int_equal(write_file_atomic_at(fd, STATE_FILE_NAME, good, strlen(good), 0600), 0);
        assert_int_equal(state_load(fd, &l, &err), 0);
        assert_int_equal(l->pid, 7);
        assert_string_equal(l->owner, "");
        state_free(l);
        close(fd);
        rm_tree(root);
}

/* ---- status with real processes ---- */

static husk_status_t status_of(int fd, husk_state *s)
{
        husk_error_t err = { 0 };
        husk_status_t st = HUSK_STATUS_CREATING;
        assert_int_equal(state_status(fd, s, &st, &err), 0);
        return st;
}

static void test_status(void **state)
{
        _cleanup_free_ char *root = make_root();
        husk_error_t err = { 0 };
        int fd = -1;
        assert_int_equal(state_dir_create(root, "c3", &fd, &err), 0);
        husk_state *s = sample_state();
        free(s->cgroup);
        s->cgroup = NULL;

        /* A live "container init": a child that sleeps. */
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pause();
                _exit(0);
        }
        s->pid = child;
        s->pid_start_time = state_proc_start_time(child);
        assert_true(s->pid_start_time > 0);
        assert_int_equal(status_of(fd, s), HUSK_STATUS_RUNNING);

        /* exec.fifo present: created (waiting for start). */
        assert_int_equal(mkfifoat(fd, STATE_FIFO_NAME, 0600), 0);
        assert_int_equal(status_of(fd, s), HUSK_STATUS_CREATED);

        /* Same pid, other start time: the pid was reused by someone else. */
        s->pid_start_time++;
        assert_int_equal(status_of(fd, s), HUSK_STATUS_STOPPED);
        s->pid_start_time--;

        /* pid 0 with the fifo: still being created; without: stopped. */
        pid_t saved = s->pid;
        s->pid = 0;
        assert_int_equal(status_of(fd, s), HUSK_STATUS_CREATING);
        assert_int_equal(unlinkat(fd, STATE_FIFO_NAME, 0), 0);
        assert_int_equal(status_of(fd, s), HUSK_STATUS_STOPPED);
        s->pid = saved;

        /* Exited but not reaped (zombie): stopped. */
        assert_int_equal(kill(child, SIGKILL), 0);
        siginfo_t si;
        assert_int_equal(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT), 0);
        char letter = 0;
        assert_int_equal(state_proc_stat(child, &letter, NULL), 0);
        assert_int_equal(letter, 'Z');
        assert_false(state_pid_alive(child, s->pid_start_time));
        assert_int_equal(status_of(fd, s), HUSK_STATUS_STOPPED);

        /* Reaped: gone. */
        assert_int_equal(waitpid(child, NULL, 0), child);
        assert_int_equal(state_proc_start_time(child), 0);
        assert_int_equal(state_proc_stat(child, NULL, NULL), -ESRCH);
        assert_int_equal(status_of(fd, s), HUSK_STATUS_STOPPED);

        /* Our own process, with its comm containing ") (" would not confuse the parser either:
         * the start time of self is stable. */
        assert_true(state_proc_start_time(getpid()) == state_proc_start_time(getpid()));
        assert_int_equal(state_proc_stat(-1, NULL, NULL), -ESRCH);
        state_free(s);
        close(fd);
        rm_tree(root);
}

/* A command that waits for the lock while the holder deletes the container must see "does not
 * exist", not a half-removed directory. */
static void test_lock_then_removed(void **state)
{
        _cleanup_free_ char *root = make_root();
        husk_error_t err = { 0 };
        int fd = -1;
        assert_int_equal(state_dir_create(root, "c4", &fd, &err), 0);
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                /* flock belongs to the open file description: drop our copy of the parent's. */
                close(fd);
                close(pipefd[0]);
                int cfd = -1;
                husk_error_t cerr = { 0 };
                if (write(pipefd[1], "x", 1) != 1)
                        _exit(10);
                int r = state_dir_open(root, "c4", &cfd, &cerr); /* blocks on the lock */
                if (r == -ENOENT && strcmp(cerr.msg, "container does not exist") == 0)
                        _exit(0);
                _exit(r == 0 ? 2 : 3);
        }
        close(pipefd[1]);
        char b;
        assert_int_equal(read(pipefd[0], &b, 1), 1);
        close(pipefd[0]);
        usleep(100 * 1000); /* let the child reach flock() */
        assert_int_equal(state_dir_remove(root, "c4", &err), 0);
        close(fd); /* releases the lock */
        int status = 0;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        /* The lock is exclusive: a second opener of a live dir blocks until the first closes. */
        assert_int_equal(state_dir_create(root, "c5", &fd, &err), 0);
        int fd2 = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int sub = openat(fd2, "c5", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(sub >= 0);
        assert_int_equal(flock(sub, LOCK_EX | LOCK_NB), -1);
        assert_int_equal(errno, EWOULDBLOCK);
        close(fd);
        assert_int_equal(flock(sub, LOCK_EX | LOCK_NB), 0);
        close(sub);
        close(fd2);
        /* Nested files are removed too. */
        assert_int_equal(state_dir_open(root, "c5", &fd, &err), 0);
        assert_int_equal(mkdirat(fd, "sub", 0700), 0);
        int f = openat(fd, "sub/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(f >= 0);
        close(f);
        assert_int_equal(symlinkat("/etc/passwd", fd, "link"), 0);
        assert_int_equal(state_dir_remove(root, "c5", &err), 0);
        assert_int_equal(access("/etc/passwd", F_OK), 0);
        close(fd);
        rm_tree(root);
}

static void test_long_ids(void **state)
{
        char a[1025], b[1025], na[STATE_DIR_NAME_SIZE], nb[STATE_DIR_NAME_SIZE];
        memset(a, 'x', 1024);
        a[1024] = '\0';
        memcpy(b, a, sizeof(a));
        b[1023] = 'y';
        state_dir_name("short", na);
        assert_string_equal(na, "short");
        memset(na, 0, sizeof(na));
        char id200[201];
        memset(id200, 'q', 200);
        id200[200] = '\0';
        state_dir_name(id200, na);
        assert_string_equal(na, id200);
        state_dir_name(a, na);
        state_dir_name(b, nb);
        assert_true(strlen(na) > 200 && strlen(na) < 256);
        assert_string_not_equal(na, nb); /* same prefix, different ids */
        assert_null(strchr(na, '/'));

        _cleanup_free_ char *root = make_root();
        husk_error_t err = { 0 };
        int fd = -1, fd2 = -1;
        assert_int_equal(state_dir_create(root, a, &fd, &err), 0);
        assert_int_equal(state_dir_create(root, b, &fd2, &err), 0);
        close(fd2);
        assert_int_equal(state_dir_create(root, a, &fd2, &err), -EEXIST);
        close(fd);
        assert_int_equal(state_dir_open(root, a, &fd, &err), 0);
        close(fd);
        assert_int_equal(state_dir_remove(root, a, &err), 0);
        assert_int_equal(state_dir_open(root, a, &fd, &err), -ENOENT);
        assert_int_equal(state_dir_open(root, b, &fd, &err), 0);
        close(fd);
        rm_tree(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_id_validate),      cmocka_unit_test(test_json_quote),
                cmocka_unit_test(test_json_writer),      cmocka_unit_test(test_json_reader),
                cmocka_unit_test(test_state_round_trip), cmocka_unit_test(test_state_load_rejects),
                cmocka_unit_test(test_status),           cmocka_unit_test(test_lock_then_removed),
                cmocka_unit_test(test_long_ids),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
