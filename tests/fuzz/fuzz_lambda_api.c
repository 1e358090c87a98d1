/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: Lambda's control plane (src/fn/api.c fn_api_handle) over real function records.
 * An input is up to 8 requests separated by the line "----" (fuzz.h), each "METHOD PATH[?QUERY]"
 * on its first line and its body after (fuzz_fn.h); they run one after the other, so that a
 * create can be followed by the reads, updates, tags and deletes of what it made.
 *
 * The store (one per process, removed at exit) holds a tiny image "fz" (an OCI layout the
 * harness writes and loads: one empty layer), which is also the --zip-base-image, and before
 * every input exactly two functions, made through the API itself: "fz" (Image, with an
 * environment, a tag and a reserved concurrency of 2) and "fz-zip" (Zip, provided.al2023, a
 * package with a bootstrap). An input that changed the records gets them back (everything
 * removed, the two made again), so each input starts from the same state.
 *
 * Requests that would start workers do not exist here (Invoke is the front door's); those that
 * unpack code do: a ZipFile is unpacked into STORE/fn/code and an ImageUri resolved in the
 * store. An ImageUri that names a path (a '/', or a file that exists in the working folder)
 * would make husk_image_load read whatever the host has there: such a request is skipped, but
 * for "@OCI@", which the harness replaces with the path of its own layout (the load path).
 *
 * Invariants: every answer (fuzz_fn_check); after each input, every folder in STORE/fn/code
 * is the task root of a record (nothing left behind by a failed or dry-run update), nothing
 * new beside the store and in STORE/fn (no package entry escaped its task root), every record
 * holds what validation allows, and GetFunction of each answers 200. */
#include "fuzz.h"
#include "fuzz_fn.h"

#include "husk/image.h"
#include "util/json.h"
#include "util/sha256.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A zip holding an executable "bootstrap" ("#!/bin/sh\necho hi\n"). */
#define FZ_ZIP                                                                                 \
        "UEsDBBQAAAAAAAAAIVgvOtrpEgAAABIAAAAJAAAAYm9vdHN0cmFwIyEvYmluL3NoCmVjaG8gaGkKUEsBAhQDFAAA" \
        "AAAAAAAhWC862ukSAAAAEgAAAAkAAAAAAAAAAAAAAO2BAAAAAGJvb3RzdHJhcFBLBQYAAAAAAQABADcAAAA5AAAA" \
        "AAA="

static const char *const baseline[] = {
        "POST /2015-03-31/functions\n{\"FunctionName\":\"fz\",\"PackageType\":\"Image\",\"Code\":"
        "{\"ImageUri\":\"fz\"},\"Environment\":{\"Variables\":{\"A\":\"1\"}},\"Tags\":"
        "{\"team\":\"a\"},\"Timeout\":5}",
        "POST /2015-03-31/functions\n{\"FunctionName\":\"fz-zip\",\"Runtime\":\"provided.al2023\","
        "\"Handler\":\"x\",\"Code\":{\"ZipFile\":\"" FZ_ZIP "\"}}",
        "PUT /2017-10-31/functions/fz/concurrency\n{\"ReservedConcurrentExecutions\":2}",
};

static fn_host *H;
static char *oci_path, *code_path;
static char **snap; /* name, updated, ... of the records after the baseline */
static size_t n_snap;

static void put_blob(int dir, const char *data, size_t len, char hex[65])
{
        sha256_hex(data, len, hex);
        fuzz_write_file(dir, hex, data, len);
}

/* An OCI layout with one empty layer, named "fz", at ROOT/oci. */
static void write_layout(void)
{
        oci_path = xasprintf("%s/oci", fuzz_root());
        char *blobs = xasprintf("%s/blobs/sha256", oci_path);
        if (mkdir_p(blobs, 0700) < 0)
                fuzz_fail("mkdir %s", blobs);
        int b = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int top = open(oci_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b < 0 || top < 0)
                fuzz_fail("open %s", blobs);
        char layer[1024] = { 0 }, lh[65], ch[65], mh[65];
        put_blob(b, layer, sizeof(layer), lh);
#if defined(__aarch64__)
        const char *arch = "arm64";
#else
        const char *arch = "amd64";
#endif
        char *config = xasprintf("{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":"
                                 "[\"/bootstrap\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
                                 "[\"sha256:%s\"]}}", arch, lh);
        put_blob(b, config, strlen(config), ch);
        char *manifest = xasprintf(
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                "\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
                "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\",\"size\":1024}]}",
                ch, strlen(config), lh);
        put_blob(b, manifest, strlen(manifest), mh);
        char *index = xasprintf(
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu,"
                "\"annotations\":{\"org.opencontainers.image.ref.name\":\"fz\"}}]}",
                mh, strlen(manifest));
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        fuzz_write_file(top, "index.json", index, strlen(index));
        fuzz_write_file(top, "oci-layout", layout, strlen(layout));
        close(b);
        close(top);
        free(config);
        free(manifest);
        free(index);
        free(blobs);
}

static void api_send(const char *text, size_t len, serve_resp *w, bool *sent)
{
        fuzz_fn_req q;
        memset(w, 0, sizeof(*w));
        *sent = false;
        if (fuzz_fn_req_parse(text, len, &q) < 0)
                return;
        /* The router's body bound for this request (src/fn/front.c asks before the body). */
        size_t max = fn_api_body_max(q.method, q.path);
        if (max != 0 && max != FN_API_BODY_MAX)
                fuzz_fail("fn_api_body_max %s %s: %zu", q.method, q.path, max);
        fn_api_handle(H, &q.r, w);
        fuzz_fn_trace(&q, w);
        fuzz_fn_check(q.raw_path, w);
        fuzz_fn_req_free(&q);
        *sent = true;
}

static void records(fn_def ***v, size_t *n)
{
        husk_error_t err = { 0 };
        if (fn_db_list(fn_host_db(H), v, n, &err) < 0)
                fuzz_fail("fn_db_list: %s", err.msg);
}

static void free_records(fn_def **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fn_def_free(v[i]);
        free(v);
}

static void make_baseline(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(baseline); i++) {
                serve_resp w;
                bool sent;
                api_send(baseline[i], strlen(baseline[i]), &w, &sent);
                if (!sent || w.status >= 300)
                        fuzz_fail("baseline request %zu: %u %s", i, w.status, w.body ? w.body : "");
                serve_resp_free(&w);
        }
        fn_def **v = NULL;
        size_t n = 0;
        records(&v, &n);
        for (size_t i = 0; i < n_snap; i++)
                free(snap[i]);
        free(snap);
        snap = xcalloc(2 * n + 1, sizeof(char *));
        n_snap = 2 * n;
        for (size_t i = 0; i < n; i++) {
                snap[2 * i] = xstrdup(v[i]->name);
                snap[2 * i + 1] = xstrdup(v[i]->updated);
        }
        free_records(v, n);
}

