/* SPDX-License-Identifier: Apache-2.0 */
#include "fn.h"
#include "serve/serve.h"
#include "util/util.h"

void fn_api_handle(fn_host *h, const serve_req *r, serve_resp *w)
{
        (void)h;
        (void)r;
        serve_resp_set(w, 404, "application/json", xstrdup("{}"), 2);
}
