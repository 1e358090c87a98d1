/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources (LinuxResources): in config.json and alone (update --resources FILE). */
#include "config/internal.h"

#include <string.h>

void config_resources_free(config_resources *r)
{
        if (!r)
                return;
        free(r->devices);
        free(r->cpu.cpus);
        free(r->cpu.mems);
        free(r->blkio.weight_device);
        free(r->blkio.throttle_read_bps);
        free(r->blkio.throttle_write_bps);
        free(r->blkio.throttle_read_iops);
        free(r->blkio.throttle_write_iops);
        for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        config_kv_free(r->unified, r->n_unified);
        free(r);
}

static void resources_freep(config_resources **r)
{
        config_resources_free(*r);
}

static int parse_access(jctx *c, yajl_val e, const char *ep, char access[4])
{
        _cleanup_free_ char *s = NULL;
        int r = jget_string(c, e, ep, "access", false, &s);
        if (r < 0)
                return r;
        if (!s || !s[0]) {
                memcpy(access, "rwm", 4);
                return 0;
        }
        bool rd = false, wr = false, mk = false, other = false;
        for (const char *p = s; *p; p++) {
                if (*p == 'r')
                        rd = true;
                else if (*p == 'w')
                        wr = true;
                else if (*p == 'm')
                        mk = true;
                else
                        other = true;
        }
        char ap[JPATH_MAX];
        jpath_key(ap, ep, "access");
        /* runc keeps the known letters of "rx" (the rule becomes "r": never more than asked) and
         * fails on a rule with none; crun refuses both. */
        if (!rd && !wr && !mk)
                return jerr(c, ap, "invalid access \"%s\" (expected a subset of \"rwm\")", s);
        if (other)
                jwarn(c, ap, "letters other than r, w and m in \"%s\" are ignored", s);
        size_t n = 0;
        if (rd)
                access[n++] = 'r';
        if (wr)
                access[n++] = 'w';
        if (mk)
                access[n++] = 'm';
        access[n] = '\0';
        return 0;
}

static int parse_device_rule(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_device_rule *d = elem;
        _cleanup_free_ char *type = NULL;
        bool has_allow = false;
        int r;
        d->major = d->minor = -1;
        if ((r = jget_bool(c, e, ep, "allow", &has_allow, &d->allow)) < 0 ||
            (r = jget_string(c, e, ep, "type", false, &type)) < 0 ||
            (r = jget_int64(c, e, ep, "major", false, -1, UINT32_MAX, NULL, &d->major)) < 0 ||
            (r = jget_int64(c, e, ep, "minor", false, -1, UINT32_MAX, NULL, &d->minor)) < 0 ||
            (r = parse_access(c, e, ep, d->access)) < 0)
                return r;
        char p[JPATH_MAX];
        if (!has_allow) {
                jpath_key(p, ep, "allow");
                return jerr(c, p, "required, but missing");
        }
        d->type = 'a';
        if (type && type[0]) {
                if (strlen(type) != 1 || !strchr("acb", type[0])) {
                        jpath_key(p, ep, "type");
                        return jerr(c, p, "unknown device type \"%s\" (expected a, c or b)", type);
                }
                d->type = type[0];
        }
        return 0;
}

static int parse_memory(jctx *c, yajl_val res, const char *parent, config_resources *out)
{
        char p[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, res, parent, "memory", &v, p);
        if (r < 0 || !v)
                return r;
        config_memory *m = &out->memory;
        /* -1 means "unlimited" for the byte counts. */
        if ((r = jget_int64(c, v, p, "limit", false, -1, INT64_MAX, &m->has_limit, &m->limit)) <
                    0 ||
            (r = jget_int64(c, v, p, "reservation", false, -1, INT64_MAX, &m->has_reservation,
                            &m->reservation)) < 0 ||
            (r = jget_int64(c, v, p, "swap", false, -1, INT64_MAX, &m->has_swap, &m->swap)) < 0 ||
            (r = jget_int64(c, v, p, "kernel", false, -1, INT64_MAX, &m->has_kernel, &m->kernel)) <
                    0 ||
            (r = jget_int64(c, v, p, "kernelTCP", false, -1, INT64_MAX, &m->has_kernel_tcp,
                            &m->kernel_tcp)) < 0 ||
            (r = jget_uint64(c, v, p, "swappiness", false, 100, &m->has_swappiness,
                             &m->swappiness)) < 0 ||
            (r = jget_bool(c, v, p, "disableOOMKiller", &m->has_disable_oom_killer,
                           &m->disable_oom_killer)) < 0 ||
            (r = jget_bool(c, v, p, "useHierarchy", &m->has_use_hierarchy, &m->use_hierarchy)) <
                    0 ||
            (r = jget_bool(c, v, p, "checkBeforeUpdate", &m->has_check_before_update,
                           &m->check_before_update)) < 0)
                return r;
        out->has_memory = true;
        return 0;
}

