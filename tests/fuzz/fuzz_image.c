/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: image index / manifest / config JSON. The input is a small image folder written
 * as parts separated by the line "----" (fuzz.h):
 *   part 0: index.json (OCI layout), or manifest.json when it starts with '[' (docker save) or
 *           with '{' and holds "layers" (a containers/image dir: folder, whose "version" file the
 *           harness adds);
 *   parts 1..7: blobs, stored as blobs/sha256/HEX, as HEX (dir: folders name blobs so) and as
 *           HEX.json (older docker save configs).
 * A blob cannot name another blob's digest by chance, so "@N@" in any part is replaced by the
 * digest (hex) of part N, for N greater than the part's own number. The folder is planned as
 * `husk image load` does (image_source_open + image_source_plan), each planned config is read
 * and parsed, and every blob also goes to image_config_parse directly. */
#include "fuzz.h"

#include "image/image.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *substitute(const char *s, size_t len, size_t self, char hex[][DIGEST_HEX_LEN + 1],
                        size_t n, size_t *ret_len)
{
        /* A digest is 64 characters for 3 of the placeholder: at most 22 times longer. */
        char *out = malloc(len * 22 + 1);
        size_t o = 0;
        if (!out)
                abort();
        for (size_t i = 0; i < len;) {
                if (i + 2 < len && s[i] == '@' && s[i + 2] == '@' && s[i + 1] >= '1' &&
                    s[i + 1] <= '7') {
                        size_t k = (size_t)(s[i + 1] - '0');
                        if (k > self && k < n) {
                                memcpy(out + o, hex[k], DIGEST_HEX_LEN);
                                o += DIGEST_HEX_LEN;
                                i += 3;
                                continue;
                        }
                }
                out[o++] = s[i++];
        }
        out[o] = '\0';
        *ret_len = o;
        return out;
}

static void check_plans(const image_source_t *src, image_plan_t *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < v[i].n_layers; k++)
                        if (v[i].layers[k].blob_hex && !digest_hex_valid(v[i].layers[k].blob_hex))
                                fuzz_fail("plan %zu layer %zu: bad hex '%s'", i, k,
                                          v[i].layers[k].blob_hex);
                if (!v[i].config_path)
                        continue;
                char *text = NULL;
                size_t len = 0;
                husk_error_t err = { 0 };
                if (image_source_read(src, v[i].config_path, v[i].config_hex, &text, &len,
                                      &err) < 0)
                        continue;
                image_config_t c = { 0 };
                if (image_config_parse(text, "config", &c, &err) == 0)
                        image_config_done(&c);
                free(text);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_parts in;
        fuzz_split(data, size, &in);
        char hex[FUZZ_MAX_PARTS][DIGEST_HEX_LEN + 1];
        char *text[FUZZ_MAX_PARTS];
        size_t len[FUZZ_MAX_PARTS];
        for (size_t i = in.n; i-- > 0;) {
                text[i] = substitute(in.part[i], in.len[i], i, hex, in.n, &len[i]);
                digest_buffer(text[i], len[i], hex[i]);
        }
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/image", fuzz_root());
        fuzz_rm_rf(dir);
        if (mkdir(dir, 0700) < 0)
                fuzz_fail("mkdir %s", dir);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || mkdirat(dfd, "blobs", 0700) < 0 || mkdirat(dfd, "blobs/sha256", 0700) < 0)
                fuzz_fail("mkdir blobs");
        const char *top = "index.json";
        if (text[0][0] == '[' || (text[0][0] == '{' && strstr(text[0], "\"layers\""))) {
                top = "manifest.json";
                static const char version[] = "Directory Transport Version: 1.1\n";
                fuzz_write_file(dfd, "version", version, sizeof(version) - 1);
        }
        fuzz_write_file(dfd, top, text[0], len[0]);
        for (size_t i = 1; i < in.n; i++) {
                char name[128];
                snprintf(name, sizeof(name), "blobs/sha256/%s", hex[i]);
                fuzz_write_file(dfd, name, text[i], len[i]);
                fuzz_write_file(dfd, hex[i], text[i], len[i]);
                snprintf(name, sizeof(name), "%s.json", hex[i]);
                fuzz_write_file(dfd, name, text[i], len[i]);
                image_config_t c = { 0 };
                husk_error_t err = { 0 };
                if (image_config_parse(text[i], "blob", &c, &err) == 0)
                        image_config_done(&c);
        }
        close(dfd);

        image_source_t src;
        husk_error_t err = { 0 };
        /* The archive's entry count and any staged copy are bounded as a load bounds them. */
        const layer_limits_t lim = { .max_entry = 1 << 20, .max_total = 8 << 20,
                                     .max_entries = 100000, .space_fd = -1 };
        if (image_source_open(dir, -1, &lim, &src, &err) == 0) {
                image_plan_t *v = NULL;
                size_t n = 0;
                if (image_source_plan(&src, "linux/amd64", &v, &n, &err) == 0) {
                        check_plans(&src, v, n);
                        image_plan_free(v, n);
                        free(v);
                } else if (getenv("FUZZ_DEBUG")) {
                        fprintf(stderr, "plan: %s\n", err.msg);
                }
                image_source_close(&src);
        } else if (getenv("FUZZ_DEBUG")) {
                fprintf(stderr, "open: %s\n", err.msg);
        }
        for (size_t i = 0; i < in.n; i++)
                free(text[i]);
        fuzz_parts_free(&in);
        return 0;
}
