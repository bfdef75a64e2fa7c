/*
 * Opening a plugin's own SQLite database the same way everywhere: create if
 * missing, a busy timeout, the caller's pragmas (journal mode, synchronous,
 * foreign keys), and a schema versioned by PRAGMA user_version. A file
 * written by a newer dengon (higher version) is refused rather than used
 * with a schema this code does not know. Plain SQLite, no host API: store
 * modules that are unit-tested on their own link it.
 */
#ifndef DG_PLUGIN_SQLITE_DB_H
#define DG_PLUGIN_SQLITE_DB_H

#include <sqlite3.h>
#include <stddef.h>

/*
 * Opens path and brings it to schema version `version` by running
 * schema_sql (idempotent: CREATE ... IF NOT EXISTS) and setting
 * user_version, in one transaction. pragmas runs first (may be NULL).
 * Returns the connection, or NULL with a one-line reason in err.
 */
sqlite3 *dg_sqlite_open(const char *path, const char *pragmas, int busy_ms, int version,
                        const char *schema_sql, char *err, size_t errlen);

/* Binds v as text, or NULL when v is NULL. */
void dg_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Steps a statement that returns no rows, then finalizes it; 0 or -1. st may be NULL (-1). */
int dg_sqlite_run(sqlite3_stmt *st);
/* A copy of column i as text, NULL when NULL (or out of memory). */
char *dg_sqlite_col_dup(sqlite3_stmt *st, int i);

#endif
