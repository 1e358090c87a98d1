/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 of small inputs without libcrypto (sha256.c). */
#ifndef HUSK_SHA256_H
#define HUSK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

typedef struct sha256_ctx {
        uint32_t h[8];
        uint64_t len;
        uint8_t buf[64];
        size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *s);
void sha256_update(sha256_ctx *s, const void *data, size_t len);
void sha256_final(sha256_ctx *s, uint8_t out[SHA256_LEN]);
/* The lower-case hex digest of one buffer. */
void sha256_hex(const void *data, size_t len, char hex[2 * SHA256_LEN + 1]);

#endif
