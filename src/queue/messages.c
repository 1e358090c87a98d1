/* SPDX-License-Identifier: Apache-2.0 */
/* Messages: send (FIFO deduplication and sequence numbers), receive (visibility, redrive to the
 * dead-letter queue, FIFO group order and blocking, long polling), delete, change visibility.
 *
 * Receipt handles are "QID:ROWID:NONCE:TOKEN" (hex nonce and token): NONCE is fixed per message
 * (a reused rowid never matches an old handle), TOKEN is fresh per receive. As in SQS, a
 * DeleteMessage with an older handle of a message that still exists deletes it on a standard
 * queue (on a FIFO queue a handle whose visibility ended is refused: expired); a
 * ChangeMessageVisibility with an older handle fails (InvalidParameterValue: the message is not
 * available for a visibility change), and with the current handle of a message whose visibility
 * has already ended, MessageNotInflight.
 *
 * Dead-lettering: a receive that finds a message already received maxReceiveCount times moves it
 * to the dead-letter queue instead (a new row there, visible at once) with its id, body,
 * attributes, sender and receive count (the count goes on, it is not reset), and for a standard
 * queue its sent time (retention counts from the first enqueue; a FIFO message's enqueue time is
 * the move, as SQS does). A redrive back (move.c) starts the count at 0. */
#include "qint.h"
#include "util/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MCOLS                                                                                       \
        "id, mid, nonce, body, attrs, md5_body, md5_attrs, trace, sender, sent, rc, first_rc, grp," \
        " dedup, seq, visible_at, token"
enum {
        C_ID,
        C_MID,
        C_NONCE,
        C_BODY,
        C_ATTRS,
        C_MD5B,
        C_MD5A,
        C_TRACE,
        C_SENDER,
        C_SENT,
        C_RC,
        C_FIRST,
        C_GRP,
        C_DEDUP,
        C_SEQ,
        C_VIS,
        C_TOKEN
};

static int step_done(q_engine *q, sqlite3_stmt *st, q_error *err, const char *what)
{
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        return r == SQLITE_DONE ? 0 : q_dberr(q, err, what);
}

/* ---- FIFO groups ---- */
int q_fifo_refresh(q_engine *q, int64_t qid, const char *grp, q_error *err)
{
        if (!grp)
                return 0;
        sqlite3_stmt *st =
                q_stmt(q, "SELECT id, visible_at FROM messages WHERE qid = ?1 AND grp = ?2"
                          " ORDER BY id LIMIT 1");
        if (!st)
                return q_dberr(q, err, "group");
        sqlite3_bind_int64(st, 1, qid);
        sqlite3_bind_text(st, 2, grp, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        int64_t head = 0, avail = 0;
        if (r == SQLITE_ROW) {
                head = sqlite3_column_int64(st, 0);
                avail = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        if (r == SQLITE_ROW) {
                st = q_stmt(
                        q,
                        "INSERT OR REPLACE INTO groups (qid, grp, head, avail) VALUES (?1, ?2, ?3, ?4)");
                if (!st)
                        return q_dberr(q, err, "group");
                sqlite3_bind_int64(st, 3, head);
                sqlite3_bind_int64(st, 4, avail);
        } else if (r == SQLITE_DONE) {
                st = q_stmt(q, "DELETE FROM groups WHERE qid = ?1 AND grp = ?2");
                if (!st)
                        return q_dberr(q, err, "group");
        } else {
                return q_dberr(q, err, "group");
        }
        sqlite3_bind_int64(st, 1, qid);
        sqlite3_bind_text(st, 2, grp, -1, SQLITE_TRANSIENT);
        return step_done(q, st, err, "group");
}

/* ---- retention ---- */
int q_sweep_queue(q_engine *q, const qinfo *i, q_error *err)
{
        int64_t cutoff = (int64_t)q_now(q) - i->retention * 1000;
        sqlite3_stmt *st;
        if (i->fifo) {
                st = q_stmt(q, "SELECT DISTINCT grp FROM messages WHERE qid = ?1 AND sent <= ?2");
                if (!st)
                        return q_dberr(q, err, "sweep");
                sqlite3_bind_int64(st, 1, i->id);
                sqlite3_bind_int64(st, 2, cutoff);
                char **g = NULL;
                size_t n = 0;
                while (sqlite3_step(st) == SQLITE_ROW) {
                        const unsigned char *t = sqlite3_column_text(st, 0);
                        if (!t)
                                continue;
                        g = xrealloc(g, (n + 1) * sizeof(*g));
                        g[n++] = xstrdup((const char *)t);
                }
                sqlite3_reset(st);
                if (n == 0)
                        return 0;
                st = q_stmt(q, "DELETE FROM messages WHERE qid = ?1 AND sent <= ?2");
                int r = -1;
                if (st) {
                        sqlite3_bind_int64(st, 1, i->id);
                        sqlite3_bind_int64(st, 2, cutoff);
                        r = step_done(q, st, err, "sweep");
                } else {
                        q_dberr(q, err, "sweep");
                }
                for (size_t k = 0; k < n; k++) {
                        if (r == 0)
                                r = q_fifo_refresh(q, i->id, g[k], err);
                        free(g[k]);
                }
                free(g);
                return r;
        }
        st = q_stmt(q, "DELETE FROM messages WHERE qid = ?1 AND sent <= ?2");
        if (!st)
                return q_dberr(q, err, "sweep");
        sqlite3_bind_int64(st, 1, i->id);
        sqlite3_bind_int64(st, 2, cutoff);
        return step_done(q, st, err, "sweep");
}

/* ---- send ---- */
struct send_arg {
        const char *queue, *sender;
        const q_send_entry *e;
        size_t n;
        q_send_result *res;
        bool single;
};

static bool group_id_valid(const char *s, size_t max)
{
        size_t l = strlen(s);
        if (l == 0 || l > max)
                return false;
        for (size_t i = 0; i < l; i++)
                if (s[i] < 0x21 || s[i] > 0x7e)
                        return false;
        return true;
}

/* Checks entry e against queue i; 0, or -1 with err. */
static int check_entry(const qinfo *i, const q_send_entry *e, q_error *err)
{
        if (!e->body || e->body_len == 0)
                return q_seterr(err, Q_E_MISSING_PARAMETER,
                                "The request must contain the parameter MessageBody.");
        uint32_t bad;
        if (!q_chars_valid(e->body, e->body_len, &bad))
                return q_seterr(
                        err, Q_E_INVALID_MESSAGE_CONTENTS,
                        "Invalid binary character '#x%X' was found in the message body, the set of allowed "
                        "characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                        bad);
        size_t asize = 0;
        if (q_check_attrs(e->attrs, e->n_attrs, false, &asize, err) < 0)
                return -1;
        if (q_check_attrs(e->sys_attrs, e->n_sys_attrs, true, NULL, err) < 0)
                return -1;
        if (e->body_len + asize > (size_t)i->max_size)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "One or more parameters are invalid. Reason: Message must be shorter than %lld bytes "
                        "(body and attributes; the queue's MaximumMessageSize).",
                        (long long)i->max_size);
        if (e->delay_seconds < -1 || e->delay_seconds > Q_DELAY_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and %d.",
                        e->delay_seconds, Q_DELAY_MAX);
        if (i->fifo) {
                if (e->delay_seconds > 0) /* 0 is accepted, as SQS does */
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "Value %d for parameter DelaySeconds is invalid. Reason: The request include "
                                "parameter that is not valid for this queue type.",
                                e->delay_seconds);
                /* (a batch entry without one is an invalid value, as SQS answers) */
                if (!e->group_id)
                        return q_seterr(err, e->id ? Q_E_INVALID_PARAMETER : Q_E_MISSING_PARAMETER,
                                        "The request must contain the parameter MessageGroupId.");
                if (!group_id_valid(e->group_id, 128))
                        return q_seterr(err, Q_E_INVALID_PARAMETER,
                                        "Value %.140s for parameter MessageGroupId is invalid. Reason: "
                                        "MessageGroupId can only include alphanumeric and punctuation "
                                        "characters. 1 to 128 in length.",
                                        e->group_id);
                if (e->dedup_id && !group_id_valid(e->dedup_id, 128))
                        return q_seterr(err, Q_E_INVALID_PARAMETER,
                                        "Value %.140s for parameter MessageDeduplicationId is invalid. "
                                        "Reason: MessageDeduplicationId can only include alphanumeric and "
                                        "punctuation characters. 1 to 128 in length.",
                                        e->dedup_id);
                if (!e->dedup_id && !i->cbd)
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "The queue should either have ContentBasedDeduplication enabled or "
                                "MessageDeduplicationId provided explicitly");
        } else {
                if (e->group_id)
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "Value %.140s for parameter MessageGroupId is invalid. Reason: The request "
                                "include parameter that is not valid for this queue type.",
                                e->group_id);
                if (e->dedup_id)
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "Value %.140s for parameter MessageDeduplicationId is invalid. Reason: The "
                                "request include parameter that is not valid for this queue type.",
                                e->dedup_id);
        }
        return 0;
}

