#include "recent.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SENT_SLOTS 1024 /* a power of two: more than the messages in flight */
#define PEER_SLOTS 256
#define TEXT_MAX 96 /* longer keys and names are simply not remembered */

typedef struct sent_slot {
    int64_t msg_id, row; /* row 0 = empty */
    char transport[32];
} sent_slot;

typedef struct peer_slot {
    bool used;
    int64_t time;
    char peer[TEXT_MAX], nickname[TEXT_MAX], address[TEXT_MAX];
} peer_slot;

struct hist_recent {
    sent_slot sent[SENT_SLOTS];
    peer_slot peers[PEER_SLOTS];
};

hist_recent *hist_recent_new(void)
{
    return calloc(1, sizeof(hist_recent));
}

void hist_recent_free(hist_recent *r)
{
    free(r);
}

void hist_recent_clear(hist_recent *r)
{
    if (r)
        memset(r, 0, sizeof *r);
}

static size_t sent_slot_of(int64_t msg_id)
{
    return (size_t)((uint64_t)msg_id * 0x9E3779B97F4A7C15ull >> 54) & (SENT_SLOTS - 1);
}

void hist_recent_sent(hist_recent *r, const char *transport, int64_t msg_id, int64_t row)
{
    if (!r || strlen(transport) >= sizeof r->sent[0].transport)
        return;
    sent_slot *s = &r->sent[sent_slot_of(msg_id)];
    s->msg_id = msg_id;
    s->row = row;
    strcpy(s->transport, transport);
}

int64_t hist_recent_sent_row(const hist_recent *r, const char *transport, int64_t msg_id)
{
    if (!r)
        return 0;
    const sent_slot *s = &r->sent[sent_slot_of(msg_id)];
    return s->row && s->msg_id == msg_id && strcmp(s->transport, transport) == 0 ? s->row : 0;
}

/* Peer keys compare case-insensitively (COLLATE NOCASE): so does the slot choice. */
static size_t peer_slot_of(const char *peer)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)peer; *p; p++)
        h = (h ^ (uint32_t)tolower(*p)) * 16777619u;
    return h & (PEER_SLOTS - 1);
}

static bool fits(const char *s)
{
    return !s || strlen(s) < TEXT_MAX;
}

bool hist_recent_peer_fresh(const hist_recent *r, const char *peer, const char *nickname,
                            const char *address, int64_t time)
{
    if (!r || !fits(peer))
        return false;
    const peer_slot *s = &r->peers[peer_slot_of(peer)];
    return s->used && strcasecmp(s->peer, peer) == 0 &&
           (!nickname || strcmp(s->nickname, nickname) == 0) &&
           (!address || strcmp(s->address, address) == 0) &&
           time <= s->time + HIST_PEER_REFRESH_S; /* an older time changes nothing (max) */
}

void hist_recent_peer_written(hist_recent *r, const char *peer, const char *nickname,
                              const char *address, int64_t time)
{
    if (!r)
        return;
    peer_slot *s = &r->peers[peer_slot_of(peer)];
    bool same = s->used && strcasecmp(s->peer, peer) == 0;
    /* Names not given keep what the row holds: known only if this slot holds the peer. */
    if (!fits(peer) || !fits(nickname) || !fits(address) || (!same && (!nickname || !address))) {
        s->used = false;
        return;
    }
    strcpy(s->peer, peer);
    if (nickname)
        strcpy(s->nickname, nickname);
    if (address)
        strcpy(s->address, address);
    if (!same || time > s->time)
        s->time = time;
    s->used = true;
}
