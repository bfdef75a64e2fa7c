#include "settings.h"

#include <stdlib.h>
#include <string.h>

#include "awaytext.h"
#include "ipmsg_proto.h"

static char *dup_cfg(dg_ctx *ctx, const dg_host_api *api, const char *key, const char *dflt)
{
    return strdup(api->config_get(ctx, key, dflt));
}

/* Parses a list key into *out; keeps *out when the value is bad. */
static int load_list(dg_ctx *ctx, const dg_host_api *api, const char *key, uint16_t port,
                     bool wildcard, ipm_addr_list *out)
{
    char err[160];
    ipm_addr_list l;
    if (ipm_addrlist_parse(api->config_get(ctx, key, ""), port, wildcard, &l, err, sizeof err) !=
        0) {
        api->log(ctx, DG_LOG_ERROR, "%s: %s", key, err);
        return -1;
    }
    ipm_addrlist_free(out);
    *out = l;
    return 0;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int settings_reload(ipm_settings *s, dg_ctx *ctx, const dg_host_api *api)
{
    int rc = load_list(ctx, api, "ipmsg.hosts", s->port, false, &s->hosts);
    rc |= load_list(ctx, api, "ipmsg.broadcast", s->port, true, &s->broadcast);
    s->dialup = api->config_get_bool(ctx, "ipmsg.dialup", 0);
    /* Bounded so a typo cannot make a retry storm or a message that never fails. */
    s->retry_interval_ms =
        clamp(api->config_get_int(ctx, "ipmsg.retry_interval_ms", 1000), 50, 60000);
    s->retries = clamp(api->config_get_int(ctx, "ipmsg.retries", 4), 0, 100);
    s->announce_interval_s =
        clamp(api->config_get_int(ctx, "ipmsg.announce_interval_s", 600), 0, 86400);
    s->absent = api->config_get_bool(ctx, "ipmsg.absence", 0);
    char *text = dup_cfg(ctx, api, "ipmsg.absence_text", "I am away from my desk.");
    if (text) {
        free(s->absence_text);
        s->absence_text = text;
    }
    char *title = dup_cfg(ctx, api, "ipmsg.absence_title", "Away");
    if (title) {
        free(s->absence_title);
        s->absence_title = title;
    }
    /* A string so that fractions work ("0.5" = 30 s); a bad value keeps the previous one. */
    const char *minutes = api->config_get(ctx, "ipmsg.auto_absence_minutes", "0");
    int64_t ms;
    if (ipm_parse_minutes(minutes, &ms) == 0) {
        s->auto_absence_ms = ms;
    } else {
        api->log(ctx, DG_LOG_ERROR,
                 "ipmsg.auto_absence_minutes: '%s' is not a number of minutes (0-%d, like 10 or "
                 "0.5)",
                 minutes, IPM_AWAY_MAX_MINUTES);
        rc = -1;
    }
    s->list_get = api->config_get_bool(ctx, "ipmsg.list_get", 0);
    s->list_server = api->config_get_bool(ctx, "ipmsg.list_server", 0);
    s->list_wait_ms = clamp(api->config_get_int(ctx, "ipmsg.list_wait_ms", 3000), 100, 60000);
    s->inbox_size = clamp(api->config_get_int(ctx, "ipmsg.inbox_size", 1000), 1, 1000000);
    return rc ? -1 : 0;
}

int settings_load(ipm_settings *s, dg_ctx *ctx, const dg_host_api *api)
{
    memset(s, 0, sizeof(*s));
    int64_t port = api->config_get_int(ctx, "ipmsg.port", IPMSG_DEFAULT_PORT);
    if (port < 1 || port > 65535) {
        api->log(ctx, DG_LOG_ERROR, "ipmsg.port: %lld is not a port (1-65535)", (long long)port);
        return -1;
    }
    s->port = (uint16_t)port;
    s->bind_text = dup_cfg(ctx, api, "ipmsg.bind_address", "0.0.0.0");
    s->legacy_codepage = dup_cfg(ctx, api, "ipmsg.legacy_codepage", "CP932");
    s->sniff_utf8 = api->config_get_bool(ctx, "ipmsg.sniff_utf8", 0);
    if (!s->bind_text || !s->legacy_codepage) {
        settings_free(s);
        return -1;
    }
    if (ipm_addr_parse(s->bind_text, strlen(s->bind_text), s->port, &s->bind) != 0 ||
        strchr(s->bind_text, ':')) {
        api->log(ctx, DG_LOG_ERROR, "ipmsg.bind_address: '%s' is not an IPv4 address",
                 s->bind_text);
        settings_free(s);
        return -1;
    }
    /* At start a bad list fails the start: there is no previous value to keep. */
    if (settings_reload(s, ctx, api) != 0) {
        settings_free(s);
        return -1;
    }
    return 0;
}

void settings_free(ipm_settings *s)
{
    free(s->bind_text);
    free(s->legacy_codepage);
    free(s->absence_text);
    free(s->absence_title);
    ipm_addrlist_free(&s->hosts);
    ipm_addrlist_free(&s->broadcast);
    memset(s, 0, sizeof(*s));
}
