/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: Lambda's control plane (issue 14), an adapter of the front door (serve.h). It
 * translates the REST requests of the 2015-03-31 API (and the 2017-03-31 tags, 2017-10-31 and
 * 2019-09-30 concurrency paths) into reads and writes of the function records that `husk fn
 * create/update/rm` writes too, and renders Lambda's shapes: FunctionConfiguration,
 * GetFunction's Code/Tags/Concurrency, errors with x-amzn-ErrorType and {"Type","message"}.
 *
 *   POST   /2015-03-31/functions                        CreateFunction (201)
 *   GET    /2015-03-31/functions/                       ListFunctions (Marker, MaxItems)
 *   GET    /2015-03-31/functions/NAME                   GetFunction
 *   DELETE /2015-03-31/functions/NAME                   DeleteFunction (204)
 *   GET    /2015-03-31/functions/NAME/configuration     GetFunctionConfiguration
 *   PUT    /2015-03-31/functions/NAME/configuration     UpdateFunctionConfiguration
 *   PUT    /2015-03-31/functions/NAME/code              UpdateFunctionCode
 *   PUT    /2017-10-31/functions/NAME/concurrency       PutFunctionConcurrency
 *   DELETE /2017-10-31/functions/NAME/concurrency       DeleteFunctionConcurrency (204)
 *   GET    /2019-09-30/functions/NAME/concurrency       GetFunctionConcurrency
 *   POST|GET|DELETE /2017-03-31/tags/ARN                TagResource / ListTags / UntagResource
 * NAME is a name, a partial ARN or a full ARN. Everything a function runs is checked here
 * before the record is written: its image resolves, its zip unpacks within Lambda's bounds. */
#include "fn.h"
#include "serve/serve.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/util.h"

#include <string.h>

#define FN_TAGS_MAX 50
#define FN_ENV_BYTES_MAX 4096 /* Lambda: 4 KB of environment variables */
#define FN_LIST_DEFAULT 50
#define FN_RESERVED_MAX 1000

typedef struct api {
        fn_host *h;
        const serve_req *r;
        serve_resp *w;
} api;

/* Lambda's errors: x-amzn-ErrorType and {"Type", "message" or "Message"} (fn_error_key). */
#define api_errorf(a, status, type, ...)                                                          \
        serve_rest_error((a)->w, status, type, true, fn_error_key(type), __VA_ARGS__)
#define BAD(a, ...) api_errorf(a, 400, "InvalidParameterValueException", __VA_ARGS__)

static void not_found(api *a, const char *name)
{
        _cleanup_free_ char *arn = fn_host_function_arn(a->h, name);
        api_errorf(a, 404, "ResourceNotFoundException", "Function not found: %s", arn);
}

static void api_json(api *a, unsigned status, char *body)
{
        serve_resp_set(a->w, status, "application/json", body, strlen(body));
}

/* The record of the function a path or a body names; NULL when the answer went out. */
static fn_def *load(api *a, const char *ref)
{
        char name[FN_NAME_MAX + 1];
        int r = fn_arn_name(ref, name);
        /* ?Qualifier=: $LATEST is the only version here. */
        serve_kv *q = NULL;
        size_t nq = 0;
        if (r == 0 && serve_form_parse(a->r->query, strlen(a->r->query), 16, &q, &nq) == 0) {
                const char *ql = serve_kvs_get(q, nq, "Qualifier");
                if (ql && strcmp(ql, "$LATEST") != 0)
                        r = -ENOENT;
        }
        serve_kvs_free(q, nq);
        if (r == -EINVAL) {
                api_errorf(a, 400, "ValidationException", "1 validation error detected: Value "
                           "'%.200s' at 'functionName' failed to satisfy constraint: Member must "
                           "be a function name (1 to %d of A-Z a-z 0-9 - _) or its ARN",
                           ref, FN_NAME_MAX);
                return NULL;
        }
        if (r == -ENOENT) {
                _cleanup_free_ char *arn = fn_host_function_arn(a->h, name);
                api_errorf(a, 404, "ResourceNotFoundException", "Function not found: %s (husk "
                           "keeps $LATEST only: no versions or aliases)", arn);
                return NULL;
        }
        fn_def *d = NULL;
        husk_error_t err = { 0 };
        if (fn_db_get(fn_host_db(a->h), name, &d, &err) < 0) {
                if (err.code == ENOENT)
                        not_found(a, name);
                else
                        api_errorf(a, 500, "ServiceException", "%s", err.msg);
                return NULL;
        }
        return d;
}

static bool is_zip(const fn_def *d)
{
        return d->package_type && strcmp(d->package_type, "Zip") == 0;
}

/* ---------------------------------------------------------------- rendering */

static void kv_strv(json_writer *j, const char *key, char *const *v)
{
        json_key(j, key);
        json_arr_begin(j);
        for (size_t i = 0; v && v[i]; i++)
                json_str(j, v[i]);
        json_arr_end(j);
}

static void tags_obj(json_writer *j, char *const *tags)
{
        json_obj_begin(j);
        for (size_t i = 0; tags && tags[i] && tags[i + 1]; i += 2)
                json_kv_str(j, tags[i], tags[i + 1]);
        json_obj_end(j);
}

