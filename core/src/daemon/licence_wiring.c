/*
 * Licences and premium plugins in the daemon (docs/licence.md).
 *
 * The installed licence lives in <home>/data/licence.json and is verified at
 * start-up against the compiled-in vendor key and the extra keys the team
 * policy trusts. Premium plugins (manifest "premium.entitlement") pass the
 * licence gate when the licence grants their entitlement; otherwise they run
 * as a trial (2 minutes per daemon start, counted from the first time they
 * become active) and are then stopped and LOCKED with a message saying how
 * to get a licence. One timer wakes for the next trial end, the licence's
 * expiry, or at the latest a day later (the daily check).
 *
 * Installing, removing, expiry and a change of trusted keys apply live:
 * plugins the change unlocks start, plugins it locks stop, and
 * "core.licence.changed" announces it.
 */
#include "daemon/wiring.h"

#include "licence/licence.h"
#include "licence/trial.h"
#include "licence/vendor.h"
#include "util/fs.h"
#include "util/log.h"

#include <dengon/licence.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LICENCE_FILE "licence.json"
#define DAY_MS (24LL * 3600 * 1000)

typedef struct trial_rec {
    char *id;
    dg_trial t;
    int ended; /* its end was handled (plugins re-evaluated, event published) */
} trial_rec;

typedef struct dg_licence_wiring {
    dg_licence_service_v1 svc; /* first: the service's self pointer is the wiring */
    dg_daemon *d;
    char *path;
    dg_keyring *ring;
    json_t *trusted;  /* [{"name","key_id","source"}] */
    json_t *problems; /* ["..."]: extra keys that could not be read */
    dg_licence *lic;  /* the installed licence when its signature checks out */
    dg_refusal status;
    char *status_reason;
    int installed; /* a licence file exists */
    trial_rec *trials;
    size_t n_trials;
    int64_t trial_ms;
    uv_timer_t timer;
    int timer_init;
} dg_licence_wiring;

static int64_t mono_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000u);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- state ---- */

static int valid(const dg_licence_wiring *w)
{
    return w->lic && w->status == DG_REFUSAL_NONE;
}

static int licensed_for(const dg_licence_wiring *w, const char *entitlement)
{
    return valid(w) && dg_licence_grants(w->lic, entitlement);
}

/* "valid", "expired", "not_yet_valid", "none", or "invalid" (the file was refused). */
static const char *status_name(const dg_licence_wiring *w)
{
    if (!w->installed)
        return "none";
    if (!w->lic)
        return "invalid";
    if (w->status == DG_REFUSAL_EXPIRED)
        return "expired";
    if (w->status == DG_REFUSAL_NOT_YET_VALID)
        return "not_yet_valid";
    return "valid";
}

static void set_status(dg_licence_wiring *w, dg_refusal r, const char *why)
{
    w->status = r;
    free(w->status_reason);
    w->status_reason = why && *why ? strdup(why) : NULL;
}

/* The vendor key, then the extra keys the policy names (<keys-dir>/<name>.pub). */
static void build_ring(dg_licence_wiring *w)
{
    dg_keyring_free(w->ring);
    json_decref(w->trusted);
    json_decref(w->problems);
    w->ring = dg_keyring_new();
    w->trusted = json_array();
    w->problems = json_array();
    dg_key *vendor = dg_vendor_key();
    if (vendor)
        json_array_append_new(w->trusted,
                              json_pack("{s:s, s:s, s:s}", "name", DG_VENDOR_KEY_NAME, "key_id",
                                        dg_key_id(vendor), "source", "compiled in"));
    dg_keyring_add(w->ring, DG_VENDOR_KEY_NAME, vendor);
    json_t *extra = dg_daemon_policy_licence_keys(w->d);
    size_t i;
    json_t *e;
    json_array_foreach(extra, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        char file[DG_KEY_NAME_MAX + 8], err[600];
        snprintf(file, sizeof file, "%s.pub", name);
        char *path = dg_path_join(w->d->opts.keys_dir, file);
        dg_key *key = path ? dg_key_load(path, err, sizeof err) : NULL;
        char source[700];
        snprintf(source, sizeof source, "team policy '%s' (%s)",
                 json_string_value(json_object_get(e, "policy")),
                 json_string_value(json_object_get(e, "source")));
        if (!key) {
            char msg[1400];
            snprintf(msg, sizeof msg, "licence key '%s' named by %s is not usable: %s", name,
                     source, path ? err : "out of memory");
            dg_log(DG_LOG_WARN, "licence", "%s", msg);
            json_array_append_new(w->problems, json_string(msg));
        } else {
            json_array_append_new(w->trusted, json_pack("{s:s, s:s, s:s}", "name", name, "key_id",
                                                        dg_key_id(key), "source", source));
            dg_keyring_add(w->ring, name, key);
        }
        free(path);
    }
    json_decref(extra);
}

