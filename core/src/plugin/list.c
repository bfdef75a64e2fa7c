/* `dengon plugins`: one JSON object per discovered plugin, in discovery order. */
#include "host_internal.h"

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *deps_json(const dg_manifest *m)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < m->n_deps; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s?}", "id", m->deps[i].id, "version", m->deps[i].range));
    return a;
}

/* What the annotators (licence, ...) add to an entry. */
static json_t *annotated(const dg_plugin_rec *p, json_t *o)
{
    const dg_plugin_host *host = p->host;
    for (size_t i = 0; o && i < host->n_annotators; i++)
        host->annotators[i].fn(host->annotators[i].user, p->m, p->state, o);
    return o;
}

static json_t *plugin_json(const dg_plugin_rec *p)
{
    const dg_manifest *m = p->m;
    json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s}", "id", p->id, "state",
                          dg_plugin_state_name(p->state), "reason", p->reason, "dir", p->dir,
                          "origin", p->origin);
    if (!o)
        return NULL;
    if (!m) {
        /* Invalid: nothing from the manifest can be trusted. */
        json_object_set_new(o, "name", json_null());
        json_object_set_new(o, "version", json_null());
        return annotated(p, o);
    }
    json_object_set_new(o, "name", json_string(m->name ? m->name : m->id));
    json_object_set_new(o, "version", json_string(m->version ? m->version : ""));
    json_object_set_new(o, "priority", json_integer(m->priority));
    json_object_set_new(o, "library", m->library_path ? json_string(m->library_path) : json_null());
    json_object_set_new(o, "provides", strv_json(m->provides, m->n_provides));
    json_object_set_new(o, "requires", strv_json(m->requires, m->n_requires));
    json_object_set_new(o, "optional", strv_json(m->optional, m->n_optional));
    json_object_set_new(o, "dependencies", deps_json(m));
    return annotated(p, o);
}

json_t *dg_plugin_host_list(dg_plugin_host *host)
{
    json_t *arr = json_array();
    for (size_t i = 0; host && arr && i < host->n_plugins; i++)
        json_array_append_new(arr, plugin_json(host->plugins[i]));
    return arr;
}
