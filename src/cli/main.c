/* SPDX-License-Identifier: Apache-2.0 */
/* husk command line: the command table. Each command lives in its own file (owner: cli). */
#include "husk/husk.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
        if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
                fputs(husk_version(), stdout);
                return 0;
        }
        fprintf(stderr, "husk: no command given (try --version)\n");
        return 1;
}
