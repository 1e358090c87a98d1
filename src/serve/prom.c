/* SPDX-License-Identifier: Apache-2.0 */
/* GET /metrics: a stub until the metrics work lands. */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

void prom_handle(const serve_req *r, serve_resp *w)
{
        (void)r;
        serve_resp_set(w, 200, "text/plain; version=0.0.4", strdup(""), 0);
}