/* FunctionConfiguration. pending: the answer of CreateFunction (Lambda's State then). */
static void config_json(api *a, json_writer *j, const fn_def *d, bool pending)
{
        _cleanup_free_ char *arn = fn_host_function_arn(a->h, d->name);
        char lm[32];
        if (fn_lambda_time(d->updated, lm) < 0)
                snprintf(lm, sizeof(lm), "1970-01-01T00:00:00.000+0000");
        json_obj_begin(j);
        json_kv_str(j, "FunctionName", d->name);
        json_kv_str(j, "FunctionArn", arn);
        if (is_zip(d)) {
                json_kv_str(j, "Runtime", d->runtime);
                json_kv_str(j, "Handler", d->handler);
        }
        if (d->role && *d->role)
                json_kv_str(j, "Role", d->role);
        json_kv_uint(j, "CodeSize", d->code_size);
        json_kv_str(j, "Description", d->description ? d->description : "");
        json_kv_uint(j, "Timeout", (d->timeout_ms + 999) / 1000);
        json_kv_uint(j, "MemorySize", d->memory_mb);
        json_kv_str(j, "LastModified", lm);
        json_kv_str(j, "CodeSha256", d->code_sha256 ? d->code_sha256 : "");
        json_kv_str(j, "Version", "$LATEST");
        if (d->env && d->env[0]) {
                json_key(j, "Environment");
                json_obj_begin(j);
                json_key(j, "Variables");
                json_obj_begin(j);
                for (size_t i = 0; d->env[i]; i++) {
                        const char *eq = strchr(d->env[i], '=');
                        if (!eq)
                                continue;
                        _cleanup_free_ char *k = xstrndup(d->env[i], (size_t)(eq - d->env[i]));
                        json_kv_str(j, k, eq + 1);
                }
                json_obj_end(j);
                json_obj_end(j);
        }
        json_key(j, "TracingConfig");
        json_obj_begin(j);
        json_kv_str(j, "Mode", "PassThrough");
        json_obj_end(j);
        json_kv_str(j, "State", pending ? "Pending" : "Active");
        if (pending) {
                json_kv_str(j, "StateReason", "The function is being created.");
                json_kv_str(j, "StateReasonCode", "Creating");
        }
        json_kv_str(j, "LastUpdateStatus", "Successful");
        json_kv_str(j, "PackageType", is_zip(d) ? "Zip" : "Image");
        if (d->entrypoint || d->command || (d->workdir && *d->workdir)) {
                json_key(j, "ImageConfigResponse");
                json_obj_begin(j);
                json_key(j, "ImageConfig");
                json_obj_begin(j);
                if (d->entrypoint)
                        kv_strv(j, "EntryPoint", d->entrypoint);
                if (d->command)
                        kv_strv(j, "Command", d->command);
                if (d->workdir && *d->workdir)
                        json_kv_str(j, "WorkingDirectory", d->workdir);
                json_obj_end(j);
                json_obj_end(j);
        }
        json_key(j, "Architectures");
        json_arr_begin(j);
        json_str(j, fn_host_arch() ? fn_host_arch() : "x86_64");
        json_arr_end(j);
        json_key(j, "EphemeralStorage");
        json_obj_begin(j);
        json_kv_uint(j, "Size", d->ephemeral_mb ? d->ephemeral_mb : FN_EPHEMERAL_DEFAULT_MB);
        json_obj_end(j);
        json_obj_end(j);
}

static void send_config(api *a, unsigned status, const fn_def *d, bool pending)
{
        json_writer *j = json_writer_new(false);
        config_json(a, j, d, pending);
        api_json(a, status, json_writer_finish(j));
}

/* ---------------------------------------------------------------- parsing the body */

static json_value *parse_body(api *a)
{
        json_value *v = NULL;
        char why[128];
        if (a->r->len == 0) {
                v = xcalloc(1, sizeof(*v));
                v->type = JSON_OBJECT;
                return v;
        }
        /* JSON is UTF-8 (RFC 8259); what is stored is rendered again in answers. */
        size_t ok = utf8_valid_prefix(a->r->body, a->r->len);
        if (ok < a->r->len) {
                api_errorf(a, 400, "InvalidRequestContentException", "Could not parse request "
                           "body into json: not valid UTF-8 (at byte %zu)", ok);
                return NULL;
        }
        if (json_parse(a->r->body, a->r->len, &v, why, sizeof(why)) < 0 || v->type != JSON_OBJECT) {
                api_errorf(a, 400, "InvalidRequestContentException", "Could not parse request "
                           "body into json: %s", v ? "not an object" : why);
                json_value_free(v);
                return NULL;
        }
        return v;
}

/* A member of the given type, or NULL when absent (JSON null counts as absent); *bad when it
 * is there with another type (the answer went out). */
