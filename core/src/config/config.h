/*
 * Layered configuration. Keys are dotted ("http.proxyHost"); in INI files
 * "[http] proxyHost=x" and a top-level "http.proxyHost=x" mean the same key.
 * Layers, lowest first: built-in defaults, profile, system file, user file,
 * team policy (locked keys), command line (-o key=value). The effective value
 * is the one from the highest layer that sets the key, except that a policy
 * lock always wins over the user file and the command line.
 */
#ifndef DG_CONFIG_H
#define DG_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dg_config dg_config;

/*
 * Limits. A key is segments of [A-Za-z0-9_-] joined by '.', case-sensitive.
 * A value is UTF-8 without control characters (tab allowed). INI lines longer
 * than DG_CONFIG_LINE_MAX and files larger than DG_CONFIG_FILE_MAX are errors,
 * never silently cut. A "[section]" name is at most DG_CONFIG_SECTION_MAX bytes
 * (libinih's fixed buffer); longer prefixes can be written in the flat form.
 *
 * INI dialect (libinih): comments are lines starting with ';' or '#', and
 * inline after a blank: "a = b ; note" ("a = b;c" keeps "b;c"). "key: value"
 * equals "key = value". Leading/trailing blanks of values are dropped, quotes
 * are kept. Indentation is cosmetic: there are no multi-line values. In a
 * file, the last assignment of a key wins.
 */
#define DG_CONFIG_KEY_MAX 128
#define DG_CONFIG_VALUE_MAX 4096
#define DG_CONFIG_SECTION_MAX 49
#define DG_CONFIG_LINE_MAX 8191
#define DG_CONFIG_FILE_MAX (1024 * 1024)

typedef enum dg_config_layer {
    DG_LAYER_DEFAULT = 0, /* built-in defaults (embedded conf/dengon.ini + declarations) */
    DG_LAYER_PROFILE,     /* conf/profiles/<name>.ini, embedded */
    DG_LAYER_SYSTEM,      /* /etc/dengon/dengon.ini or similar */
    DG_LAYER_USER,        /* <home>/config/dengon.ini, written by "config set" */
    DG_LAYER_POLICY,      /* team policy: locked keys */
    DG_LAYER_CMDLINE,     /* -o key=value */
    DG_LAYER_COUNT
} dg_config_layer;

typedef enum dg_config_type { DG_CONF_STRING, DG_CONF_INT, DG_CONF_BOOL } dg_config_type;

/* Called for every key whose effective value changed (old/new may be NULL). */
typedef void (*dg_config_change_fn)(const char *key, const char *old_value, const char *new_value,
                                    void *user);

dg_config *dg_config_new(void);
void dg_config_free(dg_config *cfg);

const char *dg_config_layer_name(dg_config_layer layer); /* "default", "profile", ... */

/*
 * Declares a known key: its type, default (may be NULL), whether the owner
 * applies changes live, who owns it ("core" or a plugin id) and a one-line
 * description. Declaring a key twice is DG_EEXIST unless owner matches.
 * Undeclared keys found in files are kept but warned about once.
 */
int dg_config_declare(dg_config *cfg, const char *key, dg_config_type type,
                      const char *default_value, int live, const char *owner,
                      const char *description);
/* Removes the declarations (not the values) of owner. */
void dg_config_undeclare_owner(dg_config *cfg, const char *owner);

/*
 * Replaces a layer with the contents of an INI file or string. A missing file
 * is not an error (the layer becomes empty). On a syntax error nothing changes
 * and *err (new string, may be NULL) names the file and line. Returns DG_OK,
 * DG_EINVAL or DG_ERR. Changes of effective values are notified.
 */
int dg_config_load_file(dg_config *cfg, dg_config_layer layer, const char *path, char **err);
int dg_config_load_string(dg_config *cfg, dg_config_layer layer, const char *text,
                          const char *origin, char **err);
/* Sets or (value NULL) unsets one key in a layer; validates declared types. */
int dg_config_set_layer(dg_config *cfg, dg_config_layer layer, const char *key, const char *value,
                        char **err);
void dg_config_clear_layer(dg_config *cfg, dg_config_layer layer);

/* Effective value (borrowed until the next change of that key) or NULL. */
const char *dg_config_get(const dg_config *cfg, const char *key);
/* Typed getters: dflt when unset or not parseable as the type. */
int64_t dg_config_get_int(const dg_config *cfg, const char *key, int64_t dflt);
int dg_config_get_bool(const dg_config *cfg, const char *key, int dflt);
/*
 * Strict parsers used by the getters and validation: 0 ok, -1 bad.
 * int: optional sign, decimal digits, optional suffix k/m/g (case-insensitive,
 * binary: 1k = 1024), no blanks, must fit int64 ("64k", "-3", "+1g").
 */
int dg_config_parse_int(const char *text, int64_t *out);
int dg_config_parse_bool(const char *text, int *out); /* true/false/yes/no/on/off/1/0 */

/* 1 when key has the syntax described above, else 0. */
int dg_config_key_valid(const char *key);
/* "string", "int" or "bool". */
const char *dg_config_type_name(dg_config_type type);

/* The layer the effective value comes from, or -1 if unset. */
int dg_config_source(const dg_config *cfg, const char *key);
int dg_config_is_locked(const dg_config *cfg, const char *key);

/*
 * "config set": validates (declared key, type), refuses a policy-locked key
 * (DG_EDENIED, *err names the policy), writes the user file atomically
 * (keeping its other lines and comments), updates the user layer. Returns
 * DG_OK if the owner applies it live, DG_ERESTART if a restart is needed.
 * Unknown keys are DG_ENOENT, bad values DG_EINVAL, I/O failures DG_ERR.
 * value NULL is "config unset": removes the key's lines from the user file
 * (allowed for undeclared and locked keys, so stale entries can be cleaned up).
 * The user layer is replaced by the rewritten file's full content.
 */
int dg_config_user_set(dg_config *cfg, const char *user_file, const char *key, const char *value,
                       char **err);

/* Label of the policy layer for messages ("team policy 'sales'"); copied. */
void dg_config_set_policy_label(dg_config *cfg, const char *label);

/*
 * [{"key","value","source","type","owner","live","locked","declared","description"}]
 * sorted by key; new reference.
 */
json_t *dg_config_list(const dg_config *cfg);
/* One entry as in dg_config_list, or NULL if neither declared nor set. */
json_t *dg_config_describe(const dg_config *cfg, const char *key);
int dg_config_is_live(const dg_config *cfg, const char *key);

/* Logs (once per key for the process lifetime) every set key that nobody declared. */
void dg_config_warn_unknown(dg_config *cfg);

void dg_config_on_change(dg_config *cfg, dg_config_change_fn fn, void *user);

#endif
