/* SPDX-License-Identifier: Apache-2.0 */
/* seccomp-bench: time compiling a seccomp profile with libseccomp against loading the compiled
 * program from husk's cache, i.e. what a repeated `husk create` saves.
 *   usage: seccomp-bench [PROFILE.json|-] [ITERATIONS]
 *          seccomp-bench --print-default     (prints the default profile, for the tests)
 * PROFILE.json is an OCI linux.seccomp object (default or "-": the profile `husk spec` writes). */
#include "seccomp-json.h"
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>

static double per_run_us(uint64_t ns, int n)
{
        return (double)ns / 1000.0 / n;
}

int main(int argc, char **argv)
{
        _cleanup_free_ char *json = NULL;
        size_t len = 0;
        int iters = 200;
        if (argc > 1 && strcmp(argv[1], "--print-default") == 0) {
                json = seccomp_default_profile_json();
                fputs(json, stdout);
                return 0;
        }
        if (argc > 1 && strcmp(argv[1], "-") != 0) {
                if (read_file_at(AT_FDCWD, argv[1], 16 << 20, &json, &len) < 0) {
                        fprintf(stderr, "seccomp-bench: cannot read %s\n", argv[1]);
                        return 1;
                }
        } else {
                json = seccomp_default_profile_json();
        }
        if (argc > 2 && (parse_int(argv[2], &iters) < 0 || iters <= 0)) {
                fprintf(stderr, "seccomp-bench: bad iteration count %s\n", argv[2]);
                return 1;
        }
        config_seccomp *s = test_seccomp_from_json(json);
        if (!s) {
                fprintf(stderr, "seccomp-bench: not an OCI seccomp object\n");
                return 1;
        }
        char dir[] = "/tmp/husk-seccomp-bench.XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        husk_error_t err = { 0 };
        seccomp_prog *p = NULL;
        size_t rules = 0;
        for (size_t i = 0; i < s->n_syscalls; i++)
                rules += s->syscalls[i].n_names;

        uint64_t t0 = now_ns();
        for (int i = 0; i < iters; i++) {
                if (seccomp_compile_cache(s, NULL, &p, &err) < 0) {
                        fprintf(stderr, "seccomp-bench: %s\n", err.msg);
                        return 1;
                }
                if (i + 1 < iters)
                        seccomp_prog_free(p);
        }
        uint64_t compile_ns = now_ns() - t0;
        size_t insns = p->len;
        seccomp_prog_free(p);

        /* First call fills the cache; then only hits. */
        if (seccomp_compile_cache(s, dir, &p, &err) < 0 || p->cached)
                return 1;
        seccomp_prog_free(p);
        t0 = now_ns();
        for (int i = 0; i < iters; i++) {
                if (seccomp_compile_cache(s, dir, &p, &err) < 0 || !p->cached) {
                        fprintf(stderr, "seccomp-bench: cache miss\n");
                        return 1;
                }
                seccomp_prog_free(p);
        }
        uint64_t cached_ns = now_ns() - t0;

        t0 = now_ns();
        char key[65];
        for (int i = 0; i < iters; i++)
                seccomp_cache_key(s, key);
        uint64_t key_ns = now_ns() - t0;

        printf("profile: %zu syscall entries, %zu names, %zu BPF instructions\n", s->n_syscalls,
               rules, insns);
        printf("compile (libseccomp + export): %8.1f us\n", per_run_us(compile_ns, iters));
        printf("cached load (key + read):      %8.1f us (of which key %.1f us)\n",
               per_run_us(cached_ns, iters), per_run_us(key_ns, iters));
        printf("speed-up: %.1fx over %d iterations\n", (double)compile_ns / (double)cached_ns,
               iters);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "seccomp-bench: could not remove %s\n", dir);
        test_seccomp_free(s);
        return 0;
}
