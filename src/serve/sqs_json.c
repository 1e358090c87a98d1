/* SPDX-License-Identifier: Apache-2.0 */
/* STUB: SQS over AWS JSON 1.0. The JSON adapter's helper replaces this file. */
#include "serve.h"
#include "util/util.h"

#include <string.h>

void sqs_json_handle(struct q_engine *q, const serve_req *r, const char *op, serve_resp *w)
{
        (void)q;
        (void)r;
        (void)op;
        const char *b = "{\"__type\":\"com.amazonaws.sqs#UnsupportedOperation\",\"message\":\"not implemented\"}";
        serve_resp_set(w, 400, "application/x-amz-json-1.0", xstrdup(b), strlen(b));
}
