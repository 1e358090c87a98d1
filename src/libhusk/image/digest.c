/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 digests through OpenSSL's EVP interface, and digest strings. */
#include "image/image.h"

#include <openssl/evp.h>
#include "util/sha256.h"
#include <string.h>

int digest_init(digest_ctx_t *d)
{
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md)
                return -ENOMEM;
        if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(md);
                return -EIO;
        }
        d->md = md;
        return 0;
}

void digest_update(digest_ctx_t *d, const void *buf, size_t len)
{
        if (d->md && len > 0)
                EVP_DigestUpdate(d->md, buf, len);
}

void digest_final(digest_ctx_t *d, char hex[DIGEST_HEX_LEN + 1])
{
        static const char x[] = "0123456789abcdef";
        unsigned char raw[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        hex[0] = '\0';
        if (!d->md)
                return;
        EVP_DigestFinal_ex(d->md, raw, &n);
        for (unsigned i = 0; i < n && i < DIGEST_HEX_LEN / 2; i++) {
                hex[2 * i] = x[raw[i] >> 4];
                hex[2 * i + 1] = x[raw[i] & 15];
        }
        hex[DIGEST_HEX_LEN] = '\0';
        digest_done(d);
}

void digest_done(digest_ctx_t *d)
{
        if (d->md)
                EVP_MD_CTX_free(d->md);
        d->md = NULL;
}

/* Small buffers (configs, keys) on the run path: without libcrypto (util/sha256.c). */
void digest_buffer(const void *buf, size_t len, char hex[DIGEST_HEX_LEN + 1])
{
        sha256_hex(buf, len, hex);
}

bool digest_hex_valid(const char *s)
{
        size_t i;
        for (i = 0; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == DIGEST_HEX_LEN;
}

int digest_parse(const char *s, char hex[DIGEST_HEX_LEN + 1])
{
        const char *colon = s ? strchr(s, ':') : NULL;
        if (!colon || colon == s)
                return -EINVAL;
        if ((size_t)(colon - s) != 6 || strncmp(s, "sha256", 6) != 0) {
                /* A well-formed algorithm name we do not implement (sha512, blake3 ...). */
                for (const char *p = s; p < colon; p++)
                        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
                              *p == '.' || *p == '_' || *p == '-'))
                                return -EINVAL;
                return -EOPNOTSUPP;
        }
        if (!digest_hex_valid(colon + 1))
                return -EINVAL;
        memcpy(hex, colon + 1, DIGEST_HEX_LEN + 1);
        return 0;
}
