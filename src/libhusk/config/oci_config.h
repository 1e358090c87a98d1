/* SPDX-License-Identifier: Apache-2.0 */
/* OCI runtime config (runtime-spec 1.2, Linux) as typed structs. Only src/libhusk/config/ includes
 * yajl; everything else reads these structs. Every array comes with its count; strings are
 * NUL-terminated and owned by the struct; absent optional scalars have has_X == false. */
#ifndef HUSK_CONFIG_H
#define HUSK_CONFIG_H

#include "husk/husk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------- process ---------- */
typedef struct config_rlimit {
        int resource; /* RLIMIT_* number, validated by the parser */
        uint64_t soft;
        uint64_t hard;
} config_rlimit;

typedef struct config_user {
        uint32_t uid;
        uint32_t gid;
        bool has_umask;
        uint32_t umask;
        uint32_t *additional_gids;
        size_t n_additional_gids;
} config_user;

/* Capability sets as bit masks over CAP_* numbers (bit n = capability n), validated by name
 * with libcap; has_X is false when the set is absent from the config (treated as empty). */
typedef struct config_caps {
        bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
        uint64_t bounding, effective, inheritable, permitted, ambient;
} config_caps;

/* process.scheduler (sched_setattr(2)): policy and flags as the kernel's numbers. */
typedef struct config_scheduler {
        uint32_t policy; /* SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, ISO 4, IDLE 5, DEADLINE 6 */
        int32_t nice;
        uint32_t priority;
        uint64_t flags; /* SCHED_FLAG_* bits */
        uint64_t runtime, deadline, period; /* ns, SCHED_DEADLINE */
} config_scheduler;

/* process.ioPriority (ioprio_set(2)): class IOPRIO_CLASS_RT 1, BE 2, IDLE 3; priority 0..7. */
typedef struct config_io_priority {
        int klass;
        int priority;
} config_io_priority;

typedef struct config_process {
        bool terminal;
        bool has_console_size;
        uint32_t console_height, console_width;
        config_user user;
        char **args; /* NULL-terminated as well, n_args entries */
        size_t n_args;
        char *command_line; /* Windows only: ignored with a warning */
        char **env;         /* NULL-terminated as well */
        size_t n_env;
        char *cwd; /* absolute, required */
        bool has_capabilities;
        config_caps capabilities;
        config_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile; /* recognised; an error if set (husk cannot apply AppArmor) */
        bool has_oom_score_adj;
        int oom_score_adj;
        char *selinux_label; /* recognised; an error if set */
        bool has_io_priority, has_scheduler;
        config_io_priority io_priority;
        config_scheduler scheduler;
        /* execCPUAffinity (exec'd processes only, runtime-spec 1.2): CPU lists such as "0-3,7",
         * validated; NULL when absent. */
        bool has_exec_cpu_affinity;
        char *cpu_affinity_initial, *cpu_affinity_final;
        /* What was accepted but is skipped (see husk_config.warnings); NULL when none. */
        char **warnings;
} config_process;

/* ---------- root, mounts ---------- */
typedef struct config_root {
        char *path; /* as written in config.json; relative to the bundle when not absolute */
        bool readonly;
} config_root;

typedef struct config_idmap {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
} config_idmap;

typedef struct config_mount {
        char *destination; /* absolute inside the container */
        char *type;        /* may be NULL (bind mounts) */
        char *source;      /* may be NULL */
        char **options;    /* NULL-terminated as well */
        size_t n_options;
        config_idmap *uid_mappings; /* idmapped mount (bind mounts only) */
        size_t n_uid_mappings;
        config_idmap *gid_mappings;
        size_t n_gid_mappings;
} config_mount;

/* ---------- hooks ---------- */
typedef struct config_hook {
        char *path;
        char **args; /* NULL-terminated as well */
        size_t n_args;
        char **env; /* NULL-terminated as well; NULL when absent (see hooks_run) */
        size_t n_env;
        bool has_timeout;
        int timeout; /* seconds, > 0 */
} config_hook;

typedef enum config_hook_kind {
        HOOK_PRESTART = 0,
        HOOK_CREATE_RUNTIME,
        HOOK_CREATE_CONTAINER,
        HOOK_START_CONTAINER,
        HOOK_POSTSTART,
        HOOK_POSTSTOP,
        HOOK_KIND_COUNT
} config_hook_kind;

typedef struct config_hooks {
        config_hook *hooks[HOOK_KIND_COUNT];
        size_t n_hooks[HOOK_KIND_COUNT];
} config_hooks;

