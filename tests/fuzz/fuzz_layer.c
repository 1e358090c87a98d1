/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: a layer (tar, possibly gzip or zstd: detected) applied as `husk image load`
 * applies it, into a folder created for this input under the harness's private root:
 *   ROOT/layer-XXXXXX/rootfs/          the layer's root (root_fd)
 *   ROOT/layer-XXXXXX/sentinel/canary  a file the layer must not reach
 * Afterwards the harness checks that nothing was created, removed or linked outside rootfs/: the
 * run folder holds exactly rootfs and sentinel, sentinel holds exactly canary, whose content,
 * mode and link count are unchanged, and ROOT holds only this input's folder. Then the folder is
 * removed. (An absolute symlink in a layer points at a host path the fuzzer cannot guess, so the
 * checks cover escapes by "..", hardlinks, whiteouts and symlinked parents relative to the
 * layer.) */
#include "fuzz.h"

#include "image/image.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char canary[] = "canary\n";

/* The names in dirfd other than "." and "..", which must be exactly want (n of them). */
static void expect_names(const char *where, const char *path, const char *const *want, size_t n)
{
        DIR *d = opendir(path);
        if (!d)
                fuzz_fail("%s: open %s: %s", where, path, strerror(errno));
        size_t seen = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                size_t i;
                for (i = 0; i < n; i++)
                        if (strcmp(e->d_name, want[i]) == 0)
                                break;
                if (i == n)
                        fuzz_fail("%s: '%s' appeared in %s", where, e->d_name, path);
                seen++;
        }
        closedir(d);
        if (seen != n)
                fuzz_fail("%s: %zu of %zu expected entries left in %s", where, seen, n, path);
}

static void check_canary(int sfd)
{
        struct stat st;
        char buf[sizeof(canary)] = "";
        int fd = openat(sfd, "canary", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                fuzz_fail("canary: %s", strerror(errno));
        ssize_t r = read(fd, buf, sizeof(buf));
        close(fd);
        if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600 || st.st_nlink != 1 ||
            st.st_uid != geteuid() || r != (ssize_t)sizeof(canary) - 1 ||
            memcmp(buf, canary, sizeof(canary) - 1) != 0)
                fuzz_fail("canary changed: mode %o nlink %lu uid %u size %zd", st.st_mode,
                          (unsigned long)st.st_nlink, st.st_uid, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *root = fuzz_root();
        char run[4096];
        snprintf(run, sizeof(run), "%s/layer-XXXXXX", root);
        if (!mkdtemp(run))
                fuzz_fail("mkdtemp: %s", strerror(errno));
        int rfd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0 || mkdirat(rfd, "rootfs", 0755) < 0 || mkdirat(rfd, "sentinel", 0755) < 0)
                fuzz_fail("mkdir in %s: %s", run, strerror(errno));
        int sfd = openat(rfd, "sentinel", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int lfd = openat(rfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0 || lfd < 0)
                fuzz_fail("open in %s: %s", run, strerror(errno));
        fuzz_write_file(sfd, "canary", canary, sizeof(canary) - 1);

        int blob = memfd_create("layer", MFD_CLOEXEC);
        if (blob < 0 || (size && write(blob, data, size) != (ssize_t)size))
                fuzz_fail("memfd: %s", strerror(errno));
        /* Small limits: a decompression bomb must stop early, not fill the disk. */
        layer_limits_t lim = { .max_entry = 1 << 20, .max_total = 8 << 20, .max_entries = 100000,
                               .space_fd = -1 };
        layer_result_t res;
        husk_error_t err = { 0 };
        memset(&res, 0, sizeof(res));
        int r = image_layer_apply(blob, 0, (int64_t)size, COMP_AUTO, lfd, "fuzz layer", &lim, &res,
                                  &err);
        if (r < 0 && err.msg[0] == '\0')
                fuzz_fail("layer refused without a message (%d)", r);
        close(blob);
        close(lfd);

        const char *run_names[] = { "rootfs", "sentinel" };
        const char *sentinel_names[] = { "canary" };
        const char *base = strrchr(run, '/') + 1;
        char spath[4200];
        snprintf(spath, sizeof(spath), "%s/sentinel", run);
        expect_names("run folder", run, run_names, 2);
        expect_names("sentinel", spath, sentinel_names, 1);
        expect_names("fuzz root", root, &base, 1);
        check_canary(sfd);
        close(sfd);
        close(rfd);
        fuzz_rm_rf(run);
        return 0;
}
