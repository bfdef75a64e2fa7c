/*
 * The registry proper: methods in an array sorted by name (binary search per
 * call; registration is rare), pending calls in a list per registry so that
 * remove_owner can fail the calls of a stopping plugin.
 */
#include "rpc/rpc.h"

#include "rpc/calls.h"
#include "rpc/utf8.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct method {
    char *name;
    char *summary;
    dg_ctx *owner;
    dg_rpc_fn fn;
    void *user;
    dg_free_fn user_free;
    /* 1 while registered, +1 per running handler: user_free waits for both to end. */
    int refs;
} method;

struct dg_rpc_call_rec {
    uint64_t id;
    dg_rpc *rpc; /* NULL once dg_rpc_free dropped it */
    dg_ctx *owner;
    char *method;
    dg_rpc_done_fn done;           /* NULL when detached */
    dg_rpc_done_json_fn done_json; /* optional: takes dg_rpc_reply_json text as it is */
    void *done_user;
    dg_rpc_call_rec *prev, *next;
};

struct dg_rpc {
    method **methods;
    size_t n_methods, cap_methods;
    dg_rpc_call_rec *pending;
    size_t n_pending;
    dg_rpc_owner_name_fn namer;
};

static const char *owner_name(dg_rpc *rpc, dg_ctx *owner)
{
    if (!owner)
        return "core";
    const char *name = (rpc && rpc->namer) ? rpc->namer(owner) : NULL;
    return name ? name : "plugin";
}

static void method_unref(method *m)
{
    if (--m->refs > 0)
        return;
    if (m->user_free)
        m->user_free(m->user);
    free(m->name);
    free(m->summary);
    free(m);
}

