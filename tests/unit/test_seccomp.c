/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for seccomp: action/arch/flag mapping, profile -> BPF (checked with the BPF
 * interpreter), the ENOSYS stub, the cache, real loads in forked children, notify + listener. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "seccomp-json.h"
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <fcntl.h>
#include <sys/capability.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#define NATIVE AUDIT_ARCH_X86_64
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

static char *tmpdir;

static int setup(void **state)
{
        char t[] = "/tmp/husk-seccomp-test.XXXXXX";
        tmpdir = xstrdup(mkdtemp(t));
        return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        int r = system(cmd);
        free(tmpdir);
        return r == 0 ? 0 : -1;
}

static seccomp_prog *compile_json(const char *json, const char *cache)
{
        config_seccomp *s = test_seccomp_from_json(json);
        assert_non_null(s);
        seccomp_prog *p = NULL;
        husk_error_t err = { 0 };
        int r = seccomp_compile_cache(s, cache, &p, &err);
        if (r < 0)
                print_error("compile: %s\n", err.msg);
        assert_int_equal(r, 0);
        test_seccomp_free(s);
        return p;
}

static int compile_json_err(const char *json, husk_error_t *err)
{
        config_seccomp *s = test_seccomp_from_json(json);
        assert_non_null(s);
        seccomp_prog *p = NULL;
        int r = seccomp_compile_cache(s, NULL, &p, err);
        seccomp_prog_free(p);
        test_seccomp_free(s);
        return r;
}

static uint32_t run(const seccomp_prog *p, int nr, uint64_t a0, uint64_t a1)
{
        uint64_t args[6] = { a0, a1, 0, 0, 0, 0 };
        return seccomp_prog_eval(p, NATIVE, nr, args);
}

static void test_action_mapping(void **state)
{
        uint32_t v = 0;
        assert_int_equal(seccomp_action_value(HUSK_SCMP_ERRNO, false, 0, &v), 0);
        assert_int_equal(v, RET_ERRNO(EPERM));
        assert_int_equal(seccomp_action_value(HUSK_SCMP_ERRNO, true, 38, &v), 0);
        assert_int_equal(v, RET_ERRNO(38));
        assert_int_equal(seccomp_action_value(HUSK_SCMP_TRACE, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_TRACE | EPERM);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_TRACE, true, 7, &v), 0);
        assert_int_equal(v, SECCOMP_RET_TRACE | 7);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_KILL, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_KILL_THREAD);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_KILL_THREAD, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_KILL_THREAD);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_KILL_PROCESS, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_KILL_PROCESS);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_TRAP, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_TRAP);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_ALLOW, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_ALLOW);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_LOG, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_LOG);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_NOTIFY, false, 0, &v), 0);
        assert_int_equal(v, SECCOMP_RET_USER_NOTIF);
        assert_int_equal(seccomp_action_value(SECCOMP_ACT_UNSET, false, 0, &v), -EINVAL);
        assert_int_equal(seccomp_action_value((config_seccomp_action)99, false, 0, &v), -EINVAL);
        assert_int_equal(seccomp_action_value(HUSK_SCMP_ERRNO, true, 0x10000, &v), -ERANGE);
}

