/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn schedule ...`: schedules for people without the AWS CLI, over the running server's
 * EventBridge Scheduler API (REST JSON, signed with the store's keys, or
 * $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY). The wire stays here; what a schedule does is
 * src/sched's business. */
#include "schedcli.h"
#include "client.h"
#include "husk/image.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
        "Usage: husk fn schedule COMMAND [options]\n\n"
        "Schedules of the running `husk serve` (its EventBridge Scheduler API, the one\n"
        "`aws scheduler` uses): they invoke a function on rate(), cron() or at() times.\n\n"
        "Commands:\n"
        "  create NAME --expression EXPR --function F [options]\n"
        "      --expression EXPR          rate(5 minutes), cron(0 12 * * ? *), at(2030-01-01T00:00:00)\n"
        "      --function F               the function (a name or a Lambda ARN) it invokes\n"
        "      --input JSON|@FILE         the event (default {})\n"
        "      --timezone ZONE            an IANA time zone for cron() and at() (default UTC)\n"
        "      --window MINUTES           a flexible time window, 1 .. 1440 (default: off)\n"
        "      --retries N                retries of a failed invocation, 0 .. 185 (185)\n"
        "      --max-age SECONDS          retry for at most, 60 .. 86400 (86400)\n"
        "      --dlq QUEUE                a queue (name or SQS ARN) for events that failed\n"
        "      --disabled                 created DISABLED\n"
        "      --delete-after             ActionAfterCompletion DELETE (one-off schedules)\n"
        "  ls [--prefix PREFIX]           name, group, state, expression and target\n"
        "  inspect NAME                   the schedule as JSON (GetSchedule)\n"
        "  rm NAME                        delete it\n\n"
        "Options:\n"
        "  --group GROUP                      the schedule group (default: default)\n"
        "  --endpoint ADDR:PORT|SOCKET        the server (default: the one serving STORE)\n"
        "  --region REGION                    region to sign for (default: the server's)\n"
        "  --store DIR                        the store (default /var/lib/husk)\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("husk fn schedule: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return 1;
}

typedef struct sargs {
        const char *store, *endpoint, *region, *group, *expression, *function, *input, *timezone,
                *window, *retries, *max_age, *dlq, *prefix;
        bool disabled, delete_after, help;
        const char *pos[3];
        int npos;
} sargs;

static const struct {
        const char *name;
        size_t off;
} str_opts[] = {
        { "store", offsetof(sargs, store) },       { "endpoint", offsetof(sargs, endpoint) },
        { "region", offsetof(sargs, region) },     { "group", offsetof(sargs, group) },
        { "expression", offsetof(sargs, expression) }, { "function", offsetof(sargs, function) },
        { "input", offsetof(sargs, input) },       { "timezone", offsetof(sargs, timezone) },
        { "window", offsetof(sargs, window) },     { "retries", offsetof(sargs, retries) },
        { "max-age", offsetof(sargs, max_age) },   { "dlq", offsetof(sargs, dlq) },
        { "prefix", offsetof(sargs, prefix) },
};

static int parse(int argc, char **argv, sargs *a)
{
        for (int i = 0; i < argc; i++) {
                const char *s = argv[i];
                if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
                        a->help = true;
                        continue;
                }
                if (strcmp(s, "--disabled") == 0 || strcmp(s, "--delete-after") == 0) {
                        *(s[3] == 'i' ? &a->disabled : &a->delete_after) = true;
                        continue;
                }
                if (strncmp(s, "--", 2) != 0 || !s[2]) {
                        if (a->npos == 3)
                                return fail("too many arguments at '%s' (husk fn schedule --help)", s);
                        a->pos[a->npos++] = s;
                        continue;
                }
                const char *name = s + 2, *eq = strchr(name, '=');
                size_t len = eq ? (size_t)(eq - name) : strlen(name);
                const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
                if (!val)
                        return fail("%s needs a value", s);
                if (!eq)
                        i++;
                bool found = false;
                for (size_t k = 0; k < ARRAY_SIZE(str_opts) && !found; k++)
                        if (strlen(str_opts[k].name) == len && strncmp(str_opts[k].name, name, len) == 0) {
                                *(const char **)((char *)a + str_opts[k].off) = val;
                                found = true;
                        }
                if (!found)
                        return fail("unknown option --%.*s (husk fn schedule --help)", (int)len, name);
        }
        return 0;
}

typedef struct sctx {
        char *endpoint, *region;
        serve_creds creds;
        bool have_creds;
} sctx;

static char *read_small(const char *path)
{
        char *s = NULL;
        if (read_file_at(AT_FDCWD, path, 256, &s, NULL) < 0)
                return NULL;
        s[strcspn(s, "\n")] = '\0';
        return s;
}

static void ctx_init(const sargs *a, sctx *c)
{
        memset(c, 0, sizeof(*c));
        husk_image_opts_t o = { .store = a->store };
        const char *store = husk_image_store_path(&o);
        _cleanup_free_ char *ap = xasprintf("%s/fn/serve.addr", store);
        _cleanup_free_ char *rp = xasprintf("%s/fn/serve.region", store);
        c->endpoint = a->endpoint ? xstrdup(a->endpoint) : read_small(ap);
        if (!c->endpoint)
                c->endpoint = xstrdup("127.0.0.1:9000");
        c->region = a->region ? xstrdup(a->region) : read_small(rp);
        if (!c->region)
                c->region = xstrdup("us-east-1");
        char why[512];
        if (serve_creds_load(store, false, &c->creds, why, sizeof(why)) == 0) {
                c->have_creds = true;
        } else {
                const char *id = getenv("AWS_ACCESS_KEY_ID"), *sec = getenv("AWS_SECRET_ACCESS_KEY");
                if (id && sec && strlen(id) <= SERVE_KEY_ID_LEN && strlen(sec) <= SERVE_SECRET_LEN) {
                        snprintf(c->creds.key_id, sizeof(c->creds.key_id), "%s", id);
                        snprintf(c->creds.secret, sizeof(c->creds.secret), "%s", sec);
                        c->have_creds = true;
                }
        }
}

static void ctx_done(sctx *c)
{
        free(c->endpoint);
        free(c->region);
        explicit_bzero(&c->creds, sizeof(c->creds));
}

/* One REST call; *ret gets the parsed answer. Non-zero: printed. */
static int call(sctx *c, const char *method, const char *path, char *body, json_value **ret)
{
        serve_kv h[] = { { (char *)"Content-Type", (char *)"application/json" } };
        serve_call sc = { .endpoint = c->endpoint, .method = method, .path = path, .headers = h,
                          .n_headers = body ? 1 : 0, .body = body ? body : "",
                          .len = body ? strlen(body) : 0,
                          .creds = c->have_creds ? &c->creds : NULL, .region = c->region,
                          .service = "scheduler" };
        serve_answer an;
        char why[512];
        int r = serve_client_call(&sc, &an, why, sizeof(why));
        free(body);
        if (r < 0)
                return fail("%s", why);
        json_value *v = NULL;
        char jwhy[128];
        if (json_parse(an.body, an.len, &v, jwhy, sizeof(jwhy)) < 0) {
                int rc = fail("HTTP %u, not JSON: %.200s", an.status, an.body);
                serve_answer_free(&an);
                return rc;
        }
        if (an.status != 200) {
                const char *msg = json_get_str(v, "Message");
                const char *t = strcasestr(an.head, "\nx-amzn-ErrorType:");
                char type[64] = "error";
                if (t)
                        sscanf(t + 18, " %63[A-Za-z]", type);
                int rc = fail("%s: %s", type, msg ? msg : "");
                json_value_free(v);
                serve_answer_free(&an);
                return rc;
        }
        serve_answer_free(&an);
        if (ret)
                *ret = v;
        else
                json_value_free(v);
        return 0;
}

/* The server's account: from the default group's ARN. */
static int account_of(sctx *c, char *acct, size_t len)
{
        json_value *v = NULL;
        int r = call(c, "GET", "/schedule-groups/default", NULL, &v);
        if (r)
                return r;
        const char *arn = json_get_str(v, "Arn"); /* arn:aws:scheduler:REGION:ACCOUNT:... */
        int n = 0;
        const char *p = arn;
        for (; p && *p && n < 4; p++)
                n += *p == ':';
        if (!p || n < 4 || !strchr(p, ':')) {
                json_value_free(v);
                return fail("the server named no schedule group ARN");
        }
        snprintf(acct, len, "%.*s", (int)(strchr(p, ':') - p), p);
        json_value_free(v);
        return 0;
}

static char *query_group(const sargs *a)
{
        if (!a->group)
                return xstrdup("");
        _cleanup_free_ char *g = serve_url_encode(a->group, strlen(a->group), false);
        return xasprintf("?groupName=%s", g);
}

static int cmd_create(sctx *c, const sargs *a)
{
        if (a->npos != 2)
                return fail("create takes one NAME");
        if (!a->expression || !a->function)
                return fail("create needs --expression and --function");
        char acct[16];
        int r = account_of(c, acct, sizeof(acct));
        if (r)
                return r;
        _cleanup_free_ char *fn = strncmp(a->function, "arn:", 4) == 0
                                          ? xstrdup(a->function)
                                          : xasprintf("arn:aws:lambda:%s:%s:function:%s", c->region,
                                                      acct, a->function);
        _cleanup_free_ char *input = NULL;
        if (a->input && a->input[0] == '@') {
                if (read_file_at(AT_FDCWD, a->input + 1, 256u << 10, &input, NULL) < 0)
                        return fail("--input %s: cannot read it (at most 256 KB)", a->input);
        } else if (a->input)
                input = xstrdup(a->input);
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        if (a->delete_after)
                json_kv_str(w, "ActionAfterCompletion", "DELETE");
        json_key(w, "FlexibleTimeWindow");
        json_obj_begin(w);
        if (a->window) {
                int64_t m;
                if (parse_int64(a->window, &m) < 0 || m < 1 || m > 1440) {
                        json_writer_free(w);
                        return fail("--window %s: minutes, 1 .. 1440", a->window);
                }
                json_kv_int(w, "MaximumWindowInMinutes", m);
        }
        json_kv_str(w, "Mode", a->window ? "FLEXIBLE" : "OFF");
        json_obj_end(w);
        if (a->group)
                json_kv_str(w, "GroupName", a->group);
        json_kv_str(w, "ScheduleExpression", a->expression);
        if (a->timezone)
                json_kv_str(w, "ScheduleExpressionTimezone", a->timezone);
        json_kv_str(w, "State", a->disabled ? "DISABLED" : "ENABLED");
        json_key(w, "Target");
        json_obj_begin(w);
        json_kv_str(w, "Arn", fn);
        if (a->dlq) {
                _cleanup_free_ char *q = strncmp(a->dlq, "arn:", 4) == 0
                                                 ? xstrdup(a->dlq)
                                                 : xasprintf("arn:aws:sqs:%s:%s:%s", c->region, acct, a->dlq);
                json_key(w, "DeadLetterConfig");
                json_obj_begin(w);
                json_kv_str(w, "Arn", q);
                json_obj_end(w);
        }
        if (input)
                json_kv_str(w, "Input", input);
        if (a->retries || a->max_age) {
                int64_t v;
                json_key(w, "RetryPolicy");
                json_obj_begin(w);
                if (a->max_age) {
                        if (parse_int64(a->max_age, &v) < 0 || v < 60 || v > 86400) {
                                json_writer_free(w);
                                return fail("--max-age %s: seconds, 60 .. 86400", a->max_age);
                        }
                        json_kv_int(w, "MaximumEventAgeInSeconds", v);
                }
                if (a->retries) {
                        if (parse_int64(a->retries, &v) < 0 || v < 0 || v > 185) {
                                json_writer_free(w);
                                return fail("--retries %s: 0 .. 185", a->retries);
                        }
                        json_kv_int(w, "MaximumRetryAttempts", v);
                }
                json_obj_end(w);
        }
        _cleanup_free_ char *role = xasprintf("arn:aws:iam::%s:role/husk-scheduler", acct);
        json_kv_str(w, "RoleArn", role);
        json_obj_end(w);
        json_obj_end(w);
        _cleanup_free_ char *name = serve_url_encode(a->pos[1], strlen(a->pos[1]), false);
        _cleanup_free_ char *path = xasprintf("/schedules/%s", name);
        json_value *v = NULL;
        if ((r = call(c, "POST", path, json_writer_finish(w), &v)))
                return r;
        printf("%s\n", json_get_str(v, "ScheduleArn") ?: "");
        json_value_free(v);
        return 0;
}

static int cmd_ls(sctx *c, const sargs *a)
{
        if (a->npos != 1)
                return fail("ls takes no arguments");
        printf("%-32s  %-16s  %-8s  %-28s  %s\n", "NAME", "GROUP", "STATE", "EXPRESSION", "TARGET");
        _cleanup_free_ char *token = NULL;
        do {
                _cleanup_free_ char *q = xstrdup("");
                if (a->group) {
                        _cleanup_free_ char *g = serve_url_encode(a->group, strlen(a->group), false);
                        char *n = xasprintf("%s&ScheduleGroup=%s", q, g);
                        free(q), q = n;
                }
                if (a->prefix) {
                        _cleanup_free_ char *p = serve_url_encode(a->prefix, strlen(a->prefix), false);
                        char *n = xasprintf("%s&NamePrefix=%s", q, p);
                        free(q), q = n;
                }
                if (token) {
                        char *n = xasprintf("%s&NextToken=%s", q, token);
                        free(q), q = n;
                }
                _cleanup_free_ char *path = xasprintf("/schedules%s%s", *q ? "?" : "", *q ? q + 1 : "");
                json_value *v = NULL;
                int r = call(c, "GET", path, NULL, &v);
                if (r)
                        return r;
                const json_value *l = json_get(v, "Schedules");
                for (size_t i = 0; l && l->type == JSON_ARRAY && i < l->n; i++) {
                        const json_value *s = l->items[i];
                        _cleanup_free_ char *gq = xasprintf("?groupName=%s", json_get_str(s, "GroupName") ?: "default");
                        _cleanup_free_ char *en = serve_url_encode(json_get_str(s, "Name") ?: "", strlen(json_get_str(s, "Name") ?: ""), false);
                        _cleanup_free_ char *gp = xasprintf("/schedules/%s%s", en, gq);
                        json_value *d = NULL;
                        const char *expr = "";
                        if (call(c, "GET", gp, NULL, &d) == 0)
                                expr = json_get_str(d, "ScheduleExpression") ?: "";
                        const char *t = json_get_str(json_get(s, "Target"), "Arn");
                        const char *colon = t ? strrchr(t, ':') : NULL;
                        printf("%-32s  %-16s  %-8s  %-28s  %s\n", json_get_str(s, "Name") ?: "",
                               json_get_str(s, "GroupName") ?: "", json_get_str(s, "State") ?: "",
                               expr, colon ? colon + 1 : "");
                        json_value_free(d);
                }
                free(token);
                token = json_get_str(v, "NextToken") ? xstrdup(json_get_str(v, "NextToken")) : NULL;
                json_value_free(v);
        } while (token);
        return 0;
}

static int cmd_one(sctx *c, const sargs *a, bool del)
{
        if (a->npos != 2)
                return fail("%s takes one NAME", del ? "rm" : "inspect");
        _cleanup_free_ char *name = serve_url_encode(a->pos[1], strlen(a->pos[1]), false);
        _cleanup_free_ char *q = query_group(a);
        _cleanup_free_ char *path = xasprintf("/schedules/%s%s", name, q);
        if (del)
                return call(c, "DELETE", path, NULL, NULL);
        json_value *v = NULL;
        int r = call(c, "GET", path, NULL, &v);
        if (r)
                return r;
        json_value_free(v);
        /* Print the server's JSON as it came: ask again for the raw text. */
        serve_answer an;
        char why[512];
        serve_call raw = { .endpoint = c->endpoint, .method = "GET", .path = path, .body = "",
                           .creds = c->have_creds ? &c->creds : NULL, .region = c->region,
                           .service = "scheduler" };
        if (serve_client_call(&raw, &an, why, sizeof(why)) < 0)
                return fail("%s", why);
        printf("%s\n", an.body);
        serve_answer_free(&an);
        return 0;
}

int schedcli_main(int argc, char **argv)
{
        sargs a = { 0 };
        int rc = parse(argc, argv, &a);
        if (rc)
                return rc;
        if (a.help || a.npos == 0) {
                fputs(usage_text, a.help ? stdout : stderr);
                return a.help ? 0 : 1;
        }
        sctx c;
        ctx_init(&a, &c);
        const char *cmd = a.pos[0];
        if (strcmp(cmd, "create") == 0)
                rc = cmd_create(&c, &a);
        else if (strcmp(cmd, "ls") == 0 || strcmp(cmd, "list") == 0)
                rc = cmd_ls(&c, &a);
        else if (strcmp(cmd, "inspect") == 0)
                rc = cmd_one(&c, &a, false);
        else if (strcmp(cmd, "rm") == 0)
                rc = cmd_one(&c, &a, true);
        else
                rc = fail("unknown command '%s' (husk fn schedule --help)", cmd) + 1;
        ctx_done(&c);
        return rc;
}
