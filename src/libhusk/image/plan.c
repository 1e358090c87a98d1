/* SPDX-License-Identifier: Apache-2.0 */
/* Pure planning of tar entries: name sanitising and whiteout classification. No syscalls here, so
 * the rules are unit tested (tests/unit/test_image.c). */
#include "image/image.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."

int image_path_clean(const char *name, char **ret, const char **ret_reason)
{
        const char *reason = NULL;
        if (!name)
                reason = "entry without a name";
        else if (name[0] == '/' && name[strspn(name, "/")] != '\0')
                reason = "absolute path"; /* "/" alone is the layer root (umoci insert writes it) */
        else if (strlen(name) >= PATH_MAX)
                reason = "name too long";
        if (reason) {
                *ret_reason = reason;
                return -EINVAL;
        }
        size_t len = strlen(name);
        char *out = xmalloc(len + 1);
        size_t n = 0;
        const char *p = name;
        while (*p) {
                const char *e = strchrnul(p, '/');
                size_t cl = (size_t)(e - p);
                if (cl == 2 && p[0] == '.' && p[1] == '.') {
                        /* Never resolve "..": a tar entry has no business leaving its dir. */
                        free(out);
                        *ret_reason = "path contains '..'";
                        return -EINVAL;
                }
                if (cl > 0 && !(cl == 1 && p[0] == '.')) {
                        if (cl > NAME_MAX) {
                                free(out);
                                *ret_reason = "path component too long";
                                return -EINVAL;
                        }
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, cl);
                        n += cl;
                }
                p = *e ? e + 1 : e;
        }
        out[n] = '\0';
        *ret = out;
        return 0;
}

static void split(char *clean, entry_plan_t *p)
{
        char *slash = strrchr(clean, '/');
        if (slash) {
                p->parent = xstrndup(clean, (size_t)(slash - clean));
                p->leaf = xstrdup(slash + 1);
        } else {
                p->parent = xstrdup("");
                p->leaf = xstrdup(clean);
        }
}

static entry_action_t reject(entry_plan_t *p, const char *why)
{
        p->action = ACT_REJECT;
        p->reason = why;
        return ACT_REJECT;
}

entry_action_t image_plan_entry(const char *name, mode_t type, entry_plan_t *p)
{
        *p = (entry_plan_t){ 0 };
        _cleanup_free_ char *clean = NULL;
        const char *reason = NULL;
        if (image_path_clean(name, &clean, &reason) < 0)
                return reject(p, reason);
        if (clean[0] == '\0') {
                p->action = ACT_SKIP; /* the layer root itself */
                return ACT_SKIP;
        }
        split(clean, p);
        const char *leaf = p->leaf;
        if (strncmp(leaf, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
                if (strcmp(leaf, WH_OPAQUE) == 0) {
                        p->action = ACT_OPAQUE;
                        return ACT_OPAQUE;
                }
                if (strncmp(leaf, WH_META, strlen(WH_META)) == 0) {
                        /* aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not part of the tree. */
                        p->action = ACT_SKIP;
                        return ACT_SKIP;
                }
                const char *target = leaf + strlen(WH_PREFIX);
                if (!*target || strcmp(target, ".") == 0 || strcmp(target, "..") == 0)
                        return reject(p, "whiteout without a valid target name");
                if (S_ISDIR(type))
                        return reject(p, "whiteout entry is a directory");
                char *t = xstrdup(target);
                free(p->leaf);
                p->leaf = t;
                p->action = ACT_WHITEOUT;
                return ACT_WHITEOUT;
        }
        switch (type & S_IFMT) {
        case S_IFDIR:
                p->action = ACT_DIR;
                break;
        case S_IFREG:
                p->action = ACT_FILE;
                break;
        case S_IFLNK:
                p->action = ACT_SYMLINK;
                break;
        case S_IFIFO:
                p->action = ACT_FIFO;
                break;
        case S_IFCHR:
        case S_IFBLK:
        case S_IFSOCK:
                p->action = ACT_SKIP_DEVICE;
                break;
        default:
                return reject(p, "unknown entry type");
        }
        return p->action;
}

void entry_plan_done(entry_plan_t *p)
{
        free(p->parent);
        free(p->leaf);
        p->parent = p->leaf = NULL;
}
