/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroups: one interface, two drivers (v1: every mounted controller; v2: the unified hierarchy),
 * chosen at run time. A hybrid host (v1 controllers plus a cgroup2 mount with few controllers) uses
 * the v1 driver. All functions run on the host side. */
#ifndef HUSK_CGROUP_H
#define HUSK_CGROUP_H

#include "config/oci_config.h"

#include <sys/types.h>

typedef struct cgroup_handle cgroup_handle;

/* Create the container's cgroup from linux.cgroupsPath (absolute, relative to a default parent, or
 * absent: a default "husk/ID") and apply linux.resources. On failure nothing is left behind. */
int cgroup_create(const char *id, const husk_config *cfg, cgroup_handle **ret, husk_error_t *err);
/* The number of processes that were already in the container's cgroup (or below it) when
 * cgroup_create found it existing: runc 1.1 warns about them. A frozen cgroup (or one under a
 * frozen parent) is refused by cgroup_create. */
size_t cgroup_preexisting_procs(const cgroup_handle *h);
/* Rootless (util_rootless; rootless.c). The container's cgroup in the caller's delegated cgroup v2
 * subtree ("husk/ID" or a relative linux.cgroupsPath under it; an absolute one as given), planned
 * as cgroup_plan does; or *ret NULL and *ret_why (allocated) saying why there is none: cgroup v1,
 * no delegation, a path the user cannot write. */
int cgroup_plan_rootless(const char *id, const husk_config *cfg, cgroup_handle **ret,
                         char **ret_why, husk_error_t *err);
/* The top of the caller's delegated cgroup v2 subtree ("/user.slice/..."), the highest ancestor
 * of its own cgroup it owns; NULL when its own cgroup is not its own or the host is not v2.
 * *ret_own (if not NULL) gets its own cgroup path. */
char *cgroup_v2_delegated_root(char **ret_own);
/* The JSON path of the first resource limit r asks for (memory, cpu, pids, blockIO, hugepages,
 * unified), NULL when none: device rules do not count (runc ignores them rootless). Pure. */
const char *cgroup_limit_asked(const config_resources *r);
/* Remove only the dirs cgroup_create made, if empty, and kill nothing: the undo of a failed create
 * in a cgroup that held processes of others before. */
void cgroup_abandon(cgroup_handle *h);
/* cgroup_create in two steps, so the caller can record the cgroup (cgroup_serialize) before it
 * exists: plan (path and hierarchies, nothing created), then make (the dirs and limits; on
 * failure the dirs it made are removed again). */
int cgroup_plan(const char *id, const husk_config *cfg, cgroup_handle **ret, husk_error_t *err);
int cgroup_make(cgroup_handle *h, const husk_config *cfg, husk_error_t *err);
/* Move pid into the cgroup (every v1 controller / the v2 dir). */
int cgroup_enter(cgroup_handle *h, pid_t pid, husk_error_t *err);
/* An O_DIRECTORY fd of the container's cgroup2 directory for clone3(CLONE_INTO_CGROUP), or -1 when
 * not usable: on v2 the cgroup itself, on a hybrid host the unified hierarchy's dir (the v1
 * hierarchies are then joined with cgroup_join_open/cgroup_join_self). */
int cgroup_clone_fd(cgroup_handle *h);

/* Joining v1 hierarchies without the kernel's global threadgroup lock (speed, issue 6).
 * Host side: open, for every v1 hierarchy, the "tasks" file the child writes "0" into; the fds are
 * O_CLOEXEC and kept in the handle (closed by cgroup_join_close or cgroup_handle_free). Returns the
 * number opened (0 on v2). */
int cgroup_join_open(cgroup_handle *h, husk_error_t *err);
/* Container side, first act after clone/fork (single-threaded): write "0" into each opened "tasks"
 * file, which moves the calling thread, i.e. the whole process, then close them. */
int cgroup_join_self(cgroup_handle *h, husk_error_t *err);
/* Host side: close the fds of cgroup_join_open (the child has its own copies). */
void cgroup_join_close(cgroup_handle *h);
/* Host side: move pid into the hierarchies the child does not join itself: those without a
 * cgroup_join_open fd, minus the cgroup2 dir when clone3 placed it there (in_cgroup2). */
int cgroup_enter_rest(cgroup_handle *h, pid_t pid, bool in_cgroup2, husk_error_t *err);
/* exec --cgroup SPEC ("PATH" or "CTRL[,CTRL...]:PATH"): from now on the handle points at that
 * existing sub-cgroup of the container's, in every hierarchy or in the named controllers' ones
 * (sub.c). Call before cgroup_clone_fd / cgroup_join_open. */
int cgroup_use_sub(cgroup_handle *h, const char *spec, husk_error_t *err);
/* OOM notifications (oom.c, for `events`): an fd that becomes readable when the memory cgroup
 * may have had an OOM (O_CLOEXEC, non-blocking), and the current OOM count to start from. */
int cgroup_oom_open(cgroup_handle *h, int *ret_fd, uint64_t *ret_base, husk_error_t *err);
/* After fd polled readable: *ret_new OOMs since *last (updated). -ENOENT once the cgroup is
 * gone. */
int cgroup_oom_read(cgroup_handle *h, int fd, uint64_t *last, unsigned *ret_new,
                    husk_error_t *err);
/* Apply (new) resource limits (create and `update`). */
int cgroup_apply(cgroup_handle *h, const config_resources *r, husk_error_t *err);
/* Freeze or thaw every process. */
int cgroup_freeze(cgroup_handle *h, bool frozen, husk_error_t *err);
/* true when frozen (paused). */
int cgroup_is_frozen(cgroup_handle *h, bool *ret, husk_error_t *err);
/* Pids in the cgroup (allocated array). */
int cgroup_pids(cgroup_handle *h, pid_t **ret, size_t *ret_n, husk_error_t *err);
/* Signal every process in the cgroup. */
int cgroup_kill_all(cgroup_handle *h, int signo, husk_error_t *err);
/* Kill leftover processes and remove the cgroup dirs, sub-cgroups included (usable from state/
 * for any saved handle). A cgroup that held others' processes at create is not killed in, only
 * its empty dirs are removed (an error says it was left). */
int cgroup_destroy(cgroup_handle *h, husk_error_t *err);
/* Removes the empty cgroup dirs at the default path of id (no kill): for a forced delete of a
 * container whose state is unreadable. */
int cgroup_remove_default_if_empty(const char *id, husk_error_t *err);
/* The number of OOM kills in the container's memory cgroup (v1 memory.oom_control, v2
 * memory.events "oom_kill"). -ENOENT without a memory controller. */
int cgroup_oom_kills(cgroup_handle *h, uint64_t *ret);
/* Persist / restore a handle through the container state (a single-line string). */
char *cgroup_serialize(const cgroup_handle *h);
int cgroup_deserialize(const char *s, cgroup_handle **ret, husk_error_t *err);
void cgroup_handle_free(cgroup_handle *h);

/* ---- engines (stats.c) ---- */
/* Write the resource usage as runc's stats "data" object ({"cpu":..,"memory":..,"pids":..}). */
struct json_writer;
void cgroup_stats_write(cgroup_handle *h, struct json_writer *w);

#endif
