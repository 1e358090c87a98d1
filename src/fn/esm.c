/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: event source mappings (issue 14). A mapping connects an SQS queue of this server to a
 * function: its pollers receive from the queue engine directly (long polls, never a busy loop),
 * gather a batch up to BatchSize or the batching window, invoke the function synchronously with
 * the event Lambda sends, and delete what the function processed. What it did not process stays
 * in the queue and is received again after its visibility timeout; the engine moves a message
 * past the queue's maxReceiveCount to the dead-letter queue.
 *
 * Delivery is at least once, as Lambda's: a message whose batch succeeded is deleted after the
 * invocation returned, so a server killed in between delivers it again after its restart.
 *
 * Concurrency: each mapping starts one poller; a poller whose batch came back full starts one
 * more (up to the function's concurrency and ScalingConfig.MaximumConcurrency); a poller other
 * than the last whose wait came back empty leaves. FIFO queues keep their order by the engine's
 * rule: a message group with a message in flight is handed to no one else, so a batch holds its
 * groups until it deletes them or their visibility ends.
 *
 * The manager thread owns the pollers: it starts them for Enabled mappings, moves Creating and
 * Updating to Enabled/Disabled once the pollers follow the record, and removes Deleting mappings
 * after their pollers stopped. The API (below) only writes records and wakes it.
 *
 *   POST   /2015-03-31/event-source-mappings/        CreateEventSourceMapping (202)
 *   GET    /2015-03-31/event-source-mappings/        ListEventSourceMappings
 *   GET    /2015-03-31/event-source-mappings/UUID    GetEventSourceMapping
 *   PUT    /2015-03-31/event-source-mappings/UUID    UpdateEventSourceMapping (202)
 *   DELETE /2015-03-31/event-source-mappings/UUID    DeleteEventSourceMapping (202) */
#include "fn.h"
#include "queue/queue.h"
#include "serve/serve.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define ESM_WAIT_S 2         /* one long poll; a stop waits at most this long for a poller */
#define ESM_BACKOFF_MS 1000  /* after a throttle, a missing function or a host error */
#define ESM_LIST_MAX 100     /* Lambda: at most 100 mappings per ListEventSourceMappings page */
#define ESM_MAPPINGS_MAX 1000 /* husk's bound on mappings per store */
/* Room a message not yet received may take in the event: its body escaped (at most twice its
 * bytes for SQS's allowed characters), its attributes, and the record's other members. A
 * receive asks for no more messages than fit at this size; received ones count their own. */
#define ESM_MSG_ROOM (2u * Q_MESSAGE_MAX + 4096u)

typedef struct runner runner;

struct fn_esm {
        fn_host *h;
        q_engine *q;
        pthread_t manager;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool kick, stop, started;
        runner *runners;
};

struct runner {
        fn_esm *e;
        fn_esm_rec *rec;
        char queue[Q_NAME_MAX + 1];
        char *function_arn;
        bool fifo;
        unsigned max; /* pollers at most */
        pthread_mutex_t mu;
        pthread_cond_t cv;
        unsigned running;
        bool stop;
        runner *next;
};

/* One server per process: the API finds the manager here. */
static fn_esm *current;
static pthread_mutex_t current_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits up to ms on the runner's condition; false when the runner is stopping. */
static bool runner_sleep(runner *u, uint64_t ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (ms % 1000) * 1000000ull;
        ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000ull);
        ts.tv_nsec = (long)(ns % 1000000000ull);
        pthread_mutex_lock(&u->mu);
        if (!u->stop)
                pthread_cond_timedwait(&u->cv, &u->mu, &ts);
        bool go = !u->stop;
        pthread_mutex_unlock(&u->mu);
        return go;
}

static bool runner_stopping(runner *u)
{
        pthread_mutex_lock(&u->mu);
        bool s = u->stop;
        pthread_mutex_unlock(&u->mu);
        return s;
}

/* ---------------------------------------------------------------- the event */

static void event_attrs(json_writer *j, const q_message *m)
{
        static const char *const order[] = { "ApproximateReceiveCount", "SentTimestamp",
                                             "SequenceNumber", "MessageGroupId", "SenderId",
                                             "MessageDeduplicationId",
                                             "ApproximateFirstReceiveTimestamp", "AWSTraceHeader" };
        json_key(j, "attributes");
        json_obj_begin(j);
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                const char *v = q_kvs_get(&m->sys, order[i]);
                if (v)
                        json_kv_str(j, order[i], v);
        }
        json_obj_end(j);
        json_key(j, "messageAttributes");
        json_obj_begin(j);
        for (size_t i = 0; i < m->n_attrs; i++) {
                const q_msg_attr *a = &m->attrs[i];
                json_key(j, a->name);
                json_obj_begin(j);
                if (a->binary_value) {
                        _cleanup_free_ char *b = base64_encode(a->binary_value, a->binary_len);
                        json_kv_str(j, "binaryValue", b);
                } else {
                        json_kv_str(j, "stringValue", a->string_value ? a->string_value : "");
                }
                json_key(j, "stringListValues");
                json_arr_begin(j);
                json_arr_end(j);
                json_key(j, "binaryListValues");
                json_arr_begin(j);
                json_arr_end(j);
                json_kv_str(j, "dataType", a->data_type);
                json_obj_end(j);
        }
        json_obj_end(j);
}

