/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: SQS over AWS JSON 1.0 (issue 13). POST / with X-Amz-Target: AmazonSQS.<Operation>
 * and a JSON object as the body; the answer is a JSON object (application/x-amz-json-1.0).
 *
 * This file only translates: it reads the request's members as the SQS model types them
 * (strings, integers, string lists and maps, message attribute structures with base64 binary
 * values), calls the queue engine (src/queue/queue.h) and renders its typed answer or error.
 * Semantics (names, attribute values, limits of message content, FIFO rules) are the engine's.
 *
 * Errors take the shape AWS gives a query-compatible JSON service: status 400 (404/403 where the
 * model says so), {"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"..."} and the
 * header x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender, from which the SDKs
 * take the error code. A body that is not a JSON object in UTF-8 is a SerializationException, an
 * unknown operation an UnknownOperationException, as AWS's JSON front end answers them.
 *
 * Bounds: the listener bounds the body (2 MiB). Before the body is parsed, one pass over its
 * bytes refuses a batch of more than Q_BATCH_MAX entries (TooManyEntriesInBatchRequest) and a
 * body of more than SQS_JSON_VALUES_MAX values, so that neither costs a tree of nodes; after it,
 * every list and map has a bound, and nothing is trusted to be of the type the model says. */
#include "serve.h"
#include "queue/queue.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQS_JSON_TYPE "application/x-amz-json-1.0"
#define SQS_JSON_NS "com.amazonaws.sqs#"
/* Names in AttributeNames, MessageAttributeNames, TagKeys, and entries of the Attributes and
 * Tags maps: AWS has ~20 queue attributes and 50 tags; more than this is not a real request. */
#define SQS_JSON_LIST_MAX 100
#define SQS_MOVE_RATE_MAX 500 /* MaxNumberOfMessagesPerSecond, as AWS bounds it */
#define SQS_MOVE_LIST_MAX 10  /* ListMessageMoveTasks MaxResults */
/* JSON values in one request. The largest real request (SendMessageBatch: 10 entries of 10
 * message attributes each) holds about 500; the reader builds a node for each, so a body of
 * a million tiny values (2 MiB of "0,") is refused before it is parsed. */
#define SQS_JSON_VALUES_MAX 4096

typedef struct jreq {
        q_engine *q;
        const serve_req *r;
        serve_resp *w;
        const json_value *in; /* the request object */
        q_error *err;
} jreq;

static int jfail(q_error *err, q_errcode code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int jfail(q_error *err, q_errcode code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        return -1;
}

/* ---------------- UTF-8 (base64: util/base64.h) ---------------- */

/* Cuts s at its first invalid UTF-8 byte (a message the engine truncated mid-character). */
static void utf8_trim(char *s)
{
        s[utf8_valid_prefix(s, strlen(s))] = '\0';
}

/* ---------------- reading members as the model types them ---------------- */

/* A member of an object; an explicit null counts as absent, as the SDKs serialise it. */
static const json_value *member(const json_value *in, const char *key)
{
        const json_value *v = json_get(in, key);
        return v && v->type != JSON_NULL ? v : NULL;
}

static int missing(q_error *err, const char *key)
{
        return jfail(err, Q_E_MISSING_PARAMETER, "The request must contain the parameter %s.", key);
}

static int get_str(const json_value *in, const char *key, bool required, const char **ret,
                   q_error *err)
{
        const json_value *v = member(in, key);
        *ret = NULL;
        if (!v)
                return required ? missing(err, key) : 0;
        if (v->type != JSON_STRING)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Value for parameter %s is invalid. Reason: must be a string.", key);
        *ret = v->str;
        return 0;
}

/* An integer member within [min, max]; *ret untouched when absent. */
static int get_int(const json_value *in, const char *key, bool required, int64_t min, int64_t max,
                   int64_t *ret, q_error *err)
{
        const json_value *v = member(in, key);
        int64_t x;
        if (!v)
                return required ? missing(err, key) : 0;
        if (v->type != JSON_NUMBER || parse_int64(v->str, &x) < 0)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Value for parameter %s is invalid. Reason: must be an integer.", key);
        if (x < min || x > max)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Value %" PRId64
                             " for parameter %s is invalid. Reason: Must be between %" PRId64
                             " and %" PRId64 ", if provided.",
                             x, key, min, max);
        *ret = x;
        return 0;
}

/* A list of strings; *ret (allocated, pointing into the request) is NULL and *ret_n 0 when
 * absent. */
static int get_str_list(const json_value *in, const char *key, bool required, const char ***ret,
                        size_t *ret_n, q_error *err)
{
        const json_value *v = member(in, key);
        *ret = NULL;
        *ret_n = 0;
        if (!v)
                return required ? missing(err, key) : 0;
        if (v->type != JSON_ARRAY)
                return jfail(
                        err, Q_E_INVALID_PARAMETER,
                        "Value for parameter %s is invalid. Reason: must be a list of strings.",
                        key);
        if (v->n > SQS_JSON_LIST_MAX)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Parameter %s has %zu entries; husk accepts at most %d.", key, v->n,
                             SQS_JSON_LIST_MAX);
        const char **l = xcalloc(v->n + 1, sizeof(*l));
        for (size_t i = 0; i < v->n; i++) {
                if (v->items[i]->type != JSON_STRING) {
                        free(l);
                        return jfail(err, Q_E_INVALID_PARAMETER,
                                     "Value for parameter %s is invalid. Reason: must be a list of "
                                     "strings.",
                                     key);
                }
                l[i] = v->items[i]->str;
        }
        *ret = l;
        *ret_n = v->n;
        return 0;
}

/* A JSON object may repeat a key; like json_get, the last one wins, so that a map never hands the
 * engine one name twice. */
static bool repeated_later(const json_value *obj, size_t i)
{
        for (size_t k = i + 1; k < obj->n; k++)
                if (strcmp(obj->keys[k], obj->keys[i]) == 0)
                        return true;
        return false;
}

