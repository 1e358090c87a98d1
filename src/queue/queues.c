/* SPDX-License-Identifier: Apache-2.0 */
/* Queues: create (idempotent with the same attributes), list, delete (the name is free again
 * after 60 s, as in SQS: QueueDeletedRecently), purge (once per 60 s), attributes, tags,
 * dead-letter sources. Each public call is one op of the writer thread (engine.c). */
#include "qint.h"
#include "util/json.h"
#include "util/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define QCOLS                                                                                      \
        "id, name, fifo, created, modified, vis, delay, retention, max_size, wait, cbd, dlq,"      \
        " max_receive, redrive, redrive_allow, policy, kms_key, sse, dedup_scope, throughput,"     \
        " kms_reuse, last_purge, seq, n_sent, n_received, n_deleted"

static char *col_str(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? xstrdup((const char *)t) : NULL;
}

static void qinfo_read(sqlite3_stmt *st, qinfo *i)
{
        memset(i, 0, sizeof(*i));
        i->id = sqlite3_column_int64(st, 0);
        snprintf(i->name, sizeof(i->name), "%s", (const char *)sqlite3_column_text(st, 1));
        i->fifo = sqlite3_column_int(st, 2) != 0;
        i->created = sqlite3_column_int64(st, 3);
        i->modified = sqlite3_column_int64(st, 4);
        i->vis = sqlite3_column_int64(st, 5);
        i->delay = sqlite3_column_int64(st, 6);
        i->retention = sqlite3_column_int64(st, 7);
        i->max_size = sqlite3_column_int64(st, 8);
        i->wait = sqlite3_column_int64(st, 9);
        i->cbd = sqlite3_column_int(st, 10) != 0;
        snprintf(i->dlq, sizeof(i->dlq), "%s", (const char *)sqlite3_column_text(st, 11));
        i->max_receive = sqlite3_column_int64(st, 12);
        i->redrive = col_str(st, 13);
        i->redrive_allow = col_str(st, 14);
        i->policy = col_str(st, 15);
        i->kms_key = col_str(st, 16);
        i->sse = col_str(st, 17);
        i->dedup_scope = col_str(st, 18);
        i->throughput = col_str(st, 19);
        i->kms_reuse = sqlite3_column_int64(st, 20);
        i->last_purge = sqlite3_column_int64(st, 21);
        i->seq = sqlite3_column_int64(st, 22);
        i->n_sent = sqlite3_column_int64(st, 23);
        i->n_received = sqlite3_column_int64(st, 24);
        i->n_deleted = sqlite3_column_int64(st, 25);
}

void qinfo_free(qinfo *i)
{
        free(i->redrive);
        free(i->redrive_allow);
        free(i->policy);
        free(i->kms_key);
        free(i->sse);
        free(i->dedup_scope);
        free(i->throughput);
        memset(i, 0, sizeof(*i));
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

static void qinfo_copy(qinfo *dst, const qinfo *src)
{
        *dst = *src;
        dst->redrive = dup_or_null(src->redrive);
        dst->redrive_allow = dup_or_null(src->redrive_allow);
        dst->policy = dup_or_null(src->policy);
        dst->kms_key = dup_or_null(src->kms_key);
        dst->sse = dup_or_null(src->sse);
        dst->dedup_scope = dup_or_null(src->dedup_scope);
        dst->throughput = dup_or_null(src->throughput);
}

static void set_str(char **p, const char *v)
{
        free(*p);
        *p = v && *v ? xstrdup(v) : NULL;
}

int q_load(q_engine *q, const char *name, qinfo *ret, q_error *err)
{
        sqlite3_stmt *st = q_stmt(q, "SELECT " QCOLS " FROM queues WHERE name = ?1");
        if (!st)
                return q_dberr(q, err, "load queue");
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                qinfo_read(st, ret);
                sqlite3_reset(st);
                return 0;
        }
        sqlite3_reset(st);
        if (r != SQLITE_DONE)
                return q_dberr(q, err, "load queue");
        return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
}

int q_load_id(q_engine *q, int64_t id, qinfo *ret, q_error *err)
{
        sqlite3_stmt *st = q_stmt(q, "SELECT " QCOLS " FROM queues WHERE id = ?1");
        if (!st)
                return q_dberr(q, err, "load queue");
        sqlite3_bind_int64(st, 1, id);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                qinfo_read(st, ret);
                sqlite3_reset(st);
                return 0;
        }
        sqlite3_reset(st);
        return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
        if (s)
                sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static int qinfo_save(q_engine *q, const qinfo *i, bool insert, q_error *err)
{
        sqlite3_stmt *st =
                insert ? q_stmt(q,
                                "INSERT INTO queues (name, fifo, created, modified, vis, delay,"
                                " retention, max_size, wait, cbd, dlq, max_receive, redrive,"
                                " redrive_allow, policy, kms_key, sse, dedup_scope, throughput,"
                                " kms_reuse) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                                " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)")
                       : q_stmt(q,
                                "UPDATE queues SET fifo = ?2, created = ?3, modified = ?4, vis = ?5,"
                                " delay = ?6, retention = ?7, max_size = ?8, wait = ?9, cbd = ?10,"
                                " dlq = ?11, max_receive = ?12, redrive = ?13, redrive_allow = ?14,"
                                " policy = ?15, kms_key = ?16, sse = ?17, dedup_scope = ?18,"
                                " throughput = ?19, kms_reuse = ?20 WHERE name = ?1");
        if (!st)
                return q_dberr(q, err, "save queue");
        sqlite3_bind_text(st, 1, i->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, i->fifo);
        sqlite3_bind_int64(st, 3, i->created);
        sqlite3_bind_int64(st, 4, i->modified);
        sqlite3_bind_int64(st, 5, i->vis);
        sqlite3_bind_int64(st, 6, i->delay);
        sqlite3_bind_int64(st, 7, i->retention);
        sqlite3_bind_int64(st, 8, i->max_size);
        sqlite3_bind_int64(st, 9, i->wait);
        sqlite3_bind_int(st, 10, i->cbd);
        sqlite3_bind_text(st, 11, i->dlq, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 12, i->max_receive);
        bind_opt(st, 13, i->redrive);
        bind_opt(st, 14, i->redrive_allow);
        bind_opt(st, 15, i->policy);
        bind_opt(st, 16, i->kms_key);
        bind_opt(st, 17, i->sse);
        bind_opt(st, 18, i->dedup_scope);
        bind_opt(st, 19, i->throughput);
        sqlite3_bind_int64(st, 20, i->kms_reuse);
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        return r == SQLITE_DONE ? 0 : q_dberr(q, err, "save queue");
}

