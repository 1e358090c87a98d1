/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: Lambda-style function workers (issue 8). One internal header for the program:
 *   plan.c    pure logic (names, sizes, durations, REPORT lines, admission), unit-tested
 *   db.c      SQLite (WAL) at STORE/fn/fn.db: function definitions, durable async invocations
 *   zygote.c  a single-threaded helper process forked before any thread: it runs husk_create
 *             (which clones from the calling process) and reaps the workers
 *   host.c    pools of workers per function, invoke, freeze/thaw, deadlines, keep-warm, async
 *   rapi.c    the Runtime API (2018-06-01) served inside each worker's network namespace
 *   front.c   the front door (Lambda's Invoke path)
 *   api.c     Lambda's control plane (CreateFunction, GetFunction, ...: issue 14), an adapter
 *   code.c    a function's code: image references, zip packages unpacked into a task root
 *   esm.c     event source mappings (issue 14): queue pollers invoking functions, their API;
 *             esm_plan.c its pure part (which items of a batch failed), unit-tested
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
/* The front door inside each worker's network namespace (127.0.0.1:9000 there): a function
 * reaches the server's SQS and Lambda APIs, signed with the keys in its environment, and
 * nothing else. At most FN_ENDPOINT_CONNECTIONS connections per worker. */
#define FN_ENDPOINT_PORT 9000
#define FN_ENDPOINT_CONNECTIONS 16
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
/* The member of Lambda's error body that holds the message for an error of this type: the
 * service model spells it "Message" for a few types, "message" for the others. */
const char *fn_error_key(const char *type);

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

/* Lambda's shapes (issue 14). A FunctionName as the API takes it: NAME, NAME:$LATEST,
 * ACCOUNT:function:NAME (a partial ARN) or arn:aws:lambda:REGION:ACCOUNT:function:NAME[:$LATEST].
 * 0 and the name (into name[FN_NAME_MAX + 1]); -EINVAL when it is none of these; -ENOENT for a
 * qualifier other than $LATEST (husk keeps no versions or aliases). */
int fn_arn_name(const char *s, char *name);
/* Lambda's LastModified, "2024-01-01T00:00:00.000+0000", from RFC 3339 UTC text (a record's
 * created/updated). -EINVAL when s is not such a time. */
int fn_lambda_time(const char *rfc3339, char out[32]);
/* CodeSha256: base64 of the SHA-256 of the zip, allocated. */
char *fn_code_sha256(const void *data, size_t len);
/* CodeSha256 of an image function: base64 of the digest its id ("sha256:<hex>") names; NULL when
 * id is not such a digest. */
char *fn_image_code_sha256(const char *image_id);
/* "x86_64" or "arm64": Lambda's name of the host's architecture (NULL on others). */
const char *fn_host_arch(void);

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
        /* Lambda's configuration (issue 14); records made before it read with the defaults. */
        char *description, *role, *runtime;
        char *package_type;    /* "Image" or "Zip" */
        char *code_sha256;     /* base64 SHA-256 of the zip, or of the image id's digest */
        uint64_t code_size;    /* bytes of the zip; 0 for an image */
        char *code_dir;        /* Zip: the unpacked task root (STORE/fn/code/...), else "" */
        char **entrypoint;     /* ImageConfig.EntryPoint, NULL: the image's */
        char **command;        /* ImageConfig.Command, NULL: the image's */
        char *workdir;         /* ImageConfig.WorkingDirectory, "": the image's */
        unsigned ephemeral_mb; /* the size of /tmp (EphemeralStorage), 512 .. 10240 */
        char **tags;           /* key, value, key, value, ..., NULL-terminated, may be NULL */
        bool reserved;         /* concurrency is a reservation (--concurrency, PutFunctionConcurrency) */
} fn_def;
void fn_def_free(fn_def *d);
/* A new definition with husk's defaults (those of `husk fn create`). */
fn_def *fn_def_new(const char *name);
#define FN_CONCURRENCY_DEFAULT 4
#define FN_EPHEMERAL_DEFAULT_MB 512

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

/* Event source mappings (issue 14): a queue of this server feeds a function. */
typedef struct fn_esm_rec {
        char uuid[37];
        char *queue_arn; /* arn:aws:sqs:REGION:ACCOUNT:NAME */
        char *function;  /* the function's name */
        unsigned batch_size, window_s;
        unsigned max_concurrency; /* ScalingConfig.MaximumConcurrency, 0: not set */
        bool report_failures;     /* FunctionResponseTypes [ReportBatchItemFailures] */
        bool enabled;
        char state[16];           /* Creating, Enabled, Disabled, Updating, Deleting */
        char *reason;             /* StateTransitionReason */
        double modified;          /* epoch seconds (set by fn_db_esm_put) */
} fn_esm_rec;
void fn_esm_rec_free(fn_esm_rec *m);
/* create: -EEXIST when a mapping of the same queue and function exists. update: -ENOENT. */
int fn_db_esm_put(fn_db *db, fn_esm_rec *m, bool create, husk_error_t *err);
/* Moves state from -> to (reason NULL: kept); returns 1 when it moved, 0 when the state was
 * not `from` (someone else changed it). */
