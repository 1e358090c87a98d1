/* SPDX-License-Identifier: Apache-2.0 */
/* Bind sources opened on the host side (rootfs.h: rootfs_open_sources), before clone and before
 * any user namespace: a source only the host's root can reach still works in a user namespace,
 * as with runc. Idmapped mounts (mounts[].uidMappings/gidMappings) get their mapping here, on the
 * detached tree, while husk still has CAP_SYS_ADMIN over it. */
#include "ns/ns.h"
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static bool is_bind(const config_mount *m, const mount_flags *f)
{
        return f->bind || (m->type && strcmp(m->type, "bind") == 0);
}

/* The propagation a bind clone would have had if made inside the container's mount namespace
 * after "/" got rootfsPropagation (rslave by default): a clone made in the host's namespace
 * would otherwise stay a peer of the host's shared mounts. */
static uint64_t tree_propagation(const husk_config *cfg)
{
        unsigned long p = rootfs_propagation_flags(cfg->linux_.rootfs_propagation);
        if (p & MS_SHARED)
                return 0; /* keep the host's peer groups (bidirectional volumes) */
        if (p & MS_PRIVATE)
                return MS_PRIVATE;
        return MS_SLAVE;
}

static bool has_userns(const husk_config *cfg)
{
        for (size_t i = 0; i < cfg->linux_.n_namespaces; i++)
                if (cfg->linux_.namespaces[i].type == NS_USER)
                        return true;
        return false;
}

static int open_one(rootfs_ctx *c, const config_mount *m, size_t i, int *ret, husk_error_t *err)
{
        mount_flags f = { 0 };
        int r = rootfs_parse_mount_options(m->options, m->n_options, &f, err);
        if (r < 0)
                return husk_error_prefix(err, "mounts[%zu] (%s)", i, m->destination);
        mount_flags_done(&f);
        bool idmap = m->n_uid_mappings || m->n_gid_mappings;
        if (!is_bind(m, &f) || !m->source) {
                if (idmap)
                        return husk_error_set(err, EINVAL,
                                              "mounts[%zu]: uidMappings/gidMappings need a bind "
                                              "mount (idmapped mounts)",
                                              i);
                return 0;
        }
        if (idmap && (!m->n_uid_mappings || !m->n_gid_mappings))
                return husk_error_set(err, EINVAL,
                                      "mounts[%zu]: an idmapped mount needs both uidMappings and "
                                      "gidMappings",
                                      i);
        _cleanup_free_ char *src = m->source[0] == '/' || !c->bundle
                                           ? xstrdup(m->source)
                                           : xasprintf("%s/%s", c->bundle, m->source);
        struct stat st;
        if (f.copy_symlink && lstat(src, &st) == 0 && S_ISLNK(st.st_mode))
                return 0; /* copied as a symlink by the child (mounts.c) */
        /* Without a user namespace the child reaches every source itself and binds it by path
         * when its turn comes: a tree cloned here would be created before the container's
         * other mounts and come first in its mountinfo (Linux 6.8+ lists mounts by creation),
         * while runtime-spec (and runtime-tools' mounts program) wants the listed order. */
        if (!idmap && !has_userns(c->cfg))
                return 0;
        /* Rootless: open_tree(OPEN_TREE_CLONE) needs CAP_SYS_ADMIN over the caller's mount
         * namespace, which a user lacks; the child binds by path, reaching what the user can. */
        if (!idmap && util_rootless())
                return 0;
        /* the source is a host path from the config (trusted): host symlinks are followed */
        unsigned fl = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (f.rec ? AT_RECURSIVE : 0);
        _cleanup_close_ int tree = open_tree(AT_FDCWD, src, fl);
        if (tree < 0 && errno == ENOSYS && !idmap)
                return 0; /* before 5.2: the child binds by path */
        if (tree < 0)
                return util_syserr(err, errno, "mounts[%zu]: open bind source %s", i, src);
        struct mount_attr a = { .propagation = tree_propagation(c->cfg) };
        if (a.propagation &&
            mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
                return util_syserr(err, errno, "mounts[%zu]: set the propagation of %s", i, src);
        if (idmap) {
                _cleanup_close_ int userns = -1;
                r = ns_idmap_userns(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                                    m->n_gid_mappings, &userns, err);
                if (r < 0)
                        return husk_error_prefix(err, "mounts[%zu]", i);
                struct mount_attr ia = { .attr_set = MOUNT_ATTR_IDMAP,
                                         .userns_fd = (uint64_t)userns };
                if (mount_setattr(tree, "", AT_EMPTY_PATH | (f.rec ? AT_RECURSIVE : 0), &ia,
                                  sizeof(ia)) < 0)
                        return util_syserr(err, errno,
                                           "mounts[%zu]: idmap %s (does its filesystem support "
                                           "idmapped mounts?)",
                                           i, src);
        }
        *ret = TAKE_FD(tree);
        return 0;
}

int rootfs_open_sources(rootfs_ctx *c, husk_error_t *err)
{
        const husk_config *cfg = c->cfg;
        if (c->no_mountns)
                return 0; /* nothing is mounted (rootfs_ctx.no_mountns) */
        c->src_trees = xcalloc(cfg->n_mounts ? cfg->n_mounts : 1, sizeof(int));
        c->n_src_trees = cfg->n_mounts;
        for (size_t i = 0; i < cfg->n_mounts; i++)
                c->src_trees[i] = -1;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                int r = open_one(c, &cfg->mounts[i], i, &c->src_trees[i], err);
                if (r < 0) {
                        rootfs_close_sources(c);
                        return r;
                }
        }
        return 0;
}

void rootfs_close_sources(rootfs_ctx *c)
{
        for (size_t i = 0; c->src_trees && i < c->n_src_trees; i++)
                util_closep(&c->src_trees[i]);
        free(c->src_trees);
        c->src_trees = NULL;
        c->n_src_trees = 0;
}
