/*
 * Unit tests: plugin.json parsing and validation, semver precedence, version
 * ranges, ids/capabilities/platforms, dg_manifest_load and the JSON Schema.
 */
#include "plugin/manifest.h"

#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */

#ifndef DG_SOURCE_DIR
#error "DG_SOURCE_DIR must point at the source tree"
#endif

static const char full_manifest[] =
    "{\n"
    "  \"manifest_version\": 1,\n"
    "  \"id\": \"com.example.hello\",\n"
    "  \"name\": \"Hello\",\n"
    "  \"version\": \"1.4.2-rc.1+build.7\",\n"
    "  \"description\": \"Says hello\",\n"
    "  \"publisher\": \"Example Ltd\",\n"
    "  \"api\": {\"abi_major\": 1, \"abi_min_minor\": 2},\n"
    "  \"library\": \"libhello.so\",\n"
    "  \"entry\": \"dg_plugin_entry\",\n"
    "  \"provides\": [\"chat.greeting@1\", \"chat.transport@2\"],\n"
    "  \"requires\": [\"core.bus@1\"],\n"
    "  \"optional\": [\"search.index@1\"],\n"
    "  \"dependencies\": [{\"id\": \"base\", \"version\": \">=1.0.0 <2.0.0\"},\n"
    "                   {\"id\": \"util-x\", \"version\": \"^0.3 || ~1.2.3\"}],\n"
    "  \"platforms\": [\"linux-x86_64\", \"linux-aarch64\"],\n"
    "  \"load\": {\"default_enabled\": false, \"priority\": 10},\n"
    "  \"network\": {\"outside_lan\": true},\n"
    "  \"premium\": {\"entitlement\": \"file-encryption\"},\n"
    "  \"config\": {\n"
    "    \"com.example.hello.greeting\": {\"type\": \"string\", \"default\": \"hi\", \"live\": true,\n"
    "                       \"description\": \"Greeting\"},\n"
    "    \"com.example.hello.count\": {\"type\": \"int\", \"default\": -3},\n"
    "    \"com.example.hello.loud\": {\"type\": \"bool\", \"default\": false},\n"
    "    \"com.example.hello.Max_size-2\": {\"type\": \"int\"}\n"
    "  }\n"
    "}\n";

static const char minimal_manifest[] =
    "{\"manifest_version\":1,\"id\":\"hello\",\"name\":\"Hello\",\"version\":\"1.0.0\","
    "\"api\":{\"abi_major\":1,\"abi_min_minor\":0},\"library\":\"libhello.so\","
    "\"entry\":\"dg_plugin_entry\"}";

static dg_manifest *parse_ok(const char *text, const char *path)
{
    char err[512];
    dg_manifest *m = NULL;
    int rc = dg_manifest_parse(text, strlen(text), path, &m, err, sizeof err);
    if (rc != 0)
        fail_msg("unexpected parse error: %s", err);
    assert_non_null(m);
    return m;
}