/* Reads and verifies the installed file (absent = no licence) and checks the clock. */
static void load_installed(dg_licence_wiring *w)
{
    dg_licence_free(w->lic);
    w->lic = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = dg_read_file(w->path, DG_LICENCE_MAX_BYTES, &text, &len);
    w->installed = rc != -ENOENT;
    if (!w->installed) {
        set_status(w, DG_REFUSAL_NONE, NULL);
        return;
    }
    char why[600];
    if (rc != 0) {
        snprintf(why, sizeof why, "cannot read %s: %s", w->path,
                 rc == -EFBIG ? "too large for a licence" : strerror(-rc));
        set_status(w, rc == -EFBIG ? DG_REFUSAL_MALFORMED : DG_REFUSAL_TRUNCATED, why);
        return;
    }
    dg_refusal r = dg_licence_load(text, len, w->ring, &w->lic, why, sizeof why);
    free(text);
    if (r == DG_REFUSAL_NONE)
        r = dg_licence_check_time(w->lic, (int64_t)time(NULL), why, sizeof why);
    set_status(w, r, r == DG_REFUSAL_NONE ? NULL : why);
}

static json_t *licence_json(const dg_licence_wiring *w)
{
    return w->lic ? dg_licence_to_json(w->lic) : json_null();
}

static void publish_changed(dg_licence_wiring *w, const char *cause, json_t *started,
                            json_t *stopped)
{
    json_t *ev = json_pack("{s:s, s:s, s:s?, s:o, s:O, s:O}", "cause", cause, "status",
                           status_name(w), "reason", w->status_reason, "licence", licence_json(w),
                           "started", started, "stopped", stopped);
    int rc = dg_bus_publish(w->d->bus, NULL, DG_LICENCE_CHANGED_TOPIC, ev);
    if (rc != DG_OK)
        dg_log(DG_LOG_WARN, "licence", "could not publish %s (%d)", DG_LICENCE_CHANGED_TOPIC, rc);
}

/* ---- trials ---- */

