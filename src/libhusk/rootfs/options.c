/* SPDX-License-Identifier: Apache-2.0 */
/* Pure plan code: OCI mount options -> MS_* flags, propagation and fs data (unit tested). */
#include "rootfs/rootfs-internal.h"

#include <string.h>
#include <sys/mount.h>

enum opt_kind {
        OPT_SET,
        OPT_CLEAR,
        OPT_RSET,
        OPT_RCLEAR,
        OPT_PROP,
        OPT_BIND,
        OPT_RBIND,
        OPT_COPYUP,
        OPT_COPYSYMLINK,
        OPT_REJECT
};

typedef struct opt {
        const char *name;
        enum opt_kind kind;
        unsigned long flag;
} opt;

/* Atime modes exclude each other: choosing one clears the other two. */
#define ATIME_MASK (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

static const opt options[] = {
        { "defaults", OPT_SET, 0 },
        { "ro", OPT_SET, MS_RDONLY },
        { "rw", OPT_CLEAR, MS_RDONLY },
        { "nosuid", OPT_SET, MS_NOSUID },
        { "suid", OPT_CLEAR, MS_NOSUID },
        { "nodev", OPT_SET, MS_NODEV },
        { "dev", OPT_CLEAR, MS_NODEV },
        { "noexec", OPT_SET, MS_NOEXEC },
        { "exec", OPT_CLEAR, MS_NOEXEC },
        { "sync", OPT_SET, MS_SYNCHRONOUS },
        { "async", OPT_CLEAR, MS_SYNCHRONOUS },
        { "dirsync", OPT_SET, MS_DIRSYNC },
        { "remount", OPT_SET, MS_REMOUNT },
        { "mand", OPT_SET, MS_MANDLOCK },
        { "nomand", OPT_CLEAR, MS_MANDLOCK },
        { "noatime", OPT_SET, MS_NOATIME },
        { "atime", OPT_CLEAR, MS_NOATIME },
        { "nodiratime", OPT_SET, MS_NODIRATIME },
        { "diratime", OPT_CLEAR, MS_NODIRATIME },
        { "relatime", OPT_SET, MS_RELATIME },
        { "norelatime", OPT_CLEAR, MS_RELATIME },
        { "strictatime", OPT_SET, MS_STRICTATIME },
        { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
        { "lazytime", OPT_SET, MS_LAZYTIME },
        { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
        { "nosymfollow", OPT_SET, MS_NOSYMFOLLOW },
        { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
        { "silent", OPT_SET, MS_SILENT },
        { "loud", OPT_CLEAR, MS_SILENT },
        { "rro", OPT_RSET, MS_RDONLY },
        { "rrw", OPT_RCLEAR, MS_RDONLY },
        { "rnosuid", OPT_RSET, MS_NOSUID },
        { "rsuid", OPT_RCLEAR, MS_NOSUID },
        { "rnodev", OPT_RSET, MS_NODEV },
        { "rdev", OPT_RCLEAR, MS_NODEV },
        { "rnoexec", OPT_RSET, MS_NOEXEC },
        { "rexec", OPT_RCLEAR, MS_NOEXEC },
        { "rnoatime", OPT_RSET, MS_NOATIME },
        { "ratime", OPT_RCLEAR, MS_NOATIME },
        { "rnodiratime", OPT_RSET, MS_NODIRATIME },
        { "rdiratime", OPT_RCLEAR, MS_NODIRATIME },
        { "rrelatime", OPT_RSET, MS_RELATIME },
        { "rnorelatime", OPT_RCLEAR, MS_RELATIME },
        { "rstrictatime", OPT_RSET, MS_STRICTATIME },
        { "rnostrictatime", OPT_RCLEAR, MS_STRICTATIME },
        { "rnosymfollow", OPT_RSET, MS_NOSYMFOLLOW },
        { "rsymfollow", OPT_RCLEAR, MS_NOSYMFOLLOW },
        { "private", OPT_PROP, MS_PRIVATE },
        { "rprivate", OPT_PROP, MS_PRIVATE | MS_REC },
        { "shared", OPT_PROP, MS_SHARED },
        { "rshared", OPT_PROP, MS_SHARED | MS_REC },
        { "slave", OPT_PROP, MS_SLAVE },
        { "rslave", OPT_PROP, MS_SLAVE | MS_REC },
        { "unbindable", OPT_PROP, MS_UNBINDABLE },
        { "runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC },
        { "bind", OPT_BIND, 0 },
        { "rbind", OPT_RBIND, 0 },
        { "tmpcopyup", OPT_COPYUP, 0 },
        { "idmap", OPT_REJECT, 0 },
        { "ridmap", OPT_REJECT, 0 },
        { "copy-symlink", OPT_COPYSYMLINK, 0 },
};

static const opt *find_option(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(options); i++)
                if (strcmp(options[i].name, name) == 0)
                        return &options[i];
        return NULL;
}

/* Set bits in *set, drop them from *clr (the later option wins). Atime modes exclude each other. */
static void add_flag(unsigned long *set, unsigned long *clr, unsigned long flag)
{
        if (flag & ATIME_MASK) {
                *set &= ~ATIME_MASK;
                *clr &= ~ATIME_MASK;
                if (flag != MS_NOATIME)
                        *clr |= MS_NOATIME;
                if (flag != MS_RELATIME)
                        *clr |= MS_RELATIME;
                if (flag != MS_STRICTATIME)
                        *clr |= MS_STRICTATIME;
        }
        *set |= flag;
        *clr &= ~flag;
}

static void del_flag(unsigned long *set, unsigned long *clr, unsigned long flag)
{
        *set &= ~flag;
        *clr |= flag;
}

static void append_data(char **data, const char *o)
{
        char *old = *data;
        *data = old ? xasprintf("%s,%s", old, o) : xstrdup(o);
        free(old);
}

int rootfs_parse_mount_options(char *const *options_v, size_t n, mount_flags *ret,
                               husk_error_t *err)
{
        mount_flags f = { 0 };
        for (size_t i = 0; i < n; i++) {
                const char *o = options_v[i];
                if (!o || !*o)
                        continue;
                const opt *p = find_option(o);
                if (!p) {
                        append_data(&f.data, o);
                        continue;
                }
                switch (p->kind) {
                case OPT_SET:
                        add_flag(&f.flags, &f.clear, p->flag);
                        break;
                case OPT_CLEAR:
                        del_flag(&f.flags, &f.clear, p->flag);
                        break;
                case OPT_RSET:
                        add_flag(&f.rec_flags, &f.rec_clear, p->flag);
                        break;
                case OPT_RCLEAR:
                        del_flag(&f.rec_flags, &f.rec_clear, p->flag);
                        break;
                case OPT_PROP:
                        f.propagation = p->flag;
                        break;
                case OPT_BIND:
                        f.bind = true;
                        break;
                case OPT_RBIND:
                        f.bind = true;
                        f.rec = true;
                        break;
                case OPT_COPYUP:
                        f.tmpcopyup = true;
                        break;
                case OPT_COPYSYMLINK:
                        f.copy_symlink = true;
                        break;
                case OPT_REJECT:
                        free(f.data);
                        return husk_error_set(err, EINVAL, "mount option \"%s\" is not supported", o);
                }
        }
        *ret = f;
        return 0;
}

void mount_flags_done(mount_flags *f)
{
        if (!f)
                return;
        free(f->data);
        f->data = NULL;
}

unsigned long rootfs_propagation_flags(config_propagation p)
{
        switch (p) {
        case PROPAGATION_UNSET:
                return 0;
        case PROPAGATION_PRIVATE:
                return MS_PRIVATE;
        case PROPAGATION_RPRIVATE:
                return MS_PRIVATE | MS_REC;
        case PROPAGATION_SLAVE:
                return MS_SLAVE;
        case PROPAGATION_RSLAVE:
                return MS_SLAVE | MS_REC;
        case PROPAGATION_SHARED:
                return MS_SHARED;
        case PROPAGATION_RSHARED:
                return MS_SHARED | MS_REC;
        case PROPAGATION_UNBINDABLE:
                return MS_UNBINDABLE;
        case PROPAGATION_RUNBINDABLE:
                return MS_UNBINDABLE | MS_REC;
        }
        return 0;
}

char *rootfs_clean_path(const char *path)
{
        size_t len = strlen(path);
        char *out = xmalloc(len + 2);
        size_t o = 0;
        const char *s = path;
        while (*s) {
                while (*s == '/')
                        s++;
                if (!*s)
                        break;
                const char *e = strchrnul(s, '/');
                size_t l = (size_t)(e - s);
                if (l == 1 && s[0] == '.') {
                        /* skip */
                } else if (l == 2 && s[0] == '.' && s[1] == '.') {
                        /* "/.." is "/" inside the root as on any root */
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--; /* drop the '/' too */
                } else {
                        out[o++] = '/';
                        memcpy(out + o, s, l);
                        o += l;
                }
                s = e;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = '\0';
        return out;
}
