#include "listx_logic.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entry.h"
#include "ipmsg_proto.h"

/* ---- list server ---- */

static int by_key(const void *pa, const void *pb)
{
    const ipm_user *a = *(ipm_user *const *)pa, *b = *(ipm_user *const *)pb;
    int c = strcasecmp(a->key, b->key);
    return c ? c : strcmp(a->key, b->key);
}

int ipm_listx_table_build(const ipm_users *t, ipm_listx_table *out)
{
    memset(out, 0, sizeof(*out));
    if (t->n == 0)
        return 0;
    ipm_user **v = malloc(t->n * sizeof(*v));
    out->hosts = calloc(t->n, sizeof(*out->hosts));
    out->addr = calloc(t->n, sizeof(*out->addr));
    if (!v || !out->hosts || !out->addr) {
        free(v);
        ipm_listx_table_free(out);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i]->presence != IPM_OFFLINE)
            v[n++] = t->v[i];
    qsort(v, n, sizeof(*v), by_key);
    for (size_t i = 0; i < n; i++) {
        const ipm_user *u = v[i];
        ipm_ip_format(u->addr.ip, out->addr[i]);
        out->hosts[i] = (ipmsg_hostlist_host){
            .user = u->user,
            .host = u->host,
            .status = u->status,
            .addr = out->addr[i],
            .port = u->addr.port,
            .nick = u->nickname,
            .group = u->group,
        };
    }
    out->n = n;
    free(v);
    return 0;
}

void ipm_listx_table_free(ipm_listx_table *t)
{
    free(t->hosts);
    free(t->addr);
    memset(t, 0, sizeof(*t));
}

/* ---- requester ---- */

/* Unicast IPv4 a host can have: not 0/8, not multicast (224/4) or above. */
static bool usable_ip(uint32_t ip)
{
    return (ip >> 24) != 0 && (ip >> 28) < 0xe;
}

static char *decode(const ipm_listx_ctx *c, ipmsg_slice s)
{
    char *out = NULL;
    if (ipmsg_decode_slice(c->cs, c->enc, s, &out, NULL, NULL) != IPMSG_OK)
        return NULL;
    return out;
}

ipm_listx_rc ipm_listx_apply(const ipm_listx_ctx *c, const ipmsg_hostlist_entry *e, ipm_user **user,
                             ipm_addr *addr)
{
    if (user)
        *user = NULL;
    uint8_t o[4];
    uint16_t port = ipmsg_hostlist_port_decode(e->port_wire);
    if (!ipmsg_parse_ipv4(e->addr, o) || port == 0)
        return IPM_LISTX_BAD;
    ipm_addr a = {((uint32_t)o[0] << 24) | ((uint32_t)o[1] << 16) | ((uint32_t)o[2] << 8) | o[3],
                  port};
    if (!usable_ip(a.ip))
        return IPM_LISTX_BAD;
    /* A fingerprinted name promises a key (§6.4): without ENCRYPTOPT it is spoofed. */
    ipmsg_slice base, hex;
    if (ipmsg_user_fingerprint(e->user, &base, &hex) && !(e->status & IPMSG_ENCRYPTOPT))
        return IPM_LISTX_BAD;

    ipm_listx_rc rc = IPM_LISTX_ERROR;
    char *u = decode(c, e->user), *h = decode(c, e->host);
    char *nick = decode(c, e->nick), *group = decode(c, e->group);
    if (!u || !h || !nick || !group)
        goto out;
    if (!*u || !*h) {
        rc = IPM_LISTX_BAD;
        goto out;
    }
    if (addr)
        *addr = a;
    if (c->self_user && c->self_host && strcasecmp(u, c->self_user) == 0 &&
        strcasecmp(h, c->self_host) == 0) {
        rc = IPM_LISTX_SELF;
        goto out;
    }
    if (e->status == 0 || IPMSG_GET_MODE(e->status) == IPMSG_BR_EXIT) {
        rc = IPM_LISTX_GONE;
        goto out;
    }
    ipm_user *known = ipm_users_find(c->users, u, h);
    if (known && known->presence != IPM_OFFLINE) {
        if (user)
            *user = known;
        rc = IPM_LISTX_KNOWN;
        goto out;
    }
    uint32_t status = IPMSG_GET_OPT(e->status);
    ipm_user_info info = {
        .user = u,
        .host = h,
        .nickname = nick,
        .group = group,
        .addr = a,
        .status = status,
        .presence = (status & IPMSG_ABSENCEOPT) ? IPM_ABSENT : IPM_ONLINE,
    };
    ipm_user *got = NULL;
    switch (ipm_users_upsert(c->users, &info, c->now, &got, NULL)) {
    case IPM_UPSERT_NEW:
    case IPM_UPSERT_MOVED: /* impossible without a UUID; counted as new */
        rc = IPM_LISTX_NEW;
        break;
    case IPM_UPSERT_CHANGED:
        rc = IPM_LISTX_UPDATED;
        break;
    case IPM_UPSERT_SAME:
        rc = IPM_LISTX_SAME;
        break;
    case IPM_UPSERT_ERROR:
        rc = IPM_LISTX_ERROR;
        break;
    }
    if (user)
        *user = got;
out:
    free(u);
    free(h);
    free(nick);
    free(group);
    return rc;
}

ipm_listx_step ipm_listx_after_page(uint32_t asked, uint32_t next_start, size_t entries,
                                    unsigned pages)
{
    if (next_start == 0)
        return IPM_LISTX_DONE;
    if (next_start <= asked || entries == 0 || pages >= IPM_LISTX_MAX_PAGES)
        return IPM_LISTX_STUCK;
    return IPM_LISTX_CONTINUE;
}
