/* SPDX-License-Identifier: Apache-2.0 */
/* Container state under --root: one folder per id (ROOT/ID/), locked with flock on the folder fd
 * so concurrent commands on one id are serialised. Files in ROOT/ID/:
 *   state.json  the saved state (written atomically)
 *   exec.fifo   present from create until start: the container process blocks reading it (opened
 *               O_RDWR before the pivot); `start` writes one byte to it, then unlinks it.
 * Runs on the host side only. */
#ifndef HUSK_STATE_H
#define HUSK_STATE_H

#include "config/oci_config.h"

#include <sys/types.h>

#define STATE_FIFO_NAME "exec.fifo"
#define STATE_FILE_NAME "state.json"

typedef struct husk_state {
        char *id;
        char *bundle;  /* absolute */
        char *rootfs;  /* absolute */
        pid_t pid;     /* container init on the host, 0 when it never started */
        uint64_t pid_start_time; /* field 22 of /proc/PID/stat: detects pid reuse */
        char created[48];        /* RFC 3339 with nanoseconds */
        char *owner;             /* "" for root */
        config_kv *annotations;
        size_t n_annotations;
        char *cgroup;    /* cgroup_serialize() output, or NULL */
        bool new_pidns;  /* false: the container shares a pid ns (kill --all uses the cgroup) */
        bool has_poststop; /* config has poststop hooks: delete re-reads BUNDLE/config.json */
        char *config_path; /* absolute path of the config.json used at create */
        bool terminal;
        uint64_t start_phase_ns[8]; /* --debug timings of create, saved for inspection (0 = unset) */
} husk_state;

/* Default --root: /run/husk for root; $XDG_RUNTIME_DIR/husk for a user (util_honor_runtime_dir). */
const char *state_default_root(void);

/* mkdir ROOT/ID exclusively (ROOT created if missing) and lock it. EEXIST ->
 * "container with id ID already exists". Returns the locked dir fd in *ret_dirfd. */
int state_dir_create(const char *root, const char *id, int *ret_dirfd, husk_error_t *err);
/* Open and lock ROOT/ID. ENOENT -> "container does not exist". */
int state_dir_open(const char *root, const char *id, int *ret_dirfd, husk_error_t *err);
/* Remove ROOT/ID and everything in it (the caller holds the lock through dirfd). */
int state_dir_remove(const char *root, const char *id, husk_error_t *err);

int state_save(int dirfd, const husk_state *s, husk_error_t *err);
int state_load(int dirfd, husk_state **ret, husk_error_t *err);
void state_free(husk_state *s);

/* created (fifo present, pid alive), running, paused (cgroup frozen), stopped (pid gone or reused). */
int state_status(int dirfd, const husk_state *s, husk_status_t *ret, husk_error_t *err);
/* The OCI state JSON (ociVersion, id, status, pid, bundle, rootfs, created, annotations, owner). */
char *state_to_json(const husk_state *s, husk_status_t status, bool pretty);

/* Write the OCI state object into w (used for state_to_json and list). */
struct json_writer;
void state_write_json(struct json_writer *w, const husk_state *s, husk_status_t status);

/* Start time (field 22 of /proc/PID/stat), or 0 when the process does not exist. */
uint64_t state_proc_start_time(pid_t pid);

/* ---- the teardown record ----
 * ROOT/ID/teardown.json says what a container needs undone, written before the first resource
 * exists (create: before its cgroup is made), so `delete --force` and `system prune` can undo a
 * create that was killed before state.json was saved. */
#define STATE_RECORD_NAME "teardown.json"
typedef struct state_record {
        char *cgroup;          /* cgroup_serialize() form of the planned cgroup, or NULL */
        char *image_container; /* STORE/containers/ID made by `husk run IMAGE`, or NULL */
} state_record;
int state_record_save(int dirfd, const char *id, const state_record *r, husk_error_t *err);
/* -ENOENT (err untouched) when there is no record. */
int state_record_load(int dirfd, state_record *ret, husk_error_t *err);
void state_record_done(state_record *r);
/* The state folder of id is locked by a running command (create, delete): non-blocking probe. */
bool state_dir_busy(const char *root, const char *id);

/* Signal pid if it is still the process with start_time (a pidfd pins it). -ESRCH when gone. */
int state_signal_pid(pid_t pid, uint64_t start_time, int signo);
/* Wait until pid (with start_time) has exited (a zombie counts); -ETIMEDOUT after timeout_ms. */
int state_wait_gone(pid_t pid, uint64_t start_time, int timeout_ms);

/* ---- additions (state module owner) ---- */
/* The name of ID's folder under ROOT: the id itself up to 200 characters, else a prefix of it plus
 * its SHA-256 (ids may be 1024 characters, file names only 255). */
#define STATE_DIR_NAME_SIZE 256
void state_dir_name(const char *id, char buf[STATE_DIR_NAME_SIZE]);
/* Open ROOT/ID without taking the lock (read-only commands: state, list). */
int state_dir_open_nolock(const char *root, const char *id, int *ret_dirfd, husk_error_t *err);
/* /proc/PID/stat: state letter and start time. -ESRCH when the process does not exist. */
int state_proc_stat(pid_t pid, char *ret_state, uint64_t *ret_start);
/* The process exists, is not a zombie and (when start_time != 0) has that start time. */
bool state_pid_alive(pid_t pid, uint64_t start_time);

#endif
