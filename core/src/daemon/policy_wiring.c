/*
 * Team policy in the daemon (docs/admin-guide.md, "Team policy").
 *
 * The policy directory is read at start-up, on SIGHUP and on the RPC
 * policy.reload (later the server pushes through the same path). The rules
 * matching this identity become:
 *   - a gate: plugins turned off, or reaching outside the LAN under lan_only,
 *     are DISABLED before any of their code runs, with the policy named;
 *   - locks in the config's policy layer: "config" values, and
 *     plugins.<id>.enabled = true for plugins turned on, so `config set` and
 *     `plugin disable` fail naming the policy, and -o cannot override them;
 *   - the extra licence keys the licence may be signed with.
 * A change is applied live (plugins stopped/started, locks re-applied) and
 * announced as "core.policy.changed". A reload that finds a refused file
 * changes nothing: the policy in force stays until the directory is fixed.
 */
#include "daemon/wiring.h"

#include "policy/policy.h"
#include "util/fs.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUIRE_SIGNED_KEY "policy.require_signed"

typedef struct dg_policy_wiring {
    dg_daemon *d;
    dg_policy_set *set;
    dg_policy_effective *eff;
    json_t *locks;      /* key -> {"value","policy","source"} we put in the policy layer */
    json_t *problems;   /* ["..."]: unreadable admin keys, locks the config refused */
    json_t *admin_keys; /* [{"name","key_id"}] used by the last load */
    int require_signed;
    int64_t applied_at; /* wall clock of the last applied change */
    uv_signal_t hup;
    uv_timer_t defer;
    int reload_pending;   /* the deferred work reads the directory again */
    int handles;          /* handles initialised (and to be closed) */
    int warned_user_flag; /* the user file's policy.require_signed was reported */
} dg_policy_wiring;

/* ---- installation settings ---- */

/*
 * policy.require_signed belongs to the installation: the user file must not
 * lift it. When the effective value comes from the user file, the system
 * file's value (or the default, false) is used instead.
 */
static int read_require_signed(dg_policy_wiring *w)
{
    dg_config *cfg = w->d->config;
    int source = dg_config_source(cfg, REQUIRE_SIGNED_KEY);
    if (source != DG_LAYER_USER)
        return dg_config_get_bool(cfg, REQUIRE_SIGNED_KEY, 0);
    if (!w->warned_user_flag) {
        dg_log(DG_LOG_WARN, "policy",
               "%s in the user file is ignored: only the system file or -o set it",
               REQUIRE_SIGNED_KEY);
        w->warned_user_flag = 1;
    }
    dg_config *scratch = dg_config_new();
    char *err = NULL;
    int value = 0;
    if (scratch &&
        dg_config_load_file(scratch, DG_LAYER_SYSTEM, w->d->opts.system_config, &err) == DG_OK)
        value = dg_config_get_bool(scratch, REQUIRE_SIGNED_KEY, 0);
    free(err);
    dg_config_free(scratch);
    return value;
}