static int parse_cpu(jctx *c, yajl_val res, const char *parent, config_resources *out)
{
        char p[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, res, parent, "cpu", &v, p);
        if (r < 0 || !v)
                return r;
        config_cpu *k = &out->cpu;
        if ((r = jget_uint64(c, v, p, "shares", false, UINT64_MAX, &k->has_shares, &k->shares)) <
                    0 ||
            (r = jget_int64(c, v, p, "quota", false, -1, INT64_MAX, &k->has_quota, &k->quota)) <
                    0 ||
            (r = jget_uint64(c, v, p, "burst", false, UINT64_MAX, &k->has_burst, &k->burst)) < 0 ||
            (r = jget_uint64(c, v, p, "period", false, UINT64_MAX, &k->has_period, &k->period)) <
                    0 ||
            (r = jget_int64(c, v, p, "realtimeRuntime", false, -1, INT64_MAX,
                            &k->has_realtime_runtime, &k->realtime_runtime)) < 0 ||
            (r = jget_uint64(c, v, p, "realtimePeriod", false, UINT64_MAX, &k->has_realtime_period,
                             &k->realtime_period)) < 0 ||
            (r = jget_int64(c, v, p, "idle", false, 0, 1, &k->has_idle, &k->idle)) < 0 ||
            (r = jget_string(c, v, p, "cpus", false, &k->cpus)) < 0 ||
            (r = jget_string(c, v, p, "mems", false, &k->mems)) < 0)
                return r;
        jdrop_empty(&k->cpus);
        jdrop_empty(&k->mems);
        out->has_cpu = true;
        return 0;
}

static int parse_pids(jctx *c, yajl_val res, const char *parent, config_resources *out)
{
        char p[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, res, parent, "pids", &v, p);
        if (r < 0 || !v)
                return r;
        if ((r = jget_int64(c, v, p, "limit", true, INT64_MIN, INT64_MAX, NULL, &out->pids_limit)) <
            0)
                return r;
        out->has_pids = true;
        return 0;
}

static int parse_weight(jctx *c, yajl_val v, const char *p, const char *key, bool *has,
                        uint16_t *ret)
{
        uint64_t w = 0;
        int r = jget_uint64(c, v, p, key, false, UINT16_MAX, has, &w);
        if (r == 0)
                *ret = (uint16_t)w;
        return r;
}

static int parse_major_minor(jctx *c, yajl_val e, const char *ep, int64_t *major, int64_t *minor)
{
        int r;
        if ((r = jget_int64(c, e, ep, "major", true, 0, UINT32_MAX, NULL, major)) < 0 ||
            (r = jget_int64(c, e, ep, "minor", true, 0, UINT32_MAX, NULL, minor)) < 0)
                return r;
        return 0;
}

static int parse_throttle_device(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_throttle_device *t = elem;
        int r;
        if ((r = parse_major_minor(c, e, ep, &t->major, &t->minor)) < 0 ||
            (r = jget_uint64(c, e, ep, "rate", true, UINT64_MAX, NULL, &t->rate)) < 0)
                return r;
        return 0;
}

static int parse_throttle(jctx *c, yajl_val v, const char *parent, const char *key,
                          config_throttle_device **ret, size_t *n)
{
        return jparse_array(c, v, parent, key, true, sizeof(**ret), parse_throttle_device, NULL,
                            ret, n);
}

static int parse_weight_device(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_weight_device *w = elem;
        int r;
        if ((r = parse_major_minor(c, e, ep, &w->major, &w->minor)) < 0 ||
            (r = parse_weight(c, e, ep, "weight", &w->has_weight, &w->weight)) < 0 ||
            (r = parse_weight(c, e, ep, "leafWeight", &w->has_leaf_weight, &w->leaf_weight)) < 0)
                return r;
        return 0;
}