/* {"Records":[...]} as Lambda's SQS poller sends it. */
static char *event_json(runner *u, const q_message *m, size_t n, const char *region)
{
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_key(j, "Records");
        json_arr_begin(j);
        for (size_t i = 0; i < n; i++) {
                json_obj_begin(j);
                json_kv_str(j, "messageId", m[i].message_id);
                json_kv_str(j, "receiptHandle", m[i].receipt_handle);
                json_kv_str(j, "body", m[i].body);
                event_attrs(j, &m[i]);
                json_kv_str(j, "md5OfBody", m[i].md5_body);
                if (m[i].md5_attrs[0])
                        json_kv_str(j, "md5OfMessageAttributes", m[i].md5_attrs);
                json_kv_str(j, "eventSource", "aws:sqs");
                json_kv_str(j, "eventSourceARN", u->rec->queue_arn);
                json_kv_str(j, "awsRegion", region);
                json_obj_end(j);
        }
        json_arr_end(j);
        json_obj_end(j);
        return json_writer_finish(j);
}

/* ---------------------------------------------------------------- one batch */

static void delete_done(runner *u, const q_message *m, size_t n, const bool *failed)
{
        static const char *const ids[Q_BATCH_MAX] = { "0", "1", "2", "3", "4",
                                                      "5", "6", "7", "8", "9" };
        const char *rh[Q_BATCH_MAX];
        q_batch_result res[Q_BATCH_MAX];
        size_t k = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && !failed[i])
                        rh[k++] = m[i].receipt_handle;
                if (k == Q_BATCH_MAX || (i == n && k > 0)) {
                        q_error qe = { 0 };
                        /* A receipt that expired (the batch outlived the visibility timeout)
                         * fails alone: that message is delivered again, as with Lambda. */
                        (void)q_delete_batch(u->e->q, u->queue, ids, rh, k, res, &qe);
                        k = 0;
                }
        }
}

/* What a received message may take in the event, at most. */
static size_t msg_room(const q_message *m)
{
        size_t n = 2 * m->body_len + 2048;
        for (size_t i = 0; i < m->n_attrs; i++)
                n += 2 * (strlen(m->attrs[i].name) + strlen(m->attrs[i].data_type) +
                          (m->attrs[i].string_value ? strlen(m->attrs[i].string_value) : 0)) +
                     2 * m->attrs[i].binary_len + 128;
        return n;
}

/* Receives a batch into *ret: up to BatchSize messages, gathering for up to the batching window
 * once the first arrived. 0 messages when the long poll came back empty. */
static size_t gather(runner *u, q_message **ret)
{
        q_message *all = NULL;
        size_t n = 0, room = FN_SYNC_PAYLOAD_MAX - 4096;
        uint64_t deadline = 0;
        const fn_esm_rec *r = u->rec;
        while (n < r->batch_size && !runner_stopping(u)) {
                size_t want = r->batch_size - n, fit = room / ESM_MSG_ROOM;
                if (want > Q_RECEIVE_MAX)
                        want = Q_RECEIVE_MAX;
                if (want > fit)
                        want = fit;
                if (want == 0)
                        break; /* Lambda: a batch ends at the 6 MB invocation payload */
                int32_t wait = ESM_WAIT_S;
                if (n > 0) {
                        uint64_t now = mono_ms();
                        if (now >= deadline)
                                break;
                        uint64_t left = deadline - now;
                        if (left < 1000 && !runner_sleep(u, left))
                                break;
                        /* At most one long poll's worth (the engine bounds waits to 20 s,
                         * a window may be 300 s): the loop waits again until the window ends. */
                        wait = left / 1000 > ESM_WAIT_S ? ESM_WAIT_S : (int32_t)(left / 1000);
                }
                q_receive_req rq = { .max = (uint32_t)want, .visibility_timeout = -1,
                                     .wait_seconds = wait };
                q_message *got = NULL;
                size_t k = 0;
                q_error qe = { 0 };
                if (q_receive(u->e->q, u->queue, &rq, &got, &k, &qe) < 0) {
                        /* The queue was deleted, or the engine is stopping: try later. */
                        if (n == 0)
                                (void)runner_sleep(u, ESM_BACKOFF_MS);
                        break;
                }
                if (k) {
                        all = xrealloc(all, (n + k) * sizeof(*all));
                        memcpy(all + n, got, k * sizeof(*got));
                        for (size_t i = 0; i < k; i++) {
                                size_t used = msg_room(&got[i]);
                                room -= room > used ? used : room;
                        }
                        if (n == 0)
                                deadline = mono_ms() + (uint64_t)r->window_s * 1000;
                        n += k;
                }
                free(got); /* the messages moved into all */
                if (n == 0)
                        break; /* an empty long poll: the caller decides */
                if (r->window_s == 0)
                        break; /* Lambda: without a window, one receive is the batch */
        }
        *ret = all;
        return n;
}

