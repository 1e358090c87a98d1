/* SPDX-License-Identifier: Apache-2.0 */
/* `husk queue ...`: queues for people without the AWS CLI, over the running server's SQS JSON
 * protocol (signed with the store's keys, or $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY). The
 * wire stays here; what a queue does is the server's engine's business. */
#include "qcli.h"
#include "cliclient.h"
#include "statcli.h"
#include "queue/queue.h"
#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENDPOINT_OPTS                                                                              \
        "  --endpoint ADDR:PORT|SOCKET        the server (default: the one serving STORE)\n"        \
        "  --region REGION                    region to sign for (default: the server's)\n"         \
        "  --store DIR                        the store (default /var/lib/husk)\n"

static const char usage_text[] =
        "Usage: husk queue COMMAND [options]\n\n"
        "SQS queues of the running `husk serve` (its SQS API, the same the AWS CLI uses).\n\n"
        "Commands:\n"
        "  create NAME [--attr NAME=VALUE]... [--tag KEY=VALUE]...   (NAME.fifo: a FIFO queue)\n"
        "  ls [--prefix PREFIX]               names, message counts and URLs\n"
        "  inspect NAME                       attributes and tags, as JSON\n"
        "  rm NAME                            delete the queue and its messages\n"
        "  purge NAME                         delete every message\n"
        "  send NAME BODY|@FILE [--group ID] [--dedup ID] [--delay SECONDS] [--attr NAME=VALUE]...\n"
        "  receive NAME [--max N] [--wait SECONDS] [--visibility SECONDS] [--delete]\n"
        "                                     one JSON object per message\n"
        "  delete NAME RECEIPT_HANDLE\n"
        "  redrive DLQ [--to QUEUE] [--rate N]  move a dead-letter queue's messages back\n"
        "  stats [NAME] [--format table|json] sent, received, deleted, visible, in flight,\n"
        "                                     delayed, oldest age (the server's /metrics)\n\n"
        "Options:\n" ENDPOINT_OPTS;

/* `husk queue COMMAND --help`: that command's own usage. */
static const struct {
        const char *name, *text;
} cmd_help[] = {
        { "create", "Usage: husk queue create NAME [--attr NAME=VALUE]... [--tag KEY=VALUE]...\n\n"
                    "Create a queue (a NAME ending in .fifo: a FIFO queue) and print its URL. The\n"
                    "attributes are SQS's (VisibilityTimeout, DelaySeconds, MessageRetentionPeriod,\n"
                    "MaximumMessageSize, ReceiveMessageWaitTimeSeconds, RedrivePolicy, ...).\n\n"
                    "Options:\n  --attr NAME=VALUE                  a queue attribute\n"
                    "  --tag KEY=VALUE                    a tag\n" ENDPOINT_OPTS },
        { "ls", "Usage: husk queue ls [--prefix PREFIX]\n\n"
                "List the queues with their visible, in-flight and delayed message counts.\n\n"
                "Options:\n  --prefix PREFIX                    only names that start with it\n" ENDPOINT_OPTS },
        { "inspect", "Usage: husk queue inspect NAME\n\n"
                     "Print the queue's URL, attributes and tags as JSON.\n\nOptions:\n" ENDPOINT_OPTS },
        { "rm", "Usage: husk queue rm NAME\n\nDelete the queue and its messages.\n\nOptions:\n" ENDPOINT_OPTS },
        { "purge", "Usage: husk queue purge NAME\n\n"
                   "Delete every message of the queue (once per 60 seconds, as SQS).\n\nOptions:\n" ENDPOINT_OPTS },
        { "send", "Usage: husk queue send NAME BODY|@FILE [options]\n\n"
                  "Send one message and print its MessageId.\n\nOptions:\n"
                  "  --group ID                         MessageGroupId (FIFO queues)\n"
                  "  --dedup ID                         MessageDeduplicationId (FIFO queues)\n"
                  "  --delay SECONDS                    DelaySeconds, 0 .. 900\n"
                  "  --attr NAME=VALUE                  a String message attribute\n" ENDPOINT_OPTS },
        { "receive", "Usage: husk queue receive NAME [options]\n\n"
                     "Receive messages and print one JSON object per message (MessageId,\n"
                     "ReceiptHandle, Body, Attributes, MessageAttributes).\n\nOptions:\n"
                     "  --max N                            up to N messages, 1 .. 10 (default 1)\n"
                     "  --wait SECONDS                     long poll, 0 .. 20\n"
                     "  --visibility SECONDS               the visibility timeout of this receive\n"
                     "  --delete                           delete each message once printed\n" ENDPOINT_OPTS },
        { "delete", "Usage: husk queue delete NAME RECEIPT_HANDLE\n\n"
                    "Delete a received message.\n\nOptions:\n" ENDPOINT_OPTS },
        { "redrive", "Usage: husk queue redrive DLQ [--to QUEUE] [--rate N]\n\n"
                     "Move the messages of a dead-letter queue back to the queues they came from\n"
                     "(or to QUEUE); prints the task handle (StartMessageMoveTask).\n\nOptions:\n"
                     "  --to QUEUE                         the destination\n"
                     "  --rate N                           at most N messages per second, 1 .. 500\n" ENDPOINT_OPTS },
        { "stats", "Usage: husk queue stats [NAME] [--format table|json]\n\n"
                   "The queue's (or every queue's) figures from the server's /metrics: messages\n"
                   "sent, received and deleted, and visible, in flight, delayed, the oldest's age.\n\n"
                   "Options:\n  --format table|json                the layout (default table)\n" ENDPOINT_OPTS },
};

