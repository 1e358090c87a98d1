/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the cgroup module's plan functions: path resolution, mountinfo parsing, resource
 * conversions, device rule lists, v1 rule lines and the eBPF device program (run through a tiny
 * interpreter of the instructions it uses). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cgroup/cgroup_internal.h"
#include "util/util.h"

#include <string.h>

/* ---------------------------------------------------------------- paths */

static void check_path(const char *in, const char *want)
{
        husk_error_t err = { 0 };
        char *out = NULL;
        assert_int_equal(cgroup_path_resolve(in, "c1", &out, &err), 0);
        assert_string_equal(out, want);
        free(out);
}

static void check_path_err(const char *in, const char *msg_part)
{
        husk_error_t err = { 0 };
        char *out = NULL;
        assert_true(cgroup_path_resolve(in, "c1", &out, &err) < 0);
        assert_null(out);
        assert_non_null(strstr(err.msg, msg_part));
}

static void test_path_resolve(void **state)
{
        check_path(NULL, "/husk/c1");
        check_path("", "/husk/c1");
        check_path("/libpod_parent/libpod-abc", "/libpod_parent/libpod-abc");
        check_path("/default/c1", "/default/c1");
        check_path("mygroup/c1", "/husk/mygroup/c1");
        check_path("//a///b/./c/", "/a/b/c");
        check_path("/a:b", "/a:b"); /* a colon alone is a plain cgroupfs name */
        check_path_err("system.slice:husk:c1", "systemd");
        check_path_err("/a/../../etc", "..");
        check_path_err("..", "..");
        check_path_err("/", "root cgroup");
        check_path_err("/./", "root cgroup");
        check_path_err("/a\nb", "control character");
}

/* ---------------------------------------------------------------- mountinfo */

static const char hybrid_mountinfo[] =
        "22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "32 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
        "rw,cpu,cpuacct,clone_children\n"
        "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "35 30 0:31 / /mnt/memory\\040copy rw,relatime - cgroup cgroup rw,memory\n"
        "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
        "rw,xattr,release_agent=/x,name=systemd\n"
        "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
        "41 30 0:38 / /odd\\040dir rw - cgroup cgroup rw,pids\n";