/* Parses text, expects failure and a message containing want; returns nothing leaked. */
static void expect_error(const char *text, size_t len, const char *want)
{
    char err[512];
    dg_manifest *m = (dg_manifest *)&err; /* must be reset to NULL */
    int rc = dg_manifest_parse(text, len, "plugin.json", &m, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_null(m);
    if (!strstr(err, want))
        fail_msg("message \"%s\" lacks \"%s\"", err, want);
    assert_null(strchr(err, '\n'));
    assert_int_equal(strncmp(err, "plugin.json: ", 13), 0);
}

/*
 * The minimal manifest with patch merged in at the top level (a JSON object;
 * a key mapped to null is deleted). Returns new text.
 */
static char *variant(const char *patch)
{
    json_error_t je;
    json_t *base = json_loads(minimal_manifest, 0, &je);
    json_t *p = json_loads(patch, 0, &je);
    assert_non_null(base);
    if (!p)
        fail_msg("bad patch %s: %s", patch, je.text);
    const char *key;
    json_t *value;
    json_object_foreach(p, key, value)
    {
        if (json_is_null(value))
            json_object_del(base, key);
        else
            json_object_set(base, key, value);
    }
    char *text = json_dumps(base, 0);
    json_decref(base);
    json_decref(p);
    assert_non_null(text);
    return text;
}

static void expect_variant_error(const char *patch, const char *want)
{
    char *text = variant(patch);
    expect_error(text, strlen(text), want);
    free(text);
}

/* ---- valid manifests ---- */

static void test_full_manifest(void **state)
{
    (void)state;
    dg_manifest *m = parse_ok(full_manifest, "/opt/plugins/hello/plugin.json");
    assert_int_equal(m->manifest_version, 1);
    assert_string_equal(m->id, "com.example.hello");
    assert_string_equal(m->name, "Hello");
    assert_string_equal(m->version, "1.4.2-rc.1+build.7");
    assert_int_equal(m->semver.major, 1);
    assert_int_equal(m->semver.minor, 4);
    assert_int_equal(m->semver.patch, 2);
    assert_string_equal(m->semver.prerelease, "rc.1");
    assert_string_equal(m->description, "Says hello");
    assert_string_equal(m->publisher, "Example Ltd");
    assert_int_equal(m->abi_major, 1);
    assert_int_equal(m->abi_min_minor, 2);
    assert_string_equal(m->library, "libhello.so");
    assert_string_equal(m->entry, "dg_plugin_entry");
    assert_string_equal(m->path, "/opt/plugins/hello/plugin.json");
    assert_string_equal(m->dir, "/opt/plugins/hello");
    assert_string_equal(m->library_path, "/opt/plugins/hello/libhello.so");
    assert_int_equal(m->n_provides, 2);
    assert_string_equal(m->provides[1], "chat.transport@2");
    assert_int_equal(m->n_requires, 1);
    assert_string_equal(m->requires[0], "core.bus@1");
    assert_int_equal(m->n_optional, 1);
    assert_string_equal(m->optional[0], "search.index@1");
    assert_int_equal(m->n_deps, 2);
    assert_string_equal(m->deps[0].id, "base");
    assert_string_equal(m->deps[0].range, ">=1.0.0 <2.0.0");
    assert_string_equal(m->deps[1].id, "util-x");
    assert_int_equal(m->n_platforms, 2);
    assert_string_equal(m->platforms[1], "linux-aarch64");
    assert_int_equal(m->default_enabled, 0);
    assert_int_equal(m->priority, 10);
    assert_int_equal(m->outside_lan, 1);
    assert_string_equal(m->premium_entitlement, "file-encryption");
    assert_int_equal(m->n_config, 4);
    assert_string_equal(m->config[0].key, "com.example.hello.greeting");
    assert_string_equal(m->config[0].type, "string");
    assert_string_equal(m->config[0].default_value, "hi");
    assert_int_equal(m->config[0].live, 1);
    assert_string_equal(m->config[0].description, "Greeting");
    assert_string_equal(m->config[1].default_value, "-3");
    assert_int_equal(m->config[1].live, 0);
    assert_null(m->config[1].description);
    assert_string_equal(m->config[2].default_value, "false");
    assert_string_equal(m->config[3].key, "com.example.hello.Max_size-2");
    assert_null(m->config[3].default_value);
    dg_manifest_free(m);
}

static void test_minimal_defaults(void **state)
{
    (void)state;
    dg_manifest *m = parse_ok(minimal_manifest, "plugin.json");
    assert_int_equal(m->default_enabled, 1);
    assert_int_equal(m->priority, 0);
    assert_int_equal(m->outside_lan, 0);
    assert_null(m->premium_entitlement);
    assert_null(m->description);
    assert_null(m->publisher);
    assert_int_equal(m->n_provides + m->n_requires + m->n_optional + m->n_deps, 0);
    assert_int_equal(m->n_platforms + m->n_config, 0);
    assert_string_equal(m->dir, ".");
    assert_string_equal(m->library_path, "./libhello.so");
    dg_manifest_free(m);

    m = parse_ok(minimal_manifest, NULL); /* no path: nothing to derive */
    assert_null(m->path);
    assert_null(m->dir);
    assert_null(m->library_path);
    dg_manifest_free(m);

    m = parse_ok(minimal_manifest, "/plugin.json");
    assert_string_equal(m->dir, "/");
    assert_string_equal(m->library_path, "/libhello.so");
    dg_manifest_free(m);
    dg_manifest_free(NULL);
}

static void test_boolean_and_int_defaults(void **state)
{
    (void)state;
    char *text = variant("{\"config\":{\"hello.k\":{\"type\":\"bool\",\"default\":true},"
                         "\"hello.n\":{\"type\":\"int\",\"default\":9223372036854775807}}}");
    dg_manifest *m = parse_ok(text, "plugin.json");
    assert_string_equal(m->config[0].default_value, "true");
    assert_string_equal(m->config[1].default_value, "9223372036854775807");
    dg_manifest_free(m);
    free(text);
}

/* ---- invalid manifests ---- */

static void test_duplicate_key(void **state)
{
    (void)state;
    static const char text[] = "{\n"
                               "  \"manifest_version\": 1,\n"
                               "  \"name\": \"A\",\n"
                               "  \"name\": \"B\"\n"
                               "}\n";
    expect_error(text, strlen(text), "plugin.json: duplicate key 'name' near line 4");
    static const char nested[] = "{\"api\": {\"abi_major\": 1, \"abi_major\": 2}}";
    expect_error(nested, strlen(nested), "duplicate key 'abi_major' near line 1");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    char *text = variant("{\"permisions\":[\"x\"]}");
    char err[256];
    dg_manifest *m = NULL;
    assert_int_equal(dg_manifest_parse(text, strlen(text), "plugin.json", &m, err, sizeof err), -1);
    assert_string_equal(err, "plugin.json: unknown key 'permisions'");
    free(text);
    expect_variant_error("{\"api\":{\"abi_major\":1,\"abi_min_minor\":0,\"abi_minor\":1}}",
                         "unknown key 'api.abi_minor'");
    expect_variant_error("{\"load\":{\"priorty\":1}}", "unknown key 'load.priorty'");
    expect_variant_error("{\"network\":{\"outside\":true}}", "unknown key 'network.outside'");
    expect_variant_error("{\"premium\":{\"entitlement\":\"x\",\"required\":true}}",
                         "unknown key 'premium.required'");
    expect_variant_error("{\"dependencies\":[{\"id\":\"x\",\"version\":\"*\",\"opt\":1}]}",
                         "unknown key 'dependencies[0].opt'");
    expect_variant_error("{\"config\":{\"hello.b\":{\"type\":\"int\",\"dflt\":1}}}",
                         "unknown key 'config.hello.b.dflt'");
    /* Control characters in a key are not echoed raw. */
    expect_variant_error("{\"bad\\nkey\":1}", "unknown key 'bad?key'");
}

static void test_missing_and_wrong_types(void **state)
{
    (void)state;
    static const char *const required[] = {"manifest_version", "id",   "name", "version", "api",
                                           "library",          "entry"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        char patch[64], want[64];
        snprintf(patch, sizeof patch, "{\"%s\":null}", required[i]);
        snprintf(want, sizeof want, "missing required key '%s'", required[i]);
        expect_variant_error(patch, want);
    }
    expect_variant_error("{\"api\":{\"abi_major\":1}}", "missing required key 'api.abi_min_minor'");
    expect_variant_error("{\"api\":{\"abi_major\":-1,\"abi_min_minor\":0}}",
                         "'api.abi_major' must be an integer between 0 and 65535");
    expect_variant_error("{\"api\":{\"abi_major\":1.0,\"abi_min_minor\":0}}",
                         "'api.abi_major' must be an integer");
    expect_variant_error("{\"api\":[]}", "'api' must be an object");
    expect_variant_error("{\"name\":5}", "'name' must be a string");
    expect_variant_error("{\"name\":\"\"}", "'name' must be a non-empty string");
    expect_variant_error("{\"description\":false}", "'description' must be a string");
    expect_variant_error("{\"load\":{\"default_enabled\":1}}",
                         "'load.default_enabled' must be true or false");
    expect_variant_error("{\"load\":{\"priority\":2147483648}}", "'load.priority' must be an");
    expect_variant_error("{\"provides\":\"x@1\"}", "'provides' must be an array of strings");
    expect_variant_error("{\"premium\":{}}", "missing required key 'premium.entitlement'");
    expect_variant_error("{\"premium\":{\"entitlement\":\"File\"}}",
                         "'premium.entitlement': 'File' is not a valid entitlement id");
    expect_variant_error("{\"dependencies\":[\"x\"]}", "'dependencies[0]' must be an object");
    expect_variant_error("{\"dependencies\":[{\"id\":\"x\"}]}",
                         "missing required key 'dependencies[0].version'");
    expect_error("[1]", 3, "the top level must be an object");
    expect_error("{\"id\": ", 7, "invalid JSON at line 1");
    expect_error("", 0, "invalid JSON");
    expect_error("{}\0{}", 5, "invalid JSON");
}

static void test_manifest_version(void **state)
{
    (void)state;
    expect_variant_error("{\"manifest_version\":2}",
                         "'manifest_version' is 2, only 1 is supported");
    /* Checked before unknown keys: a newer format is not reported as a typo. */
    expect_variant_error("{\"manifest_version\":2,\"new_key\":1}",
                         "'manifest_version' is 2, only 1 is supported");
    expect_variant_error("{\"manifest_version\":\"1\"}",
                         "'manifest_version' must be the integer 1");
}

static void test_bad_id(void **state)
{
    (void)state;
    expect_variant_error("{\"id\":\"Hello\"}", "'id': 'Hello' is not a valid plugin id");
    expect_variant_error("{\"id\":\"a..b\"}", "is not a valid plugin id");
    expect_variant_error("{\"id\":\"1abc\"}", "is not a valid plugin id");
    expect_variant_error("{\"id\":\"a.\"}", "is not a valid plugin id");
    expect_variant_error("{\"id\":\"a_b\"}", "is not a valid plugin id");
    expect_variant_error("{\"id\":\"\"}", "is not a valid plugin id");
    char patch[128];
    snprintf(patch, sizeof patch, "{\"id\":\"%065d\"}", 0);
    patch[7] = 'a'; /* 65 bytes starting with a letter */
    expect_variant_error(patch, "is not a valid plugin id");
}

static void test_bad_semver(void **state)
{
    (void)state;
    expect_variant_error("{\"version\":\"1.0\"}", "'version': '1.0' is not a semantic version");
    expect_variant_error("{\"version\":\"01.0.0\"}", "is not a semantic version");
    expect_variant_error("{\"version\":\"1.0.0-\"}", "is not a semantic version");
    expect_variant_error("{\"version\":\"v1.0.0\"}", "is not a semantic version");
}

static void test_bad_library_and_entry(void **state)
{
    (void)state;
    expect_variant_error("{\"library\":\"libhello.la\"}", "not a libtool .la");
    expect_variant_error("{\"library\":\"lib/hello.so\"}",
                         "'library': 'lib/hello.so' must be a plain file name");
    expect_variant_error("{\"library\":\"/usr/lib/libx.so\"}", "must be a plain file name");
    expect_variant_error("{\"library\":\"..\"}", "must be a plain file name");
    expect_variant_error("{\"library\":\"a..so\"}", "must be a plain file name");
    expect_variant_error("{\"library\":\"\"}", "must be a plain file name");
    expect_variant_error("{\"entry\":\"1entry\"}", "'entry': '1entry' is not a C identifier");
    expect_variant_error("{\"entry\":\"dg-entry\"}", "is not a C identifier");
    expect_variant_error("{\"entry\":\"\"}", "is not a C identifier");
}

static void test_bad_capabilities(void **state)
{
    (void)state;
    expect_variant_error("{\"provides\":[\"chat.transport\"]}",
                         "'provides[0]': 'chat.transport' is not a capability");
    expect_variant_error("{\"requires\":[\"Chat@1\"]}", "'requires[0]': 'Chat@1' is not");
    expect_variant_error("{\"optional\":[\"a@01\"]}", "'optional[0]': 'a@01' is not");
    expect_variant_error("{\"provides\":[\"a@1x\"]}", "is not a capability");
    expect_variant_error("{\"provides\":[\"a@4294967296\"]}", "is not a capability");
    expect_variant_error("{\"provides\":[\"@1\"]}", "is not a capability");
    expect_variant_error("{\"provides\":[1]}", "'provides[0]' must be a string");
    expect_variant_error("{\"provides\":[\"a@1\",\"b@1\",\"a@1\"]}",
                         "'provides[2]': duplicate entry 'a@1'");
    expect_variant_error("{\"provides\":[\"a@1\"],\"requires\":[\"a@1\"]}",
                         "'requires[0]': capability 'a@1' is also in 'provides'");
    expect_variant_error("{\"requires\":[\"a@1\"],\"optional\":[\"a@1\"]}",
                         "'optional[0]': capability 'a@1' is also in 'requires'");
    expect_variant_error("{\"platforms\":[\"Linux\"]}",
                         "'platforms[0]': 'Linux' is not a platform");
    expect_variant_error("{\"platforms\":[\"linux-x86_64\",\"linux-x86_64\"]}",
                         "'platforms[1]': duplicate entry");
}

static void test_bad_dependencies(void **state)
{
    (void)state;
    expect_variant_error("{\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"},"
                         "{\"id\":\"a\",\"version\":\"1.x\"}]}",
                         "'dependencies[1].id': duplicate dependency 'a'");
    expect_variant_error("{\"dependencies\":[{\"id\":\"hello\",\"version\":\"*\"}]}",
                         "'dependencies[0].id': a plugin cannot depend on itself");
    expect_variant_error("{\"dependencies\":[{\"id\":\"a\",\"version\":\">=1.\"}]}",
                         "'dependencies[0].version': '>=1.' is not a valid version range");
    expect_variant_error("{\"dependencies\":[{\"id\":\"A\",\"version\":\"*\"}]}",
                         "'dependencies[0].id': 'A' is not a valid plugin id");
}

