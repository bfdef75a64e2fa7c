/*
 * The files plugin's state (docs/protocol/files-plugin.md). Callbacks run on
 * the loop thread; the TCP service and the downloads run on worker threads
 * (one per connection, one per accepted offer) doing blocking I/O. What they
 * share is guarded: the share table by `lock`, the SQLite connection is
 * opened serialized (SQLITE_OPEN_FULLMUTEX), events go out with the
 * thread-safe publish.
 */
#ifndef DG_FL_STATE_H
#define DG_FL_STATE_H

#include <dengon/chat_transport.h>
#include <dengon/files_crypto.h>
#include <dengon/plugin.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct fl_share;
struct fl_conn;
struct fl_job;

typedef struct fl_settings {
    uint64_t max_size;  /* files.max_size: bytes per offer, 0 = no limit */
    char *blocked;      /* files.blocked_extensions: "exe,bat" */
    char *allowed;      /* files.allowed_extensions: "" = all */
    char *download_dir; /* files.download_dir resolved: absolute */
    int64_t expire_s;   /* files.share_expire_hours in seconds; 0 = never */
    int64_t timeout_s;  /* files.timeout_s: socket inactivity */
    bool auto_accept;   /* files.auto_accept */
} fl_settings;

typedef struct fl_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    const dg_chat_transport_v1 *t;
    size_t tsize;
    char user[128], host[128]; /* our wire names in file requests */
    fl_settings cfg;
    sqlite3 *db;

    pthread_mutex_t lock;    /* shares and conns */
    struct fl_share *shares; /* offers we sent */
    struct fl_conn *conns;   /* serving threads */
    size_t n_conns;
    dg_io *listen_io;
    bool listening;
    char bind_addr[64];
    uint16_t port;
    uint32_t local_ip; /* bind_addr in host order (0 = any): downloads connect from it */

    struct fl_job *jobs; /* downloads (loop thread only) */
    atomic_uint req_no;  /* packet numbers of our file requests */
    atomic_bool stopping;
    dg_timer *housekeeping;

    /* The files.crypto provider (fcrypto.c): set and removed on the loop
     * thread, held by transfer threads while they use it. */
    pthread_mutex_t fc_lock;
    pthread_cond_t fc_cond;
    const dg_files_crypto_hooks *fc_hooks;
    void *fc_user;
    unsigned fc_users;
    dg_files_crypto_v1 fc_service;
    /* Offer id -> true when its last download was encrypted (this run; loop thread). */
    json_t *encrypted;
} fl_state;

int64_t fl_now(void);
/* From a transfer thread that just set its finished flag: reaped soon on the loop. */
void fl_thread_finished(fl_state *st);
uint64_t fl_mono_ms(void);

#endif