static void test_arch_flag_mapping(void **state)
{
        assert_int_equal(seccomp_arch_from_name("SCMP_ARCH_X86_64"), AUDIT_ARCH_X86_64);
        assert_int_equal(seccomp_arch_from_name("SCMP_ARCH_X86"), AUDIT_ARCH_I386);
        assert_int_equal(seccomp_arch_from_name("SCMP_ARCH_AARCH64"), AUDIT_ARCH_AARCH64);
        assert_int_equal(seccomp_arch_from_name("SCMP_ARCH_S390X"), AUDIT_ARCH_S390X);
        assert_int_not_equal(seccomp_arch_from_name("SCMP_ARCH_X32"), 0);
        assert_int_equal(seccomp_arch_from_name("SCMP_ARCH_VAX"), 0);
        assert_int_equal(seccomp_arch_from_name("x86_64"), 0);
        assert_int_equal(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_LOG"), SECCOMP_FILTER_FLAG_LOG);
        assert_int_equal(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_TSYNC"), SECCOMP_FILTER_FLAG_TSYNC);
        assert_int_equal(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
                         SECCOMP_FILTER_FLAG_SPEC_ALLOW);
        assert_int_equal(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"), 1u << 5);
        assert_int_equal(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_NEW_LISTENER"), 0);
}

static void test_rules_errno_and_actions(void **state)
{
        seccomp_prog *p = compile_json(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                "{\"names\":[\"mkdir\",\"no_such_syscall_x\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
                "{\"names\":[\"rmdir\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
                "{\"names\":[\"gettid\"],\"action\":\"SCMP_ACT_TRAP\"},"
                "{\"names\":[\"getpgrp\"],\"action\":\"SCMP_ACT_LOG\"},"
                "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"sync\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":5}]}",
                NULL);
        assert_false(p->notify);
        assert_false(p->cached);
        assert_int_equal(p->flags, 0);
        assert_int_equal(run(p, __NR_mkdir, 0, 0), RET_ERRNO(1));
        assert_int_equal(run(p, __NR_rmdir, 0, 0), RET_ERRNO(EPERM));
        assert_int_equal(run(p, __NR_getppid, 0, 0), SECCOMP_RET_KILL_PROCESS);
        assert_int_equal(run(p, __NR_gettid, 0, 0), SECCOMP_RET_TRAP);
        assert_int_equal(run(p, __NR_getpgrp, 0, 0), SECCOMP_RET_LOG);
        assert_int_equal(run(p, __NR_sync, 0, 0), SECCOMP_RET_TRACE | 5);
        assert_int_equal(run(p, __NR_mkdirat, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run(p, __NR_getpid, 0, 0), SECCOMP_RET_ALLOW);
        /* An arch outside the filter is refused (libseccomp's bad-arch action: kill). */
        assert_int_equal(seccomp_prog_eval(p, AUDIT_ARCH_AARCH64, __NR_getpid, NULL),
                         SECCOMP_RET_KILL_THREAD);
        seccomp_prog_free(p);
}

static void test_arg_operators(void **state)
{
        /* Each operator guards a different syscall; ERRNO(op number) when the condition holds. */
        seccomp_prog *p = compile_json(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                "{\"names\":[\"dup\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":10,\"op\":\"SCMP_CMP_NE\"}]},"
                "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":2,\"args\":[{\"index\":0,\"value\":10,\"op\":\"SCMP_CMP_LT\"}]},"
                "{\"names\":[\"fsync\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":3,\"args\":[{\"index\":0,\"value\":10,\"op\":\"SCMP_CMP_LE\"}]},"
                "{\"names\":[\"fchdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":4,\"args\":[{\"index\":0,\"value\":10,\"op\":\"SCMP_CMP_EQ\"}]},"
                "{\"names\":[\"fdatasync\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5,\"args\":[{\"index\":0,\"value\":10,\"op\":\"SCMP_CMP_GE\"}]},"
                "{\"names\":[\"syncfs\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":6,\"args\":[{\"index\":0,\"value\":10,\"op\":\"SCMP_CMP_GT\"}]},"
                "{\"names\":[\"umask\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":7,\"args\":[{\"index\":0,\"value\":240,\"valueTwo\":16,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
                "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":8,\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]},"
                "{\"names\":[\"tkill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":9,\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}"
                "]}",
                NULL);
        uint32_t allow = SECCOMP_RET_ALLOW;
        assert_int_equal(run(p, __NR_dup, 9, 0), RET_ERRNO(1));
        assert_int_equal(run(p, __NR_dup, 10, 0), allow);
        assert_int_equal(run(p, __NR_close, 9, 0), RET_ERRNO(2));
        assert_int_equal(run(p, __NR_close, 10, 0), allow);
        assert_int_equal(run(p, __NR_fsync, 10, 0), RET_ERRNO(3));
        assert_int_equal(run(p, __NR_fsync, 11, 0), allow);
        assert_int_equal(run(p, __NR_fchdir, 10, 0), RET_ERRNO(4));
        assert_int_equal(run(p, __NR_fchdir, 10 + (1ULL << 32), 0), allow); /* 64-bit compare */
        assert_int_equal(run(p, __NR_fdatasync, 10, 0), RET_ERRNO(5));
        assert_int_equal(run(p, __NR_fdatasync, 9, 0), allow);
        assert_int_equal(run(p, __NR_syncfs, 11, 0), RET_ERRNO(6));
        assert_int_equal(run(p, __NR_syncfs, 10, 0), allow);
        assert_int_equal(run(p, __NR_umask, 0x1f, 0), RET_ERRNO(7));
        assert_int_equal(run(p, __NR_umask, 0x2f, 0), allow);
        /* Different indexes: AND. */
        assert_int_equal(run(p, __NR_kill, 1, 9), RET_ERRNO(8));
        assert_int_equal(run(p, __NR_kill, 1, 15), allow);
        assert_int_equal(run(p, __NR_kill, 2, 9), allow);
        /* Same index twice: one rule each (OR), as runc does. */
        assert_int_equal(run(p, __NR_tkill, 1, 0), RET_ERRNO(9));
        assert_int_equal(run(p, __NR_tkill, 2, 0), RET_ERRNO(9));
        assert_int_equal(run(p, __NR_tkill, 3, 0), allow);
        seccomp_prog_free(p);
}

static void test_errors_and_flags(void **state)
{
        husk_error_t err = { 0 };
        assert_int_equal(compile_json_err("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", &err), -EINVAL);
        assert_non_null(strstr(err.msg, "defaultAction"));
        assert_int_equal(compile_json_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                          "\"architectures\":[\"SCMP_ARCH_VAX\"]}",
                                          &err),
                         -EINVAL);
        assert_non_null(strstr(err.msg, "SCMP_ARCH_VAX"));
        assert_int_equal(compile_json_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                          "\"flags\":[\"SECCOMP_FILTER_FLAG_BOGUS\"]}",
                                          &err),
                         -EINVAL);
        assert_int_equal(compile_json_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                          "{\"names\":[\"dup\"],\"action\":\"SCMP_ACT_ERRNO\","
                                          "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                                          &err),
                         -EINVAL);

        seccomp_prog *p = compile_json(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\","
                "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\",\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
                NULL);
        /* WAIT_KILLABLE_RECV is dropped without a listener (the kernel would refuse it). */
        assert_int_equal(p->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
        assert_false(p->notify);
        seccomp_prog_free(p);
        p = compile_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
                         "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],\"syscalls\":[{\"names\":[\"mkdir\"],"
                         "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                         NULL);
        assert_true(p->notify);
        assert_int_equal(p->flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                           SECCOMP_FILTER_FLAG_TSYNC_ESRCH | (1u << 5));
        assert_int_equal(run(p, __NR_mkdir, 0, 0), SECCOMP_RET_USER_NOTIF);
        seccomp_prog_free(p);
}

static void test_enosys_stub(void **state)
{
        seccomp_prog *p = compile_json(
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\","
                "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":["
                "{\"names\":[\"read\",\"write\",\"exit_group\",\"openat\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}",
                NULL);
        assert_int_equal(run(p, __NR_read, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run(p, __NR_mkdir, 0, 0), RET_ERRNO(EPERM)); /* known, not listed */
        assert_int_equal(run(p, 435 /* clone3 */, 0, 0), RET_ERRNO(ENOSYS));
        assert_int_equal(run(p, 436, 0, 0), RET_ERRNO(ENOSYS)); /* newer than the profile */
        assert_int_equal(run(p, 1000, 0, 0), RET_ERRNO(ENOSYS));
        /* x32 calls are left to libseccomp (its x32 rules), not to the stub. */
        assert_int_equal(run(p, 0x40000000 | 0 /* x32 read */, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run(p, 0x40000000 | 83 /* x32 mkdir */, 0, 0), RET_ERRNO(EPERM));
        /* i386: read is 3; 500 is past the highest listed number (clone3 = 435). */
        assert_int_equal(seccomp_prog_eval(p, AUDIT_ARCH_I386, 3, NULL), SECCOMP_RET_ALLOW);
        assert_int_equal(seccomp_prog_eval(p, AUDIT_ARCH_I386, 39 /* mkdir */, NULL),
                         RET_ERRNO(EPERM));
        assert_int_equal(seccomp_prog_eval(p, AUDIT_ARCH_I386, 500, NULL), RET_ERRNO(ENOSYS));
        seccomp_prog_free(p);

        /* A kill default keeps its meaning for unknown syscalls: no stub. */
        p = compile_json("{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"syscalls\":["
                         "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                         NULL);
        assert_int_equal(run(p, 1000, 0, 0), SECCOMP_RET_KILL_PROCESS);
        assert_int_equal(run(p, __NR_read, 0, 0), SECCOMP_RET_ALLOW);
        seccomp_prog_free(p);
}

static const char *const cache_profile =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}";

static void test_cache_key(void **state)
{
        config_seccomp *a = test_seccomp_from_json(cache_profile);
        config_seccomp *b = test_seccomp_from_json(cache_profile);
        char ka[65], kb[65];
        seccomp_cache_key(a, ka);
        seccomp_cache_key(b, kb);
        assert_int_equal(strlen(ka), 64);
        assert_string_equal(ka, kb);
        b->listener_path = "/run/agent.sock"; /* does not change the program */
        seccomp_cache_key(b, kb);
        assert_string_equal(ka, kb);
        b->listener_path = NULL;
        b->syscalls[0].errno_ret = 2;
        seccomp_cache_key(b, kb);
        assert_string_not_equal(ka, kb);
        b->syscalls[0].errno_ret = 1;
        b->syscalls[0].names[0][0] = 'r'; /* "rkdir" */
        seccomp_cache_key(b, kb);
        assert_string_not_equal(ka, kb);
        test_seccomp_free(a);
        test_seccomp_free(b);
}

static void test_cache_roundtrip_and_corruption(void **state)
{
        _cleanup_free_ char *dir = xasprintf("%s/cache", tmpdir);
        seccomp_prog *p1 = compile_json(cache_profile, dir);
        assert_false(p1->cached);
        seccomp_prog *p2 = compile_json(cache_profile, dir);
        assert_true(p2->cached); /* a repeated start does not recompile */
        assert_int_equal(p1->len, p2->len);
        assert_memory_equal(p1->insns, p2->insns, p1->len * sizeof(struct sock_filter));

        config_seccomp *s = test_seccomp_from_json(cache_profile);
        char key[65];
        seccomp_cache_key(s, key);
        test_seccomp_free(s);
        _cleanup_free_ char *file = xasprintf("%s/%s.bpf", dir, key);
        struct stat st;
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* Truncated: size no longer header + n * 8. */
        assert_int_equal(truncate(file, st.st_size - 3), 0);
        seccomp_prog *p3 = compile_json(cache_profile, dir);
        assert_false(p3->cached);
        assert_memory_equal(p1->insns, p3->insns, p1->len * sizeof(struct sock_filter));
        seccomp_prog *p4 = compile_json(cache_profile, dir); /* rewritten by p3 */
        assert_true(p4->cached);

        /* Bad magic. */
        int fd = open(file, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "XXXX", 4, 0), 4);
        close(fd);
        seccomp_prog *p5 = compile_json(cache_profile, dir);
        assert_false(p5->cached);

        /* A cache dir others can write to is not trusted. */
        assert_int_equal(chmod(dir, 0777), 0);
        seccomp_prog *p6 = compile_json(cache_profile, dir);
        assert_false(p6->cached);
        assert_int_equal(chmod(dir, 0700), 0);
        seccomp_prog *p7 = compile_json(cache_profile, dir);
        assert_true(p7->cached);

        seccomp_prog *ps[] = { p1, p2, p3, p4, p5, p6, p7 };
        for (size_t i = 0; i < ARRAY_SIZE(ps); i++)
                seccomp_prog_free(ps[i]);
}

/* Fork; the child loads p (after no_new_privs) and reports mkdir's errno as its exit status. */
static int child_status_after_load(const seccomp_prog *p, long nr)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                husk_error_t err = { 0 };
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_prog_load(p, NULL, &err) < 0)
                        _exit(200);
                long r = syscall(nr, "/nonexistent-husk-dir/x", 0700);
                _exit(r < 0 ? errno : 0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static void test_load_real(void **state)
{
        seccomp_prog *p = compile_json(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
                "{\"names\":[\"rmdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},"
                "{\"names\":[\"link\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                NULL);
        int st = child_status_after_load(p, __NR_mkdir);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), EPERM);
        st = child_status_after_load(p, __NR_rmdir);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), ENOSYS);
        st = child_status_after_load(p, __NR_mkdirat); /* not filtered: the real ENOENT */
        assert_true(WIFEXITED(st));
        st = child_status_after_load(p, __NR_link);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
        seccomp_prog_free(p);
}

/* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses the filter: the process
 * module must load before dropping capabilities when noNewPrivileges is false. */
static void test_load_needs_nnp_or_sys_admin(void **state)
{
        seccomp_prog *p = compile_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                husk_error_t err = { 0 };
                cap_value_t admin = CAP_SYS_ADMIN;
                cap_t c = cap_get_proc();
                if (!c || cap_set_flag(c, CAP_EFFECTIVE, 1, &admin, CAP_CLEAR) < 0 ||
                    cap_set_proc(c) < 0)
                        _exit(200);
                int r = seccomp_prog_load(p, NULL, &err);
                _exit(r == -EACCES && strstr(err.msg, "load filter") ? 0 : 1);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        seccomp_prog_free(p);
}

static int recv_fd(int sock, char *buf, size_t len)
{
        union {
                char b[CMSG_SPACE(sizeof(int))];
                struct cmsghdr a;
        } c;
        struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
                             .msg_controllen = sizeof(c.b) };
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        if (!h || h->cmsg_type != SCM_RIGHTS)
                return -1;
        int fd;
        memcpy(&fd, CMSG_DATA(h), sizeof(fd));
        return fd;
}

/* A notify rule on mkdir: the child sends the listener fd to our socket through
 * seccomp_send_listener_md; we answer its mkdir with EXDEV. */