static int parse_blkio(jctx *c, yajl_val res, const char *parent, config_resources *out)
{
        char p[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, res, parent, "blockIO", &v, p);
        if (r < 0 || !v)
                return r;
        config_blkio *b = &out->blkio;
        if ((r = parse_weight(c, v, p, "weight", &b->has_weight, &b->weight)) < 0 ||
            (r = parse_weight(c, v, p, "leafWeight", &b->has_leaf_weight, &b->leaf_weight)) < 0 ||
            (r = jparse_array(c, v, p, "weightDevice", true, sizeof(*b->weight_device),
                              parse_weight_device, NULL, &b->weight_device, &b->n_weight_device)) <
                    0 ||
            (r = parse_throttle(c, v, p, "throttleReadBpsDevice", &b->throttle_read_bps,
                                &b->n_throttle_read_bps)) < 0 ||
            (r = parse_throttle(c, v, p, "throttleWriteBpsDevice", &b->throttle_write_bps,
                                &b->n_throttle_write_bps)) < 0 ||
            (r = parse_throttle(c, v, p, "throttleReadIOPSDevice", &b->throttle_read_iops,
                                &b->n_throttle_read_iops)) < 0 ||
            (r = parse_throttle(c, v, p, "throttleWriteIOPSDevice", &b->throttle_write_iops,
                                &b->n_throttle_write_iops)) < 0)
                return r;
        out->has_blkio = true;
        return 0;
}

static int parse_hugepage_limit(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_hugepage_limit *h = elem;
        int r;
        if ((r = jget_string(c, e, ep, "pageSize", true, &h->page_size)) < 0 ||
            (r = jget_uint64(c, e, ep, "limit", true, UINT64_MAX, NULL, &h->limit)) < 0)
                return r;
        /* The page size becomes part of a cgroup file name (hugetlb.2MB.limit_in_bytes). */
        size_t n = strspn(h->page_size, "0123456789");
        if (n == 0 || (strcmp(h->page_size + n, "KB") != 0 && strcmp(h->page_size + n, "MB") != 0 &&
                       strcmp(h->page_size + n, "GB") != 0)) {
                char pp[JPATH_MAX];
                jpath_key(pp, ep, "pageSize");
                return jerr(c, pp, "invalid page size \"%s\" (expected e.g. \"2MB\")",
                            h->page_size);
        }
        return 0;
}

static int check_unified(jctx *c, const char *parent, config_resources *out)
{
        char path[JPATH_MAX], kp[JPATH_MAX];
        jpath_key(path, parent, "unified");
        for (size_t i = 0; i < out->n_unified; i++) {
                const char *k = out->unified[i].key;
                /* Keys name files in the container's cgroup directory: no way out of it. */
                if (!k[0] || strchr(k, '/') || k[0] == '.' || !strchr(k, '.')) {
                        jpath_qkey(kp, path, k);
                        return jerr(c, kp,
                                    "invalid cgroup file name (expected e.g. "
                                    "\"memory.max\")");
                }
        }
        return 0;
}

int config_parse_resources_obj(jctx *c, yajl_val v, const char *path, config_resources **ret)
{
        if (!YAJL_IS_OBJECT(v))
                return jerr(c, path, "expected an object, got %s", jtype(v));
        _cleanup_(resources_freep) config_resources *res = xcalloc(1, sizeof(*res));
        int r;
        if ((r = jparse_array(c, v, path, "devices", true, sizeof(*res->devices), parse_device_rule,
                              NULL, &res->devices, &res->n_devices)) < 0 ||
            (r = parse_memory(c, v, path, res)) < 0 || (r = parse_cpu(c, v, path, res)) < 0 ||
            (r = parse_pids(c, v, path, res)) < 0 || (r = parse_blkio(c, v, path, res)) < 0 ||
            (r = jparse_array(c, v, path, "hugepageLimits", true, sizeof(*res->hugepage_limits),
                              parse_hugepage_limit, NULL, &res->hugepage_limits,
                              &res->n_hugepage_limits)) < 0 ||
            (r = jget_kv(c, v, path, "unified", &res->unified, &res->n_unified)) < 0 ||
            (r = check_unified(c, path, res)) < 0)
                return r;
        char p[JPATH_MAX];
        if (!jobject_empty(jfield(v, "network"))) {
                res->has_network = true;
                jpath_key(p, path, "network");
                return jerr(c, p, "not supported by husk (no net_cls/net_prio support)");
        }
        if (!jobject_empty(jfield(v, "rdma"))) {
                res->has_rdma = true;
                jpath_key(p, path, "rdma");
                return jerr(c, p, "not supported by husk (no rdma cgroup support)");
        }
        *ret = TAKE_PTR(res);
        return 0;
}

static int resources_doc(jctx *c, yajl_val tree, const char *path, void *elem, void *data)
{
        return config_parse_resources_obj(c, tree, path, elem);
}

int config_parse_resources(const char *json, size_t len, const char *fname, config_resources **ret,
                           husk_error_t *err)
{
        /* update has no warning channel yet: what it skips is named in docs/config.md */
        return jparse_doc(json, len, fname, err, resources_doc, ret, NULL);
}
