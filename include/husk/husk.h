/* SPDX-License-Identifier: Apache-2.0 */
/* husk: public API of libhusk. The CLI (src/cli) and the tests link this library. */
#ifndef HUSK_HUSK_H
#define HUSK_HUSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HUSK_OCI_VERSION "1.2.0"
#define HUSK_ERROR_MSG_MAX 2048

/* An error carried as a value: a positive errno-style code (0 when the error is not a system error,
 * e.g. a config validation error, in which case EINVAL is used) and a human message with context. */
typedef struct husk_error {
        int code;
        char msg[HUSK_ERROR_MSG_MAX];
} husk_error_t;

/* Global options shared by every command (runc's global flags). */
typedef struct husk_global {
        const char *root;  /* state directory, default /run/husk */
        bool debug;        /* --debug: phase timings and extra detail on stderr/log */
        bool systemd_cgroup;
        /* Non-fatal problems (e.g. a failing poststop hook during delete) are reported here, since
         * the library never prints. May be NULL (warnings are then dropped). */
        void (*warn)(const char *msg);
} husk_global_t;

typedef struct husk_create_opts {
        const char *id;
        const char *bundle;         /* NULL: current directory */
        const char *pid_file;       /* NULL: none */
        const char *console_socket; /* NULL: none */
        unsigned preserve_fds;      /* fds 3 .. 3+N-1 are passed to the container */
        unsigned listen_fds;        /* socket activation: fds 3 .. 3+N-1 are systemd's LISTEN_FDS,
                                     * passed before the preserve_fds ones; the process gets
                                     * LISTEN_FDS=N and LISTEN_PID=1 in its environment */
        bool no_pivot;
        bool no_new_keyring;
        bool detach; /* run only: do not wait for the container */
        bool keep;   /* run only: do not delete the container after it exits (runc run --keep) */
        /* Optional (--debug): HUSK_PHASE_COUNT durations in ns filled by create/run, or NULL. */
        uint64_t *phase_ns;
} husk_create_opts_t;

/* Phases of create measured for --debug (also saved in the state). mounts and pivot are measured
 * on the container side; ready is clone-to-ready; total is the whole create. */
enum {
        HUSK_PHASE_PARSE = 0,
        HUSK_PHASE_CGROUP,
        HUSK_PHASE_SECCOMP,
        HUSK_PHASE_CLONE,
        HUSK_PHASE_MOUNTS,
        HUSK_PHASE_PIVOT,
        HUSK_PHASE_READY,
        HUSK_PHASE_TOTAL,
        HUSK_PHASE_COUNT
};
const char *husk_phase_name(unsigned phase);

typedef enum husk_status {
        HUSK_STATUS_CREATING = 0,
        HUSK_STATUS_CREATED,
        HUSK_STATUS_RUNNING,
        HUSK_STATUS_PAUSED,
        HUSK_STATUS_STOPPED,
} husk_status_t;

const char *husk_status_name(husk_status_t s);