/* ---------- linux ---------- */
typedef enum config_ns_type {
        NS_PID = 0,
        NS_NETWORK,
        NS_MOUNT,
        NS_IPC,
        NS_UTS,
        NS_USER,
        NS_CGROUP,
        NS_TIME,
        NS_TYPE_COUNT
} config_ns_type;

typedef struct config_namespace {
        config_ns_type type;
        int clone_flag; /* CLONE_NEWPID, ... */
        char *path;     /* NULL: create a new namespace; else join this one */
} config_namespace;

typedef struct config_time_offset {
        bool set;
        int64_t secs;
        uint32_t nanosecs;
} config_time_offset;

typedef struct config_device {
        char type; /* 'c', 'b', 'u' (unbuffered char) or 'p' (fifo) */
        char *path;
        int64_t major, minor;
        bool has_file_mode;
        uint32_t file_mode;
        bool has_uid, has_gid;
        uint32_t uid, gid;
} config_device;

typedef struct config_kv {
        char *key;
        char *value;
} config_kv;

/* resources */
typedef struct config_device_rule {
        bool allow;
        char type; /* 'a', 'c', 'b'; 'a' when absent */
        int64_t major, minor; /* -1 = wildcard (absent) */
        char access[4];       /* subset of "rwm"; "rwm" when absent */
} config_device_rule;

typedef struct config_memory {
        bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness;
        int64_t limit, reservation, swap, kernel, kernel_tcp;
        uint64_t swappiness;
        bool has_disable_oom_killer, disable_oom_killer;
        bool has_use_hierarchy, use_hierarchy;
        bool has_check_before_update, check_before_update;
} config_memory;

typedef struct config_cpu {
        bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
                has_realtime_period, has_idle;
        uint64_t shares;
        int64_t quota;
        uint64_t burst;
        uint64_t period;
        int64_t realtime_runtime;
        uint64_t realtime_period;
        int64_t idle;
        char *cpus; /* NULL when absent */
        char *mems;
} config_cpu;

typedef struct config_weight_device {
        int64_t major, minor;
        bool has_weight, has_leaf_weight;
        uint16_t weight, leaf_weight;
} config_weight_device;

typedef struct config_throttle_device {
        int64_t major, minor;
        uint64_t rate;
} config_throttle_device;

typedef struct config_blkio {
        bool has_weight, has_leaf_weight;
        uint16_t weight, leaf_weight;
        config_weight_device *weight_device;
        size_t n_weight_device;
        config_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
                *throttle_write_iops;
        size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
                n_throttle_write_iops;
} config_blkio;

typedef struct config_hugepage_limit {
        char *page_size; /* "2MB", "1GB", ... */
        uint64_t limit;
} config_hugepage_limit;

typedef struct config_resources {
        config_device_rule *devices;
        size_t n_devices;
        bool has_memory;
        config_memory memory;
        bool has_cpu;
        config_cpu cpu;
        bool has_pids;
        int64_t pids_limit; /* <= 0: unlimited */
        bool has_blkio;
        config_blkio blkio;
        config_hugepage_limit *hugepage_limits;
        size_t n_hugepage_limits;
        bool has_network; /* classID / priorities: recognised, rejected (no net_cls support yet) */
        bool has_rdma;    /* recognised, rejected */
        config_kv *unified;
        size_t n_unified;
} config_resources;

/* seccomp */
typedef enum config_seccomp_action {
        SECCOMP_ACT_UNSET = 0,
        HUSK_SCMP_KILL,
        HUSK_SCMP_KILL_PROCESS,
        HUSK_SCMP_KILL_THREAD,
        HUSK_SCMP_TRAP,
        HUSK_SCMP_ERRNO,
        HUSK_SCMP_TRACE,
        HUSK_SCMP_ALLOW,
        HUSK_SCMP_LOG,
        HUSK_SCMP_NOTIFY,
} config_seccomp_action;

typedef enum config_seccomp_op {
        HUSK_SCMP_CMP_NE = 1,
        HUSK_SCMP_CMP_LT,
        HUSK_SCMP_CMP_LE,
        HUSK_SCMP_CMP_EQ,
        HUSK_SCMP_CMP_GE,
        HUSK_SCMP_CMP_GT,
        HUSK_SCMP_CMP_MASKED_EQ,
} config_seccomp_op;

typedef struct config_seccomp_arg {
        uint32_t index;
        uint64_t value;
        uint64_t value_two;
        config_seccomp_op op;
} config_seccomp_arg;

typedef struct config_seccomp_syscall {
        char **names; /* NULL-terminated as well */
        size_t n_names;
        config_seccomp_action action;
        bool has_errno_ret;
        uint32_t errno_ret;
        config_seccomp_arg *args;
        size_t n_args;
} config_seccomp_syscall;

