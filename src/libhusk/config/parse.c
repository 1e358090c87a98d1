/* SPDX-License-Identifier: Apache-2.0 */
/* config.json (runtime-spec 1.2, Linux): yajl tree -> husk_config, with validation. */
#include "config/internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

static void hook_list_free(config_hook *h, size_t n)
{
        for (size_t i = 0; h && i < n; i++) {
                free(h[i].path);
                strv_free(h[i].args);
                strv_free(h[i].env);
        }
        free(h);
}

static void idmaps_free(config_idmap *m)
{
        free(m);
}

static void mounts_free(config_mount *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++) {
                free(m[i].destination);
                free(m[i].type);
                free(m[i].source);
                strv_free(m[i].options);
                idmaps_free(m[i].uid_mappings);
                idmaps_free(m[i].gid_mappings);
        }
        free(m);
}

static void linux_free(config_linux *l)
{
        for (size_t i = 0; l->namespaces && i < l->n_namespaces; i++)
                free(l->namespaces[i].path);
        free(l->namespaces);
        idmaps_free(l->uid_mappings);
        idmaps_free(l->gid_mappings);
        for (size_t i = 0; l->devices && i < l->n_devices; i++)
                free(l->devices[i].path);
        free(l->devices);
        free(l->cgroups_path);
        config_resources_free(l->resources);
        strv_free(l->masked_paths);
        strv_free(l->readonly_paths);
        free(l->mount_label);
        config_kv_free(l->sysctl, l->n_sysctl);
        config_seccomp_free(l->seccomp);
        free(l->personality_domain);
}

void config_free(husk_config *c)
{
        if (!c)
                return;
        free(c->filename);
        strv_free(c->warnings);
        free(c->oci_version);
        config_process_free(c->process);
        free(c->root.path);
        free(c->hostname);
        free(c->domainname);
        mounts_free(c->mounts, c->n_mounts);
        for (int k = 0; k < HOOK_KIND_COUNT; k++)
                hook_list_free(c->hooks.hooks[k], c->hooks.n_hooks[k]);
        config_kv_free(c->annotations, c->n_annotations);
        linux_free(&c->linux_);
        free(c);
}

static void config_freep(husk_config **c)
{
        config_free(*c);
}

const config_namespace *config_find_namespace(const husk_config *c, config_ns_type t)
{
        for (size_t i = 0; i < c->linux_.n_namespaces; i++)
                if (c->linux_.namespaces[i].type == t)
                        return &c->linux_.namespaces[i];
        return NULL;
}

/* ---------- small shared pieces ---------- */

static int parse_idmap(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_idmap *m = elem;
        int r;
        if ((r = jget_uint32(c, e, ep, "containerID", true, NULL, &m->container_id)) < 0 ||
            (r = jget_uint32(c, e, ep, "hostID", true, NULL, &m->host_id)) < 0 ||
            (r = jget_uint32(c, e, ep, "size", true, NULL, &m->size)) < 0)
                return r;
        if (m->size == 0)
                return jerr(c, ep, "size must be greater than 0");
        if ((uint64_t)m->container_id + m->size - 1 > UINT32_MAX ||
            (uint64_t)m->host_id + m->size - 1 > UINT32_MAX)
                return jerr(c, ep, "the range does not fit in 32-bit ids");
        return 0;
}

static int parse_idmaps(jctx *c, yajl_val obj, const char *parent, const char *key,
                        config_idmap **ret, size_t *n)
{
        return jparse_array(c, obj, parent, key, true, sizeof(**ret), parse_idmap, NULL, ret, n);
}

static int check_abs_strv(jctx *c, const char *parent, const char *key, char **v, size_t n)
{
        char path[JPATH_MAX], ep[JPATH_MAX];
        jpath_key(path, parent, key);
        for (size_t i = 0; i < n; i++)
                if (v[i][0] != '/') {
                        jpath_idx(ep, path, i);
                        return jerr(c, ep, "expected an absolute path, got \"%s\"", v[i]);
                }
        return 0;
}

/* ---------- root, mounts, hooks ---------- */

