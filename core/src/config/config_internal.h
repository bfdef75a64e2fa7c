/*
 * Shared between the config module's source files; not for other modules.
 *
 * Storage: each layer is a jansson object mapping key -> JSON string. jansson
 * gives a hash table with ordered iteration, and dg_config_list needs JSON
 * anyway. A declaration is an object {"type","default","live","owner",
 * "description","from_decl"}; "from_decl" records that the DEFAULT layer entry
 * came from the declaration rather than from the embedded INI text.
 */
#ifndef DG_CONFIG_INTERNAL_H
#define DG_CONFIG_INTERNAL_H

#include "config/config.h"

#include <dengon/plugin.h>
#include <stdarg.h>
#include <stddef.h>

typedef struct dg_config_watcher {
    dg_config_change_fn fn;
    void *user;
} dg_config_watcher;

struct dg_config {
    json_t *layers[DG_LAYER_COUNT];
    json_t *decls;
    json_t *lock_warned; /* set of cmdline keys already reported as locked */
    char *policy_label;
    dg_config_watcher *watchers;
    size_t n_watchers;
};

/* ---- config_ini.c: the libinih front end ---- */

/* One assignment, in file order. Returns 0, or -1 to abort (out of memory). */
typedef int (*dg_ini_visit_fn)(void *user, const char *key, const char *value, int line);

/* Where things are in the text, for rewriting the user file. 0 = none. */
typedef struct dg_ini_shape {
    int first_section_line; /* first "[section]" header */
    int last_flat_line;     /* last assignment before the first section */
} dg_ini_shape;

/*
 * Parses text[0..len) with libinih, validating keys and values. On error
 * returns DG_EINVAL (or DG_ENOMEM) with *err = "origin:line: why"; visit may
 * already have been called for earlier lines, so callers build into scratch.
 */
int dg_ini_parse(const char *text, size_t len, const char *origin, dg_ini_visit_fn visit,
                 void *user, dg_ini_shape *shape, char **err);
/* Parses into a new object key -> string (later assignments win). */
int dg_ini_parse_map(const char *text, size_t len, const char *origin, json_t **out, char **err);

/* NULL when value is acceptable, else a short reason ("is not valid UTF-8"). */
const char *dg_cfg_value_problem(const char *value);
int dg_cfg_fits_type(dg_config_type type, const char *value);
/* "key: expected an integer (...), got 'v'"; new string. */
char *dg_cfg_type_error(const char *key, dg_config_type type, const char *value);
/* Printable, bounded copy of untrusted text for messages; new string. */
char *dg_cfg_quote(const char *text, size_t max);
/* vasprintf into a new string (NULL on failure). */
char *dg_cfg_fmt(const char *fmt, ...) DG_PRINTF(1, 2);
/* Stores msg (owned, may be NULL) in *err, or frees it when err is NULL; returns status. */
int dg_cfg_fail_owned(char **err, int status, char *msg);
/* Stores a new message in *err (if err is not NULL) and returns status. */
int dg_cfg_fail(char **err, int status, const char *fmt, ...) DG_PRINTF(3, 4);

/* ---- config.c: used by the other files ---- */

const json_t *dg_cfg_decl(const dg_config *cfg, const char *key);
dg_config_type dg_cfg_decl_type(const json_t *decl);
/* Replaces a layer by map (stolen) and notifies changed effective values. */
int dg_cfg_replace_layer(dg_config *cfg, dg_config_layer layer, json_t *map);
/* Parses text[0..len) into layer (replacing it) and notifies; see dg_config_load_string. */
int dg_cfg_load_text(dg_config *cfg, dg_config_layer layer, const char *text, size_t len,
                     const char *origin, char **err);
/* Sorted array of every key declared or set in any layer; new reference. */
json_t *dg_cfg_all_keys(const dg_config *cfg);

#endif
