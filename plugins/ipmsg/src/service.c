/* The "chat.transport" service table (include/dengon/chat_transport.h). */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cryptohook.h"
#include "messages.h"
#include "presence.h"
#include "resolve.h"
#include "tx.h"

/* Resolves the recipients and sends; attach NULL for a plain message. */
static uint32_t send_to(ipm_state *st, const char *const *to, size_t n, const char *text,
                        bool sealed, const char *attach, const char *via, char *err, size_t errlen)
{
    ipm_target *t = calloc(n, sizeof(*t));
    char(*addr_keys)[IPM_ADDR_TEXT] = calloc(n, IPM_ADDR_TEXT);
    uint32_t id = 0;
    if (!t || !addr_keys) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ipm_user *u;
        ipm_addr a;
        if (ipm_resolve(&st->users, to[i], st->cfg.port, &u, &a, err, errlen) < 0)
            goto out;
        t[i] = (ipm_target){.addr = a};
        t[i].key = u ? u->key : ipm_addr_format(a, addr_keys[i]);
        t[i].nickname = u ? u->nickname : t[i].key;
        t[i].utf8 = u && u->utf8;
    }
    ipm_sent *s = messages_send(st, t, n, text, strlen(text), sealed, attach, via, err, errlen);
    id = s ? s->id : 0;
out:
    free(addr_keys);
    free(t);
    return id;
}

static uint32_t svc_send(void *self, const char *const *to, size_t n, const char *text, int sealed,
                         char *err, size_t errlen)
{
    if (!to || n == 0 || !text || !*text) {
        snprintf(err, errlen, "no recipient or no text");
        return 0;
    }
    return send_to(self, to, n, text, sealed != 0, NULL, NULL, err, errlen);
}

static uint32_t svc_send_ex(void *self, const char *const *to, size_t n, const char *text,
                            uint32_t flags, const char *via, char *err, size_t errlen)
{
    if (!to || n == 0 || !text || !*text) {
        snprintf(err, errlen, "no recipient or no text");
        return 0;
    }
    if (flags & ~DG_CHAT_SEND_SEALED) {
        snprintf(err, errlen, "unknown send flags 0x%x", (unsigned)(flags & ~DG_CHAT_SEND_SEALED));
        return 0;
    }
    return send_to(self, to, n, text, (flags & DG_CHAT_SEND_SEALED) != 0, NULL, via, err, errlen);
}

static json_t *svc_list_users(void *self)
{
    ipm_state *st = self;
    json_t *list = json_array();
    ipm_user **v = ipm_users_sorted(&st->users);
    for (size_t i = 0; list && v && i < st->users.n; i++)
        json_array_append_new(list, ipm_user_json(v[i]));
    free(v);
    return list;
}

static uint32_t svc_send_files(void *self, const char *const *to, size_t n, const char *text,
                               const char *attach_list, char *err, size_t errlen)
{
    if (!to || n == 0 || !attach_list || !*attach_list) {
        snprintf(err, errlen, "no recipient or no attach list");
        return 0;
    }
    return send_to(self, to, n, text ? text : "", false, attach_list, NULL, err, errlen);
}

static int svc_endpoint(void *self, char *addr, size_t addrlen, uint16_t *port)
{
    ipm_state *st = self;
    char a[IPM_ADDR_TEXT];
    ipm_addr_format((ipm_addr){.ip = st->cfg.bind.ip, .port = 0}, a);
    char *colon = strrchr(a, ':');
    if (colon)
        *colon = '\0';
    if (!addr || strlen(a) >= addrlen)
        return -1;
    memcpy(addr, a, strlen(a) + 1);
    if (port)
        *port = st->cfg.port;
    return 0;
}

static int svc_release_files(void *self, const char *who, uint32_t packet_no)
{
    ipm_state *st = self;
    ipm_user *u;
    ipm_addr a;
    char err[256];
    if (!who || ipm_resolve(&st->users, who, st->cfg.port, &u, &a, err, sizeof err) < 0)
        return -1;
    return tx_number(st, a, IPMSG_RELEASEFILES | (u && u->utf8 ? IPMSG_UTF8OPT : 0), packet_no)
               ? 0
               : -1;
}

static int svc_set_capability(void *self, uint32_t bits, int on)
{
    ipm_state *st = self;
    /* FILEATTACHOPT: the files plugin; CAPFILEENCOPT: the encrypted file transfer (§6.6). */
    if (bits == 0 || (bits & ~(IPMSG_FILEATTACHOPT | IPMSG_CAPFILEENCOPT)))
        return -1;
    uint32_t caps = on ? st->caps | bits : st->caps & ~bits;
    if (caps == st->caps)
        return 0;
    st->caps = caps;
    /* Peers learn a status change from a BR_ABSENCE round (§4.2); before the
     * first announce the pending BR_ENTRY carries it anyway. */
    if (st->announces > 0)
        presence_round(st, IPMSG_BR_ABSENCE);
    return 0;
}

static int svc_set_crypto(void *self, const dg_chat_crypto_hooks *hooks, void *user)
{
    return cryptohook_set(self, hooks, user);
}

static int svc_request_key(void *self, const char *who, const char *extra, int autoret)
{
    return cryptohook_request_key(self, who, extra, autoret);
}

static void svc_resume_crypto(void *self, const char *who)
{
    cryptohook_resume(self, who);
}

static json_t *svc_user_get(void *self, const char *who)
{
    ipm_state *st = self;
    ipm_user *u;
    ipm_addr a;
    char err[256];
    if (ipm_resolve(&st->users, who, st->cfg.port, &u, &a, err, sizeof err) != IPM_RESOLVE_USER)
        return NULL;
    return ipm_user_json(u);
}

int service_provide(ipm_state *st)
{
    st->transport = (dg_chat_transport_v1){
        .struct_size = sizeof(dg_chat_transport_v1),
        .self = st,
        .send = svc_send,
        .user_get = svc_user_get,
        .send_files = svc_send_files,
        .endpoint = svc_endpoint,
        .release_files = svc_release_files,
        .set_capability = svc_set_capability,
        .set_crypto = svc_set_crypto,
        .request_key = svc_request_key,
        .resume_crypto = svc_resume_crypto,
        .send_ex = svc_send_ex,
        .list_users = svc_list_users,
    };
    int rc = st->api->service_provide(st->ctx, DG_CHAT_TRANSPORT_SERVICE, DG_CHAT_TRANSPORT_VERSION,
                                      &st->transport, sizeof st->transport);
    if (rc != DG_OK)
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot provide %s (%d)", DG_CHAT_TRANSPORT_SERVICE,
                     rc);
    return rc;
}
