/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the pure part of event source mappings (issue 14): which items of a batch go back to
 * the queue after an invocation. Unit-tested (tests/unit/test_fn_esm.c). */
#include "fn.h"
#include "util/json.h"

#include <string.h>

static void all(bool *failed, size_t n)
{
        for (size_t i = 0; i < n; i++)
                failed[i] = true;
}

/* Lambda's rules for a ReportBatchItemFailures answer (see fn.h). */
static void named(const char *body, size_t len, const char *const *ids, size_t n, bool *failed)
{
        json_value *v = NULL;
        char why[128];
        while (len && (body[len - 1] == '\n' || body[len - 1] == ' ' || body[len - 1] == '\r'))
                len--;
        if (len == 0)
                return;
        if (json_parse(body, len, &v, why, sizeof(why)) < 0 ||
            (v->type != JSON_NULL && v->type != JSON_OBJECT)) {
                json_value_free(v);
                return all(failed, n);
        }
        const json_value *f = json_get(v, "batchItemFailures");
        bool bad = f && f->type != JSON_NULL && f->type != JSON_ARRAY;
        for (size_t i = 0; f && f->type == JSON_ARRAY && i < f->n && !bad; i++) {
                const char *id = json_get_str(f->items[i], "itemIdentifier");
                size_t k = 0;
                while (id && *id && k < n && strcmp(ids[k], id) != 0)
                        k++;
                if (!id || !*id || k == n)
                        bad = true;
                else
                        failed[k] = true;
        }
        json_value_free(v);
        if (bad)
                all(failed, n);
}

void fn_esm_failures(bool ok, bool report_failures, const char *body, size_t len,
                     const char *const *ids, const char *const *groups, size_t n, bool *failed)
{
        for (size_t i = 0; i < n; i++)
                failed[i] = false;
        if (!ok)
                all(failed, n);
        else if (report_failures)
                named(body ? body : "", body ? len : 0, ids, n, failed);
        /* FIFO: a failed item holds back the items after it in its message group (Lambda's
         * rule for partial batch responses of FIFO queues), so the group's order survives. */
        for (size_t i = 0; groups && i < n; i++) {
                if (!failed[i] || !groups[i])
                        continue;
                for (size_t k = i + 1; k < n; k++)
                        if (groups[k] && strcmp(groups[i], groups[k]) == 0)
                                failed[k] = true;
        }
}
