/*
 * Service "chat.transport", version 1: what the ipmsg plugin offers other
 * plugins (rooms, the offline queue, the server connector) that must send a
 * message or look a user up without going through JSON RPC. Obtain it with
 *
 *     size_t size;
 *     const dg_chat_transport_v1 *t = api->service_require(ctx, "chat.transport", 1, &size);
 *
 * and list "chat.transport@1" in the manifest's requires or optional. Like
 * dg_host_api, the table only grows at its end: check size before calling
 * a member added after version 1. Every function runs on the loop thread.
 */
#ifndef DENGON_CHAT_TRANSPORT_H
#define DENGON_CHAT_TRANSPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DG_CHAT_TRANSPORT_SERVICE "chat.transport"
#define DG_CHAT_TRANSPORT_VERSION 1

typedef struct dg_chat_transport_v1 {
    uint32_t struct_size;
    void *self; /* pass as the first argument of every function */
    /*
     * Sends text (UTF-8) to n recipients (user@host, address or nickname).
     * Returns the message id (as in chat.send; delivery is reported by
     * chat.message.delivered / chat.message.failed), or 0 with a reason in err.
     */
    uint32_t (*send)(void *self, const char *const *to, size_t n, const char *text, int sealed,
                     char *err, size_t errlen);
    /* The user as users.get returns it (new reference), or NULL if unknown. */
    json_t *(*user_get)(void *self, const char *who);
} dg_chat_transport_v1;

#endif
