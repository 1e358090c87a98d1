/* SPDX-License-Identifier: Apache-2.0 */
/* `husk image ...`: load, ls, inspect, rm, prune. */
#ifndef HUSK_CLI_IMAGE_H
#define HUSK_CLI_IMAGE_H

#include "husk/husk.h"

/* argv[0] is "image". Returns the process exit status. */
int cli_image(const husk_global_t *g, int argc, char **argv);
/* What husk-fn printed for argv (argv[0] "husk-fn"), or NULL when it could not run or failed
 * (src/cli/fn.c; `image rm` asks it which functions use an image). */
char *cli_fn_output(char *const *argv);

#endif