static void test_bad_config(void **state)
{
    (void)state;
    expect_variant_error("{\"config\":{\"hello.a\":{\"type\":\"float\"}}}",
                         "'config.hello.a.type': 'float' is not one of string, int, bool");
    expect_variant_error("{\"config\":{\"hello.a\":{\"type\":\"int\",\"default\":\"3\"}}}",
                         "'config.hello.a.default' must be an integer (type is 'int')");
    expect_variant_error("{\"config\":{\"hello.a\":{\"type\":\"int\",\"default\":3.5}}}",
                         "'config.hello.a.default' must be an integer");
    expect_variant_error("{\"config\":{\"hello.a\":{\"type\":\"bool\",\"default\":\"true\"}}}",
                         "'config.hello.a.default' must be true or false (type is 'bool')");
    expect_variant_error("{\"config\":{\"hello.a\":{\"type\":\"string\",\"default\":1}}}",
                         "'config.hello.a.default' must be a string (type is 'string')");
    expect_variant_error("{\"config\":{\"hello.a\":{}}}", "missing required key 'config.hello.a.type'");
    expect_variant_error("{\"config\":{\"a b\":{\"type\":\"int\"}}}",
                         "'config': 'a b' is not a valid config key");
    expect_variant_error("{\"config\":{\"a..b\":{\"type\":\"int\"}}}", "is not a valid config key");
    expect_variant_error("{\"config\":{\"hello.a\":{\"type\":\"int\",\"live\":\"yes\"}}}",
                         "'config.hello.a.live' must be true or false");
    expect_variant_error("{\"config\":[]}", "'config' must be an object");
    /* Only the plugin's own keys: never another plugin's, never the host's. */
    expect_variant_error("{\"config\":{\"plugins.other.enabled\":{\"type\":\"bool\"}}}",
                         "'config': 'plugins.other.enabled' must start with the plugin id ('hello.')");
    expect_variant_error("{\"config\":{\"hellox.a\":{\"type\":\"int\"}}}",
                         "must start with the plugin id");
}

