/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for rootfs: the mount option table, path cleaning, propagation mapping and the
 * in-root resolver (openat2 and the fallback walk) on a scratch directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static int parse(mount_flags *f, ...)
{
        char *v[32];
        size_t n = 0;
        va_list ap;
        va_start(ap, f);
        for (char *s; (s = va_arg(ap, char *));)
                v[n++] = s;
        va_end(ap);
        husk_error_t err = { 0 };
        memset(f, 0, sizeof(*f));
        return rootfs_parse_mount_options(v, n, f, &err);
}

static void test_basic_flags(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "nosuid", "nodev", "noexec", "ro", NULL), 0);
        assert_int_equal(f.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
        assert_int_equal(f.clear, 0);
        assert_false(f.bind);
        assert_null(f.data);
        mount_flags_done(&f);
}

static void test_clear_flags(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "rw", "suid", "dev", "exec", NULL), 0);
        assert_int_equal(f.flags, 0);
        assert_int_equal(f.clear, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        mount_flags_done(&f);
}

static void test_last_wins(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "ro", "rw", NULL), 0);
        assert_int_equal(f.flags & MS_RDONLY, 0);
        assert_int_equal(f.clear & MS_RDONLY, MS_RDONLY);
        assert_int_equal(parse(&f, "rw", "ro", NULL), 0);
        assert_int_equal(f.flags & MS_RDONLY, MS_RDONLY);
        assert_int_equal(f.clear & MS_RDONLY, 0);
        assert_int_equal(parse(&f, "nosuid", "suid", "nosuid", NULL), 0);
        assert_int_equal(f.flags, MS_NOSUID);
        assert_int_equal(f.clear, 0);
}

static void test_atime(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "noatime", NULL), 0);
        assert_int_equal(f.flags, MS_NOATIME);
        assert_int_equal(f.clear, MS_RELATIME | MS_STRICTATIME);
        assert_int_equal(parse(&f, "noatime", "strictatime", NULL), 0);
        assert_int_equal(f.flags, MS_STRICTATIME);
        assert_int_equal(f.clear, MS_NOATIME | MS_RELATIME);
        assert_int_equal(parse(&f, "relatime", NULL), 0);
        assert_int_equal(f.flags, MS_RELATIME);
        assert_int_equal(parse(&f, "norelatime", NULL), 0);
        assert_int_equal(f.flags, 0);
        assert_int_equal(f.clear, MS_RELATIME);
        assert_int_equal(parse(&f, "nodiratime", NULL), 0);
        assert_int_equal(f.flags, MS_NODIRATIME);
        assert_int_equal(parse(&f, "atime", NULL), 0);
        assert_int_equal(f.clear, MS_NOATIME);
}

static void test_other_flags(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "sync", "dirsync", "mand", "nosymfollow", "lazytime", "silent",
                               "remount", NULL),
                         0);
        assert_int_equal(f.flags, MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_NOSYMFOLLOW |
                                          MS_LAZYTIME | MS_SILENT | MS_REMOUNT);
        assert_int_equal(parse(&f, "async", "nomand", "symfollow", "defaults", NULL), 0);
        assert_int_equal(f.flags, 0);
        assert_int_equal(f.clear, MS_SYNCHRONOUS | MS_MANDLOCK | MS_NOSYMFOLLOW);
}

static void test_bind(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "bind", NULL), 0);
        assert_true(f.bind);
        assert_false(f.rec);
        assert_int_equal(parse(&f, "rbind", "ro", NULL), 0);
        assert_true(f.bind);
        assert_true(f.rec);
        assert_int_equal(f.flags, MS_RDONLY);
}

