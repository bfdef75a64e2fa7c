/*
 * Unit tests: dependency graph and start order.
 */
#include "plugin/graph.h"
#include "plugin/manifest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */

#define MAXN 8

/* A parsed manifest; extra is raw JSON members appended to the object (or ""). */
static dg_manifest *mk(const char *id, const char *version, int priority, const char *extra)
{
    char text[2048], err[512];
    snprintf(text, sizeof text,
             "{\"manifest_version\":1,\"id\":\"%s\",\"name\":\"%s\",\"version\":\"%s\","
             "\"api\":{\"abi_major\":1,\"abi_min_minor\":0},\"library\":\"lib%s.so\","
             "\"entry\":\"dg_plugin_entry\",\"load\":{\"priority\":%d}%s%s}",
             id, id, version, id, priority, *extra ? "," : "", extra);
    dg_manifest *m = NULL;
    if (dg_manifest_parse(text, strlen(text), "plugin.json", &m, err, sizeof err) != 0)
        fail_msg("%s", err);
    return m;
}

typedef struct fixture {
    dg_manifest *ms[MAXN];
    const char *reasons[MAXN];
    size_t n;
    dg_graph_result r;
} fixture;

static size_t add(fixture *f, dg_manifest *m)
{
    f->ms[f->n] = m;
    return f->n++;
}

static void run(fixture *f, const char *const *core_caps)
{
    assert_int_equal(dg_graph_order(f->ms, f->reasons, f->n, core_caps, &f->r), 0);
}

static void done(fixture *f)
{
    dg_graph_result_free(&f->r, f->n);
    assert_null(f->r.order);
    for (size_t i = 0; i < f->n; i++)
        dg_manifest_free(f->ms[i]);
}

/* The order as ids, space-separated. */
static const char *order_str(const fixture *f)
{
    static char buf[256];
    buf[0] = '\0';
    for (size_t k = 0; k < f->r.n_order; k++) {
        if (k)
            strcat(buf, " ");
        strcat(buf, f->ms[f->r.order[k]]->id);
    }
    return buf;
}

static void assert_error(const fixture *f, size_t i, const char *want)
{
    if (!want) {
        if (f->r.error[i])
            fail_msg("%s: unexpected error \"%s\"", f->ms[i] ? f->ms[i]->id : "?", f->r.error[i]);
        return;
    }
    if (!f->r.error[i])
        fail_msg("%s: no error, want \"%s\"", f->ms[i] ? f->ms[i]->id : "?", want);
    assert_string_equal(f->r.error[i], want);
}

/* needs[i] as a list of indexes terminated by -1. */
static void assert_needs(const fixture *f, size_t i, int count, ...)
{
    va_list ap;
    va_start(ap, count);
    for (int k = 0; k < count; k++)
        assert_int_equal(f->r.needs[i][k], va_arg(ap, int));
    va_end(ap);
    assert_int_equal(f->r.needs[i][count], -1);
}

static void test_chain(void **state)
{
    (void)state;
    fixture f = {0};
    size_t c = add(&f, mk("c", "1.0.0", 0, "\"dependencies\":[{\"id\":\"b\",\"version\":\"^1\"}]"));
    size_t b = add(&f, mk("b", "1.2.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]"));
    size_t a = add(&f, mk("a", "0.1.0", 0, ""));
    run(&f, NULL);
    assert_string_equal(order_str(&f), "a b c");
    assert_needs(&f, c, 1, (int)b);
    assert_needs(&f, b, 1, (int)a);
    assert_needs(&f, a, 0);
    for (size_t i = 0; i < f.n; i++)
        assert_error(&f, i, NULL);
    done(&f);
}

static void test_priority_tiebreak(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("x", "1.0.0", 0, ""));
    add(&f, mk("y", "1.0.0", 5, ""));
    add(&f, mk("a", "1.0.0", 0, ""));
    add(&f, mk("m", "1.0.0", -3, ""));
    /* z has the highest priority but is only ready once a has started. */
    add(&f, mk("z", "1.0.0", 10, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]"));
    run(&f, NULL);
    assert_string_equal(order_str(&f), "y a z x m");
    done(&f);
}

