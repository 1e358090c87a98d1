/* SPDX-License-Identifier: Apache-2.0 */
/* Image manifests and configs (yajl): OCI index/manifest, Docker manifest list/v2 manifest,
 * docker-save manifest.json, image config. Image JSON is untrusted input: every field is checked. */
#include "image/image.h"

#include <string.h>
#include <sys/utsname.h>
#include <yajl/yajl_tree.h>

#define MAX_DEPTH 4

static void yajl_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
        *v = NULL;
}
#define _cleanup_yajl_ _cleanup_(yajl_freep)

static yajl_val get(yajl_val obj, const char *key, yajl_type t)
{
        const char *path[] = { key, NULL };
        return obj && YAJL_IS_OBJECT(obj) ? yajl_tree_get(obj, path, t) : NULL;
}

static const char *get_str(yajl_val obj, const char *key)
{
        yajl_val v = get(obj, key, yajl_t_string);
        return v ? YAJL_GET_STRING(v) : NULL;
}

static int parse_json(const char *text, const char *what, yajl_val *ret, husk_error_t *err)
{
        char ebuf[256] = "";
        yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
        if (!v)
                return husk_error_set(err, EINVAL, "%s: invalid JSON: %s", what, ebuf);
        *ret = v;
        return 0;
}

/* A JSON array of strings (or null/absent) -> strv; -EINVAL for anything else. */
static int get_strv(yajl_val obj, const char *key, char ***ret)
{
        yajl_val v = get(obj, key, yajl_t_any);
        *ret = NULL;
        if (!v || YAJL_IS_NULL(v))
                return 0;
        if (!YAJL_IS_ARRAY(v))
                return -EINVAL;
        size_t n = v->u.array.len;
        char **out = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                if (!YAJL_IS_STRING(v->u.array.values[i])) {
                        strv_free(out);
                        return -EINVAL;
                }
                out[i] = xstrdup(YAJL_GET_STRING(v->u.array.values[i]));
        }
        *ret = out;
        return 0;
}

const char *image_host_platform(void)
{
        static char buf[64];
        struct utsname u;
        const char *arch = "amd64";
        if (uname(&u) == 0) {
                if (strcmp(u.machine, "aarch64") == 0)
                        arch = "arm64";
                else if (strncmp(u.machine, "armv7", 5) == 0)
                        arch = "arm/v7";
                else if (strcmp(u.machine, "ppc64le") == 0)
                        arch = "ppc64le";
                else if (strcmp(u.machine, "s390x") == 0)
                        arch = "s390x";
                else if (strcmp(u.machine, "riscv64") == 0)
                        arch = "riscv64";
                else if (strcmp(u.machine, "i686") == 0 || strcmp(u.machine, "i386") == 0)
                        arch = "386";
        }
        snprintf(buf, sizeof(buf), "linux/%s", arch);
        return buf;
}

/* Does a descriptor's platform object match "os/arch[/variant]"? */
static bool platform_match(yajl_val plat, const char *want)
{
        const char *os = get_str(plat, "os"), *arch = get_str(plat, "architecture");
        const char *variant = get_str(plat, "variant");
        if (!os || !arch)
                return false;
        _cleanup_free_ char *w = xstrdup(want);
        char *wos = w, *warch = strchr(w, '/'), *wvar = NULL;
        if (!warch)
                return false;
        *warch++ = '\0';
        if ((wvar = strchr(warch, '/')))
                *wvar++ = '\0';
        if (strcmp(os, wos) != 0 || strcmp(arch, warch) != 0)
                return false;
        return !wvar || (variant && strcmp(variant, wvar) == 0);
}

static char *platform_string(yajl_val plat)
{
        const char *os = get_str(plat, "os"), *arch = get_str(plat, "architecture");
        const char *variant = get_str(plat, "variant");
        return xasprintf("%s/%s%s%s", os ? os : "?", arch ? arch : "?", variant ? "/" : "",
                         variant ? variant : "");
}

typedef struct desc {
        media_kind_t kind;
        compression_t comp;
        const char *media_type;
        char hex[DIGEST_HEX_LEN + 1];
        int64_t size;
} desc_t;

