/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: Amazon SQS over the query protocol (what Debian 12's awscli 2.9 and boto3 1.26
 * send): Action=<Operation> with flattened parameters in a form body or the query string,
 * answers in XML (xmlns http://queue.amazonaws.com/doc/2012-11-05/).
 *
 * An adapter only translates (STYLE.md §8): the flattened parameters (Attribute.1.Name,
 * SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue, AttributeName.3, ...)
 * become the engine's typed requests (src/queue/queue.h), and the engine's typed answers and
 * errors are rendered in the shapes botocore's query parser reads (the element names are the
 * service model's locationName values, lists and maps are flattened).
 *
 * Bounds: an indexed parameter's index is checked before anything is stored (1..10 for batch
 * entries, 1..Q_MSG_ATTRS_MAX for message attributes, ...), so a 10,000-entry batch is refused
 * at its 11th index without building anything; a parameter given twice is refused. */
#include "serve.h"
#include "queue/queue.h"
#include "util/util.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQS_XMLNS "http://queue.amazonaws.com/doc/2012-11-05/"
#define ATTR_NAMES_MAX 32 /* AttributeName.N / Attribute.N: SQS has 22 queue attribute names */
#define MSG_ATTR_NAMES_MAX 64 /* MessageAttributeName.N of ReceiveMessage */
#define SYS_ATTRS_MAX 4       /* MessageSystemAttribute.N of a send (AWSTraceHeader only) */
#define MISSING "The request must contain the parameter "

/* One request being handled. err_name is set for the errors that have no q_errcode
 * (InvalidAction, MissingAction). */
typedef struct qctx {
        q_engine *q;
        const serve_req *r;
        const serve_kv *p;
        size_t n;
        FILE *out; /* the Result element's content */
        q_error err;
        const char *err_name;
        unsigned err_status;
} qctx;

__attribute__((format(printf, 3, 4))) static int fail(qctx *c, q_errcode code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        c->err.code = code;
        vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
        va_end(ap);
        return -1;
}

/* ---- XML output ---- */

static void xml_text(FILE *f, const char *s, size_t len)
{
        _cleanup_free_ char *e = serve_xml_escape(s, len);
        fputs(e, f);
}

static void xml_el(FILE *f, const char *tag, const char *s)
{
        if (!s) /* an engine answer without this field: an empty element, never a crash */
                s = "";
        fprintf(f, "<%s>", tag);
        xml_text(f, s, strlen(s));
        fprintf(f, "</%s>", tag);
}

static void xml_u64(FILE *f, const char *tag, uint64_t v)
{
        fprintf(f, "<%s>%llu</%s>", tag, (unsigned long long)v, tag);
}

/* ---- base64 (libcrypto) ---- */

static char *b64_encode(const unsigned char *d, size_t len)
{
        char *o = xmalloc(4 * ((len + 2) / 3) + 1);
        int n = EVP_EncodeBlock((unsigned char *)o, d, (int)len);
        o[n < 0 ? 0 : n] = '\0';
        return o;
}

static bool b64_char(char ch)
{
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
               ch == '+' || ch == '/';
}

/* Strict: padded, no whitespace. */
static int b64_decode(const char *s, unsigned char **ret, size_t *ret_len)
{
        size_t len = strlen(s), pad = 0;
        if (len % 4 || len > Q_MESSAGE_MAX * 2)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '=' && i >= len - 2 && (i == len - 1 || s[len - 1] == '='))
                        pad++;
                else if (!b64_char(s[i]) || pad)
                        return -EINVAL;
        }
        unsigned char *o = xmalloc(len / 4 * 3 + 1);
        int n = len ? EVP_DecodeBlock(o, (const unsigned char *)s, (int)len) : 0;
        if (n < 0 || (size_t)n < pad) {
                free(o);
                return -EINVAL;
        }
        *ret = o;
        *ret_len = (size_t)n - pad;
        return 0;
}

/* ---- parameters ---- */

/* The value of a top-level parameter, NULL when absent; a parameter given twice is an error. */
static int param(qctx *c, const char *name, const char **ret)
{
        const char *v = NULL;
        for (size_t i = 0; i < c->n; i++)
                if (strcmp(c->p[i].name, name) == 0) {
                        if (v)
                                return fail(c, Q_E_INVALID_PARAMETER,
                                            "The parameter %s was given more than once.", name);
                        v = c->p[i].value;
                }
        *ret = v;
        return 0;
}

static int param_req(qctx *c, const char *name, const char **ret)
{
        if (param(c, name, ret) < 0)
                return -1;
        if (!*ret)
                return fail(c, Q_E_MISSING_PARAMETER, MISSING "%s.",
                            name);
        return 0;
}

/* A decimal integer: optional '-', 1..10 digits, nothing else. */
static int parse_num(const char *s, int64_t *ret)
{
        const char *d = s[0] == '-' ? s + 1 : s;
        size_t l = strlen(d);
        if (l == 0 || l > 10 || strspn(d, "0123456789") != l)
                return -EINVAL;
        int64_t v = 0;
        for (size_t i = 0; i < l; i++)
                v = v * 10 + (d[i] - '0');
        *ret = s[0] == '-' ? -v : v;
        return 0;
}

/* An integer parameter in lo..hi; *ret unchanged when absent. */
static int num_in(qctx *c, const char *pname, const char *v, int64_t lo, int64_t hi, int64_t *ret)
{
        int64_t x = 0;
        if (!v)
                return 0;
        if (parse_num(v, &x) < 0 || x < lo || x > hi) {
                _cleanup_free_ char *shown = xstrndup(v, 64);
                return fail(c, Q_E_INVALID_PARAMETER,
                            "Value %s for parameter %s is invalid. Reason: Must be an integer "
                            "between %lld and %lld.",
                            shown, pname, (long long)lo, (long long)hi);
        }
        *ret = x;
        return 0;
}

static int num_param(qctx *c, const char *name, int64_t lo, int64_t hi, int64_t *ret)
{
        const char *v = NULL;
        if (param(c, name, &v) < 0)
                return -1;
        return num_in(c, name, v, lo, hi, ret);
}

