/* SPDX-License-Identifier: Apache-2.0 */
/* Image run, pure planning: option values, passwd/group lookups, environment, capabilities and
 * args. No syscalls here (unit tested in tests/unit/test_imagerun.c). */
#include "image/run.h"
#include "config/oci_config.h"

#include <ctype.h>
#include <string.h>
#include <sys/capability.h>

#define PATH_DEFAULT "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int run_parse_size(const char *s, int64_t *ret)
{
        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        uint64_t whole = 0, frac = 0, scale = 1;
        const char *p = s;
        for (; isdigit((unsigned char)*p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                for (; isdigit((unsigned char)*p); p++)
                        if (scale < 1000000) {
                                frac = frac * 10 + (uint64_t)(*p - '0');
                                scale *= 10;
                        }
        }
        uint64_t mult = 1;
        switch (tolower((unsigned char)*p)) {
        case '\0':
        case 'b': mult = 1; break;
        case 'k': mult = 1ULL << 10; break;
        case 'm': mult = 1ULL << 20; break;
        case 'g': mult = 1ULL << 30; break;
        case 't': mult = 1ULL << 40; break;
        default: return -EINVAL;
        }
        if (*p) {
                p++;
                /* "512mb", "1GiB" style tails are common in compose files. */
                if (tolower((unsigned char)*p) == 'i')
                        p++;
                if (tolower((unsigned char)*p) == 'b' && mult > 1)
                        p++;
        }
        if (*p)
                return -EINVAL;
        if (whole > (uint64_t)INT64_MAX / mult)
                return -ERANGE;
        uint64_t v = whole * mult + frac * mult / scale;
        if (v > (uint64_t)INT64_MAX)
                return -ERANGE;
        *ret = (int64_t)v;
        return 0;
}

int run_parse_cpus(const char *s, int64_t *ret_quota, uint64_t *ret_period)
{
        const uint64_t period = 100000;
        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        uint64_t whole = 0, frac = 0;
        unsigned digits = 0;
        const char *p = s;
        for (; isdigit((unsigned char)*p); p++) {
                whole = whole * 10 + (uint64_t)(*p - '0');
                if (whole > 1000000)
                        return -ERANGE;
        }
        if (*p == '.') {
                for (p++; isdigit((unsigned char)*p); p++, digits++) {
                        if (digits == 3)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t)(*p - '0');
                }
                if (digits == 0)
                        return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        while (digits++ < 3)
                frac *= 10;
        uint64_t milli = whole * 1000 + frac;
        if (milli == 0)
                return -ERANGE;
        *ret_quota = (int64_t)(milli * period / 1000);
        *ret_period = period;
        return 0;
}

void run_volume_done(run_volume_t *v)
{
        free(v->host);
        free(v->ctr);
        *v = (run_volume_t){ 0 };
}

int run_parse_volume(const char *spec, run_volume_t *ret, const char **ret_reason)
{
        _cleanup_strv_ char **parts = NULL;
        size_t n = 0;
        const char *p = spec;
        parts = xcalloc(strlen(spec) + 2, sizeof(char *));
        for (;;) {
                const char *c = strchr(p, ':');
                parts[n++] = c ? xstrndup(p, (size_t)(c - p)) : xstrdup(p);
                if (!c)
                        break;
                p = c + 1;
        }
        if (n < 2 || n > 3) {
                *ret_reason = "expected HOST:CONTAINER[:ro|rw]";
                return -EINVAL;
        }
        if (parts[0][0] != '/') {
                *ret_reason = "the host path must be absolute (named volumes are not supported)";
                return -EINVAL;
        }
        if (parts[1][0] != '/') {
                *ret_reason = "the container path must be absolute";
                return -EINVAL;
        }
        bool ro = false;
        if (n == 3) {
                _cleanup_free_ char *opts = xstrdup(parts[2]);
                char *save = NULL;
                for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        if (strcmp(o, "ro") == 0)
                                ro = true;
                        else if (strcmp(o, "rw") == 0)
                                ro = false;
                        else if (strcmp(o, "z") != 0 && strcmp(o, "Z") != 0 &&
                                 strcmp(o, "rbind") != 0 && strcmp(o, "bind") != 0) {
                                *ret_reason = "unknown option (ro, rw)";
                                return -EINVAL;
                        }
                }
        }
        *ret = (run_volume_t){ .host = TAKE_PTR(parts[0]), .ctr = TAKE_PTR(parts[1]), .ro = ro };
        /* parts[0..1] were moved out; free the rest. */
        for (size_t i = 2; i < n; i++)
                free(TAKE_PTR(parts[i]));
        free(TAKE_PTR(parts));
        return 0;
}

