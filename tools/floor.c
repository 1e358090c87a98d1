/* SPDX-License-Identifier: Apache-2.0 */
/* The "floor" of a container start, for tools/bench: the least a runtime must do to start a
 * process isolated the way `husk run` does for the benchmark bundle — one clone with new pid,
 * mount, ipc, uts and (optionally) network namespaces, join a cgroup with memory and pids limits,
 * make "/" rslave, bind the rootfs on itself, mount /proc, pivot_root, exec.
 * usage: floor [-n] [-c CGROUP_V1_MEMORY_AND_PIDS_NAME] ROOTFS CMD [ARG...]
 * No config parsing, no state, no error reporting beyond exit codes. Not installed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static char *rootfs;
static char **cmd;
static int syncfd[2];

static int child(void *arg)
{
        char c;
        (void)arg;
        close(syncfd[1]);
        if (read(syncfd[0], &c, 1) != 1)
                _exit(120);
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                _exit(121);
        if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                _exit(122);
        if (chdir(rootfs) < 0)
                _exit(123);
        if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                _exit(124);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                _exit(125);
        if (umount2(".", MNT_DETACH) < 0)
                _exit(126);
        if (chdir("/") < 0)
                _exit(127);
        execv(cmd[0], cmd);
        _exit(127);
}

static void write_file(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, s, strlen(s)) < 0)
                exit(110);
        close(fd);
}

int main(int argc, char **argv)
{
        int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
        const char *cg = NULL;
        int opt;
        while ((opt = getopt(argc, argv, "+nc:")) != -1) {
                if (opt == 'n')
                        flags |= CLONE_NEWNET;
                else if (opt == 'c')
                        cg = optarg;
                else
                        return 2;
        }
        if (argc - optind < 2)
                return 2;
        rootfs = argv[optind];
        cmd = argv + optind + 1;
        char path[512], pid[32];
        if (cg) {
                /* cgroup v1 memory + pids (this host); made once, reused by every run */
                snprintf(path, sizeof(path), "/sys/fs/cgroup/memory/%s", cg);
                mkdir(path, 0755);
                snprintf(path, sizeof(path), "/sys/fs/cgroup/memory/%s/memory.limit_in_bytes", cg);
                write_file(path, "268435456");
                snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/%s", cg);
                mkdir(path, 0755);
                snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/%s/pids.max", cg);
                write_file(path, "100");
        }
        if (pipe2(syncfd, O_CLOEXEC) < 0)
                return 3;
        static char stack[64 * 1024];
        pid_t p = clone(child, stack + sizeof(stack), flags, NULL);
        if (p < 0)
                return 4;
        close(syncfd[0]);
        if (cg) {
                snprintf(pid, sizeof(pid), "%d", (int)p);
                snprintf(path, sizeof(path), "/sys/fs/cgroup/memory/%s/cgroup.procs", cg);
                write_file(path, pid);
                snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/%s/cgroup.procs", cg);
                write_file(path, pid);
        }
        if (write(syncfd[1], "x", 1) != 1)
                return 5;
        int st;
        if (waitpid(p, &st, 0) < 0)
                return 6;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
