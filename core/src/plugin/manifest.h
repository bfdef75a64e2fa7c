/*
 * plugin.json: parsed strictly (duplicate and unknown keys rejected, ids,
 * semver and capability names checked). Every eligibility decision is made
 * from this before any plugin code runs. See conf/plugin-manifest.schema.json.
 */
#ifndef DG_MANIFEST_H
#define DG_MANIFEST_H

#include <jansson.h>
#include <stddef.h>

typedef struct dg_semver {
    unsigned long major, minor, patch;
    char prerelease[64]; /* "" when none */
} dg_semver;

typedef struct dg_manifest_dep {
    char *id;
    char *range; /* semver range, e.g. ">=1.2.0 <2.0.0", "^1.2", "*" */
} dg_manifest_dep;

typedef struct dg_manifest_config_key {
    char *key;
    char *type;        /* "string" | "int" | "bool" */
    char *default_value; /* textual, may be NULL */
    int live;
    char *description;
} dg_manifest_config_key;

typedef struct dg_manifest {
    char *path; /* absolute path of plugin.json */
    char *dir;  /* absolute directory holding it */
    int manifest_version;
    char *id;
    char *name;
    char *version;
    dg_semver semver;
    char *description;
    char *publisher;
    int abi_major;
    int abi_min_minor;
    char *library;      /* file name in dir, e.g. "libhello.so" (no '/') */
    char *library_path; /* dir + "/" + library */
    char *entry;        /* exact exported symbol */
    char **provides; size_t n_provides;  /* "name@major" */
    char **requires; size_t n_requires;
    char **optional; size_t n_optional;
    dg_manifest_dep *deps; size_t n_deps;
    char **platforms; size_t n_platforms; /* empty = any */
    int default_enabled; /* load.default_enabled, default 1 */
    int priority;        /* load.priority, default 0 */
    int outside_lan;     /* network.outside_lan: reaches beyond the LAN (policy lan_only) */
    char *premium_entitlement; /* premium.entitlement or NULL */
    dg_manifest_config_key *config; size_t n_config;
} dg_manifest;

/* On failure returns -1 and writes a one-line reason into err. */
int dg_manifest_load(const char *path, dg_manifest **out, char *err, size_t errlen);
int dg_manifest_parse(const char *json, size_t len, const char *path, dg_manifest **out,
                      char *err, size_t errlen);
void dg_manifest_free(dg_manifest *m);

int dg_plugin_id_valid(const char *id); /* [a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*, <= 64 */
int dg_semver_parse(const char *text, dg_semver *out);
int dg_semver_compare(const dg_semver *a, const dg_semver *b);
/* 1 match, 0 no match, -1 invalid range. */
int dg_semver_range_match(const char *range, const dg_semver *v);
/* "name@major": 0 ok and fills name (size namelen) and major; -1 bad. */
int dg_capability_parse(const char *cap, char *name, size_t namelen, unsigned *major);
/* This build's platform string, e.g. "linux-x86_64". */
const char *dg_platform_name(void);

#endif
