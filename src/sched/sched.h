/* SPDX-License-Identifier: Apache-2.0 */
/* husk schedules (issue 17): EventBridge Scheduler's model and its runner. No HTTP here: the
 * control plane (src/serve/scheduler.c, SigV4 service "scheduler") and `husk fn schedule ...`
 * (src/serve/schedcli.c) call these; unit tests call them with an injected clock.
 *
 * Durable in SQLite (STORE/sched/sched.db). Each slot of a schedule fires at most once: the slot
 * is recorded as fired in the same transaction that hands its event to the target's durable
 * path, before the target runs. A slot missed while the server was down fires once at start
 * when it is still within its flexible window (or, with the window OFF, within a grace period
 * the README names). Targets: a function of this server (by name or Lambda ARN) with the
 * schedule's Input, retried per RetryPolicy, then sent to its DeadLetterConfig queue (an SQS
 * queue of this server).
 *
 * The contract below is the part cmd_serve and front.c use; the rest of this header belongs to
 * the sched module. */
#ifndef HUSK_SCHED_H
#define HUSK_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sched_engine sched_engine;

/* A String message attribute of a message the scheduler sends. */
typedef struct sched_attr {
        const char *name, *value;
} sched_attr;

/* What a schedule's target does, supplied by the server (src/fn/main.c): the scheduler does not
 * depend on src/fn or src/queue. Each returns 0, or -1 with the reason in why. */
typedef struct sched_targets {
        /* Runs function (a name or Lambda ARN) with input and waits for its result: -1 when it
         * failed (function error, timeout, throttle, unknown function). */
        int (*invoke)(void *ud, const char *function, const char *input, size_t len, char *why,
                      size_t why_len);
        /* Sends body to the queue (an SQS ARN of this server), with n_attrs String message
         * attributes (a dead-letter event's ERROR_CODE, ..., TARGET_ARN; 0 for a plain send). */
        int (*send)(void *ud, const char *queue_arn, const char *body, size_t len,
                    const struct sched_attr *attrs, size_t n_attrs, char *why, size_t why_len);
        void *ud;
} sched_targets;

typedef struct sched_opts {
        const char *path;    /* STORE/sched/sched.db */
        const char *region, *account;
        sched_targets targets;
        uint64_t (*clock)(void *ctx); /* epoch ms; NULL: the real clock */
        void *clock_ctx;
} sched_opts;

int sched_open(const sched_opts *o, sched_engine **ret, char *why, size_t why_len);
/* Starts the runner thread (after the server's other threads may run). */
int sched_start(sched_engine *s, char *why, size_t why_len);
/* Stops the runner (a target call in progress finishes first). */
void sched_stop(sched_engine *s);
void sched_close(sched_engine *s);

/* ---- the rest of the module's API: the model (the control plane and the CLI's server side) ---- */

/* Bounds (named in errors). */
#define SCHED_NAME_MAX 64            /* schedule and group names: [0-9A-Za-z_.-]{1,64} */
#define SCHED_INPUT_MAX (256u << 10) /* Target.Input, bytes */
#define SCHED_SCHEDULES_MAX 10000    /* schedules in one store */
#define SCHED_GROUPS_MAX 500         /* schedule groups in one store (with "default") */
#define SCHED_TAGS_MAX 200           /* tags of one group */
#define SCHED_DESCRIPTION_MAX 512
#define SCHED_EXPRESSION_MAX 256
#define SCHED_ARN_MAX 1600
#define SCHED_INFLIGHT_MAX 4         /* target calls at once (the runner's threads) */
/* A slot is due from its fire time (the slot, plus its offset in a flexible window) and fires
 * until SCHED_GRACE_MS past the end of its window (Mode OFF: past the slot): later, it is
 * skipped. A server that was down therefore fires, at start, the latest slot it missed when
 * it is still within that limit, and nothing older. */
#define SCHED_GRACE_MS 60000
#define SCHED_RETRY_BASE_MS 1000     /* retries: 1 s, 2 s, 4 s, ... */
#define SCHED_RETRY_CAP_MS 300000    /* ... at most 5 min apart */

typedef enum sched_errcode {
        SCHED_OK = 0,
        SCHED_E_VALIDATION, /* ValidationException, 400 */
        SCHED_E_NOT_FOUND,  /* ResourceNotFoundException, 404 */
        SCHED_E_CONFLICT,   /* ConflictException, 409 */
        SCHED_E_QUOTA,      /* ServiceQuotaExceededException, 402 */
        SCHED_E_INTERNAL,   /* InternalServerException, 500 */
} sched_errcode;

typedef struct sched_error {
        sched_errcode code;
        char msg[512];
} sched_error;

#define SCHED_NO_TIME INT64_MIN

/* One schedule, as EventBridge Scheduler's GetSchedule shows it. Strings are owned (free with
 * sched_def_clear); NULL when absent. */
