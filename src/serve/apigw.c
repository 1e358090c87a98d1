/* SPDX-License-Identifier: Apache-2.0 */
/* apigatewayv2's control plane: a stub until the gwcore work lands. */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

void apigw_handle(struct gw_store *g, const serve_req *r, serve_resp *w)
{
        (void)g;
        (void)r;
        const char *m = "{\"message\":\"HTTP APIs are not served yet\"}";
        serve_resp_set(w, 503, "application/json", strdup(m), strlen(m));
        serve_resp_header(w, "x-amzn-ErrorType", "ServiceUnavailableException");
}
