/* SPDX-License-Identifier: Apache-2.0 */
/* The queue engine's metrics (issue 17): at each scrape a collector reads every queue's figures
 * through the engine (q_stats_page: 64 queues per op, so that writes interleave with a scrape
 * of thousands of queues) into the registry of src/metrics, label queue="NAME":
 *   husk_queue_messages_sent_total, _received_total, _deleted_total
 *                          the engine's own counts, committed in the same transaction as the
 *                          sends, receives and deletes they count (durable: a restart keeps
 *                          them; a queue deleted and created again starts at 0)
 *   husk_queue_messages_visible, _in_flight, _delayed, husk_queue_oldest_message_age_seconds
 *                          the ApproximateNumberOf* figures of GetQueueAttributes, exact here
 * Sent counts accepted messages (a FIFO duplicate within the deduplication window is not sent
 * again); received counts messages handed out (a message past maxReceiveCount moved to its
 * dead-letter queue is not received, nor "sent" to the dead-letter queue, as with SQS). A queue
 * that is gone loses its series at the next scrape. */
#include "qint.h"
#include "metrics/metrics.h"
#include "util/util.h"

#include <string.h>

#define PAGE 64

static void declare(void)
{
        hm_declare("husk_queue_messages_sent_total", HM_COUNTER, "Messages sent to the queue");
        hm_declare("husk_queue_messages_received_total", HM_COUNTER,
                   "Messages handed out by ReceiveMessage (each receive of a message counts)");
        hm_declare("husk_queue_messages_deleted_total", HM_COUNTER,
                   "Messages deleted through their receipt handle");
        hm_declare("husk_queue_messages_visible", HM_GAUGE, "Messages available to receive");
        hm_declare("husk_queue_messages_in_flight", HM_GAUGE,
                   "Messages received and neither deleted nor visible again yet");
        hm_declare("husk_queue_messages_delayed", HM_GAUGE, "Messages not yet visible (delay)");
        hm_declare("husk_queue_oldest_message_age_seconds", HM_GAUGE,
                   "Age of the queue's oldest message, 0 when it is empty");
}

static void put(const q_named_stats *x)
{
        _cleanup_free_ char *l = hm_labels("queue", x->name, NULL);
        hm_set("husk_queue_messages_sent_total", l, (double)x->s.sent);
        hm_set("husk_queue_messages_received_total", l, (double)x->s.received);
        hm_set("husk_queue_messages_deleted_total", l, (double)x->s.deleted);
        hm_set("husk_queue_messages_visible", l, (double)x->s.visible);
        hm_set("husk_queue_messages_in_flight", l, (double)x->s.in_flight);
        hm_set("husk_queue_messages_delayed", l, (double)x->s.delayed);
        hm_set("husk_queue_oldest_message_age_seconds", l, (double)x->s.oldest_ms / 1000.0);
}

/* Runs under the registry's collector lock: q->m_names is this function's alone. */
static void collect(void *ud)
{
        q_engine *q = ud;
        char after[Q_NAME_MAX + 1] = "";
        char **names = NULL;
        size_t n = 0;
        _cleanup_free_ q_named_stats *page = xcalloc(PAGE, sizeof(*page));
        for (;;) {
                size_t k = 0;
                q_error err = { 0 };
                if (q_stats_page(q, after, PAGE, page, &k, &err) < 0) {
                        /* the store failed: the figures of the last scrape stay */
                        strv_free(names);
                        return;
                }
                for (size_t i = 0; i < k; i++) {
                        put(&page[i]);
                        names = xrealloc(names, (n + 2) * sizeof(*names));
                        names[n++] = xstrdup(page[i].name);
                        names[n] = NULL;
                }
                if (k < PAGE)
                        break;
                snprintf(after, sizeof(after), "%s", page[k - 1].name);
        }
        /* Both lists are in name order (SQLite's BINARY collation is strcmp's): one walk finds
         * the names of the last scrape that are gone. */
        for (size_t i = 0, j = 0; i < q->m_n; i++) {
                while (j < n && strcmp(names[j], q->m_names[i]) < 0)
                        j++;
                if (j < n && strcmp(names[j], q->m_names[i]) == 0)
                        continue;
                _cleanup_free_ char *l = hm_labels("queue", q->m_names[i], NULL);
                hm_forget(l);
        }
        strv_free(q->m_names);
        q->m_names = names;
        q->m_n = n;
}

void q_metrics_start(q_engine *q)
{
        declare();
        hm_collector_add(collect, q);
}

void q_metrics_stop(q_engine *q)
{
        hm_collector_remove(collect, q);
        for (size_t i = 0; i < q->m_n; i++) {
                _cleanup_free_ char *l = hm_labels("queue", q->m_names[i], NULL);
                hm_forget(l);
        }
        strv_free(q->m_names);
        q->m_names = NULL;
        q->m_n = 0;
}