static void seq_str(int64_t seq, char out[24])
{
        snprintf(out, 24, "%020" PRIu64, (uint64_t)10000000000000000000ull + (uint64_t)seq);
}

static int send_one(q_engine *q, qinfo *i, const char *sender, const q_send_entry *e, uint64_t now,
                    q_send_result *res, q_error *err)
{
        if (check_entry(i, e, err) < 0)
                return -1;
        q_md5_body(e->body, e->body_len, res->md5_body);
        size_t alen = 0;
        _cleanup_free_ unsigned char *ablob =
                e->n_attrs ? q_attrs_encode(e->attrs, e->n_attrs, &alen) : NULL;
        if (ablob)
                q_md5_hex(ablob, alen, res->md5_attrs);
        q_md5_attrs(e->sys_attrs, e->n_sys_attrs, res->md5_sys_attrs);
        const char *trace = e->n_sys_attrs ? e->sys_attrs[0].string_value : NULL;

        char dkey[300] = "";
        const char *dedup = NULL;
        char sha[65];
        if (i->fifo) {
                if (e->dedup_id) {
                        dedup = e->dedup_id;
                } else {
                        q_sha256_hex(e->body, e->body_len, sha);
                        dedup = sha;
                }
                bool by_group = i->dedup_scope && strcmp(i->dedup_scope, "messageGroup") == 0;
                snprintf(dkey, sizeof(dkey), "%s%s%s", by_group ? e->group_id : "",
                         by_group ? "\n" : "", dedup);
                sqlite3_stmt *st = q_stmt(
                        q, "SELECT mid, seq FROM dedup WHERE qid = ?1 AND k = ?2 AND expires > ?3");
                if (!st)
                        return q_dberr(q, err, "dedup");
                sqlite3_bind_int64(st, 1, i->id);
                sqlite3_bind_text(st, 2, dkey, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, (int64_t)now);
                if (sqlite3_step(st) == SQLITE_ROW) {
                        snprintf(res->message_id, sizeof(res->message_id), "%s",
                                 (const char *)sqlite3_column_text(st, 0));
                        snprintf(res->sequence_number, sizeof(res->sequence_number), "%s",
                                 (const char *)sqlite3_column_text(st, 1));
                        sqlite3_reset(st);
                        return 0;
                }
                sqlite3_reset(st);
                i->seq++;
                seq_str(i->seq, res->sequence_number);
        }
        q_uuid(res->message_id);
        uint64_t nonce;
        q_random(&nonce, sizeof(nonce));
        int64_t delay = e->delay_seconds >= 0 ? e->delay_seconds : i->delay;
        int64_t visible_at = (int64_t)now + delay * 1000;
        sqlite3_stmt *st = q_stmt(
                q, "INSERT INTO messages (qid, mid, nonce, body, attrs, md5_body, md5_attrs,"
                   " trace, md5_sys, sender, sent, visible_at, grp, dedup, seq)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
        if (!st)
                return q_dberr(q, err, "send");
        sqlite3_bind_int64(st, 1, i->id);
        sqlite3_bind_text(st, 2, res->message_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)(nonce >> 1));
        sqlite3_bind_blob(st, 4, e->body, (int)e->body_len, SQLITE_STATIC);
        if (ablob)
                sqlite3_bind_blob(st, 5, ablob, (int)alen, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, res->md5_body, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, res->md5_attrs, -1, SQLITE_STATIC);
        if (trace)
                sqlite3_bind_text(st, 8, trace, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 8);
        sqlite3_bind_text(st, 9, res->md5_sys_attrs, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, sender ? sender : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, (int64_t)now);
        sqlite3_bind_int64(st, 12, visible_at);
        if (i->fifo) {
                sqlite3_bind_text(st, 13, e->group_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 14, dedup, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 15, res->sequence_number, -1, SQLITE_STATIC);
        }
        if (step_done(q, st, err, "send") < 0)
                return -1;
        if (i->fifo) {
                int64_t rowid = sqlite3_last_insert_rowid(q->db);
                st = q_stmt(
                        q,
                        "INSERT OR REPLACE INTO dedup (qid, k, mid, seq, expires) VALUES (?1, ?2, ?3, ?4, ?5)");
                if (!st)
                        return q_dberr(q, err, "dedup");
                sqlite3_bind_int64(st, 1, i->id);
                sqlite3_bind_text(st, 2, dkey, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, res->message_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, res->sequence_number, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 5, (int64_t)now + Q_DEDUP_WINDOW_MS);
                if (step_done(q, st, err, "dedup") < 0)
                        return -1;
                st = q_stmt(
                        q,
                        "INSERT OR IGNORE INTO groups (qid, grp, head, avail) VALUES (?1, ?2, ?3, ?4)");
                if (!st)
                        return q_dberr(q, err, "group");
                sqlite3_bind_int64(st, 1, i->id);
                sqlite3_bind_text(st, 2, e->group_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, rowid);
                sqlite3_bind_int64(st, 4, visible_at);
                if (step_done(q, st, err, "group") < 0)
                        return -1;
        }
        i->n_sent++;
        return 0;
}

