/* SPDX-License-Identifier: Apache-2.0 */
/* `husk run [OPTIONS] IMAGE|FILE.tar [COMMAND [ARG...]]`: the image mode of `husk run`. */
#ifndef HUSK_CLI_RUN_IMAGE_H
#define HUSK_CLI_RUN_IMAGE_H

#include "cli.h"

/* True when argv (argv[0] = "run") asks for the image mode: an image-only option, a COMMAND
 * after the first argument, or a single argument that names an archive or a stored image while
 * the current directory has no config.json. `run -b BUNDLE ID` and the runc flags never do. */
bool cli_run_wants_image(int argc, char **argv);
/* The image mode's options, after the runc-style usage of `husk run --help`. */
void cli_run_image_usage(void);
/* Returns the process exit status (the workload's when it ran in the foreground). */
int cli_run_image(cli_ctx *c, int argc, char **argv);

#endif