/* Error helpers. They always return a negative value: -code (or -EINVAL when code is 0). */
int husk_error_set(husk_error_t *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Prefix an existing error message with more context: "context: old message". Returns -err->code. */
int husk_error_prefix(husk_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void husk_error_clear(husk_error_t *err);

/* Version strings of husk and of the libraries it links. */
const char *husk_version(void);

/* CVE-2019-5736: re-execute the calling program (argv, environ) from an image of its binary that no
 * container can write (a read-only overlayfs view, else a sealed memfd copy); returns 0 without
 * re-executing when it already runs from one. Call it before any container code is cloned. Returns
 * only on error (or when already sealed). HUSK_EXE_SEAL=overlay|memfd forces one method. */
int husk_exe_seal(char **argv, husk_error_t *err);

/* Lifecycle. Each returns 0 or a negative errno and fills *err. */
int husk_create(const husk_global_t *g, const husk_create_opts_t *o, husk_error_t *err);
int husk_start(const husk_global_t *g, const char *id, husk_error_t *err);
/* create + start; unless o->detach, wait for the container and return its exit status in
 * *ret_status (0-255, 128+signal), then delete it. */
int husk_run(const husk_global_t *g, const husk_create_opts_t *o, int *ret_status, husk_error_t *err);
/* JSON state document of one container, allocated. */
int husk_state_json(const husk_global_t *g, const char *id, char **ret_json, husk_error_t *err);
/* JSON array of the state documents of every container, allocated. */
int husk_list_json(const husk_global_t *g, char **ret_json, husk_error_t *err);
int husk_kill(const husk_global_t *g, const char *id, int signo, bool all, husk_error_t *err);
int husk_delete(const husk_global_t *g, const char *id, bool force, husk_error_t *err);
/* husk_delete, but an image container's folder (STORE/containers/ID: root, logs, netns) stays:
 * the service monitor deletes the OCI state between restarts. */
int husk_delete_keep_bundle(const husk_global_t *g, const char *id, bool force, husk_error_t *err);
/* Writes BUNDLE/config.json (refuses to overwrite an existing one). */
int husk_spec(const char *bundle, bool rootless, husk_error_t *err);
/* A user (euid != 0) without XDG_RUNTIME_DIR has no default --root: an error saying so. */
int husk_default_root_check(husk_error_t *err);
/* The default --root (/run/husk; $XDG_RUNTIME_DIR/husk for a user). */
const char *husk_default_root(void);
/* A user (euid != 0): move this (single-threaded) process into a new user namespace where the user
 * is root and its /etc/subuid and /etc/subgid ranges are mapped to 1..N (newuidmap/newgidmap; only
 * the user when it has none), with a mount namespace of its own: what image stores, overlays and
 * image containers need (podman unshares the same way). No-op for root. */
int husk_rootless_enter(husk_error_t *err);
/* The next execve keeps this process's hold on the user's namespace (husk fn runs husk-fn), so
 * that no other command stops the pause process while the new program uses it. */
void husk_rootless_hold_across_exec(void);
/* After a command in the user's namespace: stop its pause process when no other husk process of
 * the user is in it and the user has no container left (no state under state_root, no folder
 * under store/containers), so nothing outlives use. */
void husk_rootless_stop_if_idle(const char *state_root, const char *store);
/* A user's delegated cgroup v2 subtree ("/user.slice/..."), where its cgroups go (as
 * "RELATIVE/PATH" below it); NULL when it has none, *ret_why (allocated) then says why (cgroup v1,
 * no delegation). For root, "/" (every cgroup is its to make). */
char *husk_rootless_cgroup_root(char **ret_why);

/* One row of `husk list`. */
typedef struct husk_list_entry {
        char *id;
        pid_t pid; /* 0 when stopped */
        husk_status_t status;
        char *bundle;
        char *rootfs; /* root.path resolved against the bundle, as state prints it */
        char created[48];
        char *owner; /* user name of the state dir's owner */
} husk_list_entry;

/* Every container under the root, sorted by id (an empty list when the root does not exist). */
int husk_list(const husk_global_t *g, husk_list_entry **ret, size_t *ret_n, husk_error_t *err);
void husk_list_free(husk_list_entry *e, size_t n);

/* Pids of every process in the container's cgroup (allocated; *ret_n may be 0 when stopped). */
int husk_ps(const husk_global_t *g, const char *id, pid_t **ret_pids, size_t *ret_n,
            husk_error_t *err);

/* Validates a container id: 1..1024 chars, no '/', not "." or "..", no control characters. */
int husk_id_validate(const char *id, husk_error_t *err);

/* update: apply an OCI LinuxResources JSON document to a running (or created/paused) container. */
int husk_update(const husk_global_t *g, const char *id, const char *resources_json, size_t len,
                husk_error_t *err);
/* pause / resume: freeze or thaw every process of the container (cgroup freezer). */
int husk_pause(const husk_global_t *g, const char *id, husk_error_t *err);
int husk_resume(const husk_global_t *g, const char *id, husk_error_t *err);


/* ---- exec (engines) ---- */
typedef struct husk_exec_opts {
        const char *id;
        const char *process_path; /* --process FILE (OCI process JSON); overrides the fields below */
        char *const *args;        /* argv form: the command (n_args > 0 unless process_path) */
        size_t n_args;
        const char *cwd;          /* NULL: the container's */
        char *const *env;         /* KEY=VALUE added to (or replacing in) the container's env */
        size_t n_env;
        const char *user;         /* "UID[:GID]", NULL: the container's */
        char *const *caps;        /* extra capabilities ("CAP_X"), added to every set but inheritable */
        size_t n_caps;
        bool no_new_privs;
        bool tty;                 /* argv form: allocate a pty (process.json: its "terminal") */
        bool detach;
        const char *pid_file;       /* NULL: none; digits, no newline */
        const char *console_socket; /* NULL: none */
        unsigned preserve_fds;
        bool ignore_paused; /* exec into a paused container (the process starts frozen) */
        const uint32_t *additional_gids; /* argv form: supplementary groups added to the config's */
        size_t n_additional_gids;
        /* runc's --cgroup: "PATH" or "CTRL[,CTRL...]:PATH", an existing sub-cgroup of the
         * container's cgroup to run the process in (every hierarchy, or the named ones) */
        char *const *cgroups;
        size_t n_cgroups;
} husk_exec_opts_t;

/* Run a new process in a created/running container: it joins every namespace and the cgroup of
 * the container's init. With o->detach, returns once the process has called execve (it is left to
 * the caller's subreaper); else waits and returns its exit status (0-255, 128+signal). */
int husk_exec(const husk_global_t *g, const husk_exec_opts_t *o, int *ret_status, husk_error_t *err);

/* Resource usage of a container from its cgroup, as runc's `events --stats` JSON object
 * ({"type":"stats","id":...,"data":{...}}), allocated, no newline. */
int husk_stats_json(const husk_global_t *g, const char *id, char **ret_json, husk_error_t *err);

/* `events`: a container's OOM notifications and its end, between statistics ticks. */
typedef struct husk_events husk_events_t;
typedef enum husk_event_type {
        HUSK_EVENT_STATS, /* the deadline passed: time for a statistics line */
        HUSK_EVENT_OOM,   /* the memory cgroup had an OOM ({"type":"oom"}) */
        HUSK_EVENT_EXIT,  /* the container's init has exited (or its cgroup is gone) */
} husk_event_type_t;
int husk_events_open(const husk_global_t *g, const char *id, husk_events_t **ret,
                     husk_error_t *err);
/* Blocks until the next event; STATS once deadline_ns (CLOCK_MONOTONIC, as now_ns) has passed. */
int husk_events_next(husk_events_t *ev, uint64_t deadline_ns, husk_event_type_t *ret,
                     husk_error_t *err);
void husk_events_free(husk_events_t *ev);

/* The runtime-spec "features" document describing what husk supports, allocated. */
char *husk_features_json(void);

#ifdef __cplusplus
}
#endif
#endif
