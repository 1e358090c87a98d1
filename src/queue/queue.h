/* SPDX-License-Identifier: Apache-2.0 */
/* husk queues (issue 13): the queue engine. Amazon SQS's semantics over SQLite, with no HTTP:
 * the SQS JSON adapter, the SQS query/XML adapter and `husk queue ...` all call these functions,
 * and unit tests call them directly with an injected clock.
 *
 * Durability: SQLite in WAL mode. A function that changes state returns only after its change
 * is committed to disk (the WAL fsync'd, as synchronous=FULL does; engine.c says how).
 * Concurrent callers share commits (group commit), so a batch and a burst of concurrent sends
 * cost one fsync, not one per message.
 *
 * Threads: every function may be called from many threads at once (one per connection).
 * q_receive() blocks up to its wait time (long polling) on a condition variable and returns as
 * soon as a message becomes visible; it never busy-waits. q_engine_shutdown() wakes every waiter.
 *
 * Names, not URLs: the engine knows queues by name. q_name_from_url() turns a QueueUrl (or a
 * bare name) into a name; adapters build URLs and ARNs with q_queue_url() / q_queue_arn().
 *
 * Errors: a failing call returns -1 and fills q_error (code + AWS-style message). Batch calls
 * return 0 when the batch as a whole was valid and report each entry's outcome in its result. */
#ifndef HUSK_QUEUE_H
#define HUSK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits, as AWS documents them ---- */
#define Q_NAME_MAX 80               /* [A-Za-z0-9_-]{1,80}, a FIFO queue's name ends in ".fifo" */
#define Q_MESSAGE_MAX (256u * 1024) /* body + attributes (names, types, values) */
#define Q_BATCH_MAX 10              /* entries per batch request */
#define Q_BATCH_ID_MAX 80           /* [A-Za-z0-9_-]{1,80} */
#define Q_RECEIVE_MAX 10
#define Q_WAIT_MAX 20               /* seconds of long polling */
#define Q_VISIBILITY_MAX 43200      /* 12 hours */
#define Q_DELAY_MAX 900             /* 15 minutes */
#define Q_RETENTION_MIN 60
#define Q_RETENTION_MAX 1209600     /* 14 days */
#define Q_RETENTION_DEFAULT 345600  /* 4 days */
#define Q_VISIBILITY_DEFAULT 30
#define Q_DEDUP_WINDOW_MS (5 * 60 * 1000)
#define Q_PURGE_INTERVAL_MS (60 * 1000)
#define Q_MSG_ATTRS_MAX 10          /* message attributes per message */
#define Q_TAGS_MAX 50
#define Q_LIST_MAX 1000             /* ListQueues page size bound */
#define Q_INFLIGHT_MAX_STANDARD 120000
#define Q_INFLIGHT_MAX_FIFO 20000
#define Q_QUEUES_MAX 10000          /* husk's bound on queues per store (named in the error) */
#define Q_DEFAULT_REGION "us-east-1"
#define Q_DEFAULT_ACCOUNT "000000000000"

/* ---- errors ---- */
typedef enum q_errcode {
        Q_OK = 0,
        Q_E_NONEXISTENT_QUEUE,    /* JSON: QueueDoesNotExist; query: AWS.SimpleQueueService.NonExistentQueue */
        Q_E_QUEUE_EXISTS,         /* QueueAlreadyExists (query: QueueAlreadyExists) */
        Q_E_QUEUE_DELETED_RECENTLY, /* QueueDeletedRecently (60 s after DeleteQueue) */
        Q_E_INVALID_PARAMETER,    /* InvalidParameterValue */
        Q_E_MISSING_PARAMETER,    /* MissingParameter */
        Q_E_INVALID_ATTRIBUTE_NAME, /* InvalidAttributeName */
        Q_E_INVALID_ATTRIBUTE_VALUE, /* InvalidAttributeValue */
        Q_E_INVALID_MESSAGE_CONTENTS, /* InvalidMessageContents (forbidden characters) */
        Q_E_RECEIPT_HANDLE_INVALID, /* ReceiptHandleIsInvalid */
        Q_E_MESSAGE_NOT_INFLIGHT, /* MessageNotInflight */
        Q_E_PURGE_IN_PROGRESS,    /* PurgeQueueInProgress (query: AWS.SimpleQueueService.PurgeQueueInProgress) */
        Q_E_EMPTY_BATCH,          /* EmptyBatchRequest (query: AWS.SimpleQueueService.EmptyBatchRequest) */
        Q_E_TOO_MANY_ENTRIES,     /* TooManyEntriesInBatchRequest (query: AWS.SimpleQueueService.TooManyEntriesInBatchRequest) */
        Q_E_BATCH_IDS_NOT_DISTINCT, /* BatchEntryIdsNotDistinct (query: AWS.SimpleQueueService.BatchEntryIdsNotDistinct) */
        Q_E_INVALID_BATCH_ENTRY_ID, /* InvalidBatchEntryId (query: AWS.SimpleQueueService.InvalidBatchEntryId) */
        Q_E_BATCH_TOO_LONG,       /* BatchRequestTooLong (query: AWS.SimpleQueueService.BatchRequestTooLong) */
        Q_E_OVER_LIMIT,           /* OverLimit (in-flight bound, queue count bound, tag count) */
        Q_E_UNSUPPORTED_OPERATION, /* UnsupportedOperation (query: AWS.SimpleQueueService.UnsupportedOperation) */
        Q_E_RESOURCE_NOT_FOUND,   /* ResourceNotFoundException (move tasks) */
        Q_E_INTERNAL,             /* InternalError, HTTP 500 */
} q_errcode;