static void test_parse_mountinfo(void **state)
{
        cg_mount *m = NULL;
        size_t n = 0;
        assert_int_equal(cgroup_parse_mountinfo(hybrid_mountinfo, &m, &n), 0);
        assert_int_equal(n, 6);
        assert_string_equal(m[0].mountpoint, "/sys/fs/cgroup/cpu");
        assert_string_equal(m[0].controllers, "cpu");
        assert_string_equal(m[1].controllers, "cpu,cpuacct");
        assert_string_equal(m[1].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
        assert_string_equal(m[2].controllers, "memory"); /* the second memory mount is a dup */
        assert_string_equal(m[3].controllers, "name=systemd");
        assert_true(m[4].unified);
        assert_string_equal(m[4].controllers, "");
        assert_string_equal(m[5].mountpoint, "/odd dir");
        assert_false(m[5].unified);
        cgroup_mounts_free(m, n);
}

static void test_list_has(void **state)
{
        assert_true(cgroup_list_has("cpu,cpuacct", "cpu"));
        assert_true(cgroup_list_has("cpu,cpuacct", "cpuacct"));
        assert_false(cgroup_list_has("cpuacct", "cpu"));
        assert_false(cgroup_list_has("cpuset", "cpu"));
        assert_false(cgroup_list_has("", "cpu"));
}

/* ---------------------------------------------------------------- conversions */

static void test_shares_to_weight(void **state)
{
        assert_int_equal(cgroup_shares_to_weight(0), 0);
        assert_int_equal(cgroup_shares_to_weight(2), 1);
        assert_int_equal(cgroup_shares_to_weight(1024), 39);
        assert_int_equal(cgroup_shares_to_weight(512), 20);
        assert_int_equal(cgroup_shares_to_weight(262144), 10000);
        assert_int_equal(cgroup_shares_to_weight(1000000), 10000);
        assert_int_equal(cgroup_blkio_to_io_weight(10), 1);
        assert_int_equal(cgroup_blkio_to_io_weight(1000), 10000);
        assert_int_equal(cgroup_blkio_to_io_weight(500), 4950);
}

static void test_swap_to_v2(void **state)
{
        husk_error_t err = { 0 };
        int64_t v = 7;
        bool set = false;
        assert_int_equal(cgroup_swap_to_v2(true, 256, 512, &set, &v, &err), 0);
        assert_true(set);
        assert_int_equal(v, 256);
        assert_int_equal(cgroup_swap_to_v2(true, 256, 256, &set, &v, &err), 0);
        assert_true(set); /* swap == limit: no swap at all, written as 0 */
        assert_int_equal(v, 0);
        assert_int_equal(cgroup_swap_to_v2(true, 256, -1, &set, &v, &err), 0);
        assert_true(set);
        assert_int_equal(v, -1);
        assert_int_equal(cgroup_swap_to_v2(true, -1, 0, &set, &v, &err), 0);
        assert_true(set);
        assert_int_equal(v, -1);
        assert_int_equal(cgroup_swap_to_v2(true, 256, 0, &set, &v, &err), 0);
        assert_false(set);
        v = 7;
        assert_true(cgroup_swap_to_v2(true, 512, 256, &set, &v, &err) < 0);
        assert_true(cgroup_swap_to_v2(false, 0, 256, &set, &v, &err) < 0);
        assert_non_null(strstr(err.msg, "memory limit"));
        assert_int_equal(v, 7);
}

static void test_cpu_max(void **state)
{
        config_cpu c = { 0 };
        char *s;
        c.has_quota = c.has_period = true;
        c.quota = 50000;
        c.period = 100000;
        assert_string_equal((s = cgroup_cpu_max(&c, NULL)), "50000 100000");
        free(s);
        c.quota = -1;
        assert_string_equal((s = cgroup_cpu_max(&c, NULL)), "max 100000");
        free(s);
        c.has_period = false;
        c.quota = 20000;
        assert_string_equal((s = cgroup_cpu_max(&c, "max")), "20000");
        free(s);
        c.has_quota = false;
        c.has_period = true;
        c.period = 50000;
        assert_string_equal((s = cgroup_cpu_max(&c, "30000")), "30000 50000");
        free(s);
}

/* ---------------------------------------------------------------- devices */

static const config_device_rule deny_all = { false, 'a', -1, -1, "rwm" };
static const config_device_rule allow_all = { true, 'a', -1, -1, "rwm" };

static bool has_rule(const config_device_rule *v, size_t n, bool allow, char type, int64_t maj,
                     int64_t min, const char *acc)
{
        for (size_t i = 0; i < n; i++)
                if (v[i].allow == allow && v[i].type == type && v[i].major == maj &&
                    v[i].minor == min && strcmp(v[i].access, acc) == 0)
                        return true;
        return false;
}

static void test_device_rules_podman(void **state)
{
        /* podman sends a deny-all (and an allow rule per --device): the standard devices must
         * still work; a linux.devices entry alone is not allowed under the deny-all (runc, crun) */
        config_device_rule *v = NULL;
        size_t n = 0;
        config_device_rule extra = { true, 'c', 4, 1, "rwm" };
        config_device_rule podman[] = { deny_all, { true, 'c', 4, 1, "rwm" } };
        cgroup_device_rules(&deny_all, 1, &extra, 1, &v, &n);
        assert_false(has_rule(v, n, true, 'c', 4, 1, "rwm"));
        free(v);
        cgroup_device_rules(podman, 2, &extra, 1, &v, &n);
        assert_true(n >= 12);
        assert_false(v[0].allow);
        assert_int_equal(v[0].type, 'a');
        for (size_t i = 1; i < n; i++)
                assert_int_not_equal(v[i].type, 'a'); /* the config's deny-all became the reset */
        assert_true(has_rule(v, n, true, 'c', 1, 3, "rwm"));
        assert_true(has_rule(v, n, true, 'c', 1, 9, "rwm"));
        assert_true(has_rule(v, n, true, 'c', 5, 2, "rwm"));
        assert_true(has_rule(v, n, true, 'c', 136, -1, "rwm"));
        assert_true(has_rule(v, n, true, 'c', 4, 1, "rwm"));
        assert_int_equal(v[1].major, 4); /* the config's rules first, the defaults last */
        free(v);
}

static void test_device_rules_privileged(void **state)
{
        config_device_rule *v = NULL;
        size_t n = 0;
        cgroup_device_rules(&allow_all, 1, NULL, 0, &v, &n);
        assert_true(v[0].allow);
        assert_int_equal(v[0].type, 'a');
        free(v);
        cgroup_device_rules(NULL, 0, NULL, 0, &v, &n);
        assert_false(v[0].allow); /* no rules at all: still deny by default */
        assert_true(has_rule(v, n, true, 'c', 1, 5, "rwm"));
        free(v);
}

static void test_limit_asked(void **state)
{
        config_resources r = { 0 };
        assert_null(cgroup_limit_asked(NULL));
        assert_null(cgroup_limit_asked(&r));
        /* device rules are not limits a rootless run must refuse (runc ignores them) */
        config_device_rule d = { .allow = false, .type = 'a', .major = -1, .minor = -1 };
        r.devices = &d;
        r.n_devices = 1;
        r.has_pids = true;
        r.pids_limit = 0; /* unlimited */
        r.has_memory = true;
        assert_null(cgroup_limit_asked(&r));
        r.pids_limit = 100;
        assert_string_equal(cgroup_limit_asked(&r), ".linux.resources.pids.limit");
        r.memory.has_limit = true;
        assert_string_equal(cgroup_limit_asked(&r), ".linux.resources.memory");
        config_resources c = { .has_cpu = true };
        assert_null(cgroup_limit_asked(&c));
        c.cpu.has_shares = true;
        assert_string_equal(cgroup_limit_asked(&c), ".linux.resources.cpu");
}

static void test_devices_to_rules(void **state)
{
        config_device d[3] = { { .type = 'c', .major = 10, .minor = 229 },
                               { .type = 'p', .major = 0, .minor = 0 },
                               { .type = 'b', .major = 8, .minor = 0 } };
        config_device_rule *v = NULL;
        size_t n = 0;
        cgroup_devices_to_rules(d, 3, &v, &n);
        assert_int_equal(n, 2); /* fifos need no device rule */
        assert_true(has_rule(v, n, true, 'c', 10, 229, "rwm"));
        assert_true(has_rule(v, n, true, 'b', 8, 0, "rwm"));
        free(v);
}

static void test_rule_v1(void **state)
{
        char buf[64];
        config_device_rule r = { true, 'c', 136, -1, "rw" };
        cgroup_device_rule_v1(&r, buf, sizeof(buf));
        assert_string_equal(buf, "c 136:* rw");
        cgroup_device_rule_v1(&deny_all, buf, sizeof(buf));
        assert_string_equal(buf, "a");
        r = (config_device_rule){ false, 'b', 8, 0, "m" };
        cgroup_device_rule_v1(&r, buf, sizeof(buf));
        assert_string_equal(buf, "b 8:0 m");
}

/* A tiny interpreter for the instructions cgroup_device_bpf emits. Returns the verdict, or -1 on
 * an instruction it does not know (a test failure). */
static int run_bpf(const struct bpf_insn *p, size_t n, char type, uint32_t maj, uint32_t min,
                   const char *acc)
{
        uint32_t access = 0;
        for (const char *a = acc; *a; a++)
                access |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE
                                                                     : BPF_DEVCG_ACC_MKNOD;
        uint32_t ctx[3] = { (access << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                            maj, min };
        uint64_t reg[11] = { 0 };
        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint32_t d32 = (uint32_t)reg[i->dst_reg];
                switch (i->code) {
                case BPF_LDX | BPF_MEM | BPF_W:
                        assert_int_equal(i->src_reg, BPF_REG_1);
                        reg[i->dst_reg] = ctx[i->off / 4];
                        break;
                case BPF_ALU | BPF_MOV | BPF_X:
                        reg[i->dst_reg] = (uint32_t)reg[i->src_reg];
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        reg[i->dst_reg] = d32 >> i->imm;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        reg[i->dst_reg] = d32 & (uint32_t)i->imm;
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_K:
                        reg[i->dst_reg] = (uint64_t)(int64_t)i->imm;
                        break;
                case BPF_JMP32 | BPF_JNE | BPF_K:
                        if (d32 != (uint32_t)i->imm)
                                pc += (size_t)i->off;
                        break;
                case BPF_JMP32 | BPF_JEQ | BPF_K:
                        if (d32 == (uint32_t)i->imm)
                                pc += (size_t)i->off;
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (int)reg[0];
                default:
                        return -1;
                }
                assert_true(pc + 1 <= n);
        }
        return -1;
}

static void test_bpf_program(void **state)
{
        config_device_rule cfg[] = {
                { false, 'a', -1, -1, "rwm" },
                { true, 'b', 8, -1, "r" },   /* read-only access to sd* */
                { false, 'c', 1, 9, "w" },   /* no writes to urandom */
                { true, 'c', 10, 229, "rwm" },
        };
        config_device_rule *v = NULL;
        size_t n = 0;
        cgroup_device_rules(cfg, ARRAY_SIZE(cfg), NULL, 0, &v, &n);
        /* deny w on 1:9 comes before the default allow of 1:9: the later allow wins again (as
         * with runc, defaults are appended) */
        struct bpf_insn *p = NULL;
        size_t np = 0;
        cgroup_device_bpf(v, n, &p, &np);
        assert_int_equal(run_bpf(p, np, 'c', 1, 3, "rw"), 1);
        assert_int_equal(run_bpf(p, np, 'c', 1, 3, "m"), 1);
        assert_int_equal(run_bpf(p, np, 'c', 136, 7, "rw"), 1);
        assert_int_equal(run_bpf(p, np, 'c', 10, 229, "rw"), 1);
        assert_int_equal(run_bpf(p, np, 'b', 8, 3, "r"), 1);
        assert_int_equal(run_bpf(p, np, 'b', 8, 3, "rw"), 0);
        assert_int_equal(run_bpf(p, np, 'b', 8, 3, "w"), 0);
        assert_int_equal(run_bpf(p, np, 'b', 8, 3, "m"), 1); /* default: mknod of any block dev */
        assert_int_equal(run_bpf(p, np, 'b', 259, 0, "r"), 0);
        assert_int_equal(run_bpf(p, np, 'c', 4, 1, "r"), 0);
        assert_int_equal(run_bpf(p, np, 'c', 1, 2, "w"), 0);
        assert_int_equal(run_bpf(p, np, 'c', 1, 9, "rw"), 1);
        free(p);
        free(v);

        /* a deny rule after the allows: any overlapping access is refused */
        config_device_rule late[] = { { true, 'a', -1, -1, "rwm" }, { false, 'c', 1, 3, "w" } };
        p = NULL;
        cgroup_device_bpf(late, 2, &p, &np);
        assert_int_equal(run_bpf(p, np, 'c', 1, 3, "r"), 1);
        assert_int_equal(run_bpf(p, np, 'c', 1, 3, "rw"), 0);
        assert_int_equal(run_bpf(p, np, 'c', 1, 4, "rw"), 1);
        assert_int_equal(run_bpf(p, np, 'b', 1, 3, "w"), 1);
        free(p);

        /* major numbers above INT32_MAX compare as unsigned 32-bit */
        config_device_rule big[] = { { false, 'a', -1, -1, "rwm" },
                                     { true, 'c', 4000000000LL, 1, "rwm" } };
        p = NULL;
        cgroup_device_bpf(big, 2, &p, &np);
        assert_int_equal(run_bpf(p, np, 'c', 4000000000u, 1, "r"), 1);
        assert_int_equal(run_bpf(p, np, 'c', 4000000000u, 2, "r"), 0);
        free(p);
}

/* issue 16: a configured deny wins over the allow rule of a linux.devices entry, on both drivers
 * (v1 removes only exact-match exceptions, so the allow itself loses the denied letters). */
static void test_device_rules_deny_wins(void **state)
{
        config_device_rule extra = { true, 'c', 1, 11, "rwm" }; /* /dev/kmsg in linux.devices */
        config_device_rule *v = NULL;
        size_t n = 0;
        struct bpf_insn *p = NULL;
        size_t np = 0;

        cgroup_device_rules(NULL, 0, &extra, 1, &v, &n); /* no rules: the entry is usable */
        assert_true(has_rule(v, n, true, 'c', 1, 11, "rwm"));
        cgroup_device_bpf(v, n, &p, &np);
        assert_int_equal(run_bpf(p, np, 'c', 1, 11, "w"), 1);
        free(p);
        free(v);

        config_device_rule exact[] = { { false, 'c', 1, 11, "w" } };
        cgroup_device_rules(exact, 1, &extra, 1, &v, &n);
        assert_true(has_rule(v, n, true, 'c', 1, 11, "rm"));
        assert_false(has_rule(v, n, true, 'c', 1, 11, "rwm"));
        cgroup_device_bpf(v, n, &p, &np);
        assert_int_equal(run_bpf(p, np, 'c', 1, 11, "w"), 0);
        assert_int_equal(run_bpf(p, np, 'c', 1, 11, "r"), 1);
        free(p);
        free(v);

        config_device_rule wide[] = { { false, 'c', -1, -1, "rwm" } };
        cgroup_device_rules(wide, 1, &extra, 1, &v, &n);
        for (size_t i = 0; i < n; i++)
                assert_false(v[i].allow && v[i].major == 1 && v[i].minor == 11);
        cgroup_device_bpf(v, n, &p, &np);
        assert_int_equal(run_bpf(p, np, 'c', 1, 11, "w"), 0);
        assert_int_equal(run_bpf(p, np, 'c', 1, 3, "rw"), 1); /* defaults still come last */
        free(p);
        free(v);

        /* a deny-all reset drops it entirely */
        cgroup_device_rules(&deny_all, 1, &extra, 1, &v, &n);
        cgroup_device_bpf(v, n, &p, &np);
        assert_int_equal(run_bpf(p, np, 'c', 1, 11, "w"), 0);
        free(p);
        free(v);
}

static void test_device_rules_v1_hole(void **state)
{
        husk_error_t err = { 0 };
        config_device_rule *v = NULL;
        size_t n = 0;
        /* deny 1:11 under an allow of every char device: v1 cannot express it, refused */
        config_device_rule hole[] = { deny_all, { true, 'c', -1, -1, "rwm" },
                                      { false, 'c', 1, 11, "w" } };
        cgroup_device_rules(hole, ARRAY_SIZE(hole), NULL, 0, &v, &n);
        assert_true(cgroup_device_rules_check_v1(v, n, &err) < 0);
        assert_non_null(strstr(err.msg, "c 1:11 w"));
        free(v);
        /* the same deny in allow-all mode is a plain v1 deny exception */
        config_device_rule priv[] = { allow_all, { false, 'c', 1, 11, "w" } };
        cgroup_device_rules(priv, ARRAY_SIZE(priv), NULL, 0, &v, &n);
        assert_int_equal(cgroup_device_rules_check_v1(v, n, &err), 0);
        free(v);
        /* no overlap in access: fine */
        config_device_rule mk[] = { deny_all, { true, 'c', -1, -1, "m" },
                                    { false, 'c', 1, 11, "w" } };
        cgroup_device_rules(mk, ARRAY_SIZE(mk), NULL, 0, &v, &n);
        assert_int_equal(cgroup_device_rules_check_v1(v, n, &err), 0);
        free(v);
        /* podman's usual list: fine */
        config_device_rule pod[] = { deny_all, { true, 'c', 10, 229, "rwm" } };
        cgroup_device_rules(pod, ARRAY_SIZE(pod), NULL, 0, &v, &n);
        assert_int_equal(cgroup_device_rules_check_v1(v, n, &err), 0);
        free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_resolve),
                cmocka_unit_test(test_parse_mountinfo),
                cmocka_unit_test(test_list_has),
                cmocka_unit_test(test_shares_to_weight),
                cmocka_unit_test(test_swap_to_v2),
                cmocka_unit_test(test_cpu_max),
                cmocka_unit_test(test_device_rules_podman),
                cmocka_unit_test(test_device_rules_privileged),
                cmocka_unit_test(test_devices_to_rules),
                cmocka_unit_test(test_limit_asked),
                cmocka_unit_test(test_rule_v1),
                cmocka_unit_test(test_bpf_program),
                cmocka_unit_test(test_device_rules_deny_wins),
                cmocka_unit_test(test_device_rules_v1_hole),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