static int parse_desc(yajl_val d, const char *what, desc_t *ret, husk_error_t *err)
{
        const char *dg = get_str(d, "digest");
        yajl_val size = get(d, "size", yajl_t_number);
        *ret = (desc_t){ .size = -1 };
        ret->media_type = get_str(d, "mediaType");
        ret->kind = media_type_parse(ret->media_type, &ret->comp);
        if (!dg)
                return husk_error_set(err, EINVAL, "%s: descriptor without a digest", what);
        int r = digest_parse(dg, ret->hex);
        if (r == -EOPNOTSUPP)
                return husk_error_set(err, EOPNOTSUPP, "%s: unsupported digest algorithm in '%s'",
                                      what, dg);
        if (r < 0)
                return husk_error_set(err, EINVAL, "%s: malformed digest '%s'", what, dg);
        if (size && YAJL_IS_INTEGER(size))
                ret->size = YAJL_GET_INTEGER(size);
        if (size && (!YAJL_IS_INTEGER(size) || ret->size < 0))
                return husk_error_set(err, EINVAL, "%s: descriptor sha256:%s: size is not a "
                                      "non-negative integer", what, ret->hex);
        return 0;
}

static void add_plan(image_plan_t **v, size_t *n, image_plan_t p)
{
        *v = xrealloc(*v, (*n + 1) * sizeof(image_plan_t));
        (*v)[(*n)++] = p;
}

static char *blob_path(const char *hex)
{
        return xasprintf("blobs/sha256/%s", hex);
}

static int read_blob(const image_source_t *src, const desc_t *d, char **ret, husk_error_t *err)
{
        _cleanup_free_ char *p = blob_path(d->hex);
        size_t len = 0;
        /* Refused before reading: an index or manifest is small. */
        if (d->size > IMAGE_JSON_MAX)
                return husk_error_set(err, EFBIG, "%s: blob sha256:%s: the descriptor gives %lld "
                                      "bytes, more than the 8 MiB a manifest may have",
                                      src->desc, d->hex, (long long)d->size);
        int r = image_source_read(src, p, d->hex, ret, &len, err);
        if (r < 0)
                return r;
        if (d->size >= 0 && (size_t)d->size != len) {
                free(*ret);
                *ret = NULL;
                return husk_error_set(err, EINVAL, "%s: blob sha256:%s: size %zu, descriptor says %lld",
                                      src->desc, d->hex, len, (long long)d->size);
        }
        return 0;
}

/* Where a blob is: blobs/sha256/HEX in an OCI layout, HEX in a containers/image "dir:" folder. */
static char *blob_at(bool flat, const char *hex)
{
        return flat ? xstrdup(hex) : blob_path(hex);
}

/* The plan of one image manifest (OCI or Docker schema 2), parsed. */
static int plan_from_manifest(yajl_val m, const char *what, bool flat, image_plan_t *ret,
                              husk_error_t *err)
{
        int r;
        desc_t cd;
        yajl_val cfg = get(m, "config", yajl_t_object);
        yajl_val layers = get(m, "layers", yajl_t_array);
        if (!cfg || !layers)
                return husk_error_set(err, EINVAL, "%s: missing config or layers", what);
        if ((r = parse_desc(cfg, what, &cd, err)) < 0)
                return r;
        image_plan_t p = { .config_path = blob_at(flat, cd.hex), .config_hex = xstrdup(cd.hex),
                           .config_size = cd.size };
        p.layers = xcalloc(layers->u.array.len + 1, sizeof(layer_ref_t));
        for (size_t i = 0; i < layers->u.array.len; i++) {
                desc_t ld;
                if ((r = parse_desc(layers->u.array.values[i], what, &ld, err)) < 0) {
                        image_plan_free(&p, 1);
                        return r;
                }
                if (ld.kind != MEDIA_LAYER) {
                        r = husk_error_set(err, EOPNOTSUPP, "%s: layer %zu: unsupported media type '%s'",
                                           what, i, ld.media_type ? ld.media_type : "(none)");
                        image_plan_free(&p, 1);
                        return r;
                }
                p.layers[p.n_layers++] = (layer_ref_t){ .path = blob_at(flat, ld.hex),
                                                        .blob_hex = xstrdup(ld.hex),
                                                        .size = ld.size,
                                                        .comp = ld.comp };
        }
        *ret = p;
        return 0;
}

