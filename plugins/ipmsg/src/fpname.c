#include "fpname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "presence.h"

/* 0, or -1 out of memory (the name stays as it was). The key does not
 * change: keys never carry the field (users.h). */
static int set_logon(ipm_state *st, const char *suffix)
{
    size_t ulen = strlen(st->base_user) + strlen(suffix) + 1;
    char *user = malloc(ulen);
    if (!user)
        return -1;
    snprintf(user, ulen, "%s%s", st->base_user, suffix);
    free(st->user);
    st->user = user;
    return 0;
}

/* The name is settled: announce if that was put off. */
static void settle(ipm_state *st)
{
    st->name_wait = false;
    st->name_fixed = true;
    if (st->name_timer)
        st->api->timer_cancel(st->ctx, st->name_timer);
    st->name_timer = NULL;
    if (st->entry_due) {
        st->entry_due = false;
        presence_announce(st);
    }
}

static void on_name_timeout(dg_ctx *ctx, dg_timer *timer, void *user)
{
    ipm_state *st = user;
    st->name_timer = NULL;
    st->api->log(ctx, DG_LOG_WARN,
                 "no key fingerprint from the crypto plugin after %d ms: announcing %s without "
                 "one for this run",
                 IPM_NAME_WAIT_MS, st->user);
    settle(st);
}

void fpname_provider_changed(ipm_state *st)
{
    if (st->name_fixed || !DG_CHAT_CRYPTO_HAS(st->crypto, name_suffix))
        return;
    /* Too late once peers have seen us: a second name would be a ghost entry. */
    if (st->announces > 0) {
        st->name_fixed = true;
        return;
    }
    char suffix[64] = "";
    int rc = st->crypto->name_suffix(st->crypto_user, suffix, sizeof suffix);
    if (rc < 0) {
        if (!st->name_wait) {
            st->name_wait = true;
            st->name_timer =
                st->api->timer_add(st->ctx, IPM_NAME_WAIT_MS, 0, on_name_timeout, st, NULL);
            if (!st->name_timer)
                settle(st);
        }
        return;
    }
    /* Only what a v3+ peer parses as a fingerprint field goes on the wire. */
    if (rc == 1 && (strlen(suffix) != 19 || strncmp(suffix, "-<", 2) || suffix[18] != '>' ||
                    strspn(suffix + 2, "0123456789abcdefABCDEF") != 16)) {
        st->api->log(st->ctx, DG_LOG_WARN, "the crypto plugin gave a bad name suffix: ignored");
        rc = 0;
    }
    if (rc == 1 && set_logon(st, suffix) == 0)
        st->api->log(st->ctx, DG_LOG_INFO, "logon name with our key's fingerprint: %s", st->user);
    settle(st);
}

void fpname_free(ipm_state *st)
{
    free(st->base_user);
    st->base_user = NULL;
}