static int parse_root(jctx *c, yajl_val top, husk_config *cfg)
{
        yajl_val v = NULL;
        int r = jget_object(c, top, "", "root", true, &v);
        if (r < 0)
                return r;
        if ((r = jget_string(c, v, ".root", "path", true, &cfg->root.path)) < 0 ||
            (r = jget_bool(c, v, ".root", "readonly", NULL, &cfg->root.readonly)) < 0)
                return r;
        if (cfg->root.path[0] == '\0')
                return jerr(c, ".root.path", "must not be empty");
        cfg->has_root = true;
        return 0;
}

static int parse_mount(jctx *c, yajl_val v, const char *path, void *elem, void *data)
{
        config_mount *m = elem;
        int r;
        if ((r = jget_string(c, v, path, "destination", true, &m->destination)) < 0 ||
            (r = jget_string(c, v, path, "type", false, &m->type)) < 0 ||
            (r = jget_string(c, v, path, "source", false, &m->source)) < 0 ||
            (r = jget_strv(c, v, path, "options", &m->options, &m->n_options)) < 0 ||
            (r = parse_idmaps(c, v, path, "uidMappings", &m->uid_mappings, &m->n_uid_mappings)) <
                    0 ||
            (r = parse_idmaps(c, v, path, "gidMappings", &m->gid_mappings, &m->n_gid_mappings)) < 0)
                return r;
        char dp[JPATH_MAX];
        jpath_key(dp, path, "destination");
        if (m->destination[0] == '\0')
                return jerr(c, dp, "must not be empty");
        /* runtime-spec 1.2: a relative destination is taken relative to "/". */
        if (m->destination[0] != '/') {
                char *abs = xasprintf("/%s", m->destination);
                free(m->destination);
                m->destination = abs;
        }
        jdrop_empty(&m->type);
        jdrop_empty(&m->source);
        if (!m->options)
                m->options = xcalloc(1, sizeof(char *));
        /* uidMappings/gidMappings: idmapped mounts, applied by rootfs_open_sources */
        return 0;
}

static int parse_hook(jctx *c, yajl_val v, const char *path, void *elem, void *data)
{
        config_hook *h = elem;
        int64_t timeout = 0;
        int r;
        if ((r = jget_string(c, v, path, "path", true, &h->path)) < 0 ||
            (r = jget_strv(c, v, path, "args", &h->args, &h->n_args)) < 0 ||
            (r = jget_strv(c, v, path, "env", &h->env, &h->n_env)) < 0 ||
            (r = jget_int64(c, v, path, "timeout", false, INT32_MIN, INT32_MAX, &h->has_timeout,
                            &timeout)) < 0)
                return r;
        char p[JPATH_MAX];
        if (h->path[0] != '/') {
                jpath_key(p, path, "path");
                return jerr(c, p, "expected an absolute path, got \"%s\"", h->path);
        }
        if (h->has_timeout && timeout <= 0) {
                jpath_key(p, path, "timeout");
                return jerr(c, p, "must be greater than 0, got %" PRId64, timeout);
        }
        h->timeout = (int)timeout;
        if (!h->args)
                h->args = xcalloc(1, sizeof(char *));
        /* env stays NULL when absent: such a hook gets the runtime's environment (runc, crun),
         * an explicit [] an empty one */
        return 0;
}

static int parse_hooks(jctx *c, yajl_val top, husk_config *cfg)
{
        static const char *const kinds[HOOK_KIND_COUNT] = {
                [HOOK_PRESTART] = "prestart",
                [HOOK_CREATE_RUNTIME] = "createRuntime",
                [HOOK_CREATE_CONTAINER] = "createContainer",
                [HOOK_START_CONTAINER] = "startContainer",
                [HOOK_POSTSTART] = "poststart",
                [HOOK_POSTSTOP] = "poststop",
        };
        yajl_val hooks = NULL;
        int r = jget_object(c, top, "", "hooks", false, &hooks);
        if (r < 0 || !hooks)
                return r;
        for (int k = 0; k < HOOK_KIND_COUNT; k++)
                if ((r = jparse_array(c, hooks, ".hooks", kinds[k], true, sizeof(config_hook),
                                      parse_hook, NULL, &cfg->hooks.hooks[k],
                                      &cfg->hooks.n_hooks[k])) < 0)
                        return r;
        return 0;
}