static void test_more_structure_errors(void **state)
{
    (void)state;
    expect_variant_error("{\"provides\":[\"a@1\"],\"optional\":[\"a@1\"]}",
                         "'optional[0]': capability 'a@1' is also in 'provides'");
    expect_variant_error("{\"dependencies\":{\"id\":\"a\"}}",
                         "'dependencies' must be an array of objects");
    expect_variant_error("{\"config\":{\"hello.a\":\"int\"}}", "'config.hello.a' must be an object");
    expect_variant_error("{\"load\":true}", "'load' must be an object");

    json_t *deps = json_array();
    for (int i = 0; i <= DG_MANIFEST_MAX_LIST; i++)
        json_array_append_new(deps,
                              json_pack("{s:o,s:s}", "id", json_sprintf("d%d", i), "version", "*"));
    json_t *config = json_object();
    for (int i = 0; i <= 256; i++) {
        char key[24];
        snprintf(key, sizeof key, "hello.k%d", i);
        json_object_set_new(config, key, json_pack("{s:s}", "type", "int"));
    }
    json_t *patch = json_pack("{so}", "dependencies", deps);
    char *p = json_dumps(patch, 0);
    expect_variant_error(p, "'dependencies' has more than 128 entries");
    free(p);
    json_decref(patch);
    patch = json_pack("{so}", "config", config);
    p = json_dumps(patch, 0);
    expect_variant_error(p, "'config' has more than 256 keys");
    free(p);
    json_decref(patch);
}