static void test_missing_dependency(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("a", "1.0.0", 0, "\"dependencies\":[{\"id\":\"nope\",\"version\":\"*\"}]"));
    add(&f, mk("b", "1.0.0", 0, ""));
    run(&f, NULL);
    assert_error(&f, 0, "depends on nope which is not installed");
    assert_needs(&f, 0, 0);
    assert_string_equal(order_str(&f), "b");
    done(&f);
}

static void test_version_mismatch(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("a", "1.0.0", 0, ""));
    add(&f, mk("b", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\">=2.0.0\"}]"));
    add(&f,
        mk("c", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\">=1.0.0 <2.0.0\"}]"));
    run(&f, NULL);
    assert_error(&f, 1, "requires a >=2.0.0 but a is 1.0.0");
    assert_needs(&f, 1, 1, 0); /* the edge is still recorded */
    assert_error(&f, 2, NULL);
    assert_string_equal(order_str(&f), "a c");
    done(&f);
}

static void test_cycle_of_two(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("b", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]"));
    add(&f, mk("a", "1.0.0", 0, "\"dependencies\":[{\"id\":\"b\",\"version\":\"*\"}]"));
    add(&f, mk("c", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]"));
    add(&f, mk("d", "1.0.0", 0, ""));
    run(&f, NULL);
    assert_error(&f, 0, "dependency cycle: a -> b -> a");
    assert_error(&f, 1, "dependency cycle: a -> b -> a");
    assert_error(&f, 2, "depends on a which cannot start");
    assert_string_equal(order_str(&f), "d");
    done(&f);
}

static void test_cycle_of_three(void **state)
{
    (void)state;
    fixture f = {0};
    /* a -> b (dependency), b -> c (capability), c -> a (dependency) */
    add(&f, mk("c", "1.0.0", 0,
               "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}],"
               "\"provides\":[\"c.svc@1\"]"));
    add(&f, mk("a", "1.0.0", 0, "\"dependencies\":[{\"id\":\"b\",\"version\":\"*\"}]"));
    add(&f, mk("b", "1.0.0", 0, "\"requires\":[\"c.svc@1\"]"));
    run(&f, NULL);
    for (size_t i = 0; i < 3; i++)
        assert_error(&f, i, "dependency cycle: a -> b -> c -> a");
    assert_int_equal(f.r.n_order, 0);
    done(&f);
}

static void test_capabilities(void **state)
{
    (void)state;
    static const char *const core[] = {"core.bus@1", "crypto.aead@1", NULL};
    fixture f = {0};
    size_t q = add(&f, mk("q", "1.0.0", 9, "\"requires\":[\"chat.transport@1\",\"core.bus@1\"]"));
    size_t p = add(&f, mk("p", "1.0.0", 0, "\"provides\":[\"chat.transport@1\"]"));
    size_t r = add(&f, mk("r", "1.0.0", 0, "\"requires\":[\"crypto.aead@1\"]"));
    size_t s = add(&f, mk("s", "1.0.0", 0, "\"requires\":[\"chat.transport@2\"]"));
    size_t t = add(&f, mk("t", "1.0.0", 0, "\"requires\":[\"core.bus@2\"]"));
    run(&f, core);
    assert_error(&f, q, NULL);
    assert_needs(&f, q, 1, (int)p); /* core capabilities add no edge */
    assert_error(&f, r, NULL);
    assert_needs(&f, r, 0);
    assert_error(&f, s, "requires capability chat.transport@2 which nothing provides");
    assert_error(&f, t, "requires capability core.bus@2 which nothing provides");
    assert_string_equal(order_str(&f), "p q r");
    done(&f);

    /* Without core capabilities, the core's are missing too. */
    fixture g = {0};
    add(&g, mk("r", "1.0.0", 0, "\"requires\":[\"crypto.aead@1\"]"));
    run(&g, NULL);
    assert_error(&g, 0, "requires capability crypto.aead@1 which nothing provides");
    done(&g);
}

static void test_two_providers(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("user", "1.0.0", 0, "\"requires\":[\"x.svc@1\"]"));
    add(&f, mk("p2", "1.0.0", 0, "\"provides\":[\"x.svc@1\"]"));
    add(&f, mk("p1", "1.0.0", 0, "\"provides\":[\"x.svc@1\"]"));
    add(&f, mk("p0", "1.0.0", 3, "\"provides\":[\"x.svc@1\"]"));
    run(&f, NULL);
    assert_needs(&f, 0, 1, 3); /* highest priority wins */
    dg_graph_result_free(&f.r, f.n);
    f.ms[3]->priority = 0; /* equal priorities: lowest id wins */
    run(&f, NULL);
    assert_needs(&f, 0, 1, 3);
    dg_graph_result_free(&f.r, f.n);
    f.ms[3]->priority = -1;
    run(&f, NULL);
    assert_needs(&f, 0, 1, 2);
    assert_string_equal(order_str(&f), "p1 p2 user p0");
    done(&f);
}

