/*
 * Service registry. Small arrays are enough: a process has a few dozen services
 * and plugins, and every operation runs on the loop thread.
 *
 * Used-by edges are (user, provider, name) triples, recorded when require()
 * succeeds. They are what lets the host stop a provider only after its users.
 * Removing an owner drops the edges in both directions: its ctx pointer is
 * about to be freed, and a later ctx allocated at the same address must not
 * inherit stale edges.
 */
#include "plugin/services.h"

#include <stdlib.h>
#include <string.h>

#define SERVICE_NAME_MAX 127

typedef struct svc_entry {
    char *name;
    uint32_t version;
    const void *vtable;
    size_t size;
    dg_ctx *owner;
} svc_entry;

typedef struct svc_edge {
    dg_ctx *user;
    dg_ctx *provider;
    char *name;
} svc_edge;

struct dg_services {
    svc_entry *entries;
    size_t n_entries, cap_entries;
    svc_edge *edges;
    size_t n_edges, cap_edges;
};

/* Dotted lowercase names: "crypto.aead", "test.counter" (no "@major": that is the version). */
static int service_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > SERVICE_NAME_MAX)
        return 0;
    char prev = '.';
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok || (c == '.' && prev == '.'))
            return 0;
        prev = c;
    }
    return prev != '.';
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(*arr, ncap * elem);
    if (!n)
        return -1;
    *arr = n;
    *cap = ncap;
    return 0;
}

static svc_entry *find_entry(dg_services *svc, const char *name)
{
    for (size_t i = 0; i < svc->n_entries; i++)
        if (strcmp(svc->entries[i].name, name) == 0)
            return &svc->entries[i];
    return NULL;
}

dg_services *dg_services_new(void)
{
    return calloc(1, sizeof(dg_services));
}

void dg_services_free(dg_services *svc)
{
    if (!svc)
        return;
    for (size_t i = 0; i < svc->n_entries; i++)
        free(svc->entries[i].name);
    for (size_t i = 0; i < svc->n_edges; i++)
        free(svc->edges[i].name);
    free(svc->entries);
    free(svc->edges);
    free(svc);
}

int dg_services_provide(dg_services *svc, dg_ctx *owner, const char *name, uint32_t version,
                        const void *vtable, size_t size)
{
    if (!svc || !vtable || !service_name_valid(name))
        return DG_EINVAL;
    if (find_entry(svc, name))
        return DG_EEXIST;
    if (grow((void **)&svc->entries, &svc->cap_entries, svc->n_entries + 1, sizeof(svc_entry)))
        return DG_ENOMEM;
    char *copy = strdup(name);
    if (!copy)
        return DG_ENOMEM;
    svc->entries[svc->n_entries++] = (svc_entry){
        .name = copy, .version = version, .vtable = vtable, .size = size, .owner = owner};
    return DG_OK;
}

static int has_edge(const dg_services *svc, dg_ctx *user, dg_ctx *provider, const char *name)
{
    for (size_t i = 0; i < svc->n_edges; i++) {
        const svc_edge *e = &svc->edges[i];
        if (e->user == user && e->provider == provider && strcmp(e->name, name) == 0)
            return 1;
    }
    return 0;
}

const void *dg_services_require(dg_services *svc, dg_ctx *user, const char *name,
                                uint32_t min_version, size_t *size)
{
    if (!svc || !service_name_valid(name))
        return NULL;
    svc_entry *e = find_entry(svc, name);
    if (!e || e->version < min_version)
        return NULL;
    /*
     * The core (NULL) is never stopped by the host, and a plugin using its own
     * service must not block its own stop: neither needs an edge.
     */
    if (user && user != e->owner && !has_edge(svc, user, e->owner, name)) {
        if (grow((void **)&svc->edges, &svc->cap_edges, svc->n_edges + 1, sizeof(svc_edge)))
            return NULL; /* an untracked use would let the provider stop under the user */
        char *copy = strdup(name);
        if (!copy)
            return NULL;
        svc->edges[svc->n_edges++] = (svc_edge){.user = user, .provider = e->owner, .name = copy};
    }
    if (size)
        *size = e->size;
    return e->vtable;
}

void dg_services_remove_owner(dg_services *svc, dg_ctx *owner)
{
    if (!svc)
        return;
    size_t w = 0;
    for (size_t i = 0; i < svc->n_entries; i++) {
        if (svc->entries[i].owner == owner)
            free(svc->entries[i].name);
        else
            svc->entries[w++] = svc->entries[i];
    }
    svc->n_entries = w;
    w = 0;
    for (size_t i = 0; i < svc->n_edges; i++) {
        svc_edge *e = &svc->edges[i];
        if (e->user == owner || e->provider == owner)
            free(e->name);
        else
            svc->edges[w++] = *e;
    }
    svc->n_edges = w;
}

size_t dg_services_users_of(dg_services *svc, dg_ctx *provider, dg_ctx **out, size_t max)
{
    if (!svc)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < svc->n_edges && n < max; i++) {
        if (svc->edges[i].provider != provider)
            continue;
        dg_ctx *user = svc->edges[i].user;
        int seen = 0;
        for (size_t j = 0; j < n && !seen; j++)
            seen = out[j] == user;
        if (!seen)
            out[n++] = user;
    }
    return n;
}

static const char *name_of(const char *(*owner_name)(dg_ctx *), dg_ctx *owner)
{
    if (owner_name)
        return owner_name(owner);
    return owner ? "plugin" : "core";
}

static int by_name(const void *a, const void *b)
{
    const svc_entry *x = *(const svc_entry *const *)a, *y = *(const svc_entry *const *)b;
    return strcmp(x->name, y->name);
}

json_t *dg_services_list(dg_services *svc, const char *(*owner_name)(dg_ctx *))
{
    json_t *arr = json_array();
    if (!svc || !arr)
        return arr;
    const svc_entry **sorted = malloc((svc->n_entries + 1) * sizeof(*sorted));
    if (!sorted)
        return arr;
    for (size_t i = 0; i < svc->n_entries; i++)
        sorted[i] = &svc->entries[i];
    qsort(sorted, svc->n_entries, sizeof(*sorted), by_name);
    for (size_t i = 0; i < svc->n_entries; i++) {
        const svc_entry *e = sorted[i];
        json_t *users = json_array();
        for (size_t k = 0; k < svc->n_edges; k++)
            if (strcmp(svc->edges[k].name, e->name) == 0)
                json_array_append_new(users, json_string(name_of(owner_name, svc->edges[k].user)));
        json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:o}", "name", e->name, "version",
                                             (json_int_t)e->version, "provider",
                                             name_of(owner_name, e->owner), "users", users));
    }
    free(sorted);
    return arr;
}
