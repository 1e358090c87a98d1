/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the harnesses of Lambda's REST adapters (fuzz_lambda_api, fuzz_esm): a function host
 * without workers, requests written as text, and the invariants of every answer.
 *
 * The host: src/fn/host.c is not linked. Its fn_host_new forks the zygote, pins the freezer
 * cgroup and starts threads, none of which the control plane uses: the adapters only read and
 * write the function records (fn_db), name ARNs and read the options (store, --zip-base-image).
 * fuzz_fn.c defines struct fn_host with exactly those over a real fn.db in a private store
 * (fuzz_root()/store, removed at exit); an invocation is never reached (it would be a broken
 * invariant: the harnesses start no poller). */
#ifndef HUSK_FUZZ_FN_H
#define HUSK_FUZZ_FN_H

#include "fn/fn.h"
#include "serve/serve.h"

#include <stdbool.h>
#include <stddef.h>

/* The host over STORE = fuzz_root()/store (STORE/fn made, fn.db opened); zip_base: the
 * --zip-base-image (NULL: none). Once per process. */
fn_host *fuzz_fn_host(const char *zip_base);

/* One request written as text: the first line "METHOD PATH[?QUERY]", the rest the body. The
 * path is %-decoded as the front door does (src/fn/front.c first_call). */
typedef struct fuzz_fn_req {
        char *method, *raw_path, *path, *query, *body;
        serve_req r;
} fuzz_fn_req;
/* -1 when the text is no request (no space in the first line, an empty method or path, a
 * path with a bad escape or a NUL: the front door never hands such a path to an adapter). */
int fuzz_fn_req_parse(const char *text, size_t len, fuzz_fn_req *q);
void fuzz_fn_req_free(fuzz_fn_req *q);

/* The invariants of a Lambda REST-JSON answer: a status from 200 to 599; 204 without a body;
 * otherwise an application/json body that is one JSON object in valid UTF-8; an error (>= 400)
 * carries x-amzn-ErrorType and a body with "Type" and "message" (or "Message"). */
void fuzz_fn_check(const char *what, const serve_resp *w);
/* With HUSK_FUZZ_VERBOSE set: the request line and the answer on stderr (to read what a corpus
 * file does: tests/fuzz/fuzz_NAME FILE). */
void fuzz_fn_trace(const fuzz_fn_req *q, const serve_resp *w);

#endif
