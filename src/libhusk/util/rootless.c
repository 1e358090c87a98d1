/* SPDX-License-Identifier: Apache-2.0 */
/* Who husk runs as (see util.h, "rootless"): real root of the host, an unprivileged user, or root
 * inside a user namespace someone else made (rootless podman, rootlesskit). Host side only. */
#include "util/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

bool util_idmap_is_identity(const char *text)
{
        /* The initial user namespace maps every id onto itself: "0 0 4294967295" (the same test
         * as runc's userns.RunningInUserNS). */
        uint32_t a = 1, b = 1, n = 0;
        char tail = 0;
        if (!text)
                return true;
        int k = sscanf(text, " %" SCNu32 " %" SCNu32 " %" SCNu32 " %c", &a, &b, &n, &tail);
        return k == 3 && a == 0 && b == 0 && n == UINT32_MAX;
}

static int in_userns_cached = -1;

void util_userns_forget(void)
{
        in_userns_cached = -1;
}

bool util_in_userns(void)
{
        int cached = in_userns_cached;
        if (cached < 0) {
                _cleanup_free_ char *text = NULL;
                /* No /proc/self/uid_map (a kernel without user namespaces): the initial one. */
                if (read_file_at(AT_FDCWD, "/proc/self/uid_map", 1 << 16, &text, NULL) < 0)
                        cached = 0;
                else
                        cached = !util_idmap_is_identity(text);
                in_userns_cached = cached;
        }
        return cached;
}

bool util_rootless(void)
{
        return geteuid() != 0 || util_in_userns();
}

const char *util_runtime_dir(void)
{
        const char *d = getenv("XDG_RUNTIME_DIR");
        return d && d[0] == '/' ? d : NULL;
}

bool util_honor_runtime_dir(void)
{
        if (!util_runtime_dir())
                return false;
        if (geteuid() != 0)
                return true;
        /* Real root: /run/husk whatever XDG_RUNTIME_DIR says (engines call with it set to "" or
         * to /run/user/0). Root in a user namespace (runc's rule): the user's runtime dir unless
         * USER says the caller really is root. */
        if (!util_in_userns())
                return false;
        const char *u = getenv("USER");
        return !u || strcmp(u, "root") != 0;
}

char *util_user_data_dir(void)
{
        const char *d = getenv("XDG_DATA_HOME");
        if (d && d[0] == '/')
                return xasprintf("%s/husk", d);
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
                struct passwd *pw = getpwuid(geteuid());
                home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
        }
        return home ? xasprintf("%s/.local/share/husk", home) : NULL;
}

int util_subid_parse(const char *text, const char *name, uint32_t id, uint32_t *ret_start,
                     uint32_t *ret_count)
{
        char idstr[16];
        snprintf(idstr, sizeof(idstr), "%" PRIu32, id);
        for (const char *l = text; l && *l;) {
                const char *e = strchrnul(l, '\n');
                size_t len = (size_t)(e - l);
                _cleanup_free_ char *line = xstrndup(l, len);
                l = *e ? e + 1 : e;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || line[0] == '#')
                        continue;
                *c1 = *c2 = '\0';
                if (!((name && strcmp(line, name) == 0) || strcmp(line, idstr) == 0))
                        continue;
                uint32_t start, count;
                /* Checked parsers: a broken line is skipped, never read as 0. */
                if (parse_uint32(c1 + 1, &start) < 0 || parse_uint32(c2 + 1, &count) < 0 ||
                    count == 0 || (uint64_t)start + count > UINT32_MAX)
                        continue;
                *ret_start = start;
                *ret_count = count;
                return 0;
        }
        return -ENOENT;
}

int util_subid_range(bool gids, uint32_t *ret_start, uint32_t *ret_count)
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(AT_FDCWD, gids ? "/etc/subgid" : "/etc/subuid", 4 << 20, &text, NULL);
        if (r < 0)
                return r;
        struct passwd *pw = getpwuid(getuid());
        return util_subid_parse(text, pw ? pw->pw_name : NULL, (uint32_t)getuid(), ret_start,
                                ret_count);
}
