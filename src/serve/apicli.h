/* SPDX-License-Identifier: Apache-2.0 */
/* `husk api ...` (apicli.c): argv after "api"; returns the exit status. */
#ifndef HUSK_SERVE_APICLI_H
#define HUSK_SERVE_APICLI_H

int apicli_main(int argc, char **argv);

#endif
