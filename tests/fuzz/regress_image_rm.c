/* SPDX-License-Identifier: Apache-2.0 */
/* Regression (found by building libhusk with clang for tools/fuzz): husk_image_rm's early error
 * paths ("image not found") jumped over the initialisation of a cleanup variable, so the
 * function freed an uninitialised stack pointer on return. The stack is filled with a
 * non-NULL pattern first so that the stale value is a bad pointer: before the fix, free()
 * aborts (or valgrind reports "Invalid free()"). TAP output. */
#include "husk/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Leaves the pattern in the stack area the next call reuses. */
static void __attribute__((noinline)) poison_stack(void)
{
        volatile char junk[16384];
        memset((char *)junk, 0x41, sizeof(junk));
        __asm__ volatile("" : : "r"(junk) : "memory");
}

static int __attribute__((noinline)) rm_missing(const char *store)
{
        husk_image_opts_t o = { .store = store };
        husk_error_t err = { 0 };
        char *id = NULL;
        int r = husk_image_rm(&o, "no-such-image:latest", &id, &err);
        free(id);
        return r;
}

int main(void)
{
        char store[] = "/tmp/husk-regress-XXXXXX";
        if (!mkdtemp(store)) {
                printf("Bail out! mkdtemp\n");
                return 1;
        }
        printf("1..1\n");
        fflush(stdout);
        int bad = 0;
        for (int i = 0; i < 8; i++) {
                poison_stack();
                if (rm_missing(store) >= 0)
                        bad = 1;
        }
        printf("%s 1 - image rm of a missing image fails cleanly (no free of a stale pointer)\n",
               bad ? "not ok" : "ok");
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store);
        if (system(cmd) != 0)
                bad = 1;
        return bad;
}