int fn_db_esm_state(fn_db *db, const char *uuid, const char *from, const char *to,
                    const char *reason, husk_error_t *err);
int fn_db_esm_get(fn_db *db, const char *uuid, fn_esm_rec **ret, husk_error_t *err);
int fn_db_esm_list(fn_db *db, fn_esm_rec ***ret, size_t *ret_n, husk_error_t *err);
int fn_db_esm_rm(fn_db *db, const char *uuid, husk_error_t *err);

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
        const char *zip_base_image;  /* the image Zip functions run on (--zip-base-image) */
        const char *region, *account; /* of ARNs; NULL: us-east-1, 000000000000 */
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
        char *log_tail;         /* fn_invoke_opts.tail: base64 of the log's last 4 KB, or NULL */
        const char *reason;     /* FN_REJECTED: Lambda's throttle Reason */
} fn_result;
void fn_result_done(fn_result *r);

/* Prepares the store folders, opens the db, forks the zygote, removes workers left by a previous
 * run. No thread exists before this returns. */
int fn_host_new(const fn_host_opts *o, fn_host **ret, husk_error_t *err);
/* Starts the reaper (keep-warm, teardown) and the async dispatcher threads. */
int fn_host_run(fn_host *h, husk_error_t *err);
void fn_host_free(fn_host *h);
fn_db *fn_host_db(fn_host *h);
const fn_host_opts *fn_host_options(fn_host *h);
/* What the host cannot enforce (a user without a cgroup: the workers' memory and pids limits),
 * with why and how to get it; NULL when every limit applies. Said once at start. */
const char *fn_host_limits_warning(fn_host *h);
/* arn:aws:lambda:REGION:ACCOUNT:function:NAME of this host, allocated. */
char *fn_host_function_arn(fn_host *h, const char *name);
/* Synchronous invoke: waits for a worker and the result. */
void fn_host_invoke(fn_host *h, const char *name, const char *payload, size_t len, bool may_queue,
                    fn_result *res);
/* What Invoke's headers add (issue 14). */
typedef struct fn_invoke_opts {
        bool tail;                  /* X-Amz-Log-Type: Tail: res->log_tail gets the log's end */
        const char *client_context; /* decoded X-Amz-Client-Context, for the Runtime API */
} fn_invoke_opts;
#define FN_LOG_TAIL_MAX 4096 /* Lambda: the last 4 KB of the invocation's log */
void fn_host_invoke_ex(fn_host *h, const char *name, const char *payload, size_t len,
                       bool may_queue, const fn_invoke_opts *o, fn_result *res);
/* The rest of an invocation after its answer went out: END/REPORT lines, then the worker is
 * frozen and offered again, or removed. Every fn_host_invoke needs one (a no-op when nothing is
 * pending). */
void fn_host_finish(fn_host *h, fn_result *res);
/* Wakes the async dispatcher (a row was added). */
void fn_host_kick(fn_host *h);

/* ---- fnmetrics.c: each function's metrics (issue 17; the families of metrics/metrics.h) ---- */
/* The registry's collector for the host's functions (fn_host_run adds it, fn_host_free removes
 * it first). */
void fn_metrics_start(fn_host *h);
void fn_metrics_stop(fn_host *h);
/* An invocation got its worker: ConcurrentExecutions + 1. */
void fn_metrics_begin(const char *name);
/* ... and ended: ConcurrentExecutions - 1, Invocations and Errors by outcome, Duration when
 * duration_ms >= 0 (the event reached the worker). */
void fn_metrics_end(const char *name, fn_outcome outcome, double duration_ms);
void fn_metrics_throttle(const char *name);
void fn_metrics_iterator_age(const char *name, double age_ms);

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
        char *client_context; /* allocated, or NULL: Lambda-Runtime-Client-Context */
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
/* A phase that began at t0 (ms) is past limit_ms at now. A t0 later than now is not: now - t0
 * would wrap (the watchdog once cut connections whose phase had just changed). */
static inline bool fn_guard_overdue(uint64_t now, uint64_t t0, uint64_t limit_ms)
{
        return now > t0 && now - t0 > limit_ms;
}
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
        struct gw_store *gw;           /* issue 17: apigatewayv2 requests; NULL: 503 */
        struct sched_engine *sched;    /* issue 17: scheduler requests; NULL: 503 */
} fn_front_opts;
typedef struct fn_front fn_front;
fn_front *fn_front_start(fn_host *h, const fn_front_opts *o, unsigned *ret_port, husk_error_t *err);
void fn_front_stop(fn_front *f);
/* The front door on a worker's listening socket (FN_ENDPOINT_PORT in its namespace; listen_fd
 * is taken): the same handler, auth and request guard, FN_ENDPOINT_CONNECTIONS connections.
 * NULL when the daemon cannot start. */
