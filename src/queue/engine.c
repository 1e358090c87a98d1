/* SPDX-License-Identifier: Apache-2.0 */
/* STUB of the queue engine (queue.h): every call fails with Q_E_INTERNAL "not implemented".
 * The engine helper replaces this file. */
#include "queue.h"

#include <stdio.h>
#include <string.h>

const char *q_err_json_name(q_errcode c)
{
        (void)c;
        return "InternalError";
}

const char *q_err_query_name(q_errcode c)
{
        (void)c;
        return "InternalError";
}

unsigned q_err_status(q_errcode c)
{
        (void)c;
        return 500;
}

bool q_err_sender_fault(q_errcode c)
{
        (void)c;
        return false;
}

void q_kvs_add(q_kvs *k, const char *name, const char *value)
{
        (void)k;
        (void)name;
        (void)value;
}

const char *q_kvs_get(const q_kvs *k, const char *name)
{
        (void)k;
        (void)name;
        return "InternalError";
}

void q_kvs_free(q_kvs *k)
{
        (void)k;
}

void q_msg_attrs_free(q_msg_attr *a, size_t n)
{
        (void)a;
        (void)n;
}

void q_md5_body(const char *body, size_t len, char out[33])
{
        (void)body;
        (void)len;
        (void)out;
        out[0] = 0;
}

void q_md5_attrs(const q_msg_attr *a, size_t n, char out[33])
{
        (void)a;
        (void)n;
        (void)out;
        out[0] = 0;
}

int q_engine_open(const char *path, const q_config *cfg, q_engine **ret, q_error *err)
{
        (void)path;
        (void)cfg;
        (void)ret;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

void q_engine_shutdown(q_engine *q)
{
        (void)q;
}

void q_engine_close(q_engine *q)
{
        (void)q;
}

const char *q_engine_region(const q_engine *q)
{
        (void)q;
        return "InternalError";
}

const char *q_engine_account(const q_engine *q)
{
        (void)q;
        return "InternalError";
}

bool q_name_valid(const char *name)
{
        (void)name;
        return false;
}

int q_name_from_url(const q_engine *q, const char *url, char name[Q_NAME_MAX + 1], q_error *err)
{
        (void)q;
        (void)url;
        (void)name;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

char *q_queue_url(const q_engine *q, const char *host, const char *name)
{
        (void)q;
        (void)host;
        (void)name;
        return NULL;
}

char *q_queue_arn(const q_engine *q, const char *name)
{
        (void)q;
        (void)name;
        return NULL;
}

int q_create(q_engine *q, const char *name, const q_kvs *attrs, const q_kvs *tags, bool *ret_created, q_error *err)
{
        (void)q;
        (void)name;
        (void)attrs;
        (void)tags;
        (void)ret_created;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_exists(q_engine *q, const char *name, q_error *err)
{
        (void)q;
        (void)name;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_list(q_engine *q, const char *prefix, unsigned max, const char *next_token, char ***ret_names, size_t *ret_n, char **ret_next, q_error *err)
{
        (void)q;
        (void)prefix;
        (void)max;
        (void)next_token;
        (void)ret_names;
        (void)ret_n;
        (void)ret_next;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_delete(q_engine *q, const char *name, q_error *err)
{
        (void)q;
        (void)name;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_purge(q_engine *q, const char *name, q_error *err)
{
        (void)q;
        (void)name;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_get_attrs(q_engine *q, const char *name, const char *const *names, size_t n, q_kvs *ret, q_error *err)
{
        (void)q;
        (void)name;
        (void)names;
        (void)n;
        (void)ret;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_set_attrs(q_engine *q, const char *name, const q_kvs *attrs, q_error *err)
{
        (void)q;
        (void)name;
        (void)attrs;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_tag(q_engine *q, const char *name, const q_kvs *tags, q_error *err)
{
        (void)q;
        (void)name;
        (void)tags;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_untag(q_engine *q, const char *name, const char *const *keys, size_t n, q_error *err)
{
        (void)q;
        (void)name;
        (void)keys;
        (void)n;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_list_tags(q_engine *q, const char *name, q_kvs *ret, q_error *err)
{
        (void)q;
        (void)name;
        (void)ret;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_dlq_sources(q_engine *q, const char *name, unsigned max, const char *next_token, char ***ret_names, size_t *ret_n, char **ret_next, q_error *err)
{
        (void)q;
        (void)name;
        (void)max;
        (void)next_token;
        (void)ret_names;
        (void)ret_n;
        (void)ret_next;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_send(q_engine *q, const char *queue, const char *sender_id, const q_send_entry *e, size_t n, q_send_result *res, q_error *err)
{
        (void)q;
        (void)queue;
        (void)sender_id;
        (void)e;
        (void)n;
        (void)res;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

void q_messages_free(q_message *m, size_t n)
{
        (void)m;
        (void)n;
}

int q_receive(q_engine *q, const char *queue, const q_receive_req *r, q_message **ret, size_t *ret_n, q_error *err)
{
        (void)q;
        (void)queue;
        (void)r;
        (void)ret;
        (void)ret_n;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_delete_message(q_engine *q, const char *queue, const char *receipt, q_error *err)
{
        (void)q;
        (void)queue;
        (void)receipt;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_delete_batch(q_engine *q, const char *queue, const char *const *ids, const char *const *receipts, size_t n, q_batch_result *res, q_error *err)
{
        (void)q;
        (void)queue;
        (void)ids;
        (void)receipts;
        (void)n;
        (void)res;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_change_visibility(q_engine *q, const char *queue, const char *receipt, uint32_t timeout, q_error *err)
{
        (void)q;
        (void)queue;
        (void)receipt;
        (void)timeout;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_change_visibility_batch(q_engine *q, const char *queue, const char *const *ids, const char *const *receipts, const uint32_t *timeouts, size_t n, q_batch_result *res, q_error *err)
{
        (void)q;
        (void)queue;
        (void)ids;
        (void)receipts;
        (void)timeouts;
        (void)n;
        (void)res;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_move_start(q_engine *q, const char *source, const char *dest, uint32_t max_per_second, char **ret_task_handle, q_error *err)
{
        (void)q;
        (void)source;
        (void)dest;
        (void)max_per_second;
        (void)ret_task_handle;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_move_cancel(q_engine *q, const char *task_handle, uint64_t *ret_moved, q_error *err)
{
        (void)q;
        (void)task_handle;
        (void)ret_moved;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

int q_move_list(q_engine *q, const char *source, unsigned max, q_move_task **ret, size_t *ret_n, q_error *err)
{
        (void)q;
        (void)source;
        (void)max;
        (void)ret;
        (void)ret_n;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}

void q_move_tasks_free(q_move_task *t, size_t n)
{
        (void)t;
        (void)n;
}

int q_get_stats(q_engine *q, const char *name, q_stats *ret, q_error *err)
{
        (void)q;
        (void)name;
        (void)ret;
        (void)err;
        if (err) {
                err->code = Q_E_INTERNAL;
                snprintf(err->msg, sizeof(err->msg), "not implemented");
        }
        return -1;
}