static const json_value *member(api *a, const json_value *o, const char *key, json_type t, bool *bad)
{
        const json_value *v = json_get(o, key);
        if (!v || v->type == JSON_NULL)
                return NULL;
        if (v->type != t) {
                static const char *const names[] = { "null", "a boolean", "a number", "a string",
                                                     "a list", "an object" };
                BAD(a, "%s must be %s", key, names[t]);
                *bad = true;
                return NULL;
        }
        return v;
}

static int number(api *a, const json_value *v, const char *key, int64_t min, int64_t max,
                  int64_t *ret)
{
        int64_t x;
        if (parse_int64(v->str, &x) < 0 || x < min || x > max) {
                BAD(a, "%s %s: must be a whole number from %lld to %lld", key, v->str,
                    (long long)min, (long long)max);
                return -1;
        }
        *ret = x;
        return 0;
}

/* A list of strings; NULL for an empty one. */
static int str_list(api *a, const json_value *v, const char *key, size_t max, char ***ret)
{
        if (v->n > max) {
                BAD(a, "%s: at most %zu items", key, max);
                return -1;
        }
        char **out = NULL;
        if (v->n)
                out = xcalloc(v->n + 1, sizeof(char *));
        for (size_t i = 0; i < v->n; i++) {
                if (v->items[i]->type != JSON_STRING || strlen(v->items[i]->str) > 4096) {
                        strv_free(out);
                        BAD(a, "%s: a list of strings (each at most 4096 bytes)", key);
                        return -1;
                }
                out[i] = xstrdup(v->items[i]->str);
        }
        *ret = out;
        return 0;
}

static void set_str(char **field, const char *v)
{
        free(*field);
        *field = xstrdup(v);
}

static bool arch_ok(api *a, const json_value *o, bool *bad)
{
        const json_value *v = member(a, o, "Architectures", JSON_ARRAY, bad);
        if (*bad)
                return false;
        if (!v)
                return true;
        const char *host = fn_host_arch();
        if (v->n != 1 || v->items[0]->type != JSON_STRING || !host ||
            strcmp(v->items[0]->str, host) != 0) {
                BAD(a, "Architectures: this host runs %s functions only: give [\"%s\"]",
                    host ? host : "no Lambda architecture's", host ? host : "");
                return false;
        }
        return true;
}

/* The configuration members of CreateFunction and UpdateFunctionConfiguration onto d. -1 when
 * the answer went out. */
