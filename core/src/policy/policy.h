/*
 * Team policy (docs/admin-guide.md, "Team policy"): JSON files an admin puts
 * in the policy directory (default /etc/dengon/policy.d, later also pushed by
 * the server). Each file has a default rule and rules per team, matched by
 * group name or by user key. A rule forces plugins on or off, locks config
 * keys to values, and switches named modes on (lan_only: no plugin that
 * reaches outside the LAN). A file may be signed by an admin key (the
 * envelope of licence/signed.h with member "policy"); an installation can
 * require that.
 *
 *   {"format": 1, "name": "acme",
 *    "description": "...",                         (optional)
 *    "licence_keys": ["reseller-a"],               (optional)
 *    "default": {"plugins": {"webui": "on"}, "config": {"files.max_size": "50m"}},
 *    "teams": [{"name": "hr", "groups": ["HR"], "users": ["alice@pc-17"],
 *               "modes": ["lan_only"], "config": {"users.offline_days": 30}}]}
 *
 * Precedence: files in name order; within a file the default, then every
 * matching team in order. For a plugin or a key the last rule that names it
 * wins; modes add up (a mode once on stays on).
 */
#ifndef DG_POLICY_H
#define DG_POLICY_H

#include "licence/keys.h"
#include "licence/signed.h"

#include <jansson.h>
#include <stddef.h>

#define DG_POLICY_FORMAT 1
#define DG_POLICY_MAX_BYTES (256 * 1024)
#define DG_POLICY_MAX_TEAMS 1024
#define DG_POLICY_MAX_LIST 1024 /* entries in a groups/users/plugins/config/modes list */
#define DG_POLICY_MAX_FILES 256
#define DG_POLICY_NAME_MAX 64

/* Named modes. */
enum { DG_POLICY_MODE_LAN_ONLY = 1u << 0 };

typedef struct dg_policy_setting {
    char *key;
    char *value; /* as text, the way the config stores it */
} dg_policy_setting;

typedef struct dg_policy_switch {
    char *id;
    int on;
} dg_policy_switch;

typedef struct dg_policy_rule {
    dg_policy_switch *plugins;
    size_t n_plugins;
    dg_policy_setting *config;
    size_t n_config;
    unsigned modes;
} dg_policy_rule;

typedef struct dg_policy_team {
    char *name;
    char **groups;
    size_t n_groups;
    char **users; /* LAN keys (user@host) or UUIDs */
    size_t n_users;
    dg_policy_rule rule;
} dg_policy_team;

typedef struct dg_policy_doc {
    char *name;
    char *description;
    char **licence_keys;
    size_t n_licence_keys;
    int has_default;
    dg_policy_rule def;
    dg_policy_team *teams;
    size_t n_teams;
} dg_policy_doc;

/* Strict parse of a policy document; err gets "teams[1].plugins.x: ..." on failure. */
int dg_policy_parse_doc(const json_t *doc, dg_policy_doc **out, char *err, size_t errlen);
void dg_policy_doc_free(dg_policy_doc *doc);
/* "lan_only" for DG_POLICY_MODE_LAN_ONLY; NULL for an unknown bit. */
const char *dg_policy_mode_name(unsigned mode);

/* One policy file after reading: applied (doc set) or refused (refusal, reason). */
typedef struct dg_policy_file {
    char *file; /* its name in the directory, or the origin given */
    int is_signed;
    char key_id[DG_KEY_ID_LEN + 1];
    char *signer; /* the admin key's name when signed and verified */
    dg_policy_doc *doc;
    dg_refusal refusal;
    char *reason;
} dg_policy_file;

/*
 * Reads one file's text: a bare policy document or a signed envelope. A
 * signature is always checked against admin_keys (may be NULL: no keys); an
 * unsigned document is refused when require_signed. Returns NULL only when
 * out of memory.
 */
dg_policy_file *dg_policy_file_parse(const char *text, size_t len, const char *name,
                                     const dg_keyring *admin_keys, int require_signed);
void dg_policy_file_free(dg_policy_file *f);

/* Every *.json file of a directory, in name order. */
typedef struct dg_policy_set {
    char *dir;
    dg_policy_file **files;
    size_t n_files;
    char *error; /* the directory itself could not be read (NULL: fine, or absent) */
} dg_policy_set;

/*
 * Reads dir (a missing directory is an empty set). Files not ending in
 * ".json" and hidden files are ignored. NULL only when out of memory.
 */
dg_policy_set *dg_policy_load_dir(const char *dir, const dg_keyring *admin_keys,
                                  int require_signed);
void dg_policy_set_free(dg_policy_set *set);
/* Number of refused files. */
size_t dg_policy_set_refused(const dg_policy_set *set);

/* Who the rules are matched against. */
typedef struct dg_policy_who {
    const char *lan_key; /* user@host */
    const char *uuid;
    const char *group;
} dg_policy_who;

/* One effective setting and where it came from. */
typedef struct dg_policy_entry {
    char *name;   /* plugin id, config key, mode or key name */
    char *value;  /* config value; "on"/"off" for plugins; NULL otherwise */
    char *policy; /* the policy's "name" */
    char *source; /* "<file>: default" or "<file>: team 'hr' (group 'HR')" */
} dg_policy_entry;

typedef struct dg_policy_effective {
    dg_policy_entry *plugins, *config, *modes, *licence_keys, *teams;
    size_t n_plugins, n_config, n_modes, n_licence_keys, n_teams;
    unsigned mode_bits;
} dg_policy_effective;

/* The rules of the applied files (refused ones are skipped) for who. NULL when out of memory. */
dg_policy_effective *dg_policy_evaluate(const dg_policy_set *set, const dg_policy_who *who);
void dg_policy_effective_free(dg_policy_effective *e);

/* The entry for a plugin / key / mode, or NULL. */
const dg_policy_entry *dg_policy_plugin_rule(const dg_policy_effective *e, const char *id);
const dg_policy_entry *dg_policy_config_rule(const dg_policy_effective *e, const char *key);
const dg_policy_entry *dg_policy_mode_rule(const dg_policy_effective *e, unsigned mode);

/*
 * May plugin id (manifest network.outside_lan = outside_lan) run? 1 yes, 0 no
 * with a reason naming the policy and the rule in why. A plugin turned off,
 * or reaching outside the LAN under lan_only, may not (off wins over on).
 */
int dg_policy_plugin_allowed(const dg_policy_effective *e, const char *id, int outside_lan,
                             char *why, size_t len);

/*
 * {"plugins":[{"id","state","policy","source"}], "config":[{"key","value",
 * "policy","source"}], "modes":[{"mode","policy","source"}],
 * "licence_keys":[{"name","policy","source"}], "teams":[{"name","policy",
 * "source"}]}; new reference.
 */
json_t *dg_policy_effective_json(const dg_policy_effective *e);
/* [{"file","name","signed","key_id","signer","status":"applied"|"refused","refusal","reason"}] */
json_t *dg_policy_set_json(const dg_policy_set *set);

#endif
