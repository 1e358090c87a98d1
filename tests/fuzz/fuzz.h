/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the fuzz harnesses (tests/fuzz/fuzz_*.c). Each harness defines
 * LLVMFuzzerTestOneInput; clang's libFuzzer (tools/fuzz) or tests/fuzz/driver.c (make check,
 * regression mode over tests/fuzz/corpus/NAME) calls it. Harnesses only read bytes: they never
 * mount, clone, or touch a path outside the private folders made here. */
#ifndef HUSK_FUZZ_H
#define HUSK_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A harness that finds a broken invariant calls this: prints what and aborts (a crash for
 * libFuzzer, a failed test for the driver). */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Inputs made of several files: parts separated by the line "\n----\n" (FUZZ_SEP). */
#define FUZZ_SEP "\n----\n"
#define FUZZ_MAX_PARTS 8
typedef struct fuzz_parts {
        char *part[FUZZ_MAX_PARTS]; /* NUL-terminated copies */
        size_t len[FUZZ_MAX_PARTS];
        size_t n;
} fuzz_parts;
void fuzz_split(const uint8_t *data, size_t size, fuzz_parts *ret);
void fuzz_parts_free(fuzz_parts *p);
/* A NUL-terminated copy of data (embedded NULs kept). */
char *fuzz_strndup(const uint8_t *data, size_t size);
/* Inputs made of a first line and a body: copies (as fuzz_strndup) of the line, up to the first
 * '\n' or all of data, and of what follows that '\n' (empty without one). Returns the line's
 * length; *ret_body_len is the body's. */
size_t fuzz_split_line(const uint8_t *data, size_t size, char **ret_line, char **ret_body,
                       size_t *ret_body_len);

/* A folder private to this process, created on first use under $TMPDIR (or /tmp) as
 * husk-fuzz-PID-XXXXXX and removed at exit. */
const char *fuzz_root(void);
/* rm -rf of path (no symlink is followed). */
void fuzz_rm_rf(const char *path);
/* Writes len bytes of data to dir/name (created or truncated); aborts on failure. */
void fuzz_write_file(int dirfd, const char *name, const char *data, size_t len);

/* The front door's harnesses (requests and answers as src/serve/serve.h has them). */
struct serve_req;
struct serve_resp;
/* *r as the front door hands a signed request to an adapter: these parts, no headers, and a
 * fixed host, principal (AKIDFUZZ) and request id ("fuzz-request"). Nothing is copied. */
void fuzz_req_init(struct serve_req *r, const char *method, const char *path,
                   const char *raw_path, const char *query, const char *body, size_t len);
/* The value of an answer's header, by name in any case; NULL when it has none. */
const char *fuzz_resp_header(const struct serve_resp *w, const char *name);
/* An answer's body, which must be valid UTF-8 (RFC 3629, checked here on its own rather than
 * with husk's utf8_valid_prefix, so that a bug there cannot hide) and one JSON object: parsed
 * (json_value_free it). Otherwise fuzz_fail, naming what. */
struct json_value;
struct json_value *fuzz_json_object(const char *what, const char *body, size_t len);

#endif
