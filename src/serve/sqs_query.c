/* SPDX-License-Identifier: Apache-2.0 */
/* STUB: SQS over the query protocol (XML answers). The query adapter's helper replaces this file. */
#include "serve.h"
#include "util/util.h"

#include <string.h>

void sqs_query_handle(struct q_engine *q, const serve_req *r, const serve_kv *params, size_t n,
                      serve_resp *w)
{
        (void)q;
        (void)r;
        (void)params;
        (void)n;
        const char *b = "<ErrorResponse><Error><Type>Sender</Type><Code>AWS.SimpleQueueService."
                        "UnsupportedOperation</Code><Message>not implemented</Message></Error>"
                        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";
        serve_resp_set(w, 400, "text/xml", xstrdup(b), strlen(b));
}