static void test_notify_listener(void **state)
{
        seccomp_prog *p = compile_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                       "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                                       NULL);
        _cleanup_free_ char *path = xasprintf("%s/agent.sock", tmpdir);
        int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(ls, 1), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                husk_error_t err = { 0 };
                int nfd = -1;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_prog_load(p, &nfd, &err) < 0)
                        _exit(200);
                if (nfd < 0 || !(fcntl(nfd, F_GETFD) & FD_CLOEXEC))
                        _exit(201);
                _cleanup_free_ char *st = xasprintf("{\"ociVersion\":\"1.2.0\",\"id\":\"c1\","
                                                    "\"status\":\"creating\",\"pid\":%d,"
                                                    "\"bundle\":\"/b\"}",
                                                    (int)getpid());
                if (seccomp_send_listener_md(path, "meta \"x\"", nfd, st, &err) < 0)
                        _exit(202);
                close(nfd);
                long r = syscall(__NR_mkdir, "/nonexistent-husk-dir/x", 0700);
                _exit(r < 0 ? errno : 0);
        }
        int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        assert_true(c >= 0);
        char msg[4096];
        int nfd = recv_fd(c, msg, sizeof(msg));
        assert_true(nfd >= 0);
        _cleanup_free_ char *pidtxt = xasprintf("\"pid\":%d,", (int)pid);
        assert_non_null(strstr(msg, "\"fds\":[\"seccompFd\"]"));
        assert_non_null(strstr(msg, pidtxt));
        assert_non_null(strstr(msg, "\"metadata\":\"meta \\\"x\\\"\""));
        assert_non_null(strstr(msg, "\"state\":{\"ociVersion\":\"1.2.0\",\"id\":\"c1\""));

        struct seccomp_notif req;
        memset(&req, 0, sizeof(req));
        assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
        assert_int_equal(req.data.nr, __NR_mkdir);
        assert_int_equal(req.pid, pid);
        struct seccomp_notif_resp resp = { .id = req.id, .error = -EXDEV };
        assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), EXDEV);
        close(nfd);
        close(c);
        close(ls);
        seccomp_prog_free(p);
}

