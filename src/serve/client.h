/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: the client side husk's own commands use (`husk queue ...`): one HTTP/1.1 request to
 * the front door over TCP (ADDR:PORT) or a unix socket (a path), signed with SigV4 when keys are
 * given, and its answer read whole (bounded). */
#ifndef HUSK_SERVE_CLIENT_H
#define HUSK_SERVE_CLIENT_H

#include "auth.h"

#include <stddef.h>

#define SERVE_CLIENT_ANSWER_MAX (64u << 20)

typedef struct serve_call {
        const char *endpoint; /* "127.0.0.1:9000" or "/path/to/socket" */
        const char *method, *path;
        const serve_kv *headers; /* extra headers (Content-Type, X-Amz-Target, ...) */
        size_t n_headers;
        const char *body;
        size_t len;
        const serve_creds *creds; /* NULL: unsigned */
        const char *region, *service;
} serve_call;

typedef struct serve_answer {
        unsigned status;
        char *head; /* status line and headers */
        char *body; /* NUL-terminated */
        size_t len;
} serve_answer;

/* 0 with the answer, or -errno (connect, send, a malformed or oversized answer); why says what. */
int serve_client_call(const serve_call *c, serve_answer *ret, char *why, size_t why_len);
void serve_answer_free(serve_answer *a);

#endif
