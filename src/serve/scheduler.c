/* SPDX-License-Identifier: Apache-2.0 */
/* EventBridge Scheduler's control plane (REST JSON, SigV4 service "scheduler"), as the AWS CLI
 * sends it:
 *   POST|GET|PUT|DELETE /schedules/NAME   Create/Get/Update/DeleteSchedule (?groupName=)
 *   GET /schedules                         ListSchedules (NamePrefix, ScheduleGroup, State,
 *                                          MaxResults, NextToken)
 *   POST|GET|DELETE /schedule-groups/NAME  Create/Get/DeleteScheduleGroup
 *   GET /schedule-groups                   ListScheduleGroups
 *   POST|GET|DELETE /tags/ARN              TagResource / ListTagsForResource / UntagResource
 * Members are PascalCase; timestamps epoch seconds; errors {"Message": ...} with
 * x-amzn-ErrorType. Translation only: the semantics are src/sched's. */
#include "serve.h"
#include "sched/sched.h"
#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void send_json(serve_resp *w, unsigned status, char *body)
{
        serve_resp_set(w, status, "application/json", body, strlen(body));
}

static void send_err(serve_resp *w, sched_errcode code, const char *msg)
{
        static const struct {
                unsigned status;
                const char *type;
        } t[] = {
                [SCHED_OK] = { 500, "InternalServerException" },
                [SCHED_E_VALIDATION] = { 400, "ValidationException" },
                [SCHED_E_NOT_FOUND] = { 404, "ResourceNotFoundException" },
                [SCHED_E_CONFLICT] = { 409, "ConflictException" },
                [SCHED_E_QUOTA] = { 402, "ServiceQuotaExceededException" },
                [SCHED_E_INTERNAL] = { 500, "InternalServerException" },
        };
        /* The message may quote what the client sent (a name from the path, an expression):
         * JSON is UTF-8 (RFC 8259), so a byte that is not becomes '?'. */
        char *m = xstrdup(msg);
        utf8_scrub(m);
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_kv_str(j, "Message", m);
        json_obj_end(j);
        free(m);
        send_json(w, t[code].status, json_writer_finish(j));
        serve_resp_header(w, "x-amzn-ErrorType", t[code].type);
}

static void bad(serve_resp *w, const char *msg)
{
        send_err(w, SCHED_E_VALIDATION, msg);
}

static void kv_time(json_writer *j, const char *k, int64_t ms)
{
        if (ms == SCHED_NO_TIME)
                return;
        json_key(j, k);
        json_fixed(j, (double)ms / 1000.0, 3);
}

/* ---- request members ---- */
static int get_str(const json_value *o, const char *k, char **ret, serve_resp *w)
{
        const json_value *v = json_get(o, k);
        if (!v || v->type == JSON_NULL)
                return 0;
        if (v->type != JSON_STRING) {
                char m[128];
                snprintf(m, sizeof(m), "%s: a string", k);
                bad(w, m);
                return -1;
        }
        *ret = xstrdup(v->str);
        return 0;
}

static int get_int(const json_value *o, const char *k, int64_t *ret, serve_resp *w)
{
        const json_value *v = json_get(o, k);
        if (!v || v->type == JSON_NULL)
                return 0;
        if (v->type != JSON_NUMBER || parse_int64(v->str, ret) < 0) {
                char m[128];
                snprintf(m, sizeof(m), "%s: a whole number", k);
                bad(w, m);
                return -1;
        }
        return 1;
}

/* A timestamp: epoch seconds (the CLI's rest-json form), fractions allowed. */
static int get_time(const json_value *o, const char *k, int64_t *ret, serve_resp *w)
{
        const json_value *v = json_get(o, k);
        *ret = SCHED_NO_TIME;
        if (!v || v->type == JSON_NULL)
                return 0;
        char *end = NULL;
        double d = v->type == JSON_NUMBER ? strtod(v->str, &end) : NAN;
        if (!end || *end || !isfinite(d) || d < 0 || d > 7258118400.0 /* 2200 */) {
                char m[128];
                snprintf(m, sizeof(m), "%s: a timestamp (epoch seconds) before 2200", k);
                bad(w, m);
                return -1;
        }
        *ret = (int64_t)(d * 1000.0 + 0.5);
        return 0;
}

/* JSON is UTF-8 (RFC 8259); what a body stores (a Description, an Input, a tag) is rendered
 * again in answers. */
static bool body_utf8(const serve_req *r, serve_resp *w)
{
        size_t ok = utf8_valid_prefix(r->body ? r->body : "", r->len);
        if (ok == r->len)
                return true;
        char m[128];
        snprintf(m, sizeof(m), "The request body is not valid UTF-8 (at byte %zu)", ok);
        bad(w, m);
        return false;
}