#define PROG "husk queue"
#define fail(...) cliclient_fail(PROG, __VA_ARGS__)

#define MAX_POS 4
#define MAX_KV 64

typedef struct qargs {
        const char *store, *endpoint, *region, *prefix, *group, *dedup, *delay, *max, *wait,
                *visibility, *to, *rate, *format;
        const char *attrs[MAX_KV], *tags[MAX_KV];
        size_t n_attrs, n_tags;
        bool del, help;
        const char *pos[MAX_POS];
        int npos;
} qargs;

static const cliclient_opt str_opts[] = {
        { "store", offsetof(qargs, store) },       { "endpoint", offsetof(qargs, endpoint) },
        { "region", offsetof(qargs, region) },     { "prefix", offsetof(qargs, prefix) },
        { "group", offsetof(qargs, group) },       { "dedup", offsetof(qargs, dedup) },
        { "delay", offsetof(qargs, delay) },       { "max", offsetof(qargs, max) },
        { "wait", offsetof(qargs, wait) },         { "visibility", offsetof(qargs, visibility) },
        { "to", offsetof(qargs, to) },             { "rate", offsetof(qargs, rate) },
        { "format", offsetof(qargs, format) },
};

static const cliclient_opt flags[] = { { "--delete", offsetof(qargs, del) } };

/* --attr NAME=VALUE and --tag KEY=VALUE, each up to MAX_KV times. */
static int kv_opt(void *args, const char *name, size_t len, const char *val)
{
        qargs *a = args;
        bool attr = len == 4 && strncmp(name, "attr", 4) == 0;
        if (!attr && !(len == 3 && strncmp(name, "tag", 3) == 0))
                return 0;
        size_t *n = attr ? &a->n_attrs : &a->n_tags;
        if (*n == MAX_KV)
                return -fail("more than %d --%s options", MAX_KV, attr ? "attr" : "tag");
        if (!strchr(val, '='))
                return -fail("--%s %s: use NAME=VALUE", attr ? "attr" : "tag", val);
        (attr ? a->attrs : a->tags)[(*n)++] = val;
        return 1;
}

static const cliclient_syntax syntax = {
        .prog = PROG, .help = PROG " --help", .values = str_opts, .n_values = ARRAY_SIZE(str_opts),
        .flags = flags, .n_flags = ARRAY_SIZE(flags), .help_off = offsetof(qargs, help),
        .pos_off = offsetof(qargs, pos), .npos_off = offsetof(qargs, npos), .max_pos = MAX_POS,
        .more = kv_opt,
};