/* name is PREFIX "." N, optionally followed by "." REST. Returns N (1..lim), 0 when name is
 * not of that form, -1 (error set: code over_code past lim, else InvalidParameterValue) for a
 * malformed or out-of-range index. */
static int indexed(qctx *c, const char *name, const char *prefix, unsigned lim, q_errcode over_code,
                   const char **rest)
{
        size_t pl = strlen(prefix);
        if (strncmp(name, prefix, pl) != 0 || name[pl] != '.')
                return 0;
        const char *d = name + pl + 1;
        size_t dl = strspn(d, "0123456789");
        if (d[dl] != '\0' && d[dl] != '.')
                return 0;
        if (dl == 0 || d[0] == '0')
                return fail(c, Q_E_INVALID_PARAMETER, "The parameter %.100s has an invalid index.",
                            name);
        if (dl > 6 || (unsigned)atoi(d) > lim) {
                if (over_code == Q_E_TOO_MANY_ENTRIES)
                        return fail(c, over_code,
                                    "Maximum number of entries per request are %u. The index of "
                                    "%.100s is past it.",
                                    lim, name);
                return fail(c, over_code, "The parameter %.100s is past the maximum of %u entries.",
                            name, lim);
        }
        *rest = d[dl] == '.' ? d + dl + 1 : d + dl;
        return atoi(d);
}

/* Stores v in *slot, refusing a second value for the same parameter. */
static int set_once(qctx *c, const char **slot, const char *v, const char *pname)
{
        if (*slot)
                return fail(c, Q_E_INVALID_PARAMETER,
                            "The parameter %.200s was given more than once.", pname);
        *slot = v;
        return 0;
}

/* PREFIX.N.<kname> / PREFIX.N.<vname> pairs (Attribute.N.Name/Value, Tag.N.Key/Value), in index
 * order, into out. */
static int collect_map(qctx *c, const char *prefix, const char *kname, const char *vname,
                       unsigned lim, q_kvs *out)
{
        const char *k[lim + 1], *v[lim + 1];
        memset(k, 0, sizeof(k));
        memset(v, 0, sizeof(v));
        for (size_t i = 0; i < c->n; i++) {
                const char *rest = NULL;
                int idx = indexed(c, c->p[i].name, prefix, lim, Q_E_INVALID_PARAMETER, &rest);
                if (idx < 0)
                        return -1;
                if (idx == 0)
                        continue;
                if (strcmp(rest, kname) == 0) {
                        if (set_once(c, &k[idx], c->p[i].value, c->p[i].name) < 0)
                                return -1;
                } else if (strcmp(rest, vname) == 0) {
                        if (set_once(c, &v[idx], c->p[i].value, c->p[i].name) < 0)
                                return -1;
                }
        }
        for (unsigned i = 1; i <= lim; i++) {
                if (!k[i] && !v[i])
                        continue;
                if (!k[i] || !v[i])
                        return fail(c, Q_E_MISSING_PARAMETER,
                                    MISSING "%s.%u.%s.", prefix, i,
                                    k[i] ? vname : kname);
                if (q_kvs_get(out, k[i]))
                        return fail(c, Q_E_INVALID_PARAMETER, "%s %.200s was given more than once.",
                                    prefix, k[i]);
                q_kvs_add(out, k[i], v[i]);
        }
        return 0;
}

/* PREFIX.N values (AttributeName.N, TagKey.N, ...) in index order; the strings are the
 * parameters' own. */
static int collect_list(qctx *c, const char *prefix, unsigned lim, const char **out, size_t *ret_n)
{
        const char *v[lim + 1];
        memset(v, 0, sizeof(v));
        for (size_t i = 0; i < c->n; i++) {
                const char *rest = NULL;
                int idx = indexed(c, c->p[i].name, prefix, lim, Q_E_INVALID_PARAMETER, &rest);
                if (idx < 0)
                        return -1;
                if (idx == 0 || *rest)
                        continue;
                if (set_once(c, &v[idx], c->p[i].value, c->p[i].name) < 0)
                        return -1;
        }
        size_t n = 0;
        for (unsigned i = 1; i <= lim; i++)
                if (v[i])
                        out[n++] = v[i];
        *ret_n = n;
        return 0;
}

/* The queue the request is about: the QueueUrl parameter, else the request path
 * (/ACCOUNT/NAME: older clients POST to the queue's URL). */
static int queue_of(qctx *c, char name[Q_NAME_MAX + 1])
{
        const char *url = NULL;
        if (param(c, "QueueUrl", &url) < 0)
                return -1;
        if (!url && c->r->path && strcmp(c->r->path, "/") != 0 && c->r->path[0])
                url = c->r->path;
        if (!url)
                return fail(c, Q_E_MISSING_PARAMETER, MISSING "QueueUrl.");
        return q_name_from_url(c->q, url, name, &c->err);
}

/* SenderId: the access key that signed the request ("anonymous" with --no-auth). */
static const char *sender_of(const qctx *c)
{
        return c->r->principal && c->r->principal[0] ? c->r->principal : "anonymous";
}

static char *url_of(qctx *c, const char *name)
{
        const char *host = c->r->host && c->r->host[0] ? c->r->host : "localhost";
        return q_queue_url(c->q, host, name);
}

/* arn:aws:sqs:REGION:ACCOUNT:NAME of this engine's region and account -> NAME. */
static int queue_of_arn(qctx *c, const char *pname, const char *arn, char name[Q_NAME_MAX + 1])
{
        _cleanup_free_ char *pre =
                xasprintf("arn:aws:sqs:%s:%s:", q_engine_region(c->q), q_engine_account(c->q));
        size_t pl = strlen(pre);
        if (strncmp(arn, "arn:", 4) != 0)
                return fail(c, Q_E_INVALID_PARAMETER, "%s is not a valid ARN.", pname);
        if (strncmp(arn, pre, pl) != 0 || !q_name_valid(arn + pl))
                return fail(c, Q_E_RESOURCE_NOT_FOUND,
                            "The resource that you specified for the %s parameter doesn't exist.",
                            pname);
        snprintf(name, Q_NAME_MAX + 1, "%s", arn + pl);
        return 0;
}

/* ---- queues ---- */