static int apply_config(api *a, const json_value *o, fn_def *d)
{
        bool bad = false;
        const json_value *v;
        if ((v = member(a, o, "Description", JSON_STRING, &bad))) {
                if (strlen(v->str) > 256) {
                        BAD(a, "Description: at most 256 characters");
                        return -1;
                }
                set_str(&d->description, v->str);
        }
        if (!bad && (v = member(a, o, "Role", JSON_STRING, &bad))) {
                if (strlen(v->str) > 2048 || !fn_text_printable(v->str)) {
                        BAD(a, "Role: an IAM role ARN (stored, not used: husk has no IAM)");
                        return -1;
                }
                set_str(&d->role, v->str);
        }
        if (!bad && (v = member(a, o, "Runtime", JSON_STRING, &bad))) {
                if (!*v->str || strlen(v->str) > 64 || !fn_text_printable(v->str)) {
                        BAD(a, "Runtime: a runtime name such as provided.al2023");
                        return -1;
                }
                set_str(&d->runtime, v->str);
        }
        if (!bad && (v = member(a, o, "Handler", JSON_STRING, &bad))) {
                if (!*v->str || strlen(v->str) > 128 || strpbrk(v->str, " \t") ||
                    !fn_text_printable(v->str)) {
                        BAD(a, "Handler: 1 to 128 characters without spaces");
                        return -1;
                }
                set_str(&d->handler, v->str);
        }
        int64_t x;
        if (!bad && (v = member(a, o, "MemorySize", JSON_NUMBER, &bad))) {
                if (number(a, v, "MemorySize", 128, 10240, &x) < 0)
                        return -1;
                d->memory_mb = (unsigned)x;
        }
        if (!bad && (v = member(a, o, "Timeout", JSON_NUMBER, &bad))) {
                if (number(a, v, "Timeout", 1, 900, &x) < 0)
                        return -1;
                d->timeout_ms = (uint64_t)x * 1000;
        }
        const json_value *env = NULL;
        if (!bad && (env = member(a, o, "Environment", JSON_OBJECT, &bad)))
                v = member(a, env, "Variables", JSON_OBJECT, &bad);
        if (!bad && env) {
                /* Lambda: the variables replace the old ones; at most 4 KB in all. */
                size_t total = 0, n = v ? v->n : 0;
                char **e = xcalloc(n + 1, sizeof(char *));
                for (size_t i = 0; i < n; i++) {
                        char why[200];
                        if (v->items[i]->type != JSON_STRING || strchr(v->keys[i], '=')) {
                                strv_free(e);
                                BAD(a, "Environment.Variables: names without '=' and string values");
                                return -1;
                        }
                        e[i] = xasprintf("%s=%s", v->keys[i], v->items[i]->str);
                        total += strlen(e[i]) - 1;
                        if (fn_env_check(e[i], why, sizeof(why)) < 0) {
                                strv_free(e);
                                BAD(a, "Environment.Variables: %s", why);
                                return -1;
                        }
                }
                if (total > FN_ENV_BYTES_MAX) {
                        strv_free(e);
                        BAD(a, "Lambda was unable to configure your environment variables because "
                            "the environment variables you have provided exceeded the 4KB limit. "
                            "String measured: %zu bytes", total);
                        return -1;
                }
                strv_free(d->env);
                d->env = e;
        }
        const json_value *ic = NULL;
        if (!bad && (ic = member(a, o, "ImageConfig", JSON_OBJECT, &bad))) {
                char **ep = NULL, **cmd = NULL;
                if ((v = member(a, ic, "EntryPoint", JSON_ARRAY, &bad)) &&
                    str_list(a, v, "ImageConfig.EntryPoint", 1500, &ep) < 0)
                        return -1;
                if (!bad && (v = member(a, ic, "Command", JSON_ARRAY, &bad)) &&
                    str_list(a, v, "ImageConfig.Command", 1500, &cmd) < 0) {
                        strv_free(ep);
                        return -1;
                }
                const json_value *wd = bad ? NULL : member(a, ic, "WorkingDirectory", JSON_STRING, &bad);
                if (bad || (wd && *wd->str && (wd->str[0] != '/' || strlen(wd->str) > 1000 ||
                                               !fn_text_printable(wd->str)))) {
                        strv_free(ep);
                        strv_free(cmd);
                        if (!bad)
                                BAD(a, "ImageConfig.WorkingDirectory: an absolute path");
                        return -1;
                }
                /* Lambda: the given ImageConfig replaces the old one. */
                strv_free(d->entrypoint);
                strv_free(d->command);
                d->entrypoint = ep;
                d->command = cmd;
                set_str(&d->workdir, wd ? wd->str : "");
                /* As Lambda's image runtimes: the handler is the command's first word. */
                if (cmd && !json_get(o, "Handler"))
                        set_str(&d->handler, cmd[0]);
        }
        const json_value *es = NULL;
        if (!bad && (es = member(a, o, "EphemeralStorage", JSON_OBJECT, &bad))) {
                if (!(v = member(a, es, "Size", JSON_NUMBER, &bad))) {
                        if (!bad)
                                BAD(a, "EphemeralStorage: Size is required");
                        return -1;
                }
                if (number(a, v, "EphemeralStorage.Size", 512, 10240, &x) < 0)
                        return -1;
                d->ephemeral_mb = (unsigned)x;
        }
        /* What would change the code or reach outside, and husk cannot do: refused, not
         * ignored. */
        if (!bad && (v = member(a, o, "Layers", JSON_ARRAY, &bad)) && v->n) {
                BAD(a, "Layers are not supported: put their files into the package or the image");
                return -1;
        }
        if (!bad && (v = member(a, o, "FileSystemConfigs", JSON_ARRAY, &bad)) && v->n) {
                BAD(a, "FileSystemConfigs (EFS) are not supported");
                return -1;
        }
        return bad ? -1 : 0;
}

/* Tags of a request onto *tags (merged, a key given again replaces its value). */
static int apply_tags(api *a, const json_value *t, char ***tags)
{
        char **v = *tags;
        size_t n = strv_length(v);
        for (size_t i = 0; i < t->n; i++) {
                const char *k = t->keys[i];
                if (t->items[i]->type != JSON_STRING || !*k || strlen(k) > 128 ||
                    strlen(t->items[i]->str) > 256 || !fn_text_printable(k) ||
                    !fn_text_printable(t->items[i]->str)) {
                        BAD(a, "Tags: keys of 1 to 128 and values of at most 256 characters");
                        *tags = v;
                        return -1;
                }
                size_t at = 0;
                while (at < n && strcmp(v[at], k) != 0)
                        at += 2;
                if (at < n) {
                        set_str(&v[at + 1], t->items[i]->str);
                        continue;
                }
                if (n / 2 >= FN_TAGS_MAX) {
                        BAD(a, "Tags: a function has at most %d tags", FN_TAGS_MAX);
                        *tags = v;
                        return -1;
                }
                v = xrealloc(v, (n + 3) * sizeof(char *));
                v[n++] = xstrdup(k);
                v[n++] = xstrdup(t->items[i]->str);
                v[n] = NULL;
        }
        *tags = v;
        return 0;
}

/* ---------------------------------------------------------------- code */

static const char *store(api *a)
{
        return fn_host_options(a->h)->store;
}

/* Code.ImageUri / ImageUri onto d. */
static int set_image(api *a, fn_def *d, const char *uri)
{
        char *id = NULL;
        husk_error_t err = { 0 };
        if (!*uri || !fn_text_printable(uri) || fn_image_ref(store(a), uri, &id, &err) < 0) {
                BAD(a, "Source image %s does not exist. Provide a valid source image (a husk "
                    "image name, id or archive path)%s%s", uri, err.msg[0] ? ": " : "", err.msg);
                return -1;
        }
        set_str(&d->image, uri);
        free(d->image_id);
        d->image_id = id;
        free(d->code_sha256);
        d->code_sha256 = fn_image_code_sha256(id);
        if (!d->code_sha256)
                d->code_sha256 = xstrdup("");
        d->code_size = 0;
        return 0;
}