/* SQS's error: {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": ...}. */
static char *sqs_error(const serve_answer *an, const json_value *v)
{
        (void)an;
        const char *type = json_get_str(v, "__type"), *msg = json_get_str(v, "message");
        const char *hash = type ? strrchr(type, '#') : NULL;
        return xasprintf("%s%s%s", hash ? hash + 1 : type ? type : "error", msg ? ": " : "",
                         msg ? msg : "");
}

static const cliclient_wire wire = { .hint = "", .strict = true, .error = sqs_error };

/* One SQS JSON call: op with the JSON body (taken); *ret gets the parsed answer. Non-zero:
 * printed. */
static int call(cliclient *c, const char *op, char *body, json_value **ret)
{
        _cleanup_free_ char *b = body;
        _cleanup_free_ char *target = xasprintf("AmazonSQS.%s", op);
        serve_kv h[] = { { (char *)"Content-Type", (char *)"application/x-amz-json-1.0" },
                         { (char *)"X-Amz-Target", target } };
        cliclient_req rq = { .service = "sqs", .method = "POST", .path = "/", .headers = h,
                             .n_headers = ARRAY_SIZE(h), .body = body, .op = op };
        return cliclient_call(c, &wire, &rq, ret);
}

/* The request in w (its object closed here) made as op; the answer's key printed on a line. */
static int call_print(cliclient *c, const char *op, json_writer *w, const char *key)
{
        json_obj_end(w);
        json_value *v = NULL;
        int r = call(c, op, json_writer_finish(w), &v);
        if (r)
                return r;
        printf("%s\n", json_get_str(v, key) ? json_get_str(v, key) : "");
        json_value_free(v);
        return 0;
}

/* {"QueueUrl": URL} of NAME, through GetQueueUrl. */
static int queue_url(cliclient *c, const char *name, char **ret)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "QueueName", name);
        json_obj_end(w);
        json_value *v = NULL;
        int r = call(c, "GetQueueUrl", json_writer_finish(w), &v);
        if (r)
                return r;
        const char *u = json_get_str(v, "QueueUrl");
        if (!u) {
                json_value_free(v);
                return fail("GetQueueUrl: no QueueUrl in the answer");
        }
        *ret = xstrdup(u);
        json_value_free(v);
        return 0;
}

/* Writes "key": {"k": "v", ...} from NAME=VALUE strings. */
static void kv_map(json_writer *w, const char *key, const char *const *kv, size_t n)
{
        if (!n)
                return;
        json_key(w, key);
        json_obj_begin(w);
        for (size_t i = 0; i < n; i++) {
                const char *eq = strchr(kv[i], '=');
                _cleanup_free_ char *k = xstrndup(kv[i], (size_t)(eq - kv[i]));
                json_kv_str(w, k, eq + 1);
        }
        json_obj_end(w);
}

/* "key": [name] */
static void one_name(json_writer *w, const char *key, const char *name)
{
        json_key(w, key);
        json_arr_begin(w);
        json_str(w, name);
        json_arr_end(w);
}

/* A request body that starts with NAME's QueueUrl (the object left open); *ret_url when asked. */
static int with_queue(cliclient *c, const char *name, json_writer **ret_w, char **ret_url)
{
        _cleanup_free_ char *url = NULL;
        int r = queue_url(c, name, &url);
        if (r)
                return r;
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "QueueUrl", url);
        *ret_w = w;
        if (ret_url)
                *ret_url = TAKE_PTR(url);
        return 0;
}

static int int_opt(const char *name, const char *v, long min, long max, long *ret)
{
        int64_t x;
        if (parse_int64(v, &x) < 0 || x < min || x > max)
                return fail("--%s %s: a whole number from %ld to %ld", name, v, min, max);
        *ret = (long)x;
        return 0;
}