static int parse_def(const serve_req *r, const char *name, sched_def *d, serve_resp *w)
{
        json_value *v = NULL;
        char jerr[128];
        if (!body_utf8(r, w))
                return -1;
        if (json_parse(r->body ? r->body : "", r->len, &v, jerr, sizeof(jerr)) < 0 ||
            v->type != JSON_OBJECT) {
                char m[200];
                snprintf(m, sizeof(m), "The request body is not a JSON object: %s", jerr);
                json_value_free(v);
                bad(w, m);
                return -1;
        }
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->enabled = true;
        d->max_age_s = 86400;
        d->max_retries = 185;
        d->start_ms = d->end_ms = SCHED_NO_TIME;
        int rc = -1;
        char *group = NULL, *state = NULL, *mode = NULL, *after = NULL;
        int64_t n;
        const json_value *fw = json_get(v, "FlexibleTimeWindow"), *t = json_get(v, "Target"),
                         *rp = json_get(t, "RetryPolicy"), *dl = json_get(t, "DeadLetterConfig");
        if (strlen(name) > SCHED_NAME_MAX) {
                bad(w, "Name: 1 to 64 characters of [0-9a-zA-Z-_.]");
                goto out;
        }
        if (get_str(v, "GroupName", &group, w) < 0 || get_str(v, "Description", &d->description, w) < 0 ||
            get_str(v, "ScheduleExpression", &d->expression, w) < 0 ||
            get_str(v, "ScheduleExpressionTimezone", &d->timezone, w) < 0 ||
            get_str(v, "State", &state, w) < 0 || get_str(v, "KmsKeyArn", &d->kms_key_arn, w) < 0 ||
            get_str(v, "ActionAfterCompletion", &after, w) < 0 ||
            get_time(v, "StartDate", &d->start_ms, w) < 0 || get_time(v, "EndDate", &d->end_ms, w) < 0 ||
            get_str(fw, "Mode", &mode, w) < 0 || get_str(t, "Arn", &d->target_arn, w) < 0 ||
            get_str(t, "RoleArn", &d->role_arn, w) < 0 || get_str(t, "Input", &d->input, w) < 0 ||
            get_str(dl, "Arn", &d->dlq_arn, w) < 0)
                goto out;
        if (group && strlen(group) > SCHED_NAME_MAX) {
                bad(w, "GroupName: 1 to 64 characters of [0-9a-zA-Z-_.]");
                goto out;
        }
        snprintf(d->group, sizeof(d->group), "%s", group ? group : "default");
        if (!d->expression || !fw || !mode || !t || !d->target_arn || !d->role_arn) {
                bad(w, "ScheduleExpression, FlexibleTimeWindow (Mode) and Target (Arn, RoleArn) "
                       "are required");
                goto out;
        }
        if (state && strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0) {
                bad(w, "State: ENABLED or DISABLED");
                goto out;
        }
        d->enabled = !state || strcmp(state, "ENABLED") == 0;
        if (strcmp(mode, "OFF") != 0 && strcmp(mode, "FLEXIBLE") != 0) {
                bad(w, "FlexibleTimeWindow.Mode: OFF or FLEXIBLE");
                goto out;
        }
        d->flexible = strcmp(mode, "FLEXIBLE") == 0;
        if (after && strcmp(after, "NONE") != 0 && strcmp(after, "DELETE") != 0) {
                bad(w, "ActionAfterCompletion: NONE or DELETE");
                goto out;
        }
        d->delete_after = after && strcmp(after, "DELETE") == 0;
        int g;
        if ((g = get_int(fw, "MaximumWindowInMinutes", &n, w)) < 0)
                goto out;
        if (g) {
                if (n < 1 || n > 1440) {
                        bad(w, "FlexibleTimeWindow.MaximumWindowInMinutes: 1 to 1440");
                        goto out;
                }
                d->window_minutes = (int)n;
        }
        if ((g = get_int(rp, "MaximumEventAgeInSeconds", &n, w)) < 0)
                goto out;
        if (g)
                d->max_age_s = n < 0 || n > 1000000 ? -1 : (int)n;
        if ((g = get_int(rp, "MaximumRetryAttempts", &n, w)) < 0)
                goto out;
        if (g)
                d->max_retries = n < 0 || n > 1000000 ? -1 : (int)n;
        rc = 0;
out:
        free(group);
        free(state);
        free(mode);
        free(after);
        json_value_free(v);
        return rc;
}