/* ---- attributes ---- */
/* Every attribute, in the order GetQueueAttributes All renders them; the first six are read-only
 * (set or create with them: InvalidAttributeName). */
static const char *const all_attrs[] = {
        "QueueArn",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
        "VisibilityTimeout",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "Policy",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
};
#define READONLY_ATTRS 6

static bool is_readonly(const char *k)
{
        for (size_t i = 0; i < READONLY_ATTRS; i++)
                if (strcmp(k, all_attrs[i]) == 0)
                        return true;
        return false;
}

static bool known_attr(const char *k)
{
        for (size_t i = 0; i < ARRAY_SIZE(all_attrs); i++)
                if (strcmp(k, all_attrs[i]) == 0)
                        return true;
        return false;
}

static int bad_value(q_error *err, const char *k)
{
        return q_seterr(err, Q_E_INVALID_ATTRIBUTE_VALUE, "Invalid value for the parameter %s.", k);
}

static int int_attr(const char *k, const char *v, int64_t lo, int64_t hi, int64_t *out,
                    q_error *err)
{
        int64_t x;
        if (parse_int64(v, &x) < 0 || x < lo || x > hi)
                return q_seterr(
                        err, Q_E_INVALID_ATTRIBUTE_VALUE,
                        "Invalid value for the parameter %s: %.64s is not an integer from %lld to %lld.",
                        k, v, (long long)lo, (long long)hi);
        *out = x;
        return 0;
}

static int bool_attr(const char *k, const char *v, bool *out, q_error *err)
{
        if (strcasecmp(v, "true") == 0)
                *out = true;
        else if (strcasecmp(v, "false") == 0)
                *out = false;
        else
                return bad_value(err, k);
        return 0;
}

static int redrive_err(q_error *err, const char *v, const char *reason)
{
        return q_seterr(err, Q_E_INVALID_PARAMETER,
                        "Value %.200s for parameter RedrivePolicy is invalid. Reason: %s", v,
                        reason);
}

static bool allow_policy_permits(q_engine *q, const char *allow, const char *source)
{
        if (!allow)
                return true;
        json_value *j = NULL;
        char ebuf[64];
        if (json_parse(allow, strlen(allow), &j, ebuf, sizeof(ebuf)) < 0)
                return true;
        const char *perm = json_get_str(j, "redrivePermission");
        bool ok = true;
        if (perm && strcmp(perm, "denyAll") == 0)
                ok = false;
        else if (perm && strcmp(perm, "byQueue") == 0) {
                ok = false;
                _cleanup_free_ char *arn = q_queue_arn(q, source);
                const json_value *a = json_get(j, "sourceQueueArns");
                for (size_t i = 0; a && a->type == JSON_ARRAY && i < a->n; i++)
                        if (a->items[i]->type == JSON_STRING && strcmp(a->items[i]->str, arn) == 0)
                                ok = true;
        }
        json_value_free(j);
        return ok;
}

static int apply_redrive(q_engine *q, qinfo *i, const char *v, q_error *err)
{
        if (!*v) {
                set_str(&i->redrive, NULL);
                i->dlq[0] = 0;
                i->max_receive = 0;
                return 0;
        }
        json_value *j = NULL;
        char ebuf[128];
        if (strlen(v) > 4096 || json_parse(v, strlen(v), &j, ebuf, sizeof(ebuf)) < 0 ||
            j->type != JSON_OBJECT) {
                json_value_free(j);
                return redrive_err(err, v, "Redrive policy is not a valid JSON object.");
        }
        int r = -1;
        const char *arn = NULL;
        int64_t mrc = -1;
        for (size_t k = 0; k < j->n; k++) {
                const json_value *x = j->items[k];
                if (strcmp(j->keys[k], "deadLetterTargetArn") == 0 && x->type == JSON_STRING)
                        arn = x->str;
                else if (strcmp(j->keys[k], "maxReceiveCount") == 0 &&
                         (x->type == JSON_NUMBER || x->type == JSON_STRING)) {
                        if (parse_int64(x->str, &mrc) < 0)
                                mrc = -1;
                } else {
                        redrive_err(err, v,
                                    "Only deadLetterTargetArn and maxReceiveCount are allowed.");
                        goto out;
                }
        }
        if (!arn) {
                redrive_err(
                        err, v,
                        "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
                goto out;
        }
        if (mrc == -1 && !json_get(j, "maxReceiveCount")) {
                redrive_err(
                        err, v,
                        "Redrive policy does not contain mandatory attribute: maxReceiveCount.");
                goto out;
        }
        if (mrc < 1 || mrc > 1000) {
                redrive_err(
                        err, v,
                        "Invalid value for maxReceiveCount: it must be an integer from 1 to 1000.");
                goto out;
        }
        char dname[Q_NAME_MAX + 1];
        qinfo d;
        if (q_name_from_arn(q, arn, dname) < 0 || q_load(q, dname, &d, NULL) < 0) {
                redrive_err(err, v, "Dead letter target does not exist.");
                goto out;
        }
        bool same = d.fifo == i->fifo, allowed = allow_policy_permits(q, d.redrive_allow, i->name);
        qinfo_free(&d);
        if (!same) {
                redrive_err(
                        err, v,
                        i->fifo ? "Dead-letter queue must be same type of queue as the source: a FIFO queue."
                                : "Dead-letter queue must be same type of queue as the source: a standard queue.");
                goto out;
        }
        if (!allowed) {
                redrive_err(
                        err, v,
                        "The dead-letter queue's RedriveAllowPolicy does not allow this queue as a source.");
                goto out;
        }
        snprintf(i->dlq, sizeof(i->dlq), "%s", dname);
        i->max_receive = mrc;
        free(i->redrive);
        i->redrive = xasprintf("{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":%lld}", arn,
                               (long long)mrc);
        r = 0;
out:
        json_value_free(j);
        return r;
}

