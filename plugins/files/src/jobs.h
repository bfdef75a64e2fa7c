/*
 * Received offers and downloads: the chat.message.received subscriber that
 * stores offers (files.offer), and files.accept / reject / cancel. Each
 * accepted offer is downloaded by one worker thread (fetch.c); a download
 * still running when the daemon stops (or is killed) resumes at the next
 * start from the bytes already in its ".part" files.
 */
#ifndef DG_FL_JOBS_H
#define DG_FL_JOBS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "attach.h"
#include "fcrypto.h"
#include "safename.h"
#include "state.h"

/* Receive buffer of one download: memory stays bounded whatever the size. */
#define FL_BUF (256u * 1024u)

typedef struct fl_job {
    struct fl_job *next;
    fl_state *st;
    int64_t offer;
    uint32_t ip, packet_no;
    uint16_t port;
    int dirfd;
    dg_attach_list list;
    uint64_t total; /* set before the worker starts, read-only after */
    /* Bytes of this offer on disk (resumed ones included): written by the
     * worker, read by files.list on the loop thread. */
    _Atomic uint64_t bytes;
    uint64_t session, start_ms, last_ms; /* worker only */
    unsigned skipped;
    atomic_int sock;
    atomic_bool cancel, finished;
    char *peer; /* the offer's sender (user@host): the files.crypto provider seals for it */
    /* The request of the current entry (worker only): its packet number and,
     * when the provider sealed it, the encrypted extra and the cipher. */
    uint32_t req_pkt;
    bool sealed_ok;
    dg_files_crypto_sealed sealed;
    fl_cipher cipher;
    atomic_bool encrypted; /* a request of this download was (or is being) sealed */
    atomic_bool nocrypto;  /* stopped because the provider went away */
    pthread_t th;
    char *buf;
    char reason[512];
} fl_job;

/* chat.message.received with "attachments". */
void jobs_on_message(fl_state *st, const json_t *payload);
/* files.accept: 0, or -1 with err. dest NULL = the configured folder. */
int jobs_accept(fl_state *st, int64_t id, const char *dest, char *err, size_t errlen);
int jobs_reject(fl_state *st, int64_t id, char *err, size_t errlen);
int jobs_cancel(fl_state *st, int64_t id, char *err, size_t errlen);
/* At start: downloads that were running resume. */
void jobs_resume(fl_state *st);
/* Joins finished download threads and records their end (loop thread). */
void jobs_reap(fl_state *st);
/* The files.crypto provider goes: downloads using it stop (they fail). */
void jobs_stop_encrypted(fl_state *st);
/* At stop: stops every download (kept "downloading" for the next start) and joins. */
void jobs_stop(fl_state *st);
/* Running downloads: [{"id","bytes","total","encrypted"}]. */
json_t *jobs_json(fl_state *st);

/* Adds "encrypted" to the offers (files.list) whose download ran in this
 * process: true when the provider encrypted it (§6.6). */
void jobs_mark_encryption(fl_state *st, json_t *offers);

/* The worker (fetch.c). */
void *fetch_main(void *job);
/* "<name>.part" for a safe name, cut so it stays one component of at most
 * DG_SAFENAME_MAX bytes (out has DG_SAFENAME_MAX + 1). */
void fetch_part_name(const char *name, char *out);

#endif
