/* SPDX-License-Identifier: Apache-2.0 */
/* EventBridge Scheduler's control plane: a stub until the sched work lands. */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

void scheduler_handle(struct sched_engine *s, const serve_req *r, serve_resp *w)
{
        (void)s;
        (void)r;
        const char *m = "{\"Message\":\"schedules are not served yet\"}";
        serve_resp_set(w, 503, "application/json", strdup(m), strlen(m));
        serve_resp_header(w, "x-amzn-ErrorType", "InternalServerException");
}