/* Code.ZipFile / ZipFile (base64) onto d: unpacked into a new task root on the base image.
 * *ret_old gets the task root it replaces (removed once the record is written). */
static int set_zip(api *a, fn_def *d, const char *b64, char **ret_old)
{
        const char *base = fn_host_options(a->h)->zip_base_image;
        if (!base) {
                BAD(a, "Zip packages need a base image to run on (Lambda's provided.al2023): "
                    "start the server with --zip-base-image IMAGE, or create an Image function");
                return -1;
        }
        size_t blen = strlen(b64), len = 0;
        if (blen / 4 * 3 > FN_ZIP_MAX + 2) {
                api_errorf(a, 413, "RequestTooLargeException", "Zipped size must be smaller than "
                           "%u bytes", FN_ZIP_MAX);
                return -1;
        }
        _cleanup_free_ char *zip = NULL;
        if (base64_decode(b64, blen, &zip, &len) < 0) {
                BAD(a, "ZipFile: not valid base64");
                return -1;
        }
        char *base_id = NULL;
        husk_error_t err = { 0 };
        if (fn_image_ref(store(a), base, &base_id, &err) < 0) {
                api_errorf(a, 500, "ServiceException", "the Zip base image %s (--zip-base-image): %s",
                           base, err.msg);
                return -1;
        }
        char *dir = NULL;
        bool provided = d->runtime && strncmp(d->runtime, "provided", 8) == 0;
        if (fn_zip_unpack(store(a), d->name, zip, len, provided, &dir, &err) < 0) {
                free(base_id);
                if (err.code == EFBIG && len > FN_ZIP_MAX)
                        api_errorf(a, 413, "RequestTooLargeException", "%s", err.msg);
                else
                        BAD(a, "%s", err.msg);
                return -1;
        }
        set_str(&d->image, base);
        free(d->image_id);
        d->image_id = base_id;
        *ret_old = d->code_dir;
        d->code_dir = dir;
        free(d->code_sha256);
        d->code_sha256 = fn_code_sha256(zip, len);
        d->code_size = len;
        return 0;
}

/* ---------------------------------------------------------------- operations */

static void create_function(api *a)
{
        json_value *o = parse_body(a);
        if (!o)
                return;
        bool bad = false;
        fn_def *d = NULL;
        _cleanup_free_ char *old = NULL;
        const json_value *fnv = member(a, o, "FunctionName", JSON_STRING, &bad);
        const json_value *code = bad ? NULL : member(a, o, "Code", JSON_OBJECT, &bad);
        const json_value *pt = bad ? NULL : member(a, o, "PackageType", JSON_STRING, &bad);
        const json_value *tags = bad ? NULL : member(a, o, "Tags", JSON_OBJECT, &bad);
        char name[FN_NAME_MAX + 1];
        if (bad)
                goto out;
        if (!fnv || fn_arn_name(fnv->str, name) != 0) {
                api_errorf(a, 400, "ValidationException", "1 validation error detected: Value at "
                           "'functionName' failed to satisfy constraint: Member must be a "
                           "function name (1 to %d of A-Z a-z 0-9 - _) or its ARN", FN_NAME_MAX);
                goto out;
        }
        if (!code) {
                BAD(a, "Code is required: Code.ImageUri (PackageType Image) or Code.ZipFile");
                goto out;
        }
        const char *type = pt ? pt->str : "Zip";
        if (strcmp(type, "Zip") != 0 && strcmp(type, "Image") != 0) {
                BAD(a, "PackageType must be Zip or Image");
                goto out;
        }
        if (json_get(code, "S3Bucket") || json_get(code, "S3Key")) {
                BAD(a, "Code.S3Bucket/S3Key: husk has no S3; give Code.ZipFile");
                goto out;
        }
        const json_value *img = member(a, code, "ImageUri", JSON_STRING, &bad);
        const json_value *zip = bad ? NULL : member(a, code, "ZipFile", JSON_STRING, &bad);
        if (bad)
                goto out;
        bool image = strcmp(type, "Image") == 0;
        if (image ? (!img || zip) : (!zip || img)) {
                BAD(a, image ? "PackageType Image takes Code.ImageUri (and no ZipFile)"
                             : "PackageType Zip takes Code.ZipFile (and no ImageUri)");
                goto out;
        }
        if (!arch_ok(a, o, &bad))
                goto out;
        d = fn_def_new(name);
        set_str(&d->package_type, type);
        if (apply_config(a, o, d) < 0 || (tags && apply_tags(a, tags, &d->tags) < 0))
                goto out;
        if (!image && (!json_get(o, "Runtime") || !json_get(o, "Handler"))) {
                BAD(a, "Runtime and Handler are mandatory parameters for functions created with "
                    "deployment packages.");
                goto out;
        }
        /* Not unpacked for nothing: a taken name is answered first (the insert checks again). */
        fn_def *there = NULL;
        husk_error_t err = { 0 };
        if (fn_db_get(fn_host_db(a->h), name, &there, &err) == 0) {
                fn_def_free(there);
                api_errorf(a, 409, "ResourceConflictException", "Function already exist: %s", name);
                goto out;
        }
        if (image ? set_image(a, d, img->str) < 0 : set_zip(a, d, zip->str, &old) < 0)
                goto out;
        if (fn_db_put(fn_host_db(a->h), d, true, &err) < 0) {
                fn_code_remove(store(a), d->code_dir);
                if (err.code == EEXIST)
                        api_errorf(a, 409, "ResourceConflictException", "Function already exist: %s",
                                   name);
                else
                        BAD(a, "%s", err.msg);
                goto out;
        }
        fn_def *got = NULL;
        if (fn_db_get(fn_host_db(a->h), name, &got, &err) == 0) {
                send_config(a, 201, got, true);
                fn_def_free(got);
        } else {
                api_errorf(a, 500, "ServiceException", "%s", err.msg);
        }
out:
        fn_def_free(d);
        json_value_free(o);
}

