/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp: names are checked here; the seccomp module compiles the result. */
#include "config/internal.h"

#include <string.h>

void config_seccomp_free(config_seccomp *s)
{
        if (!s)
                return;
        strv_free(s->architectures);
        strv_free(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++) {
                strv_free(s->syscalls[i].names);
                free(s->syscalls[i].args);
        }
        free(s->syscalls);
        free(s);
}

static void seccomp_freep(config_seccomp **s)
{
        config_seccomp_free(*s);
}

static int parse_action(jctx *c, yajl_val obj, const char *parent, const char *key,
                        config_seccomp_action *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = jget_string(c, obj, parent, key, true, &s);
        if (r < 0)
                return r;
        int a = config_seccomp_action_from_name(s);
        if (a < 0) {
                char p[JPATH_MAX];
                jpath_key(p, parent, key);
                return jerr(c, p, "unknown seccomp action \"%s\"", s);
        }
        *ret = (config_seccomp_action)a;
        return 0;
}

/* errnoRet is the errno of SCMP_ACT_ERRNO or the message of SCMP_ACT_TRACE, nothing else. */
static int check_errno_ret(jctx *c, const char *parent, const char *key, bool has,
                           config_seccomp_action a)
{
        if (!has || a == HUSK_SCMP_ERRNO || a == HUSK_SCMP_TRACE)
                return 0;
        char p[JPATH_MAX];
        jpath_key(p, parent, key);
        return jerr(c, p, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
}

static int parse_arg(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_seccomp_arg *a = elem;
        _cleanup_free_ char *op = NULL;
        int r;
        if ((r = jget_uint32(c, e, ep, "index", true, NULL, &a->index)) < 0 ||
            (r = jget_uint64(c, e, ep, "value", true, UINT64_MAX, NULL, &a->value)) < 0 ||
            (r = jget_uint64(c, e, ep, "valueTwo", false, UINT64_MAX, NULL, &a->value_two)) < 0 ||
            (r = jget_string(c, e, ep, "op", true, &op)) < 0)
                return r;
        char p[JPATH_MAX];
        if (a->index > 5) {
                jpath_key(p, ep, "index");
                return jerr(c, p, "%u is out of range (0..5)", a->index);
        }
        int o = config_seccomp_op_from_name(op);
        if (o < 0) {
                jpath_key(p, ep, "op");
                return jerr(c, p, "unknown seccomp operator \"%s\"", op);
        }
        a->op = (config_seccomp_op)o;
        return 0;
}

static int parse_syscall(jctx *c, yajl_val e, const char *ep, void *elem, void *data)
{
        config_seccomp_syscall *s = elem;
        char p[JPATH_MAX], ap[JPATH_MAX];
        int r;
        if ((r = jget_strv(c, e, ep, "names", &s->names, &s->n_names)) < 0 ||
            (r = parse_action(c, e, ep, "action", &s->action)) < 0 ||
            (r = jget_uint32(c, e, ep, "errnoRet", false, &s->has_errno_ret, &s->errno_ret)) < 0 ||
            (r = check_errno_ret(c, ep, "errnoRet", s->has_errno_ret, s->action)) < 0)
                return r;
        jpath_key(p, ep, "names");
        if (s->n_names == 0)
                return jerr(c, p, "must contain at least one syscall name");
        for (size_t i = 0; i < s->n_names; i++)
                if (!s->names[i][0]) {
                        jpath_idx(ap, p, i);
                        return jerr(c, ap, "empty syscall name");
                }
        /* args and syscalls: each element is checked to be an object when its turn comes. */
        return jparse_array(c, e, ep, "args", false, sizeof(*s->args), parse_arg, NULL, &s->args,
                            &s->n_args);
}

static int check_names(jctx *c, const char *path, config_seccomp *s)
{
        char p[JPATH_MAX], ep[JPATH_MAX];
        jpath_key(p, path, "architectures");
        for (size_t i = 0; i < s->n_architectures; i++)
                if (strncmp(s->architectures[i], "SCMP_ARCH_", 10) != 0 ||
                    !s->architectures[i][10]) {
                        jpath_idx(ep, p, i);
                        return jerr(c, ep, "unknown architecture \"%s\" (expected SCMP_ARCH_*)",
                                    s->architectures[i]);
                }
        jpath_key(p, path, "flags");
        for (size_t i = 0; i < s->n_flags; i++)
                if (!config_seccomp_flag_known(s->flags[i])) {
                        jpath_idx(ep, p, i);
                        return jerr(c, ep, "unknown seccomp flag \"%s\"", s->flags[i]);
                }
        return 0;
}

static int check_notify(jctx *c, const char *path, config_seccomp *s)
{
        bool notify = s->default_action == HUSK_SCMP_NOTIFY;
        for (size_t i = 0; i < s->n_syscalls; i++)
                notify = notify || s->syscalls[i].action == HUSK_SCMP_NOTIFY;
        char p[JPATH_MAX];
        jpath_key(p, path, "listenerPath");
        if (notify && !s->listener_path)
                return jerr(c, p, "required when an action is SCMP_ACT_NOTIFY");
        if (s->listener_path && s->listener_path[0] != '/')
                return jerr(c, p, "expected an absolute path, got \"%s\"", s->listener_path);
        return 0;
}

int config_parse_seccomp_obj(jctx *c, yajl_val v, const char *path, config_seccomp **ret)
{
        if (!YAJL_IS_OBJECT(v))
                return jerr(c, path, "expected an object, got %s", jtype(v));
        _cleanup_(seccomp_freep) config_seccomp *s = xcalloc(1, sizeof(*s));
        int r;
        if ((r = parse_action(c, v, path, "defaultAction", &s->default_action)) < 0 ||
            (r = jget_uint32(c, v, path, "defaultErrnoRet", false, &s->has_default_errno_ret,
                             &s->default_errno_ret)) < 0 ||
            (r = check_errno_ret(c, path, "defaultErrnoRet", s->has_default_errno_ret,
                                 s->default_action)) < 0 ||
            (r = jget_strv(c, v, path, "architectures", &s->architectures, &s->n_architectures)) <
                    0 ||
            (r = jget_strv(c, v, path, "flags", &s->flags, &s->n_flags)) < 0 ||
            (r = check_names(c, path, s)) < 0 ||
            (r = jget_string(c, v, path, "listenerPath", false, &s->listener_path)) < 0 ||
            (r = jget_string(c, v, path, "listenerMetadata", false, &s->listener_metadata)) < 0 ||
            (r = jparse_array(c, v, path, "syscalls", false, sizeof(*s->syscalls), parse_syscall,
                              NULL, &s->syscalls, &s->n_syscalls)) < 0)
                return r;
        jdrop_empty(&s->listener_path);
        jdrop_empty(&s->listener_metadata);
        if (!s->architectures)
                s->architectures = xcalloc(1, sizeof(char *));
        if (!s->flags)
                s->flags = xcalloc(1, sizeof(char *));
        if ((r = check_notify(c, path, s)) < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
