/*
 * users.directory@1: the users plugin's persistent directory as a service,
 * for plugins that must name people who are not online now (the offline
 * queue: `dengon queue send NICKNAME` right after a restart, when the chat
 * transport only knows the users seen since it started).
 *
 * A table that only grows at its end (struct_size tells which members the
 * provider set). Every function runs on the loop thread.
 */
#ifndef DENGON_USERS_DIRECTORY_H
#define DENGON_USERS_DIRECTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DG_USERS_DIRECTORY_SERVICE "users.directory"
#define DG_USERS_DIRECTORY_VERSION 1

typedef struct dg_users_directory_v1 {
    uint32_t struct_size;
    void *self; /* pass as the first argument of every function */
    /*
     * The user who names (nickname, user@host or address), as users.get
     * returns it (new reference; "key" is the user@host), or NULL with the
     * reason in err (unknown, or a nickname several users have).
     */
    json_t *(*resolve)(void *self, const char *who, char *err, size_t errlen);
} dg_users_directory_v1;

#endif