static int op_create_queue(qctx *c)
{
        const char *qname = NULL;
        q_kvs attrs = { 0 }, tags = { 0 };
        bool created = false;
        int r = -1;
        char *url = NULL;
        if (param_req(c, "QueueName", &qname) < 0 ||
            collect_map(c, "Attribute", "Name", "Value", ATTR_NAMES_MAX, &attrs) < 0 ||
            collect_map(c, "Tag", "Key", "Value", Q_TAGS_MAX, &tags) < 0)
                goto out;
        if (q_create(c->q, qname, &attrs, &tags, &created, &c->err) < 0)
                goto out;
        url = url_of(c, qname);
        xml_el(c->out, "QueueUrl", url);
        r = 0;
out:
        free(url);
        q_kvs_free(&attrs);
        q_kvs_free(&tags);
        return r;
}

static int op_get_queue_url(qctx *c)
{
        const char *qname = NULL, *owner = NULL;
        if (param_req(c, "QueueName", &qname) < 0 || param(c, "QueueOwnerAWSAccountId", &owner) < 0)
                return -1;
        if (owner && strcmp(owner, q_engine_account(c->q)) != 0)
                return fail(c, Q_E_NONEXISTENT_QUEUE,
                            "The specified queue does not exist for this wsdl version.");
        if (!q_name_valid(qname))
                return fail(c, Q_E_NONEXISTENT_QUEUE,
                            "The specified queue does not exist for this wsdl version.");
        if (q_exists(c->q, qname, &c->err) < 0)
                return -1;
        _cleanup_free_ char *url = url_of(c, qname);
        xml_el(c->out, "QueueUrl", url);
        return 0;
}

/* Renders names as QueueUrl elements and the NextToken; frees both. */
static void render_urls(qctx *c, char **names, size_t n, char *next)
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *url = url_of(c, names[i]);
                xml_el(c->out, "QueueUrl", url);
                free(names[i]);
        }
        free(names);
        if (next)
                xml_el(c->out, "NextToken", next);
        free(next);
}

static int op_list_queues(qctx *c)
{
        const char *prefix = NULL, *token = NULL;
        int64_t max = 0;
        char **names = NULL, *next = NULL;
        size_t n = 0;
        if (param(c, "QueueNamePrefix", &prefix) < 0 || param(c, "NextToken", &token) < 0 ||
            num_param(c, "MaxResults", 1, Q_LIST_MAX, &max) < 0)
                return -1;
        if (q_list(c->q, prefix, (unsigned)max, token, &names, &n, &next, &c->err) < 0)
                return -1;
        render_urls(c, names, n, next);
        return 0;
}

static int op_dlq_sources(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        const char *token = NULL;
        int64_t max = 0;
        char **names = NULL, *next = NULL;
        size_t n = 0;
        if (queue_of(c, qn) < 0 || param(c, "NextToken", &token) < 0 ||
            num_param(c, "MaxResults", 1, Q_LIST_MAX, &max) < 0)
                return -1;
        if (q_dlq_sources(c->q, qn, (unsigned)max, token, &names, &n, &next, &c->err) < 0)
                return -1;
        render_urls(c, names, n, next);
        return 0;
}

static int op_delete_queue(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        if (queue_of(c, qn) < 0)
                return -1;
        return q_delete(c->q, qn, &c->err);
}

static int op_purge_queue(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        if (queue_of(c, qn) < 0)
                return -1;
        return q_purge(c->q, qn, &c->err);
}

static void render_kvs(FILE *f, const q_kvs *k, const char *el, const char *kn, const char *vn)
{
        for (size_t i = 0; i < k->n; i++) {
                fprintf(f, "<%s>", el);
                xml_el(f, kn, k->v[i].name);
                xml_el(f, vn, k->v[i].value);
                fprintf(f, "</%s>", el);
        }
}

static int op_get_queue_attributes(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        const char *names[ATTR_NAMES_MAX];
        size_t nn = 0;
        q_kvs got = { 0 };
        if (queue_of(c, qn) < 0 || collect_list(c, "AttributeName", ATTR_NAMES_MAX, names, &nn) < 0)
                return -1;
        if (q_get_attrs(c->q, qn, names, nn, &got, &c->err) < 0)
                return -1;
        render_kvs(c->out, &got, "Attribute", "Name", "Value");
        q_kvs_free(&got);
        return 0;
}

static int op_set_queue_attributes(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        q_kvs attrs = { 0 };
        int r = -1;
        if (queue_of(c, qn) < 0 ||
            collect_map(c, "Attribute", "Name", "Value", ATTR_NAMES_MAX, &attrs) < 0)
                goto out;
        if (attrs.n == 0) {
                fail(c, Q_E_MISSING_PARAMETER, MISSING "Attribute.1.Name.");
                goto out;
        }
        r = q_set_attrs(c->q, qn, &attrs, &c->err);
out:
        q_kvs_free(&attrs);
        return r;
}

static int op_tag_queue(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        q_kvs tags = { 0 };
        int r = -1;
        if (queue_of(c, qn) < 0 || collect_map(c, "Tag", "Key", "Value", Q_TAGS_MAX, &tags) < 0)
                goto out;
        if (tags.n == 0) {
                fail(c, Q_E_MISSING_PARAMETER, MISSING "Tags.");
                goto out;
        }
        r = q_tag(c->q, qn, &tags, &c->err);
out:
        q_kvs_free(&tags);
        return r;
}

static int op_untag_queue(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        const char *keys[Q_TAGS_MAX];
        size_t nk = 0;
        if (queue_of(c, qn) < 0 || collect_list(c, "TagKey", Q_TAGS_MAX, keys, &nk) < 0)
                return -1;
        if (nk == 0)
                return fail(c, Q_E_MISSING_PARAMETER, MISSING "TagKeys.");
        return q_untag(c->q, qn, keys, nk, &c->err);
}

static int op_list_queue_tags(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        q_kvs tags = { 0 };
        if (queue_of(c, qn) < 0 || q_list_tags(c->q, qn, &tags, &c->err) < 0)
                return -1;
        render_kvs(c->out, &tags, "Tag", "Key", "Value");
        q_kvs_free(&tags);
        return 0;
}

/* ---- sending ---- */

