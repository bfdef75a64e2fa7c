/*
 * The plugin's one state object, shared by its modules. Everything runs on
 * the host's loop thread (plugin.h), so there are no locks.
 */
#ifndef DG_IPM_STATE_H
#define DG_IPM_STATE_H

#include <dengon/plugin.h>
#include <stdbool.h>
#include <stdint.h>

#include <dengon/chat_transport.h>

#include "charset.h"
#include "dedup.h"
#include "inbox.h"
#include "pktno.h"
#include "settings.h"
#include "users.h"

/* Counters shown by RPC ipmsg.stats. */
typedef struct ipm_stats {
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, tx_errors;
    uint64_t malformed;   /* did not parse (syntax, version, names) */
    uint64_t oversize;    /* longer than the 32 KiB Windows limit (§1.1) */
    uint64_t unknown;     /* parsed, but a command we do not know */
    uint64_t unsupported; /* known but not handled here: v4 IPDict, member master, iptux private */
    uint64_t own;         /* our own broadcasts coming back */
    uint64_t duplicates;  /* repeated SENDMSG/READMSG (§1.2) */
    uint64_t acks_sent;   /* RECVMSG */
    uint64_t retries;     /* resent SENDMSG/READMSG */
    uint64_t delivered, failed, opened;
    uint64_t received; /* messages put in the inbox */
    uint64_t consumed; /* messages another plugin took (its interceptor vetoed them) */
} ipm_stats;

struct ipm_pending;
struct ipm_sent;
struct ipm_away;
struct ipm_listx;
struct ipm_ifwatch;
struct ipm_held;

typedef struct ipm_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    ipm_settings cfg;
    ipmsg_charset *cs;

    int fd; /* UDP socket; owned by the host through io */
    dg_io *io;

    /* Who we are on the wire (':' already replaced, never empty, §1.2).
     * user is the logon name: base_user, plus "-<fingerprint>" when the
     * crypto provider gives one (§6.4, fpname.h); key is user@host. */
    char *user, *host, *key;
    char *base_user; /* identity.user as configured */
    /* The logon name waits for the provider (fpname.h): no BR_ENTRY,
     * ANSENTRY or BR_ABSENCE goes out meanwhile, so no peer sees two names. */
    bool name_wait;
    bool name_fixed; /* decided for this run */
    bool entry_due;  /* an announce was put off by name_wait */
    dg_timer *name_timer;
    char *nickname, *group;
    char uuid[37];
    char version[64]; /* SENDINFO text */

    ipmsg_pktno pktno;   /* packet numbers (§1.2) */
    ipmsg_pktno msg_ids; /* local inbox ids */

    ipm_users users;
    ipm_dedup dedup;
    ipm_inbox inbox;
    struct ipm_pending *pending;      /* packets waiting for an ack (outbox.h), newest first */
    struct ipm_pending *pending_tail; /* the oldest: acks mostly come in sending order */
    struct ipm_sent *sent;            /* sent messages and their recipients (sent.h) */
    size_t sent_count;                /* length of the sent list */
    size_t sent_trim_at;              /* sent_trim walks the list only from this length on */
    char *tx_legacy, *tx_utf8;        /* IPM_TX_MAX each: the datagrams being built (messages.c) */
    struct ipm_away *away;            /* absence mode, manual or after idle time (absence.h) */
    struct ipm_listx *listx;          /* host list exchange, requester and server (listx.h) */
    struct ipm_ifwatch *ifwatch;      /* address change notifications (ifwatch.h) */
    /* Hosts learned from a list server (§4.5). They may sit on another
     * segment that no broadcast reaches, so entry, absence and exit rounds go
     * to them by unicast (net_entry_targets). */
    ipm_addr_list list_peers;
    /* Peers with an ANSENTRY waiting for its random delay: a second BR_ENTRY
     * from them (sent to 255.255.255.255 and to the directed broadcast, say)
     * gets no second answer, like Windows' answer queue (§4.1 step 3). */
    ipm_addr_list answering;

    dg_chat_transport_v1 transport; /* the service table: valid until stop */
    dg_timer *announce_timer;
    uint64_t started_ms; /* ipm_mono_ms() at start: a list server answers only after warming up */
    uint64_t announces;  /* announce rounds (BR_ENTRY or a host list exchange) */
    bool exit_sent;
    uint32_t caps; /* status bits other plugins asked for (set_capability: FILEATTACHOPT) */
    /* The crypto provider (set_crypto, chat_crypto.h) and the messages held
     * for a peer's key (cryptohook.c). */
    const dg_chat_crypto_hooks *crypto;
    void *crypto_user;
    struct ipm_held *held;
    ipm_stats stats;
} ipm_state;

/* Unix seconds. */
int64_t ipm_now(void);
/* Milliseconds of a monotonic clock (idle time, warm-up): immune to clock changes. */
uint64_t ipm_mono_ms(void);

#endif