/* Index of name, or of where it would be inserted (*found says which). */
static size_t method_index(const dg_rpc *rpc, const char *name, int *found)
{
    size_t lo = 0, hi = rpc->n_methods;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rpc->methods[mid]->name, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

int dg_rpc_method_valid(const char *name)
{
    if (!name)
        return 0;
    size_t segments = 1, seg_len = 0, len = 0;
    for (const char *p = name; *p; p++, len++) {
        if (len >= DG_RPC_METHOD_MAX)
            return 0;
        if (*p == '.') {
            if (seg_len == 0)
                return 0;
            segments++;
            seg_len = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') {
            seg_len++;
        } else {
            return 0;
        }
    }
    /* At least "namespace.verb": the first segment says who owns the method. */
    return seg_len > 0 && segments >= 2;
}

dg_rpc *dg_rpc_new(void)
{
    return calloc(1, sizeof(dg_rpc));
}

static void unlink_rec(dg_rpc *rpc, dg_rpc_call_rec *rec)
{
    if (rec->prev)
        rec->prev->next = rec->next;
    else
        rpc->pending = rec->next;
    if (rec->next)
        rec->next->prev = rec->prev;
    rec->prev = rec->next = NULL;
    rec->rpc = NULL;
    rpc->n_pending--;
}

static void free_rec(dg_rpc_call_rec *rec)
{
    free(rec->method);
    free(rec);
}

void dg_rpc_free(dg_rpc *rpc)
{
    if (!rpc)
        return;
    if (rpc->n_pending > 0)
        dg_log(DG_LOG_WARN, "rpc", "dropping %zu unanswered call(s) at shutdown", rpc->n_pending);
    while (rpc->pending) {
        dg_rpc_call_rec *rec = rpc->pending;
        dg_rpc_calls_take(rec->id);
        unlink_rec(rpc, rec);
        free_rec(rec);
    }
    for (size_t i = 0; i < rpc->n_methods; i++)
        method_unref(rpc->methods[i]);
    free(rpc->methods);
    free(rpc);
}

void dg_rpc_set_owner_namer(dg_rpc *rpc, dg_rpc_owner_name_fn fn)
{
    rpc->namer = fn;
}

int dg_rpc_register(dg_rpc *rpc, dg_ctx *owner, const char *name, const char *summary, dg_rpc_fn fn,
                    void *user, dg_free_fn user_free)
{
    if (!rpc || !fn || !dg_rpc_method_valid(name)) {
        dg_log(DG_LOG_WARN, "rpc",
               "%s: cannot register '%.*s': want a dotted [a-z0-9_] name and a handler",
               owner_name(rpc, owner), DG_RPC_METHOD_MAX, name ? name : "(null)");
        return DG_EINVAL;
    }
    if (owner && strncmp(name, "core.", 5) == 0) {
        dg_log(DG_LOG_WARN, "rpc", "%s: method %s is in the reserved core. namespace",
               owner_name(rpc, owner), name);
        return DG_EDENIED;
    }
    int found;
    size_t at = method_index(rpc, name, &found);
    if (found) {
        dg_log(DG_LOG_WARN, "rpc", "%s: method %s already registered by %s", owner_name(rpc, owner),
               name, owner_name(rpc, rpc->methods[at]->owner));
        return DG_EEXIST;
    }
    if (rpc->n_methods == rpc->cap_methods) {
        size_t cap = rpc->cap_methods ? rpc->cap_methods * 2 : 16;
        method **grown = realloc(rpc->methods, cap * sizeof *grown);
        if (!grown)
            return DG_ENOMEM;
        rpc->methods = grown;
        rpc->cap_methods = cap;
    }
    method *m = calloc(1, sizeof *m);
    if (m) {
        m->name = strdup(name);
        m->summary = strdup(summary ? summary : "");
    }
    if (!m || !m->name || !m->summary) {
        if (m) {
            free(m->name);
            free(m->summary);
        }
        free(m);
        return DG_ENOMEM;
    }
    dg_utf8_repair(m->summary); /* listings must serialize whatever a plugin wrote */
    m->owner = owner;
    m->fn = fn;
    m->user = user;
    m->user_free = user_free;
    m->refs = 1;
    memmove(&rpc->methods[at + 1], &rpc->methods[at], (rpc->n_methods - at) * sizeof *rpc->methods);
    rpc->methods[at] = m;
    rpc->n_methods++;
    return DG_OK;
}

void dg_rpc_remove_owner(dg_rpc *rpc, dg_ctx *owner)
{
    size_t kept = 0;
    for (size_t i = 0; i < rpc->n_methods; i++) {
        method *m = rpc->methods[i];
        if (m->owner == owner)
            method_unref(m);
        else
            rpc->methods[kept++] = m;
    }
    rpc->n_methods = kept;

    /*
     * Fail the owner's calls by id: each failure runs a done callback that may
     * invoke or answer other calls, so the list cannot be walked while failing.
     */
    size_t n = 0;
    for (dg_rpc_call_rec *rec = rpc->pending; rec; rec = rec->next)
        n += rec->owner == owner;
    if (n == 0)
        return;
    uint64_t *ids = malloc(n * sizeof *ids);
    if (!ids) {
        /* Cannot fail them one by one safely: detach them so no done runs late. */
        dg_log(DG_LOG_ERROR, "rpc", "out of memory failing calls of %s", owner_name(rpc, owner));
        for (dg_rpc_call_rec *rec = rpc->pending; rec; rec = rec->next)
            if (rec->owner == owner) {
                rec->done = NULL;
                rec->done_json = NULL;
            }
        return;
    }
    size_t k = 0;
    for (dg_rpc_call_rec *rec = rpc->pending; rec && k < n; rec = rec->next)
        if (rec->owner == owner)
            ids[k++] = rec->id;
    const char *name = owner_name(rpc, owner);
    for (size_t i = 0; i < k; i++) {
        if (owner)
            dg_rpc_fail(dg_rpc_call_from_id(ids[i]), DG_RPC_FAILED, "plugin %s stopped", name);
        else
            dg_rpc_fail(dg_rpc_call_from_id(ids[i]), DG_RPC_FAILED, "core methods were removed");
    }
    free(ids);
}

static void complete_now(dg_rpc_done_fn done, void *done_user, json_t *error)
{
    if (done) {
        if (error)
            done(done_user, NULL, error);
        else {
            json_t *fallback =
                json_pack("{s:i,s:s}", "code", DG_RPC_INTERNAL_ERROR, "message", "out of memory");
            done(done_user, NULL, fallback ? fallback : json_null());
            json_decref(fallback);
        }
    }
    json_decref(error);
}

dg_rpc_call *dg_rpc_invoke(dg_rpc *rpc, const char *name, const json_t *params, dg_rpc_done_fn done,
                           void *done_user)
{
    return dg_rpc_invoke_ex(rpc, name, params, done, NULL, done_user);
}

dg_rpc_call *dg_rpc_invoke_ex(dg_rpc *rpc, const char *name, const json_t *params,
                              dg_rpc_done_fn done, dg_rpc_done_json_fn done_json, void *done_user)
{
    int found = 0;
    size_t at = name ? method_index(rpc, name, &found) : 0;
    if (!found) {
        complete_now(done, done_user,
                     dg_rpc_error_new(DG_RPC_METHOD_NOT_FOUND, "unknown method '%.*s'",
                                      DG_RPC_METHOD_MAX, name ? name : ""));
        return NULL;
    }
    if (params && !json_is_object(params) && !json_is_array(params)) {
        complete_now(
            done, done_user,
            dg_rpc_error_new(DG_RPC_INVALID_PARAMS, "params must be an object or an array"));
        return NULL;
    }
    method *m = rpc->methods[at];
    dg_rpc_call_rec *rec = calloc(1, sizeof *rec);
    uint64_t id = 0;
    if (!rec || !(rec->method = strdup(name)) || dg_rpc_calls_add(rec, &id) != 0) {
        if (rec)
            free(rec->method);
        free(rec);
        complete_now(done, done_user, dg_rpc_error_new(DG_RPC_INTERNAL_ERROR, "out of memory"));
        return NULL;
    }
    rec->id = id;
    rec->rpc = rpc;
    rec->owner = m->owner;
    rec->done = done;
    rec->done_json = done_json;
    rec->done_user = done_user;
    rec->next = rpc->pending;
    if (rpc->pending)
        rpc->pending->prev = rec;
    rpc->pending = rec;
    rpc->n_pending++;

    /* The handler may unregister its own method (remove_owner): keep m alive across it. */
    m->refs++;
    m->fn(m->owner, dg_rpc_call_from_id(id), params, m->user);
    method_unref(m);

    /* Answered synchronously: done already ran and the record is gone. */
    return dg_rpc_calls_get(id) ? dg_rpc_call_from_id(id) : NULL;
}

void dg_rpc_detach(dg_rpc_call *call)
{
    dg_rpc_call_rec *rec = dg_rpc_calls_get(dg_rpc_call_id(call));
    if (rec) {
        rec->done = NULL;
        rec->done_json = NULL;
    }
}

/* The record of a call being answered, or NULL (logged) when it cannot be. */
static dg_rpc_call_rec *take_for_answer(dg_rpc_call *call)
{
    uint64_t id = dg_rpc_call_id(call);
    dg_rpc_call_rec *rec = dg_rpc_calls_take(id);
    if (!rec)
        dg_log(DG_LOG_ERROR, "rpc",
               "answer to call #%" PRIu64 " ignored: it was already answered, or failed "
               "because its plugin stopped (a handler must answer exactly once)",
               id);
    return rec;
}

/* result and error are stolen; exactly one is non-NULL. */
static void answer(dg_rpc_call *call, json_t *result, json_t *error)
{
    dg_rpc_call_rec *rec = take_for_answer(call);
    if (!rec) {
        json_decref(result);
        json_decref(error);
        return;
    }
    if (rec->rpc)
        unlink_rec(rec->rpc, rec);
    if (rec->done) {
        if (error)
            rec->done(rec->done_user, NULL, error);
        else
            rec->done(rec->done_user, result, NULL);
    }
    json_decref(result);
    json_decref(error);
    free_rec(rec);
}

void dg_rpc_reply(dg_rpc_call *call, json_t *result)
{
    answer(call, result ? result : json_null(), NULL);
}

void dg_rpc_reply_json(dg_rpc_call *call, char *json, size_t len)
{
    /* The control socket frames answers by line: a raw newline would cut this one. */
    if (!json || len == 0 || memchr(json, '\n', len) || memchr(json, '\0', len)) {
        free(json);
        dg_rpc_fail(call, DG_RPC_INTERNAL_ERROR,
                    "the handler answered text that is not one line of JSON");
        return;
    }
    dg_rpc_call_rec *probe = dg_rpc_calls_get(dg_rpc_call_id(call));
    if (probe && !probe->done_json && probe->done) {
        /* A caller that wants a tree: parse it here, once. */
        json_error_t jerr;
        json_t *result = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
        free(json);
        if (!result)
            dg_rpc_fail(call, DG_RPC_INTERNAL_ERROR, "the handler answered invalid JSON: %s",
                        jerr.text);
        else
            answer(call, result, NULL);
        return;
    }
    dg_rpc_call_rec *rec = take_for_answer(call);
    if (!rec) {
        free(json);
        return;
    }
    if (rec->rpc)
        unlink_rec(rec->rpc, rec);
    if (rec->done_json)
        rec->done_json(rec->done_user, json, len);
    free(json);
    free_rec(rec);
}

void dg_rpc_failv(dg_rpc_call *call, int code, const char *fmt, va_list ap)
{
    json_t *error = dg_rpc_error_newv(code, fmt, ap);
    if (!error)
        error = json_pack("{s:i,s:s}", "code", code, "message", "out of memory");
    if (!error) {
        /* Still answer (with JSON null as the error) so the caller is not left waiting. */
        error = json_null();
    }
    answer(call, NULL, error);
}

void dg_rpc_fail(dg_rpc_call *call, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dg_rpc_failv(call, code, fmt, ap);
    va_end(ap);
}

json_t *dg_rpc_list(dg_rpc *rpc)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < rpc->n_methods; i++) {
        const method *m = rpc->methods[i];
        json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "method", m->name, "summary",
                                              m->summary, "owner", owner_name(rpc, m->owner)));
    }
    return list;
}

size_t dg_rpc_pending(dg_rpc *rpc)
{
    return rpc->n_pending;
}
