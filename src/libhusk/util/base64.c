/* SPDX-License-Identifier: Apache-2.0 */
#include "base64.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
        const uint8_t *d = data;
        char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)d[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t)d[i + 1] << 8;
                if (i + 2 < len)
                        v |= d[i + 2];
                *o++ = b64[v >> 18];
                *o++ = b64[(v >> 12) & 63];
                *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? b64[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

static int b64_val(char c)
{
        const char *p = c ? strchr(b64, c) : NULL;
        return p ? (int)(p - b64) : -1;
}

int base64_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
        if (len % 4)
                return -EINVAL;
        char *out = xmalloc(len / 4 * 3 + 1);
        size_t n = 0;
        for (size_t i = 0; i < len; i += 4) {
                int v[4];
                bool last = i + 4 == len;
                for (int k = 0; k < 4; k++) {
                        v[k] = b64_val(s[i + k]);
                        /* '=' only as the last one or two characters */
                        if (v[k] < 0 && !(last && k >= 2 && s[i + k] == '=' &&
                                          (k == 3 || s[i + 3] == '='))) {
                                free(out);
                                return -EINVAL;
                        }
                }
                out[n++] = (char)((v[0] << 2) | (v[1] >> 4));
                if (v[2] >= 0)
                        out[n++] = (char)(((v[1] & 15) << 4) | (v[2] >> 2));
                if (v[2] >= 0 && v[3] >= 0)
                        out[n++] = (char)(((v[2] & 3) << 6) | v[3]);
        }
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
        return 0;
}
