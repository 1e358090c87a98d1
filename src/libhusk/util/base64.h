/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 4648 base64 with padding: the one copy husk-fn's adapters and the API gateway share
 * (base64.c). A wire encoding, not crypto: no libcrypto. */
#ifndef HUSK_BASE64_H
#define HUSK_BASE64_H

#include <stddef.h>

/* The padded encoding of data, allocated. */
char *base64_encode(const void *data, size_t len);
/* Decodes len characters of s (padding required, no whitespace): -EINVAL on anything else.
 * Allocated, NUL-terminated (*ret_len excludes the NUL). */
int base64_decode(const char *s, size_t len, char **ret, size_t *ret_len);

#endif