static trial_rec *trial_of(dg_licence_wiring *w, const char *id)
{
    for (size_t i = 0; i < w->n_trials; i++)
        if (strcmp(w->trials[i].id, id) == 0)
            return &w->trials[i];
    trial_rec *grown = realloc(w->trials, (w->n_trials + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    w->trials = grown;
    trial_rec *t = &w->trials[w->n_trials];
    memset(t, 0, sizeof(*t));
    if (!(t->id = strdup(id)))
        return NULL;
    t->t.started_ms = -1;
    w->n_trials++;
    return t;
}

/* "2 minutes", "5 seconds" (a test build's shortened trial). */
static void trial_length_text(const dg_licence_wiring *w, char *buf, size_t len)
{
    long long s = (long long)(w->trial_ms / 1000);
    if (s % 60 == 0)
        snprintf(buf, len, "%lld minute%s", s / 60, s == 60 ? "" : "s");
    else
        snprintf(buf, len, "%lld second%s", s, s == 1 ? "" : "s");
}

/* Why a premium plugin is locked, and how to get a licence. */
static void locked_reason(const dg_licence_wiring *w, const trial_rec *t, const char *entitlement,
                          char *buf, size_t len)
{
    if (t && t->t.started_ms >= 0) {
        char length[32];
        trial_length_text(w, length, sizeof length);
        snprintf(buf, len,
                 "trial ended (%s per daemon start); to keep using it, get a licence with "
                 "entitlement '%s' and install it: dengon licence install FILE",
                 length, entitlement);
        return;
    }
    const char *why = w->status_reason ? w->status_reason
                      : !w->installed  ? "no licence is installed"
                      : valid(w)       ? "the licence does not include it"
                                       : "the licence is not valid";
    snprintf(buf, len,
             "no valid licence grants entitlement '%s' (%s); install one with: dengon licence "
             "install FILE",
             entitlement, why);
}

static dg_entitle decide(dg_licence_wiring *w, const dg_manifest *m, trial_rec **rec, int64_t *left)
{
    trial_rec *t = trial_of(w, m->id);
    *rec = t;
    int licensed = licensed_for(w, m->premium_entitlement);
    if (!t) /* out of memory: no trial bookkeeping, so no trial */
        return licensed ? DG_ENTITLE_LICENSED : DG_ENTITLE_LOCKED;
    return dg_trial_decide(licensed, &t->t, mono_ms(), w->trial_ms, left);
}

/* ---- the plugin host hooks ---- */

static int licence_gate(void *user, const dg_manifest *m, char **reason)
{
    dg_licence_wiring *w = user;
    if (!m->premium_entitlement)
        return DG_OK;
    trial_rec *t = NULL;
    dg_entitle e = decide(w, m, &t, NULL);
    if (e == DG_ENTITLE_LICENSED && t)
        t->t.licensed_seen = 1;
    if (e != DG_ENTITLE_LOCKED)
        return DG_OK;
    char why[1024];
    locked_reason(w, t, m->premium_entitlement, why, sizeof why);
    *reason = strdup(why);
    return DG_STOP;
}

static void schedule(dg_licence_wiring *w);

static void licence_observer(void *user, const char *id, const dg_manifest *m,
                             dg_plugin_state previous, dg_plugin_state state)
{
    dg_licence_wiring *w = user;
    if (state != DG_PLUGIN_ACTIVE || !m || !m->premium_entitlement ||
        licensed_for(w, m->premium_entitlement))
        return;
    trial_rec *t = trial_of(w, id);
    if (!t || t->t.started_ms >= 0)
        return;
    /* The clock starts when the plugin first runs without a licence in this daemon run. */
    t->t.started_ms = mono_ms();
    char length[32];
    trial_length_text(w, length, sizeof length);
    dg_log(DG_LOG_INFO, "licence", "%s runs as a trial for %s: no licence grants entitlement '%s'",
           id, length, m->premium_entitlement);
    schedule(w);
}

static void licence_annotate(void *user, const dg_manifest *m, dg_plugin_state state, json_t *entry)
{
    dg_licence_wiring *w = user;
    if (!m || !m->premium_entitlement)
        return;
    trial_rec *t = NULL;
    int64_t left = 0;
    dg_entitle e = decide(w, m, &t, &left);
    json_t *o =
        json_pack("{s:s, s:s}", "entitlement", m->premium_entitlement, "state", dg_entitle_name(e));
    if (o && e == DG_ENTITLE_TRIAL)
        json_object_set_new(o, "seconds_left", json_integer((json_int_t)((left + 999) / 1000)));
    json_object_set_new(entry, "licence", o);
}

/* ---- the timer: trial ends, expiry, the daily check ---- */

static void on_tick(uv_timer_t *timer);

static void schedule(dg_licence_wiring *w)
{
    if (!w->timer_init)
        return;
    int64_t next = DAY_MS, now = mono_ms();
    for (size_t i = 0; i < w->n_trials; i++) {
        const trial_rec *t = &w->trials[i];
        if (t->t.started_ms >= 0 && !t->ended) {
            int64_t left = t->t.started_ms + w->trial_ms - now;
            next = left < next ? left : next;
        }
    }
    if (valid(w) && w->lic->expires) {
        int64_t left = w->lic->expires * 1000 - wall_ms();
        next = left < next ? left : next;
    }
    uv_timer_start(&w->timer, on_tick, (uint64_t)(next > 0 ? next : 0), 0);
}

static void announce_trial_end(dg_licence_wiring *w, const trial_rec *t, const json_t *stopped)
{
    int was_stopped = 0;
    size_t i;
    json_t *v;
    json_array_foreach(stopped, i, v)
    {
        was_stopped |= strcmp(json_string_value(v), t->id) == 0;
    }
    const char *entitlement = NULL;
    json_t *list = w->d->plugins ? dg_plugin_host_list(w->d->plugins) : NULL;
    json_array_foreach(list, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "id")), t->id) == 0)
            entitlement =
                json_string_value(json_object_get(json_object_get(v, "licence"), "entitlement"));
    }
    char msg[1024];
    locked_reason(w, t, entitlement ? entitlement : "?", msg, sizeof msg);
    dg_log(DG_LOG_WARN, "licence", "%s: %s%s", t->id, msg, was_stopped ? " (stopped)" : "");
    json_t *ev =
        json_pack("{s:s, s:s?, s:I, s:b, s:s}", "id", t->id, "entitlement", entitlement, "seconds",
                  (json_int_t)(w->trial_ms / 1000), "stopped", was_stopped, "message", msg);
    json_decref(list);
    int rc = dg_bus_publish(w->d->bus, NULL, DG_LICENCE_TRIAL_ENDED_TOPIC, ev);
    if (rc != DG_OK)
        dg_log(DG_LOG_WARN, "licence", "could not publish %s (%d)", DG_LICENCE_TRIAL_ENDED_TOPIC,
               rc);
}

