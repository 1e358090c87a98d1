/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the image module's pure logic: digests, path sanitising, whiteout planning,
 * media types, image config parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "image/image.h"
#include "store/store.h"

#include <string.h>
#include <sys/stat.h>

static void test_digest(void **state)
{
        char hex[DIGEST_HEX_LEN + 1];
        digest_buffer("", 0, hex);
        assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        digest_buffer("abc", 3, hex);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        /* incremental == one shot */
        digest_ctx_t d = { 0 };
        char hex2[DIGEST_HEX_LEN + 1];
        assert_int_equal(digest_init(&d), 0);
        digest_update(&d, "a", 1);
        digest_update(&d, "bc", 2);
        digest_final(&d, hex2);
        assert_string_equal(hex, hex2);
}

static void test_digest_parse(void **state)
{
        char hex[DIGEST_HEX_LEN + 1];
        const char *ok = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_int_equal(digest_parse(ok, hex), 0);
        assert_string_equal(hex, ok + 7);
        assert_int_equal(digest_parse("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex), -EINVAL);
        assert_int_equal(digest_parse("sha256:ba7816bf", hex), -EINVAL);
        assert_int_equal(digest_parse("sha256:../../../../etc/passwd0000000000000000000000000000000000000", hex), -EINVAL);
        assert_int_equal(digest_parse("sha512:abcd", hex), -EOPNOTSUPP);
        assert_int_equal(digest_parse("nocolon", hex), -EINVAL);
        assert_int_equal(digest_parse(":abc", hex), -EINVAL);
        assert_int_equal(digest_parse("sh/a:abc", hex), -EINVAL);
        assert_true(digest_hex_valid(ok + 7));
        assert_false(digest_hex_valid("abc"));
}

static void clean_ok(const char *in, const char *want)
{
        char *out = NULL;
        const char *why = NULL;
        assert_int_equal(image_path_clean(in, &out, &why), 0);
        assert_string_equal(out, want);
        free(out);
}

static void clean_bad(const char *in, const char *why_part)
{
        char *out = NULL;
        const char *why = NULL;
        assert_int_equal(image_path_clean(in, &out, &why), -EINVAL);
        assert_null(out);
        assert_non_null(strstr(why, why_part));
}

static void test_path_clean(void **state)
{
        clean_ok("./etc/passwd", "etc/passwd");
        clean_ok("etc//x/./y/", "etc/x/y");
        clean_ok("./", "");
        clean_ok(".", "");
        clean_ok("a/...", "a/...");
        clean_ok("..a/b..", "..a/b..");
        clean_bad("../etc/passwd", "..");
        clean_bad("a/../../b", "..");
        clean_bad("a/..", "..");
        clean_bad("/etc/passwd", "absolute");
        /* The root entry as umoci insert writes it: the layer root, not an absolute path. */
        clean_ok("/", "");
        clean_ok("//", "");
        clean_bad("//etc", "absolute");
        clean_bad("/./etc", "absolute");
        char longc[300];
        memset(longc, 'a', sizeof(longc) - 1);
        longc[sizeof(longc) - 1] = '\0';
        clean_bad(longc, "too long");
}

static void cands_are(const char *ref, const char *want)
{
        char **v = store_name_candidates(ref);
        size_t len = 0;
        for (size_t i = 0; v[i]; i++)
                len += strlen(v[i]) + 1;
        char *got = calloc(1, len + 1);
        for (size_t i = 0; v[i]; i++) {
                strcat(got, v[i]);
                if (v[i + 1])
                        strcat(got, " ");
        }
        assert_string_equal(got, want);
        free(got);
        strv_free(v);
}

static void test_name_candidates(void **state)
{
        cands_are("busybox", "busybox busybox:latest docker.io/library/busybox "
                             "docker.io/library/busybox:latest localhost/busybox "
                             "localhost/busybox:latest");
        cands_are("tools:1", "tools:1 docker.io/library/tools:1 localhost/tools:1");
        cands_are("me/app:2", "me/app:2 docker.io/me/app:2 localhost/me/app:2");
        cands_are("localhost/tools", "localhost/tools localhost/tools:latest");
        cands_are("quay.io/x/y:3", "quay.io/x/y:3");
        cands_are("reg:5000/y", "reg:5000/y reg:5000/y:latest");
        cands_are("a@sha256:00", "a@sha256:00 docker.io/library/a@sha256:00 localhost/a@sha256:00");
}

/* A typo finds the stored name nearest to it, in the short form that runs (issue 19). */
static void near_is(const char *ref, const char *want)
{
        char *n1[] = { "docker.io/library/busybox:latest", "localhost/tools:latest", NULL };
        char *n2[] = { "quay.io/org/webserver:1.2", NULL };
        image_record_t v[2] = { { .names = n1 }, { .names = n2 } };
        char *got = store_nearest_name(v, 2, ref);
        if (!want) {
                assert_null(got);
        } else {
                assert_non_null(got);
                assert_string_equal(got, want);
        }
        free(got);
}

static void test_nearest_name(void **state)
{
        near_is("busybx", "busybox");
        near_is("bsybox", "busybox");
        near_is("tols", "tools");
        near_is("webserver", NULL); /* far from the whole name: no guess */
        near_is("quay.io/org/webservr:1.2", "quay.io/org/webserver:1.2");
        near_is("nginx", NULL);
        near_is("", NULL);
}

static entry_action_t plan(const char *name, mode_t t, const char *parent, const char *leaf)
{
        entry_plan_t p;
        entry_action_t a = image_plan_entry(name, t, &p);
        if (parent)
                assert_string_equal(p.parent, parent);
        if (leaf)
                assert_string_equal(p.leaf, leaf);
        entry_plan_done(&p);
        return a;
}

static void test_whiteout_plan(void **state)
{
        assert_int_equal(plan("etc/.wh.hostname", S_IFREG, "etc", "hostname"), ACT_WHITEOUT);
        assert_int_equal(plan(".wh.top", S_IFREG, "", "top"), ACT_WHITEOUT);
        assert_int_equal(plan("./usr/share/.wh..wh..opq", S_IFREG, "usr/share", NULL), ACT_OPAQUE);
        assert_int_equal(plan(".wh..wh.plnk/1.2", S_IFREG, NULL, NULL), ACT_FILE);
        assert_int_equal(plan("a/.wh..wh.aufs", S_IFREG, NULL, NULL), ACT_SKIP);
        assert_int_equal(plan("a/.wh.", S_IFREG, NULL, NULL), ACT_REJECT);
        assert_int_equal(plan("a/.wh...", S_IFREG, NULL, NULL), ACT_REJECT);
        assert_int_equal(plan("a/.wh.x", S_IFDIR, NULL, NULL), ACT_REJECT);
        assert_int_equal(plan("a/.whx", S_IFREG, "a", ".whx"), ACT_FILE);
        /* a whiteout may not point outside its folder */
        assert_int_equal(plan("../.wh.x", S_IFREG, NULL, NULL), ACT_REJECT);
}

static void test_entry_types(void **state)
{
        assert_int_equal(plan("./", S_IFDIR, NULL, NULL), ACT_SKIP);
        assert_int_equal(plan("bin/", S_IFDIR, "", "bin"), ACT_DIR);
        assert_int_equal(plan("bin/sh", S_IFLNK, "bin", "sh"), ACT_SYMLINK);
        assert_int_equal(plan("dev/null", S_IFCHR, NULL, NULL), ACT_SKIP_DEVICE);
        assert_int_equal(plan("dev/sda", S_IFBLK, NULL, NULL), ACT_SKIP_DEVICE);
        assert_int_equal(plan("run/s", S_IFSOCK, NULL, NULL), ACT_SKIP_DEVICE);
        assert_int_equal(plan("run/p", S_IFIFO, NULL, NULL), ACT_FIFO);
        assert_int_equal(plan("/etc/shadow", S_IFREG, NULL, NULL), ACT_REJECT);
        assert_int_equal(plan("x", 0170000, NULL, NULL), ACT_REJECT);
}

static void test_media_types(void **state)
{
        compression_t c = COMP_AUTO;
        assert_int_equal(media_type_parse("application/vnd.oci.image.layer.v1.tar+gzip", &c), MEDIA_LAYER);
        assert_int_equal(c, COMP_GZIP);
        assert_int_equal(media_type_parse("application/vnd.oci.image.layer.v1.tar+zstd", &c), MEDIA_LAYER);
        assert_int_equal(c, COMP_ZSTD);
        assert_int_equal(media_type_parse("application/vnd.oci.image.layer.v1.tar", &c), MEDIA_LAYER);
        assert_int_equal(c, COMP_NONE);
        assert_int_equal(media_type_parse("application/vnd.docker.image.rootfs.diff.tar.gzip", &c), MEDIA_LAYER);
        assert_int_equal(c, COMP_GZIP);
        assert_int_equal(media_type_parse("application/vnd.oci.image.index.v1+json", NULL), MEDIA_INDEX);
        assert_int_equal(media_type_parse("application/vnd.docker.distribution.manifest.list.v2+json", NULL), MEDIA_INDEX);
        assert_int_equal(media_type_parse("application/vnd.docker.distribution.manifest.v2+json", NULL), MEDIA_MANIFEST);
        assert_int_equal(media_type_parse("application/vnd.oci.image.config.v1+json", NULL), MEDIA_CONFIG);
        assert_int_equal(media_type_parse("application/vnd.oci.image.layer.v1.tar+bzip3", &c), MEDIA_UNKNOWN);
        assert_int_equal(media_type_parse(NULL, &c), MEDIA_UNKNOWN);
}

static void test_config_parse(void **state)
{
        husk_error_t err = { 0 };
        image_config_t c;
        const char *j = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
                        "\"Cmd\":null,\"Env\":[\"A=1\"],\"User\":\"1000:1000\",\"WorkingDir\":\"/w\","
                        "\"StopSignal\":\"SIGQUIT\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                        "\"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"]}}";
        assert_int_equal(image_config_parse(j, "cfg", &c, &err), 0);
        assert_string_equal(c.run.entrypoint[1], "-c");
        assert_null(c.run.cmd);
        assert_string_equal(c.run.env[0], "A=1");
        assert_string_equal(c.run.user, "1000:1000");
        assert_string_equal(c.run.working_dir, "/w");
        assert_string_equal(c.run.stop_signal, "SIGQUIT");
        assert_int_equal(c.n_diff_ids, 1);
        assert_string_equal(c.arch, "amd64");
        image_config_done(&c);
        assert_int_equal(image_config_parse("{\"config\":{\"Cmd\":\"ls\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                                            "cfg", &c, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "Cmd"));
        assert_int_equal(image_config_parse("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:x\"]}}", "cfg", &c, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "diff_ids[0]"));
        assert_int_equal(image_config_parse("[1,", "cfg", &c, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "cfg: invalid JSON"));
}

/* issue 12: names from an archive are checked against the formats' grammars before they are
 * stored or printed. */
static void test_reference_grammar(void **state)
{
        static const char *const good[] = {
                "busybox", "busybox:latest", "docker.io/library/busybox:1.36",
                "localhost:5000/team/app:v1.2", "Quay.IO/x/y_z__w-1:3", "a.b-c/d--e/f",
                "[::1]:5000/x:1", "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "a:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        };
        static const char *const bad[] = {
                "", "Busybox", "docker.io/Library/x", "au-evil\nname:../../../x", "../x", "a/../b",
                "a b", "x:", ":tag", "a//b", "a/", "/a", "a:t\x1b[2J", "a@sha256:00", "-a", "a-",
                "a..b", "a___b", "host-/x", "a:-tag", "a@", "a:1:2",
        };
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                if (!image_reference_valid(good[i]))
                        fail_msg("'%s' should be a valid reference", good[i]);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (image_reference_valid(bad[i]))
                        fail_msg("'%s' should not be a valid reference", bad[i]);
        char longname[300];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_false(image_reference_valid(longname));
}

static void test_ref_name_grammar(void **state)
{
        static const char *const good[] = { "latest", "v1.0", "limits:5", "a--b", "A+b@c",
                                             "docker.io/library/busybox:latest", "1" };
        static const char *const bad[] = { "", "au-evil\nname:../../../x", "../x", "a/../b", "a b",
                                           "-a", "a-", "a//b", "a/", "a---b", "a\x1b", "a..b" };
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                if (!image_ref_name_valid(good[i]))
                        fail_msg("'%s' should be a valid ref.name", good[i]);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (image_ref_name_valid(bad[i]))
                        fail_msg("'%s' should not be a valid ref.name", bad[i]);
        char *e = image_name_escape("au-evil\nname\x1b\"x");
        assert_string_equal(e, "au-evil\\nname\\x1b\\\"x");
        free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digest),         cmocka_unit_test(test_digest_parse),
                cmocka_unit_test(test_path_clean),     cmocka_unit_test(test_whiteout_plan),
                cmocka_unit_test(test_entry_types),    cmocka_unit_test(test_media_types),
                cmocka_unit_test(test_config_parse),   cmocka_unit_test(test_name_candidates),
                cmocka_unit_test(test_reference_grammar), cmocka_unit_test(test_ref_name_grammar),
                cmocka_unit_test(test_nearest_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
