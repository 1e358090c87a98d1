/* SPDX-License-Identifier: Apache-2.0 */
/* The queue engine's pure helpers: error names, key/value lists, SQS's checksums (libcrypto),
 * character and attribute validation, names, URLs and ARNs. */
#include "qint.h"
#include "util/util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const struct {
        const char *json, *query;
} errnames[] = {
        [Q_OK] = { "", "" },
        [Q_E_NONEXISTENT_QUEUE] = { "QueueDoesNotExist",
                                    "AWS.SimpleQueueService.NonExistentQueue" },
        [Q_E_QUEUE_EXISTS] = { "QueueAlreadyExists", "QueueAlreadyExists" },
        [Q_E_QUEUE_DELETED_RECENTLY] = { "QueueDeletedRecently",
                                         "AWS.SimpleQueueService.QueueDeletedRecently" },
        [Q_E_INVALID_PARAMETER] = { "InvalidParameterValue", "InvalidParameterValue" },
        [Q_E_MISSING_PARAMETER] = { "MissingParameter", "MissingParameter" },
        [Q_E_INVALID_ATTRIBUTE_NAME] = { "InvalidAttributeName", "InvalidAttributeName" },
        [Q_E_INVALID_ATTRIBUTE_VALUE] = { "InvalidAttributeValue", "InvalidAttributeValue" },
        [Q_E_INVALID_MESSAGE_CONTENTS] = { "InvalidMessageContents", "InvalidMessageContents" },
        [Q_E_RECEIPT_HANDLE_INVALID] = { "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid" },
        [Q_E_MESSAGE_NOT_INFLIGHT] = { "MessageNotInflight",
                                       "AWS.SimpleQueueService.MessageNotInflight" },
        [Q_E_PURGE_IN_PROGRESS] = { "PurgeQueueInProgress",
                                    "AWS.SimpleQueueService.PurgeQueueInProgress" },
        [Q_E_EMPTY_BATCH] = { "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest" },
        [Q_E_TOO_MANY_ENTRIES] = { "TooManyEntriesInBatchRequest",
                                   "AWS.SimpleQueueService.TooManyEntriesInBatchRequest" },
        [Q_E_BATCH_IDS_NOT_DISTINCT] = { "BatchEntryIdsNotDistinct",
                                         "AWS.SimpleQueueService.BatchEntryIdsNotDistinct" },
        [Q_E_INVALID_BATCH_ENTRY_ID] = { "InvalidBatchEntryId",
                                         "AWS.SimpleQueueService.InvalidBatchEntryId" },
        [Q_E_BATCH_TOO_LONG] = { "BatchRequestTooLong",
                                 "AWS.SimpleQueueService.BatchRequestTooLong" },
        [Q_E_OVER_LIMIT] = { "OverLimit", "OverLimit" },
        [Q_E_UNSUPPORTED_OPERATION] = { "UnsupportedOperation",
                                        "AWS.SimpleQueueService.UnsupportedOperation" },
        [Q_E_RESOURCE_NOT_FOUND] = { "ResourceNotFoundException", "ResourceNotFoundException" },
        [Q_E_INTERNAL] = { "InternalError", "InternalError" },
};

const char *q_err_json_name(q_errcode c)
{
        if ((size_t)c >= ARRAY_SIZE(errnames))
                c = Q_E_INTERNAL;
        return errnames[c].json;
}

const char *q_err_query_name(q_errcode c)
{
        if ((size_t)c >= ARRAY_SIZE(errnames))
                c = Q_E_INTERNAL;
        return errnames[c].query;
}

unsigned q_err_status(q_errcode c)
{
        return c == Q_E_INTERNAL || (size_t)c >= ARRAY_SIZE(errnames) ? 500 : 400;
}

bool q_err_sender_fault(q_errcode c)
{
        return q_err_status(c) == 400;
}

int q_seterr(q_error *err, q_errcode code, const char *fmt, ...)
{
        if (err) {
                err->code = code;
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                va_end(ap);
        }
        return -1;
}