/* IteratorAge: now minus the oldest SentTimestamp of the batch (epoch milliseconds). */
static double oldest_age_ms(const q_message *m, size_t n)
{
        uint64_t oldest = UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
                uint64_t t;
                const char *s = q_kvs_get(&m[i].sys, "SentTimestamp");
                if (s && parse_uint64(s, &t) == 0 && t < oldest)
                        oldest = t;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        return oldest == UINT64_MAX || oldest > now ? 0 : (double)(now - oldest);
}

/* Invokes the function with one batch and deletes what it processed. */
static void run_batch(runner *u, q_message *m, size_t n)
{
        const fn_host_opts *o = fn_host_options(u->e->h);
        _cleanup_free_ char *ev = event_json(u, m, n, o->region ? o->region : Q_DEFAULT_REGION);
        _cleanup_free_ bool *failed = xcalloc(n, sizeof(bool));
        fn_result res = { 0 };
        double age = oldest_age_ms(m, n); /* at the hand-over, counted once it reached the function */
        fn_host_invoke(u->e->h, u->rec->function, ev, strlen(ev), true, &res);
        if (res.outcome == FN_OK || res.outcome == FN_FUNC_ERROR)
                fn_metrics_iterator_age(u->rec->function, age);
        /* The invocation's log (the handler's own record) is written before anything is
         * deleted: a kill after the delete finds the log complete. */
        fn_host_finish(u->e->h, &res);
        _cleanup_free_ const char **ids = xcalloc(n, sizeof(char *));
        _cleanup_free_ const char **groups = xcalloc(n, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                ids[i] = m[i].message_id;
                groups[i] = q_kvs_get(&m[i].sys, "MessageGroupId");
        }
        fn_esm_failures(res.outcome == FN_OK, u->rec->report_failures, res.body, res.len, ids,
                        u->fifo ? groups : NULL, n, failed);
        delete_done(u, m, n, failed);
        bool back_off = res.outcome == FN_REJECTED || res.outcome == FN_NOT_FOUND ||
                        res.outcome == FN_HOST_ERROR;
        fn_result_done(&res);
        if (back_off)
                (void)runner_sleep(u, ESM_BACKOFF_MS);
}

static void *poller_main(void *arg);

/* One more poller, when the limit allows. */
static void grow(runner *u)
{
        pthread_mutex_lock(&u->mu);
        bool more = !u->stop && u->running < u->max;
        if (more)
                u->running++;
        pthread_mutex_unlock(&u->mu);
        if (!more)
                return;
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, poller_main, u) != 0) {
                pthread_mutex_lock(&u->mu);
                u->running--;
                pthread_cond_broadcast(&u->cv);
                pthread_mutex_unlock(&u->mu);
        }
        pthread_attr_destroy(&at);
}

static void *poller_main(void *arg)
{
        runner *u = arg;
        while (!runner_stopping(u)) {
                q_message *m = NULL;
                size_t n = gather(u, &m);
                if (n == 0) {
                        free(m);
                        /* An empty wait: the backlog is gone; all but one poller leave. The
                         * count drops under the same lock as the check: two pollers that come
                         * back empty at once never both leave the last place. */
                        pthread_mutex_lock(&u->mu);
                        bool leave = u->running > 1;
                        if (leave) {
                                u->running--;
                                pthread_cond_broadcast(&u->cv);
                        }
                        pthread_mutex_unlock(&u->mu);
                        if (leave)
                                return NULL;
                        continue;
                }
                if (n >= u->rec->batch_size)
                        grow(u); /* a full batch: more are waiting */
                run_batch(u, m, n);
                q_messages_free(m, n);
                /* The limit went down: pollers above it leave (one at a time, under the lock). */
                pthread_mutex_lock(&u->mu);
                bool over = u->running > u->max;
                if (over) {
                        u->running--;
                        pthread_cond_broadcast(&u->cv);
                }
                pthread_mutex_unlock(&u->mu);
                if (over)
                        return NULL;
        }
        pthread_mutex_lock(&u->mu);
        u->running--;
        pthread_cond_broadcast(&u->cv);
        pthread_mutex_unlock(&u->mu);
        return NULL;
}

/* ---------------------------------------------------------------- the manager */

/* NAME of arn:aws:sqs:REGION:ACCOUNT:NAME when the ARN is one of this engine's queues. */
static bool queue_of_arn(q_engine *q, const char *arn, char name[Q_NAME_MAX + 1])
{
        _cleanup_free_ char *prefix = q_queue_arn(q, "");
        size_t n = strlen(prefix);
        if (strncmp(arn, prefix, n) != 0 || !q_name_valid(arn + n))
                return false;
        snprintf(name, Q_NAME_MAX + 1, "%s", arn + n);
        return true;
}