int run_parse_tmpfs(const char *spec, char **ret_dest, char ***ret_opts, const char **ret_reason)
{
        const char *c = strchr(spec, ':');
        _cleanup_free_ char *dest = c ? xstrndup(spec, (size_t)(c - spec)) : xstrdup(spec);
        if (dest[0] != '/') {
                *ret_reason = "the container path must be absolute";
                return -EINVAL;
        }
        size_t cap = 4 + (c ? strlen(c) : 0);
        char **opts = xcalloc(cap, sizeof(char *));
        size_t n = 0;
        opts[n++] = xstrdup("nosuid");
        opts[n++] = xstrdup("nodev");
        if (c && c[1]) {
                _cleanup_free_ char *all = xstrdup(c + 1);
                char *save = NULL;
                for (char *o = strtok_r(all, ",", &save); o; o = strtok_r(NULL, ",", &save))
                        opts[n++] = xstrdup(o);
        }
        *ret_dest = TAKE_PTR(dest);
        *ret_opts = opts;
        return 0;
}

int run_split_user(const char *spec, char **ret_user, char **ret_group)
{
        const char *c = strchr(spec, ':');
        if (!spec[0] || c == spec || (c && !c[1]) || (c && strchr(c + 1, ':')))
                return -EINVAL;
        *ret_user = c ? xstrndup(spec, (size_t)(c - spec)) : xstrdup(spec);
        *ret_group = c ? xstrdup(c + 1) : NULL;
        return 0;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return true;
}

/* Splits one line of passwd/group text into at most max fields (in place). */
static size_t fields(char *line, char **f, size_t max)
{
        size_t n = 0;
        f[n++] = line;
        for (char *p = line; *p && n < max; p++)
                if (*p == ':') {
                        *p = '\0';
                        f[n++] = p + 1;
                }
        return n;
}

/* Calls fn for each line (a modifiable copy); stops when fn returns non-zero. */
static int each_line(const char *text, int (*fn)(char *line, void *ud), void *ud)
{
        _cleanup_free_ char *copy = xstrdup(text ? text : "");
        char *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (l[0] == '#' || l[0] == '+' || l[0] == '-')
                        continue; /* comments and NIS compat lines */
                int r = fn(l, ud);
                if (r)
                        return r;
        }
        return 0;
}

typedef struct pw_find {
        const char *user;
        bool by_number;
        uint32_t number;
        uint32_t uid, gid;
        char *name;
} pw_find;

static int pw_match(char *line, void *ud)
{
        pw_find *w = ud;
        char *f[7];
        if (fields(line, f, 7) < 4)
                return 0;
        uint32_t uid, gid;
        if (parse_uint32(f[2], &uid) < 0 || parse_uint32(f[3], &gid) < 0)
                return 0; /* a malformed line is never a match */
        if (w->by_number ? uid != w->number : strcmp(f[0], w->user) != 0)
                return 0;
        w->uid = uid;
        w->gid = gid;
        w->name = xstrdup(f[0]);
        return 1;
}