typedef struct sched_def {
        char group[SCHED_NAME_MAX + 1], name[SCHED_NAME_MAX + 1];
        char *description;
        char *expression;
        char *timezone;           /* NULL: UTC */
        int64_t start_ms, end_ms; /* SCHED_NO_TIME when not set */
        bool enabled;
        bool flexible;        /* FlexibleTimeWindow.Mode FLEXIBLE */
        int window_minutes;   /* 1..1440 with FLEXIBLE */
        char *target_arn, *role_arn, *input, *dlq_arn;
        int max_age_s;        /* RetryPolicy.MaximumEventAgeInSeconds 60..86400 (86400) */
        int max_retries;      /* RetryPolicy.MaximumRetryAttempts 0..185 (185) */
        bool delete_after;    /* ActionAfterCompletion DELETE */
        char *kms_key_arn;    /* accepted and shown, not used */
        int64_t created_ms, modified_ms;
} sched_def;
void sched_def_clear(sched_def *d);
/* arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME (allocated). */
char *sched_arn(sched_engine *s, const char *group, const char *name);
char *sched_group_arn(sched_engine *s, const char *group);

/* Create (create true: ConflictException when it exists) or update (NotFound when it does
 * not) a schedule; d->group "" is "default". Validates everything: the expression, the time
 * zone, the dates, the target (a Lambda function ARN or an SQS queue ARN of this server's region
 * and account), the dead-letter queue, the bounds. */
int sched_put(sched_engine *s, const sched_def *d, bool create, sched_error *err);
int sched_get(sched_engine *s, const char *group, const char *name, sched_def *ret,
              sched_error *err);
int sched_delete(sched_engine *s, const char *group, const char *name, sched_error *err);

typedef struct sched_list_req {
        const char *group;       /* NULL: every group */
        const char *name_prefix; /* NULL: any */
        int state;               /* 0 any, 1 ENABLED, 2 DISABLED */
        unsigned max;            /* 1..100 (0: 100) */
        const char *next_token;  /* NULL: from the start */
} sched_list_req;
/* Schedules in (group, name) order; *ret_next: allocated token of the next page, or NULL. */
int sched_list(sched_engine *s, const sched_list_req *q, sched_def **ret, size_t *ret_n,
               char **ret_next, sched_error *err);
void sched_defs_free(sched_def *d, size_t n);

typedef struct sched_group {
        char name[SCHED_NAME_MAX + 1];
        int64_t created_ms, modified_ms;
} sched_group;
typedef struct sched_tag {
        char *key, *value;
} sched_tag;
void sched_tags_free(sched_tag *t, size_t n);

int sched_group_create(sched_engine *s, const char *name, const sched_tag *tags, size_t n_tags,
                       sched_error *err);
int sched_group_get(sched_engine *s, const char *name, sched_group *ret, sched_error *err);
/* Deletes the group and its schedules; "default" cannot be deleted. */
int sched_group_delete(sched_engine *s, const char *name, sched_error *err);
int sched_group_list(sched_engine *s, const char *name_prefix, unsigned max,
                     const char *next_token, sched_group **ret, size_t *ret_n, char **ret_next,
                     sched_error *err);
/* Tags of a schedule group, by its ARN. */
int sched_tag_resource(sched_engine *s, const char *arn, const sched_tag *tags, size_t n, sched_error *err);
int sched_untag_resource(sched_engine *s, const char *arn, const char *const *keys, size_t n,
                sched_error *err);
int sched_list_tags(sched_engine *s, const char *arn, sched_tag **ret, size_t *ret_n,
               sched_error *err);

/* One pass of the runner in the caller's thread (unit tests, with their clock): takes the
 * due slots and makes every due target call, synchronously. Returns the target calls made. */
int sched_tick(sched_engine *s);

/* ---- expressions (expr.c): pure, unit-tested ---- */
typedef struct sched_expr sched_expr;
/* Parses rate(...), cron(...) or at(...) in the time zone tz (NULL: UTC; an IANA name read
 * from /usr/share/zoneinfo). */
int sched_expr_parse(const char *text, const char *tz, sched_expr **ret, char *why,
                     size_t why_len);
void sched_expr_free(sched_expr *e);
bool sched_expr_is_at(const sched_expr *e);
/* The first slot strictly after after_ms (epoch ms), for rate() counted from anchor_ms;
 * SCHED_NO_TIME when there is none. */
int64_t sched_expr_next(const sched_expr *e, int64_t anchor_ms, int64_t after_ms);
/* Time zones: the UTC offset (seconds) at t (epoch seconds) in tz; -1 when tz cannot be read. */
typedef struct sched_tz sched_tz;
int sched_tz_load(const char *name, sched_tz **ret, char *why, size_t why_len);
void sched_tz_free(sched_tz *z);
int32_t sched_tz_offset(const sched_tz *z, int64_t t);
/* The epoch seconds of a local wall time: an ambiguous one (fall back) is its first
 * occurrence; one that does not exist (spring forward) is the end of the gap. */
int64_t sched_tz_from_local(const sched_tz *z, int64_t local);

#endif
