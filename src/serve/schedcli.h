/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn schedule ...` (schedcli.c): argv after "schedule"; returns the exit status. */
#ifndef HUSK_SERVE_SCHEDCLI_H
#define HUSK_SERVE_SCHEDCLI_H

int schedcli_main(int argc, char **argv);

#endif
