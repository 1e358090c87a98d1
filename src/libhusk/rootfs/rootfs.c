/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER so the tree links: replaced by the rootfs module owner. */
#include "rootfs/rootfs.h"
#include "util/util.h"

int rootfs_mounts(rootfs_ctx *c, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "rootfs not implemented yet");
}
int rootfs_mask(rootfs_ctx *c, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "rootfs not implemented yet");
}
int rootfs_pivot(rootfs_ctx *c, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "rootfs not implemented yet");
}
int rootfs_finalize(rootfs_ctx *c, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "rootfs not implemented yet");
}
int rootfs_console(rootfs_ctx *c, int pty_slave_fd, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "rootfs not implemented yet");
}
