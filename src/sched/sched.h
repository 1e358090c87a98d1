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

/* What a schedule's target does, supplied by the server (src/fn/main.c): the scheduler does not
 * depend on src/fn or src/queue. Each returns 0, or -1 with the reason in why. */
typedef struct sched_targets {
        /* Runs function (a name or Lambda ARN) with input and waits for its result: -1 when it
         * failed (function error, timeout, throttle, unknown function). */
        int (*invoke)(void *ud, const char *function, const char *input, size_t len, char *why,
                      size_t why_len);
        /* Sends body to the queue (an SQS ARN of this server). */
        int (*send)(void *ud, const char *queue_arn, const char *body, size_t len, char *why,
                    size_t why_len);
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

#endif
