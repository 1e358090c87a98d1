/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the SQS AWS JSON 1.0 adapter (src/serve/sqs_json.c): requests built by hand,
 * handed to sqs_json_handle over a real queue engine on a temporary database, answers parsed
 * back. The adapter's file is included so its wire helpers (UTF-8, base64, attribute name
 * selection) are tested directly too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/serve/sqs_json.c"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static q_engine *E;
static char dir[] = "/tmp/husk-sqsjson-XXXXXX";

#define HOST "127.0.0.1:9000"
#define URL(name) "http://" HOST "/000000000000/" name

typedef struct answer {
        serve_resp w;
        json_value *j;
} answer;

static void answer_free(answer *a)
{
        serve_resp_free(&a->w);
        json_value_free(a->j);
        a->j = NULL;
}

static const char *hdr(const answer *a, const char *name)
{
        for (size_t i = 0; i < a->w.n_headers; i++)
                if (strcasecmp(a->w.headers[i].name, name) == 0)
                        return a->w.headers[i].value;
        return NULL;
}

/* Runs one request (body of len bytes) and parses the answer, which must always be JSON. */
static unsigned call_len(answer *a, const char *op, const char *body, size_t len)
{
        serve_req r = {.method = "POST",
                       .path = "/",
                       .raw_path = "/",
                       .query = "",
                       .body = body,
                       .len = len,
                       .host = HOST,
                       .principal = "AKIDTEST",
                       .request_id = "11111111-2222-3333-4444-555555555555"};
        memset(a, 0, sizeof(*a));
        sqs_json_handle(E, &r, op, &a->w);
        char why[128];
        assert_non_null(a->w.body);
        if (json_parse(a->w.body, a->w.len, &a->j, why, sizeof(why)) < 0)
                fail_msg("answer to %s is not JSON (%s): %s", op, why, a->w.body);
        assert_int_equal(a->j->type, JSON_OBJECT);
        assert_string_equal(hdr(a, "Content-Type"), "application/x-amz-json-1.0");
        assert_string_equal(hdr(a, "x-amzn-RequestId"), "11111111-2222-3333-4444-555555555555");
        /* Every answer is valid UTF-8. */
        assert_int_equal(utf8_valid_prefix(a->w.body, a->w.len), a->w.len);
        return a->w.status;
}

static unsigned call(answer *a, const char *op, const char *body)
{
        return call_len(a, op, body, strlen(body));
}

