/* SPDX-License-Identifier: Apache-2.0 */
/* Seccomp: translate the OCI linux.seccomp object with libseccomp into a classic BPF program
 * (host side, before clone), and load that program (container side, last step before execve). */
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

/* x32 system calls share AUDIT_ARCH_X86_64 and carry this bit in their number. */
#define X32_SYSCALL_BIT 0x40000000U

static void seccomp_ctx_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
        *ctx = NULL;
}

int seccomp_action_value(config_seccomp_action a, bool has_errno_ret, uint32_t errno_ret,
                         uint32_t *ret)
{
        /* errnoRet is a 16-bit field of the return value (SECCOMP_RET_DATA). */
        if (has_errno_ret && errno_ret > 0xffff)
                return -ERANGE;
        uint32_t e = has_errno_ret ? errno_ret : EPERM;
        switch (a) {
        case HUSK_SCMP_KILL: /* OCI's SCMP_ACT_KILL is libseccomp's KILL (the thread) */
        case HUSK_SCMP_KILL_THREAD:
                *ret = SCMP_ACT_KILL_THREAD;
                return 0;
        case HUSK_SCMP_KILL_PROCESS:
                *ret = SCMP_ACT_KILL_PROCESS;
                return 0;
        case HUSK_SCMP_TRAP:
                *ret = SCMP_ACT_TRAP;
                return 0;
        case HUSK_SCMP_ERRNO:
                *ret = SCMP_ACT_ERRNO(e);
                return 0;
        case HUSK_SCMP_TRACE: /* errnoRet is the value the tracer sees; EPERM when absent */
                *ret = SCMP_ACT_TRACE(e);
                return 0;
        case HUSK_SCMP_ALLOW:
                *ret = SCMP_ACT_ALLOW;
                return 0;
        case HUSK_SCMP_LOG:
                *ret = SCMP_ACT_LOG;
                return 0;
        case HUSK_SCMP_NOTIFY:
                *ret = SCMP_ACT_NOTIFY;
                return 0;
        case SECCOMP_ACT_UNSET:
                break;
        }
        return -EINVAL; /* the parser rejects unknown actions; defensive */
}

