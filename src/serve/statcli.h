/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn stats [NAME]` and `husk queue stats [NAME]` (statcli.c): the running server's
 * /metrics (read unsigned, as Prometheus does) shown per function or per queue, as a table or
 * as JSON. They return the exit status (0, or 1 with the reason printed). */
#ifndef HUSK_SERVE_STATCLI_H
#define HUSK_SERVE_STATCLI_H

#include <stdbool.h>

/* name NULL: every function (every queue) the server reports. */
int statcli_functions(const char *endpoint, const char *name, bool json);
int statcli_queues(const char *endpoint, const char *name, bool json);

#endif