static void kvs_freep(q_kvs *k)
{
        q_kvs_free(k);
}

/* A map of string to string (Attributes, Tags) into ret (zeroed by the caller). */
static int get_str_map(const json_value *in, const char *key, bool required, q_kvs *ret,
                       q_error *err)
{
        const json_value *v = member(in, key);
        if (!v)
                return required ? missing(err, key) : 0;
        if (v->type != JSON_OBJECT)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Value for parameter %s is invalid. Reason: must be a map of strings.",
                             key);
        if (v->n > SQS_JSON_LIST_MAX)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Parameter %s has %zu entries; husk accepts at most %d.", key, v->n,
                             SQS_JSON_LIST_MAX);
        for (size_t i = 0; i < v->n; i++) {
                if (v->items[i]->type != JSON_STRING)
                        return jfail(err, Q_E_INVALID_PARAMETER,
                                     "Value for %s.%s is invalid. Reason: must be a string.", key,
                                     v->keys[i]);
                if (!repeated_later(v, i))
                        q_kvs_add(ret, v->keys[i], v->items[i]->str);
        }
        return 0;
}

static int get_queue(jreq *j, char name[Q_NAME_MAX + 1])
{
        const char *url;
        if (get_str(j->in, "QueueUrl", true, &url, j->err) < 0)
                return -1;
        return q_name_from_url(j->q, url, name, j->err);
}

/* arn:aws:sqs:REGION:ACCOUNT:NAME of this engine's region and account -> NAME. */
static int get_arn_queue(jreq *j, const char *key, bool required, char name[Q_NAME_MAX + 1],
                         bool *ret_present)
{
        const char *arn;
        if (get_str(j->in, key, required, &arn, j->err) < 0)
                return -1;
        *ret_present = arn != NULL;
        if (!arn)
                return 0;
        _cleanup_free_ char *prefix =
                xasprintf("arn:aws:sqs:%s:%s:", q_engine_region(j->q), q_engine_account(j->q));
        if (strncmp(arn, "arn:", 4) != 0 || strlen(arn) > 256)
                return jfail(j->err, Q_E_INVALID_PARAMETER,
                             "Value for parameter %s is invalid. Reason: not an ARN.", key);
        const char *n = strncmp(arn, prefix, strlen(prefix)) == 0 ? arn + strlen(prefix) : NULL;
        if (!n || strlen(n) > Q_NAME_MAX || !q_name_valid(n))
                return jfail(j->err, Q_E_RESOURCE_NOT_FOUND,
                             "The resource that you specified for the %s parameter doesn't exist.",
                             key);
        snprintf(name, Q_NAME_MAX + 1, "%s", n);
        return 0;
}

/* ---------------- answers ---------------- */

static json_writer *out_begin(void)
{
        json_writer *o = json_writer_new(false);
        json_obj_begin(o);
        return o;
}

static int out_end(jreq *j, json_writer *o)
{
        json_obj_end(o);
        char *s = json_writer_finish(o);
        serve_resp_set(j->w, 200, SQS_JSON_TYPE, s, strlen(s));
        return 0;
}

static int out_empty(jreq *j)
{
        return out_end(j, out_begin());
}

static void out_kvs(json_writer *o, const char *key, const q_kvs *k)
{
        json_key(o, key);
        json_obj_begin(o);
        for (size_t i = 0; i < k->n; i++)
                json_kv_str(o, k->v[i].name, k->v[i].value);
        json_obj_end(o);
}

/* Each error's shape name in the JSON model (the part of __type after '#') and its HTTP status
 * there (smithy httpError; 400 unless the model says otherwise). The query code that goes into
 * x-amzn-query-error is the engine's q_err_query_name, shared with the query adapter. */
static const struct {
        q_errcode code;
        const char *name;
        unsigned status;
} json_errors[] = {
        {Q_E_NONEXISTENT_QUEUE, "QueueDoesNotExist", 400},
        {Q_E_QUEUE_EXISTS, "QueueNameExists", 400}, /* query: QueueAlreadyExists */
        {Q_E_QUEUE_DELETED_RECENTLY, "QueueDeletedRecently", 400},
        {Q_E_INVALID_PARAMETER, "InvalidParameterValue", 400},
        {Q_E_MISSING_PARAMETER, "MissingParameter", 400},
        {Q_E_INVALID_ATTRIBUTE_NAME, "InvalidAttributeName", 400},
        {Q_E_INVALID_ATTRIBUTE_VALUE, "InvalidAttributeValue", 400},
        {Q_E_INVALID_MESSAGE_CONTENTS, "InvalidMessageContents", 400},
        {Q_E_RECEIPT_HANDLE_INVALID, "ReceiptHandleIsInvalid", 404},
        {Q_E_MESSAGE_NOT_INFLIGHT, "MessageNotInflight", 400},
        {Q_E_PURGE_IN_PROGRESS, "PurgeQueueInProgress", 403},
        {Q_E_EMPTY_BATCH, "EmptyBatchRequest", 400},
        {Q_E_TOO_MANY_ENTRIES, "TooManyEntriesInBatchRequest", 400},
        {Q_E_BATCH_IDS_NOT_DISTINCT, "BatchEntryIdsNotDistinct", 400},
        {Q_E_INVALID_BATCH_ENTRY_ID, "InvalidBatchEntryId", 400},
        {Q_E_BATCH_TOO_LONG, "BatchRequestTooLong", 400},
        {Q_E_OVER_LIMIT, "OverLimit", 403},
        {Q_E_UNSUPPORTED_OPERATION, "UnsupportedOperation", 400},
        {Q_E_RESOURCE_NOT_FOUND, "ResourceNotFoundException", 404},
        {Q_E_INTERNAL, "InternalError", 500},
};