static int send_op(q_engine *q, void *p, q_error *err)
{
        struct send_arg *a = p;
        qinfo i;
        if (q_load(q, a->queue, &i, err) < 0)
                return -1;
        uint64_t now = q_now(q);
        int64_t seq0 = i.seq, sent0 = i.n_sent;
        int r = 0;
        for (size_t k = 0; k < a->n; k++) {
                q_send_result *res = &a->res[k];
                memset(res, 0, sizeof(*res));
                q_error e = { 0 };
                if (send_one(q, &i, a->sender, &a->e[k], now, res, &e) < 0) {
                        if (a->single || e.code == Q_E_INTERNAL) {
                                if (err)
                                        *err = e;
                                r = -1;
                                break;
                        }
                        res->code = e.code;
                        snprintf(res->message, sizeof(res->message), "%.255s", e.msg);
                        res->message_id[0] = 0;
                }
        }
        if (r == 0 && (i.seq != seq0 || i.n_sent != sent0)) {
                sqlite3_stmt *st =
                        q_stmt(q, "UPDATE queues SET seq = ?2, n_sent = ?3 WHERE id = ?1");
                if (!st)
                        r = q_dberr(q, err, "send");
                else {
                        sqlite3_bind_int64(st, 1, i.id);
                        sqlite3_bind_int64(st, 2, i.seq);
                        sqlite3_bind_int64(st, 3, i.n_sent);
                        r = step_done(q, st, err, "send");
                }
                q_wake_later(q, a->queue);
        }
        qinfo_free(&i);
        return r;
}

static int batch_ids_check(const char *const *ids, size_t n, q_error *err)
{
        if (n == 0)
                return q_seterr(err, Q_E_EMPTY_BATCH,
                                "There should be at least one entry in the request.");
        if (n > Q_BATCH_MAX)
                return q_seterr(err, Q_E_TOO_MANY_ENTRIES,
                                "Maximum number of entries per request are %d. You have sent %zu.",
                                Q_BATCH_MAX, n);
        for (size_t k = 0; k < n; k++) {
                if (!q_batch_id_valid(ids[k]))
                        return q_seterr(
                                err, Q_E_INVALID_BATCH_ENTRY_ID,
                                "A batch entry id can only contain alphanumeric characters, hyphens and "
                                "underscores. It can be at most %d letters long.",
                                Q_BATCH_ID_MAX);
                for (size_t j = 0; j < k; j++)
                        if (strcmp(ids[j], ids[k]) == 0)
                                return q_seterr(err, Q_E_BATCH_IDS_NOT_DISTINCT, "Id %s repeated.",
                                                ids[k]);
        }
        return 0;
}

int q_send(q_engine *q, const char *queue, const char *sender_id, const q_send_entry *e, size_t n,
           q_send_result *res, q_error *err)
{
        bool single = n == 1 && e[0].id == NULL;
        if (!single) {
                const char *ids[Q_BATCH_MAX];
                if (n > 0 && n <= Q_BATCH_MAX)
                        for (size_t k = 0; k < n; k++)
                                ids[k] = e[k].id;
                if (batch_ids_check(ids, n, err) < 0)
                        return -1;
                size_t total = 0;
                for (size_t k = 0; k < n; k++) {
                        total += e[k].body ? e[k].body_len : 0;
                        for (size_t j = 0; j < e[k].n_attrs; j++) {
                                const q_msg_attr *x = &e[k].attrs[j];
                                total += (x->name ? strlen(x->name) : 0) +
                                         (x->data_type ? strlen(x->data_type) : 0) +
                                         (x->binary_value   ? x->binary_len
                                          : x->string_value ? strlen(x->string_value)
                                                            : 0);
                        }
                }
                if (total > Q_MESSAGE_MAX)
                        return q_seterr(
                                err, Q_E_BATCH_TOO_LONG,
                                "Batch requests cannot be longer than %u bytes. You have sent %zu bytes.",
                                Q_MESSAGE_MAX, total);
        }
        if (!q_name_valid(queue))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        struct send_arg a = {
                .queue = queue, .sender = sender_id, .e = e, .n = n, .res = res, .single = single
        };
        return q_run(q, send_op, &a, true, err);
}