static void on_tick(uv_timer_t *timer)
{
    dg_licence_wiring *w = timer->data;
    const char *before = status_name(w);
    if (w->lic) {
        char why[600];
        dg_refusal r = dg_licence_check_time(w->lic, (int64_t)time(NULL), why, sizeof why);
        set_status(w, r, r == DG_REFUSAL_NONE ? NULL : why);
    }
    int status_changed = strcmp(before, status_name(w)) != 0;
    int64_t now = mono_ms();
    size_t n_ended = 0;
    for (size_t i = 0; i < w->n_trials; i++) {
        trial_rec *t = &w->trials[i];
        if (t->t.started_ms >= 0 && !t->ended && now >= t->t.started_ms + w->trial_ms)
            n_ended++;
    }
    if (status_changed || n_ended) {
        json_t *started, *stopped;
        dg_daemon_replug(w->d, &started, &stopped);
        if (status_changed) {
            char off[512];
            dg_daemon_join_ids(stopped, off, sizeof off);
            dg_log(DG_LOG_WARN, "licence", "licence %s: %s; stopped: %s", status_name(w),
                   w->status_reason ? w->status_reason : "", off);
            publish_changed(w, "expiry", started, stopped);
        }
        for (size_t i = 0; i < w->n_trials; i++) {
            trial_rec *t = &w->trials[i];
            if (t->t.started_ms >= 0 && !t->ended && now >= t->t.started_ms + w->trial_ms) {
                t->ended = 1;
                announce_trial_end(w, t, stopped);
            }
        }
        json_decref(started);
        json_decref(stopped);
    }
    schedule(w);
}

/* ---- the service "core.licence" ---- */

static int svc_has(const dg_licence_service_v1 *self, const char *entitlement)
{
    return licensed_for((const dg_licence_wiring *)self, entitlement);
}

static int64_t svc_seats(const dg_licence_service_v1 *self)
{
    const dg_licence_wiring *w = (const dg_licence_wiring *)self;
    return valid(w) ? w->lic->seats : 0;
}

static json_t *svc_info(const dg_licence_service_v1 *self)
{
    const dg_licence_wiring *w = (const dg_licence_wiring *)self;
    return valid(w) ? dg_licence_to_json(w->lic) : NULL;
}

/* ---- RPC ---- */

static json_t *premium_plugins(dg_licence_wiring *w)
{
    json_t *out = json_array();
    json_t *list = w->d->plugins ? dg_plugin_host_list(w->d->plugins) : NULL;
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        json_t *lic = json_object_get(p, "licence");
        if (!lic)
            continue;
        json_t *o = json_deep_copy(lic);
        json_object_set(o, "id", json_object_get(p, "id"));
        json_object_set(o, "plugin_state", json_object_get(p, "state"));
        json_array_append_new(out, o);
    }
    json_decref(list);
    return out;
}

static void rpc_show(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_licence_wiring *w = user;
    json_t *r =
        json_pack("{s:s, s:s?, s:s, s:o, s:I, s:I, s:b, s:O, s:O, s:o}", "status", status_name(w),
                  "reason", w->status_reason, "file", w->path, "licence", licence_json(w), "seats",
                  (json_int_t)svc_seats(&w->svc), "trial_seconds", (json_int_t)(w->trial_ms / 1000),
                  "testing_build", dg_trial_testing_build(), "trusted_keys", w->trusted, "problems",
                  w->problems, "plugins", premium_plugins(w));
    if (!r)
        dg_rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
    else
        dg_rpc_reply(call, r);
}