static int apply_redrive_allow(q_engine *q, qinfo *i, const char *v, q_error *err)
{
        if (!*v) {
                set_str(&i->redrive_allow, NULL);
                return 0;
        }
        json_value *j = NULL;
        char ebuf[128];
        int r = -1;
        if (strlen(v) > 8192 || json_parse(v, strlen(v), &j, ebuf, sizeof(ebuf)) < 0 ||
            j->type != JSON_OBJECT) {
                q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %.200s for parameter RedriveAllowPolicy is invalid. Reason: not a JSON object.",
                        v);
                goto out;
        }
        const char *perm = json_get_str(j, "redrivePermission");
        const json_value *arns = json_get(j, "sourceQueueArns");
        const char *why = NULL;
        if (!perm || (strcmp(perm, "allowAll") != 0 && strcmp(perm, "denyAll") != 0 &&
                      strcmp(perm, "byQueue") != 0))
                why = "redrivePermission must be allowAll, denyAll or byQueue.";
        else if (strcmp(perm, "byQueue") == 0 &&
                 (!arns || arns->type != JSON_ARRAY || arns->n == 0 || arns->n > 10))
                why = "byQueue needs sourceQueueArns: 1 to 10 queue ARNs.";
        else if (strcmp(perm, "byQueue") != 0 && arns)
                why = "sourceQueueArns is only allowed with byQueue.";
        for (size_t k = 0; !why && k < j->n; k++)
                if (strcmp(j->keys[k], "redrivePermission") != 0 &&
                    strcmp(j->keys[k], "sourceQueueArns") != 0)
                        why = "Only redrivePermission and sourceQueueArns are allowed.";
        for (size_t k = 0; !why && arns && arns->type == JSON_ARRAY && k < arns->n; k++) {
                char nm[Q_NAME_MAX + 1];
                if (arns->items[k]->type != JSON_STRING ||
                    q_name_from_arn(q, arns->items[k]->str, nm) < 0)
                        why = "sourceQueueArns must hold queue ARNs.";
        }
        if (why) {
                q_seterr(err, Q_E_INVALID_PARAMETER,
                         "Value %.200s for parameter RedriveAllowPolicy is invalid. Reason: %s", v,
                         why);
                goto out;
        }
        set_str(&i->redrive_allow, v);
        r = 0;
out:
        json_value_free(j);
        return r;
}