/* ---- receive ---- */
void q_messages_free(q_message *m, size_t n)
{
        if (!m)
                return;
        for (size_t i = 0; i < n; i++) {
                free(m[i].receipt_handle);
                free(m[i].body);
                q_msg_attrs_free(m[i].attrs, m[i].n_attrs);
                q_kvs_free(&m[i].sys);
        }
        free(m);
}

struct recv_arg {
        const char *queue;
        const q_receive_req *r;
        int64_t wait; /* resolved on the first pass */
        q_message *msgs;
        size_t n;
        uint64_t next_due; /* clock ms of the next message to become visible, 0: none */
};

static void kv_int(q_kvs *k, const char *name, int64_t v)
{
        char b[32];
        snprintf(b, sizeof(b), "%lld", (long long)v);
        q_kvs_add(k, name, b);
}

/* Fills m from the row and makes it invisible until now + vis with a fresh token. */
/* replay: the message as its last receive gave it (same handle and count), for a FIFO
 * ReceiveRequestAttemptId retry. */
static int deliver(q_engine *q, const qinfo *i, sqlite3_stmt *row, bool replay, uint64_t now,
                   q_message *m, int64_t *rowid, uint64_t *token, q_error *err)
{
        memset(m, 0, sizeof(*m));
        *rowid = sqlite3_column_int64(row, C_ID);
        if (replay) {
                *token = (uint64_t)sqlite3_column_int64(row, C_TOKEN);
        } else {
                q_random(token, sizeof(*token));
                *token >>= 1;
                if (*token == 0)
                        *token = 1;
        }
        int64_t nonce = sqlite3_column_int64(row, C_NONCE);
        int64_t rc = sqlite3_column_int64(row, C_RC) + (replay ? 0 : 1);
        int64_t first = sqlite3_column_int64(row, C_FIRST);
        if (first == 0)
                first = (int64_t)now;
        snprintf(m->message_id, sizeof(m->message_id), "%s",
                 (const char *)sqlite3_column_text(row, C_MID));
        m->receipt_handle = xasprintf("%" PRId64 ":%" PRId64 ":%016" PRIx64 ":%016" PRIx64, i->id,
                                      *rowid, (uint64_t)nonce, *token);
        int bl = sqlite3_column_bytes(row, C_BODY);
        const void *b = sqlite3_column_blob(row, C_BODY);
        m->body = xmalloc((size_t)bl + 1);
        if (bl)
                memcpy(m->body, b, (size_t)bl);
        m->body[bl] = 0;
        m->body_len = (size_t)bl;
        snprintf(m->md5_body, sizeof(m->md5_body), "%s",
                 (const char *)sqlite3_column_text(row, C_MD5B));
        snprintf(m->md5_attrs, sizeof(m->md5_attrs), "%s",
                 (const char *)sqlite3_column_text(row, C_MD5A));
        if (sqlite3_column_type(row, C_ATTRS) == SQLITE_BLOB &&
            q_attrs_decode(sqlite3_column_blob(row, C_ATTRS),
                           (size_t)sqlite3_column_bytes(row, C_ATTRS), &m->attrs, &m->n_attrs) < 0)
                return q_seterr(err, Q_E_INTERNAL, "queue store: message %s: damaged attributes",
                                m->message_id);
        kv_int(&m->sys, "SenderId", 0);
        free(m->sys.v[0].value);
        m->sys.v[0].value = xstrdup((const char *)sqlite3_column_text(row, C_SENDER));
        kv_int(&m->sys, "SentTimestamp", sqlite3_column_int64(row, C_SENT));
        kv_int(&m->sys, "ApproximateReceiveCount", rc);
        kv_int(&m->sys, "ApproximateFirstReceiveTimestamp", first);
        if (sqlite3_column_type(row, C_TRACE) == SQLITE_TEXT)
                q_kvs_add(&m->sys, "AWSTraceHeader",
                          (const char *)sqlite3_column_text(row, C_TRACE));
        if (i->fifo) {
                q_kvs_add(&m->sys, "MessageGroupId", (const char *)sqlite3_column_text(row, C_GRP));
                q_kvs_add(&m->sys, "MessageDeduplicationId",
                          (const char *)sqlite3_column_text(row, C_DEDUP));
                q_kvs_add(&m->sys, "SequenceNumber", (const char *)sqlite3_column_text(row, C_SEQ));
        }
        return 0;
}

static int mark_received(q_engine *q, int64_t rowid, uint64_t token, int64_t visible_at,
                         uint64_t now, q_error *err)
{
        sqlite3_stmt *st = q_stmt(
                q, "UPDATE messages SET visible_at = ?2, rc = rc + 1, token = ?3,"
                   " first_rc = CASE first_rc WHEN 0 THEN ?4 ELSE first_rc END WHERE id = ?1");
        if (!st)
                return q_dberr(q, err, "receive");
        sqlite3_bind_int64(st, 1, rowid);
        sqlite3_bind_int64(st, 2, visible_at);
        sqlite3_bind_int64(st, 3, (int64_t)token);
        sqlite3_bind_int64(st, 4, (int64_t)now);
        return step_done(q, st, err, "receive");
}

static int delete_row(q_engine *q, int64_t rowid, q_error *err)
{
        sqlite3_stmt *st = q_stmt(q, "DELETE FROM messages WHERE id = ?1");
        if (!st)
                return q_dberr(q, err, "delete");
        sqlite3_bind_int64(st, 1, rowid);
        return step_done(q, st, err, "delete");
}