static int cmd_create(cliclient *c, const qargs *a)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "QueueName", a->pos[1]);
        const char *fifo[] = { "FifoQueue=true" };
        size_t n = strlen(a->pos[1]);
        bool is_fifo = n > 5 && strcmp(a->pos[1] + n - 5, ".fifo") == 0;
        bool has_fifo_attr = false;
        for (size_t i = 0; i < a->n_attrs; i++)
                if (strncmp(a->attrs[i], "FifoQueue=", 10) == 0)
                        has_fifo_attr = true;
        if (is_fifo && !has_fifo_attr && a->n_attrs < MAX_KV) {
                const char *all[MAX_KV + 1];
                memcpy(all, a->attrs, a->n_attrs * sizeof(*all));
                all[a->n_attrs] = fifo[0];
                kv_map(w, "Attributes", all, a->n_attrs + 1);
        } else {
                kv_map(w, "Attributes", a->attrs, a->n_attrs);
        }
        kv_map(w, "tags", a->tags, a->n_tags);
        return call_print(c, "CreateQueue", w, "QueueUrl");
}

static const char *attr_of(const json_value *attrs, const char *name)
{
        const char *s = json_get_str(attrs, name);
        return s ? s : "-";
}

static int cmd_ls(cliclient *c, const qargs *a)
{
        char *token = NULL;
        bool header = false;
        do {
                json_writer *w = json_writer_new(false);
                json_obj_begin(w);
                if (a->prefix)
                        json_kv_str(w, "QueueNamePrefix", a->prefix);
                json_kv_int(w, "MaxResults", 1000);
                if (token)
                        json_kv_str(w, "NextToken", token);
                json_obj_end(w);
                free(token);
                token = NULL;
                json_value *v = NULL;
                int r = call(c, "ListQueues", json_writer_finish(w), &v);
                if (r)
                        return r;
                const json_value *urls = json_get(v, "QueueUrls");
                if (!header) {
                        printf("%-40s %9s %9s %9s  %s\n", "NAME", "VISIBLE", "IN FLIGHT", "DELAYED",
                               "URL");
                        header = true;
                }
                for (size_t i = 0; urls && urls->type == JSON_ARRAY && i < urls->n; i++) {
                        const char *u = urls->items[i]->str;
                        if (!u)
                                continue;
                        const char *slash = strrchr(u, '/');
                        json_writer *g = json_writer_new(false);
                        json_obj_begin(g);
                        json_kv_str(g, "QueueUrl", u);
                        json_key(g, "AttributeNames");
                        json_arr_begin(g);
                        json_str(g, "ApproximateNumberOfMessages");
                        json_str(g, "ApproximateNumberOfMessagesNotVisible");
                        json_str(g, "ApproximateNumberOfMessagesDelayed");
                        json_arr_end(g);
                        json_obj_end(g);
                        json_value *at = NULL;
                        if (call(c, "GetQueueAttributes", json_writer_finish(g), &at) != 0)
                                continue; /* deleted meanwhile */
                        const json_value *m = json_get(at, "Attributes");
                        printf("%-40s %9s %9s %9s  %s\n", slash ? slash + 1 : u,
                               attr_of(m, "ApproximateNumberOfMessages"),
                               attr_of(m, "ApproximateNumberOfMessagesNotVisible"),
                               attr_of(m, "ApproximateNumberOfMessagesDelayed"), u);
                        json_value_free(at);
                }
                const char *next = json_get_str(v, "NextToken");
                if (next)
                        token = xstrdup(next);
                json_value_free(v);
        } while (token);
        return 0;
}

static void print_obj(json_writer *w, const char *key, const json_value *obj)
{
        json_key(w, key);
        json_obj_begin(w);
        for (size_t i = 0; obj && obj->type == JSON_OBJECT && i < obj->n; i++)
                if (obj->items[i]->type == JSON_STRING)
                        json_kv_str(w, obj->keys[i], obj->items[i]->str);
        json_obj_end(w);
}