static int apply_attr(q_engine *q, qinfo *i, const char *k, const char *v, bool creating,
                      q_error *err)
{
        if (!v)
                v = "";
        if (strcmp(k, "VisibilityTimeout") == 0)
                return int_attr(k, v, 0, Q_VISIBILITY_MAX, &i->vis, err);
        if (strcmp(k, "DelaySeconds") == 0)
                return int_attr(k, v, 0, Q_DELAY_MAX, &i->delay, err);
        if (strcmp(k, "MessageRetentionPeriod") == 0)
                return int_attr(k, v, Q_RETENTION_MIN, Q_RETENTION_MAX, &i->retention, err);
        if (strcmp(k, "MaximumMessageSize") == 0)
                return int_attr(k, v, 1024, Q_MESSAGE_MAX, &i->max_size, err);
        if (strcmp(k, "ReceiveMessageWaitTimeSeconds") == 0)
                return int_attr(k, v, 0, Q_WAIT_MAX, &i->wait, err);
        if (strcmp(k, "KmsDataKeyReusePeriodSeconds") == 0)
                return int_attr(k, v, 60, 86400, &i->kms_reuse, err);
        if (strcmp(k, "KmsMasterKeyId") == 0) {
                if (strlen(v) > 2048)
                        return bad_value(err, k);
                set_str(&i->kms_key, v);
                return 0;
        }
        if (strcmp(k, "SqsManagedSseEnabled") == 0) {
                bool b = false;
                if (bool_attr(k, v, &b, err) < 0)
                        return -1;
                set_str(&i->sse, b ? "true" : "false");
                return 0;
        }
        if (strcmp(k, "Policy") == 0) {
                if (*v) {
                        json_value *j = NULL;
                        char ebuf[64];
                        bool ok = strlen(v) <= 20480 &&
                                  json_parse(v, strlen(v), &j, ebuf, sizeof(ebuf)) == 0 &&
                                  j->type == JSON_OBJECT;
                        json_value_free(j);
                        if (!ok)
                                return q_seterr(
                                        err, Q_E_INVALID_ATTRIBUTE_VALUE,
                                        "Invalid value for the parameter Policy: not a JSON object of at most 20 KiB.");
                }
                set_str(&i->policy, v);
                return 0;
        }
        if (strcmp(k, "RedrivePolicy") == 0)
                return apply_redrive(q, i, v, err);
        if (strcmp(k, "RedriveAllowPolicy") == 0)
                return apply_redrive_allow(q, i, v, err);
        /* as SQS answers: FifoQueue exists only on FIFO queues (a standard queue is made
         * without it), and a FIFO queue stays one */
        if (strcmp(k, "FifoQueue") == 0) {
                bool b = false;
                if (bool_attr(k, v, &b, err) < 0)
                        return -1;
                if (creating && b) {
                        i->fifo = true;
                        return 0;
                }
                if (!i->fifo)
                        return q_seterr(err, Q_E_INVALID_ATTRIBUTE_NAME, "Unknown Attribute FifoQueue.");
                if (!b)
                        return q_seterr(err, Q_E_INVALID_ATTRIBUTE_VALUE,
                                        "Invalid value for the parameter FifoQueue. Reason: Modifying "
                                        "queue type is not supported.");
                return 0;
        }
        if (!i->fifo && (strcmp(k, "DeduplicationScope") == 0 || strcmp(k, "FifoThroughputLimit") == 0))
                return q_seterr(err, Q_E_INVALID_ATTRIBUTE_NAME,
                                "You can specify the %s only when FifoQueue is set to true.", k);
        if (!i->fifo && strcmp(k, "ContentBasedDeduplication") == 0)
                return q_seterr(err, Q_E_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %.100s.", k);
        if (strcmp(k, "ContentBasedDeduplication") == 0)
                return bool_attr(k, v, &i->cbd, err);
        if (strcmp(k, "DeduplicationScope") == 0) {
                if (strcmp(v, "messageQueue") != 0 && strcmp(v, "messageGroup") != 0)
                        return bad_value(err, k);
                set_str(&i->dedup_scope, v);
                return 0;
        }
        if (strcmp(k, "FifoThroughputLimit") == 0) {
                if (strcmp(v, "perQueue") != 0 && strcmp(v, "perMessageGroupId") != 0)
                        return bad_value(err, k);
                set_str(&i->throughput, v);
                return 0;
        }
        return q_seterr(err, Q_E_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %.100s.", k);
}

/* Applies attrs in order, FifoQueue first (the other checks depend on the type). */
static int apply_attrs(q_engine *q, qinfo *i, const q_kvs *attrs, bool creating, q_error *err)
{
        if (!attrs)
                return 0;
        for (size_t k = 0; k < attrs->n; k++)
                if (is_readonly(attrs->v[k].name))
                        return q_seterr(err, Q_E_INVALID_ATTRIBUTE_NAME,
                                        "Unknown Attribute %.100s.", attrs->v[k].name);
        const char *f = q_kvs_get(attrs, "FifoQueue");
        if (f && apply_attr(q, i, "FifoQueue", f, creating, err) < 0)
                return -1;
        for (size_t k = 0; k < attrs->n; k++) {
                if (strcmp(attrs->v[k].name, "FifoQueue") == 0)
                        continue;
                /* RedrivePolicy last: its checks need the type (done) */
                if (apply_attr(q, i, attrs->v[k].name, attrs->v[k].value, creating, err) < 0)
                        return -1;
        }
        if (i->fifo && i->dedup_scope && strcmp(i->dedup_scope, "messageQueue") == 0 &&
            i->throughput && strcmp(i->throughput, "perMessageGroupId") == 0)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "FifoThroughputLimit perMessageGroupId needs DeduplicationScope messageGroup.");
        return 0;
}

/* Counts of messages by state, after dropping expired ones. */
static int counts(q_engine *q, const qinfo *i, uint64_t now, int64_t *visible, int64_t *inflight,
                  int64_t *delayed, q_error *err)
{
        if (q_sweep_queue(q, i, err) < 0)
                return -1;
        sqlite3_stmt *st = q_stmt(
                q,
                "SELECT (SELECT COUNT(*) FROM messages WHERE qid = ?1 AND visible_at <= ?2),"
                " (SELECT COUNT(*) FROM messages WHERE qid = ?1 AND visible_at > ?2 AND rc > 0),"
                " (SELECT COUNT(*) FROM messages WHERE qid = ?1 AND visible_at > ?2 AND rc = 0)");
        if (!st)
                return q_dberr(q, err, "count");
        sqlite3_bind_int64(st, 1, i->id);
        sqlite3_bind_int64(st, 2, (int64_t)now);
        if (sqlite3_step(st) != SQLITE_ROW) {
                sqlite3_reset(st);
                return q_dberr(q, err, "count");
        }
        *visible = sqlite3_column_int64(st, 0);
        *inflight = sqlite3_column_int64(st, 1);
        *delayed = sqlite3_column_int64(st, 2);
        sqlite3_reset(st);
        return 0;
}


/* The value of attribute k as AWS renders it, or NULL when the queue has none. cnt: the three
 * counts (NULL: not needed). */
static char *render(q_engine *q, const qinfo *i, const char *k, const int64_t *cnt)
{
        if (strcmp(k, "QueueArn") == 0)
                return q_queue_arn(q, i->name);
        if (strcmp(k, "ApproximateNumberOfMessages") == 0)
                return cnt ? xasprintf("%lld", (long long)cnt[0]) : NULL;
        if (strcmp(k, "ApproximateNumberOfMessagesNotVisible") == 0)
                return cnt ? xasprintf("%lld", (long long)cnt[1]) : NULL;
        if (strcmp(k, "ApproximateNumberOfMessagesDelayed") == 0)
                return cnt ? xasprintf("%lld", (long long)cnt[2]) : NULL;
        if (strcmp(k, "CreatedTimestamp") == 0)
                return xasprintf("%lld", (long long)(i->created / 1000));
        if (strcmp(k, "LastModifiedTimestamp") == 0)
                return xasprintf("%lld", (long long)(i->modified / 1000));
        if (strcmp(k, "VisibilityTimeout") == 0)
                return xasprintf("%lld", (long long)i->vis);
        if (strcmp(k, "MaximumMessageSize") == 0)
                return xasprintf("%lld", (long long)i->max_size);
        if (strcmp(k, "MessageRetentionPeriod") == 0)
                return xasprintf("%lld", (long long)i->retention);
        if (strcmp(k, "DelaySeconds") == 0)
                return xasprintf("%lld", (long long)i->delay);
        if (strcmp(k, "ReceiveMessageWaitTimeSeconds") == 0)
                return xasprintf("%lld", (long long)i->wait);
        if (strcmp(k, "Policy") == 0)
                return dup_or_null(i->policy);
        if (strcmp(k, "RedrivePolicy") == 0)
                return dup_or_null(i->redrive);
        if (strcmp(k, "RedriveAllowPolicy") == 0)
                return dup_or_null(i->redrive_allow);
        if (strcmp(k, "KmsMasterKeyId") == 0)
                return dup_or_null(i->kms_key);
        if (strcmp(k, "KmsDataKeyReusePeriodSeconds") == 0)
                return i->kms_key ? xasprintf("%lld", (long long)i->kms_reuse) : NULL;
        if (strcmp(k, "SqsManagedSseEnabled") == 0)
                return xstrdup(i->sse ? i->sse : "false");
        if (!i->fifo)
                return NULL;
        if (strcmp(k, "FifoQueue") == 0)
                return xstrdup("true");
        if (strcmp(k, "ContentBasedDeduplication") == 0)
                return xstrdup(i->cbd ? "true" : "false");
        if (strcmp(k, "DeduplicationScope") == 0)
                return xstrdup(i->dedup_scope ? i->dedup_scope : "messageQueue");
        if (strcmp(k, "FifoThroughputLimit") == 0)
                return xstrdup(i->throughput ? i->throughput : "perQueue");
        return NULL;
}

/* ---- tags ---- */
static int check_tags(const q_kvs *tags, q_error *err)
{
        for (size_t k = 0; tags && k < tags->n; k++) {
                const char *key = tags->v[k].name, *val = tags->v[k].value ? tags->v[k].value : "";
                uint32_t bad;
                if (!key || !*key || strlen(key) > 128 || !q_chars_valid(key, strlen(key), &bad))
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "Tag key %.140s is invalid: it must be 1 to 128 valid characters.",
                                key ? key : "");
                if (strncasecmp(key, "aws:", 4) == 0)
                        return q_seterr(err, Q_E_INVALID_PARAMETER,
                                        "Tag key %.140s is invalid: the aws: prefix is reserved.",
                                        key);
                if (strlen(val) > 256 || !q_chars_valid(val, strlen(val), &bad))
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "Tag value of %.140s is invalid: it must be 0 to 256 valid characters.",
                                key);
        }
        return 0;
}

