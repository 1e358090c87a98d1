/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the SQS query-protocol adapter (src/serve/sqs_query.c): requests built by hand as
 * the front door hands them over (decoded form pairs), against a real engine on a temporary
 * database with an injected clock; the XML answers are checked for the element names and shapes
 * of botocore's query model, the errors for AWS's codes and statuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "queue/queue.h"
#include "serve/serve.h"
#include "util/util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS "xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\""
#define URL "http://127.0.0.1:9/000000000000/"

static uint64_t clock_ms = 1700000000000ull;
static uint64_t test_clock(void *ctx)
{
        (void)ctx;
        return clock_ms;
}

typedef struct fx {
        char dir[64];
        q_engine *q;
} fx;

static int setup(void **state)
{
        fx *f = xcalloc(1, sizeof(*f));
        snprintf(f->dir, sizeof(f->dir), "/tmp/husk-sqsq.XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        _cleanup_free_ char *db = xasprintf("%s/queue.db", f->dir);
        q_config cfg = { .clock = test_clock };
        q_error err = { 0 };
        if (q_engine_open(db, &cfg, &f->q, &err) < 0) {
                fprintf(stderr, "q_engine_open: %s\n", err.msg);
                return -1;
        }
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        fx *f = *state;
        q_engine_shutdown(f->q);
        q_engine_close(f->q);
        _cleanup_free_ char *cmd = xasprintf("rm -rf %s", f->dir);
        if (system(cmd) != 0)
                return -1;
        free(f);
        return 0;
}

/* One request: form is the (encoded) body; the answer's status is returned, its body in *body. */
static unsigned call_path(fx *f, const char *path, const char *form, char **body)
{
        serve_kv *p = NULL;
        size_t n = 0;
        assert_int_equal(serve_form_parse(form, strlen(form), 4096, &p, &n), 0);
        serve_req r = { .method = "POST",
                        .path = path,
                        .raw_path = path,
                        .query = "",
                        .body = form,
                        .len = strlen(form),
                        .host = "127.0.0.1:9",
                        .principal = "AKIDTEST",
                        .request_id = "11111111-2222-3333-4444-555555555555" };
        serve_resp w = { 0 };
        sqs_query_handle(f->q, &r, p, n, &w);
        serve_kvs_free(p, n);
        unsigned st = w.status;
        assert_non_null(w.body);
        *body = xstrndup(w.body, w.len);
        bool ct = false;
        for (size_t i = 0; i < w.n_headers; i++)
                if (strcmp(w.headers[i].name, "Content-Type") == 0 &&
                    strcmp(w.headers[i].value, "text/xml") == 0)
                        ct = true;
        assert_true(ct);
        serve_resp_free(&w);
        return st;
}

static unsigned call(fx *f, const char *form, char **body)
{
        return call_path(f, "/", form, body);
}

/* Text of the first <tag> after from (entities &amp; &lt; &gt; &quot; &apos; &#xD; decoded);
 * NULL when absent. */
static char *xget(const char *from, const char *tag)
{
        _cleanup_free_ char *open = xasprintf("<%s>", tag), *close = xasprintf("</%s>", tag);
        const char *a = strstr(from, open);
        if (!a)
                return NULL;
        a += strlen(open);
        const char *b = strstr(a, close);
        assert_non_null(b);
        char *o = xmalloc((size_t)(b - a) + 1), *p = o;
        while (a < b) {
                static const struct {
                        const char *e;
                        char c;
                } ent[] = { { "&amp;", '&' }, { "&lt;", '<' },   { "&gt;", '>' },
                            { "&quot;", '"' }, { "&apos;", '\'' }, { "&#xD;", '\r' } };
                bool done = false;
                for (size_t i = 0; i < ARRAY_SIZE(ent) && !done; i++)
                        if (strncmp(a, ent[i].e, strlen(ent[i].e)) == 0) {
                                *p++ = ent[i].c;
                                a += strlen(ent[i].e);
                                done = true;
                        }
                if (!done)
                        *p++ = *a++;
        }
        *p = '\0';
        return o;
}

static void expect_error(unsigned st, const char *body, unsigned want_st, const char *code)
{
        if (st != want_st || !strstr(body, code))
                fprintf(stderr, "got %u %s\n", st, body);
        assert_int_equal(st, want_st);
        assert_non_null(strstr(body, "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>"));
        _cleanup_free_ char *c = xget(body, "Code");
        assert_string_equal(c, code);
        assert_non_null(strstr(body, "<Detail/></Error><RequestId>11111111-2222-3333-4444-"
                                     "555555555555</RequestId></ErrorResponse>"));
}

static void expect_ok(unsigned st, const char *body, const char *action)
{
        if (st != 200 || getenv("SQSQ_DEBUG"))
                fprintf(stderr, "%s: got %u %s\n", action, st, body);
        assert_int_equal(st, 200);
        _cleanup_free_ char *head = xasprintf("<?xml version=\"1.0\"?><%sResponse " NS ">", action);
        _cleanup_free_ char *tail = xasprintf("<ResponseMetadata><RequestId>11111111-2222-3333-4444-"
                                              "555555555555</RequestId></ResponseMetadata></%sResponse>",
                                              action);
        assert_memory_equal(body, head, strlen(head));
        assert_string_equal(body + strlen(body) - strlen(tail), tail);
}

static void ok_call(fx *f, const char *action, const char *form, char **body)
{
        _cleanup_free_ char *full = xasprintf("Action=%s&Version=2012-11-05%s%s", action,
                                              *form ? "&" : "", form);
        unsigned st = call(f, full, body);
        expect_ok(st, *body, action);
}

static void err_call(fx *f, const char *form, unsigned st, const char *code)
{
        _cleanup_free_ char *body = NULL;
        unsigned got = call(f, form, &body);
        expect_error(got, body, st, code);
}

static void mkqueue(fx *f, const char *name, const char *attrs)
{
        _cleanup_free_ char *form = xasprintf("QueueName=%s%s", name, attrs), *b = NULL;
        ok_call(f, "CreateQueue", form, &b);
}

/* MD5 of message attributes as SQS defines it, computed here independently of the engine. */
static void put_len_bytes(EVP_MD_CTX *m, const void *d, size_t len)
{
        unsigned char be[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                                (unsigned char)(len >> 8), (unsigned char)len };
        EVP_DigestUpdate(m, be, 4);
        EVP_DigestUpdate(m, d, len);
}

/* attrs sorted by name: name, type, value (string or binary) triples */
static void md5_attrs(const char *const *a, const size_t *binlen, size_t n, char out[33])
{
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        EVP_DigestInit_ex(m, EVP_md5(), NULL);
        for (size_t i = 0; i < n; i++) {
                put_len_bytes(m, a[3 * i], strlen(a[3 * i]));
                put_len_bytes(m, a[3 * i + 1], strlen(a[3 * i + 1]));
                unsigned char t = binlen[i] ? 2 : 1;
                EVP_DigestUpdate(m, &t, 1);
                put_len_bytes(m, a[3 * i + 2], binlen[i] ? binlen[i] : strlen(a[3 * i + 2]));
        }
        unsigned char d[16];
        unsigned dl = 0;
        EVP_DigestFinal_ex(m, d, &dl);
        EVP_MD_CTX_free(m);
        for (int i = 0; i < 16; i++)
                snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- tests ---- */

static void test_action(void **state)
{
        fx *f = *state;
        err_call(f, "Version=2012-11-05", 400, "MissingAction");
        err_call(f, "Action=DropTables", 400, "InvalidAction");
        err_call(f, "Action=AddPermission&Label=x", 400, "AWS.SimpleQueueService.UnsupportedOperation");
        err_call(f, "Action=ListQueues&Action=DeleteQueue", 400, "InvalidParameterValue");
        err_call(f, "Action=CreateQueue", 400, "MissingParameter");
        err_call(f, "Action=SendMessage&MessageBody=x", 400, "MissingParameter");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "x&MessageBody=", 400, "MissingParameter");
}

static void test_queues(void **state)
{
        fx *f = *state;
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL, *b5 = NULL;
        ok_call(f, "CreateQueue",
                "QueueName=alpha&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=5"
                "&Tag.1.Key=team&Tag.1.Value=a%26b",
                &b1);
        assert_non_null(strstr(b1, "<CreateQueueResult><QueueUrl>" URL "alpha</QueueUrl>"
                                   "</CreateQueueResult>"));
        mkqueue(f, "alpine", "");
        mkqueue(f, "beta", "");
        /* the same attributes: success; others: QueueAlreadyExists */
        mkqueue(f, "alpha", "&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=5");
        err_call(f, "Action=CreateQueue&QueueName=alpha&Attribute.1.Name=VisibilityTimeout&"
                    "Attribute.1.Value=6",
                 400, "QueueAlreadyExists");
        /* attribute maps: both halves, no repeats, bounded index */
        err_call(f, "Action=CreateQueue&QueueName=x&Attribute.1.Name=DelaySeconds", 400,
                 "MissingParameter");
        err_call(f, "Action=CreateQueue&QueueName=x&Attribute.1.Name=DelaySeconds&Attribute.1.Value=1"
                    "&Attribute.1.Value=2",
                 400, "InvalidParameterValue");
        err_call(f, "Action=CreateQueue&QueueName=x&Attribute.99999999.Name=DelaySeconds", 400,
                 "InvalidParameterValue");
        err_call(f, "Action=CreateQueue&QueueName=..%2Fetc", 400, "InvalidParameterValue");

        ok_call(f, "GetQueueUrl", "QueueName=beta", &b2);
        _cleanup_free_ char *u = xget(b2, "QueueUrl");
        assert_string_equal(u, URL "beta");
        err_call(f, "Action=GetQueueUrl&QueueName=gamma", 400, "AWS.SimpleQueueService.NonExistentQueue");
        err_call(f, "Action=GetQueueUrl&QueueName=..%2Fbeta", 400,
                 "AWS.SimpleQueueService.NonExistentQueue");

        ok_call(f, "ListQueues", "QueueNamePrefix=al", &b3);
        assert_non_null(strstr(b3, "<ListQueuesResult><QueueUrl>" URL "alpha</QueueUrl><QueueUrl>" URL
                                   "alpine</QueueUrl></ListQueuesResult>"));
        ok_call(f, "ListQueues", "MaxResults=2", &b4);
        _cleanup_free_ char *tok = xget(b4, "NextToken");
        assert_non_null(tok);
        _cleanup_free_ char *tenc = serve_url_encode(tok, strlen(tok), false);
        _cleanup_free_ char *form = xasprintf("MaxResults=2&NextToken=%s", tenc);
        ok_call(f, "ListQueues", form, &b5);
        assert_non_null(strstr(b5, "<QueueUrl>" URL "beta</QueueUrl>"));
        assert_null(strstr(b5, "alpha"));
        err_call(f, "Action=ListQueues&MaxResults=0", 400, "InvalidParameterValue");
        err_call(f, "Action=ListQueues&MaxResults=1001", 400, "InvalidParameterValue");
        err_call(f, "Action=ListQueues&MaxResults=%2B5", 400, "InvalidParameterValue");

        _cleanup_free_ char *b6 = NULL, *b7 = NULL;
        ok_call(f, "DeleteQueue", "QueueUrl=" URL "alpine", &b6);
        assert_non_null(strstr(b6, "<DeleteQueueResponse " NS "><ResponseMetadata>"));
        err_call(f, "Action=GetQueueUrl&QueueName=alpine", 400, "AWS.SimpleQueueService.NonExistentQueue");
        err_call(f, "Action=DeleteQueue", 400, "MissingParameter");
        /* the queue named by the path (clients that POST to the queue's URL) */
        unsigned st = call_path(f, "/000000000000/beta", "Action=GetQueueAttributes&AttributeName.1=QueueArn",
                                &b7);
        expect_ok(st, b7, "GetQueueAttributes");
        assert_non_null(strstr(b7, "<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:"
                                   "000000000000:beta</Value></Attribute>"));
        _cleanup_free_ char *b8 = NULL;
        st = call_path(f, "/000000000000/nope", "Action=PurgeQueue", &b8);
        expect_error(st, b8, 400, "AWS.SimpleQueueService.NonExistentQueue");
        _cleanup_free_ char *b9 = NULL;
        st = call_path(f, "/999999999999/beta", "Action=PurgeQueue", &b9);
        assert_int_equal(st, 400);
}

static void test_attributes(void **state)
{
        fx *f = *state;
        mkqueue(f, "attrs", "");
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
        ok_call(f, "SetQueueAttributes",
                "QueueUrl=" URL "attrs&Attribute.1.Name=DelaySeconds&Attribute.1.Value=3"
                "&Attribute.2.Name=MaximumMessageSize&Attribute.2.Value=2048",
                &b1);
        ok_call(f, "GetQueueAttributes",
                "QueueUrl=" URL "attrs&AttributeName.1=DelaySeconds&AttributeName.2=MaximumMessageSize",
                &b2);
        assert_non_null(strstr(b2, "<GetQueueAttributesResult><Attribute><Name>"));
        assert_non_null(strstr(b2, "<Attribute><Name>DelaySeconds</Name><Value>3</Value></Attribute>"));
        assert_non_null(strstr(b2, "<Attribute><Name>MaximumMessageSize</Name><Value>2048</Value>"
                                   "</Attribute>"));
        assert_int_equal(strstr(b2, "</GetQueueAttributesResult>") - strstr(b2, "<GetQueueAttributesResult>"),
                         strlen("<GetQueueAttributesResult>") + 2 * strlen("<Attribute><Name></Name><Value>"
                                                                           "</Value></Attribute>") +
                                 strlen("DelaySeconds3MaximumMessageSize2048"));
        ok_call(f, "GetQueueAttributes", "QueueUrl=" URL "attrs&AttributeName.1=All", &b3);
        assert_non_null(strstr(b3, "<Name>ApproximateNumberOfMessages</Name><Value>0</Value>"));
        assert_non_null(strstr(b3, "<Name>VisibilityTimeout</Name><Value>30</Value>"));
        err_call(f, "Action=SetQueueAttributes&QueueUrl=" URL "attrs&Attribute.1.Name=QueueArn&"
                    "Attribute.1.Value=x",
                 400, "InvalidAttributeName");
        err_call(f, "Action=SetQueueAttributes&QueueUrl=" URL "attrs", 400, "MissingParameter");
        err_call(f, "Action=GetQueueAttributes&QueueUrl=" URL "attrs&AttributeName.1=Bogus", 400,
                 "InvalidAttributeName");
}

static void test_send_receive(void **state)
{
        fx *f = *state;
        mkqueue(f, "msgs", "");
        _cleanup_free_ char *b1 = NULL;
        /* "hello & <world>" with a String, a Number and a Binary (bytes 00 01 02 ff) attribute */
        ok_call(f, "SendMessage",
                "QueueUrl=" URL "msgs&MessageBody=hello+%26+%3Cworld%3E"
                "&MessageAttribute.1.Name=s.a&MessageAttribute.1.Value.DataType=String"
                "&MessageAttribute.1.Value.StringValue=v%C3%A9"
                "&MessageAttribute.2.Name=bin&MessageAttribute.2.Value.DataType=Binary"
                "&MessageAttribute.2.Value.BinaryValue=AAEC%2Fw%3D%3D"
                "&MessageAttribute.3.Name=n&MessageAttribute.3.Value.DataType=Number"
                "&MessageAttribute.3.Value.StringValue=42",
                &b1);
        char want_all[33], want_s[33], want_body[33];
        {
                const char *a[] = { "bin", "Binary", "\x00\x01\x02\xff", "n", "Number", "42",
                                    "s.a", "String", "v\xc3\xa9" };
                size_t bl[] = { 4, 0, 0 };
                md5_attrs(a, bl, 3, want_all);
                md5_attrs(a + 6, bl + 2, 1, want_s);
                q_md5_body("hello & <world>", 15, want_body);
        }
        _cleanup_free_ char *md5b = xget(b1, "MD5OfMessageBody"), *md5a = xget(b1, "MD5OfMessageAttributes");
        _cleanup_free_ char *mid = xget(b1, "MessageId");
        assert_string_equal(md5b, want_body);
        assert_string_equal(want_body, "f83460ea789ae129081c4d9c5f8f440a");
        assert_string_equal(md5a, want_all);
        assert_int_equal(strlen(mid), 36);
        assert_non_null(strstr(b1, "<SendMessageResult><MessageId>"));

        /* everything asked for: all attributes, MD5 over all */
        _cleanup_free_ char *b2 = NULL;
        ok_call(f, "ReceiveMessage",
                "QueueUrl=" URL "msgs&AttributeName.1=All&MessageAttributeName.1=All&VisibilityTimeout=5",
                &b2);
        assert_non_null(strstr(b2, "<ReceiveMessageResult><Message><MessageId>"));
        _cleanup_free_ char *body = xget(b2, "Body"), *rm5 = xget(b2, "MD5OfMessageAttributes");
        _cleanup_free_ char *rmb = xget(b2, "MD5OfBody"), *rh = xget(b2, "ReceiptHandle");
        assert_string_equal(body, "hello & <world>");
        assert_string_equal(rmb, want_body);
        assert_string_equal(rm5, want_all);
        assert_non_null(strstr(b2, "<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value>"
                                   "</Attribute>"));
        assert_non_null(strstr(b2, "<Attribute><Name>SenderId</Name><Value>AKIDTEST</Value></Attribute>"));
        assert_non_null(strstr(b2, "<MessageAttribute><Name>bin</Name><Value><BinaryValue>AAEC/w==</BinaryValue>"
                                   "<DataType>Binary</DataType></Value></MessageAttribute>"));
        assert_non_null(strstr(b2, "<MessageAttribute><Name>s.a</Name><Value><StringValue>v\xc3\xa9"
                                   "</StringValue><DataType>String</DataType></Value></MessageAttribute>"));
        /* invisible now */
        _cleanup_free_ char *b3 = NULL;
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "msgs&WaitTimeSeconds=0", &b3);
        assert_non_null(strstr(b3, "<ReceiveMessageResult></ReceiveMessageResult>"));
        /* back after its visibility timeout (the clock moves): only s* asked for, MD5 over those;
         * no system attributes asked for */
        clock_ms += 6000;
        _cleanup_free_ char *b4 = NULL;
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "msgs&MessageAttributeName.1=s.*&WaitTimeSeconds=0",
                &b4);
        _cleanup_free_ char *rm5b = xget(b4, "MD5OfMessageAttributes"), *rh2 = xget(b4, "ReceiptHandle");
        assert_string_equal(rm5b, want_s);
        assert_null(strstr(b4, "<Name>bin</Name>"));
        assert_null(strstr(b4, "<Attribute>"));
        assert_string_not_equal(rh, rh2);
        /* none asked for: no attributes and no MD5 of them */
        clock_ms += 31000;
        _cleanup_free_ char *b5 = NULL;
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "msgs&AttributeName.1=ApproximateReceiveCount", &b5);
        assert_null(strstr(b5, "MessageAttribute"));
        assert_non_null(strstr(b5, "<Attribute><Name>ApproximateReceiveCount</Name><Value>3</Value>"
                                   "</Attribute>"));
        _cleanup_free_ char *rh3 = xget(b5, "ReceiptHandle");
        _cleanup_free_ char *rh3e = serve_url_encode(rh3, strlen(rh3), false);
        _cleanup_free_ char *cv = xasprintf("QueueUrl=" URL "msgs&ReceiptHandle=%s&VisibilityTimeout=0", rh3e);
        _cleanup_free_ char *b6 = NULL, *b7 = NULL, *b8 = NULL;
        ok_call(f, "ChangeMessageVisibility", cv, &b6);
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "msgs", &b7);
        _cleanup_free_ char *rh4 = xget(b7, "ReceiptHandle");
        assert_non_null(rh4);
        _cleanup_free_ char *rh4e = serve_url_encode(rh4, strlen(rh4), false);
        _cleanup_free_ char *dm = xasprintf("QueueUrl=" URL "msgs&ReceiptHandle=%s", rh4e);
        ok_call(f, "DeleteMessage", dm, &b8);
        assert_non_null(strstr(b8, "<DeleteMessageResponse " NS "><ResponseMetadata>"));

        /* bad input */
        err_call(f, "Action=DeleteMessage&QueueUrl=" URL "msgs&ReceiptHandle=garbage", 400,
                 "ReceiptHandleIsInvalid");
        err_call(f, "Action=DeleteMessage&QueueUrl=" URL "msgs", 400, "MissingParameter");
        err_call(f, "Action=ReceiveMessage&QueueUrl=" URL "msgs&MaxNumberOfMessages=11", 400,
                 "InvalidParameterValue");
        err_call(f, "Action=ReceiveMessage&QueueUrl=" URL "msgs&WaitTimeSeconds=21", 400,
                 "InvalidParameterValue");
        err_call(f, "Action=ReceiveMessage&QueueUrl=" URL "msgs&VisibilityTimeout=-1", 400,
                 "InvalidParameterValue");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "msgs&MessageBody=x&DelaySeconds=901", 400,
                 "InvalidParameterValue");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "msgs&MessageBody=x&MessageAttribute.1.Name=b"
                    "&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=%21%21",
                 400, "InvalidParameterValue");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "msgs&MessageBody=x&MessageAttribute.1.Name=b",
                 400, "MissingParameter");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "msgs&MessageBody=x&MessageAttribute.11.Name=b"
                    "&MessageAttribute.11.Value.DataType=String&MessageAttribute.11.Value.StringValue=1",
                 400, "InvalidParameterValue");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "msgs&MessageBody=%EF%BF%BF", 400,
                 "InvalidMessageContents");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "msgs&MessageBody=%01", 400, "InvalidMessageContents");
        err_call(f, "Action=SendMessage&QueueUrl=" URL "nope&MessageBody=x", 400,
                 "AWS.SimpleQueueService.NonExistentQueue");
        err_call(f, "Action=ChangeMessageVisibility&QueueUrl=" URL "msgs&ReceiptHandle=x", 400,
                 "MissingParameter");
}