static int plan_manifest(const image_source_t *src, const desc_t *d, image_plan_t *ret,
                         husk_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_yajl_ yajl_val m = NULL;
        _cleanup_free_ char *what = xasprintf("%s: manifest sha256:%s", src->desc, d->hex);
        int r = read_blob(src, d, &text, err);
        if (r < 0 || (r = parse_json(text, what, &m, err)) < 0)
                return r;
        return plan_from_manifest(m, what, false, ret, err);
}

/* Resolves one descriptor (manifest or index) to a plan for platform. */
static int plan_desc(const image_source_t *src, yajl_val dv, const char *platform, int depth,
                     image_plan_t *ret, husk_error_t *err)
{
        desc_t d;
        _cleanup_free_ char *what = xasprintf("%s: index", src->desc);
        int r = parse_desc(dv, what, &d, err);
        if (r < 0)
                return r;
        if (d.kind == MEDIA_MANIFEST)
                return plan_manifest(src, &d, ret, err);
        if (d.kind != MEDIA_INDEX)
                return husk_error_set(err, EOPNOTSUPP, "%s: unsupported media type '%s'", what,
                                      d.media_type ? d.media_type : "(none)");
        if (depth >= MAX_DEPTH)
                return husk_error_set(err, ELOOP, "%s: indexes nested too deep", what);
        _cleanup_free_ char *text = NULL;
        _cleanup_yajl_ yajl_val idx = NULL;
        _cleanup_free_ char *iwhat = xasprintf("%s: index sha256:%s", src->desc, d.hex);
        if ((r = read_blob(src, &d, &text, err)) < 0 || (r = parse_json(text, iwhat, &idx, err)) < 0)
                return r;
        yajl_val ms = get(idx, "manifests", yajl_t_array);
        if (!ms || ms->u.array.len == 0)
                return husk_error_set(err, EINVAL, "%s: no manifests", iwhat);
        char avail[512] = "";
        for (size_t i = 0; i < ms->u.array.len; i++) {
                yajl_val plat = get(ms->u.array.values[i], "platform", yajl_t_object);
                if (plat && platform_match(plat, platform))
                        return plan_desc(src, ms->u.array.values[i], platform, depth + 1, ret, err);
                if (plat) {
                        _cleanup_free_ char *ps = platform_string(plat);
                        size_t l = strlen(avail);
                        snprintf(avail + l, sizeof(avail) - l, "%s%s", l ? ", " : "", ps);
                }
        }
        if (ms->u.array.len == 1 && !get(ms->u.array.values[0], "platform", yajl_t_object))
                return plan_desc(src, ms->u.array.values[0], platform, depth + 1, ret, err);
        return husk_error_set(err, ENOENT, "%s: no manifest for platform %s (available: %s)", iwhat,
                              platform, avail[0] ? avail : "none");
}

static void add_name(image_plan_t *p, const char *name)
{
        if (!name || !*name)
                return;
        size_t n = strv_length(p->names);
        for (size_t i = 0; i < n; i++)
                if (strcmp(p->names[i], name) == 0)
                        return;
        p->names = xrealloc(p->names, (n + 2) * sizeof(char *));
        p->names[n] = xstrdup(name);
        p->names[n + 1] = NULL;
}

