/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the config module: typed getters over a yajl tree that report errors with the
 * file name and the JSON path, name tables, and the per-section parsers. Only config/ includes it.
 */
#ifndef HUSK_CONFIG_INTERNAL_H
#define HUSK_CONFIG_INTERNAL_H

#include "config/oci_config.h"
#include "util/util.h"

#include <yajl/yajl_tree.h>

/* config.json above this size is refused (a runtime config is a few KiB; podman's is ~20 KiB). */
#define CONFIG_MAX_SIZE (4u * 1024u * 1024u)
/* Room for a JSON path such as .linux.resources.blockIO.throttleReadBpsDevice[12].rate. */
#define JPATH_MAX 512

typedef struct jctx {
        const char *fname;
        husk_error_t *err;
        /* Warnings: what husk accepts but skips because it only grants less (runc and crun skip
         * it too). NULL-terminated, "FNAME: PATH: message" each; moved into the parsed struct. */
        char **warnings;
        size_t n_warnings;
} jctx;

/* Set a validation error "FNAME: PATH: message" (EINVAL). Returns -EINVAL. */
int jerr(jctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record a warning "FNAME: PATH: message" (see jctx.warnings). */
void jwarn(jctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Child paths: parent + ".key", parent + "[i]", parent + "[\"key\"]". */
void jpath_key(char *buf, const char *parent, const char *key);
void jpath_idx(char *buf, const char *parent, size_t i);
void jpath_qkey(char *buf, const char *parent, const char *key);

/* "a string", "a number", ... for "expected X, got Y" messages. */
const char *jtype(yajl_val v);
/* The value of key in obj (the last one if repeated); NULL when absent or JSON null. */
yajl_val jfield(yajl_val obj, const char *key);
/* An object that is absent, null or {} counts as unset. */
bool jobject_empty(yajl_val v);

/* Each getter reads obj.key (path = parent + ".key"); absent or null leaves the outputs untouched
 * (and *has false) and returns 0, unless the _req form is used. */
int jget_object(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                yajl_val *ret);
/* An optional object, as jget_object, whose path (parent + ".key") goes to ret_path (JPATH_MAX
 * bytes) for the checks of its fields. */
int jget_section(jctx *c, yajl_val obj, const char *parent, const char *key, yajl_val *ret,
                 char *ret_path);
int jget_array(jctx *c, yajl_val obj, const char *parent, const char *key, yajl_val *ret);
/* ret receives an allocated copy; an empty string is returned as "" (callers decide). */
int jget_string(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                char **ret);
int jget_bool(jctx *c, yajl_val obj, const char *parent, const char *key, bool *has, bool *ret);
int jget_int64(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
               int64_t min, int64_t max, bool *has, int64_t *ret);
int jget_uint64(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                uint64_t max, bool *has, uint64_t *ret);
int jget_uint32(jctx *c, yajl_val obj, const char *parent, const char *key, bool required,
                bool *has, uint32_t *ret);
/* An array of objects: *ret is NULL when absent; every element is checked to be an object before
 * the caller sees any. ret_path receives parent + ".key" (JPATH_MAX bytes). */
int jget_objects(jctx *c, yajl_val obj, const char *parent, const char *key, yajl_val *ret,
                 char *ret_path);
/* Parses one element of an array (see jparse_array): e is the element, path its JSON path, elem
 * its zeroed slot in the allocated array, data the caller's. */
typedef int (*jelem_fn)(jctx *c, yajl_val e, const char *path, void *elem, void *data);
/* obj.key, an array of objects, parsed into a calloc'd array of as many elements of size bytes
 * (one at least, so [] gives a non-NULL array), each by fn. ret is the address of the caller's
 * pointer to that array; it and *ret_n are set before any element is parsed, so the owner's free
 * function sees the partly parsed ones. Absent or null leaves both untouched. check_first: every
 * element is checked to be an object before any is parsed (else each when its turn comes). */
int jparse_array(jctx *c, yajl_val obj, const char *parent, const char *key, bool check_first,
                 size_t size, jelem_fn fn, void *data, void *ret, size_t *ret_n);
/* A string read by jget_string that is "" counts as absent: free it, leave NULL. */
void jdrop_empty(char **s);
/* An array of strings, copied into a NULL-terminated vector. */
int jget_strv(jctx *c, yajl_val obj, const char *parent, const char *key, char ***ret, size_t *n);
/* An object whose values are all strings. */
int jget_kv(jctx *c, yajl_val obj, const char *parent, const char *key, config_kv **ret, size_t *n);
/* Value checks on an already-read value at path. */
int jval_int64(jctx *c, yajl_val v, const char *path, int64_t min, int64_t max, int64_t *ret);
int jval_uint64(jctx *c, yajl_val v, const char *path, uint64_t max, uint64_t *ret);

/* Parse text into a tree, with yajl's message (line/column) on error. */
int jparse(jctx *c, const char *json, size_t len, yajl_val *ret);

/* A whole document: parse text, hand the tree to fn(c, tree, "", ret, NULL), free the tree. The
 * warnings go to *ret_warnings when fn succeeds (NULL when none); else, or when ret_warnings is
 * NULL, they are dropped. */
int jparse_doc(const char *json, size_t len, const char *fname, husk_error_t *err, jelem_fn fn,
               void *ret, char ***ret_warnings);

/* ---- name tables (names.c) ---- */
/* The index of name in a table of n names (NULL entries are unused); -1 when absent. */
int config_name_index(const char *const *names, size_t n, const char *name);
int config_ns_from_name(const char *name, int *ret_clone_flag);
const char *config_ns_name(config_ns_type t);
int config_propagation_from_name(const char *name);
int config_seccomp_action_from_name(const char *name);
int config_seccomp_op_from_name(const char *name);
bool config_seccomp_flag_known(const char *name);

/* ---- section parsers ---- */
int config_parse_process_obj(jctx *c, yajl_val v, const char *path, config_process **ret);
int config_parse_resources_obj(jctx *c, yajl_val v, const char *path, config_resources **ret);
int config_parse_seccomp_obj(jctx *c, yajl_val v, const char *path, config_seccomp **ret);
void config_seccomp_free(config_seccomp *s);
void config_kv_free(config_kv *kv, size_t n);

#endif