static int put_tags(q_engine *q, int64_t qid, const q_kvs *tags, q_error *err)
{
        for (size_t k = 0; tags && k < tags->n; k++) {
                sqlite3_stmt *st =
                        q_stmt(q, "INSERT OR REPLACE INTO tags (qid, k, v) VALUES (?1, ?2, ?3)");
                if (!st)
                        return q_dberr(q, err, "tag");
                sqlite3_bind_int64(st, 1, qid);
                sqlite3_bind_text(st, 2, tags->v[k].name, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, tags->v[k].value ? tags->v[k].value : "", -1,
                                  SQLITE_STATIC);
                int r = sqlite3_step(st);
                sqlite3_reset(st);
                if (r != SQLITE_DONE)
                        return q_dberr(q, err, "tag");
        }
        sqlite3_stmt *st = q_stmt(q, "SELECT COUNT(*) FROM tags WHERE qid = ?1");
        if (!st)
                return q_dberr(q, err, "tag");
        sqlite3_bind_int64(st, 1, qid);
        int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (n > Q_TAGS_MAX)
                return q_seterr(
                        err, Q_E_OVER_LIMIT,
                        "Too many tags: a queue has at most %d (Q_TAGS_MAX); this request would make %lld.",
                        Q_TAGS_MAX, (long long)n);
        return 0;
}

/* ---- create ---- */
struct create_arg {
        const char *name;
        const q_kvs *attrs, *tags;
        bool created;
};

static int create_op(q_engine *q, void *p, q_error *err)
{
        struct create_arg *a = p;
        uint64_t now = q_now(q);
        qinfo cur;
        if (q_load(q, a->name, &cur, NULL) == 0) {
                qinfo want;
                qinfo_copy(&want, &cur);
                /* as if creating: a different FifoQueue is a different queue, not a bad value */
                int r = apply_attrs(q, &want, a->attrs, true, err);
                for (size_t k = 0; r == 0 && a->attrs && k < a->attrs->n; k++) {
                        const char *n = a->attrs->v[k].name;
                        _cleanup_free_ char *x = render(q, &cur, n, NULL);
                        _cleanup_free_ char *y = render(q, &want, n, NULL);
                        if ((x || y) && (!x || !y || strcmp(x, y) != 0))
                                r = q_seterr(
                                        err, Q_E_QUEUE_EXISTS,
                                        "A queue already exists with the same name and a different value for attribute %s",
                                        n);
                }
                qinfo_free(&want);
                qinfo_free(&cur);
                a->created = false;
                return r;
        }
        sqlite3_stmt *st = q_stmt(q, "SELECT at FROM deleted_queues WHERE name = ?1");
        if (!st)
                return q_dberr(q, err, "create");
        sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
        int64_t at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_reset(st);
        if (at >= 0 && (uint64_t)at + 60000 > now)
                return q_seterr(
                        err, Q_E_QUEUE_DELETED_RECENTLY,
                        "You must wait 60 seconds after deleting a queue before you can create another with the same name.");
        st = q_stmt(q, "SELECT COUNT(*) FROM queues");
        if (!st)
                return q_dberr(q, err, "create");
        int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (n >= Q_QUEUES_MAX)
                return q_seterr(err, Q_E_OVER_LIMIT,
                                "Too many queues: this store holds at most %d (Q_QUEUES_MAX).",
                                Q_QUEUES_MAX);
        qinfo i = { 0 };
        snprintf(i.name, sizeof(i.name), "%s", a->name);
        i.created = i.modified = (int64_t)now;
        i.vis = Q_VISIBILITY_DEFAULT;
        i.retention = Q_RETENTION_DEFAULT;
        i.max_size = Q_MESSAGE_MAX;
        i.kms_reuse = 300;
        int r = apply_attrs(q, &i, a->attrs, true, err);
        size_t l = strlen(a->name);
        bool fifo_name = l > 5 && strcmp(a->name + l - 5, ".fifo") == 0;
        if (r == 0 && fifo_name != i.fifo)
                r = q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        fifo_name
                                ? "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length: a name ending in .fifo needs the attribute FifoQueue=true."
                                : "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.");
        if (r == 0 && !i.sse)
                i.sse = xstrdup(i.kms_key ? "false" : "true");
        if (r == 0)
                r = check_tags(a->tags, err);
        if (r == 0)
                r = qinfo_save(q, &i, true, err);
        if (r == 0) {
                int64_t id = sqlite3_last_insert_rowid(q->db);
                r = put_tags(q, id, a->tags, err);
        }
        qinfo_free(&i);
        if (r == 0) {
                st = q_stmt(q, "DELETE FROM deleted_queues WHERE name = ?1");
                if (st) {
                        sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
                        sqlite3_step(st);
                        sqlite3_reset(st);
                }
        }
        a->created = r == 0;
        return r;
}