static int plan_oci(const image_source_t *src, const char *platform, image_plan_t **ret,
                    size_t *ret_n, husk_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_yajl_ yajl_val idx = NULL;
        _cleanup_free_ char *what = xasprintf("%s: index.json", src->desc);
        int r = image_source_read(src, "index.json", NULL, &text, NULL, err);
        if (r < 0 || (r = parse_json(text, what, &idx, err)) < 0)
                return r;
        yajl_val ms = get(idx, "manifests", yajl_t_array);
        if (!ms || ms->u.array.len == 0)
                return husk_error_set(err, EINVAL, "%s: no manifests", what);
        image_plan_t *v = NULL;
        size_t n = 0;
        bool any_platform_skipped = false;
        for (size_t i = 0; i < ms->u.array.len; i++) {
                yajl_val dv = ms->u.array.values[i];
                yajl_val plat = get(dv, "platform", yajl_t_object);
                if (plat && !platform_match(plat, platform) && ms->u.array.len > 1) {
                        any_platform_skipped = true;
                        continue;
                }
                image_plan_t p = { 0 };
                if ((r = plan_desc(src, dv, platform, 0, &p, err)) < 0) {
                        image_plan_free(v, n);
                        free(v);
                        return r;
                }
                yajl_val ann = get(dv, "annotations", yajl_t_object);
                const char *name = get_str(ann, "io.containerd.image.name");
                const char *key = "io.containerd.image.name";
                bool valid = name && image_reference_valid(name);
                if (!name) {
                        key = "org.opencontainers.image.ref.name";
                        name = get_str(ann, key);
                        valid = name && image_ref_name_valid(name);
                }
                if (name && !valid) {
                        _cleanup_free_ char *esc = image_name_escape(name);
                        image_plan_free(&p, 1);
                        image_plan_free(v, n);
                        free(v);
                        return husk_error_set(err, EINVAL,
                                              "%s: manifests[%zu]: annotation %s \"%s\" is not a "
                                              "valid image name (%s)",
                                              what, i, key, esc,
                                              strcmp(key, "io.containerd.image.name") == 0
                                                      ? "[REGISTRY/]NAME[:TAG], lowercase NAME"
                                                      : "letters and digits joined by one of "
                                                        "-._:@+ or --, components split by /");
                }
                add_name(&p, name);
                /* Two descriptors for one image (two tags) become one image with two names. */
                size_t j;
                for (j = 0; j < n; j++)
                        if (strcmp(v[j].config_hex, p.config_hex) == 0)
                                break;
                if (j < n) {
                        for (size_t k = 0; p.names && p.names[k]; k++)
                                add_name(&v[j], p.names[k]);
                        image_plan_free(&p, 1);
                } else
                        add_plan(&v, &n, p);
        }
        if (n == 0) {
                return husk_error_set(err, ENOENT, "%s: no manifest for platform %s%s", what, platform,
                                      any_platform_skipped ? "" : " (empty index)");
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* docker save: "blobs/sha256/HEX" (newer) or "HEX.json" / "ID/layer.tar" (older). */
static char *hex_from_path(const char *path)
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        _cleanup_free_ char *h = xstrdup(base);
        size_t l = strlen(h);
        if (l > 5 && strcmp(h + l - 5, ".json") == 0)
                h[l - 5] = '\0';
        return digest_hex_valid(h) ? TAKE_PTR(h) : NULL;
}

/* containers/image's "dir:" folder (skopeo copy ... dir:, podman save --format docker-dir):
 * manifest.json is the image manifest itself, the blobs are files named by their hex digest, and
 * a "version" file says "Directory Transport Version: 1.x". It carries no image name. */
static int plan_dir(const image_source_t *src, yajl_val m, const char *what, image_plan_t **ret,
                    size_t *ret_n, husk_error_t *err)
{
        _cleanup_free_ char *version = NULL;
        husk_error_t ignored = { 0 }; /* no version file: said below, with the format's name */
        if (image_source_read(src, "version", NULL, &version, NULL, &ignored) < 0 ||
            strncmp(version, "Directory Transport Version: 1.", 31) != 0)
                return husk_error_set(err, EINVAL,
                                      "%s: an image manifest, but no 'Directory Transport Version: "
                                      "1.x' in 'version' (not a dir: folder)",
                                      what);
        yajl_val sv = get(m, "schemaVersion", yajl_t_number);
        if (!sv || !YAJL_IS_INTEGER(sv) || YAJL_GET_INTEGER(sv) != 2)
                return husk_error_set(err, EOPNOTSUPP, "%s: only schemaVersion 2 manifests are "
                                      "supported", what);
        image_plan_t p = { 0 };
        int r = plan_from_manifest(m, what, true, &p, err);
        if (r < 0)
                return r;
        *ret = xcalloc(1, sizeof(image_plan_t));
        (*ret)[0] = p;
        *ret_n = 1;
        return 0;
}

static int plan_docker(const image_source_t *src, image_plan_t **ret, size_t *ret_n,
                       husk_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_yajl_ yajl_val m = NULL;
        _cleanup_free_ char *what = xasprintf("%s: manifest.json", src->desc);
        int r = image_source_read(src, "manifest.json", NULL, &text, NULL, err);
        if (r < 0 || (r = parse_json(text, what, &m, err)) < 0)
                return r;
        if (YAJL_IS_OBJECT(m) && get(m, "layers", yajl_t_array))
                return plan_dir(src, m, what, ret, ret_n, err);
        if (!YAJL_IS_ARRAY(m) || m->u.array.len == 0)
                return husk_error_set(err, EINVAL, "%s: not a non-empty array", what);
        image_plan_t *v = NULL;
        size_t n = 0;
        for (size_t i = 0; i < m->u.array.len; i++) {
                yajl_val e = m->u.array.values[i];
                const char *config = get_str(e, "Config");
                yajl_val layers = get(e, "Layers", yajl_t_array);
                char **tags = NULL;
                if (!config || !layers || get_strv(e, "RepoTags", &tags) < 0) {
                        image_plan_free(v, n);
                        free(v);
                        return husk_error_set(err, EINVAL, "%s: entry %zu: needs Config, Layers "
                                              "and RepoTags as a list of strings", what, i);
                }
                for (size_t k = 0; tags && tags[k]; k++)
                        if (!image_reference_valid(tags[k])) {
                                _cleanup_free_ char *esc = image_name_escape(tags[k]);
                                strv_free(tags);
                                image_plan_free(v, n);
                                free(v);
                                return husk_error_set(err, EINVAL,
                                                      "%s: entry %zu: RepoTags \"%s\" is not a "
                                                      "valid image reference "
                                                      "([REGISTRY/]NAME[:TAG], lowercase NAME)",
                                                      what, i, esc);
                        }
                image_plan_t p = { .config_path = xstrdup(config),
                                   .config_hex = hex_from_path(config),
                                   .config_size = -1,
                                   .names = tags };
                p.layers = xcalloc(layers->u.array.len + 1, sizeof(layer_ref_t));
                for (size_t k = 0; k < layers->u.array.len; k++) {
                        yajl_val lv = layers->u.array.values[k];
                        if (!YAJL_IS_STRING(lv)) {
                                image_plan_free(&p, 1);
                                image_plan_free(v, n);
                                free(v);
                                return husk_error_set(err, EINVAL, "%s: entry %zu: layer %zu is not "
                                                      "a string", what, i, k);
                        }
                        const char *lp = YAJL_GET_STRING(lv);
                        /* Only the newer blobs/ layout names a layer by its blob digest. */
                        char *hex = strncmp(lp, "blobs/", 6) == 0 ? hex_from_path(lp) : NULL;
                        p.layers[p.n_layers++] = (layer_ref_t){ .path = xstrdup(lp), .blob_hex = hex,
                                                                .size = -1, .comp = COMP_AUTO };
                }
                add_plan(&v, &n, p);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int image_source_plan(const image_source_t *src, const char *platform, image_plan_t **ret,
                      size_t *ret_n, husk_error_t *err)
{
        switch (src->kind) {
        case SOURCE_OCI:
                return plan_oci(src, platform, ret, ret_n, err);
        case SOURCE_DOCKER:
                return plan_docker(src, ret, ret_n, err);
        case SOURCE_ROOTFS: {
                image_plan_t *p = xcalloc(1, sizeof(image_plan_t));
                p->config_size = -1;
                p->layers = xcalloc(1, sizeof(layer_ref_t));
                p->layers[0] = (layer_ref_t){ .size = -1, .comp = COMP_AUTO };
                p->n_layers = 1;
                *ret = p;
                *ret_n = 1;
                return 0;
        }
        }
        return husk_error_set(err, EINVAL, "%s: unknown source kind", src->desc);
}

void image_plan_free(image_plan_t *v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++) {
                free(v[i].config_path);
                free(v[i].config_hex);
                for (size_t k = 0; k < v[i].n_layers; k++) {
                        free(v[i].layers[k].path);
                        free(v[i].layers[k].blob_hex);
                }
                free(v[i].layers);
                strv_free(v[i].names);
                v[i] = (image_plan_t){ 0 };
        }
}

int image_config_parse(const char *json, const char *what, image_config_t *ret, husk_error_t *err)
{
        _cleanup_yajl_ yajl_val v = NULL;
        image_config_t c = { 0 };
        int r = parse_json(json, what, &v, err);
        if (r < 0)
                return r;
        if (!YAJL_IS_OBJECT(v))
                return husk_error_set(err, EINVAL, "%s: not a JSON object", what);
        yajl_val cfg = get(v, "config", yajl_t_any);
        if (cfg && !YAJL_IS_OBJECT(cfg) && !YAJL_IS_NULL(cfg))
                return husk_error_set(err, EINVAL, "%s: .config is not an object", what);
        static const char *const lists[] = { "Entrypoint", "Cmd", "Env" };
        char ***dst[] = { &c.run.entrypoint, &c.run.cmd, &c.run.env };
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
                if (get_strv(cfg, lists[i], dst[i]) < 0) {
                        image_config_done(&c);
                        return husk_error_set(err, EINVAL, "%s: .config.%s is not a list of strings",
                                              what, lists[i]);
                }
        const char *s;
        if ((s = get_str(cfg, "User")))
                c.run.user = xstrdup(s);
        if ((s = get_str(cfg, "WorkingDir")))
                c.run.working_dir = xstrdup(s);
        if ((s = get_str(cfg, "StopSignal")))
                c.run.stop_signal = xstrdup(s);
        yajl_val labels = get(cfg, "Labels", yajl_t_object);
        if (labels) {
                size_t nl = labels->u.object.len, k = 0;
                c.run.labels = xcalloc(2 * nl + 1, sizeof(char *));
                for (size_t i = 0; i < nl; i++) {
                        yajl_val lv = labels->u.object.values[i];
                        if (!YAJL_IS_STRING(lv))
                                continue; /* a label that is not a string is not an annotation */
                        c.run.labels[k++] = xstrdup(labels->u.object.keys[i]);
                        c.run.labels[k++] = xstrdup(YAJL_GET_STRING(lv));
                }
        }
        if ((s = get_str(v, "os")))
                c.os = xstrdup(s);
        if ((s = get_str(v, "architecture")))
                c.arch = xstrdup(s);
        yajl_val rootfs = get(v, "rootfs", yajl_t_object);
        const char *type = get_str(rootfs, "type");
        yajl_val ids = get(rootfs, "diff_ids", yajl_t_array);
        if (!type || strcmp(type, "layers") != 0 || !ids) {
                image_config_done(&c);
                return husk_error_set(err, EINVAL, "%s: .rootfs must have type \"layers\" and "
                                      "diff_ids", what);
        }
        c.diff_ids = xcalloc(ids->u.array.len + 1, sizeof(char *));
        for (size_t i = 0; i < ids->u.array.len; i++) {
                char hex[DIGEST_HEX_LEN + 1];
                yajl_val d = ids->u.array.values[i];
                if (!YAJL_IS_STRING(d) || digest_parse(YAJL_GET_STRING(d), hex) < 0) {
                        image_config_done(&c);
                        return husk_error_set(err, EINVAL, "%s: .rootfs.diff_ids[%zu] is not a "
                                              "sha256 digest", what, i);
                }
                c.diff_ids[c.n_diff_ids++] = xstrdup(hex);
        }
        *ret = c;
        return 0;
}

void husk_image_config_done(husk_image_config_t *c)
{
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->user);
        free(c->working_dir);
        free(c->stop_signal);
        strv_free(c->labels);
        *c = (husk_image_config_t){ 0 };
}

void image_config_done(image_config_t *c)
{
        husk_image_config_done(&c->run);
        strv_free(c->diff_ids);
        free(c->os);
        free(c->arch);
        *c = (image_config_t){ 0 };
}