static unsigned callf(answer *a, const char *op, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static unsigned callf(answer *a, const char *op, const char *fmt, ...)
{
        va_list ap;
        char *b = NULL;
        va_start(ap, fmt);
        assert_true(vasprintf(&b, fmt, ap) >= 0);
        va_end(ap);
        unsigned s = call(a, op, b);
        free(b);
        return s;
}

/* The answer is the error `type` (after "com.amazonaws.sqs#") with status and query code. */
static void expect_error(answer *a, unsigned status, const char *type, const char *query_code)
{
        if (a->w.status != status)
                fail_msg("status %u, expected %u: %s", a->w.status, status, a->w.body);
        char *t = xasprintf("com.amazonaws.sqs#%s", type);
        const char *got = json_get_str(a->j, "__type");
        if (!got || strcmp(got, t) != 0)
                fail_msg("__type %s, expected %s: %s", got ? got : "(none)", t, a->w.body);
        free(t);
        assert_non_null(json_get_str(a->j, "message"));
        char *qe = xasprintf("%s;Sender", query_code);
        assert_non_null(hdr(a, "x-amzn-query-error"));
        assert_string_equal(hdr(a, "x-amzn-query-error"), qe);
        free(qe);
        answer_free(a);
}

static void expect_ok(answer *a)
{
        if (a->w.status != 200)
                fail_msg("status %u: %s", a->w.status, a->w.body);
}

static void expect_coral(answer *a, const char *type)
{
        assert_int_equal(a->w.status, 400);
        char *t = xasprintf("com.amazon.coral.service#%s", type);
        assert_string_equal(json_get_str(a->j, "__type"), t);
        free(t);
        answer_free(a);
}

/* ---------------- the wire helpers ---------------- */

static void test_utf8(void **state)
{
        (void)state;
        assert_int_equal(utf8_valid_prefix("abc", 3), 3);
        assert_int_equal(utf8_valid_prefix("\xc3\xa9t\xc3\xa9", 5), 5); /* été */
        assert_int_equal(utf8_valid_prefix("\xf0\x9f\x98\x80", 4), 4);  /* U+1F600 */
        assert_int_equal(utf8_valid_prefix("a\xff", 2), 1);             /* never in UTF-8 */
        assert_int_equal(utf8_valid_prefix("a\xc0\xaf", 3), 1);         /* overlong '/' */
        assert_int_equal(utf8_valid_prefix("\xe0\x80\xaf", 3), 0);      /* overlong '/' */
        assert_int_equal(utf8_valid_prefix("\xed\xa0\x80", 3), 0);      /* surrogate D800 */
        assert_int_equal(utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0);  /* past U+10FFFF */
        assert_int_equal(utf8_valid_prefix("ab\xc3", 3), 2);            /* truncated */
        assert_int_equal(utf8_valid_prefix("\xc3\x28", 2), 0);          /* bad continuation */
        char t[] = "ok\xe2\x82";
        utf8_trim(t);
        assert_string_equal(t, "ok");
}

static void test_attr_selection(void **state)
{
        (void)state;
        const char *all[] = {"All"}, *dot[] = {".*"}, *pre[] = {"trace.*", "color"};
        recv_sel s = {.attr_names = all, .n_attr = 1};
        assert_true(attr_wanted(&s, "x"));
        s.attr_names = dot;
        assert_true(attr_wanted(&s, "x"));
        s.attr_names = pre;
        s.n_attr = 2;
        assert_true(attr_wanted(&s, "trace.id"));
        assert_true(attr_wanted(&s, "color"));
        assert_false(attr_wanted(&s, "trace"));
        assert_false(attr_wanted(&s, "tracex"));
        assert_false(attr_wanted(&s, "colors"));
        s.n_attr = 0;
        assert_false(attr_wanted(&s, "color"));
        const char *sys[] = {"SentTimestamp"}, *sysall[] = {"All"};
        recv_sel t = {.sys_names = sys, .n_sys = 1};
        assert_true(sys_wanted(&t, "SentTimestamp"));
        assert_false(sys_wanted(&t, "SenderId"));
        t.sys_names2 = sysall;
        t.n_sys2 = 1;
        assert_true(sys_wanted(&t, "SenderId"));
}

static prescan scan(const char *s)
{
        prescan p = {0};
        prescan_body(s, strlen(s), &p);
        return p;
}

static void test_prescan(void **state)
{
        (void)state;
        assert_int_equal(scan("{}").values, 2);
        assert_int_equal(scan("{}").entries, 0);
        assert_int_equal(scan("{\"Entries\":[]}").entries, 0);
        assert_int_equal(scan("{\"Entries\":[ ]}").entries, 0);
        assert_int_equal(scan("{\"Entries\":[{}]}").entries, 1);
        assert_int_equal(scan("{\"Entries\":[1]}").entries, 1);
        assert_int_equal(scan("{\"Entries\":[\"a\"]}").entries, 1);
        assert_int_equal(scan("{\"Entries\":[{\"Id\":\"a,b]\"},{\"Id\":\"[c\\\"],\"}, 3]}").entries, 3);
        /* only the top level's Entries, and the last of them */
        assert_int_equal(scan("{\"X\":{\"Entries\":[1,2,3]}}").entries, 0);
        assert_int_equal(scan("{\"QueueUrl\":\"Entries\",\"Other\":[1,2,3]}").entries, 0);
        assert_int_equal(scan("{\"Entries\":[1,2,3],\"Entries\":[1]}").entries, 1);
        assert_int_equal(scan("{\"Entries\":[[1,2],[3,4]]}").entries, 2);
        /* unterminated: what came is counted */
        assert_int_equal(scan("{\"Entries\":[1,2,3").entries, 3);
        /* strings are not structure: commas and brackets in them do not count */
        assert_int_equal(scan("{\"a\":\"[[[,,,{{{\"}").values, 2);
        assert_int_equal(scan("[0,0,0,0]").values, 5);
        assert_int_equal(scan("{\"a\":\"\\").values, 2); /* a trailing backslash */
        q_error err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(precheck("{\"Entries\":[1,2,3,4,5,6,7,8,9,10]}", 33, op_send_message_batch, &err), 0);
        assert_int_equal(precheck("{\"Entries\":[1,2,3,4,5,6,7,8,9,10,11]}", 36, op_send_message_batch, &err), -1);
        assert_int_equal(err.code, Q_E_TOO_MANY_ENTRIES);
        assert_int_equal(precheck("{\"Entries\":[1,2,3,4,5,6,7,8,9,10,11]}", 36, op_list_queues, &err), 0);
}

/* ---------------- the protocol's framing ---------------- */

static void test_framing(void **state)
{
        (void)state;
        answer a;
        call(&a, "Frobnicate", "{}");
        expect_coral(&a, "UnknownOperationException");
        call(&a, "", "{}");
        expect_coral(&a, "UnknownOperationException");
        call(&a, "createqueue", "{}"); /* names are case-sensitive, as AWS's */
        expect_coral(&a, "UnknownOperationException");
        call(&a, "ListQueues", "{\"QueueNamePrefix\":");
        expect_coral(&a, "SerializationException");
        call(&a, "ListQueues", "[1,2]");
        expect_coral(&a, "SerializationException");
        call(&a, "ListQueues", "\"x\"");
        expect_coral(&a, "SerializationException");
        call(&a, "ListQueues", "{} {}");
        expect_coral(&a, "SerializationException");
        call(&a, "ListQueues", "{\"QueueNamePrefix\":\"\xff\"}");
        expect_coral(&a, "SerializationException");
        call_len(&a, "ListQueues", "{\"QueueNamePrefix\":\"a\0b\"}", 24);
        expect_coral(&a, "SerializationException");
        /* deeper than the reader's bound */
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        call_len(&a, "ListQueues", deep, sizeof(deep));
        expect_coral(&a, "SerializationException");
        /* a million values: refused before they are parsed, naming the bound */
        size_t nv = 2000000;
        char *many = xmalloc(nv + 64);
        size_t off = (size_t)sprintf(many, "{\"AttributeNames\":[");
        for (size_t i = 0; off < nv; i++)
                off += (size_t)sprintf(many + off, "%s0", i ? "," : "");
        strcpy(many + off, "]}");
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        call(&a, "GetQueueAttributes", many);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_non_null(strstr(json_get_str(a.j, "message"), "SQS_JSON_VALUES_MAX"));
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        free(many);
        /* (the reader alone takes about 0.8 s for this body on the machine the bound was set on) */
        assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 300);
        /* An empty body is an operation without input. */
        call(&a, "ListQueues", "");
        expect_ok(&a);
        answer_free(&a);
}

/* ---------------- queues ---------------- */