static int name_check(const char *name, q_error *err)
{
        if (!name || !*name)
                return q_seterr(err, Q_E_MISSING_PARAMETER,
                                "The request must contain the parameter QueueName.");
        if (!q_name_valid(name))
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
        return 0;
}

int q_create(q_engine *q, const char *name, const q_kvs *attrs, const q_kvs *tags,
             bool *ret_created, q_error *err)
{
        if (name_check(name, err) < 0)
                return -1;
        struct create_arg a = { .name = name, .attrs = attrs, .tags = tags };
        int r = q_run(q, create_op, &a, true, err);
        if (ret_created)
                *ret_created = r == 0 && a.created;
        return r;
}

static int exists_op(q_engine *q, void *p, q_error *err)
{
        qinfo i;
        if (q_load(q, p, &i, err) < 0)
                return -1;
        qinfo_free(&i);
        return 0;
}

int q_exists(q_engine *q, const char *name, q_error *err)
{
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        return q_run(q, exists_op, (void *)name, false, err);
}

/* ---- list ---- */
struct list_arg {
        const char *prefix, *token, *dlq;
        unsigned max;
        char **names;
        size_t n;
        char *next;
};

static int list_op(q_engine *q, void *p, q_error *err)
{
        struct list_arg *a = p;
        unsigned lim = a->max ? a->max : Q_LIST_MAX;
        sqlite3_stmt *st;
        if (a->dlq) {
                qinfo i;
                if (q_load(q, a->dlq, &i, err) < 0)
                        return -1;
                qinfo_free(&i);
                st = q_stmt(
                        q,
                        "SELECT name FROM queues WHERE dlq = ?1 AND name > ?2 ORDER BY name LIMIT ?3");
                if (!st)
                        return q_dberr(q, err, "list");
                sqlite3_bind_text(st, 1, a->dlq, -1, SQLITE_STATIC);
        } else {
                st = q_stmt(
                        q,
                        "SELECT name FROM queues WHERE name >= ?1 AND name < ?1 || '~' AND name > ?2"
                        " ORDER BY name LIMIT ?3");
                if (!st)
                        return q_dberr(q, err, "list");
                sqlite3_bind_text(st, 1, a->prefix ? a->prefix : "", -1, SQLITE_STATIC);
        }
        sqlite3_bind_text(st, 2, a->token ? a->token : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)lim + 1);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                if (a->n == lim) {
                        if (a->max)
                                a->next = xstrdup(a->names[a->n - 1]);
                        break;
                }
                a->names = xrealloc(a->names, (a->n + 1) * sizeof(char *));
                a->names[a->n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_reset(st);
        if (r != SQLITE_ROW && r != SQLITE_DONE)
                return q_dberr(q, err, "list");
        return 0;
}

static int list_common(q_engine *q, struct list_arg *a, char ***ret_names, size_t *ret_n,
                       char **ret_next, q_error *err)
{
        *ret_names = NULL;
        *ret_n = 0;
        if (ret_next)
                *ret_next = NULL;
        if (a->max > Q_LIST_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %u for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and %d.",
                        a->max, Q_LIST_MAX);
        if (a->token && (!*a->token || strlen(a->token) > Q_NAME_MAX || !q_name_valid(a->token)))
                return q_seterr(err, Q_E_INVALID_PARAMETER, "Invalid or expired next token.");
        if (a->prefix && strlen(a->prefix) > Q_NAME_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value for parameter QueueNamePrefix is invalid: at most %d characters.",
                        Q_NAME_MAX);
        int r = q_run(q, list_op, a, false, err);
        if (r < 0) {
                for (size_t i = 0; i < a->n; i++)
                        free(a->names[i]);
                free(a->names);
                free(a->next);
                return -1;
        }
        *ret_names = a->names;
        *ret_n = a->n;
        if (ret_next)
                *ret_next = a->next;
        else
                free(a->next);
        return 0;
}

int q_list(q_engine *q, const char *prefix, unsigned max, const char *next_token, char ***ret_names,
           size_t *ret_n, char **ret_next, q_error *err)
{
        struct list_arg a = { .prefix = prefix, .token = next_token, .max = max };
        return list_common(q, &a, ret_names, ret_n, ret_next, err);
}

int q_dlq_sources(q_engine *q, const char *name, unsigned max, const char *next_token,
                  char ***ret_names, size_t *ret_n, char **ret_next, q_error *err)
{
        if (!q_name_valid(name)) {
                *ret_names = NULL;
                *ret_n = 0;
                if (ret_next)
                        *ret_next = NULL;
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        }
        struct list_arg a = { .dlq = name, .token = next_token, .max = max };
        return list_common(q, &a, ret_names, ret_n, ret_next, err);
}

/* ---- delete, purge ---- */
static int exec_qid(q_engine *q, const char *sql, int64_t qid, q_error *err)
{
        sqlite3_stmt *st = q_stmt(q, sql);
        if (!st)
                return q_dberr(q, err, "delete");
        sqlite3_bind_int64(st, 1, qid);
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        return r == SQLITE_DONE ? 0 : q_dberr(q, err, "delete");
}