static void rpc_install(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_licence_wiring *w = user;
    const json_t *t = json_is_object(params) ? json_object_get(params, "text") : NULL;
    if (!json_is_string(t)) {
        dg_rpc_fail(call, DG_RPC_INVALID_PARAMS,
                    "missing string parameter 'text' (the licence file's content)");
        return;
    }
    const char *text = json_string_value(t);
    size_t len = json_string_length(t);
    char why[600];
    dg_licence *lic = NULL;
    dg_refusal r = dg_licence_load(text, len, w->ring, &lic, why, sizeof why);
    if (r == DG_REFUSAL_NONE)
        r = dg_licence_check_time(lic, (int64_t)time(NULL), why, sizeof why);
    if (r != DG_REFUSAL_NONE) {
        dg_licence_free(lic);
        dg_log(DG_LOG_WARN, "licence", "licence refused (%s): %s", dg_refusal_name(r), why);
        dg_rpc_fail(call, DG_RPC_FAILED, "licence refused (%s): %s; nothing was changed",
                    dg_refusal_name(r), why);
        return;
    }
    int rc = dg_write_file_atomic(w->path, text, len, 0600);
    if (rc != 0) {
        dg_licence_free(lic);
        dg_rpc_fail(call, DG_RPC_FAILED, "cannot write %s: %s; nothing was changed", w->path,
                    strerror(-rc));
        return;
    }
    dg_licence_free(w->lic);
    w->lic = lic;
    w->installed = 1;
    set_status(w, DG_REFUSAL_NONE, NULL);
    json_t *started, *stopped;
    dg_daemon_replug(w->d, &started, &stopped);
    schedule(w);
    char on[512], until[32] = "no expiry";
    dg_daemon_join_ids(started, on, sizeof on);
    if (lic->expires)
        dg_time_format(lic->expires, until);
    char msg[1400];
    snprintf(msg, sizeof msg,
             "licence %s for %s installed (plan %s, %lld seats, %s%s); started: %s", lic->id,
             lic->licensee, lic->plan, (long long)lic->seats, lic->expires ? "expires " : "", until,
             on);
    dg_log(DG_LOG_INFO, "licence", "%s", msg);
    publish_changed(w, "install", started, stopped);
    dg_rpc_reply(call, json_pack("{s:s, s:o, s:o, s:o}", "message", msg, "licence", licence_json(w),
                                 "started", started, "stopped", stopped));
}

static void rpc_remove(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_licence_wiring *w = user;
    if (!w->installed) {
        dg_rpc_fail(call, DG_RPC_FAILED, "no licence is installed");
        return;
    }
    if (unlink(w->path) != 0 && errno != ENOENT) {
        dg_rpc_fail(call, DG_RPC_FAILED, "cannot remove %s: %s", w->path, strerror(errno));
        return;
    }
    char id[160];
    snprintf(id, sizeof id, "%s", w->lic ? w->lic->id : "(invalid)");
    dg_licence_free(w->lic);
    w->lic = NULL;
    w->installed = 0;
    set_status(w, DG_REFUSAL_NONE, NULL);
    json_t *started, *stopped;
    dg_daemon_replug(w->d, &started, &stopped);
    schedule(w);
    char off[512], msg[800];
    dg_daemon_join_ids(stopped, off, sizeof off);
    snprintf(msg, sizeof msg, "licence %s removed; stopped: %s", id, off);
    dg_log(DG_LOG_INFO, "licence", "%s", msg);
    publish_changed(w, "remove", started, stopped);
    dg_rpc_reply(
        call, json_pack("{s:s, s:o, s:o}", "message", msg, "started", started, "stopped", stopped));
}

/* ---- life cycle ---- */