static int cmd_inspect(cliclient *c, const qargs *a)
{
        json_writer *w = NULL;
        _cleanup_free_ char *url = NULL;
        int r = with_queue(c, a->pos[1], &w, &url);
        if (r)
                return r;
        one_name(w, "AttributeNames", "All");
        json_obj_end(w);
        json_value *at = NULL, *tags = NULL;
        r = call(c, "GetQueueAttributes", json_writer_finish(w), &at);
        if (r)
                return r;
        json_writer *t = json_writer_new(false);
        json_obj_begin(t);
        json_kv_str(t, "QueueUrl", url);
        json_obj_end(t);
        r = call(c, "ListQueueTags", json_writer_finish(t), &tags);
        if (r) {
                json_value_free(at);
                return r;
        }
        json_writer *o = json_writer_new(true);
        json_obj_begin(o);
        json_kv_str(o, "Name", a->pos[1]);
        json_kv_str(o, "QueueUrl", url);
        print_obj(o, "Attributes", json_get(at, "Attributes"));
        print_obj(o, "Tags", json_get(tags, "Tags"));
        json_obj_end(o);
        _cleanup_free_ char *out = json_writer_finish(o);
        printf("%s\n", out);
        json_value_free(at);
        json_value_free(tags);
        return 0;
}

static int simple(cliclient *c, const qargs *a, const char *op)
{
        json_writer *w = NULL;
        int r = with_queue(c, a->pos[1], &w, NULL);
        if (r)
                return r;
        json_obj_end(w);
        return call(c, op, json_writer_finish(w), NULL);
}

static int cmd_send(cliclient *c, const qargs *a)
{
        if (a->npos != 3)
                return fail("send needs NAME and BODY (or @FILE)");
        _cleanup_free_ char *body = NULL;
        if (a->pos[2][0] == '@') {
                int r = read_file_at(AT_FDCWD, a->pos[2] + 1, Q_MESSAGE_MAX + 1, &body, NULL);
                if (r == -EFBIG || r == -E2BIG)
                        return fail("%s: larger than %u bytes, SQS's message bound", a->pos[2] + 1,
                                    Q_MESSAGE_MAX);
                if (r < 0)
                        return fail("%s: %s", a->pos[2] + 1, strerror(-r));
        } else {
                body = xstrdup(a->pos[2]);
        }
        json_writer *w = NULL;
        int r = with_queue(c, a->pos[1], &w, NULL);
        if (r)
                return r;
        json_kv_str(w, "MessageBody", body);
        if (a->group)
                json_kv_str(w, "MessageGroupId", a->group);
        if (a->dedup)
                json_kv_str(w, "MessageDeduplicationId", a->dedup);
        if (a->delay) {
                long d = 0;
                if (int_opt("delay", a->delay, 0, Q_DELAY_MAX, &d)) {
                        json_writer_free(w);
                        return 1;
                }
                json_kv_int(w, "DelaySeconds", d);
        }
        if (a->n_attrs) {
                json_key(w, "MessageAttributes");
                json_obj_begin(w);
                for (size_t i = 0; i < a->n_attrs; i++) {
                        const char *eq = strchr(a->attrs[i], '=');
                        _cleanup_free_ char *k = xstrndup(a->attrs[i], (size_t)(eq - a->attrs[i]));
                        json_key(w, k);
                        json_obj_begin(w);
                        json_kv_str(w, "DataType", "String");
                        json_kv_str(w, "StringValue", eq + 1);
                        json_obj_end(w);
                }
                json_obj_end(w);
        }
        return call_print(c, "SendMessage", w, "MessageId");
}