/* Writes d (an update) and answers with its configuration; old: a task root to remove after. */
static void put_and_answer(api *a, fn_def *d, const char *old, bool answer_config)
{
        husk_error_t err = { 0 };
        if (fn_db_put(fn_host_db(a->h), d, false, &err) < 0) {
                if (err.code == ENOENT)
                        not_found(a, d->name);
                else
                        BAD(a, "%s", err.msg);
                return;
        }
        if (old && *old && strcmp(old, d->code_dir) != 0)
                fn_code_remove(store(a), old);
        if (!answer_config)
                return;
        fn_def *got = NULL;
        if (fn_db_get(fn_host_db(a->h), d->name, &got, &err) < 0) {
                api_errorf(a, 500, "ServiceException", "%s", err.msg);
                return;
        }
        send_config(a, 200, got, false);
        fn_def_free(got);
}

static void update_configuration(api *a, const char *ref)
{
        fn_def *d = load(a, ref);
        if (!d)
                return;
        json_value *o = parse_body(a);
        if (o && apply_config(a, o, d) == 0)
                put_and_answer(a, d, NULL, true);
        json_value_free(o);
        fn_def_free(d);
}

static void update_code(api *a, const char *ref)
{
        fn_def *d = load(a, ref);
        if (!d)
                return;
        json_value *o = parse_body(a);
        bool bad = false;
        const json_value *img = NULL, *zip = NULL, *dry = NULL;
        if (o) {
                img = member(a, o, "ImageUri", JSON_STRING, &bad);
                zip = bad ? NULL : member(a, o, "ZipFile", JSON_STRING, &bad);
                dry = bad ? NULL : member(a, o, "DryRun", JSON_BOOL, &bad);
        }
        _cleanup_free_ char *old = NULL;
        if (!o || bad || !arch_ok(a, o, &bad))
                goto out;
        if (json_get(o, "S3Bucket") || json_get(o, "S3Key")) {
                BAD(a, "S3Bucket/S3Key: husk has no S3; give ZipFile");
                goto out;
        }
        if (is_zip(d) ? (!zip || img) : (!img || zip)) {
                BAD(a, is_zip(d) ? "Please provide ZipFile (and no ImageUri) to update a function "
                                   "with PackageType Zip"
                                 : "Please provide ImageUri (and no ZipFile) to update a function "
                                   "with PackageType Image");
                goto out;
        }
        if (is_zip(d) ? set_zip(a, d, zip->str, &old) < 0 : set_image(a, d, img->str) < 0)
                goto out;
        if (dry && dry->boolean) {
                /* Checked and not kept. */
                fn_code_remove(store(a), d->code_dir);
                send_config(a, 200, d, false);
                goto out;
        }
        put_and_answer(a, d, old, true);
        if (a->w->status != 200 && old)
                fn_code_remove(store(a), d->code_dir); /* not written: the new root goes */
out:
        json_value_free(o);
        fn_def_free(d);
}

static void get_function(api *a, const char *ref, bool config_only)
{
        fn_def *d = load(a, ref);
        if (!d)
                return;
        if (config_only) {
                send_config(a, 200, d, false);
                fn_def_free(d);
                return;
        }
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_key(j, "Configuration");
        config_json(a, j, d, false);
        json_key(j, "Code");
        json_obj_begin(j);
        if (is_zip(d)) {
                /* Lambda gives a download URL; the package lives here unpacked. */
                json_kv_str(j, "RepositoryType", "S3");
                _cleanup_free_ char *loc = xasprintf("file://%s", d->code_dir);
                json_kv_str(j, "Location", loc);
        } else {
                json_kv_str(j, "RepositoryType", "ECR");
                json_kv_str(j, "ImageUri", d->image);
                json_kv_str(j, "ResolvedImageUri", d->image_id);
        }
        json_obj_end(j);
        if (d->tags && d->tags[0]) {
                json_key(j, "Tags");
                tags_obj(j, d->tags);
        }
        if (d->reserved) {
                json_key(j, "Concurrency");
                json_obj_begin(j);
                json_kv_uint(j, "ReservedConcurrentExecutions", d->concurrency);
                json_obj_end(j);
        }
        json_obj_end(j);
        api_json(a, 200, json_writer_finish(j));
        fn_def_free(d);
}