static void reply_raw_error(serve_resp *w, unsigned status, const char *type, const char *msg)
{
        json_writer *o = out_begin();
        json_kv_str(o, "__type", type);
        json_kv_str(o, "message", msg);
        json_obj_end(o);
        char *s = json_writer_finish(o);
        serve_resp_set(w, status, SQS_JSON_TYPE, s, strlen(s));
}

static void reply_error(serve_resp *w, q_error *err)
{
        q_errcode c = err->code;
        const char *name = NULL;
        unsigned status = 0;
        for (size_t i = 0; i < ARRAY_SIZE(json_errors); i++)
                if (json_errors[i].code == c) {
                        name = json_errors[i].name;
                        status = json_errors[i].status;
                }
        if (!name) { /* Q_OK or a code this table does not know: the engine failed to say */
                c = Q_E_INTERNAL;
                name = "InternalError";
                status = 500;
        }
        utf8_trim(err->msg);
        _cleanup_free_ char *type = xasprintf(SQS_JSON_NS "%s", name);
        _cleanup_free_ char *qe = xasprintf("%s;%s", q_err_query_name(c),
                                            q_err_sender_fault(c) ? "Sender" : "Receiver");
        reply_raw_error(w, status, type, err->msg);
        serve_resp_header(w, "x-amzn-query-error", qe);
}

static int reply_url(jreq *j, const char *name)
{
        const char *host = j->r->host && *j->r->host ? j->r->host : "localhost";
        _cleanup_free_ char *url = q_queue_url(j->q, host, name);
        if (!url)
                return jfail(j->err, Q_E_INTERNAL, "cannot build the URL of queue %s", name);
        json_writer *o = out_begin();
        json_kv_str(o, "QueueUrl", url);
        return out_end(j, o);
}

static void names_free(char **v, size_t n)
{
        for (size_t i = 0; i < n && v; i++)
                free(v[i]);
        free(v);
}

/* QueueUrls / queueUrls of a page of names, and its NextToken. */
static int reply_url_page(jreq *j, const char *key, bool always, char **names, size_t n,
                          const char *next)
{
        const char *host = j->r->host && *j->r->host ? j->r->host : "localhost";
        json_writer *o = out_begin();
        if (n || always) {
                json_key(o, key);
                json_arr_begin(o);
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *url = q_queue_url(j->q, host, names[i]);
                        json_str(o, url);
                }
                json_arr_end(o);
        }
        if (next)
                json_kv_str(o, "NextToken", next);
        return out_end(j, o);
}

/* Successful: [{Id, ...}], Failed: [{Id, SenderFault, Code, Message}] of a batch; both lists are
 * required members of every batch result. ok_extra renders a success's other members. */
static void out_batch_failed(json_writer *o, const char *id, q_errcode code, char *message)
{
        utf8_trim(message);
        json_obj_begin(o);
        json_kv_str(o, "Id", id);
        json_kv_bool(o, "SenderFault", q_err_sender_fault(code));
        json_kv_str(o, "Code", q_err_query_name(code));
        json_kv_str(o, "Message", message);
        json_obj_end(o);
}

/* ---------------- queues ---------------- */

static int op_create_queue(jreq *j)
{
        const char *name;
        _cleanup_(kvs_freep) q_kvs attrs = {0};
        _cleanup_(kvs_freep) q_kvs tags = {0};
        bool created = false;
        if (get_str(j->in, "QueueName", true, &name, j->err) < 0 ||
            get_str_map(j->in, "Attributes", false, &attrs, j->err) < 0 ||
            get_str_map(j->in, "tags", false, &tags, j->err) < 0)
                return -1;
        if (q_create(j->q, name, &attrs, &tags, &created, j->err) < 0)
                return -1;
        return reply_url(j, name);
}