static int cmd_receive(cliclient *c, const qargs *a)
{
        long max = 1, wait = -1, vis = -1;
        if ((a->max && int_opt("max", a->max, 1, Q_RECEIVE_MAX, &max)) ||
            (a->wait && int_opt("wait", a->wait, 0, Q_WAIT_MAX, &wait)) ||
            (a->visibility && int_opt("visibility", a->visibility, 0, Q_VISIBILITY_MAX, &vis)))
                return 1;
        json_writer *w = NULL;
        _cleanup_free_ char *url = NULL;
        int r = with_queue(c, a->pos[1], &w, &url);
        if (r)
                return r;
        json_kv_int(w, "MaxNumberOfMessages", max);
        if (wait >= 0)
                json_kv_int(w, "WaitTimeSeconds", wait);
        if (vis >= 0)
                json_kv_int(w, "VisibilityTimeout", vis);
        one_name(w, "AttributeNames", "All");
        one_name(w, "MessageAttributeNames", "All");
        json_obj_end(w);
        json_value *v = NULL;
        r = call(c, "ReceiveMessage", json_writer_finish(w), &v);
        if (r)
                return r;
        const json_value *msgs = json_get(v, "Messages");
        for (size_t i = 0; msgs && msgs->type == JSON_ARRAY && i < msgs->n; i++) {
                const json_value *m = msgs->items[i];
                json_writer *o = json_writer_new(false);
                json_obj_begin(o);
                json_kv_str(o, "MessageId", json_get_str(m, "MessageId"));
                json_kv_str(o, "ReceiptHandle", json_get_str(m, "ReceiptHandle"));
                json_kv_str(o, "Body", json_get_str(m, "Body"));
                print_obj(o, "Attributes", json_get(m, "Attributes"));
                const json_value *ma = json_get(m, "MessageAttributes");
                json_key(o, "MessageAttributes");
                json_obj_begin(o);
                for (size_t k = 0; ma && ma->type == JSON_OBJECT && k < ma->n; k++) {
                        const char *sv = json_get_str(ma->items[k], "StringValue");
                        const char *bv = json_get_str(ma->items[k], "BinaryValue");
                        json_kv_str(o, ma->keys[k], sv ? sv : bv);
                }
                json_obj_end(o);
                json_obj_end(o);
                _cleanup_free_ char *line = json_writer_finish(o);
                printf("%s\n", line);
                if (a->del) {
                        json_writer *d = json_writer_new(false);
                        json_obj_begin(d);
                        json_kv_str(d, "QueueUrl", url);
                        json_kv_str(d, "ReceiptHandle", json_get_str(m, "ReceiptHandle"));
                        json_obj_end(d);
                        if (call(c, "DeleteMessage", json_writer_finish(d), NULL) != 0) {
                                json_value_free(v);
                                return 1;
                        }
                }
        }
        json_value_free(v);
        return 0;
}

static int cmd_delete(cliclient *c, const qargs *a)
{
        if (a->npos != 3)
                return fail("delete needs NAME and RECEIPT_HANDLE");
        json_writer *w = NULL;
        int r = with_queue(c, a->pos[1], &w, NULL);
        if (r)
                return r;
        json_kv_str(w, "ReceiptHandle", a->pos[2]);
        json_obj_end(w);
        return call(c, "DeleteMessage", json_writer_finish(w), NULL);
}

static int arn_of(cliclient *c, const char *name, char **ret)
{
        json_writer *w = NULL;
        int r = with_queue(c, name, &w, NULL);
        if (r)
                return r;
        one_name(w, "AttributeNames", "QueueArn");
        json_obj_end(w);
        json_value *v = NULL;
        r = call(c, "GetQueueAttributes", json_writer_finish(w), &v);
        if (r)
                return r;
        const char *arn = json_get_str(json_get(v, "Attributes"), "QueueArn");
        if (!arn) {
                json_value_free(v);
                return fail("GetQueueAttributes: no QueueArn for %s", name);
        }
        *ret = xstrdup(arn);
        json_value_free(v);
        return 0;
}

