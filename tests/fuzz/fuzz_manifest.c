/*
 * libFuzzer harness for the plugin manifest parser, semver ranges and the
 * dependency graph. Besides "no crash, no leak", it checks invariants that a
 * caller relies on: a failed parse leaves *out NULL with a one-line message;
 * every dependency range accepted by the parser is valid for the matcher;
 * range validity does not depend on the version tested; a 1-node graph
 * orders the node exactly when it has no error.
 */
#include "plugin/graph.h"
#include "plugin/manifest.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const char *const core_caps[] = {"core.bus@1", "crypto.aead@1", NULL};

static void check_graph(dg_manifest *m)
{
    dg_manifest *const one[1] = {m};
    dg_graph_result r;
    if (dg_graph_order(one, NULL, 1, core_caps, &r) != 0)
        return; /* allocation failure only */
    CHECK(r.n_order == (r.error[0] ? 0u : 1u));
    CHECK(r.n_order == 0 || r.order[0] == 0);
    CHECK(r.needs[0][0] == -1); /* nothing else to depend on */
    dg_graph_result_free(&r, 1);

    /* The same plugin twice: the second is a duplicate, the first unaffected. */
    dg_manifest *const two[2] = {m, m};
    if (dg_graph_order(two, NULL, 2, core_caps, &r) != 0)
        return;
    CHECK(r.error[1] != NULL);
    CHECK(r.n_order <= 1);
    dg_graph_result_free(&r, 2);
}

static void check_manifest(dg_manifest *m)
{
    dg_semver v;
    CHECK(dg_semver_parse(m->version, &v) == 0);
    CHECK(dg_semver_compare(&v, &m->semver) == 0);
    CHECK(dg_plugin_id_valid(m->id));
    for (size_t i = 0; i < m->n_deps; i++)
        CHECK(dg_semver_range_match(m->deps[i].range, &m->semver) >= 0);
    for (size_t i = 0; i < m->n_provides; i++)
        CHECK(dg_capability_parse(m->provides[i], NULL, 0, NULL) == 0);
    check_graph(m);
}

/* The raw bytes as a range, a version, a capability and an id. */
static void check_strings(const uint8_t *data, size_t size)
{
    char s[512];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    static const char *const versions[] = {"0.0.0", "1.2.3", "1.2.3-rc.1", "2.0.0-0",
                                           "18446744073709551615.0.0"};
    int valid = -2;
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
        dg_semver v;
        CHECK(dg_semver_parse(versions[i], &v) == 0);
        int r = dg_semver_range_match(s, &v);
        CHECK(r >= -1 && r <= 1);
        if (valid != -2)
            CHECK((r < 0) == (valid < 0));
        valid = r;
    }
    dg_semver a;
    if (dg_semver_parse(s, &a) == 0)
        CHECK(dg_semver_compare(&a, &a) == 0);
    char name[128];
    unsigned major;
    (void)dg_capability_parse(s, name, sizeof name, &major);
    (void)dg_plugin_id_valid(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    dg_manifest *m = (dg_manifest *)1;
    if (dg_manifest_parse((const char *)data, size, "fuzz/plugin.json", &m, err, sizeof err) != 0) {
        CHECK(m == NULL);
        CHECK(strncmp(err, "fuzz/plugin.json: ", 18) == 0 && strchr(err, '\n') == NULL);
    } else {
        CHECK(m != NULL);
        check_manifest(m);
        dg_manifest_free(m);
    }
    check_strings(data, size);
    return 0;
}
