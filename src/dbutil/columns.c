/* SPDX-License-Identifier: Apache-2.0 */
#include "columns.h"
#include "util/util.h"

int db_add_columns(sqlite3 *db, const db_column *cols, size_t n, char **msg)
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *probe = xasprintf("SELECT %s FROM %s LIMIT 0", cols[i].column,
                                                       cols[i].table);
                sqlite3_stmt *st = NULL;
                int r = sqlite3_prepare_v2(db, probe, -1, &st, NULL);
                sqlite3_finalize(st);
                if (r == SQLITE_OK)
                        continue;
                _cleanup_free_ char *alter = xasprintf("ALTER TABLE %s ADD COLUMN %s %s",
                                                       cols[i].table, cols[i].column, cols[i].decl);
                if (sqlite3_exec(db, alter, NULL, NULL, msg) != SQLITE_OK)
                        return -1;
        }
        return 0;
}