static const struct {
        const char *name;
        uint32_t token;
} arch_table[] = {
        { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
        { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
        { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
        { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
        { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
        { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
        { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
        { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
        { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
        { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
        { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
        { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
        { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
        { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
        { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
        { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
        { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
        { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
        { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
};

uint32_t seccomp_arch_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(arch_table); i++)
                if (strcmp(arch_table[i].name, name) == 0)
                        return arch_table[i].token;
        return 0;
}

unsigned int seccomp_flag_from_name(const char *name)
{
        static const struct {
                const char *name;
                unsigned int bit;
        } flags[] = {
                { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
                { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
                { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
                { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
        };
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
                if (strcmp(flags[i].name, name) == 0)
                        return flags[i].bit;
        return 0;
}

static enum scmp_compare op_value(config_seccomp_op op)
{
        switch (op) {
        case HUSK_SCMP_CMP_NE:
                return SCMP_CMP_NE;
        case HUSK_SCMP_CMP_LT:
                return SCMP_CMP_LT;
        case HUSK_SCMP_CMP_LE:
                return SCMP_CMP_LE;
        case HUSK_SCMP_CMP_EQ:
                return SCMP_CMP_EQ;
        case HUSK_SCMP_CMP_GE:
                return SCMP_CMP_GE;
        case HUSK_SCMP_CMP_GT:
                return SCMP_CMP_GT;
        case HUSK_SCMP_CMP_MASKED_EQ:
                return SCMP_CMP_MASKED_EQ;
        }
        return _SCMP_CMP_MIN; /* invalid: the caller reports it */
}

/* Flags for seccomp(2), and whether a rule asks for a user-space listener. */
static int compute_flags(const config_seccomp *s, unsigned int *ret_flags, bool *ret_notify,
                         husk_error_t *err)
{
        unsigned int flags = 0;
        bool notify = false;
        for (size_t i = 0; i < s->n_flags; i++) {
                unsigned int bit = seccomp_flag_from_name(s->flags[i]);
                if (!bit)
                        return husk_error_set(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag %s",
                                              i, s->flags[i]);
                flags |= bit;
        }
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (s->syscalls[i].action == HUSK_SCMP_NOTIFY)
                        notify = true;
        if (notify) {
                flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                /* The kernel refuses TSYNC with NEW_LISTENER unless TSYNC_ESRCH is also set. */
                if (flags & SECCOMP_FILTER_FLAG_TSYNC)
                        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        } else {
                /* WAIT_KILLABLE_RECV only means something for a listener; the kernel rejects it
                 * alone (EINVAL), so a profile without notify rules drops it. */
                flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        }
        *ret_flags = flags;
        *ret_notify = notify;
        return 0;
}

/* Add one syscall entry's rules for one (native) syscall number. Several conditions on the same
 * argument index cannot be ANDed by libseccomp: then each condition becomes its own rule (OR),
 * as runc does. */
static int add_syscall_rules(scmp_filter_ctx ctx, int nr, uint32_t act,
                             const config_seccomp_syscall *sc, size_t idx, const char *name,
                             husk_error_t *err)
{
        struct scmp_arg_cmp conds[6];
        unsigned int seen = 0;
        bool split = false;
        if (sc->n_args > 6)
                return husk_error_set(err, EINVAL, "linux.seccomp.syscalls[%zu]: more than 6 args", idx);
        for (size_t a = 0; a < sc->n_args; a++) {
                const config_seccomp_arg *arg = &sc->args[a];
                enum scmp_compare op = op_value(arg->op);
                if (arg->index > 5 || op == _SCMP_CMP_MIN)
                        return husk_error_set(err, EINVAL,
                                              "linux.seccomp.syscalls[%zu].args[%zu]: bad index or op",
                                              idx, a);
                if (seen & (1u << arg->index))
                        split = true;
                seen |= 1u << arg->index;
                conds[a] = (struct scmp_arg_cmp){ .arg = arg->index, .op = op,
                                                  .datum_a = arg->value, .datum_b = arg->value_two };
        }
        int r = 0;
        if (split) {
                for (size_t a = 0; a < sc->n_args && r == 0; a++)
                        r = seccomp_rule_add_array(ctx, act, nr, 1, &conds[a]);
        } else {
                r = seccomp_rule_add_array(ctx, act, nr, (unsigned int)sc->n_args, conds);
        }
        if (r < 0)
                return util_syserr(err, -r, "linux.seccomp.syscalls[%zu]: add rule for %s", idx, name);
        return 0;
}

static int add_all_rules(scmp_filter_ctx ctx, const config_seccomp *s, uint32_t def_act,
                         husk_error_t *err)
{
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const config_seccomp_syscall *sc = &s->syscalls[i];
                uint32_t act = 0;
                int r = seccomp_action_value(sc->action, sc->has_errno_ret, sc->errno_ret, &act);
                if (r < 0)
                        return husk_error_set(err, EINVAL, "linux.seccomp.syscalls[%zu]: bad action",
                                              i);
                /* A rule with the default action is redundant, and libseccomp refuses it. */
                if (act == def_act)
                        continue;
                for (size_t n = 0; n < sc->n_names; n++) {
                        int nr = seccomp_syscall_resolve_name(sc->names[n]);
                        /* Unknown on this arch and libseccomp version: skipped, like runc. */
                        if (nr == __NR_SCMP_ERROR)
                                continue;
                        r = add_syscall_rules(ctx, nr, act, sc, i, sc->names[n], err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int add_arches(scmp_filter_ctx ctx, const config_seccomp *s, husk_error_t *err)
{
        for (size_t i = 0; i < s->n_architectures; i++) {
                uint32_t token = seccomp_arch_from_name(s->architectures[i]);
                if (!token)
                        return husk_error_set(err, EINVAL,
                                              "linux.seccomp.architectures[%zu]: unknown %s", i,
                                              s->architectures[i]);
                int r = seccomp_arch_add(ctx, token);
                if (r < 0 && r != -EEXIST) /* the native arch is always there */
                        return util_syserr(err, -r, "seccomp: add architecture %s",
                                           s->architectures[i]);
        }
        return 0;
}

/* libseccomp -> BPF through a memfd (libseccomp 2.5 has no in-memory export). */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **ret, size_t *ret_len,
                      husk_error_t *err)
{
        _cleanup_close_ int fd = memfd_create("husk-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "seccomp: memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return util_syserr(err, -r, "seccomp: export BPF");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return util_syserr(err, errno, "seccomp: fstat exported BPF");
        size_t size = (size_t)st.st_size;
        if (size == 0 || size % sizeof(struct sock_filter) != 0)
                return husk_error_set(err, EINVAL, "seccomp: exported BPF has odd size %zu", size);
        _cleanup_free_ struct sock_filter *insns = xmalloc(size);
        ssize_t n = pread(fd, insns, size, 0);
        if (n != (ssize_t)size)
                return util_syserr(err, n < 0 ? errno : EIO, "seccomp: read exported BPF");
        *ret = TAKE_PTR(insns);
        *ret_len = size / sizeof(struct sock_filter);
        return 0;
}

/* ---- the ENOSYS stub ----
 * With a deny-by-errno default, syscalls newer than the profile would fail with EPERM, and glibc
 * only falls back to older syscalls on ENOSYS (clone3, faccessat2, fchmodat2, ...). So, for each
 * filter arch, a syscall number above the highest one the profile names gets ENOSYS; everything
 * else goes on to libseccomp's program unchanged (it is appended after the stub, and classic BPF
 * jumps are relative, so it needs no patching). */
#define STUB_MAX_ARCHES 16

struct stub_arch {
        uint32_t audit_arch;
        uint32_t max_nr;
};

static size_t stub_arches(scmp_filter_ctx ctx, const config_seccomp *s, struct stub_arch *out)
{
        uint32_t tokens[STUB_MAX_ARCHES];
        size_t nt = 0;
        tokens[nt++] = seccomp_arch_native();
        for (size_t i = 0; i < s->n_architectures && nt < STUB_MAX_ARCHES; i++) {
                uint32_t t = seccomp_arch_from_name(s->architectures[i]);
                bool dup = false;
                for (size_t j = 0; j < nt; j++)
                        dup |= tokens[j] == t;
                if (t && !dup && seccomp_arch_exist(ctx, t) == 0)
                        tokens[nt++] = t;
        }
        size_t n = 0;
        for (size_t j = 0; j < nt; j++) {
                /* x32 has no audit arch of its own: its calls pass through to libseccomp. */
                if (tokens[j] == SCMP_ARCH_X32)
                        continue;
                int max = -1;
                for (size_t i = 0; i < s->n_syscalls; i++)
                        for (size_t k = 0; k < s->syscalls[i].n_names; k++) {
                                int nr = seccomp_syscall_resolve_name_arch(tokens[j],
                                                                           s->syscalls[i].names[k]);
                                if (nr > max)
                                        max = nr;
                        }
                if (max >= 0)
                        out[n++] = (struct stub_arch){ tokens[j], (uint32_t)max };
        }
        return n;
}

#define STMT(c, kk) ((struct sock_filter){ .code = (c), .jt = 0, .jf = 0, .k = (kk) })
#define JUMP(c, kk, t, f) ((struct sock_filter){ .code = (c), .jt = (t), .jf = (f), .k = (kk) })

/* Builds the stub; returns its length (0: no stub). The stub's last two instructions are
 * "ja +1" (go on to libseccomp's program) and "ret ERRNO(ENOSYS)". */
static size_t build_stub(const struct stub_arch *arches, size_t n, struct sock_filter *out)
{
        if (n == 0)
                return 0;
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += arches[i].audit_arch == AUDIT_ARCH_X86_64 ? 4 : 3;
        len += 2;
        size_t end = len - 2, enosys = len - 1, pc = 0;
        out[pc++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        for (size_t i = 0; i < n; i++) {
                bool x86_64 = arches[i].audit_arch == AUDIT_ARCH_X86_64;
                size_t block = x86_64 ? 4 : 3, next = pc + block;
                out[pc] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, arches[i].audit_arch, 0,
                               (uint8_t)(next - pc - 1));
                pc++;
                out[pc++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
                if (x86_64) {
                        out[pc] = JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT,
                                       (uint8_t)(end - pc - 1), 0);
                        pc++;
                }
                out[pc] = JUMP(BPF_JMP | BPF_JGT | BPF_K, arches[i].max_nr,
                               (uint8_t)(enosys - pc - 1), (uint8_t)(end - pc - 1));
                pc++;
                /* A block is entered only when the arch matched; a mismatch jumps to the next
                 * block with A still holding the arch. */
        }
        out[pc++] = STMT(BPF_JMP | BPF_JA, 1);
        out[pc++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
        return pc;
}

static int compile_uncached(const config_seccomp *s, struct sock_filter **ret, size_t *ret_len,
                            husk_error_t *err)
{
        uint32_t def_act = 0;
        if (s->default_action == HUSK_SCMP_NOTIFY)
                return husk_error_set(err, EINVAL,
                                      "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
        if (seccomp_action_value(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                                 &def_act) < 0)
                return husk_error_set(err, EINVAL, "linux.seccomp.defaultAction: bad action");
        _cleanup_(seccomp_ctx_releasep) scmp_filter_ctx ctx = seccomp_init(def_act);
        if (!ctx)
                return husk_error_set(err, EINVAL, "seccomp: seccomp_init failed");
        /* husk sets no_new_privs itself when the config asks for it. */
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return util_syserr(err, -r, "seccomp: clear the NNP attribute");
        r = add_arches(ctx, s, err);
        if (r < 0)
                return r;
        r = add_all_rules(ctx, s, def_act, err);
        if (r < 0)
                return r;
        _cleanup_free_ struct sock_filter *body = NULL;
        size_t body_len = 0;
        r = export_bpf(ctx, &body, &body_len, err);
        if (r < 0)
                return r;

        struct stub_arch arches[STUB_MAX_ARCHES];
        size_t n_arches = 0;
        if ((def_act & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO && (def_act & 0xffff) != ENOSYS)
                n_arches = stub_arches(ctx, s, arches);
        struct sock_filter stub[1 + STUB_MAX_ARCHES * 4 + 2];
        size_t stub_len = build_stub(arches, n_arches, stub);
        if (stub_len + body_len > BPF_MAXINSNS)
                return husk_error_set(err, E2BIG, "seccomp: filter has %zu instructions (max %d)",
                                      stub_len + body_len, BPF_MAXINSNS);
        struct sock_filter *all = xcalloc(stub_len + body_len, sizeof(*all));
        memcpy(all, stub, stub_len * sizeof(*all));
        memcpy(all + stub_len, body, body_len * sizeof(*all));
        *ret = all;
        *ret_len = stub_len + body_len;
        return 0;
}

/* Implemented in cache.c. */
int seccomp_cache_lookup(const char *cache_dir, const char *key, struct sock_filter **ret,
                         size_t *ret_len);
void seccomp_cache_store(const char *cache_dir, const char *key, const struct sock_filter *insns,
                         size_t len);

int seccomp_compile_cache(const config_seccomp *s, const char *cache_dir, seccomp_prog **ret,
                          husk_error_t *err)
{
        unsigned int flags = 0;
        bool notify = false;
        int r = compute_flags(s, &flags, &notify, err);
        if (r < 0)
                return r;
        char key[65] = "";
        struct sock_filter *insns = NULL;
        size_t len = 0;
        bool cached = false;
        if (cache_dir) {
                seccomp_cache_key(s, key);
                cached = seccomp_cache_lookup(cache_dir, key, &insns, &len) == 0;
        }
        if (!cached) {
                r = compile_uncached(s, &insns, &len, err);
                if (r < 0)
                        return r;
                if (cache_dir)
                        seccomp_cache_store(cache_dir, key, insns, len);
        }
        seccomp_prog *p = xcalloc(1, sizeof(*p));
        p->insns = insns;
        p->len = len;
        p->flags = flags;
        p->notify = notify;
        p->cached = cached;
        *ret = p;
        return 0;
}

int seccomp_compile(const config_seccomp *s, seccomp_prog **ret, husk_error_t *err)
{
        const char *dir = getenv("HUSK_SECCOMP_CACHE");
        _cleanup_free_ char *user_dir = NULL;
        if ((!dir || !*dir) && util_honor_runtime_dir())
                dir = user_dir = xasprintf("%s/husk/seccomp-cache", util_runtime_dir());
        if (!dir || !*dir)
                dir = SECCOMP_CACHE_DIR;
        return seccomp_compile_cache(s, dir, ret, err);
}

/* Container side, in all of the container's namespaces, after no_new_privs (or with
 * CAP_SYS_ADMIN still held): the last step before execve. Only async-signal-safe work. */
int seccomp_prog_load(const seccomp_prog *p, int *ret_notify_fd, husk_error_t *err)
{
        struct sock_fprog fprog = { .len = (unsigned short)p->len, .filter = p->insns };
        if (p->len == 0 || p->len > BPF_MAXINSNS)
                return husk_error_set(err, EINVAL, "seccomp: bad filter length %zu", p->len);
        long r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &fprog);
        if (r < 0 && errno == ENOSYS && p->flags == 0)
                r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
        if (r < 0)
                return util_syserr(err, errno, "seccomp: load filter (flags 0x%x)", p->flags);
        /* With NEW_LISTENER the kernel returns the listener fd, already O_CLOEXEC. */
        if (ret_notify_fd)
                *ret_notify_fd = p->notify ? (int)r : -1;
        else if (p->notify)
                close((int)r);
        return 0;
}

void seccomp_prog_free(seccomp_prog *p)
{
        if (p)
                free(p->insns);
        free(p);
}
