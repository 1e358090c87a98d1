/* SPDX-License-Identifier: Apache-2.0 */
/* `husk system prune`: remove every leftover of dead containers (husk_system_prune) and print
 * one line for each thing removed. */
#include "cli.h"
#include "husk/service.h"
#include "util/util.h"

#include <string.h>

static void print_removed(void *ud, const char *what)
{
        (void)ud;
        printf("Removed %s\n", what);
}

int cmd_system(cli_ctx *c, int argc, char **argv)
{
        const char *store = NULL;
        const cli_opt opts[] = {
                { "store", 0, OPT_STRING, &store, "image store (default $HUSK_STORE or /var/lib/husk)" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (npos != 1 || strcmp(p[0], "prune") != 0)
                return cli_fail(c, "system: usage: husk system prune [--store DIR]");
        husk_error_t err = { 0 };
        size_t n = 0;
        r = husk_system_prune(&c->g, store, print_removed, NULL, &n, &err);
        if (n == 0 && r == 0)
                printf("Nothing to remove\n");
        if (r < 0)
                return cli_fail_err(c, &err);
        return 0;
}