int run_passwd_lookup(const char *text, const char *user, uid_t *ret_uid, gid_t *ret_gid,
                      char **ret_name, bool *ret_found)
{
        pw_find w = { .user = user, .by_number = all_digits(user) };
        if (w.by_number && parse_uint32(user, &w.number) < 0)
                return -EINVAL;
        if (!w.by_number && user[0] >= '0' && user[0] <= '9')
                return -EINVAL; /* "1x": neither a number nor a valid name */
        bool found = each_line(text, pw_match, &w) == 1;
        if (!found && !w.by_number)
                return -ENOENT;
        *ret_uid = found ? w.uid : w.number;
        if (found)
                *ret_gid = w.gid;
        if (ret_name)
                *ret_name = found ? w.name : NULL;
        else
                free(w.name);
        *ret_found = found;
        return 0;
}

typedef struct gr_find {
        const char *group;
        uint32_t gid;
        bool found;
} gr_find;

static int gr_match(char *line, void *ud)
{
        gr_find *w = ud;
        char *f[4];
        uint32_t gid;
        if (fields(line, f, 4) < 3 || parse_uint32(f[2], &gid) < 0 || strcmp(f[0], w->group) != 0)
                return 0;
        w->gid = gid;
        return 1;
}

int run_group_lookup(const char *text, const char *group, gid_t *ret_gid)
{
        if (all_digits(group)) {
                uint32_t g;
                if (parse_uint32(group, &g) < 0)
                        return -EINVAL;
                *ret_gid = g;
                return 0;
        }
        gr_find w = { .group = group };
        if (each_line(text, gr_match, &w) != 1)
                return -ENOENT;
        *ret_gid = w.gid;
        return 0;
}

typedef struct gr_members {
        const char *user;
        gid_t primary;
        gid_t *v;
        size_t n;
} gr_members;

static int gr_member(char *line, void *ud)
{
        gr_members *w = ud;
        char *f[4];
        uint32_t gid;
        if (fields(line, f, 4) < 4 || parse_uint32(f[2], &gid) < 0 || gid == w->primary)
                return 0;
        char *save = NULL;
        for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save)) {
                if (strcmp(m, w->user) != 0)
                        continue;
                for (size_t i = 0; i < w->n; i++)
                        if (w->v[i] == gid)
                                return 0;
                w->v = xrealloc(w->v, (w->n + 1) * sizeof(gid_t));
                w->v[w->n++] = gid;
                return 0;
        }
        return 0;
}

size_t run_group_members(const char *text, const char *user, gid_t primary, gid_t **ret)
{
        gr_members w = { .user = user, .primary = primary };
        (void)each_line(text, gr_member, &w);
        *ret = w.v;
        return w.n;
}

static size_t key_len(const char *kv)
{
        const char *eq = strchr(kv, '=');
        return eq ? (size_t)(eq - kv) : strlen(kv);
}

char **run_env_merge(char *const *base, char *const *add)
{
        size_t nb = strv_length(base), na = strv_length(add), n = 0;
        char **v = xcalloc(nb + na + 2, sizeof(char *));
        char *const *src[2] = { base, add };
        for (size_t s = 0; s < 2; s++)
                for (size_t i = 0; src[s] && src[s][i]; i++) {
                        const char *kv = src[s][i];
                        size_t kl = key_len(kv);
                        if (kl == 0 || !kv[kl])
                                continue; /* no key, or no value: not an environment entry */
                        size_t k = 0;
                        while (k < n && !(key_len(v[k]) == kl && strncmp(v[k], kv, kl) == 0))
                                k++;
                        if (k < n)
                                free(v[k]);
                        else
                                n++;
                        v[k] = xstrdup(kv);
                }
        bool has_path = false;
        for (size_t k = 0; k < n; k++)
                has_path |= strncmp(v[k], "PATH=", 5) == 0;
        if (!has_path)
                v[n++] = xstrdup(PATH_DEFAULT);
        return v;
}

/* The default set of podman and docker minus the rarely needed (MKNOD, NET_RAW, AUDIT_WRITE). */
static const char *const default_caps[] = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",           "CAP_FSETID",     "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID",       "CAP_SETPCAP",          "CAP_SETFCAP",    "CAP_SYS_CHROOT",
        "CAP_NET_BIND_SERVICE",
};

