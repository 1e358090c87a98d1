/* SPDX-License-Identifier: Apache-2.0 */
/* What the command lines that are clients of the running `husk serve` share (`husk api`,
 * `husk queue`, `husk fn schedule`, `husk fn invoke|map|unmap|maps|stats`): their option syntax,
 * the server they talk to and the keys they sign with (--store, --endpoint, --region), and one
 * signed call whose answer, or error, becomes their output. Command-line code: it prints each
 * error as "PROG: reason" on stderr and returns 1, what the callers' own messages do. */
#ifndef HUSK_SERVE_CLICLIENT_H
#define HUSK_SERVE_CLICLIENT_H

#include "client.h"
#include "util/json.h"

#include <stdbool.h>
#include <stddef.h>

/* "PROG: " and the message on stderr; 1. */
int cliclient_fail(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- options: --NAME VALUE, --NAME=VALUE, flags and positional words into the caller's struct */

typedef struct cliclient_opt {
        const char *name; /* a value's name ("endpoint"), a flag's whole word ("--delete", "-f") */
        size_t off;       /* in the caller's struct: a value's const char *, a flag's bool */
} cliclient_opt;

typedef struct cliclient_syntax {
        const char *prog; /* "husk api": what each message starts with */
        const char *help; /* "husk api --help": what the messages send the user to */
        const cliclient_opt *values, *flags;
        size_t n_values, n_flags;
        size_t help_off;           /* the bool -h and --help set */
        size_t pos_off, npos_off;  /* const char *[max_pos] and its int count */
        int max_pos;
        bool plain_overflow;       /* "too many arguments at ARG": no quotes, no help (husk fn) */
        /* A value option the table does not name: 1 taken, 0 unknown, -1 refused (printed). */
        int (*more)(void *args, const char *name, size_t len, const char *val);
} cliclient_syntax;

/* 0, or 1 with the error printed. */
int cliclient_parse(const cliclient_syntax *s, int argc, char **argv, void *args);

/* ---- the server and the caller */

typedef struct cliclient {
        const char *prog;
        char *endpoint, *region;
        serve_creds creds;
        bool have_creds;
} cliclient;

/* --endpoint, else the address the server serving the store wrote (STORE/fn/serve.addr), else
 * 127.0.0.1:9000. store: the --store option (NULL: the default). Allocated. */
char *cliclient_endpoint(const char *store, const char *endpoint);

/* The endpoint; the region (--region, else STORE/fn/serve.region, else us-east-1); the keys (the
 * store's, else $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, else none: requests go unsigned,
 * which a server with --no-auth accepts). */
void cliclient_open(cliclient *c, const char *prog, const char *store, const char *endpoint,
                    const char *region);
void cliclient_close(cliclient *c);

/* ---- one signed call */

/* How a protocol's answers read. */
typedef struct cliclient_wire {
        const char *hint; /* after the reason a call could not be made ("" for none) */
        /* Success is 200 with a JSON body (SQS's JSON protocol, the Scheduler); else any 2xx,
         * an empty body allowed (REST APIs: DELETE answers 204). */
        bool strict;
        /* The text of an error answer (v: its JSON, NULL when the body is empty). Allocated. */
        char *(*error)(const serve_answer *an, const json_value *v);
        /* The text of an answer that is not JSON; NULL: "HTTP 502, not JSON: BODY" (200 bytes). */
        char *(*not_json)(const serve_answer *an);
} cliclient_wire;

typedef struct cliclient_req {
        const char *service; /* what SigV4 signs for: "sqs", "lambda", ... */
        const char *method, *path;
        const serve_kv *headers;
        size_t n_headers;
        const char *body; /* NULL: none */
        size_t len;       /* 0: strlen(body) */
        const char *op;   /* named before each error of the call ("SendMessage: ..."), or NULL */
} cliclient_req;

/* The answer as it came: 0, or 1 with why it could not be had printed. */
int cliclient_send(const cliclient *c, const cliclient_wire *w, const cliclient_req *rq,
                   serve_answer *ret);

/* The answer's JSON in *ret (an empty body: a JSON null; ret NULL: dropped): 0, or 1 with the
 * error printed. */
int cliclient_call(const cliclient *c, const cliclient_wire *w, const cliclient_req *rq,
                   json_value **ret);

/* A REST JSON call: body (taken; NULL: none) sent as application/json. */
int cliclient_rest(const cliclient *c, const cliclient_wire *w, const char *service,
                   const char *method, const char *path, char *body, json_value **ret);

#endif