static int op_get_queue_url(jreq *j)
{
        const char *name, *owner;
        if (get_str(j->in, "QueueName", true, &name, j->err) < 0 ||
            get_str(j->in, "QueueOwnerAWSAccountId", false, &owner, j->err) < 0)
                return -1;
        if ((owner && strcmp(owner, q_engine_account(j->q)) != 0) || !q_name_valid(name))
                return jfail(j->err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        if (q_exists(j->q, name, j->err) < 0)
                return -1;
        return reply_url(j, name);
}

static int op_list_queues(jreq *j)
{
        const char *prefix, *token;
        int64_t max = 0;
        if (get_str(j->in, "QueueNamePrefix", false, &prefix, j->err) < 0 ||
            get_str(j->in, "NextToken", false, &token, j->err) < 0 ||
            get_int(j->in, "MaxResults", false, 1, Q_LIST_MAX, &max, j->err) < 0)
                return -1;
        char **names = NULL, *next = NULL;
        size_t n = 0;
        if (q_list(j->q, prefix, (unsigned)max, token, &names, &n, &next, j->err) < 0)
                return -1;
        reply_url_page(j, "QueueUrls", false, names, n, next);
        names_free(names, n);
        free(next);
        return 0;
}

static int op_delete_queue(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        if (get_queue(j, name) < 0 || q_delete(j->q, name, j->err) < 0)
                return -1;
        return out_empty(j);
}

static int op_purge_queue(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        if (get_queue(j, name) < 0 || q_purge(j->q, name, j->err) < 0)
                return -1;
        return out_empty(j);
}

static int op_get_queue_attributes(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        _cleanup_free_ const char **names = NULL;
        size_t n = 0;
        _cleanup_(kvs_freep) q_kvs attrs = {0};
        if (get_queue(j, name) < 0 ||
            get_str_list(j->in, "AttributeNames", false, &names, &n, j->err) < 0 ||
            q_get_attrs(j->q, name, names, n, &attrs, j->err) < 0)
                return -1;
        json_writer *o = out_begin();
        if (attrs.n)
                out_kvs(o, "Attributes", &attrs);
        return out_end(j, o);
}

static int op_set_queue_attributes(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        _cleanup_(kvs_freep) q_kvs attrs = {0};
        if (get_queue(j, name) < 0 || get_str_map(j->in, "Attributes", true, &attrs, j->err) < 0 ||
            q_set_attrs(j->q, name, &attrs, j->err) < 0)
                return -1;
        return out_empty(j);
}

static int op_tag_queue(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        _cleanup_(kvs_freep) q_kvs tags = {0};
        if (get_queue(j, name) < 0 || get_str_map(j->in, "Tags", true, &tags, j->err) < 0 ||
            q_tag(j->q, name, &tags, j->err) < 0)
                return -1;
        return out_empty(j);
}

static int op_untag_queue(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        _cleanup_free_ const char **keys = NULL;
        size_t n = 0;
        if (get_queue(j, name) < 0 || get_str_list(j->in, "TagKeys", true, &keys, &n, j->err) < 0 ||
            q_untag(j->q, name, keys, n, j->err) < 0)
                return -1;
        return out_empty(j);
}

static int op_list_queue_tags(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        _cleanup_(kvs_freep) q_kvs tags = {0};
        if (get_queue(j, name) < 0 || q_list_tags(j->q, name, &tags, j->err) < 0)
                return -1;
        json_writer *o = out_begin();
        if (tags.n)
                out_kvs(o, "Tags", &tags);
        return out_end(j, o);
}

static int op_list_dlq_sources(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        const char *token;
        int64_t max = 0;
        if (get_queue(j, name) < 0 || get_str(j->in, "NextToken", false, &token, j->err) < 0 ||
            get_int(j->in, "MaxResults", false, 1, Q_LIST_MAX, &max, j->err) < 0)
                return -1;
        char **names = NULL, *next = NULL;
        size_t n = 0;
        if (q_dlq_sources(j->q, name, (unsigned)max, token, &names, &n, &next, j->err) < 0)
                return -1;
        /* The model spells this member queueUrls, and it is required. */
        reply_url_page(j, "queueUrls", true, names, n, next);
        names_free(names, n);
        free(next);
        return 0;
}

/* ---------------- messages ---------------- */

/* The shape of a MessageAttributeValue: DataType is String, Number or Binary (with an optional
 * ".label"); String and Number carry StringValue, Binary carries BinaryValue (base64). The
 * values themselves (number syntax, characters, sizes) are the engine's to judge. */
static int parse_attr(const char *what, const char *name, const json_value *v, q_msg_attr *a,
                      q_error *err)
{
        const char *type, *sv, *bv;
        a->name = xstrdup(name);
        if (v->type != JSON_OBJECT)
                return jfail(err, Q_E_INVALID_PARAMETER, "The %s '%s' must be a structure.", what,
                             name);
        if (get_str(v, "DataType", false, &type, err) < 0 ||
            get_str(v, "StringValue", false, &sv, err) < 0 ||
            get_str(v, "BinaryValue", false, &bv, err) < 0)
                return -1;
        const json_value *sl = member(v, "StringListValues"), *bl = member(v, "BinaryListValues");
        if ((sl && (sl->type != JSON_ARRAY || sl->n)) || (bl && (bl->type != JSON_ARRAY || bl->n)))
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "The %s '%s' uses StringListValues or BinaryListValues, which SQS "
                             "does not support.",
                             what, name);
        if (!type || !*type)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "The %s '%s' must contain non-empty message attribute type.", what,
                             name);
        a->data_type = xstrdup(type);
        bool binary = strncmp(type, "Binary", 6) == 0 && (type[6] == '\0' || type[6] == '.');
        bool text = (strncmp(type, "String", 6) == 0 && (type[6] == '\0' || type[6] == '.')) ||
                    (strncmp(type, "Number", 6) == 0 && (type[6] == '\0' || type[6] == '.'));
        if (!binary && !text)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "The type of %s '%s' is invalid. You must use only the following "
                             "supported type prefixes: Binary, Number, String.",
                             what, name);
        if (binary) {
                if (!bv || sv)
                        return jfail(
                                err, Q_E_INVALID_PARAMETER,
                                "The %s '%s' with type 'Binary' must use field 'BinaryValue' only.",
                                what, name);
                char *bin;
                if (base64_decode(bv, strlen(bv), &bin, &a->binary_len) < 0)
                        return jfail(err, Q_E_INVALID_PARAMETER,
                                     "The BinaryValue of %s '%s' is not valid base64.", what, name);
                a->binary_value = (unsigned char *)bin;
                return 0;
        }
        if (!sv || bv)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "The %s '%s' with type '%s' must use field 'StringValue' only.", what,
                             name, type);
        a->string_value = xstrdup(sv);
        return 0;
}