/* ---- key/value lists ---- */
void q_kvs_add(q_kvs *k, const char *name, const char *value)
{
        k->v = xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
        k->v[k->n].name = xstrdup(name);
        k->v[k->n].value = xstrdup(value ? value : "");
        k->n++;
}

const char *q_kvs_get(const q_kvs *k, const char *name)
{
        if (!k)
                return NULL;
        for (size_t i = k->n; i > 0; i--)
                if (strcmp(k->v[i - 1].name, name) == 0)
                        return k->v[i - 1].value;
        return NULL;
}

void q_kvs_free(q_kvs *k)
{
        if (!k)
                return;
        for (size_t i = 0; i < k->n; i++) {
                free(k->v[i].name);
                free(k->v[i].value);
        }
        free(k->v);
        k->v = NULL;
        k->n = 0;
}

void q_msg_attrs_free(q_msg_attr *a, size_t n)
{
        if (!a)
                return;
        for (size_t i = 0; i < n; i++) {
                free(a[i].name);
                free(a[i].data_type);
                free(a[i].string_value);
                free(a[i].binary_value);
        }
        free(a);
}

/* ---- checksums ---- */
static void hexify(const unsigned char *d, size_t n, char *out)
{
        static const char hx[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hx[d[i] >> 4];
                out[2 * i + 1] = hx[d[i] & 15];
        }
        out[2 * n] = 0;
}

void q_md5_hex(const void *data, size_t len, char out[33])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16) {
                out[0] = 0;
                return;
        }
        hexify(md, 16, out);
}

void q_sha256_hex(const void *data, size_t len, char out[65])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
                out[0] = 0;
                return;
        }
        hexify(md, 32, out);
}

void q_md5_body(const char *body, size_t len, char out[33])
{
        q_md5_hex(body ? body : "", body ? len : 0, out);
}

static bool attr_is_binary(const q_msg_attr *a)
{
        return a->data_type && strncmp(a->data_type, "Binary", 6) == 0;
}

static int attr_cmp(const void *x, const void *y)
{
        const q_msg_attr *a = *(const q_msg_attr *const *)x, *b = *(const q_msg_attr *const *)y;
        return strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

static void put_field(unsigned char **p, const void *data, size_t n)
{
        uint32_t l = (uint32_t)n;
        (*p)[0] = (unsigned char)(l >> 24);
        (*p)[1] = (unsigned char)(l >> 16);
        (*p)[2] = (unsigned char)(l >> 8);
        (*p)[3] = (unsigned char)l;
        if (n)
                memcpy(*p + 4, data, n);
        *p += 4 + n;
}

/* SQS's canonical form: for each attribute, sorted by name (byte order): length-prefixed name,
 * length-prefixed data type, a transport byte (1 string/number, 2 binary), length-prefixed
 * value. Lengths are 4-byte big-endian. */
unsigned char *q_attrs_encode(const q_msg_attr *a, size_t n, size_t *ret_len)
{
        const q_msg_attr **s = xcalloc(n ? n : 1, sizeof(*s));
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
                s[i] = &a[i];
                size_t vl = attr_is_binary(&a[i])
                                    ? a[i].binary_len
                                    : (a[i].string_value ? strlen(a[i].string_value) : 0);
                total += 13 + (a[i].name ? strlen(a[i].name) : 0) +
                         (a[i].data_type ? strlen(a[i].data_type) : 0) + vl;
        }
        qsort(s, n, sizeof(*s), attr_cmp);
        unsigned char *buf = xmalloc(total ? total : 1), *p = buf;
        for (size_t i = 0; i < n; i++) {
                const char *nm = s[i]->name ? s[i]->name : "";
                const char *dt = s[i]->data_type ? s[i]->data_type : "";
                put_field(&p, nm, strlen(nm));
                put_field(&p, dt, strlen(dt));
                if (attr_is_binary(s[i])) {
                        *p++ = 2;
                        put_field(&p, s[i]->binary_value, s[i]->binary_len);
                } else {
                        *p++ = 1;
                        const char *v = s[i]->string_value ? s[i]->string_value : "";
                        put_field(&p, v, strlen(v));
                }
        }
        free(s);
        *ret_len = (size_t)(p - buf);
        return buf;
}