void dg_daemon_licence_trust_changed(dg_daemon *d)
{
    dg_licence_wiring *w = d->licence;
    if (!w)
        return;
    const char *before = status_name(w);
    char before_id[160];
    snprintf(before_id, sizeof before_id, "%s", w->lic ? w->lic->id : "");
    build_ring(w);
    load_installed(w);
    if (strcmp(before, status_name(w)) == 0 && strcmp(before_id, w->lic ? w->lic->id : "") == 0)
        return;
    dg_log(DG_LOG_INFO, "licence", "trusted licence keys changed: licence %s%s%s", status_name(w),
           w->status_reason ? ": " : "", w->status_reason ? w->status_reason : "");
    json_t *started, *stopped;
    dg_daemon_replug(d, &started, &stopped);
    schedule(w);
    publish_changed(w, "policy", started, stopped);
    json_decref(started);
    json_decref(stopped);
}

int dg_daemon_licence_init(dg_daemon *d)
{
    dg_licence_wiring *w = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    d->licence = w;
    w->d = d;
    w->svc = (dg_licence_service_v1){sizeof(dg_licence_service_v1), svc_has, svc_seats, svc_info};
    w->trial_ms = dg_trial_length_ms();
    w->path = dg_path_join(d->home.data_dir, LICENCE_FILE);
    if (!w->path)
        return -1;
    if (w->trial_ms != (int64_t)DG_TRIAL_SECONDS * 1000)
        dg_log(DG_LOG_WARN, "licence",
               "trial shortened to %lld s (DENGON_TEST_TRIAL_SECONDS, "
               "a build made for testing)",
               (long long)(w->trial_ms / 1000));
    build_ring(w);
    load_installed(w);
    if (w->installed && w->status != DG_REFUSAL_NONE)
        dg_log(w->lic ? DG_LOG_WARN : DG_LOG_ERROR, "licence", "installed licence %s (%s): %s",
               status_name(w), dg_refusal_name(w->status),
               w->status_reason ? w->status_reason : "");
    else if (w->installed)
        dg_log(DG_LOG_INFO, "licence", "licence %s for %s (%s)", w->lic->id, w->lic->licensee,
               w->lic->plan);
    static const char *const topics[] = {DG_LICENCE_CHANGED_TOPIC, DG_LICENCE_TRIAL_ENDED_TOPIC};
    for (size_t i = 0; i < 2; i++)
        if (dg_bus_declare(d->bus, NULL, topics[i], DG_OVERFLOW_BLOCK) != DG_OK)
            return -1;
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"licence.show", "the installed licence, trusted keys, premium plugins and trials",
         rpc_show},
        {"licence.install", "verify and install a licence {text} (applied live)", rpc_install},
        {"licence.remove", "remove the installed licence (premium plugins lock)", rpc_remove},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (dg_rpc_register(d->rpc, NULL, methods[i].name, methods[i].summary, methods[i].fn, w,
                            NULL) != DG_OK)
            return -1;
    if (dg_services_provide(d->services, NULL, DG_LICENCE_SERVICE, DG_LICENCE_SERVICE_VERSION,
                            &w->svc, sizeof w->svc) != DG_OK)
        return -1;
    uv_timer_init(&d->loop, &w->timer);
    w->timer.data = w;
    w->timer_init = 1;
    /* The loop runs until a stop request; this timer alone must not hold it. */
    uv_unref((uv_handle_t *)&w->timer);
    schedule(w);
    return 0;
}

void dg_daemon_licence_attach(dg_daemon *d)
{
    if (!d->licence || !d->plugins)
        return;
    dg_plugin_host_add_gate(d->plugins, licence_gate, d->licence);
    dg_plugin_host_add_observer(d->plugins, licence_observer, d->licence);
    dg_plugin_host_add_annotator(d->plugins, licence_annotate, d->licence);
}

static void free_wiring(dg_licence_wiring *w)
{
    free(w->path);
    dg_keyring_free(w->ring);
    json_decref(w->trusted);
    json_decref(w->problems);
    dg_licence_free(w->lic);
    free(w->status_reason);
    for (size_t i = 0; i < w->n_trials; i++)
        free(w->trials[i].id);
    free(w->trials);
    free(w);
}

static void on_closed(uv_handle_t *h)
{
    free_wiring(h->data);
}

void dg_daemon_licence_free(dg_daemon *d)
{
    dg_licence_wiring *w = d->licence;
    if (!w)
        return;
    d->licence = NULL;
    if (w->timer_init)
        uv_close((uv_handle_t *)&w->timer, on_closed);
    else
        free_wiring(w);
}
