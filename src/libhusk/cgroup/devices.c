/* SPDX-License-Identifier: Apache-2.0 */
/* Device access rules: the rule list (pure), v1 devices.allow/devices.deny lines, and the v2 eBPF
 * program (BPF_PROG_TYPE_CGROUP_DEVICE) built from the same list and attached to the cgroup dir.
 * Host side only. */
#include "cgroup/cgroup_internal.h"
#include "util/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---------------------------------------------------------------- plan: the rule list */

#define ANY (-1)

/* The devices every container gets (as runc's default allow list): mknod of anything (the
 * devices still cannot be opened), and the standard /dev nodes. */
static const config_device_rule default_rules[] = {
        { true, 'c', ANY, ANY, "m" },  { true, 'b', ANY, ANY, "m" },
        { true, 'c', 1, 3, "rwm" },    /* null */
        { true, 'c', 1, 5, "rwm" },    /* zero */
        { true, 'c', 1, 7, "rwm" },    /* full */
        { true, 'c', 1, 8, "rwm" },    /* random */
        { true, 'c', 1, 9, "rwm" },    /* urandom */
        { true, 'c', 5, 0, "rwm" },    /* tty */
        { true, 'c', 5, 1, "rwm" },    /* console */
        { true, 'c', 5, 2, "rwm" },    /* ptmx */
        { true, 'c', 136, ANY, "rwm" }, /* pts/N */
        { true, 'c', 10, 200, "rwm" }, /* net/tun */
};

static bool is_reset(const config_device_rule *r)
{
        /* Only "all devices, all access" resets: "a" with a narrower access list is a normal rule
         * for the eBPF driver (v1 writes treat any "a" as a reset anyway). */
        return r->type == 'a' && r->major == ANY && r->minor == ANY &&
               strchr(r->access, 'r') && strchr(r->access, 'w') && strchr(r->access, 'm');
}

/* true when every device rule b can match is also matched by rule a (type, major, minor). */
static bool covers(const config_device_rule *a, const config_device_rule *b)
{
        return (a->type == 'a' || a->type == b->type) && (a->major == ANY || a->major == b->major) &&
               (a->minor == ANY || a->minor == b->minor);
}

/* true when some device matches both rules. */
static bool overlaps(const config_device_rule *a, const config_device_rule *b)
{
        return (a->type == 'a' || b->type == 'a' || a->type == b->type) &&
               (a->major == ANY || b->major == ANY || a->major == b->major) &&
               (a->minor == ANY || b->minor == ANY || a->minor == b->minor);
}

/* Remove from acc every access letter that is in del. */
static void access_minus(char acc[4], const char *del)
{
        char *o = acc;
        for (const char *c = acc; *c; c++)
                if (!strchr(del, *c))
                        *o++ = *c;
        *o = '\0';
}

/* A deny rule must win over every allow before it, whatever the driver: v1's devices.deny only
 * removes an exception with the very same type:major:minor (so "c *:* w" written after
 * "c 1:11 rwm" leaves /dev/kmsg writable), while the eBPF program lets the last matching rule
 * decide. Taking each later covering deny's letters out of an allow makes the list mean the same
 * to both (for the eBPF program nothing changes: the deny would have matched first). */
static size_t apply_denies(config_device_rule *v, size_t n)
{
        size_t k = 1; /* v[0] is the reset */
        for (size_t i = 1; i < n; i++) {
                if (v[i].allow)
                        for (size_t j = i + 1; j < n && v[i].access[0]; j++)
                                if (!v[j].allow && covers(&v[j], &v[i]))
                                        access_minus(v[i].access, v[j].access);
                if (v[i].access[0] || !v[i].allow)
                        v[k++] = v[i];
        }
        return k;
}

