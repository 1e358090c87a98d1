/* SPDX-License-Identifier: Apache-2.0 */
/* `husk queue ...` (qcli.c): argv after "queue"; returns the exit status. */
#ifndef HUSK_SERVE_QCLI_H
#define HUSK_SERVE_QCLI_H

int qcli_main(int argc, char **argv);

#endif