static void test_queues(void **state)
{
        (void)state;
        answer a;
        call(&a, "CreateQueue",
             "{\"QueueName\":\"jq-one\",\"Attributes\":{\"VisibilityTimeout\":\"40\"},\"tags\":{"
             "\"team\":\"a\"}}");
        expect_ok(&a);
        assert_string_equal(json_get_str(a.j, "QueueUrl"), URL("jq-one"));
        answer_free(&a);
        /* same attributes: the same queue; other attributes: QueueNameExists */
        call(&a, "CreateQueue",
             "{\"QueueName\":\"jq-one\",\"Attributes\":{\"VisibilityTimeout\":\"40\"}}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "CreateQueue",
             "{\"QueueName\":\"jq-one\",\"Attributes\":{\"VisibilityTimeout\":\"41\"}}");
        expect_error(&a, 400, "QueueNameExists", "QueueAlreadyExists");
        call(&a, "CreateQueue", "{\"QueueName\":\"jq-two\"}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "CreateQueue", "{}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
        call(&a, "CreateQueue", "{\"QueueName\":7}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "CreateQueue", "{\"QueueName\":\"x\",\"Attributes\":{\"VisibilityTimeout\":40}}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "CreateQueue", "{\"QueueName\":\"x\",\"Attributes\":[\"VisibilityTimeout\"]}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "CreateQueue", "{\"QueueName\":\"x\",\"Attributes\":{\"QueueArn\":\"y\"}}");
        expect_error(&a, 400, "InvalidAttributeName", "InvalidAttributeName");

        call(&a, "GetQueueUrl", "{\"QueueName\":\"jq-one\"}");
        expect_ok(&a);
        assert_string_equal(json_get_str(a.j, "QueueUrl"), URL("jq-one"));
        answer_free(&a);
        call(&a, "GetQueueUrl",
             "{\"QueueName\":\"jq-one\",\"QueueOwnerAWSAccountId\":\"000000000000\"}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "GetQueueUrl",
             "{\"QueueName\":\"jq-one\",\"QueueOwnerAWSAccountId\":\"123456789012\"}");
        expect_error(&a, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue");
        call(&a, "GetQueueUrl", "{\"QueueName\":\"jq-none\"}");
        expect_error(&a, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue");

        call(&a, "ListQueues", "{\"QueueNamePrefix\":\"jq-\"}");
        expect_ok(&a);
        const json_value *urls = json_get(a.j, "QueueUrls");
        assert_non_null(urls);
        assert_int_equal(urls->n, 2);
        assert_string_equal(urls->items[0]->str, URL("jq-one"));
        assert_string_equal(urls->items[1]->str, URL("jq-two"));
        assert_null(json_get(a.j, "NextToken"));
        answer_free(&a);
        call(&a, "ListQueues", "{\"QueueNamePrefix\":\"jq-\",\"MaxResults\":1}");
        expect_ok(&a);
        assert_int_equal(json_get(a.j, "QueueUrls")->n, 1);
        const char *tok = json_get_str(a.j, "NextToken");
        assert_non_null(tok);
        char *tokq = json_quote(tok);
        answer_free(&a);
        callf(&a, "ListQueues", "{\"QueueNamePrefix\":\"jq-\",\"MaxResults\":1,\"NextToken\":%s}",
              tokq);
        free(tokq);
        expect_ok(&a);
        assert_string_equal(json_get(a.j, "QueueUrls")->items[0]->str, URL("jq-two"));
        answer_free(&a);
        call(&a, "ListQueues", "{\"QueueNamePrefix\":\"nothing-\"}");
        expect_ok(&a);
        assert_null(json_get(a.j, "QueueUrls"));
        answer_free(&a);
        call(&a, "ListQueues", "{\"MaxResults\":0}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "ListQueues", "{\"MaxResults\":1001}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "ListQueues", "{\"MaxResults\":\"5\"}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "ListQueues", "{\"MaxResults\":2.5}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "ListQueues", "{\"MaxResults\":99999999999999999999999}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");

        call(&a, "GetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"AttributeNames\":[\"All\"]}");
        expect_ok(&a);
        const json_value *at = json_get(a.j, "Attributes");
        assert_non_null(at);
        assert_string_equal(json_get_str(at, "VisibilityTimeout"), "40");
        assert_string_equal(json_get_str(at, "QueueArn"),
                            "arn:aws:sqs:us-east-1:000000000000:jq-one");
        assert_non_null(json_get_str(at, "ApproximateNumberOfMessages"));
        answer_free(&a);
        call(&a, "GetQueueAttributes", "{\"QueueUrl\":\"" URL("jq-one") "\"}");
        expect_ok(&a);
        assert_null(json_get(a.j, "Attributes"));
        answer_free(&a);
        call(&a, "GetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"AttributeNames\":[\"Bogus\"]}");
        expect_error(&a, 400, "InvalidAttributeName", "InvalidAttributeName");
        call(&a, "GetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"AttributeNames\":\"All\"}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "GetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"AttributeNames\":[\"All\",3]}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "SetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"Attributes\":{\"DelaySeconds\":\"3\"}}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "GetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"AttributeNames\":[\"DelaySeconds\"]}");
        expect_ok(&a);
        assert_string_equal(json_get_str(json_get(a.j, "Attributes"), "DelaySeconds"), "3");
        assert_int_equal(json_get(a.j, "Attributes")->n, 1);
        answer_free(&a);
        call(&a, "SetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"Attributes\":{\"DelaySeconds\":\"9999\"}}");
        expect_error(&a, 400, "InvalidAttributeValue", "InvalidAttributeValue");
        call(&a, "SetQueueAttributes", "{\"QueueUrl\":\"" URL("jq-one") "\"}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");

        call(&a, "TagQueue",
             "{\"QueueUrl\":\"" URL("jq-one") "\",\"Tags\":{\"env\":\"test\",\"owner\":\"me\"}}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "UntagQueue", "{\"QueueUrl\":\"" URL("jq-one") "\",\"TagKeys\":[\"owner\"]}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "ListQueueTags", "{\"QueueUrl\":\"" URL("jq-one") "\"}");
        expect_ok(&a);
        const json_value *tags = json_get(a.j, "Tags");
        assert_non_null(tags);
        assert_int_equal(tags->n, 2);
        assert_string_equal(json_get_str(tags, "team"), "a");
        assert_string_equal(json_get_str(tags, "env"), "test");
        answer_free(&a);
        call(&a, "ListQueueTags", "{\"QueueUrl\":\"" URL("jq-two") "\"}");
        expect_ok(&a);
        assert_null(json_get(a.j, "Tags"));
        answer_free(&a);
        call(&a, "TagQueue", "{\"QueueUrl\":\"" URL("jq-one") "\",\"Tags\":{\"n\":1}}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "UntagQueue", "{\"QueueUrl\":\"" URL("jq-one") "\"}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");

        /* 51 tags: over the engine's limit (OverLimit, 403 in the JSON model); 101: the adapter's */
        char *tg = xmalloc(8192);
        for (int total = 51; total <= 101; total += 50) {
                size_t off = (size_t)sprintf(tg, "{\"QueueUrl\":\"" URL("jq-two") "\",\"Tags\":{");
                for (int i = 0; i < total; i++)
                        off += (size_t)sprintf(tg + off, "%s\"t%d\":\"v\"", i ? "," : "", i);
                strcpy(tg + off, "}}");
                call(&a, "TagQueue", tg);
                if (total == 51)
                        expect_error(&a, 403, "OverLimit", "OverLimit");
                else
                        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        }
        free(tg);

        call(&a, "PurgeQueue", "{\"QueueUrl\":\"" URL("jq-two") "\"}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "PurgeQueue", "{\"QueueUrl\":\"" URL("jq-two") "\"}");
        expect_error(&a, 403, "PurgeQueueInProgress",
                     "AWS.SimpleQueueService.PurgeQueueInProgress");
        call(&a, "DeleteQueue", "{\"QueueUrl\":\"" URL("jq-two") "\"}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "DeleteQueue", "{\"QueueUrl\":\"" URL("jq-two") "\"}");
        expect_error(&a, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue");
        call(&a, "GetQueueAttributes",
             "{\"QueueUrl\":\"" URL("jq-two") "\",\"AttributeNames\":[\"All\"]}");
        expect_error(&a, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue");
        call(&a, "DeleteQueue", "{}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
}

/* ---------------- messages ---------------- */

/* MD5 of message attributes as SQS defines it, computed here independently of the engine. */
static void put_field(unsigned char *buf, size_t *n, const void *p, size_t len)
{
        buf[(*n)++] = (unsigned char)(len >> 24);
        buf[(*n)++] = (unsigned char)(len >> 16);
        buf[(*n)++] = (unsigned char)(len >> 8);
        buf[(*n)++] = (unsigned char)len;
        memcpy(buf + *n, p, len);
        *n += len;
}

static void md5_hex(const void *p, size_t len, char out[33])
{
        unsigned char d[16];
        unsigned dl = 0;
        assert_int_equal(EVP_Digest(p, len, d, &dl, EVP_md5(), NULL), 1);
        for (int i = 0; i < 16; i++)
                snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The attributes a (String "blue"), b.x (Number "42"), b.y (Binary 00 01 02 ff), sorted. */
static void expected_attrs_md5(bool only_b, char out[33])
{
        unsigned char buf[512];
        size_t n = 0;
        static const unsigned char bin[] = {0, 1, 2, 0xff};
        if (!only_b) {
                put_field(buf, &n, "a", 1);
                put_field(buf, &n, "String", 6);
                buf[n++] = 1;
                put_field(buf, &n, "blue", 4);
        }
        put_field(buf, &n, "b.x", 3);
        put_field(buf, &n, "Number", 6);
        buf[n++] = 1;
        put_field(buf, &n, "42", 2);
        put_field(buf, &n, "b.y", 3);
        put_field(buf, &n, "Binary", 6);
        buf[n++] = 2;
        put_field(buf, &n, bin, 4);
        md5_hex(buf, n, out);
}

#define ATTRS                                                                                      \
        "\"MessageAttributes\":{\"b.y\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAEC/w==\"},"   \
        "\"a\":{\"DataType\":\"String\",\"StringValue\":\"blue\"},"                                \
        "\"b.x\":{\"DataType\":\"Number\",\"StringValue\":\"42\"}}"

static const json_value *one_message(answer *a)
{
        expect_ok(a);
        const json_value *m = json_get(a->j, "Messages");
        assert_non_null(m);
        assert_int_equal(m->type, JSON_ARRAY);
        assert_int_equal(m->n, 1);
        return m->items[0];
}

static char *quoted_receipt(const json_value *m)
{
        const char *rh = json_get_str(m, "ReceiptHandle");
        assert_non_null(rh);
        return json_quote(rh);
}

static void test_messages(void **state)
{
        (void)state;
        answer a;
        char md5[33], md5_all[33], md5_b[33];
        expected_attrs_md5(false, md5_all);
        expected_attrs_md5(true, md5_b);
        call(&a, "CreateQueue", "{\"QueueName\":\"jm\"}");
        expect_ok(&a);
        answer_free(&a);

        const char *body = "h\xc3\xa9llo \\\"world\\\"\\n\\u00e9"; /* héllo "world"\né */
        const char *plain = "h\xc3\xa9llo \"world\"\n\xc3\xa9";
        callf(&a, "SendMessage",
              "{\"QueueUrl\":\"" URL("jm") "\",\"MessageBody\":\"%s\"," ATTRS "}", body);
        expect_ok(&a);
        md5_hex(plain, strlen(plain), md5);
        assert_string_equal(json_get_str(a.j, "MD5OfMessageBody"), md5);
        assert_string_equal(json_get_str(a.j, "MD5OfMessageAttributes"), md5_all);
        assert_int_equal(strlen(json_get_str(a.j, "MessageId")), 36);
        assert_null(json_get(a.j, "SequenceNumber"));
        char *id = xstrdup(json_get_str(a.j, "MessageId"));
        answer_free(&a);

        /* receive everything */
        call(&a, "ReceiveMessage",
             "{\"QueueUrl\":\"" URL("jm") "\",\"MessageSystemAttributeNames\":[\"All\"],"
                                          "\"MessageAttributeNames\":[\"All\"],"
                                          "\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":0}");
        const json_value *m = one_message(&a);
        assert_string_equal(json_get_str(m, "MessageId"), id);
        assert_string_equal(json_get_str(m, "Body"), plain);
        assert_string_equal(json_get_str(m, "MD5OfBody"), md5);
        assert_string_equal(json_get_str(m, "MD5OfMessageAttributes"), md5_all);
        const json_value *sys = json_get(m, "Attributes");
        assert_non_null(sys);
        assert_string_equal(json_get_str(sys, "ApproximateReceiveCount"), "1");
        assert_string_equal(json_get_str(sys, "SenderId"), "AKIDTEST");
        assert_non_null(json_get_str(sys, "SentTimestamp"));
        assert_non_null(json_get_str(sys, "ApproximateFirstReceiveTimestamp"));
        const json_value *ma = json_get(m, "MessageAttributes");
        assert_int_equal(ma->n, 3);
        assert_string_equal(json_get_str(json_get(ma, "a"), "StringValue"), "blue");
        assert_string_equal(json_get_str(json_get(ma, "a"), "DataType"), "String");
        assert_string_equal(json_get_str(json_get(ma, "b.x"), "DataType"), "Number");
        assert_string_equal(json_get_str(json_get(ma, "b.y"), "BinaryValue"), "AAEC/w==");
        assert_null(json_get(json_get(ma, "b.y"), "StringValue"));
        char *rh0 = quoted_receipt(m);
        answer_free(&a);
        /* (VisibilityTimeout 0 is not used with MaxNumberOfMessages > 1 here: the engine hands the
         * same message out again within one receive, see the report.) */
        callf(&a, "ChangeMessageVisibility",
              "{\"QueueUrl\":\"" URL("jm") "\",\"ReceiptHandle\":%s,\"VisibilityTimeout\":0}", rh0);
        expect_ok(&a);
        answer_free(&a);
        free(rh0);

        /* a prefix: the digest covers only what is returned; the deprecated AttributeNames */
        call(&a, "ReceiveMessage",
             "{\"QueueUrl\":\"" URL("jm") "\",\"AttributeNames\":[\"SentTimestamp\"],"
                                          "\"MessageAttributeNames\":[\"b.*\"],"
                                          "\"VisibilityTimeout\":0}");
        m = one_message(&a);
        assert_string_equal(json_get_str(m, "MD5OfMessageAttributes"), md5_b);
        assert_int_equal(json_get(m, "MessageAttributes")->n, 2);
        assert_int_equal(json_get(m, "Attributes")->n, 1);
        assert_non_null(json_get_str(json_get(m, "Attributes"), "SentTimestamp"));
        answer_free(&a);

        /* nothing asked: no attributes, no digest of them */
        call(&a, "ReceiveMessage", "{\"QueueUrl\":\"" URL("jm") "\",\"VisibilityTimeout\":30}");
        m = one_message(&a);
        assert_null(json_get(m, "Attributes"));
        assert_null(json_get(m, "MessageAttributes"));
        assert_null(json_get(m, "MD5OfMessageAttributes"));
        char *rh = quoted_receipt(m);
        answer_free(&a);

        /* in flight: an empty receive is {} */
        call(&a, "ReceiveMessage", "{\"QueueUrl\":\"" URL("jm") "\"}");
        expect_ok(&a);
        assert_int_equal(a.j->n, 0);
        answer_free(&a);

        callf(&a, "ChangeMessageVisibility",
              "{\"QueueUrl\":\"" URL("jm") "\",\"ReceiptHandle\":%s,\"VisibilityTimeout\":0}", rh);
        expect_ok(&a);
        answer_free(&a);
        callf(&a, "ChangeMessageVisibility",
              "{\"QueueUrl\":\"" URL("jm") "\",\"ReceiptHandle\":%s,\"VisibilityTimeout\":43201}",
              rh);
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        callf(&a, "ChangeMessageVisibility",
              "{\"QueueUrl\":\"" URL("jm") "\",\"ReceiptHandle\":%s}", rh);
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
        free(rh);
        call(&a, "ReceiveMessage", "{\"QueueUrl\":\"" URL("jm") "\"}");
        m = one_message(&a);
        rh = quoted_receipt(m);
        answer_free(&a);
        callf(&a, "DeleteMessage", "{\"QueueUrl\":\"" URL("jm") "\",\"ReceiptHandle\":%s}", rh);
        expect_ok(&a);
        assert_int_equal(a.j->n, 0);
        answer_free(&a);
        free(rh);
        call(&a, "DeleteMessage", "{\"QueueUrl\":\"" URL("jm") "\",\"ReceiptHandle\":\"garbage\"}");
        expect_error(&a, 404, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid");
        call(&a, "DeleteMessage", "{\"QueueUrl\":\"" URL("jm") "\"}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");

        /* request members out of range or of the wrong type */
        const char *bad[] = {
                "\"MaxNumberOfMessages\":0",     "\"MaxNumberOfMessages\":11",
                "\"MaxNumberOfMessages\":\"1\"", "\"VisibilityTimeout\":-1",
                "\"WaitTimeSeconds\":21",        "\"WaitTimeSeconds\":true",
                "\"AttributeNames\":{}",         "\"MessageAttributeNames\":[[]]",
                "\"ReceiveRequestAttemptId\":5",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                callf(&a, "ReceiveMessage", "{\"QueueUrl\":\"" URL("jm") "\",%s}", bad[i]);
                expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        }
        const char *badsend[] = {
                "\"MessageBody\":1",
                "\"MessageBody\":\"x\",\"DelaySeconds\":901",
                "\"MessageBody\":\"x\",\"DelaySeconds\":\"1\"",
                "\"MessageBody\":\"x\",\"MessageAttributes\":[]",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":\"b\"}",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":{\"StringValue\":\"b\"}}",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":{\"DataType\":\"Strange\","
                "\"StringValue\":\"b\"}}",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":{\"DataType\":\"String\"}}",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":{\"DataType\":\"String\","
                "\"BinaryValue\":\"AA==\"}}",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":{\"DataType\":\"Binary\","
                "\"BinaryValue\":\"not base64!\"}}",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":{\"DataType\":\"Binary\","
                "\"StringValue\":\"x\"}}",
                "\"MessageBody\":\"x\",\"MessageAttributes\":{\"a\":{\"DataType\":\"String\","
                "\"StringValue\":\"x\","
                "\"StringListValues\":[\"y\"]}}",
                "\"MessageBody\":\"x\",\"MessageGroupId\":\"g\"", /* standard queue */
        };
        for (size_t i = 0; i < ARRAY_SIZE(badsend); i++) {
                callf(&a, "SendMessage", "{\"QueueUrl\":\"" URL("jm") "\",%s}", badsend[i]);
                expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        }
        /* 11 attributes */
        call(&a, "SendMessage",
             "{\"QueueUrl\":\"" URL(
                     "jm") "\",\"MessageBody\":\"x\",\"MessageAttributes\":{"
                           "\"a0\":{\"DataType\":\"String\",\"StringValue\":\"v\"},\"a1\":{"
                           "\"DataType\":\"String\",\"StringValue\":\"v\"},"
                           "\"a2\":{\"DataType\":\"String\",\"StringValue\":\"v\"},\"a3\":{"
                           "\"DataType\":\"String\",\"StringValue\":\"v\"},"
                           "\"a4\":{\"DataType\":\"String\",\"StringValue\":\"v\"},\"a5\":{"
                           "\"DataType\":\"String\",\"StringValue\":\"v\"},"
                           "\"a6\":{\"DataType\":\"String\",\"StringValue\":\"v\"},\"a7\":{"
                           "\"DataType\":\"String\",\"StringValue\":\"v\"},"
                           "\"a8\":{\"DataType\":\"String\",\"StringValue\":\"v\"},\"a9\":{"
                           "\"DataType\":\"String\",\"StringValue\":\"v\"},"
                           "\"aa\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "SendMessage", "{\"QueueUrl\":\"" URL("jm") "\"}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
        /* characters SQS forbids in a body (U+0001, U+FFFE) */
        call(&a, "SendMessage", "{\"QueueUrl\":\"" URL("jm") "\",\"MessageBody\":\"a\\u0001b\"}");
        expect_error(&a, 400, "InvalidMessageContents", "InvalidMessageContents");
        call(&a, "SendMessage", "{\"QueueUrl\":\"" URL("jm") "\",\"MessageBody\":\"a\\ufffeb\"}");
        expect_error(&a, 400, "InvalidMessageContents", "InvalidMessageContents");
        call(&a, "SendMessage", "{\"QueueUrl\":\"" URL("jm") "\",\"MessageBody\":\"\"}");
        expect_error(&a, 400, "MissingParameter",
                     "MissingParameter"); /* as AWS: empty is missing */
        call(&a, "SendMessage", "{\"QueueUrl\":\"" URL("nope") "\",\"MessageBody\":\"x\"}");
        expect_error(&a, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue");
        free(id);
}

static void test_batches(void **state)
{
        (void)state;
        answer a;
        call(&a, "CreateQueue", "{\"QueueName\":\"jb\"}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "SendMessageBatch",
             "{\"QueueUrl\":\"" URL(
                     "jb") "\",\"Entries\":[{\"Id\":\"m1\",\"MessageBody\":\"one\"},"
                           "{\"Id\":\"m2\",\"MessageBody\":\"two\",\"DelaySeconds\":0," ATTRS "},"
                           "{\"Id\":\"m3\",\"MessageBody\":\"bad\\u0002\"}]}");
        expect_ok(&a);
        const json_value *ok = json_get(a.j, "Successful"), *bad = json_get(a.j, "Failed");
        assert_non_null(ok);
        assert_non_null(bad);
        assert_int_equal(ok->n, 2);
        assert_int_equal(bad->n, 1);
        char md5[33], md5_all[33];
        md5_hex("one", 3, md5);
        expected_attrs_md5(false, md5_all);
        assert_string_equal(json_get_str(ok->items[0], "Id"), "m1");
        assert_string_equal(json_get_str(ok->items[0], "MD5OfMessageBody"), md5);
        assert_null(json_get(ok->items[0], "MD5OfMessageAttributes"));
        assert_string_equal(json_get_str(ok->items[1], "Id"), "m2");
        assert_string_equal(json_get_str(ok->items[1], "MD5OfMessageAttributes"), md5_all);
        assert_int_equal(strlen(json_get_str(ok->items[1], "MessageId")), 36);
        assert_string_equal(json_get_str(bad->items[0], "Id"), "m3");
        assert_int_equal(json_get(bad->items[0], "SenderFault")->type, JSON_BOOL);
        assert_true(json_get(bad->items[0], "SenderFault")->boolean);
        assert_string_equal(json_get_str(bad->items[0], "Code"), "InvalidMessageContents");
        assert_non_null(json_get_str(bad->items[0], "Message"));
        answer_free(&a);

        call(&a, "ReceiveMessage", "{\"QueueUrl\":\"" URL("jb") "\",\"MaxNumberOfMessages\":10}");
        expect_ok(&a);
        const json_value *msgs = json_get(a.j, "Messages");
        assert_non_null(msgs);
        assert_int_equal(msgs->n, 2);
        char *r0 = quoted_receipt(msgs->items[0]), *r1 = quoted_receipt(msgs->items[1]);
        answer_free(&a);
        callf(&a, "ChangeMessageVisibilityBatch",
              "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[{\"Id\":\"c1\",\"ReceiptHandle\":%s,"
                                           "\"VisibilityTimeout\":60},"
                                           "{\"Id\":\"c2\",\"ReceiptHandle\":\"nonsense\","
                                           "\"VisibilityTimeout\":60}]}",
              r0);
        expect_ok(&a);
        assert_int_equal(json_get(a.j, "Successful")->n, 1);
        assert_string_equal(json_get_str(json_get(a.j, "Successful")->items[0], "Id"), "c1");
        assert_int_equal(json_get(a.j, "Failed")->n, 1);
        assert_string_equal(json_get_str(json_get(a.j, "Failed")->items[0], "Id"), "c2");
        assert_string_equal(json_get_str(json_get(a.j, "Failed")->items[0], "Code"),
                            "ReceiptHandleIsInvalid");
        answer_free(&a);
        callf(&a, "DeleteMessageBatch",
              "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[{\"Id\":\"d1\",\"ReceiptHandle\":%s},{"
                                           "\"Id\":\"d2\",\"ReceiptHandle\":%s}]}",
              r0, r1);
        expect_ok(&a);
        assert_int_equal(json_get(a.j, "Successful")->n, 2);
        assert_int_equal(json_get(a.j, "Failed")->n, 0);
        answer_free(&a);
        free(r0);
        free(r1);

        /* whole-request errors */
        call(&a, "SendMessageBatch", "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[]}");
        expect_error(&a, 400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest");
        call(&a, "DeleteMessageBatch", "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[]}");
        expect_error(&a, 400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest");
        call(&a, "SendMessageBatch", "{\"QueueUrl\":\"" URL("jb") "\"}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
        call(&a, "SendMessageBatch",
             "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[{\"Id\":\"x\",\"MessageBody\":\"1\"},{"
                                          "\"Id\":\"x\",\"MessageBody\":\"2\"}]}");
        expect_error(&a, 400, "BatchEntryIdsNotDistinct",
                     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct");
        call(&a, "SendMessageBatch",
             "{\"QueueUrl\":\"" URL(
                     "jb") "\",\"Entries\":[{\"Id\":\"a b\",\"MessageBody\":\"1\"}]}");
        expect_error(&a, 400, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId");
        call(&a, "SendMessageBatch",
             "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[{\"MessageBody\":\"1\"}]}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
        call(&a, "SendMessageBatch", "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[\"x\"]}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "SendMessageBatch", "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":{}}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "DeleteMessageBatch",
             "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[{\"Id\":\"a\",\"ReceiptHandle\":5}]}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");

        /* 11 entries, and 10,000 entries: refused before any entry is looked at */
        char *big = xmalloc(10000 * 40 + 200);
        static const int counts[] = {11, 10000};
        for (size_t c = 0; c < ARRAY_SIZE(counts); c++) {
                int n = counts[c];
                size_t off = (size_t)sprintf(big, "{\"QueueUrl\":\"" URL("jb") "\",\"Entries\":[");
                for (int i = 0; i < n; i++)
                        off += (size_t)sprintf(big + off,
                                               "%s{\"Id\":\"e%d\",\"MessageBody\":\"b\"}",
                                               i ? "," : "", i);
                strcpy(big + off, "]}");
                for (int k = 0; k < 3; k++) {
                        const char *op = k == 0   ? "SendMessageBatch"
                                         : k == 1 ? "DeleteMessageBatch"
                                                  : "ChangeMessageVisibilityBatch";
                        call(&a, op, big);
                        expect_error(&a, 400, "TooManyEntriesInBatchRequest",
                                     "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
                }
        }
        free(big);
        /* nothing was sent by any refused batch */
        call(&a, "GetQueueAttributes",
             "{\"QueueUrl\":\"" URL(
                     "jb") "\",\"AttributeNames\":[\"ApproximateNumberOfMessages\"]}");
        expect_ok(&a);
        assert_string_equal(
                json_get_str(json_get(a.j, "Attributes"), "ApproximateNumberOfMessages"), "0");
        answer_free(&a);
}

static void test_fifo(void **state)
{
        (void)state;
        answer a;
        call(&a, "CreateQueue",
             "{\"QueueName\":\"jf.fifo\",\"Attributes\":{\"FifoQueue\":\"true\"}}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "SendMessage",
             "{\"QueueUrl\":\"" URL(
                     "jf.fifo") "\",\"MessageBody\":\"first\",\"MessageGroupId\":\"g1\","
                                "\"MessageDeduplicationId\":\"d1\"}");
        expect_ok(&a);
        const char *seq = json_get_str(a.j, "SequenceNumber");
        assert_non_null(seq);
        char *seq1 = xstrdup(seq);
        answer_free(&a);
        call(&a, "SendMessage",
             "{\"QueueUrl\":\"" URL(
                     "jf.fifo") "\",\"MessageBody\":\"second\",\"MessageGroupId\":\"g1\","
                                "\"MessageDeduplicationId\":\"d2\"}");
        expect_ok(&a);
        assert_true(strcmp(json_get_str(a.j, "SequenceNumber"), seq1) > 0);
        answer_free(&a);
        /* no deduplication id and no content-based deduplication */
        call(&a, "SendMessage",
             "{\"QueueUrl\":\"" URL(
                     "jf.fifo") "\",\"MessageBody\":\"x\",\"MessageGroupId\":\"g1\"}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "SendMessage",
             "{\"QueueUrl\":\"" URL("jf.fifo") "\",\"MessageBody\":\"x\",\"MessageGroupId\":7}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "ReceiveMessage",
             "{\"QueueUrl\":\"" URL(
                     "jf.fifo") "\",\"MaxNumberOfMessages\":10,\"AttributeNames\":[\"All\"],"
                                "\"ReceiveRequestAttemptId\":\"try-1\"}");
        expect_ok(&a);
        const json_value *msgs = json_get(a.j, "Messages");
        assert_non_null(msgs);
        assert_int_equal(msgs->n, 2);
        assert_string_equal(json_get_str(msgs->items[0], "Body"), "first");
        assert_string_equal(json_get_str(msgs->items[1], "Body"), "second");
        const json_value *sys = json_get(msgs->items[0], "Attributes");
        assert_string_equal(json_get_str(sys, "MessageGroupId"), "g1");
        assert_string_equal(json_get_str(sys, "MessageDeduplicationId"), "d1");
        assert_string_equal(json_get_str(sys, "SequenceNumber"), seq1);
        answer_free(&a);
        free(seq1);
}

static void test_redrive(void **state)
{
        (void)state;
        answer a;
        call(&a, "CreateQueue", "{\"QueueName\":\"jd-dlq\"}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "CreateQueue",
             "{\"QueueName\":\"jd-src\",\"Attributes\":{\"RedrivePolicy\":"
             "\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:000000000000:jd-dlq\\\","
             "\\\"maxReceiveCount\\\":\\\"1\\\"}\"}}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "ListDeadLetterSourceQueues", "{\"QueueUrl\":\"" URL("jd-dlq") "\"}");
        expect_ok(&a);
        const json_value *u = json_get(a.j, "queueUrls");
        assert_non_null(u);
        assert_int_equal(u->n, 1);
        assert_string_equal(u->items[0]->str, URL("jd-src"));
        answer_free(&a);
        call(&a, "ListDeadLetterSourceQueues", "{\"QueueUrl\":\"" URL("jd-src") "\"}");
        expect_ok(&a);
        assert_non_null(json_get(a.j, "queueUrls")); /* required, even when empty */
        assert_int_equal(json_get(a.j, "queueUrls")->n, 0);
        answer_free(&a);
        call(&a, "ListDeadLetterSourceQueues",
             "{\"QueueUrl\":\"" URL("jd-dlq") "\",\"MaxResults\":0}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");

        /* one message to the dead-letter queue: received once, then past maxReceiveCount */
        call(&a, "SendMessage", "{\"QueueUrl\":\"" URL("jd-src") "\",\"MessageBody\":\"doomed\"}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "ReceiveMessage", "{\"QueueUrl\":\"" URL("jd-src") "\",\"VisibilityTimeout\":0}");
        one_message(&a);
        answer_free(&a);
        call(&a, "ReceiveMessage", "{\"QueueUrl\":\"" URL("jd-src") "\"}");
        expect_ok(&a);
        assert_null(json_get(a.j, "Messages"));
        answer_free(&a);

        call(&a, "StartMessageMoveTask",
             "{\"SourceArn\":\"arn:aws:sqs:us-east-1:000000000000:jd-dlq\","
             "\"MaxNumberOfMessagesPerSecond\":10}");
        expect_ok(&a);
        const char *h = json_get_str(a.j, "TaskHandle");
        assert_non_null(h);
        char *hq = json_quote(h);
        answer_free(&a);
        call(&a, "ListMessageMoveTasks",
             "{\"SourceArn\":\"arn:aws:sqs:us-east-1:000000000000:jd-dlq\",\"MaxResults\":10}");
        expect_ok(&a);
        const json_value *res = json_get(a.j, "Results");
        assert_non_null(res);
        assert_true(res->n >= 1);
        assert_string_equal(json_get_str(res->items[0], "SourceArn"),
                            "arn:aws:sqs:us-east-1:000000000000:jd-dlq");
        assert_non_null(json_get_str(res->items[0], "Status"));
        assert_int_equal(json_get(res->items[0], "ApproximateNumberOfMessagesMoved")->type,
                         JSON_NUMBER);
        assert_int_equal(json_get(res->items[0], "StartedTimestamp")->type, JSON_NUMBER);
        answer_free(&a);
        /* the task may have finished already: cancelling a finished task is the engine's error */
        callf(&a, "CancelMessageMoveTask", "{\"TaskHandle\":%s}", hq);
        if (a.w.status == 200)
                assert_int_equal(json_get(a.j, "ApproximateNumberOfMessagesMoved")->type,
                                 JSON_NUMBER);
        answer_free(&a);
        free(hq);

        call(&a, "StartMessageMoveTask",
             "{\"SourceArn\":\"arn:aws:sqs:eu-west-1:000000000000:jd-dlq\"}");
        expect_error(&a, 404, "ResourceNotFoundException", "ResourceNotFoundException");
        call(&a, "StartMessageMoveTask",
             "{\"SourceArn\":\"arn:aws:sqs:us-east-1:000000000000:../x\"}");
        expect_error(&a, 404, "ResourceNotFoundException", "ResourceNotFoundException");
        call(&a, "StartMessageMoveTask", "{\"SourceArn\":\"jd-dlq\"}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "StartMessageMoveTask",
             "{\"SourceArn\":\"arn:aws:sqs:us-east-1:000000000000:jd-dlq\","
             "\"MaxNumberOfMessagesPerSecond\":501}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "StartMessageMoveTask", "{}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
        call(&a, "ListMessageMoveTasks",
             "{\"SourceArn\":\"arn:aws:sqs:us-east-1:000000000000:jd-dlq\",\"MaxResults\":11}");
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        call(&a, "CancelMessageMoveTask", "{}");
        expect_error(&a, 400, "MissingParameter", "MissingParameter");
        call(&a, "AddPermission", "{}");
        expect_error(&a, 400, "UnsupportedOperation",
                     "AWS.SimpleQueueService.UnsupportedOperation");
}

/* A JSON object may repeat a key: the last one counts, and the engine sees each name once. */
static void test_repeated_keys(void **state)
{
        (void)state;
        answer a;
        call(&a, "CreateQueue", "{\"QueueName\":\"jr\",\"tags\":{\"k\":\"1\",\"k\":\"2\"}}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "ListQueueTags", "{\"QueueUrl\":\"" URL("jr") "\"}");
        expect_ok(&a);
        assert_int_equal(json_get(a.j, "Tags")->n, 1);
        assert_string_equal(json_get_str(json_get(a.j, "Tags"), "k"), "2");
        answer_free(&a);
        call(&a, "SendMessage",
             "{\"QueueUrl\":\"" URL(
                     "jr") "\",\"MessageBody\":\"x\",\"MessageAttributes\":{"
                           "\"a\":{\"DataType\":\"String\",\"StringValue\":\"old\"},\"a\":{"
                           "\"DataType\":\"Number\",\"StringValue\":\"42\"},"
                           "\"a\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAEC/"
                           "w==\"},\"b.x\":{\"DataType\":\"Number\",\"StringValue\":\"42\"},"
                           "\"b.y\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAEC/w==\"}}}");
        expect_ok(&a);
        answer_free(&a);
        call(&a, "ReceiveMessage",
             "{\"QueueUrl\":\"" URL("jr") "\",\"MessageAttributeNames\":[\"All\"]}");
        const json_value *m = one_message(&a);
        const json_value *ma = json_get(m, "MessageAttributes");
        assert_int_equal(ma->n, 3);
        assert_string_equal(json_get_str(json_get(ma, "a"), "DataType"), "Binary");
        answer_free(&a);
}

/* Names and URLs with path tricks never reach a queue. */
static void test_hostile_names(void **state)
{
        (void)state;
        answer a;
        const char *names[] = {"../jq-one",
                               "a/b",
                               "a%2Fb",
                               "",
                               ".",
                               "..",
                               "a b",
                               "a\\u0000b",
                               "\xc3\xa9",
                               "x.fifo.fifo",
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                               "aaaaaaaaaaaaaa"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                unsigned s = callf(&a, "CreateQueue", "{\"QueueName\":\"%s\"}", names[i]);
                if (s == 200)
                        fail_msg("CreateQueue '%s' succeeded: %s", names[i], a.w.body);
                answer_free(&a);
                s = callf(&a, "GetQueueUrl", "{\"QueueName\":\"%s\"}", names[i]);
                assert_int_equal(s, 400);
                answer_free(&a);
        }
        const char *urls[] = {"http://" HOST "/000000000000/../jq-one",
                              "http://" HOST "/000000000000/jq-one/",
                              "http://" HOST "/000000000000/jq%2Fone",
                              "http://" HOST "/111111111111/jq-one",
                              "/000000000000/jq-one/../jm",
                              "http://" HOST "/000000000000/",
                              ""};
        for (size_t i = 0; i < ARRAY_SIZE(urls); i++) {
                unsigned s = callf(&a, "GetQueueAttributes",
                                   "{\"QueueUrl\":\"%s\",\"AttributeNames\":[\"All\"]}", urls[i]);
                if (s == 200)
                        fail_msg("QueueUrl '%s' reached a queue: %s", urls[i], a.w.body);
                answer_free(&a);
        }
        /* 101 attribute names: over the adapter's bound */
        char *l = xmalloc(4096);
        size_t off = (size_t)sprintf(l, "{\"QueueUrl\":\"" URL("jq-one") "\",\"AttributeNames\":[");
        for (int i = 0; i < 101; i++)
                off += (size_t)sprintf(l + off, "%s\"All\"", i ? "," : "");
        strcpy(l + off, "]}");
        call(&a, "GetQueueAttributes", l);
        expect_error(&a, 400, "InvalidParameterValue", "InvalidParameterValue");
        free(l);
        /* the engine still answers */
        call(&a, "GetQueueUrl", "{\"QueueName\":\"jq-one\"}");
        expect_ok(&a);
        answer_free(&a);
}

static int setup(void **state)
{
        (void)state;
        assert_non_null(mkdtemp(dir));
        char *path = xasprintf("%s/queue.db", dir);
        q_error err;
        memset(&err, 0, sizeof(err));
        if (q_engine_open(path, NULL, &E, &err) < 0) {
                fprintf(stderr, "q_engine_open: %s\n", err.msg);
                free(path);
                return -1;
        }
        free(path);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (E) {
                q_engine_shutdown(E);
                q_engine_close(E);
        }
        char *cmd = xasprintf("rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", dir);
        free(cmd);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_attr_selection), cmocka_unit_test(test_prescan),
                cmocka_unit_test(test_framing),
                cmocka_unit_test(test_queues),         cmocka_unit_test(test_messages),
                cmocka_unit_test(test_batches),        cmocka_unit_test(test_fifo),
                cmocka_unit_test(test_redrive),        cmocka_unit_test(test_repeated_keys),
                cmocka_unit_test(test_hostile_names),
        };
        return cmocka_run_group_tests_name("sqs_json", tests, setup, teardown);
}
