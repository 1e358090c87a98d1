/* SPDX-License-Identifier: Apache-2.0 */
/* Detached services (`husk run -d`): the monitor, its log, its records, and the pure rules they
 * follow (restart policy, back-off, log line format, rotation, --since, status text). The pure
 * part (policy.c) is unit tested; the rest runs on the host side only.
 *
 * Files in STORE/containers/ID/ besides what image prepare makes:
 *   service.json  written once by `run -d`: name, image, command, created, policy, ports, root
 *   monitor.json  the monitor's pid and start time, its phase, the current run's start
 *   exit.json     the last exit: exitCode, signal, finishedAt, restarts, oomKilled
 *   stop          present while `stop`/`rm`/`restart` ends the container: no restart follows
 *   ctr.log       "TIME STREAM F|P TEXT" lines; ctr.log.1 is the one rotated file */
#ifndef HUSK_SERVICE_INTERNAL_H
#define HUSK_SERVICE_INTERNAL_H

#include "husk/service.h"
#include "util/util.h"

#include <stdint.h>

#define SVC_FILE "service.json"
#define SVC_MONITOR_FILE "monitor.json"
#define SVC_EXIT_FILE "exit.json"
#define SVC_STOP_FILE "stop"
#define SVC_LOG_FILE "ctr.log"
#define SVC_LOG_OLD "ctr.log.1"

#define SVC_LOG_MAX_DEFAULT (10u << 20)
#define SVC_LOG_LINE_MAX 16384 /* longer lines are split into P(artial) records */

#define SVC_BACKOFF_MIN_MS 100
#define SVC_BACKOFF_MAX_MS 10000
#define SVC_BACKOFF_RESET_MS 10000 /* a run this long resets the back-off */

/* ---- restart policy ---- */
typedef enum svc_restart_kind {
        SVC_RESTART_NO = 0,
        SVC_RESTART_ON_FAILURE,
        SVC_RESTART_ALWAYS,
} svc_restart_kind;

typedef struct svc_policy {
        svc_restart_kind kind;
        unsigned max; /* on-failure:N; 0 = no limit */
} svc_policy;

/* "no", "on-failure", "on-failure:N" (N >= 0), "always", "unless-stopped" (= always: husk has no
 * daemon that outlives a reboot). NULL or "" is "no". */
int svc_policy_parse(const char *s, svc_policy *ret, husk_error_t *err);
/* "no", "on-failure", "on-failure:3", "always" (static or into buf). */
const char *svc_policy_name(const svc_policy *p);
/* Restart after an exit with exit_code (128+signal for a signal), given the restarts so far? */
bool svc_policy_wants_restart(const svc_policy *p, int exit_code, unsigned restarts);

/* ---- back-off ---- */
typedef struct svc_backoff {
        uint64_t next_ms; /* 0: not started (the first wait is SVC_BACKOFF_MIN_MS) */
} svc_backoff;
/* The wait before the next start after a run of ran_ms: 100 ms doubling up to 10 s, back to
 * 100 ms after a run of 10 s or more. */
uint64_t svc_backoff_next(svc_backoff *b, uint64_t ran_ms);

/* ---- time ---- */
int64_t svc_now(void); /* CLOCK_REALTIME in ns */
/* RFC 3339 UTC with nanoseconds ("2026-11-29T05:58:01.123456789Z") into buf (>= 40 bytes). */
void svc_time_format(int64_t ns, char *buf, size_t len);
/* RFC 3339: date "T" time, optional fraction, "Z" or +hh:mm / -hh:mm. -EINVAL otherwise. */
int svc_time_parse(const char *s, int64_t *ret_ns);
/* --since: RFC 3339, a date "YYYY-MM-DD", unix seconds, or a duration before now ("10s",
 * "5m", "1h30m", "250ms"). */
int svc_since_parse(const char *s, int64_t now_ns, int64_t *ret_ns);
/* "Less than a second", "1 second", "5 seconds", "About a minute", "3 minutes", "About an
 * hour", "5 hours", "3 days", "2 weeks", "4 months", "2 years". */
void svc_human_duration(int64_t ns, char *buf, size_t len);

/* ---- log records ---- */
enum { SVC_STDOUT = 1, SVC_STDERR = 2 };
typedef struct svc_log_rec {
        int64_t ts;
        int stream; /* SVC_STDOUT / SVC_STDERR */
        bool partial;
        const char *text; /* into the parsed line, without the newline */
        size_t len;
} svc_log_rec;
/* One record, newline-terminated, allocated: "TIME STREAM F|P TEXT\n". */
char *svc_log_format(int64_t ts, int stream, bool partial, const char *text, size_t len,
                     size_t *ret_len);