typedef struct q_error {
        q_errcode code;
        char msg[512];
} q_error;

/* The error's name in the JSON protocol ("QueueDoesNotExist") and in the query protocol
 * ("AWS.SimpleQueueService.NonExistentQueue"), its HTTP status (400, or 500 for Q_E_INTERNAL),
 * and whether it is the sender's fault (true for all but Q_E_INTERNAL). */
const char *q_err_json_name(q_errcode c);
const char *q_err_query_name(q_errcode c);
unsigned q_err_status(q_errcode c);
bool q_err_sender_fault(q_errcode c);

/* ---- small shared types ---- */
typedef struct q_kv {
        char *name;
        char *value;
} q_kv;

typedef struct q_kvs {
        q_kv *v;
        size_t n;
} q_kvs;
void q_kvs_add(q_kvs *k, const char *name, const char *value); /* copies both */
const char *q_kvs_get(const q_kvs *k, const char *name);
void q_kvs_free(q_kvs *k);

/* A message attribute: DataType is "String", "Number" or "Binary", optionally followed by
 * ".CustomLabel". String and Number carry string_value; Binary carries binary_value. */
typedef struct q_msg_attr {
        char *name;
        char *data_type;
        char *string_value;
        unsigned char *binary_value;
        size_t binary_len;
} q_msg_attr;
void q_msg_attrs_free(q_msg_attr *a, size_t n);

/* MD5 (lower-case hex, 32 chars + NUL) of a body, and of message attributes computed exactly as
 * SQS does (attributes sorted by name; for each: 4-byte big-endian length + name, length + data
 * type, one transport byte 1 = string/number or 2 = binary, length + value). n == 0 gives "". */
void q_md5_body(const char *body, size_t len, char out[33]);
void q_md5_attrs(const q_msg_attr *a, size_t n, char out[33]);

/* ---- the engine ---- */
typedef struct q_engine q_engine;

/* Milliseconds since the epoch. Tests inject their own; NULL means the real clock. */
typedef uint64_t (*q_clock_fn)(void *ctx);

typedef struct q_config {
        const char *region;  /* NULL: Q_DEFAULT_REGION */
        const char *account; /* NULL: Q_DEFAULT_ACCOUNT (12 digits) */
        q_clock_fn clock;
        void *clock_ctx;
} q_config;

/* Opens (creating) the database at path (e.g. STORE/queue/queue.db): WAL, synchronous=FULL.
 * In-flight messages of a previous run stay invisible until their visibility timeout ends. */
int q_engine_open(const char *path, const q_config *cfg, q_engine **ret, q_error *err);
/* Wakes every q_receive() waiter (they return what they have, possibly nothing), then lets no
 * new wait start. Call before q_engine_close() when other threads may be inside. */
void q_engine_shutdown(q_engine *q);
void q_engine_close(q_engine *q);
const char *q_engine_region(const q_engine *q);
const char *q_engine_account(const q_engine *q);

/* Name checks and naming. q_name_from_url accepts "NAME", "/ACCOUNT/NAME" or
 * "http(s)://HOST[:PORT]/ACCOUNT/NAME" (a trailing slash is refused); the account must be ours.
 * Returns -1 with Q_E_NONEXISTENT_QUEUE or Q_E_INVALID_PARAMETER otherwise. */
bool q_name_valid(const char *name);
int q_name_from_url(const q_engine *q, const char *url, char name[Q_NAME_MAX + 1], q_error *err);
char *q_queue_url(const q_engine *q, const char *host, const char *name); /* http://HOST/ACCOUNT/NAME */
char *q_queue_arn(const q_engine *q, const char *name); /* arn:aws:sqs:REGION:ACCOUNT:NAME */

