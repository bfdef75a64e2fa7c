#include "fcrypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "server.h"

/* Takes the provider for one use; false when there is none. */
static bool hold(fl_state *st, const dg_files_crypto_hooks **h, void **user)
{
    pthread_mutex_lock(&st->fc_lock);
    *h = st->fc_hooks;
    *user = st->fc_user;
    if (*h)
        st->fc_users++;
    pthread_mutex_unlock(&st->fc_lock);
    return *h != NULL;
}

/* After a hook made a stream: false when the provider is being removed
 * meanwhile (its transfers were already told to stop; this one must not start). */
static bool still_there(fl_state *st)
{
    pthread_mutex_lock(&st->fc_lock);
    bool there = st->fc_hooks != NULL;
    pthread_mutex_unlock(&st->fc_lock);
    return there;
}

static void let_go(fl_state *st)
{
    pthread_mutex_lock(&st->fc_lock);
    st->fc_users--;
    pthread_cond_broadcast(&st->fc_cond);
    pthread_mutex_unlock(&st->fc_lock);
}

static int set_provider(void *self, const dg_files_crypto_hooks *hooks, void *user)
{
    fl_state *st = self;
    if (hooks &&
        (hooks->struct_size < sizeof(uint32_t) || !DG_FILES_CRYPTO_HAS(hooks, stream_free)))
        return -1;
    pthread_mutex_lock(&st->fc_lock);
    if (hooks && st->fc_hooks && st->fc_hooks != hooks) {
        pthread_mutex_unlock(&st->fc_lock);
        return -1;
    }
    st->fc_hooks = hooks;
    st->fc_user = hooks ? user : NULL;
    pthread_mutex_unlock(&st->fc_lock);
    if (hooks)
        return 0;
    /* Removal: the encrypted transfers stop (their sockets are shut down),
     * then nothing of the provider may run any more. */
    server_stop_encrypted(st);
    jobs_stop_encrypted(st);
    pthread_mutex_lock(&st->fc_lock);
    while (st->fc_users > 0)
        pthread_cond_wait(&st->fc_cond, &st->fc_lock);
    pthread_mutex_unlock(&st->fc_lock);
    return 0;
}

int fcrypto_provide(fl_state *st)
{
    st->fc_service = (dg_files_crypto_v1){
        .struct_size = sizeof(dg_files_crypto_v1),
        .self = st,
        .set_provider = set_provider,
    };
    return st->api->service_provide(st->ctx, DG_FILES_CRYPTO_SERVICE, DG_FILES_CRYPTO_VERSION,
                                    &st->fc_service, sizeof st->fc_service) == DG_OK
               ? 0
               : -1;
}

int fcrypto_seal(fl_state *st, const char *peer, uint32_t req_pkt, uint32_t share_pkt,
                 uint32_t file_id, bool has_offset, uint64_t offset, dg_files_crypto_sealed *out,
                 fl_cipher *c, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    memset(c, 0, sizeof *c);
    const dg_files_crypto_hooks *h;
    void *user;
    if (!peer || !hold(st, &h, &user))
        return 0;
    int rc = DG_FILES_CRYPTO_HAS(h, seal_request)
                 ? h->seal_request(user, peer, req_pkt, share_pkt, file_id, has_offset, offset, out,
                                   err, errlen)
                 : 0;
    if (rc == 1 && (!out->extra || !out->stream)) {
        /* A sealed request always asks for the encrypted stream here. */
        snprintf(err, errlen, "the encryption provider sealed no stream");
        rc = -1;
    } else if (rc == 1 && !still_there(st)) {
        snprintf(err, errlen, "file encryption stopped");
        rc = -1;
    }
    if (rc != 1) {
        free(out->extra);
        out->extra = NULL;
        if (out->stream)
            h->stream_free(out->stream);
        out->stream = NULL;
        let_go(st);
        return rc < 0 ? -1 : 0;
    }
    c->h = h;
    c->s = out->stream;
    return 1;
}

int fcrypto_open(fl_state *st, dg_file_request *req, ipmsg_slice packet_no, const char *address,
                 bool *verified, char *peer_key, size_t keycap, fl_cipher *c, char *err,
                 size_t errlen)
{
    memset(c, 0, sizeof *c);
    *verified = false;
    peer_key[0] = '\0';
    const dg_files_crypto_hooks *h;
    void *user;
    if (!hold(st, &h, &user)) {
        snprintf(err, errlen, "encrypted request, and file encryption is not available");
        return -1;
    }
    if (!DG_FILES_CRYPTO_HAS(h, open_request)) {
        let_go(st);
        snprintf(err, errlen, "encrypted request, and the provider cannot open it");
        return -1;
    }
    const ipmsg_packet *p = &req->pkt;
    char peer[300];
    snprintf(peer, sizeof peer, "%.*s@%.*s", (int)p->user.len, p->user.ptr, (int)p->host.len,
             p->host.ptr);
    dg_files_crypto_request r = {0};
    int rc = h->open_request(user, peer, address, packet_no.ptr, packet_no.len, p->command,
                             p->extra.ptr, p->extra.len, &r, err, errlen);
    if (rc == 0 && r.stream && !still_there(st)) {
        snprintf(err, errlen, "file encryption stopped");
        rc = -1;
    }
    if (rc != 0) {
        if (r.stream)
            h->stream_free(r.stream);
        let_go(st);
        return -1;
    }
    req->req.share_pkt = r.share_pkt;
    req->req.file_id = r.file_id;
    req->req.has_offset = r.has_offset != 0;
    req->req.offset = r.offset;
    *verified = r.verified != 0 && r.peer[0];
    if (*verified)
        snprintf(peer_key, keycap, "%s", r.peer);
    if (!r.stream) {
        let_go(st);
        return 0;
    }
    c->h = h;
    c->s = r.stream;
    return 0;
}

int fcrypto_apply(fl_cipher *c, void *buf, size_t len)
{
    if (!c->s || len == 0)
        return 0;
    return c->h->stream_apply(c->s, buf, len) == 0 ? 0 : -1;
}

void fcrypto_end(fl_state *st, fl_cipher *c)
{
    if (!c->h)
        return;
    if (c->s)
        c->h->stream_free(c->s);
    c->h = NULL;
    c->s = NULL;
    let_go(st);
}
