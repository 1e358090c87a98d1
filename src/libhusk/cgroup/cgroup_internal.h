/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to src/libhusk/cgroup: the handle, the "plan" functions (pure, unit-tested) and the
 * driver entry points shared by cgroup.c, resources.c and devices.c. */
#ifndef HUSK_CGROUP_INTERNAL_H
#define HUSK_CGROUP_INTERNAL_H

#include "cgroup/cgroup.h"

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_DEFAULT_PARENT "husk"

/* One hierarchy the container's cgroup lives in: a v1 controller mount, the hybrid host's unified
 * mount, or the single v2 hierarchy. */
typedef struct cg_hier {
        char *controllers; /* v1 super options: "memory", "cpu,cpuacct", "name=systemd"; v2: "" */
        char *mountpoint;
        char *dir; /* mountpoint + cgroup path */
        bool unified;
        bool created; /* this call made the leaf dir (removed again when create fails) */
} cg_hier;

struct cgroup_handle {
        int version; /* 1 (v1 driver, also on hybrid hosts) or 2 (pure unified) */
        char *path;  /* normalised cgroup path, "/husk/ID" */
        cg_hier *hier;
        size_t n_hier;
        /* linux.devices entries: allowed again whenever an update rewrites the device rules */
        config_device_rule *dev_allow;
        size_t n_dev_allow;
        int clone_fd; /* v2: O_DIRECTORY fd of the cgroup, lazily opened */
        /* v1: per hierarchy, the "tasks" file the child writes "0" into (cgroup_join_open), or -1;
         * NULL when not opened */
        int *join_fds;
        /* processes found in the cgroup (and below) when create found it already there */
        size_t preexisting_procs;
};

/* ---- plan (pure) ---- */

/* A cgroup mount parsed from /proc/self/mountinfo. */
typedef struct cg_mount {
        char *mountpoint;
        char *controllers; /* comma-separated controllers from the super options; "" for cgroup2 */
        bool unified;
} cg_mount;

/* Every cgroup (v1) and cgroup2 mount in mountinfo text, one per hierarchy (first mount wins). */
int cgroup_parse_mountinfo(const char *text, cg_mount **ret, size_t *ret_n);
void cgroup_mounts_free(cg_mount *m, size_t n);
/* true when the comma-separated list contains name. */
bool cgroup_list_has(const char *list, const char *name);

/* linux.cgroupsPath (NULL = absent) -> normalised absolute path: "/husk/ID" when absent, relative
 * paths go under "/husk". Rejects ".." components, control characters, the root and the systemd
 * "slice:prefix:name" form. */
int cgroup_path_resolve(const char *cgroups_path, const char *id, char **ret, husk_error_t *err);

/* cpu.shares (v1, 2..262144) -> cpu.weight (v2, 1..10000); 0 stays 0 (unset). */
uint64_t cgroup_shares_to_weight(uint64_t shares);
/* blkio weight (10..1000) -> io.weight (1..10000); 0 stays 0. */
uint64_t cgroup_blkio_to_io_weight(uint64_t weight);
/* OCI memory.swap (memory+swap) -> v2 memory.swap.max (-1 = "max"); *ret_set false: leave the
 * file alone (swap 0 = not set). */
int cgroup_swap_to_v2(bool has_limit, int64_t limit, int64_t swap, bool *ret_set, int64_t *ret,
                      husk_error_t *err);
/* cpu.max for quota/period: "QUOTA PERIOD", "max PERIOD" or just "QUOTA"; cur_quota is the first
 * field of the current cpu.max (used when only the period changes). */
char *cgroup_cpu_max(const config_cpu *c, const char *cur_quota);

/* The device rules to apply: deny all, then an allow rule for each extra device (linux.devices),
 * then the config's rules, then the standard devices; everything before the last "all devices"
 * rule is dropped, so the first rule is always an allow-all or deny-all reset. An allow rule loses
 * the access letters of every later deny rule that covers it, so a configured deny wins on both
 * drivers. */
void cgroup_device_rules(const config_device_rule *cfg_rules, size_t n_cfg,
                         const config_device_rule *extra, size_t n_extra,
                         config_device_rule **ret, size_t *ret_n);
/* v1 only: a deny rule narrower than an earlier allow rule (deny "c 1:11 w" after allow
 * "c *:* rwm") cannot be expressed with devices.allow/deny exceptions; refuse it rather than let
 * the kernel silently ignore the deny. */
int cgroup_device_rules_check_v1(const config_device_rule *rules, size_t n, husk_error_t *err);
/* linux.devices -> allow rules (type, major, minor, "rwm"). */
void cgroup_devices_to_rules(const config_device *d, size_t n, config_device_rule **ret,
                             size_t *ret_n);
/* A v1 devices.allow/deny line ("c 1:3 rwm", "a"). */
void cgroup_device_rule_v1(const config_device_rule *r, char *buf, size_t len);
/* The BPF_PROG_TYPE_CGROUP_DEVICE program for rules (as returned by cgroup_device_rules). */
void cgroup_device_bpf(const config_device_rule *rules, size_t n, struct bpf_insn **ret,
                       size_t *ret_n);

/* ---- apply (syscalls) ---- */
int cgroup_apply_resources(cgroup_handle *h, const config_resources *r, bool creating,
                           husk_error_t *err);
int cgroup_devices_apply(cgroup_handle *h, const config_device_rule *cfg_rules, size_t n_cfg,
                         bool creating, husk_error_t *err);
/* The hierarchy that carries controller ctrl (v1), or the unified one (v2); NULL when missing. */
cg_hier *cgroup_find_hier(cgroup_handle *h, const char *ctrl);

#endif