static void delete_function(api *a, const char *ref)
{
        fn_def *d = load(a, ref);
        if (!d)
                return;
        husk_error_t err = { 0 };
        if (fn_db_rm(fn_host_db(a->h), d->name, &err) < 0) {
                if (err.code == ENOENT)
                        not_found(a, d->name);
                else
                        api_errorf(a, 500, "ServiceException", "%s", err.msg);
                fn_def_free(d);
                return;
        }
        fn_code_remove(store(a), d->code_dir);
        /* As `husk fn rm`: the log goes with the function. */
        static const char *const suffixes[] = { ".log", ".log.1" };
        for (size_t k = 0; k < ARRAY_SIZE(suffixes); k++) {
                _cleanup_free_ char *rel = xasprintf("logs/%s%s", d->name, suffixes[k]);
                _cleanup_free_ char *path = fn_path(store(a), rel);
                (void)unlink(path);
        }
        serve_resp_set(a->w, 204, NULL, NULL, 0);
        fn_def_free(d);
}

static void list_functions(api *a)
{
        serve_kv *q = NULL;
        size_t nq = 0;
        if (serve_form_parse(a->r->query, strlen(a->r->query), 16, &q, &nq) < 0) {
                BAD(a, "the query string is not valid");
                return;
        }
        const char *marker = serve_kvs_get(q, nq, "Marker");
        const char *mi = serve_kvs_get(q, nq, "MaxItems");
        uint32_t max = FN_LIST_DEFAULT;
        if (mi && (parse_uint32(mi, &max) < 0 || max < 1 || max > 10000)) {
                BAD(a, "MaxItems %s: a number from 1 to 10000", mi);
                serve_kvs_free(q, nq);
                return;
        }
        fn_def **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_list(fn_host_db(a->h), &v, &n, &err) < 0) {
                api_errorf(a, 500, "ServiceException", "%s", err.msg);
                serve_kvs_free(q, nq);
                return;
        }
        /* Sorted by name; the marker is the last name of the previous page. */
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_key(j, "Functions");
        json_arr_begin(j);
        size_t shown = 0;
        const char *last = NULL;
        bool more = false;
        for (size_t i = 0; i < n; i++) {
                if (marker && *marker && strcmp(v[i]->name, marker) <= 0)
                        continue;
                if (shown == max) {
                        more = true;
                        break;
                }
                config_json(a, j, v[i], false);
                last = v[i]->name;
                shown++;
        }
        json_arr_end(j);
        if (more && last)
                json_kv_str(j, "NextMarker", last);
        json_obj_end(j);
        api_json(a, 200, json_writer_finish(j));
        for (size_t i = 0; i < n; i++)
                fn_def_free(v[i]);
        free(v);
        serve_kvs_free(q, nq);
}

static void concurrency(api *a, const char *ref, const char *method)
{
        fn_def *d = load(a, ref);
        if (!d)
                return;
        if (strcmp(method, "GET") == 0) {
                char *b = d->reserved ? xasprintf("{\"ReservedConcurrentExecutions\":%u}", d->concurrency)
                                      : xstrdup("{}");
                api_json(a, 200, b);
        } else if (strcmp(method, "DELETE") == 0) {
                d->reserved = false;
                d->concurrency = FN_CONCURRENCY_DEFAULT;
                put_and_answer(a, d, NULL, false);
                if (!a->w->status)
                        serve_resp_set(a->w, 204, NULL, NULL, 0);
        } else {
                json_value *o = parse_body(a);
                bool bad = false;
                const json_value *v = o ? member(a, o, "ReservedConcurrentExecutions", JSON_NUMBER, &bad)
                                        : NULL;
                int64_t x;
                if (o && !bad && !v)
                        BAD(a, "ReservedConcurrentExecutions is required");
                else if (v && number(a, v, "ReservedConcurrentExecutions", 0, FN_RESERVED_MAX, &x) == 0) {
                        /* The function's worker limit, as `husk fn create --concurrency`; 0
                         * throttles every invocation, as Lambda. */
                        d->concurrency = (unsigned)x;
                        d->reserved = true;
                        put_and_answer(a, d, NULL, false);
                        if (!a->w->status)
                                api_json(a, 200, xasprintf("{\"ReservedConcurrentExecutions\":%u}",
                                                           d->concurrency));
                }
                json_value_free(o);
        }
        fn_def_free(d);
}