int q_move_row(q_engine *q, int64_t rowid, const qinfo *d, const char *src, bool reset_rc,
               uint64_t now, q_error *err)
{
        sqlite3_stmt *st = q_stmt(
                q,
                "INSERT INTO messages (qid, mid, nonce, body, attrs, md5_body, md5_attrs,"
                " trace, md5_sys, sender, sent, visible_at, rc, first_rc, token, grp, dedup,"
                " seq, src) SELECT ?2, mid, nonce, body, attrs, md5_body, md5_attrs, trace,"
                " md5_sys, sender, CASE WHEN ?3 THEN ?4 ELSE sent END, ?4, CASE WHEN ?6 THEN 0 ELSE rc END,"
                " CASE WHEN ?6 THEN 0 ELSE first_rc END, 0, grp, dedup, seq, ?5 FROM messages"
                " WHERE id = ?1");
        if (!st)
                return q_dberr(q, err, "move");
        sqlite3_bind_int64(st, 1, rowid);
        sqlite3_bind_int64(st, 2, d->id);
        sqlite3_bind_int(st, 3, d->fifo);
        sqlite3_bind_int64(st, 4, (int64_t)now);
        if (src)
                sqlite3_bind_text(st, 5, src, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, 5);
        sqlite3_bind_int(st, 6, reset_rc);
        if (step_done(q, st, err, "move") < 0)
                return -1;
        int64_t nid = sqlite3_last_insert_rowid(q->db);
        if (delete_row(q, rowid, err) < 0)
                return -1;
        if (d->fifo) {
                st = q_stmt(
                        q,
                        "INSERT OR IGNORE INTO groups (qid, grp, head, avail)"
                        " SELECT qid, grp, id, visible_at FROM messages WHERE id = ?1 AND grp IS NOT NULL");
                if (!st)
                        return q_dberr(q, err, "move");
                sqlite3_bind_int64(st, 1, nid);
                if (step_done(q, st, err, "move") < 0)
                        return -1;
        }
        q_wake_later(q, d->name);
        return 0;
}

static int count_inflight(q_engine *q, const qinfo *i, uint64_t now, int64_t limit, int64_t *ret,
                          q_error *err)
{
        sqlite3_stmt *st = q_stmt(
                q, "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE qid = ?1 AND visible_at > ?2"
                   " AND rc > 0 LIMIT ?3)");
        if (!st)
                return q_dberr(q, err, "receive");
        sqlite3_bind_int64(st, 1, i->id);
        sqlite3_bind_int64(st, 2, (int64_t)now);
        sqlite3_bind_int64(st, 3, limit);
        *ret = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        return 0;
}

/* What to do with a candidate row. */
enum { ACT_DELIVER, ACT_EXPIRE, ACT_DLQ, ACT_STOP };

static int classify(const qinfo *i, bool have_dlq, sqlite3_stmt *row, uint64_t now)
{
        if (sqlite3_column_int64(row, C_SENT) + i->retention * 1000 <= (int64_t)now)
                return ACT_EXPIRE;
        if (sqlite3_column_int64(row, C_VIS) > (int64_t)now)
                return ACT_STOP;
        if (have_dlq && sqlite3_column_int64(row, C_RC) >= i->max_receive)
                return ACT_DLQ;
        return ACT_DELIVER;
}

struct pending {
        int act;
        int64_t rowid;
        uint64_t token;
        char *grp;
};

static int apply_pending(q_engine *q, const qinfo *i, const qinfo *d, struct pending *p, size_t n,
                         int64_t vis_at, uint64_t now, q_error *err)
{
        int r = 0;
        for (size_t k = 0; k < n; k++) {
                if (r == 0) {
                        if (p[k].act == ACT_DELIVER)
                                r = mark_received(q, p[k].rowid, p[k].token, vis_at, now, err);
                        else if (p[k].act == ACT_EXPIRE)
                                r = delete_row(q, p[k].rowid, err);
                        else if (p[k].act == ACT_DLQ)
                                r = q_move_row(q, p[k].rowid, d, i->name, false, now, err);
                }
        }
        return r;
}

typedef struct handle {
        int64_t qid, rowid;
        uint64_t nonce, token;
} handle;

static int parse_handle(const char *s, handle *h, q_error *err)
{
        int n = 0;
        if (!s || !*s)
                return q_seterr(err, Q_E_MISSING_PARAMETER,
                                "The request must contain the parameter ReceiptHandle.");
        if (strlen(s) > 1024 ||
            sscanf(s, "%" SCNd64 ":%" SCNd64 ":%16" SCNx64 ":%16" SCNx64 "%n", &h->qid, &h->rowid,
                   &h->nonce, &h->token, &n) != 4 ||
            s[n] != 0 || h->qid <= 0 || h->rowid <= 0)
                return q_seterr(
                        err, Q_E_RECEIPT_HANDLE_INVALID,
                        "The input receipt handle \"%.300s\" is not a valid receipt handle.", s);
        return 0;
}

/* ---- FIFO ReceiveRequestAttemptId: a retry within 5 minutes gets the same messages and
 * handles while they are still in flight (best effort: in memory, the last Q_ATTEMPTS_MAX) ---- */
static q_attempt *find_attempt(q_engine *q, int64_t qid, const char *id, uint64_t now)
{
        for (size_t k = 0; k < Q_ATTEMPTS_MAX; k++) {
                q_attempt *at = &q->attempts[k];
                if (at->qid == qid && at->expires > now && strcmp(at->id, id) == 0)
                        return at;
        }
        return NULL;
}

static int replay_attempt(q_engine *q, const qinfo *i, struct recv_arg *a, uint64_t now,
                          q_error *err)
{
        q_attempt *at = find_attempt(q, i->id, a->r->attempt_id, now);
        if (!at)
                return 0;
        for (size_t k = 0; k < at->n; k++) {
                sqlite3_stmt *st =
                        q_stmt(q, "SELECT " MCOLS " FROM messages WHERE id = ?1 AND qid = ?2");
                if (!st)
                        return q_dberr(q, err, "receive");
                sqlite3_bind_int64(st, 1, at->rowids[k]);
                sqlite3_bind_int64(st, 2, i->id);
                int r = 0;
                if (sqlite3_step(st) == SQLITE_ROW &&
                    (uint64_t)sqlite3_column_int64(st, C_TOKEN) == at->tokens[k] &&
                    sqlite3_column_int64(st, C_VIS) > (int64_t)now) {
                        int64_t rowid;
                        uint64_t token;
                        r = deliver(q, i, st, true, now, &a->msgs[a->n++], &rowid, &token, err);
                }
                sqlite3_reset(st);
                if (r < 0)
                        return -1;
        }
        if (a->n != at->n) {
                /* some were deleted or came back: a fresh receive */
                q_messages_free(a->msgs, a->n);
                a->msgs = xcalloc(Q_RECEIVE_MAX, sizeof(q_message));
                a->n = 0;
                at->qid = 0;
        }
        return 0;
}