static int delete_op(q_engine *q, void *p, q_error *err)
{
        const char *name = p;
        qinfo i;
        if (q_load(q, name, &i, err) < 0)
                return -1;
        int64_t id = i.id;
        qinfo_free(&i);
        if (exec_qid(q, "DELETE FROM messages WHERE qid = ?1", id, err) < 0 ||
            exec_qid(q, "DELETE FROM groups WHERE qid = ?1", id, err) < 0 ||
            exec_qid(q, "DELETE FROM dedup WHERE qid = ?1", id, err) < 0 ||
            exec_qid(q, "DELETE FROM tags WHERE qid = ?1", id, err) < 0 ||
            exec_qid(q, "DELETE FROM queues WHERE id = ?1", id, err) < 0)
                return -1;
        sqlite3_stmt *st =
                q_stmt(q, "INSERT OR REPLACE INTO deleted_queues (name, at) VALUES (?1, ?2)");
        if (!st)
                return q_dberr(q, err, "delete");
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)q_now(q));
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        if (r != SQLITE_DONE)
                return q_dberr(q, err, "delete");
        q_wake_later(q, name);
        return 0;
}

int q_delete(q_engine *q, const char *name, q_error *err)
{
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        return q_run(q, delete_op, (void *)name, true, err);
}

static int purge_op(q_engine *q, void *p, q_error *err)
{
        qinfo i;
        if (q_load(q, p, &i, err) < 0)
                return -1;
        uint64_t now = q_now(q);
        int r = 0;
        if (i.last_purge && (uint64_t)i.last_purge + Q_PURGE_INTERVAL_MS > now)
                r = q_seterr(err, Q_E_PURGE_IN_PROGRESS,
                             "Only one PurgeQueue operation on %s is allowed every 60 seconds.",
                             i.name);
        if (r == 0)
                r = exec_qid(q, "DELETE FROM messages WHERE qid = ?1", i.id, err);
        if (r == 0)
                r = exec_qid(q, "DELETE FROM groups WHERE qid = ?1", i.id, err);
        if (r == 0) {
                sqlite3_stmt *st = q_stmt(q, "UPDATE queues SET last_purge = ?2 WHERE id = ?1");
                if (!st)
                        r = q_dberr(q, err, "purge");
                else {
                        sqlite3_bind_int64(st, 1, i.id);
                        sqlite3_bind_int64(st, 2, (int64_t)now);
                        r = sqlite3_step(st) == SQLITE_DONE ? 0 : q_dberr(q, err, "purge");
                        sqlite3_reset(st);
                }
        }
        qinfo_free(&i);
        return r;
}

int q_purge(q_engine *q, const char *name, q_error *err)
{
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        return q_run(q, purge_op, (void *)name, true, err);
}

/* ---- attributes ---- */
struct attrs_arg {
        const char *name;
        const char *const *names;
        size_t n;
        q_kvs *ret;
        const q_kvs *set;
};

static int get_attrs_op(q_engine *q, void *p, q_error *err)
{
        struct attrs_arg *a = p;
        qinfo i;
        if (q_load(q, a->name, &i, err) < 0)
                return -1;
        bool all = false;
        for (size_t k = 0; k < a->n; k++) {
                if (strcmp(a->names[k], "All") == 0)
                        all = true;
                else if (!known_attr(a->names[k])) {
                        qinfo_free(&i);
                        return q_seterr(err, Q_E_INVALID_ATTRIBUTE_NAME,
                                        "Unknown Attribute %.100s.", a->names[k]);
                }
        }
        int64_t cnt[3] = { 0, 0, 0 };
        if (a->n && counts(q, &i, q_now(q), &cnt[0], &cnt[1], &cnt[2], err) < 0) {
                qinfo_free(&i);
                return -1;
        }
        for (size_t k = 0; k < ARRAY_SIZE(all_attrs); k++) {
                bool want = all;
                for (size_t m = 0; !want && m < a->n; m++)
                        want = strcmp(a->names[m], all_attrs[k]) == 0;
                if (!want)
                        continue;
                _cleanup_free_ char *v = render(q, &i, all_attrs[k], cnt);
                if (v)
                        q_kvs_add(a->ret, all_attrs[k], v);
        }
        qinfo_free(&i);
        return 0;
}

int q_get_attrs(q_engine *q, const char *name, const char *const *names, size_t n, q_kvs *ret,
                q_error *err)
{
        memset(ret, 0, sizeof(*ret));
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        struct attrs_arg a = { .name = name, .names = names, .n = n, .ret = ret };
        int r = q_run(q, get_attrs_op, &a, false, err);
        if (r < 0)
                q_kvs_free(ret);
        return r;
}

static int set_attrs_op(q_engine *q, void *p, q_error *err)
{
        struct attrs_arg *a = p;
        qinfo i;
        if (q_load(q, a->name, &i, err) < 0)
                return -1;
        int r = apply_attrs(q, &i, a->set, false, err);
        if (r == 0) {
                i.modified = (int64_t)q_now(q);
                r = qinfo_save(q, &i, false, err);
        }
        qinfo_free(&i);
        /* a shorter visibility or delay may have made messages visible sooner */
        if (r == 0)
                q_wake_later(q, a->name);
        return r;
}

int q_set_attrs(q_engine *q, const char *name, const q_kvs *attrs, q_error *err)
{
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        struct attrs_arg a = { .name = name, .set = attrs };
        return q_run(q, set_attrs_op, &a, true, err);
}

/* ---- tags ---- */
struct tag_arg {
        const char *name;
        const q_kvs *tags;
        const char *const *keys;
        size_t n;
        q_kvs *ret;
};

static int tag_op(q_engine *q, void *p, q_error *err)
{
        struct tag_arg *a = p;
        qinfo i;
        if (q_load(q, a->name, &i, err) < 0)
                return -1;
        int r = put_tags(q, i.id, a->tags, err);
        qinfo_free(&i);
        return r;
}

