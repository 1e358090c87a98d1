/* SPDX-License-Identifier: Apache-2.0 */
/* Schema helpers shared by the server's SQLite stores (src/fn/db.c, src/gw/store.c). */
#pragma once
#include <sqlite3.h>
#include <stddef.h>

/* A column added to a table after a store's first release. */
typedef struct db_column {
        const char *table, *column, *decl; /* decl: type and default, e.g. "INTEGER NOT NULL DEFAULT 0" */
} db_column;

/* Adds each column its table lacks (a store made by an older husk gets them, with their
 * defaults, when it is opened). 0, or -1 with *msg set by sqlite3_exec. */
int db_add_columns(sqlite3 *db, const db_column *cols, size_t n, char **msg);