static int parse_attrs(const json_value *in, const char *key, const char *what, q_msg_attr **ret,
                       size_t *ret_n, q_error *err)
{
        const json_value *m = member(in, key);
        *ret = NULL;
        *ret_n = 0;
        if (!m)
                return 0;
        if (m->type != JSON_OBJECT)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Value for parameter %s is invalid. Reason: must be a map.", key);
        if (m->n > Q_MSG_ATTRS_MAX)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "Number of %ss [%zu] exceeds the allowed maximum [%d].", what, m->n,
                             Q_MSG_ATTRS_MAX);
        q_msg_attr *a = xcalloc(m->n + 1, sizeof(*a));
        size_t n = 0;
        for (size_t i = 0; i < m->n; i++) {
                if (repeated_later(m, i))
                        continue;
                if (parse_attr(what, m->keys[i], m->items[i], &a[n++], err) < 0) {
                        q_msg_attrs_free(a, n);
                        return -1;
                }
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

/* One message to send: SendMessage's request or a SendMessageBatch entry. */
typedef struct send_in {
        q_send_entry e;
        q_msg_attr *attrs, *sys;
        size_t n_attrs, n_sys;
} send_in;

static void send_in_free(send_in *s)
{
        q_msg_attrs_free(s->attrs, s->n_attrs);
        q_msg_attrs_free(s->sys, s->n_sys);
        memset(s, 0, sizeof(*s));
}

static int parse_send(const json_value *in, bool batch, send_in *s, q_error *err)
{
        const char *body;
        int64_t delay = -1;
        memset(s, 0, sizeof(*s));
        if ((batch && get_str(in, "Id", true, &s->e.id, err) < 0) ||
            get_str(in, "MessageBody", true, &body, err) < 0 ||
            get_int(in, "DelaySeconds", false, 0, Q_DELAY_MAX, &delay, err) < 0 ||
            get_str(in, "MessageGroupId", false, &s->e.group_id, err) < 0 ||
            get_str(in, "MessageDeduplicationId", false, &s->e.dedup_id, err) < 0 ||
            parse_attrs(in, "MessageAttributes", "message attribute", &s->attrs, &s->n_attrs, err) <
                    0 ||
            parse_attrs(in, "MessageSystemAttributes", "message system attribute", &s->sys,
                        &s->n_sys, err) < 0)
                return -1;
        s->e.body = body;
        s->e.body_len = strlen(body);
        s->e.delay_seconds = (int32_t)delay;
        s->e.attrs = s->attrs;
        s->e.n_attrs = s->n_attrs;
        s->e.sys_attrs = s->sys;
        s->e.n_sys_attrs = s->n_sys;
        return 0;
}

/* SenderId: the access key id that signed the request ("anonymous" under --no-auth). */
static const char *principal(const jreq *j)
{
        return j->r->principal && *j->r->principal ? j->r->principal : "anonymous";
}

static void out_send_result(json_writer *o, const q_send_result *res)
{
        json_kv_str(o, "MD5OfMessageBody", res->md5_body);
        if (res->md5_attrs[0])
                json_kv_str(o, "MD5OfMessageAttributes", res->md5_attrs);
        if (res->md5_sys_attrs[0])
                json_kv_str(o, "MD5OfMessageSystemAttributes", res->md5_sys_attrs);
        json_kv_str(o, "MessageId", res->message_id);
        if (res->sequence_number[0])
                json_kv_str(o, "SequenceNumber", res->sequence_number);
}

static int op_send_message(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        send_in s;
        q_send_result res;
        memset(&res, 0, sizeof(res));
        if (get_queue(j, name) < 0)
                return -1;
        int rc = parse_send(j->in, false, &s, j->err);
        if (rc == 0)
                rc = q_send(j->q, name, principal(j), &s.e, 1, &res, j->err);
        send_in_free(&s);
        if (rc < 0)
                return -1;
        json_writer *o = out_begin();
        out_send_result(o, &res);
        return out_end(j, o);
}

/* The Entries of a batch, bounded before any per-entry work. */
static int get_entries(jreq *j, const char *entry_type, const json_value **ret)
{
        const json_value *v = member(j->in, "Entries");
        if (!v)
                return missing(j->err, "Entries");
        if (v->type != JSON_ARRAY)
                return jfail(j->err, Q_E_INVALID_PARAMETER,
                             "Value for parameter Entries is invalid. Reason: must be a list.");
        if (v->n == 0)
                return jfail(j->err, Q_E_EMPTY_BATCH,
                             "There should be at least one %s in the request.", entry_type);
        if (v->n > Q_BATCH_MAX)
                return jfail(j->err, Q_E_TOO_MANY_ENTRIES,
                             "Maximum number of entries per request are %d. You have sent %zu.",
                             Q_BATCH_MAX, v->n);
        for (size_t i = 0; i < v->n; i++)
                if (v->items[i]->type != JSON_OBJECT)
                        return jfail(j->err, Q_E_INVALID_PARAMETER,
                                     "Value for parameter Entries is invalid. Reason: entry %zu is "
                                     "not a structure.",
                                     i + 1);
        *ret = v;
        return 0;
}

static int op_send_message_batch(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        const json_value *entries;
        send_in s[Q_BATCH_MAX];
        q_send_entry e[Q_BATCH_MAX];
        q_send_result res[Q_BATCH_MAX];
        size_t n = 0;
        int rc = 0;
        if (get_queue(j, name) < 0 || get_entries(j, "SendMessageBatchRequestEntry", &entries) < 0)
                return -1;
        memset(res, 0, sizeof(res));
        for (; n < entries->n && rc == 0; n++) {
                rc = parse_send(entries->items[n], true, &s[n], j->err);
                e[n] = s[n].e;
        }
        if (rc == 0)
                rc = q_send(j->q, name, principal(j), e, n, res, j->err);
        for (size_t i = 0; i < n; i++)
                send_in_free(&s[i]);
        if (rc < 0)
                return -1;
        json_writer *o = out_begin();
        json_key(o, "Successful");
        json_arr_begin(o);
        for (size_t i = 0; i < n; i++)
                if (res[i].code == Q_OK) {
                        json_obj_begin(o);
                        json_kv_str(o, "Id", e[i].id);
                        out_send_result(o, &res[i]);
                        json_obj_end(o);
                }
        json_arr_end(o);
        json_key(o, "Failed");
        json_arr_begin(o);
        for (size_t i = 0; i < n; i++)
                if (res[i].code != Q_OK)
                        out_batch_failed(o, e[i].id, res[i].code, res[i].message);
        json_arr_end(o);
        return out_end(j, o);
}

/* What ReceiveMessage asked to see of each message. */
typedef struct recv_sel {
        const char **sys_names, **sys_names2, **attr_names;
        size_t n_sys, n_sys2, n_attr;
} recv_sel;

static bool in_list(const char *const *l, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}

static bool sys_wanted(const recv_sel *s, const char *name)
{
        return in_list(s->sys_names, s->n_sys, "All") || in_list(s->sys_names2, s->n_sys2, "All") ||
               in_list(s->sys_names, s->n_sys, name) || in_list(s->sys_names2, s->n_sys2, name);
}

/* MessageAttributeNames: "All" or ".*" for every attribute, "prefix.*" for the names that
 * start with "prefix.", else exact names. */
static bool attr_wanted(const recv_sel *s, const char *name)
{
        for (size_t i = 0; i < s->n_attr; i++) {
                const char *w = s->attr_names[i];
                size_t l = strlen(w);
                if (strcmp(w, "All") == 0 || strcmp(w, ".*") == 0 || strcmp(w, name) == 0)
                        return true;
                if (l >= 2 && w[l - 2] == '.' && w[l - 1] == '*' && strncmp(name, w, l - 1) == 0)
                        return true;
        }
        return false;
}

static void out_attr_value(json_writer *o, const q_msg_attr *a)
{
        json_obj_begin(o);
        if (a->binary_value) {
                _cleanup_free_ char *b = base64_encode(a->binary_value, a->binary_len);
                json_kv_str(o, "BinaryValue", b);
        } else {
                json_kv_str(o, "StringValue", a->string_value ? a->string_value : "");
        }
        json_kv_str(o, "DataType", a->data_type);
        json_obj_end(o);
}

static void out_message(json_writer *o, const q_message *m, const recv_sel *s)
{
        json_obj_begin(o);
        json_kv_str(o, "MessageId", m->message_id);
        json_kv_str(o, "ReceiptHandle", m->receipt_handle);
        json_kv_str(o, "MD5OfBody", m->md5_body);
        json_kv_str(o, "Body", m->body);
        size_t n_sys = 0;
        for (size_t i = 0; i < m->sys.n; i++)
                n_sys += sys_wanted(s, m->sys.v[i].name);
        if (n_sys) {
                json_key(o, "Attributes");
                json_obj_begin(o);
                for (size_t i = 0; i < m->sys.n; i++)
                        if (sys_wanted(s, m->sys.v[i].name))
                                json_kv_str(o, m->sys.v[i].name, m->sys.v[i].value);
                json_obj_end(o);
        }
        /* The digest covers exactly the attributes returned: the SDKs recompute it over them. */
        _cleanup_free_ q_msg_attr *sel = xcalloc(m->n_attrs + 1, sizeof(*sel));
        size_t n_sel = 0;
        for (size_t i = 0; i < m->n_attrs; i++)
                if (attr_wanted(s, m->attrs[i].name))
                        sel[n_sel++] = m->attrs[i];
        if (n_sel) {
                char md5[33];
                q_md5_attrs(sel, n_sel, md5);
                json_kv_str(o, "MD5OfMessageAttributes", md5);
                json_key(o, "MessageAttributes");
                json_obj_begin(o);
                for (size_t i = 0; i < n_sel; i++) {
                        json_key(o, sel[i].name);
                        out_attr_value(o, &sel[i]);
                }
                json_obj_end(o);
        }
        json_obj_end(o);
}

static int op_receive_message(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        recv_sel s = {0};
        int64_t max = 1, vis = -1, wait = -1;
        q_receive_req rr = {0};
        q_message *msgs = NULL;
        size_t n = 0;
        int rc = -1;
        if (get_queue(j, name) < 0 ||
            get_str_list(j->in, "AttributeNames", false, &s.sys_names, &s.n_sys, j->err) < 0 ||
            get_str_list(j->in, "MessageSystemAttributeNames", false, &s.sys_names2, &s.n_sys2,
                         j->err) < 0 ||
            get_str_list(j->in, "MessageAttributeNames", false, &s.attr_names, &s.n_attr, j->err) <
                    0 ||
            get_int(j->in, "MaxNumberOfMessages", false, 1, Q_RECEIVE_MAX, &max, j->err) < 0 ||
            get_int(j->in, "VisibilityTimeout", false, 0, Q_VISIBILITY_MAX, &vis, j->err) < 0 ||
            get_int(j->in, "WaitTimeSeconds", false, 0, Q_WAIT_MAX, &wait, j->err) < 0 ||
            get_str(j->in, "ReceiveRequestAttemptId", false, &rr.attempt_id, j->err) < 0)
                goto out;
        rr.max = (uint32_t)max;
        rr.visibility_timeout = (int32_t)vis;
        rr.wait_seconds = (int32_t)wait;
        if (q_receive(j->q, name, &rr, &msgs, &n, j->err) < 0)
                goto out;
        json_writer *o = out_begin();
        if (n) {
                json_key(o, "Messages");
                json_arr_begin(o);
                for (size_t i = 0; i < n; i++)
                        out_message(o, &msgs[i], &s);
                json_arr_end(o);
        }
        rc = out_end(j, o);
        q_messages_free(msgs, n);
out:
        free(s.sys_names);
        free(s.sys_names2);
        free(s.attr_names);
        return rc;
}

static int op_delete_message(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        const char *receipt;
        if (get_queue(j, name) < 0 || get_str(j->in, "ReceiptHandle", true, &receipt, j->err) < 0 ||
            q_delete_message(j->q, name, receipt, j->err) < 0)
                return -1;
        return out_empty(j);
}

static int op_change_visibility(jreq *j)
{
        char name[Q_NAME_MAX + 1];
        const char *receipt;
        int64_t t = 0;
        if (get_queue(j, name) < 0 || get_str(j->in, "ReceiptHandle", true, &receipt, j->err) < 0 ||
            get_int(j->in, "VisibilityTimeout", true, 0, Q_VISIBILITY_MAX, &t, j->err) < 0 ||
            q_change_visibility(j->q, name, receipt, (uint32_t)t, j->err) < 0)
                return -1;
        return out_empty(j);
}

/* DeleteMessageBatch and ChangeMessageVisibilityBatch: Id and ReceiptHandle per entry (and
 * VisibilityTimeout for the latter). */
static int op_receipt_batch(jreq *j, bool visibility)
{
        char name[Q_NAME_MAX + 1];
        const json_value *entries;
        const char *ids[Q_BATCH_MAX], *receipts[Q_BATCH_MAX];
        uint32_t timeouts[Q_BATCH_MAX];
        q_batch_result res[Q_BATCH_MAX];
        if (get_queue(j, name) < 0 ||
            get_entries(j,
                        visibility ? "ChangeMessageVisibilityBatchRequestEntry"
                                   : "DeleteMessageBatchRequestEntry",
                        &entries) < 0)
                return -1;
        size_t n = entries->n;
        for (size_t i = 0; i < n; i++) {
                int64_t t = 0;
                const json_value *e = entries->items[i];
                if (get_str(e, "Id", true, &ids[i], j->err) < 0 ||
                    get_str(e, "ReceiptHandle", true, &receipts[i], j->err) < 0 ||
                    (visibility &&
                     get_int(e, "VisibilityTimeout", false, 0, Q_VISIBILITY_MAX, &t, j->err) < 0))
                        return -1;
                timeouts[i] = (uint32_t)t;
        }
        memset(res, 0, sizeof(res));
        int rc = visibility ? q_change_visibility_batch(j->q, name, ids, receipts, timeouts, n, res,
                                                        j->err)
                            : q_delete_batch(j->q, name, ids, receipts, n, res, j->err);
        if (rc < 0)
                return -1;
        json_writer *o = out_begin();
        json_key(o, "Successful");
        json_arr_begin(o);
        for (size_t i = 0; i < n; i++)
                if (res[i].code == Q_OK) {
                        json_obj_begin(o);
                        json_kv_str(o, "Id", ids[i]);
                        json_obj_end(o);
                }
        json_arr_end(o);
        json_key(o, "Failed");
        json_arr_begin(o);
        for (size_t i = 0; i < n; i++)
                if (res[i].code != Q_OK)
                        out_batch_failed(o, ids[i], res[i].code, res[i].message);
        json_arr_end(o);
        return out_end(j, o);
}

static int op_delete_message_batch(jreq *j)
{
        return op_receipt_batch(j, false);
}

static int op_change_visibility_batch(jreq *j)
{
        return op_receipt_batch(j, true);
}

/* ---------------- dead-letter redrive ---------------- */

static int op_start_move(jreq *j)
{
        char src[Q_NAME_MAX + 1], dst[Q_NAME_MAX + 1];
        bool has_src, has_dst;
        int64_t rate = 0;
        if (get_arn_queue(j, "SourceArn", true, src, &has_src) < 0 ||
            get_arn_queue(j, "DestinationArn", false, dst, &has_dst) < 0 ||
            get_int(j->in, "MaxNumberOfMessagesPerSecond", false, 1, SQS_MOVE_RATE_MAX, &rate,
                    j->err) < 0)
                return -1;
        _cleanup_free_ char *handle = NULL;
        if (q_move_start(j->q, src, has_dst ? dst : NULL, (uint32_t)rate, &handle, j->err) < 0)
                return -1;
        json_writer *o = out_begin();
        json_kv_str(o, "TaskHandle", handle);
        return out_end(j, o);
}

static int op_list_moves(jreq *j)
{
        char src[Q_NAME_MAX + 1];
        bool has_src;
        int64_t max = 1;
        if (get_arn_queue(j, "SourceArn", true, src, &has_src) < 0 ||
            get_int(j->in, "MaxResults", false, 1, SQS_MOVE_LIST_MAX, &max, j->err) < 0)
                return -1;
        q_move_task *t = NULL;
        size_t n = 0;
        if (q_move_list(j->q, src, (unsigned)max, &t, &n, j->err) < 0)
                return -1;
        json_writer *o = out_begin();
        json_key(o, "Results");
        json_arr_begin(o);
        for (size_t i = 0; i < n; i++) {
                bool running = t[i].status && strcmp(t[i].status, "RUNNING") == 0;
                json_obj_begin(o);
                if (running && t[i].task_handle)
                        json_kv_str(o, "TaskHandle", t[i].task_handle);
                json_kv_str(o, "Status", t[i].status ? t[i].status : "");
                json_kv_str(o, "SourceArn", t[i].source_arn ? t[i].source_arn : "");
                if (t[i].dest_arn)
                        json_kv_str(o, "DestinationArn", t[i].dest_arn);
                if (t[i].max_per_second)
                        json_kv_uint(o, "MaxNumberOfMessagesPerSecond", t[i].max_per_second);
                json_kv_uint(o, "ApproximateNumberOfMessagesMoved", t[i].moved);
                if (running)
                        json_kv_uint(o, "ApproximateNumberOfMessagesToMove", t[i].to_move);
                json_kv_uint(o, "StartedTimestamp", t[i].started_ms);
                json_obj_end(o);
        }
        json_arr_end(o);
        q_move_tasks_free(t, n);
        return out_end(j, o);
}

static int op_cancel_move(jreq *j)
{
        const char *handle;
        uint64_t moved = 0;
        if (get_str(j->in, "TaskHandle", true, &handle, j->err) < 0 ||
            q_move_cancel(j->q, handle, &moved, j->err) < 0)
                return -1;
        json_writer *o = out_begin();
        json_kv_uint(o, "ApproximateNumberOfMessagesMoved", moved);
        return out_end(j, o);
}

static int op_unsupported(jreq *j)
{
        return jfail(j->err, Q_E_UNSUPPORTED_OPERATION,
                     "husk does not support this operation (queue policies are not enforced).");
}

/* ---------------- before parsing ---------------- */

typedef struct prescan {
        size_t values;  /* an upper bound of the JSON values: commas and opening brackets */
        size_t entries; /* elements of the top-level "Entries" array (its last one), bounded */
} prescan;

/* One pass over the raw body, outside strings: what the reader would build, counted without
 * building it, so that a 10,000-entry batch is TooManyEntriesInBatchRequest and a body of a
 * million values is refused at the cost of reading it once. Malformed text is the parser's to
 * refuse; a key spelled with escapes ("Entr\u0069es") is not recognised here, which costs only
 * the parse (the values bound still holds). */
static void prescan_body(const char *s, size_t len, prescan *ret)
{
        size_t values = 0, commas = 0, entries = 0;
        int depth = 0;
        bool key_is_entries = false, in_entries = false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '"') {
                        size_t start = ++i;
                        while (i < len && s[i] != '"')
                                i += s[i] == '\\' ? 2 : 1;
                        /* At the top level the string before a '[' is that array's key. */
                        if (depth == 1)
                                key_is_entries = i <= len && i - start == 7 &&
                                                 memcmp(s + start, "Entries", 7) == 0;
                        if (in_entries && depth == 2 && entries == 0)
                                entries = 1;
                        continue;
                }
                if (c == '{' || c == '[') {
                        values++;
                        if (depth == 1 && c == '[') {
                                in_entries = key_is_entries;
                                commas = entries = 0;
                        } else if (in_entries && depth == 2 && entries == 0) {
                                entries = 1;
                        }
                        depth++;
                } else if (c == '}' || c == ']') {
                        depth--;
                        if (depth == 1 && in_entries) {
                                in_entries = false;
                                ret->entries = entries ? commas + 1 : 0;
                        }
                } else if (c == ',') {
                        values++;
                        if (in_entries && depth == 2)
                                commas++;
                } else if (in_entries && depth == 2 && entries == 0 && !strchr(" \t\r\n", c)) {
                        entries = 1;
                }
        }
        if (in_entries) /* unterminated: the parser refuses it, but count what came */
                ret->entries = entries ? commas + 1 : 0;
        ret->values = values + 1;
}