static void test_ineligible_dependency(void **state)
{
    (void)state;
    fixture f = {0};
    size_t a = add(&f, mk("a", "1.0.0", 0, "\"provides\":[\"a.svc@1\"]"));
    size_t b = add(&f, mk("b", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]"));
    size_t c = add(&f, mk("c", "1.0.0", 0, "\"dependencies\":[{\"id\":\"b\",\"version\":\"*\"}]"));
    size_t d = add(&f, mk("d", "1.0.0", 0, "\"requires\":[\"a.svc@1\"]"));
    size_t e = add(&f, mk("e", "1.0.0", 0, "\"requires\":[\"b.svc@1\"]"));
    f.reasons[a] = "disabled by policy";
    run(&f, NULL);
    assert_error(&f, a, NULL); /* its own reason is the caller's business */
    assert_error(&f, b, "depends on a which is not available (disabled by policy)");
    assert_needs(&f, b, 1, (int)a);
    assert_error(&f, c, "depends on b which cannot start");
    assert_error(&f, d,
                 "requires capability a.svc@1 from a which is not available "
                 "(disabled by policy)");
    assert_error(&f, e, "requires capability b.svc@1 which nothing provides");
    assert_int_equal(f.r.n_order, 0);
    done(&f);
}

static void test_null_entries(void **state)
{
    (void)state;
    dg_manifest *b = mk("b", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]");
    dg_manifest *c = mk("c", "1.0.0", 0, "");
    dg_manifest *ms[3] = {NULL, b, c};
    const char *ids[3] = {"a", NULL, NULL};
    const char *reasons[3] = {"invalid manifest", NULL, NULL};
    dg_graph_result r;
    /* Without ids the NULL entry cannot be named: "not installed". */
    assert_int_equal(dg_graph_order(ms, reasons, 3, NULL, &r), 0);
    assert_string_equal(r.error[1], "depends on a which is not installed");
    assert_int_equal(r.needs[0][0], -1);
    dg_graph_result_free(&r, 3);
    assert_int_equal(dg_graph_order_ex(ms, ids, reasons, 3, NULL, &r), 0);
    assert_string_equal(r.error[1], "depends on a which is not available (invalid manifest)");
    assert_int_equal(r.needs[1][0], 0);
    assert_int_equal(r.n_order, 1);
    assert_int_equal(r.order[0], 2);
    dg_graph_result_free(&r, 3);
    /* No reasons array at all. */
    assert_int_equal(dg_graph_order_ex(ms, ids, NULL, 3, NULL, &r), 0);
    assert_string_equal(r.error[1], "depends on a which is not available (not eligible)");
    dg_graph_result_free(&r, 3);
    dg_manifest_free(b);
    dg_manifest_free(c);
}

static void test_optional_edges(void **state)
{
    (void)state;
    fixture f = {0};
    /* a has the higher priority but optionally uses s's capability: s first. */
    size_t a = add(&f, mk("a", "1.0.0", 10, "\"optional\":[\"search.index@1\",\"none.x@1\"]"));
    add(&f, mk("s", "1.0.0", 0, "\"provides\":[\"search.index@1\"]"));
    add(&f, mk("t", "1.0.0", 0, ""));
    run(&f, NULL);
    assert_string_equal(order_str(&f), "s a t");
    assert_needs(&f, a, 0); /* optional edges are not hard */
    assert_error(&f, a, NULL);
    done(&f);

    /* A failing provider does not fail the optional user. */
    fixture g = {0};
    add(&g, mk("a", "1.0.0", 0, "\"optional\":[\"search.index@1\"]"));
    add(&g, mk("s", "1.0.0", 0,
               "\"provides\":[\"search.index@1\"],"
               "\"dependencies\":[{\"id\":\"gone\",\"version\":\"*\"}]"));
    run(&g, NULL);
    assert_error(&g, 0, NULL);
    assert_string_equal(order_str(&g), "a");
    done(&g);

    /* Optional edges alone in a cycle: broken by rank, nobody fails. */
    fixture h = {0};
    add(&h, mk("a", "1.0.0", 0, "\"provides\":[\"a.x@1\"],\"optional\":[\"b.x@1\"]"));
    add(&h, mk("b", "1.0.0", 1, "\"provides\":[\"b.x@1\"],\"optional\":[\"a.x@1\"]"));
    add(&h, mk("c", "1.0.0", 5, "\"requires\":[\"a.x@1\"]"));
    run(&h, NULL);
    assert_string_equal(order_str(&h), "b a c");
    done(&h);
}

static void test_transitive_failure(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("d", "1.0.0", 0, "\"dependencies\":[{\"id\":\"c\",\"version\":\"*\"}]"));
    add(&f, mk("c", "1.0.0", 0, "\"requires\":[\"b.svc@1\"]"));
    add(&f, mk("b", "1.0.0", 0,
               "\"provides\":[\"b.svc@1\"],"
               "\"dependencies\":[{\"id\":\"a\",\"version\":\"^2\"}]"));
    add(&f, mk("a", "1.5.0", 0, ""));
    add(&f, mk("e", "1.0.0", 0,
               "\"dependencies\":[{\"id\":\"a\",\"version\":\"1.x\"},"
               "{\"id\":\"d\",\"version\":\"*\"}]"));
    run(&f, NULL);
    assert_error(&f, 2, "requires a ^2 but a is 1.5.0");
    assert_error(&f, 1, "requires capability b.svc@1 from b which cannot start");
    assert_error(&f, 0, "depends on c which cannot start");
    assert_error(&f, 4, "depends on d which cannot start");
    assert_string_equal(order_str(&f), "a");
    done(&f);
}