/* One message as sent: parameter values, not yet checked. */
typedef struct msg_in {
        const char *id, *body, *delay, *group, *dedup;
        struct {
                const char *name, *type, *sval, *bval;
        } attr[Q_MSG_ATTRS_MAX + 1], sys[SYS_ATTRS_MAX + 1];
} msg_in;

/* rest: a parameter name relative to the message (MessageBody, MessageAttribute.2.Name, ...).
 * Unknown names are ignored, as AWS does. */
static int msg_field(qctx *c, msg_in *m, const char *rest, const char *full, const char *v)
{
        static const struct {
                const char *name;
                size_t off;
        } plain[] = {
                { "Id", offsetof(msg_in, id) },
                { "MessageBody", offsetof(msg_in, body) },
                { "DelaySeconds", offsetof(msg_in, delay) },
                { "MessageGroupId", offsetof(msg_in, group) },
                { "MessageDeduplicationId", offsetof(msg_in, dedup) },
        };
        for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
                if (strcmp(rest, plain[i].name) == 0)
                        return set_once(c, (const char **)((char *)m + plain[i].off), v, full);
        const char *sub = NULL;
        bool sys = false;
        const q_errcode inval = Q_E_INVALID_PARAMETER;
        int idx = indexed(c, rest, "MessageAttribute", Q_MSG_ATTRS_MAX, inval, &sub);
        if (idx == 0) {
                idx = indexed(c, rest, "MessageSystemAttribute", SYS_ATTRS_MAX, inval, &sub);
                sys = true;
        }
        if (idx <= 0)
                return idx;
        __typeof__(&m->attr[0]) a = sys ? &m->sys[idx] : &m->attr[idx];
        if (strcmp(sub, "Name") == 0)
                return set_once(c, &a->name, v, full);
        if (strcmp(sub, "Value.DataType") == 0)
                return set_once(c, &a->type, v, full);
        if (strcmp(sub, "Value.StringValue") == 0)
                return set_once(c, &a->sval, v, full);
        if (strcmp(sub, "Value.BinaryValue") == 0)
                return set_once(c, &a->bval, v, full);
        return 0;
}

/* The attributes of m (user or system) as q_msg_attr (allocated), checked for shape. */
static int msg_attrs(qctx *c, const msg_in *m, bool sys, q_msg_attr **ret, size_t *ret_n)
{
        size_t lim = sys ? SYS_ATTRS_MAX : Q_MSG_ATTRS_MAX, n = 0;
        q_msg_attr *a = xcalloc(lim, sizeof(*a));
        const char *what = sys ? "MessageSystemAttribute" : "MessageAttribute";
        for (size_t i = 1; i <= lim; i++) {
                __typeof__(&m->attr[0]) s = sys ? &m->sys[i] : &m->attr[i];
                if (!s->name && !s->type && !s->sval && !s->bval)
                        continue;
                if (!s->name || !s->type) {
                        fail(c, Q_E_MISSING_PARAMETER, MISSING "%s.%zu.%s.",
                             what, i, s->name ? "Value.DataType" : "Name");
                        goto bad;
                }
                q_msg_attr *d = &a[n++];
                d->name = xstrdup(s->name);
                d->data_type = xstrdup(s->type);
                if (strncmp(s->type, "Binary", 6) == 0) {
                        if (!s->bval || s->sval) {
                                fail(c, Q_E_INVALID_PARAMETER,
                                     "Message attribute '%.256s' must contain a non-empty value of "
                                     "type 'Binary' and no StringValue.",
                                     s->name);
                                goto bad;
                        }
                        if (b64_decode(s->bval, &d->binary_value, &d->binary_len) < 0) {
                                fail(c, Q_E_INVALID_PARAMETER,
                                     "Message attribute '%.256s': BinaryValue is not valid base64.",
                                     s->name);
                                goto bad;
                        }
                } else {
                        if (!s->sval || s->bval) {
                                fail(c, Q_E_INVALID_PARAMETER,
                                     "Message attribute '%.256s' must contain a non-empty value of "
                                     "type '%.64s' and no BinaryValue.",
                                     s->name, s->type);
                                goto bad;
                        }
                        d->string_value = xstrdup(s->sval);
                }
        }
        *ret = a;
        *ret_n = n;
        return 0;
bad:
        q_msg_attrs_free(a, n);
        return -1;
}

typedef struct send_entry {
        q_send_entry e;
        q_msg_attr *attrs, *sys;
        size_t n_attrs, n_sys;
} send_entry;

static void send_entry_free(send_entry *s)
{
        q_msg_attrs_free(s->attrs, s->n_attrs);
        q_msg_attrs_free(s->sys, s->n_sys);
        memset(s, 0, sizeof(*s));
}

/* m -> s (the engine's entry); -1 with the error set for a malformed message. */
static int send_entry_of(qctx *c, const msg_in *m, const char *pfx, send_entry *s)
{
        int64_t delay = -1;
        memset(s, 0, sizeof(*s));
        if (!m->body || !m->body[0]) /* AWS: an empty body is a missing one */
                return fail(c, Q_E_MISSING_PARAMETER, MISSING "%sMessageBody.",
                            pfx);
        if (num_in(c, "DelaySeconds", m->delay, 0, Q_DELAY_MAX, &delay) < 0)
                return -1;
        if (msg_attrs(c, m, false, &s->attrs, &s->n_attrs) < 0)
                return -1;
        if (msg_attrs(c, m, true, &s->sys, &s->n_sys) < 0) {
                send_entry_free(s);
                return -1;
        }
        s->e = (q_send_entry){
                .id = m->id,
                .body = m->body,
                .body_len = strlen(m->body),
                .delay_seconds = (int32_t)delay,
                .attrs = s->attrs,
                .n_attrs = s->n_attrs,
                .sys_attrs = s->sys,
                .n_sys_attrs = s->n_sys,
                .group_id = m->group,
                .dedup_id = m->dedup,
        };
        return 0;
}