static int get_field(const unsigned char **p, const unsigned char *end, const unsigned char **data,
                     size_t *n)
{
        if (end - *p < 4)
                return -1;
        uint32_t l = ((uint32_t)(*p)[0] << 24) | ((uint32_t)(*p)[1] << 16) |
                     ((uint32_t)(*p)[2] << 8) | (*p)[3];
        *p += 4;
        if ((size_t)(end - *p) < l)
                return -1;
        *data = *p;
        *n = l;
        *p += l;
        return 0;
}

int q_attrs_decode(const unsigned char *b, size_t len, q_msg_attr **ret, size_t *ret_n)
{
        q_msg_attr *v = NULL;
        size_t n = 0;
        const unsigned char *p = b, *end = b + len;
        while (p < end) {
                const unsigned char *nm, *dt, *val;
                size_t nl, dl, vl;
                if (get_field(&p, end, &nm, &nl) < 0 || get_field(&p, end, &dt, &dl) < 0 ||
                    p >= end)
                        goto bad;
                unsigned char tr = *p++;
                if (get_field(&p, end, &val, &vl) < 0)
                        goto bad;
                v = xrealloc(v, (n + 1) * sizeof(*v));
                memset(&v[n], 0, sizeof(v[n]));
                v[n].name = xstrndup((const char *)nm, nl);
                v[n].data_type = xstrndup((const char *)dt, dl);
                if (tr == 2) {
                        v[n].binary_value = xmalloc(vl ? vl : 1);
                        if (vl)
                                memcpy(v[n].binary_value, val, vl);
                        v[n].binary_len = vl;
                } else {
                        v[n].string_value = xstrndup((const char *)val, vl);
                }
                n++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
bad:
        q_msg_attrs_free(v, n);
        return -1;
}

void q_md5_attrs(const q_msg_attr *a, size_t n, char out[33])
{
        if (n == 0) {
                out[0] = 0;
                return;
        }
        size_t len;
        unsigned char *buf = q_attrs_encode(a, n, &len);
        q_md5_hex(buf, len, out);
        free(buf);
}

/* ---- validation ---- */
/* #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF, in well-formed UTF-8
 * (shortest form, no surrogates). *bad: the offending code point, or the byte of a malformed
 * sequence. */
bool q_chars_valid(const char *str, size_t len, uint32_t *bad)
{
        const unsigned char *s = (const unsigned char *)str;
        size_t i = 0;
        while (i < len) {
                unsigned char c = s[i];
                uint32_t cp;
                size_t k;
                if (c < 0x80) {
                        if (c < 0x20 && c != 9 && c != 10 && c != 13) {
                                *bad = c;
                                return false;
                        }
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        cp = c & 0x1f;
                        k = 1;
                } else if (c >= 0xe0 && c <= 0xef) {
                        cp = c & 0x0f;
                        k = 2;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        cp = c & 0x07;
                        k = 3;
                } else {
                        *bad = c;
                        return false;
                }
                if (len - i <= k) {
                        *bad = c;
                        return false;
                }
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80) {
                                *bad = c;
                                return false;
                        }
                        cp = (cp << 6) | (s[i + j] & 0x3f);
                }
                if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) {
                        *bad = cp;
                        return false;
                }
                i += k + 1;
        }
        return true;
}