static void test_cycle_with_tail_and_own_error(void **state)
{
    (void)state;
    fixture f = {0};
    /* a <-> b cycle; b also has its own error, which wins for b. */
    add(&f, mk("a", "1.0.0", 0, "\"dependencies\":[{\"id\":\"b\",\"version\":\"*\"}]"));
    add(&f, mk("b", "1.0.0", 0,
               "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"},"
               "{\"id\":\"zz\",\"version\":\"*\"}]"));
    /* x -> y -> x and y -> z -> y: two cycles through y; each member gets its shortest. */
    add(&f, mk("x", "1.0.0", 0, "\"dependencies\":[{\"id\":\"y\",\"version\":\"*\"}]"));
    add(&f, mk("y", "1.0.0", 0,
               "\"dependencies\":[{\"id\":\"z\",\"version\":\"*\"},"
               "{\"id\":\"x\",\"version\":\"*\"}]"));
    add(&f, mk("z", "1.0.0", 0, "\"dependencies\":[{\"id\":\"y\",\"version\":\"*\"}]"));
    run(&f, NULL);
    assert_error(&f, 0, "dependency cycle: a -> b -> a");
    assert_error(&f, 1, "depends on zz which is not installed");
    assert_error(&f, 2, "dependency cycle: x -> y -> x");
    assert_error(&f, 3, "dependency cycle: y -> z -> y");
    assert_error(&f, 4, "dependency cycle: y -> z -> y");
    assert_int_equal(f.r.n_order, 0);
    done(&f);
}

static void test_duplicate_ids(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("a", "1.0.0", 0, ""));
    add(&f, mk("a", "2.0.0", 0, ""));
    add(&f, mk("b", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"^1\"}]"));
    run(&f, NULL);
    assert_error(&f, 1, "duplicate plugin id a");
    assert_error(&f, 2, NULL);
    assert_needs(&f, 2, 1, 0);
    assert_string_equal(order_str(&f), "a b");
    done(&f);
}