static void record_attempt(q_engine *q, const qinfo *i, const struct recv_arg *a, uint64_t now)
{
        q_attempt *at = find_attempt(q, i->id, a->r->attempt_id, now);
        if (!at) {
                at = &q->attempts[q->attempt_next];
                q->attempt_next = (q->attempt_next + 1) % Q_ATTEMPTS_MAX;
        }
        at->qid = i->id;
        snprintf(at->id, sizeof(at->id), "%s", a->r->attempt_id);
        at->expires = now + 5 * 60 * 1000;
        at->n = 0;
        for (size_t k = 0; k < a->n && k < Q_RECEIVE_MAX; k++) {
                handle h;
                if (parse_handle(a->msgs[k].receipt_handle, &h, NULL) < 0)
                        continue;
                at->rowids[at->n] = h.rowid;
                at->tokens[at->n++] = h.token;
        }
}

/* One receive in progress (writer thread). */
struct rctx {
        q_engine *q;
        struct recv_arg *a;
        qinfo i, d;    /* the queue, its dead-letter queue */
        bool have_dlq; /* d is loaded and usable */
        uint64_t now;
        int64_t vis_at; /* when delivered messages become visible again */
        size_t want;
};

/* Takes candidate rows from st (bound, positioned before the first row): delivers, expires or
 * dead-letters them in order; stop_at_invisible: a FIFO group's run ends at its first invisible
 * message. Returns the number of rows acted on, or -1. */
static int take_rows(struct rctx *c, sqlite3_stmt *st, bool stop_at_invisible, q_error *err)
{
        struct pending pend[Q_RECEIVE_MAX];
        size_t np = 0;
        int r = 0;
        while (r == 0 && np < ARRAY_SIZE(pend) && c->a->n < c->want &&
               sqlite3_step(st) == SQLITE_ROW) {
                int act = classify(&c->i, c->have_dlq, st, c->now);
                if (act == ACT_STOP) {
                        if (stop_at_invisible)
                                break;
                        continue;
                }
                pend[np] = (struct pending){ .act = act, .rowid = sqlite3_column_int64(st, C_ID) };
                if (act == ACT_DELIVER)
                        r = deliver(c->q, &c->i, st, false, c->now, &c->a->msgs[c->a->n++],
                                    &pend[np].rowid, &pend[np].token, err);
                np++;
        }
        sqlite3_reset(st);
        if (r == 0)
                r = apply_pending(c->q, &c->i, &c->d, pend, np, c->vis_at, c->now, err);
        return r < 0 ? -1 : (int)np;
}

/* Standard queue: the visible messages, oldest visibility first. 1: progress, 0: none, -1. */
static int round_standard(struct rctx *c, q_error *err)
{
        sqlite3_stmt *st =
                q_stmt(c->q, "SELECT " MCOLS " FROM messages WHERE qid = ?1 AND visible_at <= ?2"
                             " ORDER BY visible_at LIMIT ?3");
        if (!st)
                return q_dberr(c->q, err, "receive");
        sqlite3_bind_int64(st, 1, c->i.id);
        sqlite3_bind_int64(st, 2, (int64_t)c->now);
        sqlite3_bind_int64(st, 3, (int64_t)(c->want - c->a->n));
        int n = take_rows(c, st, false, err);
        return n < 0 ? -1 : n > 0;
}

/* FIFO queue: the next group whose head is visible, its messages in order from the head (the
 * group is then in flight: its head is). 1: progress, 0: no group available, -1. */
static int round_fifo(struct rctx *c, q_error *err)
{
        sqlite3_stmt *st = q_stmt(
                c->q,
                "SELECT grp FROM groups WHERE qid = ?1 AND avail <= ?2 ORDER BY avail LIMIT 1");
        if (!st)
                return q_dberr(c->q, err, "receive");
        sqlite3_bind_int64(st, 1, c->i.id);
        sqlite3_bind_int64(st, 2, (int64_t)c->now);
        _cleanup_free_ char *grp = sqlite3_step(st) == SQLITE_ROW
                                           ? xstrdup((const char *)sqlite3_column_text(st, 0))
                                           : NULL;
        sqlite3_reset(st);
        if (!grp)
                return 0;
        st = q_stmt(c->q, "SELECT " MCOLS
                          " FROM messages WHERE qid = ?1 AND grp = ?2 ORDER BY id LIMIT ?3");
        if (!st)
                return q_dberr(c->q, err, "receive");
        sqlite3_bind_int64(st, 1, c->i.id);
        sqlite3_bind_text(st, 2, grp, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)(c->want - c->a->n));
        if (take_rows(c, st, true, err) < 0)
                return -1;
        /* the group's row is refreshed either way: a stale one cannot come back */
        return q_fifo_refresh(c->q, c->i.id, grp, err) < 0 ? -1 : 1;
}

/* When the next message of the queue becomes visible (0: none), for the long poll's timer. */
static uint64_t next_due(struct rctx *c)
{
        sqlite3_stmt *st =
                c->i.fifo
                        ? q_stmt(c->q,
                                 "SELECT MIN(avail) FROM groups WHERE qid = ?1 AND avail > ?2")
                        : q_stmt(c->q,
                                 "SELECT MIN(visible_at) FROM messages WHERE qid = ?1 AND visible_at > ?2");
        uint64_t due = 0;
        if (st) {
                sqlite3_bind_int64(st, 1, c->i.id);
                sqlite3_bind_int64(st, 2, (int64_t)c->now);
                if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
                        due = (uint64_t)sqlite3_column_int64(st, 0);
                sqlite3_reset(st);
        }
        return due;
}

/* The in-flight bound: how many more may be handed out (0 for a full FIFO queue), or -1 with
 * OverLimit for a full standard queue (as SQS answers each). */