static void test_propagation(void **state)
{
        static const struct {
                const char *name;
                unsigned long flags;
        } t[] = {
                { "private", MS_PRIVATE },        { "rprivate", MS_PRIVATE | MS_REC },
                { "shared", MS_SHARED },          { "rshared", MS_SHARED | MS_REC },
                { "slave", MS_SLAVE },            { "rslave", MS_SLAVE | MS_REC },
                { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                mount_flags f;
                assert_int_equal(parse(&f, "bind", t[i].name, NULL), 0);
                assert_int_equal(f.propagation, t[i].flags);
                assert_int_equal(f.flags, 0);
        }
        assert_int_equal(rootfs_propagation_flags(PROPAGATION_UNSET), 0);
        assert_int_equal(rootfs_propagation_flags(PROPAGATION_RSLAVE), MS_SLAVE | MS_REC);
        assert_int_equal(rootfs_propagation_flags(PROPAGATION_SHARED), MS_SHARED);
        assert_int_equal(rootfs_propagation_flags(PROPAGATION_RUNBINDABLE), MS_UNBINDABLE | MS_REC);
}

static void test_data(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "nosuid", "mode=755", "size=64k", NULL), 0);
        assert_int_equal(f.flags, MS_NOSUID);
        assert_string_equal(f.data, "mode=755,size=64k");
        mount_flags_done(&f);
        assert_null(f.data);
        assert_int_equal(parse(&f, "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL), 0);
        assert_string_equal(f.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        mount_flags_done(&f);
        /* empty option strings are ignored, never turned into ",," */
        assert_int_equal(parse(&f, "", "size=1m", "", NULL), 0);
        assert_string_equal(f.data, "size=1m");
        mount_flags_done(&f);
        assert_int_equal(parse(&f, NULL), 0);
        assert_null(f.data);
}

static void test_recursive(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "rbind", "rro", "rnosuid", "rnodev", "rnoexec", NULL), 0);
        assert_int_equal(f.rec_flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        assert_int_equal(f.flags, 0);
        assert_int_equal(parse(&f, "rro", "rrw", "rnoatime", NULL), 0);
        assert_int_equal(f.rec_flags, MS_NOATIME);
        assert_int_equal(f.rec_clear & MS_RDONLY, MS_RDONLY);
}

static void test_rejected(void **state)
{
        char *v[] = { "nosuid", "size=1k", "idmap" };
        mount_flags f = { 0 };
        husk_error_t err = { 0 };
        assert_int_equal(rootfs_parse_mount_options(v, 3, &f, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "\"idmap\""));
        assert_null(f.data); /* untouched on failure */
        assert_int_equal(f.flags, 0);
        char *w[] = { "ridmap" };
        assert_int_equal(rootfs_parse_mount_options(w, 1, &f, &err), -EINVAL);
}

/* copy-symlink (crun's option, ignored by runc): a flag, never mount data. */
static void test_copy_symlink(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "rbind", "copy-symlink", "ro", NULL), 0);
        assert_true(f.copy_symlink);
        assert_true(f.bind && f.rec);
        assert_int_equal(f.flags, MS_RDONLY);
        assert_null(f.data);
        mount_flags_done(&f);
}

static void test_tmpcopyup(void **state)
{
        mount_flags f;
        assert_int_equal(parse(&f, "rw", "rprivate", "nosuid", "nodev", "tmpcopyup", "size=1m", NULL), 0);
        assert_true(f.tmpcopyup);
        assert_int_equal(f.flags, MS_NOSUID | MS_NODEV);
        assert_int_equal(f.propagation, MS_PRIVATE | MS_REC);
        assert_string_equal(f.data, "size=1m");
        mount_flags_done(&f);
        assert_int_equal(parse(&f, "size=1m", NULL), 0);
        assert_false(f.tmpcopyup);
        mount_flags_done(&f);
}