/* Admin keys: <keys-dir>/admin/<name>.pub. Unreadable ones are reported, not fatal. */
static dg_keyring *load_admin_keys(dg_policy_wiring *w, json_t *listing, json_t *problems)
{
    dg_keyring *ring = dg_keyring_new();
    char *dir = dg_path_join(w->d->opts.keys_dir, "admin");
    struct dirent **names = NULL;
    int n = dir && ring ? scandir(dir, &names, NULL, alphasort) : -1;
    if (n < 0 && dir && ring && errno != ENOENT) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot read admin keys in %s: %s", dir, strerror(errno));
        json_array_append_new(problems, json_string(msg));
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t len = strlen(name);
        if (name[0] != '.' && len > 4 && len - 4 <= DG_KEY_NAME_MAX &&
            strcmp(name + len - 4, ".pub") == 0) {
            char err[512], keyname[DG_KEY_NAME_MAX + 1];
            snprintf(keyname, sizeof keyname, "%.*s", (int)(len - 4), name);
            char *path = dg_path_join(dir, name);
            dg_key *key = path ? dg_key_load(path, err, sizeof err) : NULL;
            if (!key) {
                json_array_append_new(problems, json_string(path ? err : "out of memory"));
            } else {
                json_array_append_new(
                    listing, json_pack("{s:s, s:s}", "name", keyname, "key_id", dg_key_id(key)));
                if (dg_keyring_add(ring, keyname, key) == DG_EEXIST) {
                    snprintf(err, sizeof err, "%s: the same key as another admin key", path);
                    json_array_append_new(problems, json_string(err));
                }
            }
            free(path);
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    return ring;
}

/* ---- locks ---- */

static json_t *build_locks(const dg_policy_effective *e)
{
    json_t *locks = json_object();
    for (size_t i = 0; locks && e && i < e->n_config; i++) {
        const dg_policy_entry *c = &e->config[i];
        json_object_set_new(locks, c->name,
                            json_pack("{s:s, s:s, s:s}", "value", c->value, "policy", c->policy,
                                      "source", c->source));
    }
    /* Turned on: the user's plugins.<id>.enabled no longer decides. */
    for (size_t i = 0; locks && e && i < e->n_plugins; i++) {
        const dg_policy_entry *p = &e->plugins[i];
        if (strcmp(p->value, "on") != 0)
            continue;
        char key[DG_CONFIG_KEY_MAX + 1];
        int n = snprintf(key, sizeof key, "plugins.%s.enabled", p->name);
        if (n > 0 && (size_t)n < sizeof key)
            json_object_set_new(locks, key,
                                json_pack("{s:s, s:s, s:s}", "value", "true", "policy", p->policy,
                                          "source", p->source));
    }
    return locks;
}

/* "team policy 'acme'", "team policy 'acme', 'base'": what config messages name. */
static void set_label(dg_policy_wiring *w, const json_t *locks)
{
    char label[512] = "team policy";
    size_t used = strlen(label);
    json_t *seen = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)locks, key, v)
    {
        const char *policy = json_string_value(json_object_get(v, "policy"));
        if (!policy || !seen || json_object_get(seen, policy))
            continue;
        json_object_set_new(seen, policy, json_true());
        int n = snprintf(label + used, sizeof label - used, "%s'%s'",
                         json_object_size(seen) == 1 ? " " : ", ", policy);
        if (n > 0 && (size_t)n < sizeof label - used)
            used += (size_t)n;
    }
    json_decref(seen);
    dg_config_set_policy_label(w->d->config, label);
}

/* Puts the new locks in the policy layer: removed keys first, then new or changed values. */
static void apply_locks(dg_policy_wiring *w, json_t *locks)
{
    dg_config *cfg = w->d->config;
    set_label(w, locks);
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(w->locks, tmp, key, v)
    {
        if (!json_object_get(locks, key))
            dg_config_set_layer(cfg, DG_LAYER_POLICY, key, NULL, NULL);
    }
    json_object_foreach(locks, key, v)
    {
        char *err = NULL;
        const char *value = json_string_value(json_object_get(v, "value"));
        if (dg_config_set_layer(cfg, DG_LAYER_POLICY, key, value, &err) != DG_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s = %s (%s) is not applied: %s", key, value,
                     json_string_value(json_object_get(v, "source")), err ? err : "refused");
            dg_log(DG_LOG_ERROR, "policy", "%s", msg);
            json_array_append_new(w->problems, json_string(msg));
            json_object_set_new(v, "error", json_string(err ? err : "refused"));
        }
        free(err);
    }
    json_decref(w->locks);
    w->locks = json_incref(locks);
}

/* ---- applying ---- */

static void identity_of(const dg_daemon *d, dg_policy_who *who)
{
    who->lan_key = d->identity.lan_key;
    who->uuid = d->identity.uuid;
    who->group = d->identity.group;
}

static json_t *summary(const dg_policy_wiring *w)
{
    json_t *eff = dg_policy_effective_json(w->eff);
    return json_pack("{s:o, s:o}", "files", dg_policy_set_json(w->set), "effective", eff);
}

/*
 * Makes set (taken) the policy in force: rules, gate, locks, plugins, event.
 * cause: "startup", "reload", "identity". Returns 1 if anything changed.
 */