static int cmd_redrive(cliclient *c, const qargs *a)
{
        _cleanup_free_ char *src = NULL, *dst = NULL;
        int r = arn_of(c, a->pos[1], &src);
        if (r)
                return r;
        if (a->to && (r = arn_of(c, a->to, &dst)))
                return r;
        long rate = 0;
        if (a->rate && int_opt("rate", a->rate, 1, 500, &rate))
                return 1;
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "SourceArn", src);
        if (dst)
                json_kv_str(w, "DestinationArn", dst);
        if (rate)
                json_kv_int(w, "MaxNumberOfMessagesPerSecond", rate);
        return call_print(c, "StartMessageMoveTask", w, "TaskHandle");
}

static int cmd_stats(cliclient *c, const qargs *a)
{
        const char *fmt = a->format ? a->format : "table";
        if (strcmp(fmt, "table") != 0 && strcmp(fmt, "json") != 0)
                return fail("--format %s: use table or json", fmt);
        return statcli_queues(c->endpoint, a->npos == 2 ? a->pos[1] : NULL,
                              strcmp(fmt, "json") == 0);
}

int qcli_main(int argc, char **argv)
{
        qargs a = { 0 };
        if (cliclient_parse(&syntax, argc, argv, &a))
                return 2;
        if (a.help && a.npos >= 1)
                for (size_t k = 0; k < ARRAY_SIZE(cmd_help); k++)
                        if (strcmp(cmd_help[k].name, a.pos[0]) == 0) {
                                fputs(cmd_help[k].text, stdout);
                                return 0;
                        }
        if (a.help && a.npos >= 1)
                return fail("unknown command '%s' (husk queue --help)", a.pos[0]) + 1;
        if (a.help || a.npos == 0) {
                fputs(usage_text, a.help ? stdout : stderr);
                return a.help ? 0 : 2;
        }
        static const struct {
                const char *name;
                int min, max;
        } cmds[] = { { "create", 2, 2 }, { "ls", 1, 1 },      { "inspect", 2, 2 },
                     { "rm", 2, 2 },     { "purge", 2, 2 },   { "send", 3, 3 },
                     { "receive", 2, 2 }, { "delete", 3, 3 }, { "redrive", 2, 2 },
                     { "stats", 1, 2 } };
        const char *cmd = a.pos[0];
        size_t k;
        for (k = 0; k < ARRAY_SIZE(cmds); k++)
                if (strcmp(cmds[k].name, cmd) == 0)
                        break;
        if (k == ARRAY_SIZE(cmds))
                return fail("unknown command '%s' (husk queue --help)", cmd) + 1;
        if (a.npos < cmds[k].min || a.npos > cmds[k].max)
                return fail("%s: wrong number of arguments (husk queue --help)", cmd) + 1;
        if (a.npos >= 2 && strcmp(cmd, "ls") != 0 && !q_name_valid(a.pos[1]))
                return fail("%s: '%s' is not a queue name (1 to %d of A-Z a-z 0-9 _ -, a FIFO "
                            "queue's ending in .fifo)", cmd, a.pos[1], Q_NAME_MAX) + 1;
        cliclient c;
        cliclient_open(&c, PROG, a.store, a.endpoint, a.region);
        int rc;
        if (strcmp(cmd, "create") == 0)
                rc = cmd_create(&c, &a);
        else if (strcmp(cmd, "stats") == 0)
                rc = cmd_stats(&c, &a);
        else if (strcmp(cmd, "ls") == 0)
                rc = cmd_ls(&c, &a);
        else if (strcmp(cmd, "inspect") == 0)
                rc = cmd_inspect(&c, &a);
        else if (strcmp(cmd, "rm") == 0)
                rc = simple(&c, &a, "DeleteQueue");
        else if (strcmp(cmd, "purge") == 0)
                rc = simple(&c, &a, "PurgeQueue");
        else if (strcmp(cmd, "send") == 0)
                rc = cmd_send(&c, &a);
        else if (strcmp(cmd, "receive") == 0)
                rc = cmd_receive(&c, &a);
        else if (strcmp(cmd, "delete") == 0)
                rc = cmd_delete(&c, &a);
        else
                rc = cmd_redrive(&c, &a);
        cliclient_close(&c);
        return rc;
}
