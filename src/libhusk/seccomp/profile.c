/* SPDX-License-Identifier: Apache-2.0 */
/* The default seccomp profile that `husk spec` writes. Deny by default (EPERM), allow the
 * ordinary system calls of unprivileged programs, and leave out what lets a container reach the
 * host kernel's global state: module loading (init_module, finit_module, delete_module), kexec,
 * bpf, perf_event_open, mount/umount/pivot_root, new namespaces (unshare, setns, namespace flags
 * of clone), the kernel keyring (keyctl, add_key, request_key), clock and time setting, swap,
 * reboot, quotactl, acct, ptrace and process_vm_*, userfaultfd, open_by_handle_at (the
 * "shocker" escape), io_uring, syslog, iopl/ioperm. clone3 answers ENOSYS so that glibc falls back
 * to clone, whose flags this profile can inspect (clone3 passes them in memory). */
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <seccomp.h>
#include <string.h>

static const char *const allowed[] = {
        "accept", "accept4", "access", "alarm", "arch_prctl", "arm_fadvise64_64",
        "arm_sync_file_range", "bind", "breakpoint", "brk", "cacheflush", "capget", "capset",
        "chdir", "chmod", "chown", "chown32", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
        "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
        "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
        "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown",
        "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
        "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
        "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv",
        "futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
        "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
        "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
        "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
        "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
        "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
        "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
        "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "ioprio_get",
        "ioprio_set", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
        "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
        "lstat64", "madvise", "membarrier", "memfd_create", "mincore", "mkdir", "mkdirat",
        "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
        "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
        "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget",
        "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
        "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
        "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
        "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
        "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
        "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
        "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
        "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
        "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
        "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
        "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
        "set_robust_list", "set_thread_area", "set_tid_address", "set_tls", "setfsgid",
        "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
        "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
        "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
        "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
        "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
        "socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
        "statx", "symlink", "symlinkat", "sync", "sync_file_range", "sync_file_range2", "syncfs",
        "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
        "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
        "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
        "waitid", "waitpid", "write", "writev",
};

/* personality(2) values that only change the reported kernel or query: PER_LINUX, PER_LINUX32,
 * UNAME26, PER_LINUX32|UNAME26, and 0xffffffff (query). Others (e.g. READ_IMPLIES_EXEC,
 * ADDR_NO_RANDOMIZE) weaken the process's hardening. */
static const unsigned long personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* clone(2) namespace flags: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. Allowed
 * only when none is set. (CLONE_NEWTIME shares its bit with the exit signal in clone(2) and is
 * only accepted by clone3 and unshare, both denied here.) */
#define CLONE_NS_MASK 0x7E020000UL

struct arch_names {
        uint32_t native;
        const char *list;
};

static const char *arch_list(void)
{
        static const struct arch_names table[] = {
                { SCMP_ARCH_X86_64, "\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"" },
                { SCMP_ARCH_AARCH64, "\"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_ARM\"" },
                { SCMP_ARCH_PPC64LE, "\"SCMP_ARCH_PPC64LE\"" },
                { SCMP_ARCH_S390X, "\"SCMP_ARCH_S390X\", \"SCMP_ARCH_S390\"" },
                { SCMP_ARCH_RISCV64, "\"SCMP_ARCH_RISCV64\"" },
                { SCMP_ARCH_X86, "\"SCMP_ARCH_X86\"" },
                { SCMP_ARCH_ARM, "\"SCMP_ARCH_ARM\"" },
        };
        uint32_t native = seccomp_arch_native();
        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                if (table[i].native == native)
                        return table[i].list;
        return NULL;
}

char *seccomp_default_profile_json(void)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort(); /* out of memory */
        uint32_t native = seccomp_arch_native();
        /* On s390 the clone flags are the second argument. */
        int clone_flags_idx = (native == SCMP_ARCH_S390X || native == SCMP_ARCH_S390) ? 1 : 0;
        const char *arches = arch_list();
        fputs("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"defaultErrnoRet\": 1,\n", f);
        if (arches)
                fprintf(f, "  \"architectures\": [ %s ],\n", arches);
        fputs("  \"syscalls\": [\n    {\n      \"names\": [", f);
        for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
                fprintf(f, "%s\n        \"%s\"", i ? "," : "", allowed[i]);
        fputs("\n      ],\n      \"action\": \"SCMP_ACT_ALLOW\"\n    },\n", f);
        for (size_t i = 0; i < ARRAY_SIZE(personalities); i++)
                fprintf(f,
                        "    { \"names\": [ \"personality\" ], \"action\": \"SCMP_ACT_ALLOW\", "
                        "\"args\": [ { \"index\": 0, \"value\": %lu, \"op\": \"SCMP_CMP_EQ\" } ] },\n",
                        personalities[i]);
        fprintf(f,
                "    { \"names\": [ \"clone\" ], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [ "
                "{ \"index\": %d, \"value\": %lu, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\" } ] },\n",
                clone_flags_idx, CLONE_NS_MASK);
        fputs("    { \"names\": [ \"clone3\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38 }\n"
              "  ]\n}\n",
              f);
        fclose(f);
        return buf;
}