static void init(void)
{
        if (H)
                return;
        H = fuzz_fn_host("fz");
        code_path = fn_path(fn_host_options(H)->store, "code");
        write_layout();
        husk_image_opts_t o = { .store = fn_host_options(H)->store };
        husk_image_loaded_t *v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (husk_image_load(&o, oci_path, &v, &n, &err) < 0)
                fuzz_fail("load %s: %s", oci_path, err.msg);
        husk_image_loaded_free(v, n);
        make_baseline();
}

/* Every folder of STORE/fn/code is a record's task root. */
static void check_code_dirs(fn_def **v, size_t n)
{
        DIR *d = opendir(code_path);
        if (!d)
                return; /* no zip unpacked yet */
        struct dirent *e;
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                bool named = false;
                for (size_t i = 0; i < n && !named; i++) {
                        const char *cd = v[i]->code_dir, *slash = cd ? strrchr(cd, '/') : NULL;
                        named = slash && strcmp(slash + 1, e->d_name) == 0;
                }
                if (!named)
                        fuzz_fail("STORE/fn/code/%s is no function's task root (left behind)",
                                  e->d_name);
        }
        closedir(d);
}

/* Nothing of a package lands beside the task roots: the private folder holds the layout and
 * the store, STORE/fn only the records, the task roots and the logs. */
static void check_names(const char *dir, const char *const *allowed)
{
        DIR *d = opendir(dir);
        if (!d)
                fuzz_fail("open %s", dir);
        struct dirent *e;
        while ((e = readdir(d))) {
                bool ok = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = strcmp(e->d_name, allowed[i]) == 0;
                if (!ok)
                        fuzz_fail("%s/%s: written outside the task roots", dir, e->d_name);
        }
        closedir(d);
}

static void check_outside(void)
{
        static const char *const top[] = { "oci", "store", NULL };
        static const char *const fn[] = { "fn.db", "fn.db-wal", "fn.db-shm", "fn.db-journal",
                                          "code", "logs", NULL };
        check_names(fuzz_root(), top);
        char *d = fn_path(fn_host_options(H)->store, NULL);
        check_names(d, fn);
        free(d);
}