static void render_send_result(FILE *f, const q_send_result *res)
{
        xml_el(f, "MessageId", res->message_id);
        xml_el(f, "MD5OfMessageBody", res->md5_body);
        if (res->md5_attrs[0])
                xml_el(f, "MD5OfMessageAttributes", res->md5_attrs);
        if (res->md5_sys_attrs[0])
                xml_el(f, "MD5OfMessageSystemAttributes", res->md5_sys_attrs);
        if (res->sequence_number[0])
                xml_el(f, "SequenceNumber", res->sequence_number);
}

static int op_send_message(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        msg_in m;
        send_entry s = { 0 };
        q_send_result res;
        memset(&m, 0, sizeof(m));
        memset(&res, 0, sizeof(res));
        if (queue_of(c, qn) < 0)
                return -1;
        for (size_t i = 0; i < c->n; i++)
                if (msg_field(c, &m, c->p[i].name, c->p[i].name, c->p[i].value) < 0)
                        return -1;
        m.id = NULL; /* "Id" is a batch entry's */
        if (send_entry_of(c, &m, "", &s) < 0)
                return -1;
        int r = q_send(c->q, qn, sender_of(c), &s.e, 1, &res, &c->err);
        send_entry_free(&s);
        if (r < 0)
                return -1;
        if (res.code != Q_OK) {
                c->err.code = res.code;
                snprintf(c->err.msg, sizeof(c->err.msg), "%s", res.message);
                return -1;
        }
        render_send_result(c->out, &res);
        return 0;
}

static bool batch_id_valid(const char *id)
{
        size_t l = strlen(id);
        return l >= 1 && l <= Q_BATCH_ID_MAX &&
               strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == l;
}

/* Batch entries PREFIX.N.<field>: indexes 1..Q_BATCH_MAX (past it: TooManyEntriesInBatchRequest,
 * before anything is stored); fills ents[1..Q_BATCH_MAX] via field() and returns the entry
 * indexes in order in idx[], checking ids (present, valid, distinct). */
typedef int (*entry_field_fn)(qctx *c, void *ents, int idx, const char *rest, const char *full,
                              const char *v);
typedef const char *(*entry_id_fn)(const void *ents, int idx);

static int collect_entries(qctx *c, const char *prefix, void *ents, entry_field_fn field,
                           entry_id_fn idof, int idx[Q_BATCH_MAX], size_t *ret_n)
{
        bool seen[Q_BATCH_MAX + 1] = { false };
        for (size_t i = 0; i < c->n; i++) {
                const char *rest = NULL;
                int k = indexed(c, c->p[i].name, prefix, Q_BATCH_MAX, Q_E_TOO_MANY_ENTRIES, &rest);
                if (k < 0)
                        return -1;
                if (k == 0 || !*rest)
                        continue;
                seen[k] = true;
                if (field(c, ents, k, rest, c->p[i].name, c->p[i].value) < 0)
                        return -1;
        }
        size_t n = 0;
        for (int k = 1; k <= Q_BATCH_MAX; k++) {
                if (!seen[k])
                        continue;
                const char *id = idof(ents, k);
                if (!id)
                        return fail(c, Q_E_MISSING_PARAMETER,
                                    MISSING "%s.%d.Id.", prefix, k);
                if (!batch_id_valid(id))
                        return fail(c, Q_E_INVALID_BATCH_ENTRY_ID,
                                    "A batch entry id can only contain alphanumeric characters, "
                                    "hyphens and underscores. It can be at most 80 letters long.");
                for (size_t j = 0; j < n; j++)
                        if (strcmp(idof(ents, idx[j]), id) == 0)
                                return fail(c, Q_E_BATCH_IDS_NOT_DISTINCT,
                                            "Id %.80s repeated.", id);
                idx[n++] = k;
        }
        if (n == 0)
                return fail(c, Q_E_EMPTY_BATCH, "There should be at least one %s in the request.",
                            prefix);
        *ret_n = n;
        return 0;
}

static void render_batch_error(FILE *f, const char *id, q_errcode code, const char *msg)
{
        fputs("<BatchResultErrorEntry>", f);
        xml_el(f, "Id", id);
        fprintf(f, "<SenderFault>%s</SenderFault>", q_err_sender_fault(code) ? "true" : "false");
        xml_el(f, "Code", q_err_query_name(code));
        xml_el(f, "Message", msg);
        fputs("</BatchResultErrorEntry>", f);
}

static int send_field(qctx *c, void *ents, int idx, const char *rest, const char *full,
                      const char *v)
{
        return msg_field(c, &((msg_in *)ents)[idx], rest, full, v);
}

static const char *send_id(const void *ents, int idx)
{
        return ((const msg_in *)ents)[idx].id;
}

static int op_send_message_batch(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        msg_in m[Q_BATCH_MAX + 1];
        int idx[Q_BATCH_MAX];
        size_t n = 0, ok = 0;
        memset(m, 0, sizeof(m));
        if (queue_of(c, qn) < 0 ||
            collect_entries(c, "SendMessageBatchRequestEntry", m, send_field, send_id, idx, &n) < 0)
                return -1;
        /* Entries the adapter cannot translate fail alone, as AWS reports them. */
        send_entry s[Q_BATCH_MAX];
        q_send_entry e[Q_BATCH_MAX];
        q_send_result res[Q_BATCH_MAX];
        q_error bad[Q_BATCH_MAX];
        bool parsed[Q_BATCH_MAX] = { false };
        memset(res, 0, sizeof(res));
        for (size_t i = 0; i < n; i++) {
                q_error saved = c->err;
                if (send_entry_of(c, &m[idx[i]], "SendMessageBatchRequestEntry.N.", &s[i]) < 0) {
                        bad[i] = c->err;
                        c->err = saved;
                        continue;
                }
                parsed[i] = true;
                e[ok++] = s[i].e;
        }
        q_send_result okres[Q_BATCH_MAX];
        memset(okres, 0, sizeof(okres));
        int r = ok ? q_send(c->q, qn, sender_of(c), e, ok, okres, &c->err) : 0;
        for (size_t i = 0; i < n; i++)
                if (parsed[i])
                        send_entry_free(&s[i]);
        if (r < 0)
                return -1;
        for (size_t i = 0, j = 0; i < n; i++) {
                if (!parsed[i])
                        continue;
                res[i] = okres[j++];
                if (res[i].code == Q_OK) {
                        fputs("<SendMessageBatchResultEntry>", c->out);
                        xml_el(c->out, "Id", m[idx[i]].id);
                        render_send_result(c->out, &res[i]);
                        fputs("</SendMessageBatchResultEntry>", c->out);
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (!parsed[i])
                        render_batch_error(c->out, m[idx[i]].id, bad[i].code, bad[i].msg);
                else if (res[i].code != Q_OK)
                        render_batch_error(c->out, m[idx[i]].id, res[i].code, res[i].message);
        }
        return 0;
}

/* ---- receiving ---- */

/* Whether a message attribute name is asked for: All, .*, prefix.*, or the exact name. */
static bool attr_wanted(const char *name, const char *const *want, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const char *w = want[i];
                size_t l = strlen(w);
                if (strcmp(w, "All") == 0 || strcmp(w, ".*") == 0 || strcmp(w, name) == 0)
                        return true;
                if (l > 2 && strcmp(w + l - 2, ".*") == 0 && strncmp(name, w, l - 1) == 0)
                        return true;
        }
        return false;
}