/* ---- queues ---- */
/* Attributes are AWS's names and string values: VisibilityTimeout, DelaySeconds,
 * MessageRetentionPeriod, MaximumMessageSize, ReceiveMessageWaitTimeSeconds, RedrivePolicy (JSON
 * text: deadLetterTargetArn, maxReceiveCount), RedriveAllowPolicy (JSON text), FifoQueue,
 * ContentBasedDeduplication, DeduplicationScope, FifoThroughputLimit, KmsMasterKeyId,
 * KmsDataKeyReusePeriodSeconds, SqsManagedSseEnabled, Policy (stored as given). Read-only ones
 * (QueueArn, CreatedTimestamp, LastModifiedTimestamp, ApproximateNumberOfMessages,
 * ApproximateNumberOfMessagesNotVisible, ApproximateNumberOfMessagesDelayed) are refused on
 * create/set with Q_E_INVALID_ATTRIBUTE_NAME. */

/* Creates NAME; an existing queue with the same attributes is success (*ret_created = false),
 * with other attributes Q_E_QUEUE_EXISTS. */
int q_create(q_engine *q, const char *name, const q_kvs *attrs, const q_kvs *tags,
             bool *ret_created, q_error *err);
/* 0 when the queue exists, -1 with Q_E_NONEXISTENT_QUEUE otherwise. */
int q_exists(q_engine *q, const char *name, q_error *err);
/* Names in name order, starting after next_token (NULL: from the start); max 0 means up to
 * Q_LIST_MAX. *ret_next is set (allocated) when more remain and max was given, else NULL. */
int q_list(q_engine *q, const char *prefix, unsigned max, const char *next_token, char ***ret_names,
           size_t *ret_n, char **ret_next, q_error *err);
int q_delete(q_engine *q, const char *name, q_error *err);
/* Deletes every message; a second purge within Q_PURGE_INTERVAL_MS: Q_E_PURGE_IN_PROGRESS. */
int q_purge(q_engine *q, const char *name, q_error *err);
/* names: AWS attribute names, or "All"; n == 0 returns nothing. Unknown name:
 * Q_E_INVALID_ATTRIBUTE_NAME. Values as AWS renders them (numbers in decimal, booleans
 * "true"/"false", timestamps in epoch seconds). */
int q_get_attrs(q_engine *q, const char *name, const char *const *names, size_t n, q_kvs *ret,
                q_error *err);
int q_set_attrs(q_engine *q, const char *name, const q_kvs *attrs, q_error *err);
int q_tag(q_engine *q, const char *name, const q_kvs *tags, q_error *err);
int q_untag(q_engine *q, const char *name, const char *const *keys, size_t n, q_error *err);
int q_list_tags(q_engine *q, const char *name, q_kvs *ret, q_error *err);
/* Queues whose RedrivePolicy names this queue as their dead-letter queue (paged as q_list). */
int q_dlq_sources(q_engine *q, const char *name, unsigned max, const char *next_token,
                  char ***ret_names, size_t *ret_n, char **ret_next, q_error *err);

/* ---- messages ---- */
typedef struct q_send_entry {
        const char *id; /* batch entry id ([A-Za-z0-9_-]{1,80}); NULL for SendMessage */
        const char *body;
        size_t body_len;
        int32_t delay_seconds; /* -1: the queue's DelaySeconds */
        const q_msg_attr *attrs;
        size_t n_attrs;
        const q_msg_attr *sys_attrs; /* MessageSystemAttributes (AWSTraceHeader only) */
        size_t n_sys_attrs;
        const char *group_id; /* FIFO: required; standard: refused */
        const char *dedup_id; /* FIFO: required unless ContentBasedDeduplication */
} q_send_entry;

typedef struct q_send_result {
        q_errcode code; /* Q_OK, or this entry's failure (batch only; with message) */
        char message[256];
        char message_id[37];
        char md5_body[33];
        char md5_attrs[33];     /* "" when the message has no attributes */
        char md5_sys_attrs[33]; /* "" when none */
        char sequence_number[24]; /* FIFO only, else "" (20 digits, increasing per queue) */
} q_send_result;

/* Sends n entries (n == 1 and e->id == NULL for SendMessage) in one commit. Whole-request
 * errors (-1): n == 0 (Q_E_EMPTY_BATCH), n > Q_BATCH_MAX, ids not distinct or invalid, total
 * size over Q_MESSAGE_MAX (Q_E_BATCH_TOO_LONG), no such queue. For SendMessage (id == NULL) an
 * invalid entry is also a -1 error. sender_id: the caller's access key id (SenderId). */
