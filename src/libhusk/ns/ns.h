/* SPDX-License-Identifier: Apache-2.0 */
/* Namespaces: which ones clone creates, which ones the child joins (setns) or unshares itself, and
 * the id maps and time offsets of new user and time namespaces. The plan is pure and unit tested.
 */
#ifndef HUSK_NS_H
#define HUSK_NS_H

#include "config/oci_config.h"

#include <sched.h>
#include <sys/types.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

typedef struct ns_plan {
        unsigned long clone_flags; /* new namespaces created by the clone itself */
        /* Namespaces joined by path must be joined before new ones are created when a user
         * namespace is involved (new ones must be owned by the right user namespace): then clone
         * creates nothing and the child unshares these flags after setns. */
        unsigned long unshare_flags;
        bool unshare_mode; /* the child unshares (unshare_flags) after joining paths */
        bool join_paths;   /* some namespace has a path */
        bool new_userns;   /* a user namespace is created: the host side writes the id maps */
        bool userns;       /* new or joined user namespace */
        bool new_pidns;    /* new pid namespace (clone or unshare before the second fork) */
        bool pidns_path;   /* pid namespace joined by path */
        bool new_timens;   /* unshare(CLONE_NEWTIME) + offsets, then fork */
        bool new_cgroupns; /* unshare(CLONE_NEWCGROUP) once in the final cgroup */
        bool new_netns;    /* a new network namespace: its lo is brought up */
        bool needs_fork;   /* the container process is a grandchild (pid/time namespaces) */
        bool has_mountns, has_utsns, has_netns, has_ipcns; /* new or joined */
} ns_plan;

/* Host side, before clone. */
int ns_plan_make(const husk_config *cfg, ns_plan *ret, husk_error_t *err);
const char *ns_type_name(config_ns_type t);

/* "container_id host_id size\n" lines, allocated; NULL when n == 0. */
char *ns_format_idmap(const config_idmap *m, size_t n);
/* Host side: write gid_map and uid_map of pid (a process in a new user namespace). setgroups is
 * left at "allow": the host side is privileged in the parent namespace, so additionalGids keep
 * working inside. */
int ns_write_idmaps(pid_t pid, const husk_config *cfg, husk_error_t *err);

/* Container side, single-threaded, before any setup: join every namespace that has a path. All
 * paths are opened first (joining a mount namespace changes how later paths resolve); the user
 * namespace is joined last, so the other setns calls still run with the host side's privileges. */
int ns_join_paths(const husk_config *cfg, husk_error_t *err);
/* Host side: a user namespace with these id maps, held by an fd (for idmapped mounts). A short-lived
 * child unshares it and waits while the maps are written; it is reaped before this returns. */
int ns_idmap_userns(const config_idmap *uids, size_t n_uids, const config_idmap *gids,
                    size_t n_gids, int *ret_fd, husk_error_t *err);
/* Container side, in a new network namespace: bring lo up (runc and crun do; a new namespace
 * starts with it down). */
int ns_loopback_up(husk_error_t *err);
/* "monotonic S N\nboottime S N\n" for /proc/self/timens_offsets, allocated (NULL if none set). */
char *ns_format_time_offsets(const husk_config *cfg);
/* Container side: unshare(CLONE_NEWTIME) and write the offsets (before the fork). */
int ns_unshare_time(const husk_config *cfg, husk_error_t *err);

#endif
