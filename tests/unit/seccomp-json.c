/* SPDX-License-Identifier: Apache-2.0 */
#include "seccomp-json.h"
#include "util/util.h"

#include <string.h>
#include <yajl/yajl_tree.h>

static const char *const action_names[] = {
        [HUSK_SCMP_KILL] = "SCMP_ACT_KILL",           [HUSK_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
        [HUSK_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [HUSK_SCMP_TRAP] = "SCMP_ACT_TRAP",
        [HUSK_SCMP_ERRNO] = "SCMP_ACT_ERRNO",         [HUSK_SCMP_TRACE] = "SCMP_ACT_TRACE",
        [HUSK_SCMP_ALLOW] = "SCMP_ACT_ALLOW",         [HUSK_SCMP_LOG] = "SCMP_ACT_LOG",
        [HUSK_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};
static const char *const op_names[] = {
        [HUSK_SCMP_CMP_NE] = "SCMP_CMP_NE", [HUSK_SCMP_CMP_LT] = "SCMP_CMP_LT",
        [HUSK_SCMP_CMP_LE] = "SCMP_CMP_LE", [HUSK_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
        [HUSK_SCMP_CMP_GE] = "SCMP_CMP_GE", [HUSK_SCMP_CMP_GT] = "SCMP_CMP_GT",
        [HUSK_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int lookup(const char *const *tab, size_t n, const char *s)
{
        for (size_t i = 1; s && i < n; i++)
                if (tab[i] && strcmp(tab[i], s) == 0)
                        return (int)i;
        return 0;
}

static yajl_val get(yajl_val o, const char *key)
{
        const char *path[] = { key, NULL };
        return yajl_tree_get(o, path, yajl_t_any);
}

static uint64_t num(yajl_val v)
{
        return YAJL_IS_NUMBER(v) ? strtoull(YAJL_GET_NUMBER(v), NULL, 10) : 0;
}

static char **strings(yajl_val a, size_t *n)
{
        size_t len = YAJL_IS_ARRAY(a) ? a->u.array.len : 0;
        char **v = xcalloc(len + 1, sizeof(char *));
        for (size_t i = 0; i < len; i++)
                v[i] = xstrdup(YAJL_GET_STRING(a->u.array.values[i]) ?: "");
        *n = len;
        return v;
}

static bool syscall_from(yajl_val o, config_seccomp_syscall *sc)
{
        sc->names = strings(get(o, "names"), &sc->n_names);
        sc->action = lookup(action_names, ARRAY_SIZE(action_names), YAJL_GET_STRING(get(o, "action")));
        yajl_val e = get(o, "errnoRet");
        sc->has_errno_ret = YAJL_IS_NUMBER(e);
        sc->errno_ret = (uint32_t)num(e);
        yajl_val args = get(o, "args");
        sc->n_args = YAJL_IS_ARRAY(args) ? args->u.array.len : 0;
        sc->args = xcalloc(sc->n_args + 1, sizeof(*sc->args));
        for (size_t i = 0; i < sc->n_args; i++) {
                yajl_val a = args->u.array.values[i];
                sc->args[i].index = (uint32_t)num(get(a, "index"));
                sc->args[i].value = num(get(a, "value"));
                sc->args[i].value_two = num(get(a, "valueTwo"));
                sc->args[i].op = lookup(op_names, ARRAY_SIZE(op_names), YAJL_GET_STRING(get(a, "op")));
                if (!sc->args[i].op)
                        return false;
        }
        return sc->action != SECCOMP_ACT_UNSET;
}

config_seccomp *test_seccomp_from_json(const char *json)
{
        yajl_val root = yajl_tree_parse(json, NULL, 0);
        if (!YAJL_IS_OBJECT(root)) {
                yajl_tree_free(root);
                return NULL;
        }
        config_seccomp *s = xcalloc(1, sizeof(*s));
        s->default_action = lookup(action_names, ARRAY_SIZE(action_names),
                                   YAJL_GET_STRING(get(root, "defaultAction")));
        yajl_val e = get(root, "defaultErrnoRet");
        s->has_default_errno_ret = YAJL_IS_NUMBER(e);
        s->default_errno_ret = (uint32_t)num(e);
        s->architectures = strings(get(root, "architectures"), &s->n_architectures);
        s->flags = strings(get(root, "flags"), &s->n_flags);
        yajl_val sys = get(root, "syscalls");
        s->n_syscalls = YAJL_IS_ARRAY(sys) ? sys->u.array.len : 0;
        s->syscalls = xcalloc(s->n_syscalls + 1, sizeof(*s->syscalls));
        bool ok = s->default_action != SECCOMP_ACT_UNSET;
        for (size_t i = 0; ok && i < s->n_syscalls; i++)
                ok = syscall_from(sys->u.array.values[i], &s->syscalls[i]);
        yajl_tree_free(root);
        if (!ok) {
                test_seccomp_free(s);
                return NULL;
        }
        return s;
}

void test_seccomp_free(config_seccomp *s)
{
        if (!s)
                return;
        strv_free(s->architectures);
        strv_free(s->flags);
        for (size_t i = 0; i < s->n_syscalls; i++) {
                strv_free(s->syscalls[i].names);
                free(s->syscalls[i].args);
        }
        free(s->syscalls);
        free(s);
}
