/* SPDX-License-Identifier: Apache-2.0 */
/* husk: detached services made by `husk run -d IMAGE` (src/libhusk/service/). A monitor process
 * holds the container's stdio, keeps its output in STORE/containers/ID/ctr.log, records each exit
 * and applies the restart policy. These calls find, list, stop, restart and remove them. */
#ifndef HUSK_SERVICE_H
#define HUSK_SERVICE_H

#include "husk/husk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What `husk run -d` records besides the prepared bundle. Strings may be NULL. */
typedef struct husk_service_run_opts {
        const char *store;      /* the store the container was prepared in (NULL: default) */
        const char *id;         /* the container id (= its name) */
        const char *image_ref;  /* as given on the command line */
        const char *image_id;   /* "sha256:..." */
        const char *restart;    /* no (NULL), on-failure[:N], always */
        char *const *ports;     /* -p values as given, NULL-terminated (may be NULL) */
        const char *network;    /* as given (NULL: the default) */
        uint64_t log_max_size;  /* bytes; 0: 10 MiB */
        bool auto_remove;       /* --rm: the monitor removes everything when the workload ends */
        bool name_given;        /* --name (else a generated id: a 4+ character prefix finds it) */
} husk_service_run_opts_t;

/* Checks a --restart value ("no", "on-failure[:N]", "always", "unless-stopped"). */
int husk_service_restart_check(const char *policy, husk_error_t *err);
/* "10m", "512k", "1g", bytes -> bytes (at least 4 KiB). */
int husk_service_size_parse(const char *s, uint64_t *ret);

/* Writes service.json into the prepared container's folder, forks the monitor (double fork,
 * setsid) and returns once the container has started, or with the start error (the monitor has
 * then deleted the OCI state and exited; the caller removes the folder). */
int husk_service_run(const husk_global_t *g, const husk_service_run_opts_t *o, husk_error_t *err);

typedef enum husk_service_status {
        HUSK_SERVICE_CREATED = 0, /* never started (or its monitor never reported) */
        HUSK_SERVICE_RUNNING,
        HUSK_SERVICE_PAUSED,
        HUSK_SERVICE_RESTARTING, /* exited, the monitor waits out the back-off */
        HUSK_SERVICE_STOPPING,
        HUSK_SERVICE_EXITED,
} husk_service_status_t;
const char *husk_service_status_name(husk_service_status_t s);

typedef struct husk_service_info {
        char *id;
        char *bundle, *root, *store;
        char *image_ref, *image_id;
        char **command;        /* process.args */
        char **env;            /* process.env */
        char *cwd, *user, *hostname, *stop_signal;
        char *restart;         /* policy text */
        unsigned restart_max;
        char **ports;          /* as given */
        char *network_json;    /* network.json when present (the net helper's), else NULL */
        int64_t created;       /* ns since the epoch */
        int64_t started, finished; /* 0: never */
        husk_service_status_t status;
        pid_t pid;             /* container init while running, else 0 */
        bool monitor_alive;
        int exit_code, signal; /* of the last exit (exit_code -1: unknown) */
        bool oom_killed, has_exit, auto_remove, name_given;
        unsigned restarts;
        uint64_t log_max_size;
        char *log_path;
} husk_service_info_t;
void husk_service_info_done(husk_service_info_t *i);

/* The container NAME (name, id, or a unique prefix of >= 4 characters of a generated id). */
int husk_service_get(const char *store, const char *name, husk_service_info_t *ret,
                     husk_error_t *err);
/* Every service in the store, sorted by creation time (newest first). */
int husk_service_list(const char *store, husk_service_info_t **ret, size_t *ret_n,
                      husk_error_t *err);
void husk_service_list_free(husk_service_info_t *v, size_t n);
/* "Up 3 minutes", "Exited (3) 2 seconds ago", ... (into buf). */
void husk_service_status_text(const husk_service_info_t *i, char *buf, size_t len);
/* The time since t (ns since the epoch) in words: "3 minutes", "About an hour". */
void husk_service_age_text(int64_t t, char *buf, size_t len);
/* "HOSTIP:HOSTPORT->CTRPORT/PROTO, ..." (allocated, "" when none). */
char *husk_service_ports_text(const husk_service_info_t *i);
/* podman-style `inspect` array and `ps --format json` array, allocated. */
char *husk_service_inspect_json(const husk_service_info_t *v, size_t n);
char *husk_service_ps_json(const husk_service_info_t *v, size_t n);

/* stop: the StopSignal (image annotation, default SIGTERM), SIGKILL after timeout_s seconds;
 * no restart follows. 0 when it was not running. */
int husk_service_stop(const husk_global_t *g, const char *store, const char *name,
                      unsigned timeout_s, husk_error_t *err);
/* stop (when running), then a new monitor and start. */
int husk_service_restart(const husk_global_t *g, const char *store, const char *name,
                         unsigned timeout_s, husk_error_t *err);
/* Removes an exited container (force: also a running one) with its folder, logs and network.
 * -EBUSY when it runs and !force. */
int husk_service_rm(const husk_global_t *g, const char *store, const char *name, bool force,
                    husk_error_t *err);

/* `husk system prune`: removes every leftover of dead containers (see service/prune.c): state
 * folders of stopped or never-saved containers (their cgroups), container folders whose husk was
 * killed (mounts, network namespace, CNI DEL, folder), work folders of killed loads and unused
 * layers. Running containers, and folders and states a live husk holds, are kept. report gets one
 * line per thing removed. A failure does not stop the others; the first is returned. */
typedef void (*husk_prune_report_fn)(void *ud, const char *what);
int husk_system_prune(const husk_global_t *g, const char *store, husk_prune_report_fn report,
                      void *ud, size_t *ret_removed, husk_error_t *err);

/* ---- logs ---- */
typedef struct husk_service_line {
        int stream;         /* 1 stdout, 2 stderr */
        const char *time;   /* RFC 3339 with nanoseconds */
        const char *text;   /* without the newline (partial lines are joined) */
        size_t len;
        bool newline;       /* false: the stream ended without one */
} husk_service_line_t;
typedef struct husk_service_logs_opts {
        bool follow;
        long tail;          /* < 0: all */
        const char *since;  /* NULL, RFC 3339 or a duration (10s, 5m) */
        /* Called for each line; a non-zero return stops the reading. */
        int (*emit)(void *ud, const husk_service_line_t *l);
        void *ud;
} husk_service_logs_opts_t;
int husk_service_logs(const char *store, const char *name, const husk_service_logs_opts_t *o,
                      husk_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
