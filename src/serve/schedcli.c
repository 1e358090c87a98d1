/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn schedule ...`: schedules for people without the AWS CLI, over the running server's
 * EventBridge Scheduler API (REST JSON, signed with the store's keys, or
 * $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY). The wire stays here; what a schedule does is
 * src/sched's business. */
#include "schedcli.h"
#include "cliclient.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
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

#define PROG "husk fn schedule"
#define fail(...) cliclient_fail(PROG, __VA_ARGS__)

typedef struct sargs {
        const char *store, *endpoint, *region, *group, *expression, *function, *input, *timezone,
                *window, *retries, *max_age, *dlq, *prefix;
        bool disabled, delete_after, help;
        const char *pos[3];
        int npos;
} sargs;

static const cliclient_opt str_opts[] = {
        { "store", offsetof(sargs, store) },       { "endpoint", offsetof(sargs, endpoint) },
        { "region", offsetof(sargs, region) },     { "group", offsetof(sargs, group) },
        { "expression", offsetof(sargs, expression) }, { "function", offsetof(sargs, function) },
        { "input", offsetof(sargs, input) },       { "timezone", offsetof(sargs, timezone) },
        { "window", offsetof(sargs, window) },     { "retries", offsetof(sargs, retries) },
        { "max-age", offsetof(sargs, max_age) },   { "dlq", offsetof(sargs, dlq) },
        { "prefix", offsetof(sargs, prefix) },
};

static const cliclient_opt flags[] = { { "--disabled", offsetof(sargs, disabled) },
                                       { "--delete-after", offsetof(sargs, delete_after) } };

static const cliclient_syntax syntax = {
        .prog = PROG, .help = PROG " --help", .values = str_opts, .n_values = ARRAY_SIZE(str_opts),
        .flags = flags, .n_flags = ARRAY_SIZE(flags), .help_off = offsetof(sargs, help),
        .pos_off = offsetof(sargs, pos), .npos_off = offsetof(sargs, npos), .max_pos = 3,
};

/* The Scheduler's error: its name in the x-amzn-ErrorType header, {"Message": ...}. */
static char *sched_error(const serve_answer *an, const json_value *v)
{
        const char *msg = json_get_str(v, "Message");
        const char *t = strcasestr(an->head, "\nx-amzn-ErrorType:");
        char type[64] = "error";
        if (t)
                sscanf(t + 18, " %63[A-Za-z]", type);
        return xasprintf("%s: %s", type, msg ? msg : "");
}

static const cliclient_wire wire = { .hint = "", .strict = true, .error = sched_error };

/* One REST call (body taken, may be NULL); *ret gets the parsed answer. Non-zero: printed. */
static int call(cliclient *c, const char *method, const char *path, char *body, json_value **ret)
{
        return cliclient_rest(c, &wire, "scheduler", method, path, body, ret);
}

/* The server's account: from the default group's ARN. */
static int account_of(cliclient *c, char *acct, size_t len)
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

static int cmd_create(cliclient *c, const sargs *a)
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

static int cmd_ls(cliclient *c, const sargs *a)
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

static int cmd_one(cliclient *c, const sargs *a, bool del)
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
        cliclient_req raw = { .service = "scheduler", .method = "GET", .path = path };
        if (cliclient_send(c, &wire, &raw, &an))
                return 1;
        printf("%s\n", an.body);
        serve_answer_free(&an);
        return 0;
}

int schedcli_main(int argc, char **argv)
{
        sargs a = { 0 };
        int rc = cliclient_parse(&syntax, argc, argv, &a);
        if (rc)
                return rc;
        if (a.help || a.npos == 0) {
                fputs(usage_text, a.help ? stdout : stderr);
                return a.help ? 0 : 1;
        }
        cliclient c;
        cliclient_open(&c, PROG, a.store, a.endpoint, a.region);
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
        cliclient_close(&c);
        return rc;
}