static bool attr_name_valid(const char *n)
{
        size_t l = strlen(n);
        if (l == 0 || l > 256 || n[0] == '.' || n[l - 1] == '.')
                return false;
        if (strncasecmp(n, "AWS.", 4) == 0 || strncasecmp(n, "Amazon.", 7) == 0)
                return false;
        for (size_t i = 0; i < l; i++) {
                char c = n[i];
                if (!(isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.'))
                        return false;
                if (c == '.' && n[i + 1] == '.')
                        return false;
        }
        return true;
}

/* A Number value: optional sign, digits with an optional fraction, optional exponent; at most
 * 38 significant digits. */
static bool number_valid(const char *s)
{
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        size_t digits = 0, sig = 0;
        bool lead = true;
        while (isdigit((unsigned char)*p)) {
                digits++;
                if (*p != '0' || !lead) {
                        lead = false;
                        sig++;
                }
                p++;
        }
        if (*p == '.') {
                p++;
                while (isdigit((unsigned char)*p)) {
                        digits++;
                        if (*p != '0' || !lead) {
                                lead = false;
                                sig++;
                        }
                        p++;
                }
        }
        if (digits == 0)
                return false;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                int e = 0;
                while (isdigit((unsigned char)*p)) {
                        if (e < 10000)
                                e = e * 10 + (*p - '0');
                        p++;
                }
                if (e > 200)
                        return false;
        }
        return *p == 0 && sig <= 38;
}

int q_check_attrs(const q_msg_attr *a, size_t n, bool system, size_t *ret_size, q_error *err)
{
        const char *what = system ? "system" : "user";
        if (!system && n > Q_MSG_ATTRS_MAX)
                return q_seterr(
                        err, Q_E_INVALID_PARAMETER,
                        "Number of message attributes [%zu] exceeds the allowed maximum [%d].", n,
                        Q_MSG_ATTRS_MAX);
        size_t size = 0;
        for (size_t i = 0; i < n; i++) {
                const q_msg_attr *x = &a[i];
                if (!x->name || !*x->name)
                        return q_seterr(err, Q_E_INVALID_PARAMETER,
                                        "Message (%s) attribute name is missing.", what);
                if (system) {
                        if (strcmp(x->name, "AWSTraceHeader") != 0)
                                return q_seterr(
                                        err, Q_E_INVALID_PARAMETER,
                                        "Message system attribute name '%.256s' is invalid.",
                                        x->name);
                } else if (!attr_name_valid(x->name)) {
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "Message (user) attribute name '%.256s' is invalid: it must be "
                                "1 to 256 of A-Z a-z 0-9 _ - ., not start with AWS. or Amazon., "
                                "nor start, end or repeat a period.",
                                x->name);
                }
                for (size_t j = 0; j < i; j++)
                        if (strcmp(a[j].name, x->name) == 0)
                                return q_seterr(err, Q_E_INVALID_PARAMETER,
                                                "Message (%s) attribute '%.256s' is given twice.",
                                                what, x->name);
                const char *dt = x->data_type;
                if (!dt || !*dt)
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "The message (%s) attribute '%.256s' must contain a non-empty "
                                "message attribute type.",
                                what, x->name);
                size_t base;
                if (strncmp(dt, "String", 6) == 0)
                        base = 6;
                else if (strncmp(dt, "Number", 6) == 0)
                        base = 6;
                else if (strncmp(dt, "Binary", 6) == 0)
                        base = 6;
                else
                        base = 0;
                if (base == 0 || (dt[base] != 0 && dt[base] != '.') || strlen(dt) > 256 ||
                    (dt[base] == '.' && dt[base + 1] == 0) || (system && strcmp(dt, "String") != 0))
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "The type of message (%s) attribute '%.256s' is invalid. You must "
                                "use only the following supported type prefixes: Binary, Number, "
                                "String.",
                                what, x->name);
                uint32_t bad;
                if (dt[base] == '.' && !q_chars_valid(dt + base + 1, strlen(dt + base + 1), &bad))
                        return q_seterr(
                                err, Q_E_INVALID_PARAMETER,
                                "The type label of message (%s) attribute '%.256s' has an invalid "
                                "character #x%X.",
                                what, x->name, bad);
                size_t vl;
                if (attr_is_binary(x)) {
                        if (!x->binary_value || x->binary_len == 0)
                                return q_seterr(
                                        err, Q_E_INVALID_PARAMETER,
                                        "Message (%s) attribute '%.256s' must contain a non-empty "
                                        "value of type '%.256s'.",
                                        what, x->name, dt);
                        vl = x->binary_len;
                } else {
                        if (!x->string_value || !*x->string_value)
                                return q_seterr(
                                        err, Q_E_INVALID_PARAMETER,
                                        "Message (%s) attribute '%.256s' must contain a non-empty "
                                        "value of type '%.256s'.",
                                        what, x->name, dt);
                        vl = strlen(x->string_value);
                        if (!q_chars_valid(x->string_value, vl, &bad))
                                return q_seterr(
                                        err, Q_E_INVALID_PARAMETER,
                                        "Message (%s) attribute '%.256s' has an invalid character "
                                        "#x%X: allowed are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to "
                                        "#xFFFD | #x10000 to #x10FFFF.",
                                        what, x->name, bad);
                        if (strncmp(dt, "Number", 6) == 0 && !number_valid(x->string_value))
                                return q_seterr(
                                        err, Q_E_INVALID_PARAMETER,
                                        "Can't cast the value of message (%s) attribute '%.256s' to a "
                                        "number.",
                                        what, x->name);
                }
                size += strlen(x->name) + strlen(dt) + vl;
        }
        if (ret_size)
                *ret_size = size;
        return 0;
}

