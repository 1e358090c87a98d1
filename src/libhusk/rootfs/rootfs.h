/* SPDX-License-Identifier: Apache-2.0 */
/* The container's root: mounts, /dev, masked and read-only paths, pivot_root.
 * Every function here runs on the container side, in the container's new mount namespace (and user
 * namespace when one is configured, after the host side wrote the id maps). Paths inside the rootfs
 * are always resolved by fd (openat2 RESOLVE_IN_ROOT or a checked fallback), never by string. */
#ifndef HUSK_ROOTFS_H
#define HUSK_ROOTFS_H

#include "config/oci_config.h"

typedef struct rootfs_ctx {
        const husk_config *cfg;
        const char *rootfs; /* absolute host path of the root (root.path resolved against bundle) */
        const char *bundle; /* absolute bundle path: relative bind sources resolve against it */
        bool no_pivot;      /* --no-pivot: chroot (MS_MOVE) instead of pivot_root */
        bool in_userns;     /* a new user namespace: mknod is impossible, devices are bind-mounted */
        bool want_console;  /* process.terminal: /dev/console will be bound by rootfs_console */
        /* No mount namespace (the host's is shared): nothing is mounted (it would land on the
         * host), the root is entered with chroot, as runc does. The host side refused what
         * cannot be skipped (root.readonly, maskedPaths, readonlyPaths). */
        bool no_mountns;
        int rootfs_fd;      /* set by rootfs_mounts: O_PATH fd of the root after the self-bind */
        /* Set by rootfs_open_sources on the host side: per config mount, a detached clone of a
         * bind source (open_tree, idmapped when the mount has id mappings), or -1. */
        int *src_trees;
        size_t n_src_trees;
        /* tmpfs mounts asked read-only: mounted writable so mount points, devices and
         * /dev/console can be made in them, and made read-only by rootfs_finalize (as runc does
         * for /dev). Destinations, NULL-terminated. */
        char **ro_later;
        size_t n_ro_later;
} rootfs_ctx;

/* Host side, before clone: open every bind source with open_tree(OPEN_TREE_CLONE) while husk is
 * still the host's root (a source only it can reach works in a user namespace too), idmap those
 * with uidMappings/gidMappings (mount_setattr MOUNT_ATTR_IDMAP with a user namespace made for
 * them), and give each the propagation "/" will get. The child inherits the fds at clone. */
int rootfs_open_sources(rootfs_ctx *c, husk_error_t *err);
/* Close the trees (the host side after clone; the child after its mounts). */
void rootfs_close_sources(rootfs_ctx *c);

/* Start sequence steps 6-7: stop propagation ("/" rslave or rprivate), bind the rootfs on itself,
 * perform config mounts in order (created if missing, resolved inside the root), build /dev
 * (default devices, linux.devices, symlinks, pts, shm). */
int rootfs_mounts(rootfs_ctx *c, husk_error_t *err);
/* Step 9: maskedPaths and readonlyPaths, checked after mounting. Before the pivot. */
int rootfs_mask(rootfs_ctx *c, husk_error_t *err);
/* Step 10: pivot_root(".", ".") and detach the old root (or MS_MOVE + chroot for no_pivot, then
 * hiding the host /proc and /sys). After this the process's "/" is the container root. */
int rootfs_pivot(rootfs_ctx *c, husk_error_t *err);
/* Step 11: root.readonly remount, remount of bind mounts that asked for "ro", rootfsPropagation. */
int rootfs_finalize(rootfs_ctx *c, husk_error_t *err);
/* After the pivot, with process.terminal: bind the pty slave (an open fd) on /dev/console. */
int rootfs_console(rootfs_ctx *c, int pty_slave_fd, husk_error_t *err);

/* ---- plan helpers (pure, unit tested) ---- */
typedef struct mount_flags {
        unsigned long flags;       /* MS_* to set */
        unsigned long clear;       /* MS_* to clear (e.g. "rw" clears MS_RDONLY; "suid" clears MS_NOSUID) */
        unsigned long propagation; /* MS_PRIVATE|MS_REC, ... or 0 */
        bool bind, rec;            /* bind / rbind */
        char *data;                /* remaining filesystem-specific options joined by ',', or NULL */
        /* Added by the rootfs module: "rro", "rnosuid", ... (mount_setattr AT_RECURSIVE, binds) */
        unsigned long rec_flags;   /* MS_* to set on the whole bound tree */
        unsigned long rec_clear;   /* MS_* to clear on the whole bound tree */
        bool tmpcopyup;            /* tmpfs starts with a copy of the directory it covers */
        bool copy_symlink;         /* a bind source that is a symlink is copied, not followed */
} mount_flags;

/* Parse OCI mount options into flags; unknown options go to data. Returns 0 or -EINVAL with err. */
int rootfs_parse_mount_options(char *const *options, size_t n, mount_flags *ret,
                               husk_error_t *err);
void mount_flags_done(mount_flags *f);

#endif