void cgroup_device_rules(const config_device_rule *cfg_rules, size_t n_cfg,
                         const config_device_rule *extra, size_t n_extra,
                         config_device_rule **ret, size_t *ret_n)
{
        size_t cap = 1 + n_cfg + ARRAY_SIZE(default_rules) + n_extra, n = 0;
        config_device_rule *v = xcalloc(cap, sizeof(*v));
        v[n++] = (config_device_rule){ false, 'a', ANY, ANY, "rwm" };
        /* linux.devices before the config's rules, so that a configured deny (a deny-all reset
         * drops them entirely) wins over them; runc and crun add no rule for linux.devices at
         * all. The standard devices come last, as in runc and crun. */
        for (size_t i = 0; i < n_extra; i++)
                v[n++] = extra[i];
        for (size_t i = 0; i < n_cfg; i++)
                v[n++] = cfg_rules[i];
        for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
                v[n++] = default_rules[i];
        size_t start = 0;
        for (size_t i = 0; i < n; i++)
                if (is_reset(&v[i]))
                        start = i;
        if (start)
                memmove(v, v + start, (n - start) * sizeof(*v));
        *ret = v;
        *ret_n = apply_denies(v, n - start);
}

int cgroup_device_rules_check_v1(const config_device_rule *rules, size_t n, husk_error_t *err)
{
        /* Only a deny-all list (the whitelist mode of v1) grants through exceptions. */
        if (n == 0 || rules[0].allow)
                return 0;
        for (size_t j = 1; j < n; j++) {
                if (rules[j].allow)
                        continue;
                for (size_t i = 1; i < j; i++) {
                        const config_device_rule *a = &rules[i];
                        bool shared = false;
                        for (const char *c = rules[j].access; *c && !shared; c++)
                                shared = strchr(a->access, *c) != NULL;
                        if (!a->allow || !shared || !overlaps(a, &rules[j]) ||
                            covers(&rules[j], a))
                                continue;
                        char deny[96], allow[96];
                        cgroup_device_rule_v1(&rules[j], deny, sizeof(deny));
                        cgroup_device_rule_v1(a, allow, sizeof(allow));
                        return husk_error_set(err, EINVAL,
                                              "linux.resources.devices: the deny rule \"%s\" "
                                              "cannot take access away from the wider allow rule "
                                              "\"%s\" on cgroup v1 (the kernel would ignore it); "
                                              "list narrower allow rules instead",
                                              deny, allow);
                }
        }
        return 0;
}

void cgroup_devices_to_rules(const config_device *d, size_t n, config_device_rule **ret,
                             size_t *ret_n)
{
        config_device_rule *v = n ? xcalloc(n, sizeof(*v)) : NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                /* fifos need no device access; 'u' (unbuffered) is a char device */
                if (d[i].type != 'c' && d[i].type != 'u' && d[i].type != 'b')
                        continue;
                v[k++] = (config_device_rule){ true, d[i].type == 'b' ? 'b' : 'c', d[i].major,
                                               d[i].minor, "rwm" };
        }
        *ret = v;
        *ret_n = k;
}

void cgroup_device_rule_v1(const config_device_rule *r, char *buf, size_t len)
{
        if (r->type == 'a') {
                snprintf(buf, len, "a");
                return;
        }
        char maj[24] = "*", min[24] = "*";
        if (r->major >= 0)
                snprintf(maj, sizeof(maj), "%" PRId64, r->major);
        if (r->minor >= 0)
                snprintf(min, sizeof(min), "%" PRId64, r->minor);
        snprintf(buf, len, "%c %s:%s %s", r->type, maj, min, r->access);
}

/* ---------------------------------------------------------------- plan: the eBPF program */

static unsigned access_mask(const char *a)
{
        unsigned m = 0;
        for (; *a; a++)
                m |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE
                                                   : *a == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
        return m;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
                                  .imm = imm };
}

typedef struct prog {
        struct bpf_insn *v;
        size_t n, cap;
} prog;

static void emit(prog *p, struct bpf_insn i)
{
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 64;
                p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
        }
        p->v[p->n++] = i;
}

