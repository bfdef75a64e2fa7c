/*
 * Service "chat.transport", version 1: what the ipmsg plugin offers other
 * plugins (rooms, the offline queue, the server connector) that must send a
 * message or look a user up without going through JSON RPC. Obtain it with
 *
 *     size_t size;
 *     const dg_chat_transport_v1 *t = api->service_require(ctx, "chat.transport", 1, &size);
 *
 * and list "chat.transport@1" in the manifest's requires or optional. Like
 * dg_host_api, the table only grows at its end (the version stays 1): check
 * size with DG_CHAT_TRANSPORT_HAS before calling a member added after the
 * first release (send_files and later). Every function runs on the loop
 * thread.
 */
#ifndef DENGON_CHAT_TRANSPORT_H
#define DENGON_CHAT_TRANSPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <dengon/chat_crypto.h>

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

    /* ---- appended for files (issue 4): check with DG_CHAT_TRANSPORT_HAS ---- */

    /*
     * Like send, with a FILEATTACHOPT attach list (docs/protocol/files-codec.md,
     * UTF-8, the Windows form dg_attach_format writes) after the message's NUL:
     * SENDMSG|SENDCHECKOPT|FILEATTACHOPT, converted to the legacy code page
     * for peers that do not speak UTF-8, as the text is. text may be empty.
     * Returns the message id, which is the packet number peers quote in
     * GETFILEDATA/GETDIRFILES/RELEASEFILES, or 0 with a reason in err.
     */
    uint32_t (*send_files)(void *self, const char *const *to, size_t n, const char *text,
                           const char *attach_list, char *err, size_t errlen);
    /*
     * The bound IPv4 address ("0.0.0.0" when bound to all) and the IPMsg
     * port: the TCP file service listens on the same number (§5.2).
     * 0, or -1 when addr is too small.
     */
    int (*endpoint)(void *self, char *addr, size_t addrlen, uint16_t *port);
    /*
     * Sends RELEASEFILES for packet_no (an offer we received) to who
     * (user@host, address or nickname). 0, or -1 when who is unknown.
     */
    int (*release_files)(void *self, const char *who, uint32_t packet_no);
    /*
     * Advertises (on != 0) or withdraws status bits in our entry packets.
     * Only IPMSG_FILEATTACHOPT (0x00200000) and IPMSG_CAPFILEENCOPT
     * (0x00040000) are accepted: the files plugin sets the first while it
     * can receive, so peers do not offer files nobody can take; the
     * encrypted file transfer (filecrypt) the second while it runs (§6.6).
     * A change is announced with a BR_ABSENCE round (§4.2).
     * 0, or -1 for other bits.
     */
    int (*set_capability)(void *self, uint32_t bits, int on);

    /* ---- appended for encryption (issue 4): check with DG_CHAT_TRANSPORT_HAS ---- */

    /*
     * Installs a crypto provider (chat_crypto.h); hooks NULL removes it (held
     * messages then fail). Only one provider: -1 when another one is set.
     * The hooks table must stay valid until removed. Our status changes are
     * announced with a BR_ABSENCE round. Installing the same table with the
     * same user again is how a provider says its status_bits changed (its
     * keys became ready): 0, and the change is announced.
     */
    int (*set_crypto)(void *self, const dg_chat_crypto_hooks *hooks, void *user);
    /*
     * Sends GETPUBKEY with extra (our capability, "%X") to who (user@host,
     * address or nickname), with AUTORETOPT when autoret. 0, or -1 when who
     * is unknown or our logon name is not settled yet (the name waits for
     * name_suffix, chat_crypto.h): on_peer comes again after our BR_ENTRY.
     */
    int (*request_key)(void *self, const char *who, const char *extra, int autoret);
    /*
     * Asks encrypt again (final = 1) for every recipient held by a WAIT for
     * who (a user@host key): the key arrived or the provider gave up waiting.
     */
    void (*resume_crypto)(void *self, const char *who);

    /* ---- appended for rooms and the outbox (ADR 0008): check with DG_CHAT_TRANSPORT_HAS ---- */

    /*
     * send with options. flags: DG_CHAT_SEND_SEALED. via (a plugin id, or
     * NULL): the chat.message.delivered / .failed events of this message
     * carry "via": via, so that subscribers that only follow chat.send's
     * messages (the history) know it is not one of them and need not wait
     * for a chat.message.sent that never comes. Returns like send.
     */
    uint32_t (*send_ex)(void *self, const char *const *to, size_t n, const char *text,
                        uint32_t flags, const char *via, char *err, size_t errlen);
    /* Every user the transport knows, as ipmsg.peers lists them (new reference, an array). */
    json_t *(*list_users)(void *self);
} dg_chat_transport_v1;

/* send_ex flags. */
#define DG_CHAT_SEND_SEALED 0x1u /* sealed (SECRETOPT|READCHECKOPT): opened with dengon read */

/* True when the provider's table (of size bytes) has member and it is set. */
#define DG_CHAT_TRANSPORT_HAS(t, size, member)                                                     \
    ((t) != NULL &&                                                                                \
     offsetof(dg_chat_transport_v1, member) + sizeof((t)->member) <= (size_t)(size) &&             \
     (t)->member != NULL)

#endif