static void test_clean_path(void **state)
{
        static const char *t[][2] = {
                { "/dev", "/dev" },       { "/dev/", "/dev" },     { "//dev//pts/", "/dev/pts" },
                { "/", "/" },             { "", "/" },             { "/a/./b", "/a/b" },
                { "/a/../b", "/b" },      { "/../../etc", "/etc" }, { "/a/b/..", "/a" },
                { "/a/b/../../..", "/" }, { "rel/x", "/rel/x" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                char *c = rootfs_clean_path(t[i][0]);
                assert_string_equal(c, t[i][1]);
                free(c);
        }
}

/* ---- resolver tests on a scratch tree ---- */
static char scratch[] = "/tmp/husk-unit-rootfs.XXXXXX";
static int rootfd = -1;

static int setup_tree(void **state)
{
        if (!mkdtemp(scratch))
                return -1;
        char p[256];
        snprintf(p, sizeof(p), "%s/root", scratch);
        mkdir(p, 0755);
        rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        mkdirat(rootfd, "etc", 0755);
        mkdirat(rootfd, "var", 0755);
        mkdirat(rootfd, "var/lib", 0755);
        close(openat(rootfd, "etc/passwd", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        symlinkat("/etc", rootfd, "abs");                 /* absolute: stays in root */
        symlinkat("../../../../../etc", rootfd, "var/up"); /* climbs above the root */
        symlinkat("/nonexistent-xyz", rootfd, "dangling");
        symlinkat("loop2", rootfd, "loop1");
        symlinkat("loop1", rootfd, "loop2");
        symlinkat("lib", rootfd, "var/rel");
        snprintf(p, sizeof(p), "%s/outside", scratch);
        mkdir(p, 0755);
        symlinkat(p, rootfd, "tohost"); /* the host path of a dir outside the root */
        return 0;
}

static int teardown_tree(void **state)
{
        close(rootfd);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
        return system(cmd) == 0 ? 0 : -1;
}

/* The fd must be the same inode as ROOT/expect (opened without symlinks). */
static void assert_same(int fd, const char *expect)
{
        assert_true(fd >= 0);
        struct stat a, b;
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(fstatat(rootfd, expect, &b, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(a.st_dev, b.st_dev);
        close(fd);
}

static void resolve_cases(bool fallback)
{
        rootfs_force_fallback = fallback;
        assert_same(safe_open_in_root(rootfd, "/etc/passwd", 0, false), "etc/passwd");
        assert_same(safe_open_in_root(rootfd, "/abs/passwd", 0, false), "etc/passwd");
        assert_same(safe_open_in_root(rootfd, "/var/up/passwd", 0, false), "etc/passwd");
        assert_same(safe_open_in_root(rootfd, "/../../etc", O_DIRECTORY, false), "etc");
        assert_same(safe_open_in_root(rootfd, "/var/rel", O_DIRECTORY, false), "var/lib");
        assert_same(safe_open_in_root(rootfd, "/abs", 0, true), "abs"); /* the link itself */
        assert_same(safe_open_in_root(rootfd, "/", O_DIRECTORY, false), ".");
        assert_int_equal(safe_open_in_root(rootfd, "/dangling", 0, false), -ENOENT);
        assert_int_equal(safe_open_in_root(rootfd, "/loop1", 0, false), -ELOOP);
        assert_int_equal(safe_open_in_root(rootfd, "/etc/passwd", O_DIRECTORY, false), -ENOTDIR);
        /* an absolute host path in a link is read as a path inside the root: not found here */
        assert_int_equal(safe_open_in_root(rootfd, "/tohost", 0, false), -ENOENT);
        rootfs_force_fallback = false;
}

static void test_resolve_openat2(void **state)
{
        resolve_cases(false);
}

static void test_resolve_fallback(void **state)
{
        resolve_cases(true);
}

static void mkdir_cases(bool fallback)
{
        rootfs_force_fallback = fallback;
        const char *d = fallback ? "/abs/fb/x/y" : "/abs/o2/x/y";
        assert_same(safe_mkdir_p_in_root(rootfd, d, 0755), fallback ? "etc/fb/x/y" : "etc/o2/x/y");
        /* through a link that climbs above the root: created inside */
        const char *u = fallback ? "/var/up/fbup" : "/var/up/o2up";
        assert_same(safe_mkdir_p_in_root(rootfd, u, 0755), fallback ? "etc/fbup" : "etc/o2up");
        /* through a link to a host path: created at that path inside the root, never on the host */
        char p[300], inroot[300];
        snprintf(inroot, sizeof(inroot), "%s/outside/%s", scratch + 1, fallback ? "fbsub" : "o2sub");
        snprintf(p, sizeof(p), "/tohost/%s", fallback ? "fbsub" : "o2sub");
        assert_same(safe_mkdir_p_in_root(rootfd, p, 0755), inroot);
        snprintf(p, sizeof(p), "%s/outside/%s", scratch, fallback ? "fbsub" : "o2sub");
        struct stat st;
        assert_int_equal(stat(p, &st), -1);
        /* an existing file in the way */
        assert_int_equal(safe_mkdir_p_in_root(rootfd, "/etc/passwd/x", 0755), -ENOTDIR);
        /* files: created empty, an existing one reused */
        assert_same(safe_create_file_in_root(rootfd, "/abs/newfile", 0644), "etc/newfile");
        assert_same(safe_create_file_in_root(rootfd, "/etc/passwd", 0644), "etc/passwd");
        snprintf(inroot, sizeof(inroot), "%s/outside/file", scratch + 1);
        assert_same(safe_create_file_in_root(rootfd, "/tohost/file", 0644), inroot);
        snprintf(p, sizeof(p), "%s/outside/file", scratch);
        assert_int_equal(stat(p, &st), -1);
        unlinkat(rootfd, "etc/newfile", 0);
        rootfs_force_fallback = false;
}

static void test_mkdir_openat2(void **state)
{
        mkdir_cases(false);
}

static void test_mkdir_fallback(void **state)
{
        mkdir_cases(true);
}

static void test_resolve_path(void **state)
{
        static const char *t[][2] = {
                { "/etc/passwd", "/etc/passwd" },  { "/abs/x/y", "/etc/x/y" },
                { "/var/up/z", "/etc/z" },         { "/dangling/a", "/nonexistent-xyz/a" },
                { "/dangling", "/nonexistent-xyz" }, { "/var/rel/../rel/q", "/var/lib/q" },
                { "/", "/" },                      { "/missing/../etc", "/etc" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                int e = 0;
                char *r = safe_resolve_in_root(rootfd, t[i][0], &e);
                assert_non_null(r);
                assert_string_equal(r, t[i][1]);
                free(r);
        }
        int e = 0;
        assert_null(safe_resolve_in_root(rootfd, "/loop1/x", &e));
        assert_int_equal(e, -ELOOP);
        assert_null(safe_resolve_in_root(rootfd, "/etc/passwd/x", &e));
        assert_int_equal(e, -ENOTDIR);
        /* a dangling link (like /etc/resolv.conf -> ../run/...) gets its target created inside */
        symlinkat("../run/stub/resolv.conf", rootfd, "etc/resolv.conf");
        int fd = safe_create_file_in_root(rootfd, "/etc/resolv.conf", 0644);
        assert_same(fd, "run/stub/resolv.conf");
}

static void test_open_parent(void **state)
{
        int dfd = -1;
        char *base = NULL;
        assert_int_equal(safe_open_parent_in_root(rootfd, "/abs//passwd/", false, &dfd, &base), 0);
        assert_string_equal(base, "passwd");
        assert_same(dfd, "etc");
        free(base);
        assert_int_equal(safe_open_parent_in_root(rootfd, "/", false, &dfd, &base), -EINVAL);
        assert_int_equal(safe_open_parent_in_root(rootfd, "/..", false, &dfd, &base), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic_flags),
                cmocka_unit_test(test_clear_flags),
                cmocka_unit_test(test_last_wins),
                cmocka_unit_test(test_atime),
                cmocka_unit_test(test_other_flags),
                cmocka_unit_test(test_bind),
                cmocka_unit_test(test_propagation),
                cmocka_unit_test(test_data),
                cmocka_unit_test(test_recursive),
                cmocka_unit_test(test_rejected),
                cmocka_unit_test(test_tmpcopyup),
                cmocka_unit_test(test_copy_symlink),
                cmocka_unit_test(test_clean_path),
                cmocka_unit_test(test_resolve_openat2),
                cmocka_unit_test(test_resolve_fallback),
                cmocka_unit_test(test_mkdir_openat2),
                cmocka_unit_test(test_mkdir_fallback),
                cmocka_unit_test(test_resolve_path),
                cmocka_unit_test(test_open_parent),
        };
        return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