static bool is_batch(int (*fn)(jreq *));

/* The bounds checked on the raw body: 0, or -1 with err filled. */
static int precheck(const char *body, size_t len, int (*fn)(jreq *), q_error *err)
{
        prescan p = {0};
        prescan_body(body, len, &p);
        if (is_batch(fn) && p.entries > Q_BATCH_MAX)
                return jfail(err, Q_E_TOO_MANY_ENTRIES,
                             "Maximum number of entries per request are %d. You have sent %zu.",
                             Q_BATCH_MAX, p.entries);
        if (p.values > SQS_JSON_VALUES_MAX)
                return jfail(err, Q_E_INVALID_PARAMETER,
                             "The request holds more than %d JSON values "
                             "(SQS_JSON_VALUES_MAX); no SQS request needs as many.",
                             SQS_JSON_VALUES_MAX);
        return 0;
}

/* ---------------- dispatch ---------------- */

static const struct {
        const char *name;
        int (*fn)(jreq *j);
} ops[] = {
        {"CreateQueue", op_create_queue},
        {"GetQueueUrl", op_get_queue_url},
        {"ListQueues", op_list_queues},
        {"DeleteQueue", op_delete_queue},
        {"PurgeQueue", op_purge_queue},
        {"GetQueueAttributes", op_get_queue_attributes},
        {"SetQueueAttributes", op_set_queue_attributes},
        {"SendMessage", op_send_message},
        {"SendMessageBatch", op_send_message_batch},
        {"ReceiveMessage", op_receive_message},
        {"DeleteMessage", op_delete_message},
        {"DeleteMessageBatch", op_delete_message_batch},
        {"ChangeMessageVisibility", op_change_visibility},
        {"ChangeMessageVisibilityBatch", op_change_visibility_batch},
        {"TagQueue", op_tag_queue},
        {"UntagQueue", op_untag_queue},
        {"ListQueueTags", op_list_queue_tags},
        {"ListDeadLetterSourceQueues", op_list_dlq_sources},
        {"StartMessageMoveTask", op_start_move},
        {"ListMessageMoveTasks", op_list_moves},
        {"CancelMessageMoveTask", op_cancel_move},
        {"AddPermission", op_unsupported},
        {"RemovePermission", op_unsupported},
};