static bool sys_wanted(const char *name, const char *const *want, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(want[i], "All") == 0 || strcmp(want[i], name) == 0)
                        return true;
        return false;
}

static void render_message(qctx *c, const q_message *m, const char *const *sys_want, size_t n_sys,
                           const char *const *attr_want, size_t n_attr)
{
        FILE *f = c->out;
        fputs("<Message>", f);
        xml_el(f, "MessageId", m->message_id);
        xml_el(f, "ReceiptHandle", m->receipt_handle);
        xml_el(f, "MD5OfBody", m->md5_body);
        fputs("<Body>", f);
        xml_text(f, m->body, m->body_len);
        fputs("</Body>", f);
        for (size_t i = 0; i < m->sys.n; i++) {
                if (!sys_wanted(m->sys.v[i].name, sys_want, n_sys))
                        continue;
                fputs("<Attribute>", f);
                xml_el(f, "Name", m->sys.v[i].name);
                xml_el(f, "Value", m->sys.v[i].value);
                fputs("</Attribute>", f);
        }
        /* MD5OfMessageAttributes covers the attributes returned, as SQS computes it. */
        q_msg_attr sel[Q_MSG_ATTRS_MAX];
        size_t ns = 0;
        for (size_t i = 0; i < m->n_attrs && ns < Q_MSG_ATTRS_MAX; i++)
                if (attr_wanted(m->attrs[i].name, attr_want, n_attr))
                        sel[ns++] = m->attrs[i];
        if (ns) {
                char md5[33];
                q_md5_attrs(sel, ns, md5);
                xml_el(f, "MD5OfMessageAttributes", md5);
        }
        for (size_t i = 0; i < ns; i++) {
                fputs("<MessageAttribute>", f);
                xml_el(f, "Name", sel[i].name);
                fputs("<Value>", f);
                if (sel[i].binary_value) {
                        _cleanup_free_ char *b = b64_encode(sel[i].binary_value, sel[i].binary_len);
                        xml_el(f, "BinaryValue", b);
                } else {
                        xml_el(f, "StringValue", sel[i].string_value ? sel[i].string_value : "");
                }
                xml_el(f, "DataType", sel[i].data_type);
                fputs("</Value></MessageAttribute>", f);
        }
        fputs("</Message>", f);
}

static int op_receive_message(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        const char *sys_want[ATTR_NAMES_MAX * 2], *attr_want[MSG_ATTR_NAMES_MAX];
        size_t n_sys = 0, n_sys2 = 0, n_attr = 0;
        int64_t max = 1, vis = -1, wait = -1;
        const char *attempt = NULL;
        if (queue_of(c, qn) < 0 ||
            collect_list(c, "AttributeName", ATTR_NAMES_MAX, sys_want, &n_sys) < 0 ||
            collect_list(c, "MessageSystemAttributeName", ATTR_NAMES_MAX, sys_want + n_sys,
                         &n_sys2) < 0 ||
            collect_list(c, "MessageAttributeName", MSG_ATTR_NAMES_MAX, attr_want, &n_attr) < 0 ||
            num_param(c, "MaxNumberOfMessages", 1, Q_RECEIVE_MAX, &max) < 0 ||
            num_param(c, "VisibilityTimeout", 0, Q_VISIBILITY_MAX, &vis) < 0 ||
            num_param(c, "WaitTimeSeconds", 0, Q_WAIT_MAX, &wait) < 0 ||
            param(c, "ReceiveRequestAttemptId", &attempt) < 0)
                return -1;
        q_receive_req req = {
                .max = (uint32_t)max,
                .visibility_timeout = (int32_t)vis,
                .wait_seconds = (int32_t)wait,
                .attempt_id = attempt,
        };
        q_message *msgs = NULL;
        size_t nm = 0;
        if (q_receive(c->q, qn, &req, &msgs, &nm, &c->err) < 0)
                return -1;
        for (size_t i = 0; i < nm; i++)
                render_message(c, &msgs[i], sys_want, n_sys + n_sys2, attr_want, n_attr);
        q_messages_free(msgs, nm);
        return 0;
}

/* ---- deleting and visibility ---- */

static int op_delete_message(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        const char *rh = NULL;
        if (queue_of(c, qn) < 0 || param_req(c, "ReceiptHandle", &rh) < 0)
                return -1;
        return q_delete_message(c->q, qn, rh, &c->err);
}

static int op_change_visibility(qctx *c)
{
        char qn[Q_NAME_MAX + 1];
        const char *rh = NULL, *vs = NULL;
        int64_t vis = 0;
        if (queue_of(c, qn) < 0 || param_req(c, "ReceiptHandle", &rh) < 0 ||
            param_req(c, "VisibilityTimeout", &vs) < 0 ||
            num_in(c, "VisibilityTimeout", vs, 0, Q_VISIBILITY_MAX, &vis) < 0)
                return -1;
        return q_change_visibility(c->q, qn, rh, (uint32_t)vis, &c->err);
}

typedef struct rh_in {
        const char *id, *receipt, *timeout;
} rh_in;

