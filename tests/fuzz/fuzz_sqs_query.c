/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: the SQS query-protocol adapter (src/serve/sqs_query.c) over a real queue engine
 * on a private database. The input is a form body as awscli and boto3 send it
 * (Action=SendMessage&QueueUrl=...); an input of two parts (FUZZ_SEP) is a request path and a
 * body (older clients POST to the queue's URL). Each input goes through serve_form_parse, as
 * the front door does, then sqs_query_handle. The engine keeps its state between inputs (queues
 * made by one input serve the next), bounded by the engine's own limits.
 *
 * Invariants: every answer has a status of 200, 400, 403 or 500 and an XML body whose tags
 * balance and whose text holds no raw '<' and no '&' outside an entity (the adapter escapes
 * everything it echoes); a 200 answer is the operation's <ActionResponse>.
 *
 * Long polling would stall the fuzzer: every WaitTimeSeconds parameter is replaced by 0, and a
 * ReceiveMessage always carries WaitTimeSeconds=0 (so a queue's ReceiveMessageWaitTimeSeconds
 * never applies). */
#include "fuzz.h"

#include "queue/queue.h"
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static q_engine *engine;

static uint64_t fixed_clock(void *ctx)
{
        uint64_t *t = ctx;
        return *t += 1000; /* one second per call: visibility timeouts and delays do end */
}

static q_engine *get_engine(void)
{
        static uint64_t now = 1700000000000ull;
        if (engine)
                return engine;
        char *db = NULL;
        if (asprintf(&db, "%s/queue.db", fuzz_root()) < 0)
                abort();
        q_config cfg = { .clock = fixed_clock, .clock_ctx = &now };
        q_error err = { 0 };
        if (q_engine_open(db, &cfg, &engine, &err) < 0)
                fuzz_fail("q_engine_open %s: %s", db, err.msg);
        free(db);
        return engine;
}

static bool is_entity(const char *p)
{
        static const char *const ent[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
        for (size_t i = 0; i < sizeof(ent) / sizeof(ent[0]); i++)
                if (strncmp(p, ent[i], strlen(ent[i])) == 0)
                        return true;
        if (strncmp(p, "&#x", 3) == 0) {
                size_t h = strspn(p + 3, "0123456789ABCDEFabcdef");
                return h >= 1 && h <= 6 && p[3 + h] == ';';
        }
        return false;
}

/* Tags balance; text escaped. Returns the first complaint or NULL. */
static const char *check_xml(const char *b, size_t len)
{
        const char *stack[64];
        size_t lens[64], depth = 0;
        if (strlen(b) != len)
                return "NUL byte in the body";
        if (strncmp(b, "<?xml version=\"1.0\"?>", 21) != 0)
                return "no XML declaration";
        const char *p = b + 21;
        while (*p) {
                if (*p == '&') {
                        if (!is_entity(p))
                                return "a raw '&' in text";
                        p++;
                        continue;
                }
                if (*p != '<') {
                        if (*p == '>')
                                return "a raw '>' in text";
                        p++;
                        continue;
                }
                const char *e = strchr(p, '>');
                if (!e)
                        return "an unterminated tag";
                const char *name = p + 1;
                bool closing = *name == '/', empty = e[-1] == '/';
                if (closing)
                        name++;
                size_t nl = strcspn(name, " />");
                if (nl == 0 || name + nl > e)
                        return "an empty tag name";
                if (closing) {
                        if (depth == 0 || lens[depth - 1] != nl || strncmp(stack[depth - 1], name, nl))
                                return "a closing tag that does not match";
                        depth--;
                } else if (!empty) {
                        if (depth == 64)
                                return "nesting deeper than 64";
                        stack[depth] = name;
                        lens[depth++] = nl;
                }
                p = e + 1;
        }
        return depth ? "unclosed elements" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_parts parts;
        fuzz_split(data, size, &parts);
        const char *path = parts.n > 1 ? parts.part[0] : "/";
        const char *form = parts.part[parts.n > 1 ? 1 : 0];
        size_t flen = parts.len[parts.n > 1 ? 1 : 0];
        serve_kv *p = NULL;
        size_t n = 0;
        if (serve_form_parse(form, flen, 4096, &p, &n) < 0) {
                fuzz_parts_free(&parts);
                return 0;
        }
        /* no long poll: WaitTimeSeconds=0 always */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(p[i].name, "WaitTimeSeconds") == 0) {
                        free(p[i].name);
                        free(p[i].value);
                        continue;
                }
                p[k++] = p[i];
        }
        n = k;
        p = realloc(p, (n + 1) * sizeof(*p));
        if (!p)
                abort();
        p[n].name = strdup("WaitTimeSeconds");
        p[n].value = strdup("0");
        n++;
        serve_req r = { .method = "POST",
                        .path = path,
                        .raw_path = path,
                        .query = "",
                        .body = form,
                        .len = flen,
                        .host = "127.0.0.1:4566",
                        .principal = "AKIDFUZZ",
                        .request_id = "00000000-0000-4000-8000-000000000000" };
        serve_resp w = { 0 };
        sqs_query_handle(get_engine(), &r, p, n, &w);
        if (w.status != 200 && w.status != 400 && w.status != 403 && w.status != 500)
                fuzz_fail("status %u", w.status);
        if (!w.body)
                fuzz_fail("no body (status %u)", w.status);
        const char *why = check_xml(w.body, w.len);
        if (why)
                fuzz_fail("%s: %.*s", why, (int)(w.len > 2000 ? 2000 : w.len), w.body);
        if (w.status == 200) {
                const char *action = serve_kvs_get(p, n, "Action");
                char want[160];
                snprintf(want, sizeof(want), "</%sResponse>", action ? action : "?");
                size_t wl = strlen(want);
                if (w.len < wl || strcmp(w.body + w.len - wl, want) != 0)
                        fuzz_fail("200 without %s", want);
        }
        serve_resp_free(&w);
        serve_kvs_free(p, n);
        fuzz_parts_free(&parts);
        return 0;
}