/* What a record may hold after the API wrote it. */
static void check_record(const fn_def *d)
{
        if (!fn_name_valid(d->name))
                fuzz_fail("a record named '%s'", d->name);
        if (d->memory_mb < 128 || d->memory_mb > 10240 || d->timeout_ms < 1000 ||
            d->timeout_ms > 900000 || d->ephemeral_mb < 512 || d->ephemeral_mb > 10240 ||
            d->concurrency > 1000)
                fuzz_fail("%s: memory %u, timeout %llu ms, /tmp %u MB, concurrency %u", d->name,
                          d->memory_mb, (unsigned long long)d->timeout_ms, d->ephemeral_mb,
                          d->concurrency);
        size_t env = 0;
        for (size_t i = 0; d->env && d->env[i]; i++) {
                char why[200];
                if (fn_env_check(d->env[i], why, sizeof(why)) < 0)
                        fuzz_fail("%s: environment '%s': %s", d->name, d->env[i], why);
                env += strlen(d->env[i]) - 1;
        }
        if (env > 4096 || strv_length(d->tags) > 100 || strv_length(d->tags) % 2)
                fuzz_fail("%s: %zu bytes of environment, %zu tag strings", d->name, env,
                          strv_length(d->tags));
        bool zip = strcmp(d->package_type, "Zip") == 0;
        if (!zip && strcmp(d->package_type, "Image") != 0)
                fuzz_fail("%s: PackageType %s", d->name, d->package_type);
        if (zip != (d->code_dir && *d->code_dir))
                fuzz_fail("%s: PackageType %s with task root '%s'", d->name, d->package_type,
                          d->code_dir ? d->code_dir : "");
        char *get = xasprintf("GET /2015-03-31/functions/%s", d->name);
        serve_resp w;
        bool sent;
        api_send(get, strlen(get), &w, &sent);
        if (w.status != 200)
                fuzz_fail("%s: GetFunction of a stored record: %u %s", d->name, w.status, w.body);
        serve_resp_free(&w);
        free(get);
}

/* After an input: the invariants, then the baseline again when the records changed. */
static void settle(void)
{
        fn_def **v = NULL;
        size_t n = 0;
        records(&v, &n);
        check_code_dirs(v, n);
        check_outside();
        bool same = 2 * n == n_snap;
        for (size_t i = 0; i < n && same; i++)
                same = strcmp(v[i]->name, snap[2 * i]) == 0 &&
                       strcmp(v[i]->updated, snap[2 * i + 1]) == 0;
        if (same) {
                free_records(v, n);
                return;
        }
        for (size_t i = 0; i < n; i++)
                check_record(v[i]);
        for (size_t i = 0; i < n; i++) {
                husk_error_t err = { 0 };
                if (fn_db_rm(fn_host_db(H), v[i]->name, &err) < 0)
                        fuzz_fail("fn_db_rm %s: %s", v[i]->name, err.msg);
                fn_code_remove(fn_host_options(H)->store, v[i]->code_dir);
        }
        free_records(v, n);
        make_baseline();
}

/* An ImageUri that would make husk_image_load read a host path (see the top). */
static bool names_path(const char *uri)
{
        struct stat st;
        return strcmp(uri, oci_path) != 0 && (strchr(uri, '/') || stat(uri, &st) == 0);
}

static bool reads_host(const char *body, size_t len)
{
        json_value *v = NULL;
        char why[64];
        if (json_parse(body, len, &v, why, sizeof(why)) < 0)
                return false;
        const char *a = json_get_str(v, "ImageUri"), *b = json_get_str(json_get(v, "Code"), "ImageUri");
        bool r = (a && names_path(a)) || (b && names_path(b));
        json_value_free(v);
        return r;
}

/* "@OCI@" -> the layout's path. */
static char *with_oci(const char *s, size_t len, size_t *ret_len)
{
        size_t ol = strlen(oci_path), n = 0;
        char *out = xcalloc(1, len * (ol > 5 ? ol : 5) / 5 + len + 1);
        for (size_t i = 0; i < len;) {
                if (len - i >= 5 && memcmp(s + i, "@OCI@", 5) == 0) {
                        memcpy(out + n, oci_path, ol);
                        n += ol;
                        i += 5;
                } else {
                        out[n++] = s[i++];
                }
        }
        *ret_len = n;
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        init();
        fuzz_parts in;
        fuzz_split(data, size, &in);
        for (size_t i = 0; i < in.n; i++) {
                size_t len = 0;
                char *text = with_oci(in.part[i], in.len[i], &len);
                const char *nl = memchr(text, '\n', len);
                if (nl && reads_host(nl + 1, len - (size_t)(nl + 1 - text))) {
                        free(text);
                        continue;
                }
                serve_resp w;
                bool sent;
                api_send(text, len, &w, &sent);
                serve_resp_free(&w);
                free(text);
        }
        fuzz_parts_free(&in);
        settle();
        return 0;
}