/* ---------- linux ---------- */

static int parse_namespaces(jctx *c, yajl_val lx, config_linux *l)
{
        char path[JPATH_MAX], ep[JPATH_MAX], tp[JPATH_MAX];
        yajl_val a = NULL;
        int r = jget_objects(c, lx, ".linux", "namespaces", &a, path);
        if (r < 0 || !a)
                return r;
        size_t n = a->u.array.len;
        l->namespaces = xcalloc(n ? n : 1, sizeof(config_namespace));
        for (size_t i = 0; i < n; i++) {
                yajl_val e = a->u.array.values[i];
                config_namespace *ns = &l->namespaces[l->n_namespaces];
                _cleanup_free_ char *type = NULL;
                jpath_idx(ep, path, i);
                jpath_key(tp, ep, "type");
                if ((r = jget_string(c, e, ep, "type", true, &type)) < 0)
                        return r;
                int t = config_ns_from_name(type, &ns->clone_flag);
                if (t < 0)
                        return jerr(c, tp, "unknown namespace type \"%s\"", type);
                ns->type = (config_ns_type)t;
                if ((r = jget_string(c, e, ep, "path", false, &ns->path)) < 0)
                        return r;
                jdrop_empty(&ns->path);
                if (ns->path && ns->path[0] != '/') {
                        jpath_key(tp, ep, "path");
                        free(ns->path);
                        ns->path = NULL;
                        return jerr(c, tp, "expected an absolute path, got \"%s\"",
                                    jfield(e, "path")->u.string);
                }
                const config_namespace *dup = NULL;
                for (size_t j = 0; j < l->n_namespaces; j++)
                        if (l->namespaces[j].type == ns->type)
                                dup = &l->namespaces[j];
                if (dup && !dup->path && !ns->path) {
                        /* The same new namespace asked twice means one (crun runs it; runc 1.1
                         * refuses): keep the first entry. */
                        jwarn(c, tp, "namespace \"%s\" listed twice: one is created", type);
                        memset(ns, 0, sizeof(*ns));
                        continue;
                }
                if (dup) {
                        free(ns->path);
                        ns->path = NULL;
                        return jerr(c, tp, "duplicate namespace type \"%s\"", type);
                }
                l->n_namespaces++;
        }
        return 0;
}

static int parse_time_offset(jctx *c, yajl_val offs, const char *key, config_time_offset *t)
{
        char path[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, offs, ".linux.timeOffsets", key, &v, path);
        if (r < 0 || !v)
                return r;
        if ((r = jget_int64(c, v, path, "secs", false, INT64_MIN, INT64_MAX, NULL, &t->secs)) < 0 ||
            (r = jget_uint32(c, v, path, "nanosecs", false, NULL, &t->nanosecs)) < 0)
                return r;
        if (t->nanosecs >= 1000000000u) {
                char np[JPATH_MAX];
                jpath_key(np, path, "nanosecs");
                return jerr(c, np, "%u is out of range (0..999999999)", t->nanosecs);
        }
        t->set = true;
        return 0;
}

static int parse_time_offsets(jctx *c, yajl_val lx, config_linux *l)
{
        yajl_val v = NULL;
        int r = jget_object(c, lx, ".linux", "timeOffsets", false, &v);
        if (r < 0 || !v)
                return r;
        for (size_t i = 0; i < v->u.object.len; i++) {
                const char *k = v->u.object.keys[i];
                if (strcmp(k, "monotonic") != 0 && strcmp(k, "boottime") != 0) {
                        char p[JPATH_MAX];
                        jpath_key(p, ".linux.timeOffsets", k);
                        return jerr(c, p, "unknown clock (expected monotonic or boottime)");
                }
        }
        if ((r = parse_time_offset(c, v, "monotonic", &l->time_monotonic)) < 0 ||
            (r = parse_time_offset(c, v, "boottime", &l->time_boottime)) < 0)
                return r;
        return 0;
}