static bool is_batch(int (*fn)(jreq *))
{
        return fn == op_send_message_batch || fn == op_delete_message_batch ||
               fn == op_change_visibility_batch;
}

void sqs_json_handle(struct q_engine *q, const serve_req *r, const char *op, serve_resp *w)
{
        if (r->request_id)
                serve_resp_header(w, "x-amzn-RequestId", r->request_id);
        int (*fn)(jreq *) = NULL;
        for (size_t i = 0; op && i < ARRAY_SIZE(ops) && !fn; i++)
                if (strcmp(op, ops[i].name) == 0)
                        fn = ops[i].fn;
        if (!fn) {
                reply_raw_error(w, 400, "com.amazon.coral.service#UnknownOperationException",
                                "The operation in X-Amz-Target is not an operation of AmazonSQS.");
                return;
        }
        const char *body = r->body ? r->body : "";
        size_t len = r->body ? r->len : 0;
        size_t ok = utf8_valid_prefix(body, len);
        if (ok != len) {
                _cleanup_free_ char *m =
                        xasprintf("The request body is not valid UTF-8 (at byte %zu).", ok);
                reply_raw_error(w, 400, "com.amazon.coral.service#SerializationException", m);
                return;
        }
        q_error err;
        memset(&err, 0, sizeof(err));
        if (precheck(body, len, fn, &err) < 0) {
                reply_error(w, &err);
                return;
        }
        json_value *in = NULL;
        char why[128] = "";
        /* An empty body is an operation without input, as {} is. */
        if (len == 0 ? json_parse("{}", 2, &in, why, sizeof(why)) < 0
                     : json_parse(body, len, &in, why, sizeof(why)) < 0) {
                _cleanup_free_ char *m = xasprintf("The request body is not valid JSON: %s.", why);
                reply_raw_error(w, 400, "com.amazon.coral.service#SerializationException", m);
                return;
        }
        if (in->type != JSON_OBJECT) {
                json_value_free(in);
                reply_raw_error(w, 400, "com.amazon.coral.service#SerializationException",
                                "The request body must be a JSON object.");
                return;
        }
        jreq j = {.q = q, .r = r, .w = w, .in = in, .err = &err};
        if (fn(&j) < 0)
                reply_error(w, &err);
        json_value_free(in);
}