static void write_def(sched_engine *s, json_writer *j, const sched_def *d, bool full)
{
        char *arn = sched_arn(s, d->group, d->name);
        json_obj_begin(j);
        if (full)
                json_kv_str(j, "ActionAfterCompletion", d->delete_after ? "DELETE" : "NONE");
        json_kv_str(j, "Arn", arn);
        kv_time(j, "CreationDate", d->created_ms);
        if (full && d->description)
                json_kv_str(j, "Description", d->description);
        if (full)
                kv_time(j, "EndDate", d->end_ms);
        if (full) {
                json_key(j, "FlexibleTimeWindow");
                json_obj_begin(j);
                if (d->flexible)
                        json_kv_int(j, "MaximumWindowInMinutes", d->window_minutes);
                json_kv_str(j, "Mode", d->flexible ? "FLEXIBLE" : "OFF");
                json_obj_end(j);
        }
        json_kv_str(j, "GroupName", d->group);
        if (full && d->kms_key_arn)
                json_kv_str(j, "KmsKeyArn", d->kms_key_arn);
        kv_time(j, "LastModificationDate", d->modified_ms);
        json_kv_str(j, "Name", d->name);
        if (full) {
                json_kv_str(j, "ScheduleExpression", d->expression);
                json_kv_str(j, "ScheduleExpressionTimezone", d->timezone ? d->timezone : "UTC");
                kv_time(j, "StartDate", d->start_ms);
        }
        json_kv_str(j, "State", d->enabled ? "ENABLED" : "DISABLED");
        json_key(j, "Target");
        json_obj_begin(j);
        json_kv_str(j, "Arn", d->target_arn);
        if (full) {
                if (d->dlq_arn) {
                        json_key(j, "DeadLetterConfig");
                        json_obj_begin(j);
                        json_kv_str(j, "Arn", d->dlq_arn);
                        json_obj_end(j);
                }
                if (d->input)
                        json_kv_str(j, "Input", d->input);
                json_key(j, "RetryPolicy");
                json_obj_begin(j);
                json_kv_int(j, "MaximumEventAgeInSeconds", d->max_age_s);
                json_kv_int(j, "MaximumRetryAttempts", d->max_retries);
                json_obj_end(j);
                json_kv_str(j, "RoleArn", d->role_arn);
        }
        json_obj_end(j);
        json_obj_end(j);
        free(arn);
}

static void arn_answer(serve_resp *w, const char *key, char *arn)
{
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_kv_str(j, key, arn);
        json_obj_end(j);
        free(arn);
        send_json(w, 200, json_writer_finish(j));
}

static void put_schedule(sched_engine *s, const serve_req *r, const char *name, bool create,
                         serve_resp *w)
{
        sched_def d = { 0 };
        sched_error err = { 0 };
        if (parse_def(r, name, &d, w) < 0) {
                sched_def_clear(&d);
                return;
        }
        if (sched_put(s, &d, create, &err) < 0)
                send_err(w, err.code, err.msg);
        else
                arn_answer(w, "ScheduleArn", sched_arn(s, d.group, d.name));
        sched_def_clear(&d);
}

static void list_schedules(sched_engine *s, const serve_kv *q, size_t nq, serve_resp *w)
{
        sched_list_req lr = { .group = serve_kvs_get(q, nq, "ScheduleGroup"),
                              .name_prefix = serve_kvs_get(q, nq, "NamePrefix"),
                              .next_token = serve_kvs_get(q, nq, "NextToken") };
        const char *st = serve_kvs_get(q, nq, "State"), *mx = serve_kvs_get(q, nq, "MaxResults");
        if (st && strcmp(st, "ENABLED") != 0 && strcmp(st, "DISABLED") != 0)
                return bad(w, "State: ENABLED or DISABLED");
        lr.state = !st ? 0 : strcmp(st, "ENABLED") == 0 ? 1 : 2;
        uint64_t m = 0;
        if (mx && (parse_uint64(mx, &m) < 0 || m < 1 || m > 100))
                return bad(w, "MaxResults: 1 to 100");
        lr.max = (unsigned)m;
        sched_def *v = NULL;
        size_t n = 0;
        char *next = NULL;
        sched_error err = { 0 };
        if (sched_list(s, &lr, &v, &n, &next, &err) < 0)
                return send_err(w, err.code, err.msg);
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        if (next)
                json_kv_str(j, "NextToken", next);
        json_key(j, "Schedules");
        json_arr_begin(j);
        for (size_t i = 0; i < n; i++)
                write_def(s, j, &v[i], false);
        json_arr_end(j);
        json_obj_end(j);
        send_json(w, 200, json_writer_finish(j));
        sched_defs_free(v, n);
        free(next);
}