static int rh_field(qctx *c, void *ents, int idx, const char *rest, const char *full,
                    const char *v)
{
        rh_in *e = &((rh_in *)ents)[idx];
        if (strcmp(rest, "Id") == 0)
                return set_once(c, &e->id, v, full);
        if (strcmp(rest, "ReceiptHandle") == 0)
                return set_once(c, &e->receipt, v, full);
        if (strcmp(rest, "VisibilityTimeout") == 0)
                return set_once(c, &e->timeout, v, full);
        return 0;
}

static const char *rh_id(const void *ents, int idx)
{
        return ((const rh_in *)ents)[idx].id;
}

/* An entry the adapter cannot translate fails alone (in *res), as AWS reports it. */
static int rh_entry_check(qctx *c, const rh_in *e, bool vis, int64_t *to, q_batch_result *res)
{
        q_error saved = c->err;
        if (!e->receipt) {
                res->code = Q_E_MISSING_PARAMETER;
                snprintf(res->message, sizeof(res->message), MISSING "ReceiptHandle.");
                return -1;
        }
        if (vis && !e->timeout) { /* no silent default: 0 would show the message at once */
                res->code = Q_E_MISSING_PARAMETER;
                snprintf(res->message, sizeof(res->message), MISSING "VisibilityTimeout.");
                return -1;
        }
        if (vis && num_in(c, "VisibilityTimeout", e->timeout, 0, Q_VISIBILITY_MAX, to) < 0) {
                res->code = c->err.code;
                snprintf(res->message, sizeof(res->message), "%.255s", c->err.msg);
                c->err = saved;
                return -1;
        }
        return 0;
}

/* DeleteMessageBatch (vis false) and ChangeMessageVisibilityBatch (vis true). */
static int rh_batch(qctx *c, bool vis)
{
        const char *prefix = vis ? "ChangeMessageVisibilityBatchRequestEntry" :
                                   "DeleteMessageBatchRequestEntry";
        const char *okel = vis ? "ChangeMessageVisibilityBatchResultEntry" :
                                 "DeleteMessageBatchResultEntry";
        char qn[Q_NAME_MAX + 1];
        rh_in in[Q_BATCH_MAX + 1];
        int idx[Q_BATCH_MAX];
        size_t n = 0, ok = 0;
        memset(in, 0, sizeof(in));
        if (queue_of(c, qn) < 0 || collect_entries(c, prefix, in, rh_field, rh_id, idx, &n) < 0)
                return -1;
        const char *ids[Q_BATCH_MAX], *rhs[Q_BATCH_MAX];
        uint32_t tos[Q_BATCH_MAX];
        q_batch_result res[Q_BATCH_MAX], okres[Q_BATCH_MAX];
        bool parsed[Q_BATCH_MAX] = { false };
        memset(res, 0, sizeof(res));
        memset(okres, 0, sizeof(okres));
        for (size_t i = 0; i < n; i++) {
                const rh_in *e = &in[idx[i]];
                int64_t to = 0;
                if (rh_entry_check(c, e, vis, &to, &res[i]) < 0)
                        continue;
                parsed[i] = true;
                ids[ok] = e->id;
                rhs[ok] = e->receipt;
                tos[ok++] = (uint32_t)to;
        }
        int r = 0;
        if (ok)
                r = vis ? q_change_visibility_batch(c->q, qn, ids, rhs, tos, ok, okres, &c->err) :
                          q_delete_batch(c->q, qn, ids, rhs, ok, okres, &c->err);
        if (r < 0)
                return -1;
        for (size_t i = 0, j = 0; i < n; i++)
                if (parsed[i])
                        res[i] = okres[j++];
        for (size_t i = 0; i < n; i++)
                if (res[i].code == Q_OK) {
                        fprintf(c->out, "<%s>", okel);
                        xml_el(c->out, "Id", in[idx[i]].id);
                        fprintf(c->out, "</%s>", okel);
                }
        for (size_t i = 0; i < n; i++)
                if (res[i].code != Q_OK)
                        render_batch_error(c->out, in[idx[i]].id, res[i].code, res[i].message);
        return 0;
}

static int op_delete_message_batch(qctx *c)
{
        return rh_batch(c, false);
}

static int op_change_visibility_batch(qctx *c)
{
        return rh_batch(c, true);
}

/* ---- dead-letter redrive ---- */

static int op_start_move(qctx *c)
{
        char src[Q_NAME_MAX + 1], dst[Q_NAME_MAX + 1];
        const char *sarn = NULL, *darn = NULL;
        int64_t rate = 0;
        if (param_req(c, "SourceArn", &sarn) < 0 || param(c, "DestinationArn", &darn) < 0 ||
            num_param(c, "MaxNumberOfMessagesPerSecond", 1, 500, &rate) < 0 ||
            queue_of_arn(c, "SourceArn", sarn, src) < 0 ||
            (darn && queue_of_arn(c, "DestinationArn", darn, dst) < 0))
                return -1;
        _cleanup_free_ char *handle = NULL;
        if (q_move_start(c->q, src, darn ? dst : NULL, (uint32_t)rate, &handle, &c->err) < 0)
                return -1;
        xml_el(c->out, "TaskHandle", handle);
        return 0;
}

static int op_cancel_move(qctx *c)
{
        const char *h = NULL;
        uint64_t moved = 0;
        if (param_req(c, "TaskHandle", &h) < 0 || q_move_cancel(c->q, h, &moved, &c->err) < 0)
                return -1;
        xml_u64(c->out, "ApproximateNumberOfMessagesMoved", moved);
        return 0;
}