static void test_listener_message(void **state)
{
        _cleanup_free_ char *m = seccomp_listener_message(
                NULL, "{\"ociVersion\":\"1.2.0\",\"annotations\":{\"pid\":\"7\"},\"id\":\"a\",\"pid\": 42}");
        assert_non_null(strstr(m, "\"pid\":42,"));
        assert_null(strstr(m, "metadata"));
        husk_error_t err = { 0 };
        _cleanup_free_ char *nowhere = xasprintf("%s/none.sock", tmpdir);
        assert_int_equal(seccomp_send_listener(nowhere, 0, "{}", &err), -ENOENT);
        assert_non_null(strstr(err.msg, "none.sock"));
}

static void test_default_profile(void **state)
{
        _cleanup_free_ char *json = seccomp_default_profile_json();
        assert_non_null(json);
        seccomp_prog *p = compile_json(json, NULL);
        assert_false(p->notify);
        uint64_t none[6] = { 0 };
        assert_int_equal(run(p, __NR_read, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run(p, __NR_execve, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run(p, __NR_clone, 0x11 /* SIGCHLD */, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run(p, __NR_clone, 0x10000000 | 0x11 /* CLONE_NEWUSER */, 0),
                         RET_ERRNO(EPERM));
        assert_int_equal(run(p, __NR_clone3, 0, 0), RET_ERRNO(ENOSYS));
        assert_int_equal(run(p, __NR_personality, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(run(p, __NR_personality, 0x0400000 /* READ_IMPLIES_EXEC */, 0),
                         RET_ERRNO(EPERM));
        const long denied[] = { __NR_unshare, __NR_setns, __NR_mount, __NR_umount2,
                                __NR_pivot_root, __NR_keyctl, __NR_add_key, __NR_kexec_load,
                                __NR_init_module, __NR_finit_module, __NR_delete_module,
                                __NR_bpf, __NR_perf_event_open, __NR_ptrace, __NR_reboot,
                                __NR_open_by_handle_at, __NR_userfaultfd, __NR_swapon,
                                __NR_settimeofday, __NR_io_uring_setup };
        for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
                assert_int_equal(seccomp_prog_eval(p, NATIVE, (int)denied[i], none),
                                 RET_ERRNO(EPERM));
        /* Syscalls newer than the profile: ENOSYS, so glibc falls back. */
        assert_int_equal(run(p, 600, 0, 0), RET_ERRNO(ENOSYS));
        /* 32-bit x86 programs work too: i386 read is 3. */
        assert_int_equal(seccomp_prog_eval(p, AUDIT_ARCH_I386, 3, none), SECCOMP_RET_ALLOW);
        seccomp_prog_free(p);
}

int main(void)
{
#if !defined(__x86_64__)
        /* The expectations below use x86_64 syscall numbers and the x86/x32 sub-arches. */
        puts("1..0 # SKIP seccomp unit tests are written for x86_64");
        return 0;
#endif
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_action_mapping),
                cmocka_unit_test(test_arch_flag_mapping),
                cmocka_unit_test(test_rules_errno_and_actions),
                cmocka_unit_test(test_arg_operators),
                cmocka_unit_test(test_errors_and_flags),
                cmocka_unit_test(test_enosys_stub),
                cmocka_unit_test(test_cache_key),
                cmocka_unit_test(test_cache_roundtrip_and_corruption),
                cmocka_unit_test(test_load_real),
                cmocka_unit_test(test_load_needs_nnp_or_sys_admin),
                cmocka_unit_test(test_notify_listener),
                cmocka_unit_test(test_listener_message),
                cmocka_unit_test(test_default_profile),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