static void write_group(sched_engine *s, json_writer *j, const sched_group *g)
{
        char *arn = sched_group_arn(s, g->name);
        json_obj_begin(j);
        json_kv_str(j, "Arn", arn);
        kv_time(j, "CreationDate", g->created_ms);
        kv_time(j, "LastModificationDate", g->modified_ms);
        json_kv_str(j, "Name", g->name);
        json_kv_str(j, "State", "ACTIVE");
        json_obj_end(j);
        free(arn);
}

/* Tags: [{"Key","Value"}...] of a body. */
static int parse_tags(const serve_req *r, sched_tag **ret, size_t *ret_n, serve_resp *w)
{
        json_value *v = NULL;
        char jerr[128];
        *ret = NULL, *ret_n = 0;
        if (r->len == 0)
                return 0;
        if (!body_utf8(r, w))
                return -1;
        if (json_parse(r->body, r->len, &v, jerr, sizeof(jerr)) < 0 || v->type != JSON_OBJECT) {
                json_value_free(v);
                bad(w, "The request body is not a JSON object");
                return -1;
        }
        const json_value *t = json_get(v, "Tags");
        if (t && (t->type != JSON_ARRAY || t->n > SCHED_TAGS_MAX)) {
                json_value_free(v);
                bad(w, "Tags: a list of at most 200 {Key, Value}");
                return -1;
        }
        sched_tag *tags = calloc(t ? t->n + 1 : 1, sizeof(*tags));
        size_t n = 0;
        for (size_t i = 0; t && i < t->n; i++) {
                const char *k = json_get_str(t->items[i], "Key"), *val = json_get_str(t->items[i], "Value");
                if (!k || !val) {
                        sched_tags_free(tags, n);
                        json_value_free(v);
                        bad(w, "Tags: each needs Key and Value");
                        return -1;
                }
                tags[n].key = xstrdup(k);
                tags[n].value = xstrdup(val);
                n++;
        }
        json_value_free(v);
        *ret = tags, *ret_n = n;
        return 0;
}

static void groups(sched_engine *s, const serve_req *r, const char *name, const serve_kv *q,
                   size_t nq, serve_resp *w)
{
        sched_error err = { 0 };
        if (!name && strcmp(r->method, "GET") == 0) {
                const char *mx = serve_kvs_get(q, nq, "MaxResults");
                uint64_t m = 0;
                if (mx && (parse_uint64(mx, &m) < 0 || m < 1 || m > 100))
                        return bad(w, "MaxResults: 1 to 100");
                sched_group *v = NULL;
                size_t n = 0;
                char *next = NULL;
                if (sched_group_list(s, serve_kvs_get(q, nq, "NamePrefix"), (unsigned)m,
                                     serve_kvs_get(q, nq, "NextToken"), &v, &n, &next, &err) < 0)
                        return send_err(w, err.code, err.msg);
                json_writer *j = json_writer_new(false);
                json_obj_begin(j);
                if (next)
                        json_kv_str(j, "NextToken", next);
                json_key(j, "ScheduleGroups");
                json_arr_begin(j);
                for (size_t i = 0; i < n; i++)
                        write_group(s, j, &v[i]);
                json_arr_end(j);
                json_obj_end(j);
                send_json(w, 200, json_writer_finish(j));
                free(v);
                free(next);
                return;
        }
        if (!name)
                return send_err(w, SCHED_E_VALIDATION, "unknown operation");
        if (strcmp(r->method, "POST") == 0) {
                sched_tag *tags = NULL;
                size_t n = 0;
                if (parse_tags(r, &tags, &n, w) < 0)
                        return;
                int rc = sched_group_create(s, name, tags, n, &err);
                sched_tags_free(tags, n);
                if (rc < 0)
                        return send_err(w, err.code, err.msg);
                return arn_answer(w, "ScheduleGroupArn", sched_group_arn(s, name));
        }
        if (strcmp(r->method, "GET") == 0) {
                sched_group g;
                if (sched_group_get(s, name, &g, &err) < 0)
                        return send_err(w, err.code, err.msg);
                json_writer *j = json_writer_new(false);
                write_group(s, j, &g);
                return send_json(w, 200, json_writer_finish(j));
        }
        if (strcmp(r->method, "DELETE") == 0) {
                if (sched_group_delete(s, name, &err) < 0)
                        return send_err(w, err.code, err.msg);
                return send_json(w, 200, xstrdup("{}"));
        }
        send_err(w, SCHED_E_VALIDATION, "unknown operation");
}

