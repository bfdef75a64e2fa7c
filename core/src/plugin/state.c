/*
 * Plugin states: names, transitions, and the "core.plugin.state" event.
 *
 * The topic is declared by the host with DG_OVERFLOW_BLOCK: subscribers (the
 * UI, the CLI's watch, tests) want every transition, not only the latest, so
 * nothing may be dropped or coalesced. If a subscriber's queue is full the bus
 * returns DG_EAGAIN; the host then logs the lost transition at WARN rather
 * than flushing the bus from inside a transition (that would run subscriber
 * callbacks in the middle of a stop or start). The state itself is never
 * lost: `dengon plugins` reads it from the host.
 */
#include "host_internal.h"

#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dg_plugin_state_name(dg_plugin_state s)
{
    switch (s) {
    case DG_PLUGIN_DISCOVERED:
        return "discovered";
    case DG_PLUGIN_INVALID:
        return "invalid";
    case DG_PLUGIN_DISABLED:
        return "disabled";
    case DG_PLUGIN_INCOMPATIBLE:
        return "incompatible";
    case DG_PLUGIN_QUARANTINED:
        return "quarantined";
    case DG_PLUGIN_UNRESOLVED:
        return "unresolved";
    case DG_PLUGIN_LOAD_FAILED:
        return "load_failed";
    case DG_PLUGIN_START_FAILED:
        return "start_failed";
    case DG_PLUGIN_ACTIVE:
        return "active";
    case DG_PLUGIN_STOPPED:
        return "stopped";
    case DG_PLUGIN_LOCKED:
        return "locked";
    }
    return "unknown";
}

const char *dg_plugin_status_name(int status)
{
    switch (status) {
    case DG_OK:
        return "DG_OK";
    case DG_STOP:
        return "DG_STOP";
    case DG_ERR:
        return "DG_ERR";
    case DG_EINVAL:
        return "DG_EINVAL";
    case DG_ENOMEM:
        return "DG_ENOMEM";
    case DG_EEXIST:
        return "DG_EEXIST";
    case DG_ENOENT:
        return "DG_ENOENT";
    case DG_EDENIED:
        return "DG_EDENIED";
    case DG_EAGAIN:
        return "DG_EAGAIN";
    case DG_ERESTART:
        return "DG_ERESTART";
    }
    return "unknown status";
}

static int is_failure(dg_plugin_state s)
{
    return s == DG_PLUGIN_INVALID || s == DG_PLUGIN_INCOMPATIBLE || s == DG_PLUGIN_QUARANTINED ||
           s == DG_PLUGIN_UNRESOLVED || s == DG_PLUGIN_LOAD_FAILED || s == DG_PLUGIN_START_FAILED;
}

static void publish(dg_plugin_host *host, const dg_plugin_rec *p, dg_plugin_state previous)
{
    if (!host->bus)
        return;
    json_t *ev =
        json_pack("{s:s, s:s, s:s, s:s?}", "id", p->id, "state", dg_plugin_state_name(p->state),
                  "previous", dg_plugin_state_name(previous), "reason", p->reason);
    if (!ev)
        return;
    int rc = dg_bus_publish(host->bus, NULL, DG_PLUGIN_STATE_TOPIC, ev);
    if (rc != DG_OK && rc != DG_STOP)
        dg_log(DG_LOG_WARN, "plugin", "could not publish %s for %s -> %s: %s",
               DG_PLUGIN_STATE_TOPIC, p->id, dg_plugin_state_name(p->state),
               dg_plugin_status_name(rc));
}

void dg_host_set_state(dg_plugin_host *host, dg_plugin_rec *p, dg_plugin_state s, const char *fmt,
                       ...)
{
    char *reason = NULL;
    if (fmt) {
        char buf[DG_REASON_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        reason = strdup(buf);
    }
    int same_reason =
        (!reason && !p->reason) || (reason && p->reason && strcmp(reason, p->reason) == 0);
    if (s == p->state && same_reason) {
        free(reason);
        return;
    }
    dg_plugin_state previous = p->state;
    free(p->reason);
    p->reason = reason;
    p->state = s;
    dg_log(is_failure(s) ? DG_LOG_WARN : DG_LOG_INFO, "plugin", "%s: %s%s%s", p->id,
           dg_plugin_state_name(s), reason ? ": " : "", reason ? reason : "");
    for (size_t i = 0; i < host->n_observers; i++)
        host->observers[i].fn(host->observers[i].user, p->id, p->m, previous, s);
    publish(host, p, previous);
}
