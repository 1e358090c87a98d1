/* SPDX-License-Identifier: Apache-2.0 */
/* exec --cgroup (runc's flag): run an exec'd process in an existing sub-cgroup of the container's
 * cgroup, in every hierarchy or in the named controllers' ones. Host side. */
#include "cgroup/cgroup_internal.h"
#include "util/util.h"

#include <string.h>
#include <sys/stat.h>

/* A relative path below the container's cgroup: no "..", no control characters, not empty. */
static int check_sub_path(const char *spec, const char *path, husk_error_t *err)
{
        const char *p = path;
        while (*p == '/')
                p++;
        if (!*p)
                return husk_error_set(err, EINVAL, "--cgroup \"%s\": the sub-cgroup path is empty",
                                      spec);
        for (const char *c = p; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return husk_error_set(err, EINVAL, "--cgroup: control character in path");
        for (const char *c = p; *c;) {
                const char *e = strchrnul(c, '/');
                /* ".." would leave the container's cgroup (a sibling's or the host's). */
                if (e - c == 2 && c[0] == '.' && c[1] == '.')
                        return husk_error_set(err, EINVAL,
                                              "--cgroup \"%s\": \"..\" is not allowed (the path is "
                                              "below the container's cgroup)",
                                              spec);
                c = *e ? e + 1 : e;
        }
        return 0;
}

/* true when hierarchy c carries one of the comma-separated controllers in list. */
static bool hier_matches(const cgroup_handle *h, const cg_hier *c, const char *list)
{
        if (h->version == 2)
                return true;
        _cleanup_free_ char *copy = xstrdup(list);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (!c->unified && cgroup_list_has(c->controllers, t))
                        return true;
        return false;
}

/* Every controller of list names a mounted v1 hierarchy. */
static int check_controllers(cgroup_handle *h, const char *spec, const char *list,
                             husk_error_t *err)
{
        if (h->version == 2)
                return husk_error_set(err, EINVAL,
                                      "--cgroup \"%s\": cgroup v2 has a single hierarchy: give "
                                      "only the PATH",
                                      spec);
        _cleanup_free_ char *copy = xstrdup(list);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (!cgroup_find_hier(h, t))
                        return husk_error_set(err, ENOENT,
                                              "--cgroup \"%s\": no cgroup hierarchy has the "
                                              "controller \"%s\"",
                                              spec, t);
        return 0;
}

int cgroup_use_sub(cgroup_handle *h, const char *spec, husk_error_t *err)
{
        const char *colon = strchr(spec, ':');
        _cleanup_free_ char *list = colon ? xstrndup(spec, (size_t)(colon - spec)) : NULL;
        const char *path = colon ? colon + 1 : spec;
        int r = check_sub_path(spec, path, err);
        if (r < 0)
                return r;
        if (list && !*list)
                return husk_error_set(err, EINVAL, "--cgroup \"%s\": no controller before ':'",
                                      spec);
        if (list && (r = check_controllers(h, spec, list, err)) < 0)
                return r;
        while (*path == '/')
                path++;
        /* Check every directory first: either all of them change or none. */
        for (size_t i = 0; i < h->n_hier; i++) {
                cg_hier *c = &h->hier[i];
                if (list && !hier_matches(h, c, list))
                        continue;
                _cleanup_free_ char *dir = xasprintf("%s/%s", c->dir, path);
                struct stat st;
                if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        return husk_error_set(err, ENOENT,
                                              "--cgroup \"%s\": the sub-cgroup %s does not exist "
                                              "(create it first)",
                                              spec, dir);
        }
        for (size_t i = 0; i < h->n_hier; i++) {
                cg_hier *c = &h->hier[i];
                if (list && !hier_matches(h, c, list))
                        continue;
                char *dir = xasprintf("%s/%s", c->dir, path);
                free(c->dir);
                c->dir = dir;
        }
        if (h->clone_fd >= 0) {
                close(h->clone_fd); /* opened on the old directory */
                h->clone_fd = -1;
        }
        return 0;
}
