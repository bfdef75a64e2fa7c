/*
 * plugin.json: parsed strictly (duplicate and unknown keys rejected, ids,
 * semver and capability names checked). Every eligibility decision is made
 * from this before any plugin code runs. See conf/plugin-manifest.schema.json.
 */
#ifndef DG_MANIFEST_H
#define DG_MANIFEST_H

#include <jansson.h>
#include <stddef.h>

/* Limits enforced by the parser (and mirrored in the JSON Schema). */
#define DG_MANIFEST_MAX_BYTES (64 * 1024) /* larger plugin.json files are rejected */
#define DG_PLUGIN_ID_MAX 64               /* bytes in a plugin id */
#define DG_MANIFEST_MAX_LIST 128          /* entries in provides/requires/optional/deps */
#define DG_RANGE_MAX 256                  /* bytes in a dependency version range */

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
    char *type;          /* "string" | "int" | "bool" */
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
    /* capabilities, "name@major" */
    char **provides;
    size_t n_provides;
    char **requires;
    size_t n_requires;
    char **optional;
    size_t n_optional;
    dg_manifest_dep *deps;
    size_t n_deps;
    char **platforms; /* empty = any */
    size_t n_platforms;
    int default_enabled;       /* load.default_enabled, default 1 */
    int priority;              /* load.priority, default 0 */
    int outside_lan;           /* network.outside_lan: reaches beyond the LAN (policy lan_only) */
    char *premium_entitlement; /* premium.entitlement or NULL */
    dg_manifest_config_key *config;
    size_t n_config;
} dg_manifest;

/*
 * On failure returns -1, leaves *out NULL and writes a one-line reason into
 * err ("<path>: unknown key 'api.abi_minor'"); err may be NULL.
 *
 * dg_manifest_load: a relative path is made absolute with realpath() of its
 * directory; files over DG_MANIFEST_MAX_BYTES or not regular are rejected.
 * dg_manifest_parse: path is only used for messages and to derive path, dir
 * and library_path (all NULL when path is NULL; dir is "." for a bare name).
 */
int dg_manifest_load(const char *path, dg_manifest **out, char *err, size_t errlen);
int dg_manifest_parse(const char *json, size_t len, const char *path, dg_manifest **out, char *err,
                      size_t errlen);
void dg_manifest_free(dg_manifest *m); /* NULL is fine */

int dg_plugin_id_valid(const char *id); /* [a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*, <= 64 */
/*
 * SemVer 2.0.0: "major.minor.patch[-prerelease][+build]", no leading zeros in
 * numeric parts. 0 ok, -1 invalid (also when the prerelease exceeds 63 bytes).
 * Build metadata is accepted and ignored.
 */
int dg_semver_parse(const char *text, dg_semver *out);
/* <0, 0, >0 with SemVer precedence (1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0). */
int dg_semver_compare(const dg_semver *a, const dg_semver *b);
/*
 * 1 match, 0 no match, -1 invalid range. Syntax (npm style): comparator sets
 * separated by "||"; a set is space-separated comparators, all of which must
 * match: ">=1.2.3", ">1.2", "<2", "<=1.x", "=1.0.0", a bare version "1.2.3",
 * x-ranges "1.x" / "1.2.*" / "1", "~1.2.3", "^1.2.3", "*". As in npm, a
 * prerelease version only matches a set with a comparator naming the same
 * major.minor.patch with a prerelease (">=1.0.0" does not match 1.1.0-rc.1).
 */
int dg_semver_range_match(const char *range, const dg_semver *v);
/* 0 when range is a valid range, -1 otherwise. */
int dg_semver_range_valid(const char *range);
/*
 * "name@major": name is dotted lowercase ([a-z][a-z0-9_-]* segments, <= 127
 * bytes), major decimal without leading zeros (<= 4294967295). 0 ok and fills
 * name (size namelen, may be NULL/0 to only validate) and major (may be NULL);
 * -1 bad or name does not fit.
 */
int dg_capability_parse(const char *cap, char *name, size_t namelen, unsigned *major);
/* This build's platform string, e.g. "linux-x86_64" ("<os>-<uname -m>"). */
const char *dg_platform_name(void);
/* 1 when m->platforms is empty or lists platform (NULL: dg_platform_name()), else 0. */
int dg_manifest_platform_supported(const dg_manifest *m, const char *platform);

#endif
