/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: Lambda-style function workers (issue 8). One internal header for the program:
 *   plan.c    pure logic (names, sizes, durations, REPORT lines, admission), unit-tested
 *   db.c      SQLite (WAL) at STORE/fn/fn.db: function definitions, durable async invocations
 *   zygote.c  a single-threaded helper process forked before any thread: it runs husk_create
 *             (which clones from the calling process) and reaps the workers
 *   host.c    pools of workers per function, invoke, freeze/thaw, deadlines, keep-warm, async
 *   rapi.c    the Runtime API (2018-06-01) served inside each worker's network namespace
 *   front.c   the front door (Lambda's Invoke path)
 *   main.c    the command line (create, ls, inspect, rm, update, logs, serve, invoke) */
#ifndef HUSK_FN_H
#define HUSK_FN_H

#include "husk/husk.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <microhttpd.h>

#define FN_NAME_MAX 64
#define FN_SYNC_PAYLOAD_MAX (6u * 1024 * 1024) /* Lambda: 6 MB request and response (sync) */
#define FN_ASYNC_PAYLOAD_MAX (256u * 1024)     /* Lambda: 256 KB (Event) */
#define FN_ASYNC_ATTEMPTS 3                    /* the first run and two retries */
#define FN_RUNTIME_API_PORT 9001
#define FN_DEFAULT_LISTEN "127.0.0.1:9000"
/* Bounds of a worker and of what it leaves behind (issue 12). */
#define FN_PIDS_DEFAULT 1024                 /* Lambda: 1024 processes and threads */
#define FN_LOG_MAX_DEFAULT (10u << 20)       /* NAME.log rotates to NAME.log.1, as services */
#define FN_LOG_RATE_DEFAULT (1u << 20)       /* output bytes per second of one invocation */
#define FN_EVENT_QUEUE_DEFAULT 1000          /* unfinished async events per function */
#define FN_EVENT_MAX_AGE_MS (6ull * 3600 * 1000) /* Lambda's async queue: 6 hours */
#define FN_EVENT_KEEP 100                    /* finished events kept per function ... */
#define FN_EVENT_KEEP_MS (3600ull * 1000)    /* ... for at most one hour */
#define FN_EVENT_RESULT_MAX 4096             /* bytes of a finished event's result kept */
#define FN_REQUEST_TIMEOUT_DEFAULT_MS 30000  /* to receive one request's headers and body */
#define FN_FRONT_CONNECTIONS 1024
#define FN_FRONT_PER_IP 512
#define FN_RAPI_CONNECTIONS 4                /* a bootstrap uses one */

typedef struct fn_guard fn_guard; /* guard.c */

/* ---- plan.c: pure logic ---- */

/* Lambda's rule: 1..64 of [A-Za-z0-9_-]. */
bool fn_name_valid(const char *name);
/* "128", "128M", "128MB", "1G" -> MB (1024-based). Range 16 .. 10240. */
int fn_parse_memory_mb(const char *s, unsigned *ret);
/* "3", "3s", "500ms", "10m", "1h" -> milliseconds ("0" allowed: keep-warm 0 = stop at once). */
int fn_parse_duration_ms(const char *s, uint64_t *ret);
/* Lambda bills whole milliseconds, rounded up, at least 1. */
uint64_t fn_billed_ms(uint64_t duration_ns);
/* "REPORT RequestId: ID\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
 *  Max Memory Used: 5 MB\t[Init Duration: 12.34 ms\t]" (no newline), allocated. */
char *fn_report_line(const char *req_id, uint64_t duration_ns, unsigned memory_mb,
                     uint64_t max_used_bytes, uint64_t init_ns);
/* "Task timed out after 3.00 seconds" */
char *fn_timeout_message(uint64_t timeout_ms);
/* "Runtime exited with error: exit status 2" / "...: signal: killed" for a wait status. */
char *fn_exit_message(int wait_status);

/* Front-door path: "/2015-03-31/functions/NAME/invocations" (the query string is not part of
 * url). 0 and the name (copied into name[FN_NAME_MAX + 1]); -ENOENT when the path is not the
 * Invoke path; -EINVAL when the name segment is not a valid function name. */
int fn_parse_invoke_path(const char *url, char *name);

/* Admission of one invocation into a function's pool. */
typedef struct fn_counts {
        unsigned alive;   /* workers that exist (starting, idle, busy, being torn down) */
        unsigned idle;    /* ready and without an invocation */
        unsigned waiting; /* sync invocations queued for a worker */
} fn_counts;
typedef enum fn_admit_t {
        FN_ADMIT_WARM,   /* take an idle worker */
        FN_ADMIT_COLD,   /* start one more worker */
        FN_ADMIT_WAIT,   /* queue until a worker is free */
        FN_ADMIT_REJECT, /* 429: at the concurrency limit and the queue is full */
} fn_admit_t;
fn_admit_t fn_admit(const fn_counts *c, unsigned concurrency, unsigned max_queue, bool may_queue);

/* Delay before async attempt number `attempts + 1` (attempts already made), in ms; -1: give up. */
int64_t fn_retry_delay_ms(unsigned attempts, uint64_t base_ms);

/* A KEY=VALUE for a function's environment: a non-empty name of printable characters without
 * '=', a value without control characters (the record keeps one variable per line). 0, or
 * -EINVAL with the reason in why. */
int fn_env_check(const char *kv, char *why, size_t why_len);
/* No control characters (C0, DEL): text that is stored in a record and printed. */
bool fn_text_printable(const char *s);

/* Output rate of one invocation: a budget of `rate` bytes per one-second window. */
typedef struct fn_rate {
        uint64_t rate, window_start_ms, used, dropped;
} fn_rate;
/* How many of n bytes written at now_ms may go to the log; the rest counts as dropped. When a
 * new window begins with bytes dropped in the previous one, *ret_flushed gets their count
 * (the caller writes the marker line) and the count restarts. */
size_t fn_rate_take(fn_rate *r, uint64_t now_ms, size_t n, uint64_t *ret_flushed);

/* A random RFC 4122 version 4 uuid, 36 characters + NUL. */
void fn_uuid(char out[37]);

/* ---- db.c ---- */
typedef struct fn_def {
        char *name;
        char *image;    /* as given to create (name or archive path) */
        char *image_id; /* "sha256:..." loaded at create */
        char *handler;  /* _HANDLER */
        unsigned memory_mb;
        uint64_t timeout_ms;
        unsigned concurrency;
        unsigned max_queue; /* sync invocations that may wait for a worker; more get 429 */
        uint64_t keep_warm_ms;
        unsigned pids;         /* pids.max of each worker */
        uint64_t log_max_size; /* NAME.log rotates past it */
        uint64_t log_rate;     /* bytes per second one invocation may write to the log */
        unsigned max_events;   /* unfinished async events; more get 429 */
        char **env; /* K=V, NULL-terminated, may be NULL */
        char created[40], updated[40];
} fn_def;
void fn_def_free(fn_def *d);

typedef struct fn_db fn_db;
int fn_db_open(const char *path, fn_db **ret, husk_error_t *err);
void fn_db_close(fn_db *db);
/* create: -EEXIST when the name is taken. update: -ENOENT when it is not. */
int fn_db_put(fn_db *db, const fn_def *d, bool create, husk_error_t *err);
/* -ENOENT when absent (err filled). */
int fn_db_get(fn_db *db, const char *name, fn_def **ret, husk_error_t *err);
int fn_db_list(fn_db *db, fn_def ***ret, size_t *ret_n, husk_error_t *err);
int fn_db_rm(fn_db *db, const char *name, husk_error_t *err);

/* Durable async invocations. State: pending -> running -> done | failed (or back to pending). */
typedef struct fn_async {
        char id[37];
        char *function;
        char *payload;
        size_t len;
        unsigned attempts;
} fn_async;
void fn_async_free(fn_async *a);
/* Committed (and synced) before it returns: the 202 is sent after. -EAGAIN (err says so) when
 * the function already has max_unfinished events pending or running. */
int fn_db_async_add(fn_db *db, const char *id, const char *function, const char *payload,
                    size_t len, unsigned max_unfinished, uint64_t now_ms, husk_error_t *err);
/* Claims up to max pending rows due at now_ms (-> running, attempts + 1). Rows older than
 * FN_EVENT_MAX_AGE_MS are not run: they fail as expired. */
int fn_db_async_claim(fn_db *db, uint64_t now_ms, size_t max, fn_async **ret, size_t *ret_n,
                      husk_error_t *err);
/* Done (ok), or pending again at next_ms, or failed (next_ms < 0). A finished row loses its
 * payload and keeps FN_EVENT_RESULT_MAX bytes of its result. */
int fn_db_async_finish(fn_db *db, const char *id, bool ok, int64_t next_ms, const char *result,
                       husk_error_t *err);
/* Removes finished rows older than keep_ms at now_ms and all but the newest `keep` finished
 * rows of each function. */
int fn_db_async_purge(fn_db *db, uint64_t now_ms, unsigned keep, uint64_t keep_ms,
                      husk_error_t *err);
/* A claimed row that did not run (the host is stopping): pending again, the attempt not counted. */
int fn_db_async_release(fn_db *db, const char *id, husk_error_t *err);
/* After a restart: running rows were interrupted; they run again. */
int fn_db_async_recover(fn_db *db, husk_error_t *err);
int fn_db_async_counts(fn_db *db, const char *function, unsigned counts[4], husk_error_t *err);

/* ---- zygote.c ---- */
typedef struct fn_zygote fn_zygote;
/* Forks the helper. Call before any thread exists. on_exit(ud, pid, status) is called from the
 * zygote reader thread when a worker's init exits. */
int fn_zygote_start(const char *root, void (*on_exit)(void *ud, pid_t pid, int status), void *ud,
                    fn_zygote **ret, husk_error_t *err);
/* husk_create of id from bundle with out_fd as the process's stdout and stderr; *ret_pid. */
int fn_zygote_create(fn_zygote *z, const char *id, const char *bundle, int out_fd, pid_t *ret_pid,
                     husk_error_t *err);
/* Starts the thread that reads replies and exits (once threads are allowed). */
void fn_zygote_start_reader(fn_zygote *z);
void fn_zygote_stop(fn_zygote *z);

/* ---- host.c ---- */
typedef struct fn_host_opts {
        const char *store;   /* the husk store; fn state under STORE/fn */
        uint64_t init_timeout_ms; /* default 10 s */
        uint64_t retry_base_ms;   /* async retry delay base, default 1000 */
        uint64_t request_timeout_ms; /* receiving one request (front door, Runtime API) */
} fn_host_opts;

typedef struct fn_host fn_host;

typedef enum fn_outcome {
        FN_OK = 0,        /* the function's response */
        FN_FUNC_ERROR,    /* the function reported an error, timed out, crashed, or init failed */
        FN_REJECTED,      /* 429 */
        FN_NOT_FOUND,     /* 404 */
        FN_HOST_ERROR,    /* 500: the host could not run it */
} fn_outcome;

typedef struct fn_result {
        fn_outcome outcome;
        char request_id[37];
        char *body; /* the response, or the error JSON */
        size_t len;
        const char *error_kind; /* X-Amz-Function-Error ("Unhandled"), NULL when none */
        void *pending;          /* the worker's end of the invocation: fn_host_finish */
} fn_result;
void fn_result_done(fn_result *r);

/* Prepares the store folders, opens the db, forks the zygote, removes workers left by a previous
 * run. No thread exists before this returns. */
int fn_host_new(const fn_host_opts *o, fn_host **ret, husk_error_t *err);
/* Starts the reaper (keep-warm, teardown) and the async dispatcher threads. */
int fn_host_run(fn_host *h, husk_error_t *err);
void fn_host_free(fn_host *h);
fn_db *fn_host_db(fn_host *h);
/* Synchronous invoke: waits for a worker and the result. */
void fn_host_invoke(fn_host *h, const char *name, const char *payload, size_t len, bool may_queue,
                    fn_result *res);
/* The rest of an invocation after its answer went out: END/REPORT lines, then the worker is
 * frozen and offered again, or removed. Every fn_host_invoke needs one (a no-op when nothing is
 * pending). */
void fn_host_finish(fn_host *h, fn_result *res);
/* Wakes the async dispatcher (a row was added). */
void fn_host_kick(fn_host *h);

/* ---- rapi.c: the Runtime API of one worker ---- */
typedef struct fn_worker fn_worker;
struct MHD_Daemon;
/* Serves the Runtime API on listen_fd (taken). */
int fn_rapi_start(fn_worker *w, int listen_fd, fn_guard *g, struct MHD_Daemon **ret,
                  husk_error_t *err);
/* Called by rapi.c (implemented in host.c). */
typedef struct fn_next {
        char request_id[37];
        char *payload; /* allocated, the caller frees */
        size_t len;
        uint64_t deadline_ms;
        const char *function_arn;
} fn_next;
/* Blocks until the worker has an invocation; -1 when the worker is going away. */
int fn_worker_next(fn_worker *w, fn_next *n);
/* Result of invocation id: error_type NULL for /response. -ENOENT when id is not current. */
int fn_worker_result(fn_worker *w, const char *id, const char *body, size_t len,
                     const char *error_type);
void fn_worker_init_error(fn_worker *w, const char *body, size_t len, const char *error_type);

/* ---- guard.c: bounded request phases on an MHD daemon ---- */
typedef enum fn_guard_phase {
        FN_GUARD_RECEIVING, /* bounded: the request's headers and body are arriving */
        FN_GUARD_BUSY,      /* the handler works (an invocation, a blocking /next) */
        FN_GUARD_SENDING,   /* bounded: the answer is queued and going out */
        FN_GUARD_IDLE,      /* between requests: bounded as receiving when bound_idle */
        FN_GUARD_CUT,       /* shut down by the watchdog */
} fn_guard_phase;
/* limit_ms for each bounded phase. bound_idle: the wait for the next request on a kept-alive
 * connection is bounded too (the front door); otherwise a request is timed from its request
 * line (fn_guard_uri_log as MHD_OPTION_URI_LOG_CALLBACK). */
fn_guard *fn_guard_new(uint64_t limit_ms, bool bound_idle);
void fn_guard_free(fn_guard *g);
/* While paused (a frozen worker) time does not count. */
void fn_guard_pause(fn_guard *g, bool paused);
/* MHD_OPTION_NOTIFY_CONNECTION, with the guard as its closure. */
void fn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);
void fn_guard_set(struct MHD_Connection *c, fn_guard_phase phase);
void *fn_guard_uri_log(void *cls, const char *uri, struct MHD_Connection *c);

/* ---- front.c: the one front door (Lambda, SQS JSON, SQS query) ---- */
struct q_engine;
struct serve_auth;
typedef struct fn_front_opts {
        const char *listen;      /* ADDRESS:PORT, NULL: FN_DEFAULT_LISTEN */
        const char *listen_unix; /* also a unix socket (mode 0600) there, or NULL */
        uint64_t request_timeout_ms;
        struct q_engine *queue;  /* NULL: SQS requests answer 503 with queue_error */
        const char *queue_error;
        const struct serve_auth *auth; /* NULL: --no-auth; else copied */
        const char *store;             /* where STORE/credentials is read again on change */
} fn_front_opts;
typedef struct fn_front fn_front;
fn_front *fn_front_start(fn_host *h, const fn_front_opts *o, unsigned *ret_port, husk_error_t *err);
void fn_front_stop(fn_front *f);

/* ---- paths ---- */
/* STORE/fn/... paths, allocated. */
char *fn_path(const char *store, const char *rel);

#endif