static void test_batches(void **state)
{
        fx *f = *state;
        mkqueue(f, "batch", "");
        _cleanup_free_ char *b1 = NULL;
        ok_call(f, "SendMessageBatch",
                "QueueUrl=" URL "batch"
                "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one"
                "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two"
                "&SendMessageBatchRequestEntry.2.MessageAttribute.1.Name=k"
                "&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType=Binary"
                "&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.BinaryValue=not-base64"
                "&SendMessageBatchRequestEntry.3.Id=c&SendMessageBatchRequestEntry.3.MessageBody=three"
                "&SendMessageBatchRequestEntry.3.DelaySeconds=0",
                &b1);
        assert_non_null(strstr(b1, "<SendMessageBatchResult><SendMessageBatchResultEntry><Id>a</Id><MessageId>"));
        assert_non_null(strstr(b1, "</SendMessageBatchResultEntry><SendMessageBatchResultEntry><Id>c</Id>"));
        assert_non_null(strstr(b1, "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>"
                                   "InvalidParameterValue</Code>"));
        char md5one[33];
        q_md5_body("one", 3, md5one);
        assert_non_null(strstr(b1, md5one));

        const char *E = "SendMessageBatchRequestEntry";
        /* 11 entries; an absurd index; repeated ids; a bad id; none */
        char *big = xasprintf("Action=SendMessageBatch&QueueUrl=" URL "batch");
        for (int i = 1; i <= 11; i++) {
                char *n = xasprintf("%s&%s.%d.Id=e%d&%s.%d.MessageBody=x", big, E, i, i, E, i);
                free(big);
                big = n;
        }
        err_call(f, big, 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
        free(big);
        err_call(f, "Action=SendMessageBatch&QueueUrl=" URL "batch&SendMessageBatchRequestEntry.99999.Id=a"
                    "&SendMessageBatchRequestEntry.99999.MessageBody=x",
                 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
        err_call(f, "Action=SendMessageBatch&QueueUrl=" URL "batch&SendMessageBatchRequestEntry.1.Id=a"
                    "&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.2.Id=a"
                    "&SendMessageBatchRequestEntry.2.MessageBody=y",
                 400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct");
        err_call(f, "Action=SendMessageBatch&QueueUrl=" URL "batch&SendMessageBatchRequestEntry.1.Id=a.b"
                    "&SendMessageBatchRequestEntry.1.MessageBody=x",
                 400, "AWS.SimpleQueueService.InvalidBatchEntryId");
        err_call(f, "Action=SendMessageBatch&QueueUrl=" URL "batch&Entries=", 400,
                 "AWS.SimpleQueueService.EmptyBatchRequest");
        err_call(f, "Action=SendMessageBatch&QueueUrl=" URL "batch&SendMessageBatchRequestEntry.1.Id=a"
                    "&SendMessageBatchRequestEntry.1.Id=b&SendMessageBatchRequestEntry.1.MessageBody=x",
                 400, "InvalidParameterValue");
        err_call(f, "Action=SendMessageBatch&QueueUrl=" URL "batch&SendMessageBatchRequestEntry.01.Id=a"
                    "&SendMessageBatchRequestEntry.01.MessageBody=x",
                 400, "InvalidParameterValue");
        err_call(f, "Action=SendMessageBatch&QueueUrl=" URL "batch&SendMessageBatchRequestEntry.1.MessageBody=x",
                 400, "MissingParameter");

        /* receive both, delete one plus a garbage handle, change the other's visibility */
        _cleanup_free_ char *b2 = NULL;
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "batch&MaxNumberOfMessages=10", &b2);
        _cleanup_free_ char *rh1 = xget(b2, "ReceiptHandle");
        const char *second = strstr(b2, "</Message><Message>");
        assert_non_null(second);
        _cleanup_free_ char *rh2 = xget(second, "ReceiptHandle");
        _cleanup_free_ char *e1 = serve_url_encode(rh1, strlen(rh1), false);
        _cleanup_free_ char *e2 = serve_url_encode(rh2, strlen(rh2), false);
        _cleanup_free_ char *form = xasprintf(
                "QueueUrl=" URL "batch&DeleteMessageBatchRequestEntry.1.Id=x1"
                "&DeleteMessageBatchRequestEntry.1.ReceiptHandle=%s"
                "&DeleteMessageBatchRequestEntry.2.Id=x2&DeleteMessageBatchRequestEntry.2.ReceiptHandle=zzz",
                e1);
        _cleanup_free_ char *b3 = NULL;
        ok_call(f, "DeleteMessageBatch", form, &b3);
        assert_non_null(strstr(b3, "<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>x1</Id>"
                                   "</DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>x2</Id>"
                                   "<SenderFault>true</SenderFault><Code>ReceiptHandleIsInvalid</Code>"));
        _cleanup_free_ char *form2 = xasprintf(
                "QueueUrl=" URL "batch&ChangeMessageVisibilityBatchRequestEntry.1.Id=v1"
                "&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=%s"
                "&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=0"
                "&ChangeMessageVisibilityBatchRequestEntry.2.Id=v2"
                "&ChangeMessageVisibilityBatchRequestEntry.2.ReceiptHandle=%s"
                "&ChangeMessageVisibilityBatchRequestEntry.2.VisibilityTimeout=99999"
                "&ChangeMessageVisibilityBatchRequestEntry.3.Id=v3"
                "&ChangeMessageVisibilityBatchRequestEntry.3.ReceiptHandle=%s",
                e2, e2, e2);
        _cleanup_free_ char *b4 = NULL;
        ok_call(f, "ChangeMessageVisibilityBatch", form2, &b4);
        assert_non_null(strstr(b4, "<ChangeMessageVisibilityBatchResult><ChangeMessageVisibilityBatchResultEntry>"
                                   "<Id>v1</Id></ChangeMessageVisibilityBatchResultEntry><BatchResultErrorEntry>"
                                   "<Id>v2</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code>"));
        assert_non_null(strstr(b4, "<BatchResultErrorEntry><Id>v3</Id><SenderFault>true</SenderFault>"
                                   "<Code>MissingParameter</Code>"));
        err_call(f, "Action=DeleteMessageBatch&QueueUrl=" URL "batch&DeleteMessageBatchRequestEntry.11.Id=a"
                    "&DeleteMessageBatchRequestEntry.11.ReceiptHandle=x",
                 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
        err_call(f, "Action=ChangeMessageVisibilityBatch&QueueUrl=" URL "batch", 400,
                 "AWS.SimpleQueueService.EmptyBatchRequest");
}

static void test_tags_purge_dlq(void **state)
{
        fx *f = *state;
        mkqueue(f, "tagged", "&Tag.1.Key=a&Tag.1.Value=1");
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL;
        ok_call(f, "TagQueue", "QueueUrl=" URL "tagged&Tag.1.Key=b&Tag.1.Value=2&Tag.2.Key=c&Tag.2.Value=", &b1);
        ok_call(f, "UntagQueue", "QueueUrl=" URL "tagged&TagKey.1=a", &b2);
        ok_call(f, "ListQueueTags", "QueueUrl=" URL "tagged", &b3);
        assert_non_null(strstr(b3, "<Tag><Key>b</Key><Value>2</Value></Tag>"));
        assert_non_null(strstr(b3, "<Tag><Key>c</Key><Value></Value></Tag>"));
        assert_null(strstr(b3, "<Key>a</Key>"));
        err_call(f, "Action=UntagQueue&QueueUrl=" URL "tagged", 400, "MissingParameter");
        err_call(f, "Action=TagQueue&QueueUrl=" URL "tagged&Tag.51.Key=a&Tag.51.Value=b", 400,
                 "InvalidParameterValue");

        ok_call(f, "PurgeQueue", "QueueUrl=" URL "tagged", &b4);
        err_call(f, "Action=PurgeQueue&QueueUrl=" URL "tagged", 403,
                 "AWS.SimpleQueueService.PurgeQueueInProgress");

        mkqueue(f, "dead", "");
        mkqueue(f, "src1", "&Attribute.1.Name=RedrivePolicy&Attribute.1.Value=%7B%22deadLetterTargetArn%22%3A%22"
                           "arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Adead%22%2C%22maxReceiveCount%22%3A%221%22%7D");
        _cleanup_free_ char *b5 = NULL, *b6 = NULL, *b7 = NULL;
        ok_call(f, "ListDeadLetterSourceQueues", "QueueUrl=" URL "dead", &b5);
        assert_non_null(strstr(b5, "<ListDeadLetterSourceQueuesResult><QueueUrl>" URL "src1</QueueUrl>"
                                   "</ListDeadLetterSourceQueuesResult>"));
        ok_call(f, "StartMessageMoveTask", "SourceArn=arn:aws:sqs:us-east-1:000000000000:dead", &b6);
        _cleanup_free_ char *h = xget(b6, "TaskHandle");
        assert_non_null(h);
        ok_call(f, "ListMessageMoveTasks", "SourceArn=arn:aws:sqs:us-east-1:000000000000:dead&MaxResults=10",
                &b7);
        assert_non_null(strstr(b7, "<ListMessageMoveTasksResult><ListMessageMoveTasksResultEntry>"));
        assert_non_null(strstr(b7, "<SourceArn>arn:aws:sqs:us-east-1:000000000000:dead</SourceArn>"));
        err_call(f, "Action=StartMessageMoveTask&SourceArn=arn:aws:sqs:eu-west-1:000000000000:dead", 400,
                 "ResourceNotFoundException");
        err_call(f, "Action=StartMessageMoveTask&SourceArn=dead", 400, "InvalidParameterValue");
        err_call(f, "Action=StartMessageMoveTask", 400, "MissingParameter");
        err_call(f, "Action=CancelMessageMoveTask", 400, "MissingParameter");
        err_call(f, "Action=CancelMessageMoveTask&TaskHandle=no-such-task", 400, "ResourceNotFoundException");
}

/* FIFO through the adapter: group id, dedup id, sequence numbers, ReceiveRequestAttemptId. */
static void test_fifo(void **state)
{
        fx *f = *state;
        mkqueue(f, "f.fifo", "&Attribute.1.Name=FifoQueue&Attribute.1.Value=true");
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL, *b5 = NULL;
        ok_call(f, "SendMessageBatch",
                "QueueUrl=" URL "f.fifo"
                "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one"
                "&SendMessageBatchRequestEntry.1.MessageGroupId=g"
                "&SendMessageBatchRequestEntry.1.MessageDeduplicationId=d1"
                "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two"
                "&SendMessageBatchRequestEntry.2.MessageGroupId=g"
                "&SendMessageBatchRequestEntry.2.MessageDeduplicationId=d2",
                &b1);
        _cleanup_free_ char *seq = xget(b1, "SequenceNumber");
        assert_non_null(seq);
        assert_int_equal(strlen(seq), 20);
        err_call(f, "Action=SendMessage&QueueUrl=" URL "f.fifo&MessageBody=x&MessageDeduplicationId=z",
                 400, "MissingParameter");
        ok_call(f, "ReceiveMessage",
                "QueueUrl=" URL "f.fifo&ReceiveRequestAttemptId=try1&AttributeName.1=All", &b2);
        _cleanup_free_ char *body = xget(b2, "Body"), *rh = xget(b2, "ReceiptHandle");
        assert_string_equal(body, "one");
        assert_non_null(strstr(b2, "<Attribute><Name>MessageGroupId</Name><Value>g</Value></Attribute>"));
        assert_non_null(strstr(b2, "<Attribute><Name>MessageDeduplicationId</Name><Value>d1</Value>"));
        _cleanup_free_ char *want = xasprintf("<Attribute><Name>SequenceNumber</Name><Value>%s</Value>", seq);
        assert_non_null(strstr(b2, want));
        /* the same attempt again: the same message and handle; another attempt: nothing (the
         * group is in flight) */
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "f.fifo&ReceiveRequestAttemptId=try1", &b3);
        _cleanup_free_ char *rh2 = xget(b3, "ReceiptHandle");
        assert_non_null(rh2);
        assert_string_equal(rh, rh2);
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "f.fifo&ReceiveRequestAttemptId=try2", &b4);
        assert_null(strstr(b4, "<Message>"));
        _cleanup_free_ char *rhe = serve_url_encode(rh, strlen(rh), false);
        _cleanup_free_ char *form = xasprintf("QueueUrl=" URL "f.fifo&ReceiptHandle=%s", rhe);
        ok_call(f, "DeleteMessage", form, &b5);
        _cleanup_free_ char *b6 = NULL;
        ok_call(f, "ReceiveMessage", "QueueUrl=" URL "f.fifo&ReceiveRequestAttemptId=try3", &b6);
        _cleanup_free_ char *body2 = xget(b6, "Body");
        assert_string_equal(body2, "two");
}

/* 10,000 entries handed over as pairs (the front door's own bound is lower): refused at once,
 * nothing sent. */
static void test_huge_batch(void **state)
{
        fx *f = *state;
        mkqueue(f, "huge", "");
        size_t n = 2 + 2 * 10000, k = 0;
        serve_kv *p = xcalloc(n, sizeof(*p));
        p[k].name = xstrdup("Action");
        p[k++].value = xstrdup("SendMessageBatch");
        p[k].name = xstrdup("QueueUrl");
        p[k++].value = xstrdup(URL "huge");
        for (int i = 1; i <= 10000; i++) { /* refused at the 11th index */
                p[k].name = xasprintf("SendMessageBatchRequestEntry.%d.Id", i);
                p[k++].value = xasprintf("e%d", i);
                p[k].name = xasprintf("SendMessageBatchRequestEntry.%d.MessageBody", i);
                p[k++].value = xstrdup("x");
        }
        serve_req r = { .method = "POST", .path = "/", .raw_path = "/", .query = "", .body = "",
                        .host = "127.0.0.1:9", .principal = "AKIDTEST",
                        .request_id = "11111111-2222-3333-4444-555555555555" };
        serve_resp w = { 0 };
        uint64_t t0 = now_ns();
        sqs_query_handle(f->q, &r, p, n, &w);
        uint64_t dt = now_ns() - t0;
        _cleanup_free_ char *b = xstrndup(w.body, w.len);
        expect_error(w.status, b, 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
        assert_true(dt < 200ull * 1000 * 1000); /* one pass over the pairs */
        serve_resp_free(&w);
        serve_kvs_free(p, n);
        _cleanup_free_ char *b2 = NULL;
        ok_call(f, "GetQueueAttributes", "QueueUrl=" URL "huge&AttributeName.1=ApproximateNumberOfMessages",
                &b2);
        assert_non_null(strstr(b2, "<Value>0</Value>"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_action, setup, teardown),
                cmocka_unit_test_setup_teardown(test_queues, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_send_receive, setup, teardown),
                cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tags_purge_dlq, setup, teardown),
                cmocka_unit_test_setup_teardown(test_huge_batch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