/* Concurrent batches: up to the function's concurrency and MaximumConcurrency. */
static unsigned runner_limit(fn_esm *e, const fn_esm_rec *rec)
{
        fn_def *d = NULL;
        husk_error_t err = { 0 };
        unsigned max = FN_ESM_CONCURRENCY_MAX;
        if (fn_db_get(fn_host_db(e->h), rec->function, &d, &err) == 0 && d->concurrency)
                max = d->concurrency;
        fn_def_free(d);
        if (rec->max_concurrency && rec->max_concurrency < max)
                max = rec->max_concurrency;
        return max ? max : 1;
}

static runner *runner_start(fn_esm *e, const fn_esm_rec *rec)
{
        runner *u = xcalloc(1, sizeof(*u));
        u->e = e;
        u->rec = xcalloc(1, sizeof(*u->rec));
        *u->rec = *rec;
        u->rec->queue_arn = xstrdup(rec->queue_arn);
        u->rec->function = xstrdup(rec->function);
        u->rec->reason = xstrdup(rec->reason ? rec->reason : "");
        (void)queue_of_arn(e->q, rec->queue_arn, u->queue);
        u->fifo = strlen(u->queue) > 5 && strcmp(u->queue + strlen(u->queue) - 5, ".fifo") == 0;
        u->function_arn = fn_host_function_arn(e->h, rec->function);
        pthread_mutex_init(&u->mu, NULL);
        pthread_cond_init(&u->cv, NULL);
        u->max = runner_limit(e, rec);
        grow(u);
        return u;
}

static void runner_stop(runner *u)
{
        pthread_mutex_lock(&u->mu);
        u->stop = true;
        pthread_cond_broadcast(&u->cv);
        while (u->running)
                pthread_cond_wait(&u->cv, &u->mu);
        pthread_mutex_unlock(&u->mu);
        pthread_mutex_destroy(&u->mu);
        pthread_cond_destroy(&u->cv);
        fn_esm_rec_free(u->rec);
        free(u->function_arn);
        free(u);
}

static runner *runner_find(fn_esm *e, const char *uuid, bool unlink)
{
        for (runner **pp = &e->runners; *pp; pp = &(*pp)->next) {
                runner *u = *pp;
                if (strcmp(u->rec->uuid, uuid) == 0) {
                        if (unlink)
                                *pp = u->next;
                        return u;
                }
        }
        return NULL;
}

/* One pass: the pollers follow the records. */
static void reconcile(fn_esm *e)
{
        fn_db *db = fn_host_db(e->h);
        fn_esm_rec **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_esm_list(db, &v, &n, &err) < 0)
                return; /* read again at the next pass */
        /* Pollers of mappings that are gone or changing stop first. */
        for (runner **pp = &e->runners; *pp;) {
                runner *u = *pp;
                bool keep = false;
                for (size_t i = 0; i < n; i++)
                        if (strcmp(v[i]->uuid, u->rec->uuid) == 0)
                                keep = strcmp(v[i]->state, "Enabled") == 0;
                if (keep) {
                        /* The function's concurrency may have changed (PutFunctionConcurrency,
                         * husk fn update): pollers above a lower limit leave after their batch. */
                        unsigned max = runner_limit(e, u->rec);
                        pthread_mutex_lock(&u->mu);
                        u->max = max;
                        pthread_mutex_unlock(&u->mu);
                        pp = &u->next;
                        continue;
                }
                *pp = u->next;
                runner_stop(u);
        }
        for (size_t i = 0; i < n; i++) {
                fn_esm_rec *m = v[i];
                const char *s = m->state;
                if (strcmp(s, "Deleting") == 0) {
                        (void)fn_db_esm_rm(db, m->uuid, &err);
                        continue;
                }
                if (strcmp(s, "Creating") == 0 || strcmp(s, "Updating") == 0) {
                        const char *to = m->enabled ? "Enabled" : "Disabled";
                        if (fn_db_esm_state(db, m->uuid, s, to, "USER_INITIATED", &err) != 1)
                                continue;
                        snprintf(m->state, sizeof(m->state), "%s", to);
                }
                if (strcmp(m->state, "Enabled") == 0 && !runner_find(e, m->uuid, false)) {
                        runner *u = runner_start(e, m);
                        u->next = e->runners;
                        e->runners = u;
                }
        }
        for (size_t i = 0; i < n; i++)
                fn_esm_rec_free(v[i]);
        free(v);
}

static void *manager_main(void *arg)
{
        fn_esm *e = arg;
        pthread_mutex_lock(&e->mu);
        while (!e->stop) {
                e->kick = false;
                pthread_mutex_unlock(&e->mu);
                reconcile(e);
                pthread_mutex_lock(&e->mu);
                if (e->kick || e->stop)
                        continue;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 5; /* records changed by another process are seen within 5 s */
                pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        }
        pthread_mutex_unlock(&e->mu);
        while (e->runners) {
                runner *u = e->runners;
                e->runners = u->next;
                runner_stop(u);
        }
        return NULL;
}