static int64_t inflight_room(struct rctx *c, q_error *err)
{
        int64_t limit = c->i.fifo ? Q_INFLIGHT_MAX_FIFO : Q_INFLIGHT_MAX_STANDARD, inflight = 0;
        /* every message in flight was received and not deleted: count only when that bound
         * does not settle it (no index walk over in-flight and delayed messages per receive) */
        if (c->i.n_received - c->i.n_deleted + Q_RECEIVE_MAX >= limit &&
            count_inflight(c->q, &c->i, c->now, limit, &inflight, err) < 0)
                return -1;
        if (inflight < limit)
                return limit - inflight;
        if (c->i.fifo)
                return 0;
        return q_seterr(err, Q_E_OVER_LIMIT,
                        "Too many messages in flight on %s: at most %lld (%s).", c->i.name,
                        (long long)limit, "Q_INFLIGHT_MAX_STANDARD");
}

static int receive_op(q_engine *q, void *p, q_error *err)
{
        struct rctx c = { .q = q, .a = p };
        struct recv_arg *a = c.a;
        if (q_load(q, a->queue, &c.i, err) < 0)
                return -1;
        if (a->wait < 0)
                a->wait = a->r->wait_seconds >= 0 ? a->r->wait_seconds : c.i.wait;
        c.have_dlq = c.i.dlq[0] && c.i.max_receive > 0 && q_load(q, c.i.dlq, &c.d, NULL) == 0 &&
                     c.d.id != c.i.id;
        c.now = q_now(q);
        int64_t vis = a->r->visibility_timeout >= 0 ? a->r->visibility_timeout : c.i.vis;
        c.vis_at = (int64_t)c.now + vis * 1000;
        c.want = a->r->max ? a->r->max : 1;
        int r = 0;
        int64_t room = inflight_room(&c, err);
        if (room <= 0) {
                r = room < 0 ? -1 : 0;
                goto out;
        }
        if ((int64_t)c.want > room)
                c.want = (size_t)room;
        a->msgs = xcalloc(Q_RECEIVE_MAX, sizeof(q_message));
        if (c.i.fifo && a->r->attempt_id) {
                r = replay_attempt(q, &c.i, a, c.now, err);
                if (r < 0 || a->n > 0)
                        goto out;
        }
        for (int round = 0; a->n < c.want && round < 1000; round++) {
                r = c.i.fifo ? round_fifo(&c, err) : round_standard(&c, err);
                if (r <= 0)
                        break;
        }
        if (r > 0)
                r = 0;
        if (r == 0 && a->n > 0 && c.i.fifo && a->r->attempt_id)
                record_attempt(q, &c.i, a, c.now);
        if (r == 0 && a->n > 0) {
                sqlite3_stmt *st =
                        q_stmt(q, "UPDATE queues SET n_received = n_received + ?2 WHERE id = ?1");
                if (!st)
                        r = q_dberr(q, err, "receive");
                else {
                        sqlite3_bind_int64(st, 1, c.i.id);
                        sqlite3_bind_int64(st, 2, (int64_t)a->n);
                        r = step_done(q, st, err, "receive");
                }
        }
        if (r == 0 && a->n == 0)
                a->next_due = next_due(&c);
out:
        if (r < 0) {
                q_messages_free(a->msgs, a->n);
                a->msgs = NULL;
                a->n = 0;
        }
        qinfo_free(&c.i);
        qinfo_free(&c.d);
        return r;
}

static void mono_after(struct timespec *ts, uint64_t ms)
{
        clock_gettime(CLOCK_MONOTONIC, ts);
        ts->tv_sec += (time_t)(ms / 1000);
        ts->tv_nsec += (long)(ms % 1000) * 1000000;
        if (ts->tv_nsec >= 1000000000) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000;
        }
}

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int q_receive(q_engine *q, const char *queue, const q_receive_req *r, q_message **ret,
              size_t *ret_n, q_error *err)
{
        *ret = NULL;
        *ret_n = 0;
        if (r->max > Q_RECEIVE_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %u for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and %d, "
                        "if provided.",
                        r->max, Q_RECEIVE_MAX);
        if (r->visibility_timeout < -1 || r->visibility_timeout > Q_VISIBILITY_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and %d, "
                        "if provided.",
                        r->visibility_timeout, Q_VISIBILITY_MAX);
        if (r->wait_seconds < -1 || r->wait_seconds > Q_WAIT_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= %d, if "
                        "provided.",
                        r->wait_seconds, Q_WAIT_MAX);
        if (r->attempt_id && (strlen(r->attempt_id) == 0 || strlen(r->attempt_id) > 128))
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value for parameter ReceiveRequestAttemptId is invalid: 1 to 128 characters.");
        if (!q_name_valid(queue))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        uint64_t gen;
        q_waiter *w = q_waiter_get(q, queue, &gen);
        struct recv_arg a = { .queue = queue, .r = r, .wait = -1 };
        uint64_t start = mono_ms();
        int rc;
        for (;;) {
                a.next_due = 0;
                rc = q_run(q, receive_op, &a, false, err);
                if (rc < 0 || a.n > 0 || a.wait <= 0)
                        break;
                uint64_t elapsed = mono_ms() - start, total = (uint64_t)a.wait * 1000;
                if (elapsed >= total)
                        break;
                uint64_t left = total - elapsed;
                if (a.next_due) {
                        uint64_t now = q_now(q);
                        uint64_t due = a.next_due > now ? a.next_due - now : 0;
                        if (due < left)
                                left = due + 1;
                }
                struct timespec until;
                mono_after(&until, left);
                uint64_t g0 = gen;
                if (!q_waiter_wait(q, w, g0, &until))
                        break;
                pthread_mutex_lock(&q->mu);
                gen = w->gen;
                pthread_mutex_unlock(&q->mu);
                free(a.msgs);
                a.msgs = NULL;
        }
        q_waiter_put(q, w);
        if (rc < 0)
                return -1;
        if (a.n == 0) {
                free(a.msgs);
                a.msgs = NULL;
        }
        *ret = a.msgs;
        *ret_n = a.n;
        return 0;
}

/* ---- delete, change visibility ---- */
struct handle_arg {
        const char *queue;
        const char *const *receipts;
        const uint32_t *timeouts; /* NULL: delete */
        size_t n;
        q_batch_result *res;
        bool single;
};