static int parse_device(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_device *d = elem;
        char p[JPATH_MAX];
        _cleanup_free_ char *type = NULL;
        uint64_t mode = 0;
        int r;
        if ((r = jget_string(c, e, ep, "type", true, &type)) < 0 ||
            (r = jget_string(c, e, ep, "path", true, &d->path)) < 0)
                return r;
        jpath_key(p, ep, "type");
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
                return jerr(c, p, "unknown device type \"%s\" (expected c, b, u or p)", type);
        d->type = type[0];
        jpath_key(p, ep, "path");
        if (d->path[0] != '/')
                return jerr(c, p, "expected an absolute path, got \"%s\"", d->path);
        bool need_numbers = d->type != 'p';
        if ((r = jget_int64(c, e, ep, "major", need_numbers, 0, UINT32_MAX, NULL, &d->major)) < 0 ||
            (r = jget_int64(c, e, ep, "minor", need_numbers, 0, UINT32_MAX, NULL, &d->minor)) < 0 ||
            (r = jget_uint64(c, e, ep, "fileMode", false, 07777, &d->has_file_mode, &mode)) < 0 ||
            (r = jget_uint32(c, e, ep, "uid", false, &d->has_uid, &d->uid)) < 0 ||
            (r = jget_uint32(c, e, ep, "gid", false, &d->has_gid, &d->gid)) < 0)
                return r;
        d->file_mode = (uint32_t)mode;
        return 0;
}

static int parse_propagation(jctx *c, yajl_val lx, config_linux *l)
{
        _cleanup_free_ char *s = NULL;
        int r = jget_string(c, lx, ".linux", "rootfsPropagation", false, &s);
        if (r < 0 || !s || !s[0])
                return r;
        int p = config_propagation_from_name(s);
        if (p < 0)
                return jerr(c, ".linux.rootfsPropagation", "unknown propagation \"%s\"", s);
        l->rootfs_propagation = (config_propagation)p;
        return 0;
}

static int parse_personality(jctx *c, yajl_val lx, config_linux *l)
{
        yajl_val v = NULL;
        int r = jget_object(c, lx, ".linux", "personality", false, &v);
        if (r < 0 || !v)
                return r;
        _cleanup_strv_ char **flags = NULL;
        size_t n_flags = 0;
        if ((r = jget_string(c, v, ".linux.personality", "domain", true, &l->personality_domain)) <
                    0 ||
            (r = jget_strv(c, v, ".linux.personality", "flags", &flags, &n_flags)) < 0)
                return r;
        if (strcmp(l->personality_domain, "LINUX") != 0 &&
            strcmp(l->personality_domain, "LINUX32") != 0)
                return jerr(c, ".linux.personality.domain",
                            "unsupported personality \"%s\" (expected LINUX or LINUX32)",
                            l->personality_domain);
        if (n_flags > 0)
                return jerr(c, ".linux.personality.flags",
                            "not supported by husk (no flags are "
                            "defined by the runtime spec)");
        l->has_personality = true;
        return 0;
}