static void tags(sched_engine *s, const serve_req *r, const char *arn, const serve_kv *q,
                 size_t nq, serve_resp *w)
{
        sched_error err = { 0 };
        if (strcmp(r->method, "GET") == 0) {
                sched_tag *t = NULL;
                size_t n = 0;
                if (sched_list_tags(s, arn, &t, &n, &err) < 0)
                        return send_err(w, err.code, err.msg);
                json_writer *j = json_writer_new(false);
                json_obj_begin(j);
                json_key(j, "Tags");
                json_arr_begin(j);
                for (size_t i = 0; i < n; i++) {
                        json_obj_begin(j);
                        json_kv_str(j, "Key", t[i].key);
                        json_kv_str(j, "Value", t[i].value);
                        json_obj_end(j);
                }
                json_arr_end(j);
                json_obj_end(j);
                sched_tags_free(t, n);
                return send_json(w, 200, json_writer_finish(j));
        }
        if (strcmp(r->method, "POST") == 0) {
                sched_tag *t = NULL;
                size_t n = 0;
                if (parse_tags(r, &t, &n, w) < 0)
                        return;
                int rc = sched_tag_resource(s, arn, t, n, &err);
                sched_tags_free(t, n);
                if (rc < 0)
                        return send_err(w, err.code, err.msg);
                return send_json(w, 200, xstrdup("{}"));
        }
        if (strcmp(r->method, "DELETE") == 0) {
                const char *keys[SCHED_TAGS_MAX];
                size_t n = 0;
                for (size_t i = 0; i < nq && n < SCHED_TAGS_MAX; i++)
                        if (strcmp(q[i].name, "TagKeys") == 0)
                                keys[n++] = q[i].value;
                if (sched_untag_resource(s, arn, keys, n, &err) < 0)
                        return send_err(w, err.code, err.msg);
                return send_json(w, 200, xstrdup("{}"));
        }
        send_err(w, SCHED_E_VALIDATION, "unknown operation");
}

static void schedules(sched_engine *s, const serve_req *r, const char *name, const serve_kv *q,
                      size_t nq, serve_resp *w)
{
        sched_error err = { 0 };
        if (!name) {
                if (strcmp(r->method, "GET") == 0)
                        return list_schedules(s, q, nq, w);
                return send_err(w, SCHED_E_VALIDATION, "unknown operation");
        }
        const char *group = serve_kvs_get(q, nq, "groupName");
        if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0)
                return put_schedule(s, r, name, strcmp(r->method, "POST") == 0, w);
        if (strcmp(r->method, "GET") == 0) {
                sched_def d = { 0 };
                if (sched_get(s, group, name, &d, &err) < 0)
                        return send_err(w, err.code, err.msg);
                json_writer *j = json_writer_new(false);
                write_def(s, j, &d, true);
                sched_def_clear(&d);
                return send_json(w, 200, json_writer_finish(j));
        }
        if (strcmp(r->method, "DELETE") == 0) {
                if (sched_delete(s, group, name, &err) < 0)
                        return send_err(w, err.code, err.msg);
                return send_json(w, 200, xstrdup("{}"));
        }
        send_err(w, SCHED_E_VALIDATION, "unknown operation");
}

void scheduler_handle(struct sched_engine *s, const serve_req *r, serve_resp *w)
{
        if (!s) {
                send_err(w, SCHED_E_INTERNAL, "schedules are not served (see the server's log)");
                w->status = 503;
                return;
        }
        serve_kv *q = NULL;
        size_t nq = 0;
        if (serve_form_parse(r->query, strlen(r->query), 256, &q, &nq) < 0)
                return bad(w, "The query string is malformed");
        const char *p = r->path;
        if (strcmp(p, "/schedules") == 0 || strcmp(p, "/schedules/") == 0)
                schedules(s, r, NULL, q, nq, w);
        else if (strncmp(p, "/schedules/", 11) == 0 && !strchr(p + 11, '/'))
                schedules(s, r, p + 11, q, nq, w);
        else if (strcmp(p, "/schedule-groups") == 0 || strcmp(p, "/schedule-groups/") == 0)
                groups(s, r, NULL, q, nq, w);
        else if (strncmp(p, "/schedule-groups/", 17) == 0 && !strchr(p + 17, '/'))
                groups(s, r, p + 17, q, nq, w);
        else if (strncmp(p, "/tags/", 6) == 0)
                tags(s, r, p + 6, q, nq, w);
        else
                send_err(w, SCHED_E_NOT_FOUND, "unknown path");
        serve_kvs_free(q, nq);
}