struct MHD_Daemon *fn_front_serve_worker(fn_front *f, int listen_fd);
/* The keys a worker signs with (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): the server's, or
 * fixed dummy ones with --no-auth. */
#define FN_WORKER_KEY_MAX 64
void fn_front_worker_creds(fn_front *f, char key_id[FN_WORKER_KEY_MAX],
                           char secret[FN_WORKER_KEY_MAX]);
/* host.c: the front door the workers reach (fn_front_start sets it, fn_front_stop clears it:
 * then every worker's endpoint daemon is stopped before it returns). */
void fn_host_set_front(fn_host *h, fn_front *f);

/* ---- api.c: Lambda's control plane, an adapter (src/serve/serve.h) ---- */
struct serve_req;
struct serve_resp;
/* Every Lambda REST request but Invoke (SERVE_ROUTE_LAMBDA_API). Fills w. */
void fn_api_handle(fn_host *h, const struct serve_req *r, struct serve_resp *w);
/* Lambda's bounds of a zip package. */
#define FN_ZIP_MAX (50u << 20)            /* zipped (CreateFunction: 50 MB) */
#define FN_ZIP_UNZIPPED_MAX (250u << 20)  /* unzipped, as Lambda */
#define FN_ZIP_ENTRIES_MAX 20000u
/* The request body of CreateFunction and UpdateFunctionCode: a 50 MB zip in base64 inside
 * JSON. Other control-plane requests keep the router's bound. */
#define FN_API_BODY_MAX (70u << 20)
/* The body bound of a control-plane request: FN_API_BODY_MAX for the two that carry code, else
 * 0 (the router's own). */
size_t fn_api_body_max(const char *method, const char *path);

/* ---- esm.c: event source mappings (issue 14) ---- */
#define FN_ESM_BATCH_MAX 10000
#define FN_ESM_BATCH_DEFAULT 10
#define FN_ESM_WINDOW_MAX 300
#define FN_ESM_CONCURRENCY_MIN 2
#define FN_ESM_CONCURRENCY_MAX 1000
/* esm_plan.c: which items of a batch of n failed (failed[i] set), after an invocation that
 * succeeded (ok) or not, with the function's answer body/len. Without report_failures, or when
 * the invocation failed, all of them. With it, Lambda's rules for batchItemFailures: no body,
 * null, an object without the list or with an empty or null list: none; invalid JSON, an item
 * without a non-empty itemIdentifier, or one naming no message of the batch (ids): all.
 * groups (FIFO, else NULL): a failed item fails the items after it in its message group. */
void fn_esm_failures(bool ok, bool report_failures, const char *body, size_t len,
                     const char *const *ids, const char *const *groups, size_t n, bool *failed);
typedef struct fn_esm fn_esm;
/* Starts the mappings' manager: every Enabled mapping gets its pollers, which receive from q
 * and invoke through h. Call after fn_host_run. */
int fn_esm_start(fn_host *h, struct q_engine *q, fn_esm **ret, husk_error_t *err);
/* Stops every poller (an invocation in progress finishes first). Call after
 * q_engine_shutdown and before q_engine_close. */
void fn_esm_stop(fn_esm *e);
/* /2015-03-31/event-source-mappings[/UUID]: Create/Get/List/Update/DeleteEventSourceMapping. */
void fn_esm_handle(fn_host *h, const struct serve_req *r, struct serve_resp *w);

/* ---- code.c ---- */
/* An image reference as `husk fn create --image` takes it: a path is loaded into the store, a
 * name or id is resolved. *ret_id: "sha256:..." */
int fn_image_ref(const char *store, const char *ref, char **ret_id, husk_error_t *err);
/* Unpacks a zip package into a new folder STORE/fn/code/NAME.RANDOM (*ret_dir): regular files,
 * folders and symlinks only (no devices, no setuid/setgid bits, no path out of the folder), at
 * most FN_ZIP_UNZIPPED_MAX bytes and FN_ZIP_ENTRIES_MAX entries, with a `bootstrap` at its top
 * when need_bootstrap. On error nothing is left. */
int fn_zip_unpack(const char *store, const char *name, const void *zip, size_t len,
                  bool need_bootstrap, char **ret_dir, husk_error_t *err);
/* Removes a task root made by fn_zip_unpack (only folders under STORE/fn/code). */
void fn_code_remove(const char *store, const char *dir);
/* At the server's start: removes the task roots no function names (a server killed while it
 * unpacked, or between the unpack and the record). */
void fn_code_sweep(const char *store, fn_db *db);

/* ---- paths ---- */
/* STORE/fn/... paths, allocated. */
char *fn_path(const char *store, const char *rel);

#endif