static void tags(api *a, const char *ref, const char *method)
{
        fn_def *d = load(a, ref);
        if (!d)
                return;
        if (strcmp(method, "GET") == 0) {
                json_writer *j = json_writer_new(false);
                json_obj_begin(j);
                json_key(j, "Tags");
                tags_obj(j, d->tags);
                json_obj_end(j);
                api_json(a, 200, json_writer_finish(j));
        } else if (strcmp(method, "POST") == 0) {
                json_value *o = parse_body(a);
                bool bad = false;
                const json_value *t = o ? member(a, o, "Tags", JSON_OBJECT, &bad) : NULL;
                if (o && !bad && !t)
                        BAD(a, "Tags is required");
                else if (t && apply_tags(a, t, &d->tags) == 0) {
                        put_and_answer(a, d, NULL, false);
                        if (!a->w->status)
                                serve_resp_set(a->w, 204, NULL, NULL, 0);
                }
                json_value_free(o);
        } else {
                serve_kv *q = NULL;
                size_t nq = 0;
                if (serve_form_parse(a->r->query, strlen(a->r->query), 256, &q, &nq) < 0) {
                        BAD(a, "the query string is not valid (tagKeys=KEY&tagKeys=...)");
                } else {
                        size_t n = strv_length(d->tags), o = 0;
                        for (size_t i = 0; i + 1 < n; i += 2) {
                                bool drop = false;
                                for (size_t k = 0; k < nq && !drop; k++)
                                        drop = strcmp(q[k].name, "tagKeys") == 0 &&
                                               strcmp(q[k].value, d->tags[i]) == 0;
                                if (drop) {
                                        free(d->tags[i]);
                                        free(d->tags[i + 1]);
                                } else {
                                        d->tags[o++] = d->tags[i];
                                        d->tags[o++] = d->tags[i + 1];
                                }
                        }
                        if (d->tags)
                                d->tags[o] = NULL;
                        put_and_answer(a, d, NULL, false);
                        if (!a->w->status)
                                serve_resp_set(a->w, 204, NULL, NULL, 0);
                }
                serve_kvs_free(q, nq);
        }
        fn_def_free(d);
}

/* ---------------------------------------------------------------- routing */

/* path = PREFIX + rest: the rest, or NULL. */
static const char *after(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

/* "NAME" or "NAME/SUFFIX": the name (into buf) and whether the suffix is the given one. */
static bool split(const char *rest, const char *suffix, char *buf, size_t len)
{
        const char *slash = strchr(rest, '/');
        if (!suffix ? slash != NULL : (!slash || strcmp(slash + 1, suffix) != 0))
                return false;
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (n == 0 || n >= len)
                return false;
        memcpy(buf, rest, n);
        buf[n] = '\0';
        return true;
}

size_t fn_api_body_max(const char *method, const char *path)
{
        const char *rest = after(path, "/2015-03-31/functions");
        char ref[512];
        if (!rest)
                return 0;
        if (strcmp(method, "POST") == 0 && (!*rest || strcmp(rest, "/") == 0))
                return FN_API_BODY_MAX; /* CreateFunction */
        if (strcmp(method, "PUT") == 0 && *rest == '/' && split(rest + 1, "code", ref, sizeof(ref)))
                return FN_API_BODY_MAX; /* UpdateFunctionCode */
        return 0;
}

void fn_api_handle(fn_host *h, const serve_req *r, serve_resp *w)
{
        api a = { .h = h, .r = r, .w = w };
        const char *m = r->method, *rest;
        char ref[512];
        bool get = strcmp(m, "GET") == 0, put = strcmp(m, "PUT") == 0,
             post = strcmp(m, "POST") == 0, del = strcmp(m, "DELETE") == 0;
        if (strncmp(r->path, "/2015-03-31/event-source-mappings", 33) == 0) return fn_esm_handle(h, r, w);
        if ((rest = after(r->path, "/2015-03-31/functions"))) {
                if ((!*rest || strcmp(rest, "/") == 0) && post)
                        return create_function(&a);
                if ((!*rest || strcmp(rest, "/") == 0) && get)
                        return list_functions(&a);
                if (*rest == '/') {
                        rest++;
                        if (split(rest, NULL, ref, sizeof(ref)) && get)
                                return get_function(&a, ref, false);
                        if (split(rest, NULL, ref, sizeof(ref)) && del)
                                return delete_function(&a, ref);
                        if (split(rest, "configuration", ref, sizeof(ref)) && get)
                                return get_function(&a, ref, true);
                        if (split(rest, "configuration", ref, sizeof(ref)) && put)
                                return update_configuration(&a, ref);
                        if (split(rest, "code", ref, sizeof(ref)) && put)
                                return update_code(&a, ref);
                }
        }
        if ((rest = after(r->path, "/2017-10-31/functions/")) &&
            split(rest, "concurrency", ref, sizeof(ref)) && (put || del))
                return concurrency(&a, ref, m);
        if ((rest = after(r->path, "/2019-09-30/functions/")) &&
            split(rest, "concurrency", ref, sizeof(ref)) && get)
                return concurrency(&a, ref, m);
        if ((rest = after(r->path, "/2017-03-31/tags/")) && split(rest, NULL, ref, sizeof(ref)) &&
            (get || post || del))
                return tags(&a, ref, m);
        api_errorf(&a, 404, "UnknownOperationException", "Unknown operation: %s %.200s (husk "
                   "serves the functions, their configuration, code, concurrency and tags)",
                   m, r->path);
}