static int parse_linux(jctx *c, yajl_val top, husk_config *cfg)
{
        yajl_val lx = NULL;
        int r = jget_object(c, top, "", "linux", false, &lx);
        if (r < 0 || !lx)
                return r;
        config_linux *l = &cfg->linux_;
        cfg->has_linux = true;
        yajl_val res = NULL, sec = NULL;
        if ((r = parse_namespaces(c, lx, l)) < 0 ||
            (r = parse_idmaps(c, lx, ".linux", "uidMappings", &l->uid_mappings,
                              &l->n_uid_mappings)) < 0 ||
            (r = parse_idmaps(c, lx, ".linux", "gidMappings", &l->gid_mappings,
                              &l->n_gid_mappings)) < 0 ||
            (r = parse_time_offsets(c, lx, l)) < 0 ||
            (r = jparse_array(c, lx, ".linux", "devices", true, sizeof(*l->devices), parse_device,
                              NULL, &l->devices, &l->n_devices)) < 0 ||
            (r = jget_string(c, lx, ".linux", "cgroupsPath", false, &l->cgroups_path)) < 0 ||
            (r = jget_object(c, lx, ".linux", "resources", false, &res)) < 0 ||
            (r = parse_propagation(c, lx, l)) < 0 ||
            (r = jget_strv(c, lx, ".linux", "maskedPaths", &l->masked_paths, &l->n_masked_paths)) <
                    0 ||
            (r = check_abs_strv(c, ".linux", "maskedPaths", l->masked_paths, l->n_masked_paths)) <
                    0 ||
            (r = jget_strv(c, lx, ".linux", "readonlyPaths", &l->readonly_paths,
                           &l->n_readonly_paths)) < 0 ||
            (r = check_abs_strv(c, ".linux", "readonlyPaths", l->readonly_paths,
                                l->n_readonly_paths)) < 0 ||
            (r = jget_string(c, lx, ".linux", "mountLabel", false, &l->mount_label)) < 0 ||
            (r = jget_kv(c, lx, ".linux", "sysctl", &l->sysctl, &l->n_sysctl)) < 0 ||
            (r = jget_object(c, lx, ".linux", "seccomp", false, &sec)) < 0 ||
            (r = parse_personality(c, lx, l)) < 0)
                return r;
        jdrop_empty(&l->cgroups_path);
        if (!l->masked_paths)
                l->masked_paths = xcalloc(1, sizeof(char *));
        if (!l->readonly_paths)
                l->readonly_paths = xcalloc(1, sizeof(char *));
        if (res && (r = config_parse_resources_obj(c, res, ".linux.resources", &l->resources)) < 0)
                return r;
        if (sec && (r = config_parse_seccomp_obj(c, sec, ".linux.seccomp", &l->seccomp)) < 0)
                return r;
        /* mountLabel: the host side refuses it when SELinux is on (husk cannot label mounts) and
         * skips it with a warning when it is off, as crun does (process/start.c). */
        if (!jobject_empty(jfield(lx, "intelRdt"))) {
                l->has_intel_rdt = true;
                return jerr(c, ".linux.intelRdt", "not supported by husk (no resctrl support)");
        }
        return 0;
}

/* ---------- cross-field validation ---------- */

static bool ns_configured(const husk_config *cfg, config_ns_type t)
{
        return config_find_namespace(cfg, t) != NULL;
}

/* Which namespace makes a sysctl key safe to set, or -1 when the key is not namespaced (writing it
 * would change the host). The IPC keys are the ones ipc_namespace.c keeps per namespace. */
static int sysctl_namespace(const char *key)
{
        if ((strncmp(key, "kernel.msg", 10) == 0 && key[10]) ||
            (strncmp(key, "kernel.shm", 10) == 0 && key[10]) || strcmp(key, "kernel.sem") == 0 ||
            strcmp(key, "kernel.sem_next_id") == 0)
                return NS_IPC;
        if (strncmp(key, "fs.mqueue.", 10) == 0 && key[10])
                return NS_IPC;
        if (strncmp(key, "net.", 4) == 0 && key[4])
                return NS_NETWORK;
        if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
                return NS_UTS;
        return -1;
}

static int validate_sysctl(jctx *c, const husk_config *cfg)
{
        const config_linux *l = &cfg->linux_;
        for (size_t i = 0; i < l->n_sysctl; i++) {
                int ns = sysctl_namespace(l->sysctl[i].key);
                if (ns < 0 || !ns_configured(cfg, (config_ns_type)ns)) {
                        char p[JPATH_MAX];
                        jpath_qkey(p, ".linux.sysctl", l->sysctl[i].key);
                        return jerr(c, p,
                                    "not a namespaced sysctl (or its namespace is not configured)");
                }
        }
        return 0;
}