static int apply(dg_policy_wiring *w, dg_policy_set *set, const char *cause, json_t **started,
                 json_t **stopped)
{
    dg_daemon *d = w->d;
    dg_policy_who who;
    identity_of(d, &who);
    dg_policy_effective *eff = dg_policy_evaluate(set, &who);
    if (!eff) {
        dg_log(DG_LOG_ERROR, "policy", "out of memory evaluating the policy; keeping the old one");
        if (set != w->set)
            dg_policy_set_free(set);
        *started = json_array();
        *stopped = json_array();
        return 0;
    }
    /* Before anything moves: new locks alone may already start a plugin turned on. */
    json_t *active_before = dg_daemon_active_plugins(d);
    json_t *before = summary(w);
    json_t *old_keys = dg_policy_effective_json(w->eff);
    if (set != w->set) {
        dg_policy_set_free(w->set);
        w->set = set;
    }
    dg_policy_effective_free(w->eff);
    w->eff = eff;
    json_t *after = summary(w);
    json_t *new_keys = dg_policy_effective_json(w->eff);
    int changed = !json_equal(before, after);
    int trust_changed = !json_equal(json_object_get(old_keys, "licence_keys"),
                                    json_object_get(new_keys, "licence_keys"));
    json_decref(old_keys);
    json_decref(new_keys);
    json_decref(before);
    json_t *locks = build_locks(eff);
    if (locks)
        apply_locks(w, locks);
    json_decref(locks);
    if (changed)
        w->applied_at = (int64_t)time(NULL);
    if (trust_changed && d->licence)
        dg_daemon_licence_trust_changed(d);
    if (changed && d->plugins)
        dg_plugin_host_reevaluate(d->plugins);
    json_t *active_after = dg_daemon_active_plugins(d);
    dg_daemon_plugins_diff(active_before, active_after, started, stopped);
    json_decref(active_before);
    json_decref(active_after);
    if (changed && strcmp(cause, "startup") != 0) {
        json_t *ev = json_deep_copy(after);
        if (ev) {
            json_object_set_new(ev, "cause", json_string(cause));
            json_object_set_new(ev, "started", json_incref(*started));
            json_object_set_new(ev, "stopped", json_incref(*stopped));
            json_object_set_new(ev, "locked_keys", json_deep_copy(w->locks));
        }
        int rc = dg_bus_publish(d->bus, NULL, DG_POLICY_CHANGED_TOPIC, ev);
        if (rc != DG_OK)
            dg_log(DG_LOG_WARN, "policy", "could not publish %s (%d)", DG_POLICY_CHANGED_TOPIC, rc);
    }
    json_decref(after);
    return changed;
}

