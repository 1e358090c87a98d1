/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: event source mappings, src/fn/esm.c's API (fn_esm_handle: Create, Get, List,
 * Update, DeleteEventSourceMapping) and src/fn/esm_plan.c fn_esm_failures (which items of a
 * batch a function's batchItemFailures answer fails). Two kinds of input:
 *
 *   "!FLAGS ID[:GROUP] ...\nBODY": fn_esm_failures over the listed message ids (at most 32;
 *     GROUP: their MessageGroupId) with BODY as the function's answer, given as exactly its
 *     bytes (no NUL after them). FLAGS: 'o' the invocation succeeded, 'r' the mapping reports
 *     batch item failures, 'f' a FIFO queue (the groups count).
 *   otherwise up to 8 parts separated by the line "----" (fuzz.h), each a request
 *     "METHOD PATH[?QUERY]\nBODY" (fuzz_fn.h), or "~": one pass of the mappings' manager.
 *     "@U@" in a request is replaced by the UUID of the mapping the last answer named.
 *
 * The API runs over real records and a real queue engine (one private store per process,
 * removed at exit): queues "fz" (VisibilityTimeout 30), "fz.fifo", "free" (no mapping) and "vis1"
 * (VisibilityTimeout 1: too short for a function's timeout), functions "fz" (3 s) and "slow" (20 s), and before
 * every input the mappings ...0001 (fz -> fz, Enabled), ...0002 (fz.fifo -> fz, Disabled,
 * ReportBatchItemFailures) and ...0003 (fz -> slow, Creating); an input that changed them gets
 * them back. The manager thread is not started (its pollers would invoke, and its timing would
 * make inputs irreproducible): esm.c is included here so that the API finds a manager record
 * without a thread, and "~" makes the manager's state moves (Creating/Updating -> Enabled or
 * Disabled, Deleting -> removed) at a point the input chooses. New mappings get the UUIDs
 * ...0101, ...0102 in order (fn_uuid is replaced for esm.c).
 *
 * Invariants: every answer (fuzz_fn_check), and a 2xx names its mapping's UUID; after each
 * input every record holds what validation allows and GetEventSourceMapping of each answers 200.
 * fn_esm_failures: a failed invocation fails all; success without reporting fails none; an
 * empty answer fails none; FIFO: a failed item fails the later items of its group; a partial
 * failure names only items the answer lists (when it has no escapes). */
#include "fuzz.h"
#include "fuzz_fn.h"

#include "queue/queue.h"
#include "util/json.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned uuid_next;
static void fuzz_esm_uuid(char out[37]);

#define fn_uuid fuzz_esm_uuid
#include "fn/esm.c"
#undef fn_uuid

static void fuzz_esm_uuid(char out[37])
{
        snprintf(out, 37, "00000000-0000-4000-8000-%012u", 101 + uuid_next++);
}

static fn_host *H;
static q_engine *Q;
static char **snap; /* uuid, state, modified (text) of the baseline mappings */
static size_t n_snap;
static char last_uuid[37];

static void mappings(fn_esm_rec ***v, size_t *n)
{
        husk_error_t err = { 0 };
        if (fn_db_esm_list(fn_host_db(H), v, n, &err) < 0)
                fuzz_fail("fn_db_esm_list: %s", err.msg);
}

static void free_mappings(fn_esm_rec **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fn_esm_rec_free(v[i]);
        free(v);
}

static void put_function(const char *name, uint64_t timeout_ms)
{
        fn_def *d = fn_def_new(name);
        d->timeout_ms = timeout_ms;
        husk_error_t err = { 0 };
        if (fn_db_put(fn_host_db(H), d, true, &err) < 0)
                fuzz_fail("fn_db_put %s: %s", name, err.msg);
        fn_def_free(d);
}

static void make_queue(const char *name, const char *attr, const char *value)
{
        q_kvs attrs = { 0 }, none = { 0 };
        q_error qe;
        bool created;
        memset(&qe, 0, sizeof(qe));
        if (attr)
                q_kvs_add(&attrs, attr, value);
        if (q_create(Q, name, &attrs, &none, &created, &qe) < 0)
                fuzz_fail("q_create %s: %s", name, qe.msg);
        q_kvs_free(&attrs);
}

static void snapshot(void)
{
        fn_esm_rec **v = NULL;
        size_t n = 0;
        mappings(&v, &n);
        for (size_t i = 0; i < n_snap; i++)
                free(snap[i]);
        free(snap);
        n_snap = 3 * n;
        snap = xcalloc(n_snap + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                snap[3 * i] = xstrdup(v[i]->uuid);
                snap[3 * i + 1] = xstrdup(v[i]->state);
                snap[3 * i + 2] = xasprintf("%.6f", v[i]->modified);
        }
        free_mappings(v, n);
}

static void make_baseline(void)
{
        static const struct {
                const char *uuid, *queue, *function, *state;
                bool enabled, report;
                unsigned batch;
        } base[] = {
                { "00000000-0000-4000-8000-000000000001", "fz", "fz", "Enabled", true, false, 10 },
                { "00000000-0000-4000-8000-000000000002", "fz.fifo", "fz", "Disabled", false, true, 5 },
                { "00000000-0000-4000-8000-000000000003", "fz", "slow", "Creating", true, false, 10 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(base); i++) {
                char *arn = q_queue_arn(Q, base[i].queue);
                fn_esm_rec m = { .queue_arn = arn, .function = (char *)base[i].function,
                                 .batch_size = base[i].batch, .enabled = base[i].enabled,
                                 .report_failures = base[i].report,
                                 .reason = (char *)"USER_INITIATED" };
                snprintf(m.uuid, sizeof(m.uuid), "%s", base[i].uuid);
                snprintf(m.state, sizeof(m.state), "%s", base[i].state);
                husk_error_t err = { 0 };
                if (fn_db_esm_put(fn_host_db(H), &m, true, &err) < 0)
                        fuzz_fail("fn_db_esm_put %s: %s", m.uuid, err.msg);
                free(arn);
        }
        snapshot();
}

static void init(void)
{
        if (H)
                return;
        H = fuzz_fn_host(NULL);
        char *qdb = xasprintf("%s/queue.db", fuzz_root());
        q_error qe;
        memset(&qe, 0, sizeof(qe));
        if (q_engine_open(qdb, NULL, &Q, &qe) < 0)
                fuzz_fail("q_engine_open %s: %s", qdb, qe.msg);
        free(qdb);
        make_queue("fz", NULL, NULL);
        make_queue("fz.fifo", "FifoQueue", "true");
        make_queue("vis1", "VisibilityTimeout", "1");
        make_queue("free", NULL, NULL);
        put_function("fz", 3000);
        put_function("slow", 20000);
        /* The manager's record, without its thread (see the top). */
        fn_esm *e = xcalloc(1, sizeof(*e));
        e->h = H;
        e->q = Q;
        pthread_mutex_init(&e->mu, NULL);
        pthread_cond_init(&e->cv, NULL);
        current = e;
        make_baseline();
}

/* The manager's state moves of one pass (esm.c reconcile), without pollers. */
static void manager_pass(void)
{
        fn_esm_rec **v = NULL;
        size_t n = 0;
        mappings(&v, &n);
        for (size_t i = 0; i < n; i++) {
                const char *s = v[i]->state;
                husk_error_t err = { 0 };
                if (strcmp(s, "Deleting") == 0)
                        (void)fn_db_esm_rm(fn_host_db(H), v[i]->uuid, &err);
                else if (strcmp(s, "Creating") == 0 || strcmp(s, "Updating") == 0)
                        (void)fn_db_esm_state(fn_host_db(H), v[i]->uuid, s,
                                              v[i]->enabled ? "Enabled" : "Disabled",
                                              "USER_INITIATED", &err);
        }
        free_mappings(v, n);
        pthread_mutex_lock(&current->mu);
        current->kick = false;
        pthread_mutex_unlock(&current->mu);
}

/* "@U@" -> the last UUID. */
static char *with_uuid(const char *s, size_t len, size_t *ret_len)
{
        char *out = xcalloc(1, len * 13 + 1);
        size_t n = 0;
        for (size_t i = 0; i < len;) {
                if (len - i >= 3 && memcmp(s + i, "@U@", 3) == 0 && last_uuid[0]) {
                        memcpy(out + n, last_uuid, 36);
                        n += 36;
                        i += 3;
                } else {
                        out[n++] = s[i++];
                }
        }
        *ret_len = n;
        return out;
}

static void request(const char *text, size_t len)
{
        fuzz_fn_req q;
        if (fuzz_fn_req_parse(text, len, &q) < 0)
                return;
        serve_resp w;
        memset(&w, 0, sizeof(w));
        fn_esm_handle(H, &q.r, &w);
        fuzz_fn_trace(&q, &w);
        fuzz_fn_check(q.raw_path, &w);
        if (w.status >= 200 && w.status < 300) {
                json_value *v = NULL;
                char why[64];
                const char *u = NULL;
                if (json_parse(w.body, w.len, &v, why, sizeof(why)) == 0)
                        u = json_get_str(v, "UUID");
                if (u && strlen(u) == 36)
                        memcpy(last_uuid, u, 37);
                else if (!json_get(v, "EventSourceMappings"))
                        fuzz_fail("%s %s: %u without a UUID: %s", q.method, q.raw_path, w.status,
                                  w.body);
                json_value_free(v);
        }
        serve_resp_free(&w);
        fuzz_fn_req_free(&q);
}

static void check_mapping(const fn_esm_rec *m)
{
        static const char *const states[] = { "Creating", "Enabled", "Disabled", "Updating",
                                              "Deleting" };
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(states); i++)
                known = known || strcmp(m->state, states[i]) == 0;
        char qname[Q_NAME_MAX + 1];
        q_error qe;
        memset(&qe, 0, sizeof(qe));
        bool fifo = strlen(m->queue_arn) > 5 &&
                    strcmp(m->queue_arn + strlen(m->queue_arn) - 5, ".fifo") == 0;
        if (!known || !queue_of_arn(Q, m->queue_arn, qname) || q_exists(Q, qname, &qe) < 0 ||
            !fn_name_valid(m->function) || m->batch_size < 1 || m->batch_size > FN_ESM_BATCH_MAX ||
            m->window_s > FN_ESM_WINDOW_MAX || (fifo && (m->batch_size > Q_RECEIVE_MAX || m->window_s)) ||
            (m->batch_size > Q_RECEIVE_MAX && !m->window_s) ||
            (m->max_concurrency && (m->max_concurrency < FN_ESM_CONCURRENCY_MIN ||
                                    m->max_concurrency > FN_ESM_CONCURRENCY_MAX)))
                fuzz_fail("mapping %s: state %s, queue %s, function %s, batch %u, window %u, "
                          "max concurrency %u", m->uuid, m->state, m->queue_arn, m->function,
                          m->batch_size, m->window_s, m->max_concurrency);
        char *get = xasprintf("GET /2015-03-31/event-source-mappings/%s", m->uuid);
        fuzz_fn_req q;
        if (fuzz_fn_req_parse(get, strlen(get), &q) < 0)
                fuzz_fail("%s", get);
        serve_resp w;
        memset(&w, 0, sizeof(w));
        fn_esm_handle(H, &q.r, &w);
        if (w.status != 200)
                fuzz_fail("%s: %u %s", get, w.status, w.body);
        fuzz_fn_check(get, &w);
        serve_resp_free(&w);
        fuzz_fn_req_free(&q);
        free(get);
}

/* After an input: the invariants, then the baseline again when the mappings changed. */
static void settle(void)
{
        fn_esm_rec **v = NULL;
        size_t n = 0;
        mappings(&v, &n);
        bool same = 3 * n == n_snap;
        for (size_t i = 0; i < n && same; i++) {
                char mod[64];
                snprintf(mod, sizeof(mod), "%.6f", v[i]->modified);
                same = strcmp(v[i]->uuid, snap[3 * i]) == 0 &&
                       strcmp(v[i]->state, snap[3 * i + 1]) == 0 && strcmp(mod, snap[3 * i + 2]) == 0;
        }
        if (!same) {
                for (size_t i = 0; i < n; i++)
                        check_mapping(v[i]);
                for (size_t i = 0; i < n; i++) {
                        husk_error_t err = { 0 };
                        if (fn_db_esm_rm(fn_host_db(H), v[i]->uuid, &err) < 0)
                                fuzz_fail("fn_db_esm_rm %s: %s", v[i]->uuid, err.msg);
                }
                make_baseline();
        }
        free_mappings(v, n);
}

#define FAIL_ITEMS_MAX 32

static void failures(const uint8_t *data, size_t size)
{
        const uint8_t *nl = memchr(data, '\n', size);
        size_t ll = nl ? (size_t)(nl - data) : size;
        char *line = fuzz_strndup(data + 1, ll - 1);
        size_t blen = nl ? size - ll - 1 : 0;
        /* Exactly the answer's bytes: a read past len is ASan's to see. */
        char *body = blen ? malloc(blen) : NULL;
        if (blen) {
                if (!body)
                        abort();
                memcpy(body, nl + 1, blen);
        }
        char *save = NULL, *flags = strtok_r(line, " ", &save);
        bool ok = flags && strchr(flags, 'o'), report = flags && strchr(flags, 'r'),
             fifo = flags && strchr(flags, 'f');
        const char *ids[FAIL_ITEMS_MAX], *groups[FAIL_ITEMS_MAX];
        size_t n = 0;
        for (char *t; n < FAIL_ITEMS_MAX && (t = strtok_r(NULL, " ", &save));) {
                char *colon = strchr(t, ':');
                if (colon)
                        *colon = '\0';
                ids[n] = t;
                groups[n++] = colon ? colon + 1 : NULL;
        }
        bool failed[FAIL_ITEMS_MAX];
        memset(failed, 0x55, sizeof(failed)); /* the function clears what it does not fail */
        fn_esm_failures(ok, report, body, blen, ids, fifo ? groups : NULL, n, failed);
        size_t nf = 0, trimmed = blen;
        while (trimmed && (body[trimmed - 1] == '\n' || body[trimmed - 1] == '\r' ||
                           body[trimmed - 1] == ' '))
                trimmed--;
        for (size_t i = 0; i < n; i++) {
                if (failed[i] != true && failed[i] != false)
                        fuzz_fail("item %zu: not a bool", i);
                nf += failed[i];
                for (size_t k = i + 1; fifo && failed[i] && k < n; k++)
                        if (groups[i] && groups[k] && strcmp(groups[i], groups[k]) == 0 && !failed[k])
                                fuzz_fail("item %zu failed, item %zu of its group %s did not", i, k,
                                          groups[i]);
        }
        if (!ok && nf != n)
                fuzz_fail("a failed invocation failed %zu of %zu items", nf, n);
        if (ok && (!report || trimmed == 0) && nf)
                fuzz_fail("a successful invocation (report %d, answer %zu bytes) failed %zu items",
                          report, trimmed, nf);
        /* A partial failure: each failed item is listed, or held back by its group. */
        if (ok && report && nf && nf < n && !memchr(body, '\\', blen)) {
                for (size_t i = 0; i < n; i++) {
                        if (!failed[i] || memmem(body, blen, ids[i], strlen(ids[i])))
                                continue;
                        bool held = false;
                        for (size_t k = 0; fifo && k < i && !held; k++)
                                held = failed[k] && groups[k] && groups[i] &&
                                       strcmp(groups[k], groups[i]) == 0;
                        if (!held)
                                fuzz_fail("item %s failed but the answer does not name it", ids[i]);
                }
        }
        free(body);
        free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size && data[0] == '!') {
                failures(data, size);
                return 0;
        }
        init();
        uuid_next = 0;
        last_uuid[0] = '\0';
        fuzz_parts in;
        fuzz_split(data, size, &in);
        for (size_t i = 0; i < in.n; i++) {
                if (strcmp(in.part[i], "~") == 0) {
                        manager_pass();
                        continue;
                }
                size_t len = 0;
                char *text = with_uuid(in.part[i], in.len[i], &len);
                request(text, len);
                free(text);
        }
        fuzz_parts_free(&in);
        settle();
        return 0;
}
