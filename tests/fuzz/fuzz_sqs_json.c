/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: the SQS AWS JSON 1.0 adapter (src/serve/sqs_json.c) over a real queue engine.
 * The input's first line is the operation (what follows "AmazonSQS." in X-Amz-Target), the rest
 * the request body, as the listener hands them over. The engine lives on a database in the
 * harness's private folder, with the queues "fz" and "fz.fifo" made at the first run, and is
 * shut down at once so that a ReceiveMessage never waits (a long poll answers what it has).
 * Invariants of every answer: a status is set; the body is a JSON object in valid UTF-8 with the
 * protocol's Content-Type and the request id; an error has its __type and message, and an
 * SQS error (com.amazonaws.sqs#...) carries x-amzn-query-error "CODE;Sender|Receiver".
 * Corpus (tests/fuzz/corpus/sqs_json): sdk-* are requests of @aws-sdk/client-sqs 3.1178.0 recorded
 * through a proxy (queue URLs pointed at fz, fz.fifo), the others written in their shape for the
 * operations and errors the SDK run does not reach. */
#include "fuzz.h"

#include "queue/queue.h"
#include "serve/serve.h"
#include "util/json.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static q_engine *E;

static void engine_init(void)
{
        if (E)
                return;
        char *path = xasprintf("%s/queue.db", fuzz_root());
        q_error err;
        memset(&err, 0, sizeof(err));
        if (q_engine_open(path, NULL, &E, &err) < 0)
                fuzz_fail("q_engine_open %s: %s", path, err.msg);
        free(path);
        q_kvs none = {0}, fifo = {0};
        bool created;
        q_kvs_add(&fifo, "FifoQueue", "true");
        if (q_create(E, "fz", &none, &none, &created, &err) < 0 ||
            q_create(E, "fz.fifo", &fifo, &none, &created, &err) < 0)
                fuzz_fail("q_create: %s", err.msg);
        q_kvs_free(&fifo);
        q_engine_shutdown(E);
}

static void check(const char *op, const serve_resp *w)
{
        if (w->status < 200 || w->status > 599)
                fuzz_fail("%s: status %u", op, w->status);
        if (!w->body)
                fuzz_fail("%s: no body", op);
        const char *ct = fuzz_resp_header(w, "Content-Type");
        const char *rid = fuzz_resp_header(w, "x-amzn-RequestId");
        if (!ct || strcmp(ct, "application/x-amz-json-1.0") != 0)
                fuzz_fail("%s: Content-Type %s", op, ct ? ct : "(none)");
        if (!rid || strcmp(rid, "fuzz-request") != 0)
                fuzz_fail("%s: x-amzn-RequestId %s", op, rid ? rid : "(none)");
        json_value *v = fuzz_json_object(op, w->body, w->len);
        if (w->status != 200) {
                const char *type = json_get_str(v, "__type");
                if (!type || !json_get_str(v, "message"))
                        fuzz_fail("%s: error without __type and message: %s", op, w->body);
                const char *qe = fuzz_resp_header(w, "x-amzn-query-error");
                if (strncmp(type, "com.amazonaws.sqs#", 18) == 0) {
                        const char *semi = qe ? strchr(qe, ';') : NULL;
                        if (!semi || semi == qe ||
                            (strcmp(semi, ";Sender") != 0 && strcmp(semi, ";Receiver") != 0))
                                fuzz_fail("%s: x-amzn-query-error '%s' for %s", op,
                                          qe ? qe : "(none)", type);
                }
        }
        json_value_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        engine_init();
        char *op, *body;
        size_t blen;
        fuzz_split_line(data, size, &op, &body, &blen);
        serve_req r;
        fuzz_req_init(&r, "POST", "/", "/", "", body, blen);
        serve_resp w;
        memset(&w, 0, sizeof(w));
        sqs_json_handle(E, &r, op, &w);
        check(op, &w);
        serve_resp_free(&w);
        free(body);
        free(op);
        return 0;
}