/* Parse one record (line without or with its trailing newline). -EINVAL when malformed. */
int svc_log_parse(const char *line, size_t len, svc_log_rec *ret);
/* Rotate before writing add bytes to a file of cur bytes bounded by max? (never an empty file:
 * a record larger than max still goes somewhere). */
bool svc_log_should_rotate(uint64_t cur, uint64_t add, uint64_t max);
/* "10m", "512k", "1g", "4096" (1024-based) -> bytes; -EINVAL, or -ERANGE under 4 KiB. */
int svc_size_parse(const char *s, uint64_t *ret);

/* ---- status ---- */
/* "Up 3 minutes", "Exited (3) 2 seconds ago", "Created", "Restarting (1) 5 seconds ago",
 * "Stopping", "Paused", from the service's status. */
void svc_status_text(const husk_service_info_t *i, int64_t now, char *buf, size_t len);
/* "[HOSTIP:]HOSTPORT:CTRPORT[/PROTO]" -> "HOSTIP:HOSTPORT->CTRPORT/PROTO" (0.0.0.0, tcp by
 * default), allocated; NULL when it does not parse. */
char *svc_port_text(const char *spec);

/* "SIGTERM", "TERM", "term", "15", "RTMIN+2" -> signal number; -EINVAL otherwise. */
int svc_signal_parse(const char *s, int *ret);

/* ---- log writer (monitor) ---- */
typedef struct svc_logw {
        int dirfd; /* the container folder (not owned) */
        int fd;    /* ctr.log, O_APPEND */
        uint64_t size, max;
        char buf[2][SVC_LOG_LINE_MAX]; /* a line in progress per stream */
        size_t len[2];
} svc_logw;
int svc_logw_open(svc_logw *w, int dirfd, uint64_t max, husk_error_t *err);
/* Feed bytes read from a stream; full lines become records, a full buffer a partial one. */
void svc_logw_feed(svc_logw *w, int stream, const char *data, size_t n);
/* The stream ended: a line in progress becomes a partial record. */
void svc_logw_flush(svc_logw *w, int stream);
void svc_logw_close(svc_logw *w);

/* ---- records (records.c) ---- */
/* Open STORE/containers/NAME (exact name, or a unique prefix of >= 4 characters of a generated
 * id). Fills the id and the folder fd. */
int svc_resolve(const char *store, const char *name, char **ret_id, int *ret_dirfd,
                husk_error_t *err);
/* The store path (absolute) for store (NULL: $HUSK_STORE or the default). */
char *svc_store_path(const char *store);
/* The monitor recorded in dirfd is alive (pid and start time match). */
bool svc_monitor_alive(int dirfd, pid_t *ret_pid, uint64_t *ret_start);
/* Write monitor.json atomically. */
int svc_write_monitor(int dirfd, const char *phase, int64_t started, unsigned restarts,
                      pid_t ctr_pid);
/* process.args of the bundle's config.json (empty when unreadable), allocated. */
char **svc_config_args(int dirfd);
/* Only what service.json says (no status, config or exit): the monitor's start. */
int svc_record_load(int dirfd, const char *store, const char *id, husk_service_info_t *ret,
                    husk_error_t *err);
/* Load the info of the container in dirfd (id known). */
int svc_info_load(int dirfd, const char *store, const char *id, husk_service_info_t *ret,
                  husk_error_t *err);
/* husk_global_t for the root the container was run with (its service.json). */
void svc_global_for(const husk_global_t *caller, const husk_service_info_t *i, husk_global_t *ret);

/* ---- prune.c ---- */
/* rm of STORE/containers/NAME made by a foreground `husk run IMAGE` (no service.json): its state
 * (in the root it was made for) and folder. 1 (err untouched) when there is no such folder. */
int svc_rm_folder(const husk_global_t *g, const char *store, const char *name, bool force,
                  husk_error_t *err);

/* ---- monitor (monitor.c) ---- */
/* Fork the monitor for the prepared container in STORE/containers/ID (service.json written)
 * and wait for its first start. */
int svc_monitor_spawn(const husk_global_t *g, const char *store, const char *id, husk_error_t *err);

#endif
