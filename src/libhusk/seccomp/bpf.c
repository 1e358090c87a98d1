/* SPDX-License-Identifier: Apache-2.0 */
/* A small classic-BPF interpreter for seccomp programs: lets the unit tests and tools check what a
 * compiled filter returns for a given syscall without loading it. It follows the kernel's seccomp
 * subset: 32-bit absolute loads from struct seccomp_data, scratch memory, ALU, jumps, returns. */
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <linux/seccomp.h>
#include <string.h>

static bool load_word(const struct seccomp_data *d, uint32_t k, uint32_t *ret)
{
        if (k % 4 != 0 || k > sizeof(*d) - 4)
                return false;
        memcpy(ret, (const char *)d + k, 4);
        return true;
}

static bool alu(uint16_t op, uint32_t *a, uint32_t v)
{
        switch (op) {
        case BPF_ADD:
                *a += v;
                break;
        case BPF_SUB:
                *a -= v;
                break;
        case BPF_MUL:
                *a *= v;
                break;
        case BPF_DIV:
        case BPF_MOD:
                if (v == 0)
                        return false;
                *a = op == BPF_DIV ? *a / v : *a % v;
                break;
        case BPF_AND:
                *a &= v;
                break;
        case BPF_OR:
                *a |= v;
                break;
        case BPF_XOR:
                *a ^= v;
                break;
        case BPF_LSH:
                *a = v < 32 ? *a << v : 0;
                break;
        case BPF_RSH:
                *a = v < 32 ? *a >> v : 0;
                break;
        case BPF_NEG:
                *a = -*a;
                break;
        default:
                return false;
        }
        return true;
}

static bool jump_taken(uint16_t op, uint32_t a, uint32_t v, bool *ok)
{
        switch (op) {
        case BPF_JEQ:
                return a == v;
        case BPF_JGT:
                return a > v;
        case BPF_JGE:
                return a >= v;
        case BPF_JSET:
                return (a & v) != 0;
        }
        *ok = false;
        return false;
}

uint32_t seccomp_prog_eval(const seccomp_prog *p, uint32_t arch, int nr, const uint64_t args[6])
{
        struct seccomp_data d = { .nr = nr, .arch = arch };
        for (int i = 0; i < 6 && args; i++)
                d.args[i] = args[i];
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
        for (size_t pc = 0; pc < p->len; pc++) {
                const struct sock_filter *f = &p->insns[pc];
                uint16_t cls = BPF_CLASS(f->code);
                bool ok = true;
                switch (cls) {
                case BPF_LD:
                        if (f->code == (BPF_LD | BPF_W | BPF_ABS))
                                ok = load_word(&d, f->k, &a);
                        else if (f->code == (BPF_LD | BPF_IMM))
                                a = f->k;
                        else if (f->code == (BPF_LD | BPF_MEM) && f->k < BPF_MEMWORDS)
                                a = mem[f->k];
                        else if (f->code == (BPF_LD | BPF_W | BPF_LEN))
                                a = sizeof(d);
                        else
                                ok = false;
                        break;
                case BPF_LDX:
                        if (f->code == (BPF_LDX | BPF_IMM))
                                x = f->k;
                        else if (f->code == (BPF_LDX | BPF_MEM) && f->k < BPF_MEMWORDS)
                                x = mem[f->k];
                        else if (f->code == (BPF_LDX | BPF_W | BPF_LEN))
                                x = sizeof(d);
                        else
                                ok = false;
                        break;
                case BPF_ST:
                case BPF_STX:
                        if (f->k >= BPF_MEMWORDS)
                                ok = false;
                        else
                                mem[f->k] = cls == BPF_ST ? a : x;
                        break;
                case BPF_ALU:
                        ok = alu(BPF_OP(f->code), &a, BPF_SRC(f->code) == BPF_X ? x : f->k);
                        break;
                case BPF_JMP:
                        if (BPF_OP(f->code) == BPF_JA) {
                                pc += f->k;
                        } else {
                                uint32_t v = BPF_SRC(f->code) == BPF_X ? x : f->k;
                                pc += jump_taken(BPF_OP(f->code), a, v, &ok) ? f->jt : f->jf;
                        }
                        break;
                case BPF_RET:
                        return BPF_RVAL(f->code) == BPF_A ? a : f->k;
                case BPF_MISC:
                        if (BPF_MISCOP(f->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                default:
                        ok = false;
                }
                if (!ok)
                        return SECCOMP_RET_KILL_PROCESS;
        }
        return SECCOMP_RET_KILL_PROCESS; /* fell off the end: the kernel's verifier refuses this */
}