static int validate_userns(jctx *c, const husk_config *cfg)
{
        const config_linux *l = &cfg->linux_;
        const config_namespace *user = config_find_namespace(cfg, NS_USER);
        bool maps = l->n_uid_mappings || l->n_gid_mappings;
        const char *which = l->n_uid_mappings ? ".linux.uidMappings" : ".linux.gidMappings";
        if (!user && maps)
                return jerr(c, which, "id mappings require a user namespace in .linux.namespaces");
        if (user && user->path && maps)
                return jerr(c, which,
                            "must be absent when joining an existing user namespace "
                            "(.linux.namespaces user has a path)");
        if (user && !user->path) {
                if (!l->n_uid_mappings)
                        return jerr(c, ".linux.uidMappings",
                                    "a new user namespace needs at least one uid mapping");
                if (!l->n_gid_mappings)
                        return jerr(c, ".linux.gidMappings",
                                    "a new user namespace needs at least one gid mapping");
        }
        return 0;
}

static int validate(jctx *c, const husk_config *cfg)
{
        int r;
        if (cfg->hostname && cfg->hostname[0] && !ns_configured(cfg, NS_UTS))
                return jerr(c, ".hostname", "setting the hostname requires a uts namespace");
        if (cfg->domainname && cfg->domainname[0] && !ns_configured(cfg, NS_UTS))
                return jerr(c, ".domainname", "setting the domainname requires a uts namespace");
        if ((cfg->linux_.time_monotonic.set || cfg->linux_.time_boottime.set) &&
            !ns_configured(cfg, NS_TIME))
                return jerr(c, ".linux.timeOffsets", "time offsets require a time namespace");
        if ((r = validate_userns(c, cfg)) < 0 || (r = validate_sysctl(c, cfg)) < 0)
                return r;
        return 0;
}

/* ---------- entry points ---------- */

static int parse_top(jctx *c, yajl_val top, const char *path, void *elem, void *data)
{
        husk_config *cfg = elem;
        int r;
        if (!YAJL_IS_OBJECT(top))
                return jerr(c, "", "expected an object, got %s", jtype(top));
        if ((r = jget_string(c, top, "", "ociVersion", true, &cfg->oci_version)) < 0)
                return r;
        if (strncmp(cfg->oci_version, "1.", 2) != 0)
                return jerr(c, ".ociVersion", "unsupported version \"%s\" (husk supports 1.x)",
                            cfg->oci_version);
        yajl_val proc = jfield(top, "process");
        if (proc && (r = config_parse_process_obj(c, proc, ".process", &cfg->process)) < 0)
                return r;
        if ((r = parse_root(c, top, cfg)) < 0 ||
            (r = jget_string(c, top, "", "hostname", false, &cfg->hostname)) < 0 ||
            (r = jget_string(c, top, "", "domainname", false, &cfg->domainname)) < 0 ||
            (r = jparse_array(c, top, "", "mounts", true, sizeof(*cfg->mounts), parse_mount, NULL,
                              &cfg->mounts, &cfg->n_mounts)) < 0 ||
            (r = parse_hooks(c, top, cfg)) < 0 ||
            (r = jget_kv(c, top, "", "annotations", &cfg->annotations, &cfg->n_annotations)) < 0 ||
            (r = parse_linux(c, top, cfg)) < 0)
                return r;
        return validate(c, cfg);
}

int config_parse(const char *json, size_t len, const char *fname, husk_config **ret,
                 husk_error_t *err)
{
        _cleanup_(config_freep) husk_config *cfg = xcalloc(1, sizeof(*cfg));
        cfg->filename = xstrdup(fname);
        int r = jparse_doc(json, len, fname, err, parse_top, cfg, &cfg->warnings);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cfg);
        return 0;
}

int config_load_bundle(const char *bundle, husk_config **ret, husk_error_t *err)
{
        _cleanup_free_ char *fname = xasprintf("%s/config.json", bundle);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(AT_FDCWD, fname, CONFIG_MAX_SIZE, &text, &len);
        if (r == -EFBIG)
                return husk_error_set(err, EFBIG, "%s: file too large (limit %u bytes)", fname,
                                      CONFIG_MAX_SIZE);
        if (r < 0)
                return util_syserr(err, r, "read %s", fname);
        return config_parse(text, len, fname, ret, err);
}