static void esm_kick(fn_esm *e)
{
        pthread_mutex_lock(&e->mu);
        e->kick = true;
        pthread_cond_broadcast(&e->cv);
        pthread_mutex_unlock(&e->mu);
}

int fn_esm_start(fn_host *h, q_engine *q, fn_esm **ret, husk_error_t *err)
{
        fn_esm *e = xcalloc(1, sizeof(*e));
        e->h = h;
        e->q = q;
        pthread_mutex_init(&e->mu, NULL);
        pthread_cond_init(&e->cv, NULL);
        int r = pthread_create(&e->manager, NULL, manager_main, e);
        if (r != 0) {
                free(e);
                return husk_error_set(err, r, "event source mappings: start a thread: %s",
                                      strerror(r));
        }
        e->started = true;
        pthread_mutex_lock(&current_mu);
        current = e;
        pthread_mutex_unlock(&current_mu);
        *ret = e;
        return 0;
}

void fn_esm_stop(fn_esm *e)
{
        if (!e)
                return;
        pthread_mutex_lock(&current_mu);
        if (current == e)
                current = NULL;
        pthread_mutex_unlock(&current_mu);
        pthread_mutex_lock(&e->mu);
        e->stop = true;
        pthread_cond_broadcast(&e->cv);
        pthread_mutex_unlock(&e->mu);
        if (e->started)
                pthread_join(e->manager, NULL);
        pthread_mutex_destroy(&e->mu);
        pthread_cond_destroy(&e->cv);
        free(e);
}

/* ---------------------------------------------------------------- the API */

typedef struct api {
        fn_host *h;
        fn_esm *e;
        const serve_req *r;
        serve_resp *w;
} api;

/* Lambda's errors: x-amzn-ErrorType and {"Type", "message" or "Message"} (fn_error_key). */
#define api_error(a, status, type, ...)                                                           \
        serve_rest_error((a)->w, status, type, true, fn_error_key(type), __VA_ARGS__)

#define BAD(a, ...) api_error(a, 400, "InvalidParameterValueException", __VA_ARGS__)

static void render(json_writer *j, fn_host *h, const fn_esm_rec *m)
{
        _cleanup_free_ char *farn = fn_host_function_arn(h, m->function);
        json_obj_begin(j);
        json_kv_str(j, "UUID", m->uuid);
        json_kv_uint(j, "BatchSize", m->batch_size);
        json_kv_uint(j, "MaximumBatchingWindowInSeconds", m->window_s);
        json_kv_str(j, "EventSourceArn", m->queue_arn);
        json_kv_str(j, "FunctionArn", farn);
        /* A timestamp in the REST-JSON protocol: epoch seconds, a number. */
        json_key(j, "LastModified");
        json_fixed(j, m->modified, 3);
        json_kv_str(j, "State", m->state);
        json_kv_str(j, "StateTransitionReason", m->reason && *m->reason ? m->reason
                                                                         : "USER_INITIATED");
        json_key(j, "FunctionResponseTypes");
        json_arr_begin(j);
        if (m->report_failures)
                json_str(j, "ReportBatchItemFailures");
        json_arr_end(j);
        if (m->max_concurrency) {
                json_key(j, "ScalingConfig");
                json_obj_begin(j);
                json_kv_uint(j, "MaximumConcurrency", m->max_concurrency);
                json_obj_end(j);
        }
        json_obj_end(j);
}

static void answer(api *a, unsigned status, const fn_esm_rec *m)
{
        json_writer *j = json_writer_new(false);
        render(j, a->h, m);
        char *b = json_writer_finish(j);
        serve_resp_set(a->w, status, "application/json", b, strlen(b));
}

/* A member that must be a whole number in [lo, hi]; absent leaves *v. false: answered. */
static bool get_uint(api *a, const json_value *body, const char *key, unsigned lo, unsigned hi,
                     unsigned *v)
{
        const json_value *x = json_get(body, key);
        if (!x || x->type == JSON_NULL)
                return true;
        uint64_t n = 0;
        if (x->type != JSON_NUMBER || parse_uint64(x->str, &n) < 0 || n < lo || n > hi) {
                BAD(a, "%s: a whole number from %u to %u", key, lo, hi);
                return false;
        }
        *v = (unsigned)n;
        return true;
}