int q_tag(q_engine *q, const char *name, const q_kvs *tags, q_error *err)
{
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        if (!tags || tags->n == 0)
                return q_seterr(err, Q_E_MISSING_PARAMETER,
                                "The request must contain the parameter Tags.");
        if (check_tags(tags, err) < 0)
                return -1;
        struct tag_arg a = { .name = name, .tags = tags };
        return q_run(q, tag_op, &a, true, err);
}

static int untag_op(q_engine *q, void *p, q_error *err)
{
        struct tag_arg *a = p;
        qinfo i;
        if (q_load(q, a->name, &i, err) < 0)
                return -1;
        for (size_t k = 0; k < a->n; k++) {
                sqlite3_stmt *st = q_stmt(q, "DELETE FROM tags WHERE qid = ?1 AND k = ?2");
                if (!st) {
                        qinfo_free(&i);
                        return q_dberr(q, err, "untag");
                }
                sqlite3_bind_int64(st, 1, i.id);
                sqlite3_bind_text(st, 2, a->keys[k], -1, SQLITE_STATIC);
                sqlite3_step(st);
                sqlite3_reset(st);
        }
        qinfo_free(&i);
        return 0;
}

int q_untag(q_engine *q, const char *name, const char *const *keys, size_t n, q_error *err)
{
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        if (n == 0)
                return q_seterr(err, Q_E_MISSING_PARAMETER,
                                "The request must contain the parameter TagKeys.");
        for (size_t k = 0; k < n; k++)
                if (!keys[k] || !*keys[k] || strlen(keys[k]) > 128)
                        return q_seterr(err, Q_E_INVALID_PARAMETER, "Tag key %.140s is invalid.",
                                        keys[k] ? keys[k] : "");
        struct tag_arg a = { .name = name, .keys = keys, .n = n };
        return q_run(q, untag_op, &a, true, err);
}

static int list_tags_op(q_engine *q, void *p, q_error *err)
{
        struct tag_arg *a = p;
        qinfo i;
        if (q_load(q, a->name, &i, err) < 0)
                return -1;
        sqlite3_stmt *st = q_stmt(q, "SELECT k, v FROM tags WHERE qid = ?1 ORDER BY k");
        if (!st) {
                qinfo_free(&i);
                return q_dberr(q, err, "tags");
        }
        sqlite3_bind_int64(st, 1, i.id);
        while (sqlite3_step(st) == SQLITE_ROW)
                q_kvs_add(a->ret, (const char *)sqlite3_column_text(st, 0),
                          (const char *)sqlite3_column_text(st, 1));
        sqlite3_reset(st);
        qinfo_free(&i);
        return 0;
}

int q_list_tags(q_engine *q, const char *name, q_kvs *ret, q_error *err)
{
        memset(ret, 0, sizeof(*ret));
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        struct tag_arg a = { .name = name, .ret = ret };
        int r = q_run(q, list_tags_op, &a, false, err);
        if (r < 0)
                q_kvs_free(ret);
        return r;
}

/* ---- stats ---- */
struct stats_arg {
        const char *name;
        q_stats *ret;
};

/* One queue's figures (in the writer, inside an op). */
static int stats_of(q_engine *q, const char *name, q_stats *ret, q_error *err)
{
        qinfo i;
        if (q_load(q, name, &i, err) < 0)
                return -1;
        uint64_t now = q_now(q);
        int64_t v, f, d;
        int r = counts(q, &i, now, &v, &f, &d, err);
        if (r == 0) {
                memset(ret, 0, sizeof(*ret));
                ret->visible = (uint64_t)v;
                ret->in_flight = (uint64_t)f;
                ret->delayed = (uint64_t)d;
                ret->sent = (uint64_t)i.n_sent;
                ret->received = (uint64_t)i.n_received;
                ret->deleted = (uint64_t)i.n_deleted;
                sqlite3_stmt *st = q_stmt(q, "SELECT MIN(sent) FROM messages WHERE qid = ?1");
                if (st) {
                        sqlite3_bind_int64(st, 1, i.id);
                        if (sqlite3_step(st) == SQLITE_ROW &&
                            sqlite3_column_type(st, 0) != SQLITE_NULL) {
                                int64_t s = sqlite3_column_int64(st, 0);
                                ret->oldest_ms = (int64_t)now > s ? now - (uint64_t)s : 0;
                        }
                        sqlite3_reset(st);
                }
        }
        qinfo_free(&i);
        return r;
}

static int stats_op(q_engine *q, void *p, q_error *err)
{
        struct stats_arg *a = p;
        return stats_of(q, a->name, a->ret, err);
}

int q_get_stats(q_engine *q, const char *name, q_stats *ret, q_error *err)
{
        if (!q_name_valid(name))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        struct stats_arg a = { .name = name, .ret = ret };
        return q_run(q, stats_op, &a, false, err);
}

struct stats_page_arg {
        const char *after;
        size_t max;
        q_named_stats *ret;
        size_t n;
};

static int stats_page_op(q_engine *q, void *p, q_error *err)
{
        struct stats_page_arg *a = p;
        sqlite3_stmt *st = q_stmt(q, "SELECT name FROM queues WHERE name > ?1 ORDER BY name LIMIT ?2");
        if (!st)
                return q_dberr(q, err, "list");
        sqlite3_bind_text(st, 1, a->after, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)a->max);
        while (a->n < a->max && sqlite3_step(st) == SQLITE_ROW)
                snprintf(a->ret[a->n++].name, sizeof(a->ret[0].name), "%s",
                         (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        /* The names first, then each queue's figures: counts() runs statements of its own. */
        for (size_t k = 0; k < a->n; k++)
                if (stats_of(q, a->ret[k].name, &a->ret[k].s, err) < 0)
                        return -1;
        return 0;
}

int q_stats_page(q_engine *q, const char *after, size_t max, q_named_stats *ret, size_t *ret_n,
                 q_error *err)
{
        struct stats_page_arg a = { .after = after ? after : "", .max = max, .ret = ret };
        int r = q_run(q, stats_page_op, &a, false, err);
        *ret_n = r == 0 ? a.n : 0;
        return r;
}