/* Registers: r2 = device type, r3 = access, r4 = major, r5 = minor (read from the
 * struct bpf_cgroup_dev_ctx in r1). The rules are checked last to first; the first that matches
 * decides. An allow rule matches when every requested access is in its list; a deny rule when
 * any requested access is. No rule matches: the verdict of the reset rule (rules[0]). */
void cgroup_device_bpf(const config_device_rule *rules, size_t n, struct bpf_insn **ret,
                       size_t *ret_n)
{
        prog p = { 0 };
        emit(&p, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
        emit(&p, insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
        emit(&p, insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
        emit(&p, insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
        emit(&p, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
        emit(&p, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
        for (size_t i = n; i-- > 1;) {
                const config_device_rule *r = &rules[i];
                unsigned acc = access_mask(r->access);
                if (!acc)
                        continue;
                size_t start = p.n;
                if (r->type != 'a')
                        emit(&p, insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                                      r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
                unsigned all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
                if (acc != all) {
                        emit(&p, insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_3, 0, 0));
                        emit(&p, insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0,
                                      (int32_t)(r->allow ? (~acc & all) : acc)));
                        emit(&p, insn(BPF_JMP32 | (r->allow ? BPF_JNE : BPF_JEQ) | BPF_K,
                                      BPF_REG_0, 0, 0, 0));
                }
                if (r->major >= 0)
                        emit(&p, insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0,
                                      (int32_t)(uint32_t)r->major));
                if (r->minor >= 0)
                        emit(&p, insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0,
                                      (int32_t)(uint32_t)r->minor));
                emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
                emit(&p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
                /* every conditional jump in this block goes to the next block */
                for (size_t k = start; k < p.n; k++)
                        if (BPF_CLASS(p.v[k].code) == BPF_JMP32)
                                p.v[k].off = (int16_t)(p.n - k - 1);
        }
        emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, n && rules[0].allow ? 1 : 0));
        emit(&p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        *ret = p.v;
        *ret_n = p.n;
}

/* ---------------------------------------------------------------- apply */

static int devices_v1(cgroup_handle *h, const config_device_rule *rules, size_t n,
                      husk_error_t *err)
{
        int r = cgroup_device_rules_check_v1(rules, n, err);
        if (r < 0)
                return r;
        cg_hier *c = cgroup_find_hier(h, "devices");
        if (!c)
                return husk_error_set(err, ENOTSUP,
                                      "linux.resources.devices: the devices cgroup controller is "
                                      "not mounted");
        _cleanup_free_ char *allow = xasprintf("%s/devices.allow", c->dir);
        _cleanup_free_ char *deny = xasprintf("%s/devices.deny", c->dir);
        _cleanup_close_ int afd = open(allow, O_WRONLY | O_CLOEXEC);
        _cleanup_close_ int dfd = open(deny, O_WRONLY | O_CLOEXEC);
        if (afd < 0 || dfd < 0)
                return util_syserr(err, errno, "open %s", afd < 0 ? allow : deny);
        for (size_t i = 0; i < n; i++) {
                /* v1 reads any "a" line as "all devices, all access": a later "a" rule with
                 * fewer letters (only rules[0] is a reset) is written as "c *:*" and "b *:*". */
                static const char split[] = { 'c', 'b' };
                bool whole = i == 0 || rules[i].type != 'a';
                for (size_t k = 0; k < (whole ? 1 : ARRAY_SIZE(split)); k++) {
                        config_device_rule one = rules[i];
                        if (!whole)
                                one.type = split[k];
                        char line[96];
                        cgroup_device_rule_v1(&one, line, sizeof(line));
                        /* one rule per write(): the kernel parses each write as one rule */
                        if (write(one.allow ? afd : dfd, line, strlen(line)) < 0)
                                return util_syserr(err, errno, "write \"%s\" to %s", line,
                                                   one.allow ? allow : deny);
                }
        }
        return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* After attaching the new program (BPF_F_ALLOW_MULTI), detach every other one on this cgroup:
 * an update replaces the rules instead of adding to them. */
static int detach_others(int cgfd, int new_fd, husk_error_t *err)
{
        struct bpf_prog_info info = { 0 };
        union bpf_attr a = { 0 };
        a.info.bpf_fd = (uint32_t)new_fd;
        a.info.info_len = sizeof(info);
        a.info.info = (uint64_t)(uintptr_t)&info;
        if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
                return util_syserr(err, errno, "bpf(BPF_OBJ_GET_INFO_BY_FD)");
        uint32_t ids[64], cnt = ARRAY_SIZE(ids);
        memset(&a, 0, sizeof(a));
        a.query.target_fd = (uint32_t)cgfd;
        a.query.attach_type = BPF_CGROUP_DEVICE;
        a.query.prog_ids = (uint64_t)(uintptr_t)ids;
        a.query.prog_cnt = cnt;
        if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
                return util_syserr(err, errno, "bpf(BPF_PROG_QUERY)");
        cnt = a.query.prog_cnt < ARRAY_SIZE(ids) ? a.query.prog_cnt : ARRAY_SIZE(ids);
        for (uint32_t i = 0; i < cnt; i++) {
                if (ids[i] == info.id)
                        continue;
                memset(&a, 0, sizeof(a));
                a.prog_id = ids[i];
                _cleanup_close_ int old = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
                if (old < 0)
                        continue; /* already gone */
                memset(&a, 0, sizeof(a));
                a.target_fd = (uint32_t)cgfd;
                a.attach_bpf_fd = (uint32_t)old;
                a.attach_type = BPF_CGROUP_DEVICE;
                if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
                        return util_syserr(err, errno, "detach the old device program");
        }
        return 0;
}

static int devices_v2(cgroup_handle *h, const config_device_rule *rules, size_t n, bool creating,
                      husk_error_t *err)
{
        _cleanup_free_ struct bpf_insn *code = NULL;
        size_t ncode = 0;
        cgroup_device_bpf(rules, n, &code, &ncode);
        union bpf_attr a = { 0 };
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t)(uintptr_t)code;
        a.insn_cnt = (uint32_t)ncode;
        a.license = (uint64_t)(uintptr_t) "Apache-2.0";
        _cleanup_close_ int pfd = sys_bpf(BPF_PROG_LOAD, &a);
        if (pfd < 0) {
                int e = errno;
                char log[4096] = "";
                a.log_buf = (uint64_t)(uintptr_t)log;
                a.log_size = sizeof(log);
                a.log_level = 1;
                int again = sys_bpf(BPF_PROG_LOAD, &a);
                if (again >= 0)
                        close(again);
                return util_syserr(err, e, "load the device cgroup eBPF program (%zu insns)%s%s",
                                   ncode, *log ? ": " : "", log);
        }
        _cleanup_close_ int cgfd = open(h->hier[0].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0)
                return util_syserr(err, errno, "open %s", h->hier[0].dir);
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t)cgfd;
        a.attach_bpf_fd = (uint32_t)pfd;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
                return util_syserr(err, errno, "attach the device eBPF program to %s",
                                   h->hier[0].dir);
        /* a fresh cgroup has nothing else attached: skip the query on the create path */
        return creating && h->hier[0].created ? 0 : detach_others(cgfd, pfd, err);
}

int cgroup_devices_apply(cgroup_handle *h, const config_device_rule *cfg_rules, size_t n_cfg,
                         bool creating, husk_error_t *err)
{
        /* Rootless (runc does the same): a user can neither load the eBPF program (CAP_BPF and
         * CAP_SYS_ADMIN in the host's user namespace) nor make device nodes, and the nodes bound
         * in keep their host permissions; the device cgroup would grant nothing more. */
        if (util_rootless())
                return 0;
        _cleanup_free_ config_device_rule *rules = NULL;
        size_t n = 0;
        cgroup_device_rules(cfg_rules, n_cfg, h->dev_allow, h->n_dev_allow, &rules, &n);
        if (h->version == 2)
                return devices_v2(h, rules, n, creating, err);
        return devices_v1(h, rules, n, err);
}
