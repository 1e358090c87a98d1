/* SPDX-License-Identifier: Apache-2.0 */
/* The start sequence (STYLE.md section 5): host side in start.c, container side in init.c,
 * frames in sync.c, pty handling in terminal.c. */
#ifndef HUSK_PROCESS_H
#define HUSK_PROCESS_H

#include "cgroup/cgroup.h"
#include "config/oci_config.h"
#include "ns/ns.h"
#include "rootfs/rootfs.h"
#include "seccomp/seccomp.h"

#include <sys/types.h>
#include <termios.h>

/* Durations measured on the container side, sent with SYNC_READY. */
enum { CHILD_T_MOUNTS = 0, CHILD_T_PIVOT, CHILD_T_COUNT };

/* Everything the container side needs; it lives in the host side's memory, which the child gets a
 * copy of at clone (no exec in between). */
typedef struct init_args {
        const husk_config *cfg;
        const ns_plan *plan;
        rootfs_ctx rootfs;
        const seccomp_prog *seccomp; /* NULL: none */
        int sync_fd;                 /* the child's end of the sync socketpair */
        int fifo_fd;                 /* exec.fifo opened O_RDWR by the host side */
        unsigned preserve_fds;
        bool no_new_keyring;
        cgroup_handle *cgroup; /* v1 hierarchies the child joins itself (cgroup_join_self), or NULL */
        int close_fds[4]; /* host-only fds the child closes first (the state dir lock!); -1 = none
                           */
        bool ready;       /* set once SYNC_READY is sent: errors then go to stderr */
} init_args;

/* Host side: clone with fork semantics and the namespace flags, placed into the cgroup2 dir
 * cgroup_fd by clone3 CLONE_INTO_CGROUP when cgroup_fd >= 0 and the kernel can; *ret_in_cgroup
 * tells. Returns the pid (0 in the child) or -1 with errno. */
pid_t process_clone(unsigned long flags, int cgroup_fd, bool *ret_in_cgroup);

/* Container side entry point after clone. Never returns: execve or _exit. */
_Noreturn void container_main(init_args *a);

/* Final steps of a container process, shared with exec (container side, after the pivot):
 * every fd but 0-2 and 3..3+preserve-1 gets CLOEXEC (CVE-2024-21626) ... */
int process_close_fds(unsigned preserve, husk_error_t *err);
/* Host side: rlimits (prlimit) and oom_score_adj of child from p. */
int process_host_limits(pid_t child, const config_process *p, husk_error_t *err);
/* ... chdir(cwd), refusing a cwd outside the root ("(unreachable)", CVE-2024-21626) ... */
int process_enter_cwd(const char *cwd, husk_error_t *err);
/* ... bounding set, setgroups, setresgid, setresuid (PR_SET_KEEPCAPS), then the capability sets
 * exactly as configured and the ambient set. */
int process_switch_user(const config_process *p, husk_error_t *err);

/* Container side (sched.c), still privileged: process.scheduler (sched_setattr) and
 * process.ioPriority (ioprio_set). */
int process_apply_sched(const config_process *p, husk_error_t *err);
/* sched_setaffinity of the calling process to a CPU list ("0-3,7"), or to every CPU when NULL
 * (the kernel keeps it within the cgroup's cpuset). For exec's execCPUAffinity. */
int process_set_affinity(const char *list, husk_error_t *err);

/* Look up args[0] the way execvp would, inside the current root, with PATH from env (default PATH
 * when absent). Relative names containing '/' resolve against cwd. Errors use the texts engines
 * match on: exec: "X": stat X: no such file or directory / executable file not found in $PATH /
 * permission denied. */
int process_find_exec(const char *arg0, char *const *env, const char *cwd, char **ret_path,
                      husk_error_t *err);
/* The warning for ambient capabilities that are skipped because they are not also permitted and
 * inheritable (the host side gives it to husk_global_t.warn), allocated; NULL when none are. */
char *process_ambient_warning(const config_process *p);
/* HOME when the config's env lacks it, as runc and crun do: the home field of uid's line in
 * passwd text (allocated), NULL when there is none. */
char *process_passwd_home(const char *passwd, uint32_t uid);
/* env plus "HOME=home" ("/" when home is NULL or empty), allocated; NULL when env has HOME. */
char **process_env_with_home(char *const *env, const char *home);
/* Container side, after the pivot: process_env_with_home with the home of uid in the container's
 * /etc/passwd (a regular file of at most PASSWD_MAX bytes). */
#define PASSWD_MAX (4u << 20)
char **process_env_home_from_root(char *const *env, uint32_t uid);
/* strerror(e) with a lower-case first letter into buf, as engines match error texts. */
const char *lower_strerror(int e, char *buf, size_t len);
/* The /proc/sys path of a sysctl key when the key is namespaced and the namespace it belongs to is
 * the container's own; else an error. */
int process_sysctl_path(const char *key, const ns_plan *plan, char **ret_path, husk_error_t *err);

/* ---- terminal.c ---- */
/* Container side, after the pivot: a new pty from the container's devpts (/dev/ptmx). */
int terminal_open_pty(const config_process *p, int *ret_master, int *ret_slave, husk_error_t *err);
/* Host side: connect to the engine's console socket (AF_UNIX, SOCK_STREAM). */
int terminal_connect(const char *path, int *ret_fd, husk_error_t *err);
/* Host side: one sendmsg, data "/dev/ptmx" + SCM_RIGHTS(master). Never waits for the peer. */
int terminal_send_master(int sock, int master, husk_error_t *err);
/* Foreground run with a terminal: raw mode on fd (when a tty), restored by terminal_restore. */
int terminal_make_raw(int fd, struct termios *saved);
/* Foreground run/exec: no "\r" added to the container's "\n" (runc clears ONLCR on the master
 * it proxies). Returns 0 or -errno. */
int terminal_clear_onlcr(int master);
void terminal_restore(int fd, const struct termios *saved);
/* Copy the window size of from onto to (both ttys); errors ignored by callers. */
int terminal_copy_winsize(int from, int to);

/* ---- engines (exec.c) ---- */
/* Host side, foreground run/exec (start.c): wait for pid (a child or, as subreaper, an orphan),
 * forward signals (the caller blocked them), proxy the pty master when >= 0. *ret_status is 0-255
 * or 128+signal. */
int wait_container(pid_t pid, int master, int *ret_status, husk_error_t *err);
/* exec --user: "UID[:GID]", numbers only (checked parsers); the gid is kept without ":GID". */
int exec_parse_user(const char *s, config_user *u, husk_error_t *err);
/* exec's argv form: the container's process (cfg->process, taken on success) with the command
 * line's args, env (KEY=VALUE replaces KEY), cwd, user, extra caps (never inheritable,
 * CVE-2022-29162), no_new_privs and terminal. */
int exec_process_from_args(husk_config *cfg, const husk_exec_opts_t *o, config_process **ret,
                           husk_error_t *err);

#endif
