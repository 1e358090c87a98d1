/* SPDX-License-Identifier: Apache-2.0 */
/* Test driver: runs `husk image ...` (src/cli/image.c) before the CLI's command table has it.
 * usage: husk-image [--store DIR] COMMAND ... (same as `husk image`) */
#include "../../src/cli/image.h"

int main(int argc, char **argv)
{
        husk_global_t g = { 0 };
        argv[0] = "image";
        return cli_image(&g, argc, argv);
}
