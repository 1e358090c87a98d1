/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the engines module's pure parts: exec's --user parser and argv-form process
 * building, and the features document. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "process/process.h"
#include "util/json.h"
#include "util/util.h"

#include <linux/capability.h>
#include <string.h>

static void test_parse_user(void **state)
{
        (void)state;
        husk_error_t err;
        config_user u = { .uid = 5, .gid = 6 };
        assert_int_equal(exec_parse_user("1000:1001", &u, &err), 0);
        assert_int_equal(u.uid, 1000);
        assert_int_equal(u.gid, 1001);
        assert_int_equal(exec_parse_user("7", &u, &err), 0);
        assert_int_equal(u.uid, 7);
        assert_int_equal(u.gid, 1001); /* kept */
        const char *bad[] = { "root", "1000:", ":5", "-1", "1000:x", "1 ", "", "99999999999" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                u.uid = 42;
                assert_true(exec_parse_user(bad[i], &u, &err) < 0);
                assert_int_equal(u.uid, 42); /* a failed parse never leaves root behind */
                assert_non_null(strstr(err.msg, "--user"));
        }
}

/* A container config whose process is sh with two env entries and the cwd /. */
static husk_config *base_cfg(void)
{
        husk_config *c = xcalloc(1, sizeof(*c));
        c->filename = xstrdup("config.json");
        config_process *p = xcalloc(1, sizeof(*p));
        char *args[] = { (char *)"sh" };
        p->args = strv_copy(args, 1);
        p->n_args = 1;
        char *env[] = { (char *)"PATH=/bin", (char *)"TERM=xterm" };
        p->env = strv_copy(env, 2);
        p->n_env = 2;
        p->cwd = xstrdup("/");
        p->terminal = true;
        p->user.uid = 0;
        p->user.gid = 0;
        p->has_capabilities = true;
        p->capabilities.has_bounding = p->capabilities.has_effective = true;
        p->capabilities.bounding = p->capabilities.effective = 1ULL << CAP_KILL;
        c->process = p;
        return c;
}

static void test_from_args(void **state)
{
        (void)state;
        husk_error_t err;
        husk_config *cfg = base_cfg();
        char *args[] = { (char *)"echo", (char *)"-c", (char *)"hi" };
        char *env[] = { (char *)"TERM=dumb", (char *)"FOO=bar" };
        char *caps[] = { (char *)"CAP_SYS_ADMIN", (char *)"NET_ADMIN" };
        husk_exec_opts_t o = { .args = args, .n_args = 3, .env = env, .n_env = 2,
                               .cwd = "/tmp", .user = "1000:1001", .caps = caps, .n_caps = 2,
                               .no_new_privs = true, .tty = false };
        config_process *p = NULL;
        assert_int_equal(exec_process_from_args(cfg, &o, &p, &err), 0);
        assert_null(cfg->process); /* taken */
        assert_int_equal(p->n_args, 3);
        assert_string_equal(p->args[1], "-c");
        assert_null(p->args[3]);
        assert_int_equal(p->n_env, 3);
        assert_string_equal(p->env[0], "PATH=/bin");
        assert_string_equal(p->env[1], "TERM=dumb"); /* replaced in place */
        assert_string_equal(p->env[2], "FOO=bar");   /* appended */
        assert_null(p->env[3]);
        assert_string_equal(p->cwd, "/tmp");
        assert_int_equal(p->user.uid, 1000);
        assert_int_equal(p->user.gid, 1001);
        uint64_t want = (1ULL << CAP_KILL) | (1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_NET_ADMIN);
        assert_true(p->capabilities.bounding == want);
        assert_true(p->capabilities.effective == want);
        assert_true(p->capabilities.permitted == ((1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_NET_ADMIN)));
        assert_true(p->capabilities.inheritable == 0); /* CVE-2022-29162 */
        assert_true(p->no_new_privileges);
        assert_false(p->terminal); /* the command line decides */
        config_process_free(p);
        config_free(cfg);
}

static void test_from_args_errors(void **state)
{
        (void)state;
        husk_error_t err;
        char *args[] = { (char *)"true" };
        struct {
                husk_exec_opts_t o;
                const char *msg;
        } cases[] = {
                { { .n_args = 0 }, "needs a command" },
                { { .args = args, .n_args = 1, .cwd = "tmp" }, "must be absolute" },
                { { .args = args, .n_args = 1, .user = "nobody" }, "--user" },
                { { .args = args, .n_args = 1, .caps = (char *[]){ (char *)"CAP_NOPE" }, .n_caps = 1 },
                  "unknown capability" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                husk_config *cfg = base_cfg();
                config_process *p = NULL;
                assert_true(exec_process_from_args(cfg, &cases[i].o, &p, &err) < 0);
                assert_null(p);
                assert_non_null(strstr(err.msg, cases[i].msg));
                config_free(cfg);
        }
        husk_config *none = xcalloc(1, sizeof(*none));
        config_process *p = NULL;
        husk_exec_opts_t o = { .args = args, .n_args = 1 };
        assert_true(exec_process_from_args(none, &o, &p, &err) < 0);
        config_free(none);
}

static bool arr_has(const json_value *a, const char *s)
{
        for (size_t i = 0; a && a->type == JSON_ARRAY && i < a->n; i++)
                if (a->items[i]->type == JSON_STRING && strcmp(a->items[i]->str, s) == 0)
                        return true;
        return false;
}

static void test_features(void **state)
{
        (void)state;
        _cleanup_free_ char *doc = husk_features_json();
        json_value *v = NULL;
        char eb[128];
        assert_int_equal(json_parse(doc, strlen(doc), &v, eb, sizeof(eb)), 0);
        assert_string_equal(json_get_str(v, "ociVersionMax"), HUSK_OCI_VERSION);
        const json_value *lx = json_get(v, "linux");
        assert_non_null(lx);
        assert_true(arr_has(json_get(lx, "namespaces"), "time"));
        assert_true(arr_has(json_get(lx, "capabilities"), "CAP_SYS_ADMIN"));
        assert_true(arr_has(json_get(lx, "capabilities"), "CAP_CHOWN"));
        const json_value *sc = json_get(lx, "seccomp");
        assert_true(arr_has(json_get(sc, "actions"), "SCMP_ACT_NOTIFY"));
        assert_true(arr_has(json_get(sc, "operators"), "SCMP_CMP_MASKED_EQ"));
        assert_true(arr_has(json_get(sc, "archs"), "SCMP_ARCH_X86_64"));
        const json_value *cg = json_get(lx, "cgroup");
        assert_true(json_get(cg, "v1")->boolean);
        assert_false(json_get(cg, "systemd")->boolean);
        assert_false(json_get(json_get(lx, "apparmor"), "enabled")->boolean);
        /* Options the rootfs module rejects must not be advertised. */
        const json_value *mo = json_get(v, "mountOptions");
        assert_true(arr_has(mo, "rbind"));
        assert_true(arr_has(mo, "nosymfollow"));
        assert_false(arr_has(mo, "idmap"));
        assert_false(arr_has(mo, "tmpcopyup"));
        assert_true(arr_has(json_get(v, "hooks"), "createContainer"));
        json_value_free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_user),
                cmocka_unit_test(test_from_args),
                cmocka_unit_test(test_from_args_errors),
                cmocka_unit_test(test_features),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
