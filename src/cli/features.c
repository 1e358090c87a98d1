/* SPDX-License-Identifier: Apache-2.0 */
/* features: the runtime-spec features document. */
#include "cli.h"
#include "util/util.h"

int cmd_features(cli_ctx *c, int argc, char **argv)
{
        const cli_opt opts[] = { { 0 } };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        free(pos);
        if (cli_want_args(c, npos, 0, 0) < 0)
                return 1;
        _cleanup_free_ char *json = husk_features_json();
        puts(json);
        return 0;
}
