/* SPDX-License-Identifier: Apache-2.0 */
/* A small JSON writer (state documents, list output, the CLI's JSON log lines) and a bounded
 * reader for flat documents (husk's own state.json). Strings are escaped per RFC 8259: quote,
 * backslash and every control character; bytes >= 0x80 are passed through unchanged. */
#ifndef HUSK_JSON_H
#define HUSK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct json_writer json_writer;

/* pretty: two-space indentation, "key": value, like runc's pretty output; otherwise compact. */
json_writer *json_writer_new(bool pretty);
void json_obj_begin(json_writer *w);
void json_obj_end(json_writer *w);
void json_arr_begin(json_writer *w);
void json_arr_end(json_writer *w);
/* Inside an object: the next value's key. */
void json_key(json_writer *w, const char *key);
void json_str(json_writer *w, const char *s); /* NULL writes null */
void json_int(json_writer *w, int64_t v);
void json_uint(json_writer *w, uint64_t v);
/* A number with a fixed count of decimals (Lambda's epoch-seconds timestamps: 3). */
void json_fixed(json_writer *w, double v, int decimals);
void json_bool(json_writer *w, bool v);
void json_null(json_writer *w);
/* Shorthands for key + value. */
void json_kv_str(json_writer *w, const char *key, const char *s);
void json_kv_int(json_writer *w, const char *key, int64_t v);
void json_kv_uint(json_writer *w, const char *key, uint64_t v);
void json_kv_bool(json_writer *w, const char *key, bool v);
/* Returns the document (allocated) and frees the writer. */
char *json_writer_finish(json_writer *w);
void json_writer_free(json_writer *w);

/* The quoted, escaped form of s, allocated. */
char *json_quote(const char *s);

/* ---- reader: a parsed value tree with bounded depth and size ---- */
typedef enum json_type {
        JSON_NULL = 0,
        JSON_BOOL,
        JSON_NUMBER, /* kept as text: convert with parse_int64 / parse_uint64 */
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
} json_type;

typedef struct json_value json_value;
struct json_value {
        json_type type;
        bool boolean;
        char *str;    /* JSON_STRING (unescaped, NUL-terminated; embedded NUL refused) or JSON_NUMBER */
        size_t n;     /* JSON_ARRAY / JSON_OBJECT: number of items */
        char **keys;  /* JSON_OBJECT */
        json_value **items;
};

#define JSON_MAX_DEPTH 32

/* Parse a whole document. On error returns -EINVAL and writes a short reason with the byte offset
 * into errbuf. */
int json_parse(const char *text, size_t len, json_value **ret, char *errbuf, size_t errlen);
void json_value_free(json_value *v);
/* Object member lookup (NULL when absent or when v is not an object). */
const json_value *json_get(const json_value *v, const char *key);
/* Typed getters: NULL / false when absent or of another type. */
const char *json_get_str(const json_value *v, const char *key);

#endif
