/*
 * Schema of history.sqlite and its migrations. The table schema_version has
 * one row per migration applied; the database's version is the highest. A
 * database newer than this plugin is refused (an older plugin must not write
 * rows a newer schema does not expect), and every migration runs in one
 * transaction with the version row, so a crash leaves the old version whole.
 */
#ifndef DG_HIST_SCHEMA_H
#define DG_HIST_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct hist_migration {
    int version;     /* 1, 2, ... in order */
    const char *sql; /* statements that move the schema from version - 1 to version */
} hist_migration;

/* The plugin's migrations, oldest first; *n gets their count. */
const hist_migration *hist_schema_migrations(size_t *n);

/*
 * Brings db to the last version of list. *version gets the version reached.
 * Returns 0, or -1 with a one-line reason in err (also when the database is
 * newer than the list knows).
 */
int hist_schema_migrate(sqlite3 *db, const hist_migration *list, size_t n, int *version, char *err,
                        size_t errlen);

#endif