/* "net_admin" / "NET_ADMIN" / "CAP_NET_ADMIN" -> "CAP_NET_ADMIN", or NULL when unknown. */
static char *cap_norm(const char *name)
{
        _cleanup_free_ char *up = xasprintf("%s%s", strncasecmp(name, "CAP_", 4) == 0 ? "" : "CAP_",
                                            name);
        for (char *p = up; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        return config_cap_from_name(up) < 0 ? NULL : TAKE_PTR(up);
}

static bool has(char *const *v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

char **run_caps(char *const *cap_add, char *const *cap_drop, const char **ret_bad)
{
        size_t max = (size_t)cap_max_bits() + ARRAY_SIZE(default_caps) + 1;
        char **v = xcalloc(max + 1, sizeof(char *));
        size_t n = 0;
        bool drop_all = false, add_all = false;
        for (size_t i = 0; cap_drop && cap_drop[i]; i++)
                drop_all |= strcasecmp(cap_drop[i], "ALL") == 0;
        for (size_t i = 0; cap_add && cap_add[i]; i++)
                add_all |= strcasecmp(cap_add[i], "ALL") == 0;
        if (!drop_all)
                for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
                        v[n++] = xstrdup(default_caps[i]);
        for (size_t i = 0; cap_drop && cap_drop[i]; i++) {
                if (strcasecmp(cap_drop[i], "ALL") == 0)
                        continue;
                _cleanup_free_ char *c = cap_norm(cap_drop[i]);
                if (!c) {
                        *ret_bad = cap_drop[i];
                        strv_free(v);
                        return NULL;
                }
                for (size_t k = 0; k < n; k++)
                        if (strcmp(v[k], c) == 0) {
                                free(v[k]);
                                v[k] = v[--n];
                                v[n] = NULL;
                                break;
                        }
        }
        if (add_all) {
                for (int c = 0; c < (int)cap_max_bits() && n < max; c++) {
                        _cleanup_free_ char *lname = NULL;
                        char *nm = cap_to_name((cap_value_t)c);
                        if (nm) {
                                lname = xstrdup(nm);
                                cap_free(nm);
                        }
                        _cleanup_free_ char *cn = lname ? cap_norm(lname) : NULL;
                        if (cn && !has(v, n, cn))
                                v[n++] = TAKE_PTR(cn);
                }
        }
        for (size_t i = 0; cap_add && cap_add[i]; i++) {
                if (strcasecmp(cap_add[i], "ALL") == 0)
                        continue;
                char *c = cap_norm(cap_add[i]);
                if (!c) {
                        *ret_bad = cap_add[i];
                        strv_free(v);
                        return NULL;
                }
                if (has(v, n, c) || n >= max)
                        free(c);
                else
                        v[n++] = c;
        }
        return v;
}

char **run_args(const husk_image_config_t *img, const char *entrypoint, char *const *command)
{
        char **ep = NULL;
        size_t nep = 0;
        if (entrypoint) {
                if (entrypoint[0]) {
                        ep = xcalloc(2, sizeof(char *));
                        ep[0] = xstrdup(entrypoint);
                        nep = 1;
                }
        } else {
                nep = strv_length(img->entrypoint);
                ep = strv_copy(img->entrypoint, nep);
        }
        /* docker: --entrypoint resets the image's Cmd; COMMAND replaces it. */
        char *const *cmd = command && command[0] ? command : (entrypoint ? NULL : img->cmd);
        size_t nc = strv_length(cmd);
        if (nep + nc == 0) {
                strv_free(ep);
                return NULL;
        }
        char **v = xcalloc(nep + nc + 1, sizeof(char *));
        for (size_t i = 0; i < nep; i++)
                v[i] = TAKE_PTR(ep[i]);
        for (size_t i = 0; i < nc; i++)
                v[nep + i] = xstrdup(cmd[i]);
        strv_free(ep);
        return v;
}
