/*
 * The directory on disk: <data_dir>/users.sqlite, one row per user (schema in
 * store.c and ADR 0009). WAL journal, synchronous=NORMAL: a crash loses at
 * most the last moments, never the file. The schema has a version
 * (PRAGMA user_version) and the file an application id, so a newer or a
 * foreign file is refused with a clear error instead of being rewritten.
 *
 * All SQL of the plugin is here. A store is used by one thread at a time
 * (the loop thread loads it, then only the writer thread writes).
 */
#ifndef DG_USERS_STORE_H
#define DG_USERS_STORE_H

#include <stddef.h>

#include "dir.h"

#define US_SCHEMA_VERSION 1
#define US_APPLICATION_ID 0x44475553 /* "DGUS" */

typedef struct us_store us_store;

/* Opens or creates the file. 0, or -1 with "<path>: <reason>" in err. */
int us_store_open(const char *path, us_store **out, char *err, size_t errlen);
void us_store_close(us_store *s);

/*
 * Adds every stored user to d (status as last stored). Rows that cannot be
 * used (empty user or host, key not user@host) stay in the file untouched
 * and are counted in *skipped. 0, or -1 with the reason in err.
 */
int us_store_load(us_store *s, us_dir *d, size_t *skipped, char *err, size_t errlen);

/* Writes u (insert or replace by key). 0, or -1 with the reason in err. */
int us_store_put(us_store *s, const us_user *u, char *err, size_t errlen);
/* Deletes the row of key (case-insensitive); no row is not an error. */
int us_store_delete(us_store *s, const char *key, char *err, size_t errlen);

/* A transaction around several puts/deletes. 0, or -1 with the reason in err. */
int us_store_begin(us_store *s, char *err, size_t errlen);
int us_store_commit(us_store *s, char *err, size_t errlen);
void us_store_rollback(us_store *s);

#endif