/* Long or multi-byte values are cut in messages without splitting a character. */
static void test_message_truncation(void **state)
{
    (void)state;
    char patch[256] = "{\"id\":\"";
    for (int i = 0; i < 40; i++)
        strcat(patch, "\u00e9"); /* 2 bytes in UTF-8 */
    strcat(patch, "\"}");
    char want[128] = "'id': '";
    for (int i = 0; i < 32; i++)
        strcat(want, "\xc3\xa9");
    strcat(want, "...' is not a valid plugin id");
    expect_variant_error(patch, want);

    snprintf(patch, sizeof patch, "{\"id\":\"a");
    for (int i = 0; i < 40; i++)
        strcat(patch, "\u00e9");
    strcat(patch, "\"}");
    snprintf(want, sizeof want, "'id': 'a");
    for (int i = 0; i < 31; i++)
        strcat(want, "\xc3\xa9");
    strcat(want, "...' is not");
    expect_variant_error(patch, want);
}

static void test_oversize(void **state)
{
    (void)state;
    /* Exactly the limit is fine (padding is whitespace), one byte more is not. */
    size_t len = DG_MANIFEST_MAX_BYTES;
    char *buf = malloc(len + 2);
    assert_non_null(buf);
    memset(buf, ' ', len + 1);
    memcpy(buf, minimal_manifest, strlen(minimal_manifest));
    char err[256];
    dg_manifest *m = NULL;
    assert_int_equal(dg_manifest_parse(buf, len, "plugin.json", &m, err, sizeof err), 0);
    dg_manifest_free(m);
    expect_error(buf, len + 1, "plugin.json: file is larger than 65536 bytes");
    free(buf);
}

static void test_list_limit(void **state)
{
    (void)state;
    json_t *caps = json_array();
    for (int i = 0; i <= DG_MANIFEST_MAX_LIST; i++)
        json_array_append_new(caps, json_sprintf("c%d@1", i));
    json_t *patch = json_pack("{so}", "provides", caps);
    char *p = json_dumps(patch, 0);
    expect_variant_error(p, "'provides' has more than 128 entries");
    free(p);
    json_decref(patch);
}

static void test_error_buffer_handling(void **state)
{
    (void)state;
    dg_manifest *m = NULL;
    /* No buffer, or a tiny one: still fails cleanly. */
    assert_int_equal(dg_manifest_parse("{}", 2, "plugin.json", &m, NULL, 0), -1);
    char tiny[8];
    assert_int_equal(dg_manifest_parse("{}", 2, "plugin.json", &m, tiny, sizeof tiny), -1);
    assert_true(strlen(tiny) < sizeof tiny);
    assert_int_equal(dg_manifest_parse(NULL, 0, "plugin.json", &m, tiny, sizeof tiny), -1);
}

/* ---- loading from disk ---- */