/* The members Create and Update share, applied to m. false: answered. */
static bool apply(api *a, const json_value *b, fn_esm_rec *m, bool create)
{
        const json_value *x;
        if ((x = json_get(b, "Enabled")) && x->type != JSON_NULL) {
                if (x->type != JSON_BOOL) {
                        BAD(a, "Enabled: true or false");
                        return false;
                }
                m->enabled = x->boolean;
        }
        bool window_given = json_get(b, "MaximumBatchingWindowInSeconds") != NULL;
        if (!get_uint(a, b, "BatchSize", 1, FN_ESM_BATCH_MAX, &m->batch_size) ||
            !get_uint(a, b, "MaximumBatchingWindowInSeconds", 0, FN_ESM_WINDOW_MAX, &m->window_s))
                return false;
        if ((x = json_get(b, "FunctionResponseTypes")) && x->type != JSON_NULL) {
                if (x->type != JSON_ARRAY) {
                        BAD(a, "FunctionResponseTypes: a list of ReportBatchItemFailures");
                        return false;
                }
                m->report_failures = false;
                for (size_t i = 0; i < x->n; i++) {
                        if (x->items[i]->type != JSON_STRING ||
                            strcmp(x->items[i]->str, "ReportBatchItemFailures") != 0) {
                                BAD(a, "FunctionResponseTypes: only ReportBatchItemFailures");
                                return false;
                        }
                        m->report_failures = true;
                }
        }
        if ((x = json_get(b, "ScalingConfig")) && x->type != JSON_NULL) {
                if (x->type != JSON_OBJECT) {
                        BAD(a, "ScalingConfig: an object with MaximumConcurrency");
                        return false;
                }
                unsigned mc = 0;
                if (!get_uint(a, x, "MaximumConcurrency", FN_ESM_CONCURRENCY_MIN,
                              FN_ESM_CONCURRENCY_MAX, &mc))
                        return false;
                m->max_concurrency = mc;
        }
        bool fifo = strlen(m->queue_arn) > 5 &&
                    strcmp(m->queue_arn + strlen(m->queue_arn) - 5, ".fifo") == 0;
        if (fifo && m->batch_size > Q_RECEIVE_MAX) {
                BAD(a, "BatchSize %u: a FIFO queue's batches hold at most %u messages",
                    m->batch_size, Q_RECEIVE_MAX);
                return false;
        }
        if (fifo && m->window_s) {
                BAD(a, "MaximumBatchingWindowInSeconds: not supported for FIFO queues");
                return false;
        }
        if (m->batch_size > Q_RECEIVE_MAX && m->window_s == 0) {
                BAD(a, "Maximum batch window in seconds must be greater than 0 if maximum batch "
                       "size is greater than %u (BatchSize %u)", Q_RECEIVE_MAX, m->batch_size);
                return false;
        }
        (void)window_given;
        (void)create;
        return true;
}

static json_value *parse_body(api *a)
{
        json_value *b = NULL;
        char why[128];
        /* JSON is UTF-8 (RFC 8259); what is stored is rendered again in answers. */
        size_t ok = utf8_valid_prefix(a->r->body ? a->r->body : "", a->r->len);
        if (ok < a->r->len) {
                BAD(a, "the request body must be a JSON object (not valid UTF-8 at byte %zu)", ok);
                return NULL;
        }
        if (json_parse(a->r->body ? a->r->body : "", a->r->len, &b, why, sizeof(why)) < 0 ||
            b->type != JSON_OBJECT) {
                json_value_free(b);
                BAD(a, "the request body must be a JSON object (%s)", why);
                return NULL;
        }
        return b;
}

/* FunctionName of a request: a name or ARN of an existing function. false: answered. */
/* Lambda refuses a mapping whose function may run longer than the queue hides a message: the
 * batch would be delivered again while it runs. */
static bool visibility_covers(api *a, const char *queue_arn, const fn_def *d)
{
        char qname[Q_NAME_MAX + 1];
        const char *names[] = { "VisibilityTimeout" };
        q_kvs kv = { 0 };
        q_error qe = { 0 };
        uint64_t vis = 0;
        if (!queue_of_arn(a->e->q, queue_arn, qname) ||
            q_get_attrs(a->e->q, qname, names, 1, &kv, &qe) < 0 ||
            !q_kvs_get(&kv, "VisibilityTimeout") ||
            parse_uint64(q_kvs_get(&kv, "VisibilityTimeout"), &vis) < 0) {
                q_kvs_free(&kv);
                return true; /* the queue's own check answers */
        }
        q_kvs_free(&kv);
        if (vis * 1000 >= d->timeout_ms)
                return true;
        BAD(a, "Queue visibility timeout: %llu seconds is less than Function timeout: %llu seconds",
            (unsigned long long)vis, (unsigned long long)((d->timeout_ms + 999) / 1000));
        return false;
}