static int op_list_moves(qctx *c)
{
        char src[Q_NAME_MAX + 1];
        const char *sarn = NULL;
        int64_t max = 1;
        q_move_task *t = NULL;
        size_t nt = 0;
        if (param_req(c, "SourceArn", &sarn) < 0 || num_param(c, "MaxResults", 1, 10, &max) < 0 ||
            queue_of_arn(c, "SourceArn", sarn, src) < 0 ||
            q_move_list(c->q, src, (unsigned)max, &t, &nt, &c->err) < 0)
                return -1;
        FILE *f = c->out;
        for (size_t i = 0; i < nt; i++) {
                fputs("<ListMessageMoveTasksResultEntry>", f);
                if (t[i].task_handle && strcmp(t[i].status, "RUNNING") == 0)
                        xml_el(f, "TaskHandle", t[i].task_handle);
                xml_el(f, "Status", t[i].status);
                xml_el(f, "SourceArn", t[i].source_arn);
                if (t[i].dest_arn)
                        xml_el(f, "DestinationArn", t[i].dest_arn);
                if (t[i].max_per_second)
                        xml_u64(f, "MaxNumberOfMessagesPerSecond", t[i].max_per_second);
                xml_u64(f, "ApproximateNumberOfMessagesMoved", t[i].moved);
                xml_u64(f, "ApproximateNumberOfMessagesToMove", t[i].to_move);
                xml_u64(f, "StartedTimestamp", t[i].started_ms);
                fputs("</ListMessageMoveTasksResultEntry>", f);
        }
        q_move_tasks_free(t, nt);
        return 0;
}

/* AddPermission and RemovePermission: SQS operations husk does not implement (a queue's
 * Policy attribute is stored as given instead). */
static int op_unsupported(qctx *c)
{
        const char *action = NULL;
        (void)param(c, "Action", &action);
        return fail(c, Q_E_UNSUPPORTED_OPERATION,
                    "husk does not implement %s; set the queue's Policy attribute instead.",
                    action ? action : "this operation");
}

/* ---- dispatch ---- */

typedef struct sqs_op {
        const char *action;
        int (*fn)(qctx *c);
        bool result; /* the answer has an <ActionResult> element */
} sqs_op;

static const sqs_op ops[] = {
        { "CreateQueue", op_create_queue, true },
        { "GetQueueUrl", op_get_queue_url, true },
        { "ListQueues", op_list_queues, true },
        { "DeleteQueue", op_delete_queue, false },
        { "PurgeQueue", op_purge_queue, false },
        { "GetQueueAttributes", op_get_queue_attributes, true },
        { "SetQueueAttributes", op_set_queue_attributes, false },
        { "SendMessage", op_send_message, true },
        { "SendMessageBatch", op_send_message_batch, true },
        { "ReceiveMessage", op_receive_message, true },
        { "DeleteMessage", op_delete_message, false },
        { "DeleteMessageBatch", op_delete_message_batch, true },
        { "ChangeMessageVisibility", op_change_visibility, false },
        { "ChangeMessageVisibilityBatch", op_change_visibility_batch, true },
        { "TagQueue", op_tag_queue, false },
        { "UntagQueue", op_untag_queue, false },
        { "ListQueueTags", op_list_queue_tags, true },
        { "ListDeadLetterSourceQueues", op_dlq_sources, true },
        { "StartMessageMoveTask", op_start_move, true },
        { "ListMessageMoveTasks", op_list_moves, true },
        { "CancelMessageMoveTask", op_cancel_move, true },
        { "AddPermission", op_unsupported, false },
        { "RemovePermission", op_unsupported, false },
};

/* The query protocol's HTTP status of an error (botocore's model: PurgeQueueInProgress and
 * OverLimit are 403). */
static unsigned err_status(q_errcode code)
{
        switch (code) {
        case Q_E_PURGE_IN_PROGRESS:
        case Q_E_OVER_LIMIT:
                return 403;
        case Q_E_INTERNAL:
                return 500;
        default:
                return 400;
        }
}

static void respond_error(qctx *c, serve_resp *w)
{
        if (!c->err_name && c->err.code == Q_OK) { /* a failure that named no error: ours */
                c->err.code = Q_E_INTERNAL;
                snprintf(c->err.msg, sizeof(c->err.msg), "internal error");
        }
        const char *name = c->err_name ? c->err_name : q_err_query_name(c->err.code);
        unsigned status = c->err_name ? c->err_status : err_status(c->err.code);
        bool sender = c->err_name ? true : q_err_sender_fault(c->err.code);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        fputs("<?xml version=\"1.0\"?><ErrorResponse xmlns=\"" SQS_XMLNS "\"><Error>", f);
        fprintf(f, "<Type>%s</Type>", sender ? "Sender" : "Receiver");
        xml_el(f, "Code", name);
        xml_el(f, "Message", c->err.msg);
        fputs("<Detail/></Error>", f);
        xml_el(f, "RequestId", c->r->request_id ? c->r->request_id : "");
        fputs("</ErrorResponse>", f);
        fclose(f);
        serve_resp_set(w, status, "text/xml", buf, len);
}

void sqs_query_handle(struct q_engine *q, const serve_req *r, const serve_kv *params, size_t n,
                      serve_resp *w)
{
        qctx c = { .q = q, .r = r, .p = params, .n = n };
        const char *action = NULL;
        const sqs_op *op = NULL;
        if (r->request_id)
                serve_resp_header(w, "x-amzn-RequestId", r->request_id);
        if (param(&c, "Action", &action) < 0)
                goto error;
        if (!action) {
                c.err_name = "MissingAction";
                c.err_status = 400;
                snprintf(c.err.msg, sizeof(c.err.msg), MISSING "Action.");
                goto error;
        }
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                if (strcmp(ops[i].action, action) == 0)
                        op = &ops[i];
        if (!op) {
                c.err_name = "InvalidAction";
                c.err_status = 400;
                snprintf(c.err.msg, sizeof(c.err.msg),
                         "The action %.100s is not valid for this endpoint.", action);
                goto error;
        }
        char *buf = NULL;
        size_t len = 0;
        c.out = open_memstream(&buf, &len);
        if (!c.out)
                abort();
        fprintf(c.out, "<?xml version=\"1.0\"?><%sResponse xmlns=\"" SQS_XMLNS "\">", op->action);
        if (op->result)
                fprintf(c.out, "<%sResult>", op->action);
        int rc = op->fn(&c);
        if (op->result)
                fprintf(c.out, "</%sResult>", op->action);
        fputs("<ResponseMetadata>", c.out);
        xml_el(c.out, "RequestId", r->request_id ? r->request_id : "");
        fprintf(c.out, "</ResponseMetadata></%sResponse>", op->action);
        fclose(c.out);
        if (rc == 0) {
                serve_resp_set(w, 200, "text/xml", buf, len);
                return;
        }
        free(buf);
error:
        respond_error(&c, w);
}