static int one_handle(q_engine *q, qinfo *i, const char *receipt, const uint32_t *timeout,
                      uint64_t now, q_error *err)
{
        handle h;
        if (parse_handle(receipt, &h, err) < 0)
                return -1;
        if (h.qid != i->id)
                return q_seterr(
                        err, Q_E_RECEIPT_HANDLE_INVALID,
                        "The input receipt handle \"%.300s\" is not a valid receipt handle.",
                        receipt);
        if (timeout && *timeout > Q_VISIBILITY_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %u for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and %d.",
                        *timeout, Q_VISIBILITY_MAX);
        sqlite3_stmt *st = q_stmt(
                q, "SELECT nonce, token, visible_at, grp FROM messages WHERE id = ?1 AND qid = ?2");
        if (!st)
                return q_dberr(q, err, "receipt");
        sqlite3_bind_int64(st, 1, h.rowid);
        sqlite3_bind_int64(st, 2, h.qid);
        bool found = false, current = false, inflight = false;
        char *grp = NULL;
        if (sqlite3_step(st) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) == h.nonce) {
                found = true;
                current = (uint64_t)sqlite3_column_int64(st, 1) == h.token;
                inflight = sqlite3_column_int64(st, 2) > (int64_t)now;
                if (sqlite3_column_type(st, 3) == SQLITE_TEXT)
                        grp = xstrdup((const char *)sqlite3_column_text(st, 3));
        }
        sqlite3_reset(st);
        int r = 0;
        if (!timeout) {
                /* FIFO: a handle whose visibility ended (or that a later receive replaced)
                 * deletes nothing, as in SQS: the group's next consumer may hold the message */
                if (found && i->fifo && (!current || !inflight))
                        r = q_seterr(err, Q_E_INVALID_PARAMETER,
                                     "Value %.300s for parameter ReceiptHandle is invalid. Reason: The "
                                     "receipt handle has expired.",
                                     receipt);
                else if (found) {
                        r = delete_row(q, h.rowid, err);
                        if (r == 0)
                                i->n_deleted++;
                        if (r == 0 && grp) {
                                r = q_fifo_refresh(q, i->id, grp, err);
                                q_wake_later(q, i->name);
                        }
                }
        } else if (!found || !current) {
                r = q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Value %.300s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is "
                        "not available for visibility timeout change.",
                        receipt);
        } else if (!inflight) {
                r = q_seterr(err, Q_E_MESSAGE_NOT_INFLIGHT,
                             "The message referred to by the receipt handle is not in flight.");
        } else {
                st = q_stmt(q, "UPDATE messages SET visible_at = ?2 WHERE id = ?1");
                if (!st)
                        r = q_dberr(q, err, "visibility");
                else {
                        sqlite3_bind_int64(st, 1, h.rowid);
                        sqlite3_bind_int64(st, 2, (int64_t)now + (int64_t)*timeout * 1000);
                        r = step_done(q, st, err, "visibility");
                }
                if (r == 0 && grp)
                        r = q_fifo_refresh(q, i->id, grp, err);
                if (r == 0)
                        q_wake_later(q, i->name);
        }
        free(grp);
        return r;
}

static int handles_op(q_engine *q, void *p, q_error *err)
{
        struct handle_arg *a = p;
        qinfo i;
        if (q_load(q, a->queue, &i, err) < 0)
                return -1;
        uint64_t now = q_now(q);
        int64_t del0 = i.n_deleted;
        int r = 0;
        for (size_t k = 0; k < a->n; k++) {
                q_error e = { 0 };
                int x = one_handle(q, &i, a->receipts[k], a->timeouts ? &a->timeouts[k] : NULL, now,
                                   &e);
                if (a->single || (x < 0 && e.code == Q_E_INTERNAL)) {
                        if (x < 0) {
                                if (err)
                                        *err = e;
                                r = -1;
                                break;
                        }
                        continue;
                }
                a->res[k].code = x < 0 ? e.code : Q_OK;
                snprintf(a->res[k].message, sizeof(a->res[k].message), "%.255s",
                         x < 0 ? e.msg : "");
        }
        if (r == 0 && i.n_deleted != del0) {
                sqlite3_stmt *st = q_stmt(q, "UPDATE queues SET n_deleted = ?2 WHERE id = ?1");
                if (!st)
                        r = q_dberr(q, err, "delete");
                else {
                        sqlite3_bind_int64(st, 1, i.id);
                        sqlite3_bind_int64(st, 2, i.n_deleted);
                        r = step_done(q, st, err, "delete");
                }
        }
        qinfo_free(&i);
        return r;
}

static int handles(q_engine *q, const char *queue, const char *const *ids,
                   const char *const *receipts, const uint32_t *timeouts, size_t n,
                   q_batch_result *res, bool single, q_error *err)
{
        if (!single && batch_ids_check(ids, n, err) < 0)
                return -1;
        if (!q_name_valid(queue))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        if (single) {
                handle h;
                if (parse_handle(receipts[0], &h, err) < 0)
                        return -1;
        }
        struct handle_arg a = { .queue = queue,
                                .receipts = receipts,
                                .timeouts = timeouts,
                                .n = n,
                                .res = res,
                                .single = single };
        return q_run(q, handles_op, &a, true, err);
}

int q_delete_message(q_engine *q, const char *queue, const char *receipt, q_error *err)
{
        return handles(q, queue, NULL, &receipt, NULL, 1, NULL, true, err);
}

int q_delete_batch(q_engine *q, const char *queue, const char *const *ids,
                   const char *const *receipts, size_t n, q_batch_result *res, q_error *err)
{
        return handles(q, queue, ids, receipts, NULL, n, res, false, err);
}

int q_change_visibility(q_engine *q, const char *queue, const char *receipt, uint32_t timeout,
                        q_error *err)
{
        return handles(q, queue, NULL, &receipt, &timeout, 1, NULL, true, err);
}

int q_change_visibility_batch(q_engine *q, const char *queue, const char *const *ids,
                              const char *const *receipts, const uint32_t *timeouts, size_t n,
                              q_batch_result *res, q_error *err)
{
        return handles(q, queue, ids, receipts, timeouts, n, res, false, err);
}