static bool function_of(api *a, const char *ref, const char *queue_arn,
                        char name[FN_NAME_MAX + 1])
{
        if (!ref || fn_arn_name(ref, name) != 0) {
                BAD(a, "FunctionName %.200s: a function name or its ARN", ref ? ref : "(none)");
                return false;
        }
        fn_def *d = NULL;
        husk_error_t err = { 0 };
        if (fn_db_get(fn_host_db(a->h), name, &d, &err) < 0) {
                _cleanup_free_ char *arn = fn_host_function_arn(a->h, name);
                if (err.code == ENOENT)
                        api_error(a, 404, "ResourceNotFoundException", "Function does not exist: %s",
                                  arn);
                else
                        api_error(a, 500, "ServiceException", "%s", err.msg);
                return false;
        }
        bool covered = visibility_covers(a, queue_arn, d);
        fn_def_free(d);
        return covered;
}

static void create_from(api *a, const json_value *b)
{
        const char *src = json_get_str(b, "EventSourceArn");
        char qname[Q_NAME_MAX + 1], fname[FN_NAME_MAX + 1];
        q_error qe = { 0 };
        if (!src || !queue_of_arn(a->e->q, src, qname) || q_exists(a->e->q, qname, &qe) < 0) {
                BAD(a, "EventSourceArn %.300s: not an SQS queue of this server (arn:aws:sqs:%s:%s:"
                       "NAME of an existing queue)", src ? src : "(none)",
                    q_engine_region(a->e->q), q_engine_account(a->e->q));
                return;
        }
        if (!function_of(a, json_get_str(b, "FunctionName"), src, fname))
                return;
        fn_esm_rec m = { .queue_arn = (char *)src, .function = fname,
                         .batch_size = FN_ESM_BATCH_DEFAULT, .enabled = true,
                         .reason = (char *)"USER_INITIATED" };
        snprintf(m.state, sizeof(m.state), "Creating");
        if (!apply(a, b, &m, true))
                return;
        fn_esm_rec **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_esm_list(fn_host_db(a->h), &v, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++)
                        fn_esm_rec_free(v[i]);
                free(v);
                if (n >= ESM_MAPPINGS_MAX) {
                        BAD(a, "this server holds %u event source mappings already (husk's bound)",
                            ESM_MAPPINGS_MAX);
                        return;
                }
        }
        fn_uuid(m.uuid);
        int r = fn_db_esm_put(fn_host_db(a->h), &m, true, &err);
        if (r == -EEXIST) {
                fn_esm_rec **all = NULL;
                const char *other = "";
                n = 0;
                if (fn_db_esm_list(fn_host_db(a->h), &all, &n, &err) == 0)
                        for (size_t i = 0; i < n; i++)
                                if (strcmp(all[i]->queue_arn, src) == 0 &&
                                    strcmp(all[i]->function, fname) == 0)
                                        other = all[i]->uuid;
                api_error(a, 409, "ResourceConflictException",
                          "An event source mapping with SQS arn (\" %s \") and function (\" %s \") "
                          "already exists. Please update or delete the existing mapping with UUID %s",
                          src, fname, other);
                for (size_t i = 0; i < n; i++)
                        fn_esm_rec_free(all[i]);
                free(all);
                return;
        }
        if (r < 0)
                return api_error(a, 500, "ServiceException", "%s", err.msg);
        answer(a, 202, &m);
        esm_kick(a->e);
}

static void create(api *a)
{
        json_value *b = parse_body(a);
        if (b)
                create_from(a, b);
        json_value_free(b);
}

static fn_esm_rec *load(api *a, const char *uuid)
{
        fn_esm_rec *m = NULL;
        husk_error_t err = { 0 };
        if (fn_db_esm_get(fn_host_db(a->h), uuid, &m, &err) < 0) {
                if (err.code == ENOENT)
                        api_error(a, 404, "ResourceNotFoundException",
                                  "The resource you requested does not exist. (event source "
                                  "mapping %.64s)", uuid);
                else
                        api_error(a, 500, "ServiceException", "%s", err.msg);
                return NULL;
        }
        return m;
}

static bool settled(const fn_esm_rec *m)
{
        return strcmp(m->state, "Enabled") == 0 || strcmp(m->state, "Disabled") == 0;
}

static void update(api *a, const char *uuid)
{
        json_value *b = parse_body(a);
        fn_esm_rec *m = b ? load(a, uuid) : NULL;
        if (!m) {
                json_value_free(b);
                return;
        }
        char fname[FN_NAME_MAX + 1];
        const char *f = json_get_str(b, "FunctionName");
        husk_error_t err = { 0 };
        if (!settled(m)) {
                api_error(a, 400, "ResourceInUseException", "Cannot update the event source "
                          "mapping %s: it is in state %s (try again when it is Enabled or "
                          "Disabled)", uuid, m->state);
        } else if ((!f || function_of(a, f, m->queue_arn, fname)) && apply(a, b, m, false)) {
                if (f) {
                        free(m->function);
                        m->function = xstrdup(fname);
                }
                snprintf(m->state, sizeof(m->state), "Updating");
                free(m->reason);
                m->reason = xstrdup("USER_INITIATED");
                int r = fn_db_esm_put(fn_host_db(a->h), m, false, &err);
                if (r == -EEXIST)
                        api_error(a, 409, "ResourceConflictException", "%s", err.msg);
                else if (r < 0)
                        api_error(a, 500, "ServiceException", "%s", err.msg);
                else {
                        answer(a, 202, m);
                        esm_kick(a->e);
                }
        }
        fn_esm_rec_free(m);
        json_value_free(b);
}