/* Manifests built or changed by hand (not through the parser) are still handled. */
static void test_hand_built_manifests(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("a", "1.0.0", 0, ""));
    size_t b = add(&f, mk("b", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]"));
    size_t c = add(&f, mk("c", "1.0.0", 0, "\"requires\":[\"x.y@1\"]"));
    size_t d = add(&f, mk("d", "1.0.0", 0, "\"dependencies\":[{\"id\":\"a\",\"version\":\"*\"}]"));
    size_t e = add(&f, mk("e", "1.0.0", 0, "\"provides\":[\"e.x@1\"]"));
    free(f.ms[b]->deps[0].range);
    f.ms[b]->deps[0].range = strdup("not a range");
    free(f.ms[c]->requires[0]);
    f.ms[c]->requires[0] = strdup("BAD");
    free(f.ms[d]->deps[0].id);
    f.ms[d]->deps[0].id = strdup("d");
    /* e requires what it provides itself: no edge, no error. */
    f.ms[e]->requires = calloc(1, sizeof(char *));
    f.ms[e]->requires[0] = strdup("e.x@1");
    f.ms[e]->n_requires = 1;
    run(&f, NULL);
    assert_error(&f, b, "has an invalid version range 'not a range' for a");
    assert_error(&f, c, "has an invalid capability 'BAD'");
    assert_error(&f, d, "depends on itself");
    assert_error(&f, e, NULL);
    assert_needs(&f, e, 0);
    assert_string_equal(order_str(&f), "a e");
    done(&f);
}

static void test_optional_dedup(void **state)
{
    (void)state;
    static const char *const core[] = {"core.bus@1", NULL};
    fixture f = {0};
    /* a depends on s and optionally uses its capability twice over: one hard edge only. */
    size_t a = add(&f, mk("a", "1.0.0", 9,
                          "\"dependencies\":[{\"id\":\"s\",\"version\":\"*\"}],"
                          "\"optional\":[\"s.x@1\",\"s.y@1\",\"core.bus@1\"]"));
    size_t s = add(&f, mk("s", "1.0.0", 0, "\"provides\":[\"s.x@1\",\"s.y@1\"]"));
    size_t t = add(&f, mk("t", "1.0.0", 0, "\"optional\":[\"s.x@1\",\"s.y@1\"]"));
    run(&f, core);
    assert_needs(&f, a, 1, (int)s);
    assert_needs(&f, t, 0);
    assert_string_equal(order_str(&f), "s a t");
    done(&f);
}

static void test_deterministic_and_empty(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, mk("k", "1.0.0", 1, ""));
    add(&f, mk("j", "1.0.0", 1, "\"optional\":[\"k.x@1\"]"));
    add(&f, mk("i", "1.0.0", 1, "\"dependencies\":[{\"id\":\"j\",\"version\":\"*\"}]"));
    add(&f, mk("h", "1.0.0", 2, ""));
    run(&f, NULL);
    char first[256];
    snprintf(first, sizeof first, "%s", order_str(&f));
    for (int round = 0; round < 3; round++) {
        dg_graph_result_free(&f.r, f.n);
        run(&f, NULL);
        assert_string_equal(order_str(&f), first);
    }
    assert_string_equal(first, "h j i k");
    done(&f);

    dg_graph_result r;
    assert_int_equal(dg_graph_order(NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.n_order, 0);
    dg_graph_result_free(&r, 0);
    dg_graph_result_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_priority_tiebreak),
        cmocka_unit_test(test_missing_dependency),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_cycle_of_two),
        cmocka_unit_test(test_cycle_of_three),
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_two_providers),
        cmocka_unit_test(test_ineligible_dependency),
        cmocka_unit_test(test_null_entries),
        cmocka_unit_test(test_optional_edges),
        cmocka_unit_test(test_transitive_failure),
        cmocka_unit_test(test_cycle_with_tail_and_own_error),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_hand_built_manifests),
        cmocka_unit_test(test_optional_dedup),
        cmocka_unit_test(test_deterministic_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
