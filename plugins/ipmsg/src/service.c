/* The "chat.transport" service table (include/dengon/chat_transport.h). */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "resolve.h"

static uint32_t svc_send(void *self, const char *const *to, size_t n, const char *text, int sealed,
                         char *err, size_t errlen)
{
    ipm_state *st = self;
    if (!to || n == 0 || !text || !*text) {
        snprintf(err, errlen, "no recipient or no text");
        return 0;
    }
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
    ipm_sent *s = messages_send(st, t, n, text, strlen(text), sealed != 0, err, errlen);
    id = s ? s->id : 0;
out:
    free(addr_keys);
    free(t);
    return id;
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
    };
    int rc = st->api->service_provide(st->ctx, DG_CHAT_TRANSPORT_SERVICE, DG_CHAT_TRANSPORT_VERSION,
                                      &st->transport, sizeof st->transport);
    if (rc != DG_OK)
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot provide %s (%d)", DG_CHAT_TRANSPORT_SERVICE,
                     rc);
    return rc;
}
