/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the start-path helpers: the built-in SHA-256 (FIPS 180-4 vectors, and the same
 * digests as OpenSSL for every length around the block and padding edges) and the libraries
 * loaded on first use (lazylib.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/sha256.h"
#include "util/util.h"

#include <archive.h>
#include <openssl/evp.h>
#include <string.h>

static void test_sha256_vectors(void **state)
{
        char hex[65];
        sha256_hex("", 0, hex);
        assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        sha256_hex("abc", 3, hex);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        sha256_hex(m, strlen(m), hex);
        assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        /* One million 'a', fed in uneven pieces through the streaming interface. */
        sha256_ctx s;
        uint8_t d[SHA256_LEN];
        char a[997];
        memset(a, 'a', sizeof(a));
        sha256_init(&s);
        size_t left = 1000000;
        while (left) {
                size_t n = left < sizeof(a) ? left : sizeof(a);
                sha256_update(&s, a, n);
                left -= n;
        }
        sha256_final(&s, d);
        static const uint8_t want[SHA256_LEN] = {
                0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
                0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
                0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0,
        };
        assert_memory_equal(d, want, SHA256_LEN);
}

/* Every length 0..300 (all padding cases) against OpenSSL, loaded through lazylib.c. */
static void test_sha256_matches_openssl(void **state)
{
        uint8_t buf[300];
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t)(i * 131 + 7);
        for (size_t len = 0; len <= sizeof(buf); len++) {
                unsigned char ref[EVP_MAX_MD_SIZE];
                unsigned int n = 0;
                assert_int_equal(EVP_Digest(buf, len, ref, &n, EVP_sha256(), NULL), 1);
                assert_int_equal(n, SHA256_LEN);
                sha256_ctx s;
                uint8_t d[SHA256_LEN];
                sha256_init(&s);
                sha256_update(&s, buf, len / 2);
                sha256_update(&s, buf + len / 2, len - len / 2);
                sha256_final(&s, d);
                assert_memory_equal(d, ref, SHA256_LEN);
        }
}

/* The forwarders reach the real libarchive: a new reader works and frees; NULL frees are no-ops
 * that need no library. */
static void test_lazy_libarchive(void **state)
{
        assert_int_equal(archive_read_free(NULL), ARCHIVE_OK);
        EVP_MD_CTX_free(NULL);
        struct archive *a = archive_read_new();
        assert_non_null(a);
        assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
        assert_int_equal(archive_read_free(a), ARCHIVE_OK);
        assert_non_null(strstr(archive_version_details(), "libarchive"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha256_vectors),
                cmocka_unit_test(test_sha256_matches_openssl),
                cmocka_unit_test(test_lazy_libarchive),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
