/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the process module's pure parts: namespace plan, id maps, time offsets,
 * capabilities (masks and cap_t), executable lookup, sysctl checks, sync frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "caps/caps.h"
#include "ns/ns.h"
#include "process/process.h"
#include "process/sync.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

static husk_config *cfg_with_ns(const config_ns_type *types, char **paths, size_t n)
{
        husk_config *c = xcalloc(1, sizeof(*c));
        c->linux_.namespaces = xcalloc(n ? n : 1, sizeof(config_namespace));
        c->linux_.n_namespaces = n;
        for (size_t i = 0; i < n; i++) {
                c->linux_.namespaces[i].type = types[i];
                c->linux_.namespaces[i].path = paths ? paths[i] : NULL;
        }
        return c;
}

static void cfg_free(husk_config *c)
{
        free(c->linux_.namespaces);
        free(c);
}

static void test_plan_default(void **state)
{
        const config_ns_type t[] = { NS_PID, NS_NETWORK, NS_IPC, NS_UTS, NS_MOUNT };
        husk_config *c = cfg_with_ns(t, NULL, ARRAY_SIZE(t));
        ns_plan p;
        husk_error_t err = { 0 };
        assert_int_equal(ns_plan_make(c, &p, &err), 0);
        assert_int_equal(p.clone_flags,
                         CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
        assert_false(p.needs_fork);
        assert_false(p.unshare_mode);
        assert_false(p.userns);
        assert_true(p.new_pidns);
        assert_true(p.has_mountns && p.has_netns && p.has_ipcns && p.has_utsns);
        cfg_free(c);
}

static void test_plan_time_and_cgroup(void **state)
{
        const config_ns_type t[] = { NS_PID, NS_MOUNT, NS_TIME, NS_CGROUP, NS_USER };
        husk_config *c = cfg_with_ns(t, NULL, ARRAY_SIZE(t));
        ns_plan p;
        husk_error_t err = { 0 };
        assert_int_equal(ns_plan_make(c, &p, &err), 0);
        /* pid is unshared before the second fork; cgroup and time come later. */
        assert_int_equal(p.clone_flags, CLONE_NEWNS | CLONE_NEWUSER);
        assert_true(p.needs_fork);
        assert_true(p.new_pidns && p.new_timens && p.new_cgroupns && p.new_userns);
        cfg_free(c);
}

static void test_plan_paths(void **state)
{
        const config_ns_type t[] = { NS_PID, NS_NETWORK, NS_MOUNT };
        char *paths[] = { NULL, "/run/netns/x", NULL };
        husk_config *c = cfg_with_ns(t, paths, ARRAY_SIZE(t));
        ns_plan p;
        husk_error_t err = { 0 };
        assert_int_equal(ns_plan_make(c, &p, &err), 0);
        assert_true(p.join_paths);
        assert_false(p.unshare_mode); /* no user namespace: clone creates, the child joins net */
        assert_int_equal(p.clone_flags, CLONE_NEWPID | CLONE_NEWNS);
        cfg_free(c);

        const config_ns_type t2[] = { NS_USER, NS_NETWORK, NS_MOUNT, NS_PID };
        char *paths2[] = { NULL, "/run/netns/x", NULL, "/proc/1/ns/pid" };
        c = cfg_with_ns(t2, paths2, ARRAY_SIZE(t2));
        assert_int_equal(ns_plan_make(c, &p, &err), 0);
        assert_true(p.unshare_mode);
        assert_int_equal(p.clone_flags, 0);
        assert_int_equal(p.unshare_flags, CLONE_NEWUSER | CLONE_NEWNS);
        assert_true(p.needs_fork && p.pidns_path && !p.new_pidns);
        cfg_free(c);
}

static void test_plan_errors(void **state)
{
        const config_ns_type t[] = { NS_PID, NS_PID };
        husk_config *c = cfg_with_ns(t, NULL, ARRAY_SIZE(t));
        ns_plan p;
        husk_error_t err = { 0 };
        assert_int_equal(ns_plan_make(c, &p, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "pid namespace listed twice"));
        cfg_free(c);

        const config_ns_type t2[] = { NS_MOUNT };
        c = cfg_with_ns(t2, NULL, 1);
        c->linux_.time_boottime.set = true;
        assert_int_equal(ns_plan_make(c, &p, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "time namespace"));
        cfg_free(c);
}

static void test_idmap_format(void **state)
{
        config_idmap m[] = { { 0, 100000, 65536 }, { 65536, 1000, 1 } };
        char *s = ns_format_idmap(m, 2);
        assert_string_equal(s, "0 100000 65536\n65536 1000 1\n");
        free(s);
        assert_null(ns_format_idmap(m, 0));
        config_idmap big = { 4294967295u, 4294967295u, 4294967295u };
        s = ns_format_idmap(&big, 1);
        assert_string_equal(s, "4294967295 4294967295 4294967295\n");
        free(s);
}

static void test_time_offsets(void **state)
{
        husk_config c = { 0 };
        assert_null(ns_format_time_offsets(&c));
        c.linux_.time_monotonic = (config_time_offset){ .set = true, .secs = -5, .nanosecs = 7 };
        c.linux_.time_boottime = (config_time_offset){ .set = true, .secs = 86400, .nanosecs = 0 };
        char *s = ns_format_time_offsets(&c);
        assert_string_equal(s, "monotonic -5 7\nboottime 86400 0\n");
        free(s);
}

static void test_caps_masks(void **state)
{
        assert_int_equal(caps_all_mask(40), (UINT64_C(1) << 41) - 1);
        assert_int_equal(caps_all_mask(63), UINT64_MAX);
        uint64_t keep = (UINT64_C(1) << CAP_KILL) | (UINT64_C(1) << CAP_NET_BIND_SERVICE);
        uint64_t drop = caps_bounding_drop_mask(keep, 40);
        assert_false(drop & (UINT64_C(1) << CAP_KILL));
        assert_true(drop & (UINT64_C(1) << CAP_SYS_ADMIN));
        assert_false(drop & (UINT64_C(1) << 41)); /* unknown to this kernel: not dropped */
        int last = caps_last_cap();
        assert_true(last >= CAP_AUDIT_READ && last < 64);
}

static void test_caps_from_config(void **state)
{
        config_caps c = { .has_effective = true,
                          .effective = UINT64_C(1) << CAP_KILL,
                          .has_permitted = true,
                          .permitted = (UINT64_C(1) << CAP_KILL) | (UINT64_C(1) << CAP_CHOWN),
                          .has_inheritable = false,
                          .inheritable = UINT64_C(1) << CAP_SYS_ADMIN };
        husk_error_t err = { 0 };
        cap_t t = caps_from_config(&c, caps_last_cap(), &err);
        assert_non_null(t);
        cap_flag_value_t v;
        assert_int_equal(cap_get_flag(t, CAP_KILL, CAP_EFFECTIVE, &v), 0);
        assert_int_equal(v, CAP_SET);
        assert_int_equal(cap_get_flag(t, CAP_CHOWN, CAP_EFFECTIVE, &v), 0);
        assert_int_equal(v, CAP_CLEAR);
        assert_int_equal(cap_get_flag(t, CAP_CHOWN, CAP_PERMITTED, &v), 0);
        assert_int_equal(v, CAP_SET);
        /* CVE-2022-29162: an absent inheritable set is empty, whatever the mask holds. */
        for (int i = 0; i <= caps_last_cap(); i++) {
                assert_int_equal(cap_get_flag(t, i, CAP_INHERITABLE, &v), 0);
                assert_int_equal(v, CAP_CLEAR);
        }
        cap_free(t);
}

static char tmpdir[64];

static void mkexec(const char *rel, mode_t mode)
{
        char *p = xasprintf("%s/%s", tmpdir, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        close(fd);
        chmod(p, mode);
        free(p);
}

static int setup_tmp(void **state)
{
        strcpy(tmpdir, "/tmp/husk-test-process.XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        char *d1 = xasprintf("%s/bin1", tmpdir), *d2 = xasprintf("%s/bin2", tmpdir);
        mkdir(d1, 0755);
        mkdir(d2, 0755);
        free(d1);
        free(d2);
        mkexec("bin1/noexec", 0644);
        mkexec("bin2/noexec", 0755);
        mkexec("bin2/tool", 0755);
        mkexec("plain", 0644);
        return 0;
}

static int teardown_tmp(void **state)
{
        char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        int r = system(cmd);
        free(cmd);
        return r == 0 ? 0 : -1;
}

static void test_find_exec(void **state)
{
        husk_error_t err = { 0 };
        char *path = NULL;
        char *env_path = xasprintf("PATH=%s/bin1:%s/bin2", tmpdir, tmpdir);
        char *env[] = { "A=1", env_path, NULL };

        assert_int_equal(process_find_exec("tool", env, "/", &path, &err), 0);
        assert_true(strstr(path, "/bin2/tool") != NULL);
        free(path);
        /* bin1/noexec is skipped (no x bit), bin2/noexec is found. */
        assert_int_equal(process_find_exec("noexec", env, "/", &path, &err), 0);
        assert_true(strstr(path, "/bin2/noexec") != NULL);
        free(path);

        assert_int_equal(process_find_exec("/nonexistent", env, "/", &path, &err), -ENOENT);
        assert_string_equal(err.msg,
                            "exec: \"/nonexistent\": stat /nonexistent: no such file or directory");
        char *plain = xasprintf("%s/plain", tmpdir);
        assert_int_equal(process_find_exec(plain, env, "/", &path, &err), -EACCES);
        char *want = xasprintf("exec: \"%s\": permission denied", plain);
        assert_string_equal(err.msg, want);
        free(want);
        free(plain);
        assert_int_equal(process_find_exec("missing-tool", env, "/", &path, &err), -ENOENT);
        assert_string_equal(err.msg, "exec: \"missing-tool\": executable file not found in $PATH");
        /* Relative with a slash: against cwd. */
        assert_int_equal(process_find_exec("./bin2/tool", env, tmpdir, &path, &err), 0);
        free(path);
        assert_int_equal(process_find_exec("", env, "/", &path, &err), -EINVAL);
        free(env_path);
}

static void test_sysctl(void **state)
{
        ns_plan p = { .has_netns = true, .has_ipcns = false, .has_utsns = true };
        husk_error_t err = { 0 };
        char *path = NULL;
        assert_int_equal(process_sysctl_path("net.ipv4.ip_forward", &p, &path, &err), 0);
        assert_string_equal(path, "/proc/sys/net/ipv4/ip_forward");
        free(path);
        assert_int_equal(process_sysctl_path("net/ipv4/ping_group_range", &p, &path, &err), 0);
        assert_string_equal(path, "/proc/sys/net/ipv4/ping_group_range");
        free(path);
        assert_int_equal(process_sysctl_path("kernel.shmmax", &p, &path, &err), -EPERM);
        assert_non_null(strstr(err.msg, "IPC namespace"));
        assert_int_equal(process_sysctl_path("kernel.panic", &p, &path, &err), -EPERM);
        assert_non_null(strstr(err.msg, "not namespaced"));
        assert_int_equal(process_sysctl_path("net/../../etc/x", &p, &path, &err), -EINVAL);
        assert_int_equal(process_sysctl_path("net.a b", &p, &path, &err), -EINVAL);
        p.has_netns = false;
        assert_int_equal(process_sysctl_path("net.ipv4.ip_forward", &p, &path, &err), -EPERM);
        p.has_ipcns = true;
        assert_int_equal(process_sysctl_path("fs.mqueue.msg_max", &p, &path, &err), 0);
        free(path);
}

static void test_sync_frames(void **state)
{
        int sp[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_int_equal(sync_send(sp[0], SYNC_ERROR, ENOENT, "boom", 4, -1), 0);
        assert_int_equal(sync_send(sp[0], SYNC_PTY, 0, NULL, 0, fd), 0);
        assert_int_equal(sync_send(sp[0], SYNC_GO, 0, NULL, 0, -1), 0);
        sync_msg m;
        assert_int_equal(sync_recv(sp[1], &m), 1);
        assert_int_equal(m.type, SYNC_ERROR);
        assert_int_equal(m.code, ENOENT);
        assert_string_equal(m.data, "boom");
        assert_int_equal(m.fd, -1);
        sync_msg_done(&m);
        assert_int_equal(sync_recv(sp[1], &m), 1);
        assert_int_equal(m.type, SYNC_PTY);
        assert_true(m.fd >= 0 && m.fd != fd);
        assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
        sync_msg_done(&m);
        /* A frame of another type than expected is a protocol error. */
        assert_int_equal(sync_expect(sp[1], SYNC_READY, &m), -EPROTO);
        close(sp[0]);
        assert_int_equal(sync_recv(sp[1], &m), 0); /* EOF: the peer died */
        assert_int_equal(sync_expect(sp[1], SYNC_READY, &m), -EPIPE);
        close(sp[1]);
        close(fd);
}

/* HOME when the config has none: the passwd entry's home, "/" without one (runc, crun). */
static void test_home_from_passwd(void **state)
{
        (void)state;
        const char *pw = "root:x:0:0:root:/root:/bin/sh\n"
                         "broken line\n"
                         "x:x:12a:1::/bad:/bin/sh\n"
                         "nohome:x:7:7:::/bin/false\n"
                         "app:x:1000:1000:App:/home/app:/bin/sh";
        _cleanup_free_ char *h0 = process_passwd_home(pw, 0);
        _cleanup_free_ char *h1 = process_passwd_home(pw, 1000);
        assert_string_equal(h0, "/root");
        assert_string_equal(h1, "/home/app");
        assert_null(process_passwd_home(pw, 7));
        assert_null(process_passwd_home(pw, 12));
        assert_null(process_passwd_home("", 0));
        char *env[] = { "PATH=/bin", NULL };
        _cleanup_strv_ char **e1 = process_env_with_home(env, "/home/app");
        assert_string_equal(e1[0], "PATH=/bin");
        assert_string_equal(e1[1], "HOME=/home/app");
        assert_null(e1[2]);
        _cleanup_strv_ char **e2 = process_env_with_home(NULL, NULL);
        assert_string_equal(e2[0], "HOME=/");
        char *with[] = { "HOME=/x", NULL };
        assert_null(process_env_with_home(with, "/root"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan_default),
                cmocka_unit_test(test_plan_time_and_cgroup),
                cmocka_unit_test(test_plan_paths),
                cmocka_unit_test(test_plan_errors),
                cmocka_unit_test(test_idmap_format),
                cmocka_unit_test(test_time_offsets),
                cmocka_unit_test(test_caps_masks),
                cmocka_unit_test(test_caps_from_config),
                cmocka_unit_test_setup_teardown(test_find_exec, setup_tmp, teardown_tmp),
                cmocka_unit_test(test_sysctl),
                cmocka_unit_test(test_sync_frames),
                cmocka_unit_test(test_home_from_passwd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