typedef struct config_seccomp {
        config_seccomp_action default_action;
        bool has_default_errno_ret;
        uint32_t default_errno_ret;
        char **architectures; /* "SCMP_ARCH_X86_64", ... as written; NULL-terminated as well */
        size_t n_architectures;
        char **flags; /* "SECCOMP_FILTER_FLAG_LOG", ... validated names */
        size_t n_flags;
        char *listener_path;
        char *listener_metadata;
        config_seccomp_syscall *syscalls;
        size_t n_syscalls;
} config_seccomp;

typedef enum config_propagation {
        PROPAGATION_UNSET = 0,
        PROPAGATION_PRIVATE,
        PROPAGATION_RPRIVATE,
        PROPAGATION_SLAVE,
        PROPAGATION_RSLAVE,
        PROPAGATION_SHARED,
        PROPAGATION_RSHARED,
        PROPAGATION_UNBINDABLE,
        PROPAGATION_RUNBINDABLE,
} config_propagation;

typedef struct config_linux {
        config_namespace *namespaces;
        size_t n_namespaces;
        config_idmap *uid_mappings;
        size_t n_uid_mappings;
        config_idmap *gid_mappings;
        size_t n_gid_mappings;
        config_time_offset time_monotonic, time_boottime;
        config_device *devices;
        size_t n_devices;
        char *cgroups_path; /* NULL when absent */
        config_resources *resources; /* NULL when absent */
        config_propagation rootfs_propagation;
        char **masked_paths; /* NULL-terminated as well */
        size_t n_masked_paths;
        char **readonly_paths;
        size_t n_readonly_paths;
        char *mount_label; /* skipped with a warning without SELinux; an error with it */
        config_kv *sysctl;
        size_t n_sysctl;
        config_seccomp *seccomp; /* NULL when absent */
        bool has_personality;
        char *personality_domain; /* "LINUX" or "LINUX32" */
        bool has_intel_rdt; /* recognised, rejected */
} config_linux;

typedef struct husk_config {
        char *filename; /* for error messages, e.g. "/path/bundle/config.json" */
        char *oci_version;
        config_process *process; /* NULL when absent */
        config_root root;
        bool has_root;
        char *hostname; /* NULL when absent */
        char *domainname;
        config_mount *mounts;
        size_t n_mounts;
        config_hooks hooks;
        config_kv *annotations;
        size_t n_annotations;
        bool has_linux;
        config_linux linux_; /* zeroed when absent */
        /* Fields husk accepts but skips because skipping only grants less (runc and crun skip
         * them too): "FNAME: PATH: message" each, NULL-terminated; NULL when none. The host side
         * passes them to husk_global_t.warn. */
        char **warnings;
} husk_config;

/* A CPU list ("0-3,7"): the CPUs as a bit set of CONFIG_CPUS_MAX bits. 0 or -EINVAL. */
#define CONFIG_CPUS_MAX 1024
int config_parse_cpu_list(const char *s, uint64_t set[CONFIG_CPUS_MAX / 64]);

/* Parse config.json text. fname is used in error messages ("config.json: .process.args: ...").
 * Unknown properties are ignored. Types and values are validated; a field that husk recognises but
 * cannot apply is an error when skipping it could weaken isolation or neither runc nor crun runs
 * it, else a warning in ->warnings (docs/config.md lists each case). */
int config_parse(const char *json, size_t len, const char *fname, husk_config **ret,
                 husk_error_t *err);
/* Read and parse BUNDLE/config.json. */
int config_load_bundle(const char *bundle, husk_config **ret, husk_error_t *err);
void config_free(husk_config *c);

/* exec --process FILE: an OCI "process" object on its own. */
int config_parse_process(const char *json, size_t len, const char *fname, config_process **ret,
                         husk_error_t *err);
void config_process_free(config_process *p);

/* update --resources FILE|-: an OCI LinuxResources object on its own. */
int config_parse_resources(const char *json, size_t len, const char *fname,
                           config_resources **ret, husk_error_t *err);
void config_resources_free(config_resources *r);

/* Look up a namespace of the given type: returns NULL when the config does not ask for it. */
const config_namespace *config_find_namespace(const husk_config *c, config_ns_type t);

/* The default config.json written by `husk spec` (like `runc spec`), allocated. NULL only when
 * seccomp_default_profile_json() returns text that is not valid JSON. */
char *config_default_spec(bool rootless);

/* Name <-> number tables, exported for unit tests and other modules. */
int config_rlimit_from_name(const char *name); /* -1 when unknown */
const char *config_rlimit_name(int resource);
int config_cap_from_name(const char *name); /* -1 when unknown; "CAP_SYS_ADMIN" form */

#endif