bool q_batch_id_valid(const char *id)
{
        size_t l = id ? strlen(id) : 0;
        if (l == 0 || l > Q_BATCH_ID_MAX)
                return false;
        for (size_t i = 0; i < l; i++)
                if (!(isalnum((unsigned char)id[i]) || id[i] == '_' || id[i] == '-'))
                        return false;
        return true;
}

/* ---- names, URLs, ARNs ---- */
bool q_name_valid(const char *name)
{
        size_t l = name ? strlen(name) : 0;
        if (l == 0 || l > Q_NAME_MAX)
                return false;
        size_t body = l;
        if (l > 5 && strcmp(name + l - 5, ".fifo") == 0)
                body = l - 5;
        for (size_t i = 0; i < body; i++)
                if (!(isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '-'))
                        return false;
        return true;
}

const char *q_engine_region(const q_engine *q)
{
        return q->region;
}

const char *q_engine_account(const q_engine *q)
{
        return q->account;
}

int q_name_from_url(const q_engine *q, const char *url, char name[Q_NAME_MAX + 1], q_error *err)
{
        if (!url || !*url)
                return q_seterr(err, Q_E_MISSING_PARAMETER,
                                "The request must contain the parameter QueueUrl.");
        const char *p = url;
        if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) {
                p = strchr(p, ':') + 3;
                p = strchr(p, '/');
                if (!p)
                        return q_seterr(err, Q_E_INVALID_PARAMETER,
                                        "Value %.200s for parameter QueueUrl is invalid.", url);
        }
        const char *nm = p;
        if (*p == '/') {
                const char *acct = p + 1, *slash = strchr(acct, '/');
                if (!slash)
                        return q_seterr(err, Q_E_INVALID_PARAMETER,
                                        "Value %.200s for parameter QueueUrl is invalid.", url);
                nm = slash + 1;
                if ((size_t)(slash - acct) != strlen(q->account) ||
                    strncmp(acct, q->account, (size_t)(slash - acct)) != 0)
                        return q_seterr(err, Q_E_NONEXISTENT_QUEUE,
                                        "The specified queue does not exist.");
        }
        if (!*nm || strchr(nm, '/'))
                return q_seterr(err, Q_E_INVALID_PARAMETER,
                                "Value %.200s for parameter QueueUrl is invalid.", url);
        if (!q_name_valid(nm))
                return q_seterr(err, Q_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        snprintf(name, Q_NAME_MAX + 1, "%s", nm);
        return 0;
}

char *q_queue_url(const q_engine *q, const char *host, const char *name)
{
        return xasprintf("http://%s/%s/%s", host && *host ? host : "localhost", q->account, name);
}

char *q_queue_arn(const q_engine *q, const char *name)
{
        return xasprintf("arn:aws:sqs:%s:%s:%s", q->region, q->account, name);
}

int q_name_from_arn(const q_engine *q, const char *arn, char name[Q_NAME_MAX + 1])
{
        char prefix[160];
        snprintf(prefix, sizeof(prefix), "arn:aws:sqs:%s:%s:", q->region, q->account);
        size_t pl = strlen(prefix);
        if (!arn || strncmp(arn, prefix, pl) != 0 || !q_name_valid(arn + pl))
                return -1;
        snprintf(name, Q_NAME_MAX + 1, "%s", arn + pl);
        return 0;
}
