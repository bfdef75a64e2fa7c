#include "sqlite_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int user_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
                     sqlite3_step(st) == SQLITE_ROW
                 ? 0
                 : -1;
    if (rc == 0)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

sqlite3 *dg_sqlite_open(const char *path, const char *pragmas, int busy_ms, int version,
                        const char *schema_sql, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, busy_ms);
    int found = 0;
    if ((pragmas && exec(db, pragmas) != 0) || user_version(db, &found) != 0) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    if (found > version) {
        snprintf(err, errlen, "%s has schema version %d; this dengon knows %d (newer data)", path,
                 found, version);
        sqlite3_close(db);
        return NULL;
    }
    char set_version[48];
    snprintf(set_version, sizeof set_version, "PRAGMA user_version=%d", version);
    if (exec(db, "BEGIN") || exec(db, schema_sql) || exec(db, set_version) || exec(db, "COMMIT")) {
        snprintf(err, errlen, "%s: cannot create the schema: %s", path, sqlite3_errmsg(db));
        exec(db, "ROLLBACK");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

void dg_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int dg_sqlite_run(sqlite3_stmt *st)
{
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

char *dg_sqlite_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}
