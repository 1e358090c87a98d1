/* SPDX-License-Identifier: Apache-2.0 */
/* `husk image ...`: load, ls, inspect, rm, prune. */
#ifndef HUSK_CLI_IMAGE_H
#define HUSK_CLI_IMAGE_H

#include "husk/husk.h"

/* argv[0] is "image". Returns the process exit status. */
int cli_image(const husk_global_t *g, int argc, char **argv);

#endif