int q_send(q_engine *q, const char *queue, const char *sender_id, const q_send_entry *e, size_t n,
           q_send_result *res, q_error *err);

typedef struct q_receive_req {
        uint32_t max;               /* 1..Q_RECEIVE_MAX (0 means 1) */
        int32_t visibility_timeout; /* -1: the queue's */
        int32_t wait_seconds;       /* -1: the queue's ReceiveMessageWaitTimeSeconds */
        const char *attempt_id;     /* FIFO ReceiveRequestAttemptId, may be NULL */
} q_receive_req;

typedef struct q_message {
        char message_id[37];
        char *receipt_handle; /* fresh for every receive */
        char *body;
        size_t body_len;
        char md5_body[33];
        char md5_attrs[33]; /* of all its attributes; "" when none */
        q_msg_attr *attrs;
        size_t n_attrs;
        /* System attributes, AWS's names and string values: SentTimestamp,
         * ApproximateReceiveCount, ApproximateFirstReceiveTimestamp, SenderId, and for FIFO
         * MessageGroupId, MessageDeduplicationId, SequenceNumber; AWSTraceHeader if sent. */
        q_kvs sys;
} q_message;
void q_messages_free(q_message *m, size_t n);

/* Takes up to max visible messages (FIFO: in order within a group, never a group that has a
 * message in flight), making them invisible for the visibility timeout and counting the
 * receive; a message past its queue's maxReceiveCount is moved to the dead-letter queue
 * instead of being returned. Waits up to wait_seconds for the first message. */
int q_receive(q_engine *q, const char *queue, const q_receive_req *r, q_message **ret, size_t *ret_n,
              q_error *err);

/* Batch operations: entry i has ids[i] (batch entry id) and receipts[i]; whole-request errors as
 * q_send; per-entry results in res (code Q_OK or the entry's failure). */
typedef struct q_batch_result {
        q_errcode code;
        char message[256];
} q_batch_result;

int q_delete_message(q_engine *q, const char *queue, const char *receipt, q_error *err);
int q_delete_batch(q_engine *q, const char *queue, const char *const *ids,
                   const char *const *receipts, size_t n, q_batch_result *res, q_error *err);
/* timeout 0..Q_VISIBILITY_MAX seconds from now. */
int q_change_visibility(q_engine *q, const char *queue, const char *receipt, uint32_t timeout,
                        q_error *err);
int q_change_visibility_batch(q_engine *q, const char *queue, const char *const *ids,
                              const char *const *receipts, const uint32_t *timeouts, size_t n,
                              q_batch_result *res, q_error *err);

/* ---- dead-letter redrive (StartMessageMoveTask and `husk queue redrive`) ---- */
/* Moves the messages of dead-letter queue `source` back: to `dest` when given, else to the
 * queue each came from. max_per_second 0 = no bound. Runs in the background (the engine's own
 * thread); returns a task handle. One running task per source (else Q_E_INVALID_PARAMETER). */
int q_move_start(q_engine *q, const char *source, const char *dest, uint32_t max_per_second,
                 char **ret_task_handle, q_error *err);
int q_move_cancel(q_engine *q, const char *task_handle, uint64_t *ret_moved, q_error *err);

typedef struct q_move_task {
        char *task_handle;
        char *source_arn;
        char *dest_arn; /* NULL: the original sources */
        char *status;   /* RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED */
        uint64_t moved;
        uint64_t to_move;
        uint32_t max_per_second;
        uint64_t started_ms;
} q_move_task;
int q_move_list(q_engine *q, const char *source, unsigned max, q_move_task **ret, size_t *ret_n,
                q_error *err);
void q_move_tasks_free(q_move_task *t, size_t n);

/* ---- for `husk queue inspect|stats` and metrics ---- */
typedef struct q_stats {
        uint64_t visible, in_flight, delayed;
        uint64_t sent, received, deleted; /* since the queue was created */
        uint64_t oldest_ms;               /* age of the oldest message, 0 when empty */
} q_stats;
int q_get_stats(q_engine *q, const char *name, q_stats *ret, q_error *err);
/* The figures of up to max queues in name order, after `after` (NULL or "": from the first),
 * in one op: the metrics collector (qmetrics.c) pages through every queue with it. */
typedef struct q_named_stats {
        char name[Q_NAME_MAX + 1];
        q_stats s;
} q_named_stats;
int q_stats_page(q_engine *q, const char *after, size_t max, q_named_stats *ret, size_t *ret_n,
                 q_error *err);

#endif
