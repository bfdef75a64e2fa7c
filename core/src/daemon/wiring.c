/* Helpers shared by the policy and licence wiring: what a change started or stopped. */
#include "daemon/wiring.h"

#include <stdio.h>
#include <string.h>

json_t *dg_daemon_active_plugins(dg_daemon *d)
{
    json_t *set = json_object();
    json_t *list = d->plugins ? dg_plugin_host_list(d->plugins) : NULL;
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *state = json_string_value(json_object_get(p, "state"));
        const char *id = json_string_value(json_object_get(p, "id"));
        if (set && id && state && strcmp(state, "active") == 0)
            json_object_set_new(set, id, json_true());
    }
    json_decref(list);
    return set;
}

static json_t *missing_from(const json_t *a, const json_t *b)
{
    json_t *out = json_array();
    const char *id;
    json_t *v;
    json_object_foreach((json_t *)a, id, v)
    {
        if (out && !json_object_get(b, id))
            json_array_append_new(out, json_string(id));
    }
    return out;
}

void dg_daemon_plugins_diff(const json_t *before, const json_t *after, json_t **started,
                            json_t **stopped)
{
    *started = missing_from(after, before);
    *stopped = missing_from(before, after);
}

void dg_daemon_replug(dg_daemon *d, json_t **started, json_t **stopped)
{
    json_t *before = dg_daemon_active_plugins(d);
    if (d->plugins)
        dg_plugin_host_reevaluate(d->plugins);
    json_t *after = dg_daemon_active_plugins(d);
    dg_daemon_plugins_diff(before, after, started, stopped);
    json_decref(before);
    json_decref(after);
}

void dg_daemon_join_ids(const json_t *ids, char *buf, size_t len)
{
    size_t used = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(ids, i, v)
    {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", json_string_value(v));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (!buf[0])
        snprintf(buf, len, "none");
}