static void delete(api *a, const char *uuid)
{
        fn_esm_rec *m = load(a, uuid);
        if (!m)
                return;
        husk_error_t err = { 0 };
        if (!settled(m)) {
                api_error(a, 400, "ResourceInUseException", "Cannot delete the event source "
                          "mapping %s: it is in state %s", uuid, m->state);
        } else if (fn_db_esm_state(fn_host_db(a->h), uuid, m->state, "Deleting", "USER_INITIATED",
                                   &err) != 1) {
                api_error(a, 400, "ResourceInUseException", "The event source mapping %s changed "
                          "state; try again", uuid);
        } else {
                snprintf(m->state, sizeof(m->state), "Deleting");
                answer(a, 202, m);
                esm_kick(a->e);
        }
        fn_esm_rec_free(m);
}

static void list(api *a)
{
        serve_kv *q = NULL;
        size_t nq = 0;
        if (serve_form_parse(a->r->query, strlen(a->r->query), 16, &q, &nq) < 0)
                return BAD(a, "the query string is malformed");
        const char *src = serve_kvs_get(q, nq, "EventSourceArn"),
                   *fn = serve_kvs_get(q, nq, "FunctionName"),
                   *marker = serve_kvs_get(q, nq, "Marker"), *mi = serve_kvs_get(q, nq, "MaxItems");
        char fname[FN_NAME_MAX + 1] = "";
        uint64_t max = ESM_LIST_MAX;
        if (fn && fn_arn_name(fn, fname) != 0) {
                BAD(a, "FunctionName %.200s: a function name or its ARN", fn);
                goto out;
        }
        if (mi && (parse_uint64(mi, &max) < 0 || max < 1 || max > 10000)) {
                BAD(a, "MaxItems %.32s: a number from 1 to 10000", mi);
                goto out;
        }
        if (max > ESM_LIST_MAX)
                max = ESM_LIST_MAX;
        fn_esm_rec **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_esm_list(fn_host_db(a->h), &v, &n, &err) < 0) {
                api_error(a, 500, "ServiceException", "%s", err.msg);
                goto out;
        }
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_key(j, "EventSourceMappings");
        json_arr_begin(j);
        bool on = !marker || !*marker;
        uint64_t shown = 0;
        const char *next = NULL;
        for (size_t i = 0; i < n; i++) {
                const fn_esm_rec *m = v[i];
                if (!on) {
                        on = strcmp(m->uuid, marker) == 0;
                        continue;
                }
                if ((src && strcmp(src, m->queue_arn) != 0) ||
                    (fname[0] && strcmp(fname, m->function) != 0))
                        continue;
                if (shown == max) {
                        next = v[i - 1]->uuid;
                        break;
                }
                render(j, a->h, m);
                shown++;
        }
        json_arr_end(j);
        if (next)
                json_kv_str(j, "NextMarker", next);
        json_obj_end(j);
        char *b = json_writer_finish(j);
        serve_resp_set(a->w, 200, "application/json", b, strlen(b));
        for (size_t i = 0; i < n; i++)
                fn_esm_rec_free(v[i]);
        free(v);
out:
        serve_kvs_free(q, nq);
}

void fn_esm_handle(fn_host *h, const serve_req *r, serve_resp *w)
{
        pthread_mutex_lock(&current_mu);
        api a = { .h = h, .e = current, .r = r, .w = w };
        pthread_mutex_unlock(&current_mu);
        if (!a.e)
                return api_error(&a, 503, "ServiceException", "event source mappings need the "
                                 "queues, and they are not served (see the server's log)");
        static const char base[] = "/2015-03-31/event-source-mappings";
        const char *rest = r->path + strlen(base), *m = r->method;
        if (strncmp(r->path, base, strlen(base)) != 0)
                rest = NULL;
        if (rest && (!*rest || strcmp(rest, "/") == 0)) {
                if (strcmp(m, "POST") == 0)
                        return create(&a);
                if (strcmp(m, "GET") == 0)
                        return list(&a);
        } else if (rest && rest[0] == '/' && !strchr(rest + 1, '/') && strlen(rest + 1) <= 64) {
                if (strcmp(m, "GET") == 0) {
                        fn_esm_rec *x = load(&a, rest + 1);
                        if (x)
                                answer(&a, 200, x);
                        fn_esm_rec_free(x);
                        return;
                }
                if (strcmp(m, "PUT") == 0)
                        return update(&a, rest + 1);
                if (strcmp(m, "DELETE") == 0)
                        return delete(&a, rest + 1);
        }
        api_error(&a, 404, "UnknownOperationException", "%s %s is not an operation of the event "
                  "source mapping API", m, r->path);
}