/* "a.json: unsigned: ...; b.json: malformed: ..." for the refused files. */
static void refusals(const dg_policy_set *set, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (set->error)
        used = (size_t)snprintf(buf, len, "%s", set->error);
    for (size_t i = 0; i < set->n_files && used < len; i++) {
        const dg_policy_file *f = set->files[i];
        if (f->doc)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s: %s: %s", used ? "; " : "", f->file,
                         dg_refusal_name(f->refusal), f->reason ? f->reason : "");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/*
 * Reads the directory again. At start-up the good files apply and refused
 * ones are reported; later, a refused file makes the whole reload fail
 * (DG_EDENIED, *msg says why) so a broken edit never loosens the policy.
 */
static int reload(dg_policy_wiring *w, const char *cause, char **msg)
{
    dg_daemon *d = w->d;
    int startup = strcmp(cause, "startup") == 0;
    json_t *listing = json_array(), *problems = json_array();
    int require_signed = read_require_signed(w);
    dg_keyring *admin = load_admin_keys(w, listing, problems);
    dg_policy_set *set = dg_policy_load_dir(d->opts.policy_dir, admin, require_signed);
    dg_keyring_free(admin);
    char why[4096];
    if (!set || !listing || !problems) {
        dg_policy_set_free(set);
        json_decref(listing);
        json_decref(problems);
        *msg = strdup("out of memory reading the policy");
        return DG_ENOMEM;
    }
    for (size_t i = 0; i < json_array_size(problems); i++)
        dg_log(DG_LOG_WARN, "policy", "%s", json_string_value(json_array_get(problems, i)));
    refusals(set, why, sizeof why);
    if (why[0] && !startup) {
        dg_log(DG_LOG_ERROR, "policy", "reload refused, the policy in force stays: %s", why);
        size_t n = strlen(why) + 96;
        if ((*msg = malloc(n)))
            snprintf(*msg, n, "policy reload refused, the policy in force stays: %s", why);
        dg_policy_set_free(set);
        json_decref(listing);
        json_decref(problems);
        return DG_EDENIED;
    }
    if (why[0])
        dg_log(DG_LOG_ERROR, "policy", "refused: %s", why);
    json_decref(w->admin_keys);
    w->admin_keys = listing;
    json_decref(w->problems);
    w->problems = problems;
    w->require_signed = require_signed;
    size_t applied = set->n_files - dg_policy_set_refused(set);
    json_t *started, *stopped;
    int changed = apply(w, set, cause, &started, &stopped);
    char on[512], off[512];
    dg_daemon_join_ids(started, on, sizeof on);
    dg_daemon_join_ids(stopped, off, sizeof off);
    char text[1400];
    if (changed)
        snprintf(text, sizeof text, "policy applied from %s: %zu file%s; started: %s; stopped: %s",
                 d->opts.policy_dir, applied, applied == 1 ? "" : "s", on, off);
    else
        snprintf(text, sizeof text, "policy unchanged (%zu file%s in %s)", applied,
                 applied == 1 ? "" : "s", d->opts.policy_dir);
    dg_log(DG_LOG_INFO, "policy", "%s", text);
    *msg = strdup(text);
    json_decref(started);
    json_decref(stopped);
    return DG_OK;
}

/* ---- triggers: SIGHUP, identity changes (deferred to a clean loop turn) ---- */

static void on_defer(uv_timer_t *t)
{
    dg_policy_wiring *w = t->data;
    char *msg = NULL;
    if (w->reload_pending) {
        w->reload_pending = 0;
        reload(w, "reload", &msg);
    } else {
        json_t *started, *stopped;
        apply(w, w->set, "identity", &started, &stopped);
        json_decref(started);
        json_decref(stopped);
    }
    free(msg);
}

static void defer(dg_policy_wiring *w, int reload_files)
{
    w->reload_pending |= reload_files;
    if (w->handles)
        uv_timer_start(&w->defer, on_defer, 0, 0);
}

static void on_hup(uv_signal_t *s, int signum)
{
    /* After the config's own SIGHUP reload, which may change policy.require_signed. */
    defer(s->data, 1);
}

static void on_config_change(const char *key, const char *old_value, const char *new_value,
                             void *user)
{
    dg_daemon *d = user;
    /* Teams are matched by group: a new group may match other rules. */
    if (d->policy && strcmp(key, "identity.group") == 0)
        defer(d->policy, 0);
}

/* ---- gate ---- */

static int policy_gate(void *user, const dg_manifest *m, char **reason)
{
    dg_policy_wiring *w = user;
    char why[1024];
    if (dg_policy_plugin_allowed(w->eff, m->id, m->outside_lan, why, sizeof why))
        return DG_OK;
    *reason = strdup(why);
    return DG_EDENIED;
}

/* ---- RPC ---- */

static void rpc_show(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_policy_wiring *w = user;
    const dg_daemon *d = w->d;
    json_t *locked = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(w->locks, key, v)
    {
        json_t *o = json_deep_copy(v);
        if (o) {
            json_object_set_new(o, "key", json_string(key));
            json_object_set_new(o, "applied", json_boolean(!json_object_get(o, "error")));
        }
        json_array_append_new(locked, o);
    }
    char when[64] = "";
    if (w->applied_at) {
        time_t t = (time_t)w->applied_at;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    json_t *r =
        json_pack("{s:s, s:s, s:b, s:{s:s, s:s, s:s}, s:o, s:s?, s:o, s:o, s:O, s:O, s:s?}", "dir",
                  d->opts.policy_dir, "keys_dir", d->opts.keys_dir, "require_signed",
                  w->require_signed, "identity", "lan_key", d->identity.lan_key, "uuid",
                  d->identity.uuid, "group", d->identity.group, "files", dg_policy_set_json(w->set),
                  "error", w->set ? w->set->error : NULL, "effective",
                  dg_policy_effective_json(w->eff), "locked_keys", locked, "admin_keys",
                  w->admin_keys, "problems", w->problems, "applied_at", when[0] ? when : NULL);
    if (!r)
        dg_rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
    else
        dg_rpc_reply(call, r);
}

static void rpc_reload(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_policy_wiring *w = user;
    char *msg = NULL;
    int rc = reload(w, "reload", &msg);
    if (rc == DG_OK)
        dg_rpc_reply(call, json_pack("{s:s, s:I}", "message", msg ? msg : "policy reloaded",
                                     "files", (json_int_t)(w->set ? w->set->n_files : 0)));
    else
        dg_rpc_fail(call, rc == DG_EDENIED ? DG_RPC_DENIED : DG_RPC_FAILED, "%s",
                    msg ? msg : "policy reload failed");
    free(msg);
}

/* ---- life cycle ---- */

int dg_daemon_policy_init(dg_daemon *d)
{
    dg_policy_wiring *w = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    w->d = d;
    w->locks = json_object();
    w->problems = json_array();
    w->admin_keys = json_array();
    d->policy = w;
    if (!w->locks || !w->problems || !w->admin_keys)
        return -1;
    dg_config_declare(d->config, REQUIRE_SIGNED_KEY, DG_CONF_BOOL, "false", 1, "core",
                      "refuse team policy files not signed by an admin key (system file or -o "
                      "only; applied on reload)");
    if (dg_bus_declare(d->bus, NULL, DG_POLICY_CHANGED_TOPIC, DG_OVERFLOW_BLOCK) != DG_OK)
        return -1;
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"policy.show", "the effective team policy, its files and where each rule came from",
         rpc_show},
        {"policy.reload", "read the policy directory again and apply it live", rpc_reload},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (dg_rpc_register(d->rpc, NULL, methods[i].name, methods[i].summary, methods[i].fn, w,
                            NULL) != DG_OK)
            return -1;
    uv_timer_init(&d->loop, &w->defer);
    w->defer.data = w;
    uv_signal_init(&d->loop, &w->hup);
    w->hup.data = w;
    w->handles = 1;
    if (uv_signal_start(&w->hup, on_hup, SIGHUP) != 0)
        dg_log(DG_LOG_WARN, "policy", "cannot watch SIGHUP: reload with 'dengon policy reload'");
    uv_unref((uv_handle_t *)&w->hup);
    dg_config_on_change(d->config, on_config_change, d);
    char *msg = NULL;
    int rc = reload(w, "startup", &msg);
    free(msg);
    return rc == DG_OK ? 0 : -1;
}

void dg_daemon_policy_attach(dg_daemon *d)
{
    if (d->policy && d->plugins)
        dg_plugin_host_add_gate(d->plugins, policy_gate, d->policy);
}

json_t *dg_daemon_policy_licence_keys(dg_daemon *d)
{
    json_t *all = d->policy ? dg_policy_effective_json(d->policy->eff) : NULL;
    json_t *keys = json_incref(json_object_get(all, "licence_keys"));
    json_decref(all);
    return keys ? keys : json_array();
}

static void on_closed(uv_handle_t *h)
{
    dg_policy_wiring *w = h->data;
    /* Both handles share w: the second close callback frees it. */
    if (--w->handles == 0)
        free(w);
}

void dg_daemon_policy_free(dg_daemon *d)
{
    dg_policy_wiring *w = d->policy;
    if (!w)
        return;
    d->policy = NULL;
    dg_policy_set_free(w->set);
    dg_policy_effective_free(w->eff);
    json_decref(w->locks);
    json_decref(w->problems);
    json_decref(w->admin_keys);
    if (!w->handles) {
        free(w);
        return;
    }
    w->handles = 2;
    uv_close((uv_handle_t *)&w->defer, on_closed);
    uv_close((uv_handle_t *)&w->hup, on_closed);
}