static char *write_temp_manifest(char *dir_template, const char *text, size_t len)
{
    assert_non_null(mkdtemp(dir_template));
    size_t n = strlen(dir_template) + sizeof "/plugin.json";
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%s/plugin.json", dir_template);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static void test_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/dg-manifest-XXXXXX";
    char *path = write_temp_manifest(dir, minimal_manifest, strlen(minimal_manifest));
    char real[PATH_MAX], expect[PATH_MAX + 32], err[512];
    assert_non_null(realpath(dir, real));

    dg_manifest *m = NULL;
    assert_int_equal(dg_manifest_load(path, &m, err, sizeof err), 0);
    snprintf(expect, sizeof expect, "%s/plugin.json", real);
    assert_string_equal(m->path, expect);
    assert_string_equal(m->dir, real);
    snprintf(expect, sizeof expect, "%s/libhello.so", real);
    assert_string_equal(m->library_path, expect);
    dg_manifest_free(m);

    /* A relative path is made absolute from the directory's realpath. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(dg_manifest_load("plugin.json", &m, err, sizeof err), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(m->dir, real);
    assert_true(m->path[0] == '/');
    dg_manifest_free(m);

    /* Errors name the absolute file. */
    snprintf(expect, sizeof expect, "%s/missing.json", dir);
    assert_int_equal(dg_manifest_load(expect, &m, err, sizeof err), -1);
    assert_null(m);
    assert_non_null(strstr(err, "missing.json: cannot open"));
    assert_int_equal(dg_manifest_load(dir, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(dg_manifest_load("/nonexistent-dir-dg/plugin.json", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot resolve its directory"));
    assert_int_equal(dg_manifest_load("/tmp/", &m, err, sizeof err), -1);

    unlink(path);
    rmdir(dir);
    free(path);
}

static void test_load_oversize(void **state)
{
    (void)state;
    char dir[] = "/tmp/dg-manifest-XXXXXX";
    size_t len = DG_MANIFEST_MAX_BYTES + 1;
    char *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, ' ', len);
    memcpy(buf, minimal_manifest, strlen(minimal_manifest));
    char *path = write_temp_manifest(dir, buf, len);
    char err[512];
    dg_manifest *m = NULL;
    assert_int_equal(dg_manifest_load(path, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "plugin.json: file is larger than 65536 bytes"));
    unlink(path);
    rmdir(dir);
    free(path);
    free(buf);
}

/* ---- semver ---- */

static void test_semver_parse(void **state)
{
    (void)state;
    static const char *const good[] = {"0.0.0",
                                       "1.2.3",
                                       "10.20.30",
                                       "1.0.0-alpha",
                                       "1.0.0-alpha.1",
                                       "1.0.0-0.3.7",
                                       "1.0.0-x.7.z.92",
                                       "1.0.0-x-y-z.--",
                                       "1.0.0+20130313144700",
                                       "1.0.0-beta+exp.sha.5114f85",
                                       "1.0.0+21AF26D3----117B344092BD",
                                       "18446744073709551615.0.0"};
    static const char *const bad[] = {
        "",       "1",      "1.2",    "1.2.3.4",  "01.2.3",     "1.02.3",
        "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01", "1.2.3-a..b", "1.2.3-a_b",
        " 1.2.3", "1.2.3 ", "v1.2.3", "-1.2.3",   "1.2.3-+",    "18446744073709551616.0.0",
        "1..3"};
    dg_semver v;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (dg_semver_parse(good[i], &v) != 0)
            fail_msg("rejected %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (dg_semver_parse(bad[i], &v) == 0)
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(dg_semver_parse("1.0.0-beta+exp", &v), 0);
    assert_string_equal(v.prerelease, "beta");
    char longpre[80];
    snprintf(longpre, sizeof longpre, "1.0.0-%064d", 1); /* leading zeros: invalid anyway */
    assert_int_equal(dg_semver_parse(longpre, &v), -1);
    snprintf(longpre, sizeof longpre, "1.0.0-a%063d", 1); /* 64 bytes: does not fit */
    assert_int_equal(dg_semver_parse(longpre, &v), -1);
    snprintf(longpre, sizeof longpre, "1.0.0-a%062d", 1); /* 63 bytes: fits */
    assert_int_equal(dg_semver_parse(longpre, &v), 0);
    assert_int_equal(dg_semver_parse(NULL, &v), -1);
}

static int cmp(const char *a, const char *b)
{
    dg_semver x, y;
    assert_int_equal(dg_semver_parse(a, &x), 0);
    assert_int_equal(dg_semver_parse(b, &y), 0);
    int c = dg_semver_compare(&x, &y);
    return (c > 0) - (c < 0);
}

static void test_semver_compare(void **state)
{
    (void)state;
    /* SemVer 2.0.0 §11, in ascending order, plus numeric-width cases. */
    static const char *const chain[] = {
        "0.9.99",       "1.0.0-0",       "1.0.0-2",          "1.0.0-10",
        "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
        "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
        "1.0.1",        "1.1.0",         "1.10.0",           "2.0.0",
        "10.0.0"};
    size_t n = sizeof chain / sizeof *chain;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = (i > j) - (i < j);
            if (cmp(chain[i], chain[j]) != want)
                fail_msg("%s vs %s: want %d", chain[i], chain[j], want);
        }
    assert_int_equal(cmp("1.0.0+a", "1.0.0+b"), 0); /* build metadata is ignored */
    assert_int_equal(cmp("1.0.0-a.b", "1.0.0-a.b.c"), -1);
    assert_int_equal(cmp("1.0.0-b", "1.0.0-a.b.c"), 1);
    assert_int_equal(cmp("1.0.0-alpha-1", "1.0.0-alpha"), 1);
}

typedef struct range_case {
    const char *range;
    const char *version;
    int want;
} range_case;

static void test_range_match(void **state)
{
    (void)state;
    static const range_case cases[] = {
        /* primitives */
        {">=1.0.0 <2.0.0", "1.0.0", 1},
        {">=1.0.0 <2.0.0", "1.9.9", 1},
        {">=1.0.0 <2.0.0", "2.0.0", 0},
        {">=1.0.0 <2.0.0", "0.9.0", 0},
        {">1.0.0", "1.0.0", 0},
        {">1.0.0", "1.0.1", 1},
        {"<=1.2.3", "1.2.3", 1},
        {"<=1.2.3", "1.2.4", 0},
        {"=1.2.3", "1.2.3", 1},
        {"1.2.3", "1.2.3", 1},
        {"1.2.3", "1.2.4", 0},
        {"1.2.3+build", "1.2.3", 1},
        {">= 1.2.3", "1.2.3", 1}, /* a blank after the operator */
        {"  >=1.0.0\t<2.0.0  ", "1.5.0", 1},
        /* any */
        {"*", "0.0.0", 1},
        {"*", "99.1.2", 1},
        {"x", "3.0.0", 1},
        {"*", "1.0.0-rc.1", 0}, /* prereleases need an explicit opt-in */
        /* caret */
        {"^1.2.3", "1.2.3", 1},
        {"^1.2.3", "1.9.0", 1},
        {"^1.2.3", "2.0.0", 0},
        {"^1.2.3", "1.2.2", 0},
        {"^1.2.3", "2.0.0-0", 0},
        {"^0.2.3", "0.2.9", 1},
        {"^0.2.3", "0.3.0", 0},
        {"^0.0.3", "0.0.3", 1},
        {"^0.0.3", "0.0.4", 0},
        {"^1.2", "1.2.0", 1},
        {"^1.2", "1.1.9", 0},
        {"^1", "1.99.0", 1},
        {"^0", "0.99.0", 1},
        {"^0", "1.0.0", 0},
        {"^0.0", "0.0.9", 1},
        {"^0.0", "0.1.0", 0},
        {"^1.x", "1.5.0", 1},
        {"^*", "5.0.0", 1},
        {"^1.2.3-beta.2", "1.2.3-beta.4", 1},
        {"^1.2.3-beta.2", "1.2.3-beta.1", 0},
        {"^1.2.3-beta.2", "1.2.4-beta.1", 0}, /* other tuple: prerelease excluded */
        {"^1.2.3-beta.2", "1.3.0", 1},
        /* tilde */
        {"~1.2.3", "1.2.9", 1},
        {"~1.2.3", "1.3.0", 0},
        {"~1.2", "1.2.0", 1},
        {"~1.2", "1.3.0", 0},
        {"~1", "1.9.0", 1},
        {"~1", "2.0.0", 0},
        {"~0.2.3", "0.2.3", 1},
        {"~*", "7.0.0", 1},
        /* x-ranges and partials */
        {"1.x", "1.0.0", 1},
        {"1.x", "1.99.99", 1},
        {"1.x", "2.0.0", 0},
        {"1.2.x", "1.2.7", 1},
        {"1.2.*", "1.3.0", 0},
        {"1", "1.4.0", 1},
        {"1.2", "1.2.4", 1},
        {"1.2", "1.3.0", 0},
        {"=1.x", "1.1.0", 1},
        {">1", "1.9.9", 0},
        {">1", "2.0.0", 1},
        {">1.2", "1.3.0", 1},
        {">1.2", "1.2.9", 0},
        {">=1.2", "1.2.0", 1},
        {"<1.2", "1.1.9", 1},
        {"<1.2", "1.2.0", 0},
        {"<=1.2", "1.2.99", 1},
        {"<=1.2", "1.3.0", 0},
        {"<=1.x", "1.5.0", 1},
        {">*", "1.0.0", 0},
        {"<*", "1.0.0", 0},
        {"<=*", "1.0.0", 1},
        /* alternatives */
        {"1.x || >=3.0.0", "1.5.0", 1},
        {"1.x || >=3.0.0", "2.5.0", 0},
        {"1.x || >=3.0.0", "3.1.0", 1},
        {"<1.0.0||>2.0.0", "2.0.1", 1},
        /* prerelease rule */
        {">=1.0.0", "1.1.0-rc.1", 0},
        {">=1.1.0-rc.0", "1.1.0-rc.1", 1},
        {">=1.1.0-rc.0", "1.2.0-rc.1", 0},
        {">=1.1.0-rc.0", "1.2.0", 1},
        {"<2.0.0", "2.0.0-rc.1", 0},
        {">1.0.0-alpha <1.0.0", "1.0.0-beta", 1},
        {"1.0.0-rc.1", "1.0.0-rc.1", 1},
        /* overflow at the top of the number range */
        {">=18446744073709551615.0.0", "18446744073709551615.0.0", 1},
        {"^18446744073709551615.0.0", "18446744073709551615.5.0", 1},
        {">18446744073709551615", "18446744073709551615.0.0", 0},
        {"<=18446744073709551615", "18446744073709551615.3.0", 1},
        /* invalid ranges */
        {"", "1.0.0", -1},
        {"   ", "1.0.0", -1},
        {">=", "1.0.0", -1},
        {">=1.", "1.0.0", -1},
        {"1.0.0 ||", "1.0.0", -1},
        {"|| 1.0.0", "1.0.0", -1},
        {"1.0.0 | 2.0.0", "1.0.0", -1},
        {"1.0.0 ||| 2.0.0", "1.0.0", -1},
        {">>1.0.0", "1.0.0", -1},
        {"=>1.0.0", "1.0.0", -1},
        {"1.x.3", "1.0.0", -1},
        {"1.2.3.4", "1.0.0", -1},
        {"1.2-rc", "1.0.0", -1},
        {"v1.2.3", "1.0.0", -1},
        {"^", "1.0.0", -1},
        {"01.2.3", "1.0.0", -1},
        {"1.0.0 - 2.0.0", "1.0.0", -1}, /* hyphen ranges are not supported */
        {"latest", "1.0.0", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dg_semver v;
        assert_int_equal(dg_semver_parse(cases[i].version, &v), 0);
        int got = dg_semver_range_match(cases[i].range, &v);
        if (got != cases[i].want)
            fail_msg("range \"%s\" vs %s: got %d, want %d", cases[i].range, cases[i].version, got,
                     cases[i].want);
    }
    /* An invalid range is invalid whatever the version, and even after a matching set. */
    dg_semver v;
    assert_int_equal(dg_semver_parse("1.0.0", &v), 0);
    assert_int_equal(dg_semver_range_match("1.0.0 || >=y", &v), -1);
    assert_int_equal(dg_semver_range_match(NULL, &v), -1);
    assert_int_equal(dg_semver_range_valid("^1.2 || 3.x"), 0);
    assert_int_equal(dg_semver_range_valid("^1.2 ||"), -1);
}

/* ---- ids, capabilities, platforms ---- */

static void test_ids_and_capabilities(void **state)
{
    (void)state;
    assert_true(dg_plugin_id_valid("hello"));
    assert_true(dg_plugin_id_valid("com.example.msgr.archive-pro"));
    assert_true(dg_plugin_id_valid("a1-.b"));
    assert_false(dg_plugin_id_valid(NULL));
    assert_false(dg_plugin_id_valid("a.-b"));
    assert_false(dg_plugin_id_valid(".a"));
    assert_false(dg_plugin_id_valid("a b"));
    char id[70];
    memset(id, 'a', 64);
    id[64] = '\0';
    assert_true(dg_plugin_id_valid(id));
    id[64] = 'a';
    id[65] = '\0';
    assert_false(dg_plugin_id_valid(id));

    char name[32];
    unsigned major = 99;
    assert_int_equal(dg_capability_parse("chat.transport@1", name, sizeof name, &major), 0);
    assert_string_equal(name, "chat.transport");
    assert_int_equal(major, 1);
    assert_int_equal(dg_capability_parse("x_y.z-w@0", name, sizeof name, &major), 0);
    assert_int_equal(major, 0);
    assert_int_equal(dg_capability_parse("a@4294967295", NULL, 0, &major), 0);
    assert_int_equal(major, 4294967295u);
    assert_int_equal(dg_capability_parse("a@4294967296", NULL, 0, NULL), -1);
    assert_int_equal(dg_capability_parse("a@", NULL, 0, NULL), -1);
    assert_int_equal(dg_capability_parse("a@1@2", NULL, 0, NULL), -1);
    assert_int_equal(dg_capability_parse("A@1", NULL, 0, NULL), -1);
    assert_int_equal(dg_capability_parse("a.@1", NULL, 0, NULL), -1);
    assert_int_equal(dg_capability_parse(NULL, NULL, 0, NULL), -1);
    /* The name must fit the caller's buffer. */
    assert_int_equal(dg_capability_parse("chat.transport@1", name, 14, &major), -1);
    assert_int_equal(dg_capability_parse("chat.transport@1", name, 15, &major), 0);
}

static void test_platform(void **state)
{
    (void)state;
    const char *p = dg_platform_name();
#if defined(__linux__) && defined(__x86_64__)
    assert_string_equal(p, "linux-x86_64");
#elif defined(__linux__) && defined(__aarch64__)
    assert_string_equal(p, "linux-aarch64");
#endif
    assert_null(strstr(p, "unknown"));
    char *text = variant("{\"platforms\":[\"linux-x86_64\",\"darwin-arm64\"]}");
    dg_manifest *m = parse_ok(text, "plugin.json");
    assert_true(dg_manifest_platform_supported(m, "darwin-arm64"));
    assert_false(dg_manifest_platform_supported(m, "windows-x86_64"));
    dg_manifest_free(m);
    free(text);
    m = parse_ok(minimal_manifest, "plugin.json");
    assert_true(dg_manifest_platform_supported(m, NULL)); /* no list: any platform */
    dg_manifest_free(m);
}

/* ---- JSON Schema ---- */

static void test_schema_file(void **state)
{
    (void)state;
    json_error_t je;
    json_t *schema = json_load_file(DG_SOURCE_DIR "/conf/plugin-manifest.schema.json",
                                    JSON_REJECT_DUPLICATES, &je);
    if (!schema)
        fail_msg("schema: line %d: %s", je.line, je.text);
    assert_string_equal(json_string_value(json_object_get(schema, "$schema")),
                        "https://json-schema.org/draft/2020-12/schema");
    assert_true(json_is_false(json_object_get(schema, "additionalProperties")));

    /* Its top-level properties are exactly the keys of the full example. */
    json_t *props = json_object_get(schema, "properties");
    json_t *full = json_loads(full_manifest, 0, &je);
    assert_non_null(props);
    assert_non_null(full);
    assert_int_equal(json_object_size(props), json_object_size(full));
    const char *key;
    json_t *value;
    json_object_foreach(full, key, value)
    {
        (void)value;
        if (!json_object_get(props, key))
            fail_msg("schema lacks property %s", key);
    }
    /* Required keys match the parser's. */
    static const char *const required[] = {"manifest_version", "id",   "name", "version", "api",
                                           "library",          "entry"};
    json_t *req = json_object_get(schema, "required");
    assert_int_equal(json_array_size(req), sizeof required / sizeof *required);
    for (size_t i = 0; i < json_array_size(req); i++)
        assert_string_equal(json_string_value(json_array_get(req, i)), required[i]);
    /* Every nested object schema is closed too. */
    static const char *const closed[] = {"api", "load", "network", "premium"};
    for (size_t i = 0; i < sizeof closed / sizeof *closed; i++)
        assert_true(json_is_false(
            json_object_get(json_object_get(props, closed[i]), "additionalProperties")));
    json_decref(full);
    json_decref(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_manifest),
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_boolean_and_int_defaults),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_missing_and_wrong_types),
        cmocka_unit_test(test_manifest_version),
        cmocka_unit_test(test_bad_id),
        cmocka_unit_test(test_bad_semver),
        cmocka_unit_test(test_bad_library_and_entry),
        cmocka_unit_test(test_bad_capabilities),
        cmocka_unit_test(test_bad_dependencies),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_more_structure_errors),
        cmocka_unit_test(test_message_truncation),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_list_limit),
        cmocka_unit_test(test_error_buffer_handling),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_oversize),
        cmocka_unit_test(test_semver_parse),
        cmocka_unit_test(test_semver_compare),
        cmocka_unit_test(test_range_match),
        cmocka_unit_test(test_ids_and_capabilities),
        cmocka_unit_test(test_platform),
        cmocka_unit_test(test_schema_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
