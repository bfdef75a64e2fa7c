/* Unit tests of the service registry: provide/require/version/users_of/remove_owner/list. */
#include "plugin/services.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Owners are opaque to the registry: distinct addresses are enough. */
static char owner_a, owner_b, owner_c;
#define A ((dg_ctx *)&owner_a)
#define B ((dg_ctx *)&owner_b)
#define C ((dg_ctx *)&owner_c)

typedef struct vt {
    int (*f)(void);
} vt;
static const vt table_one = {NULL}, table_two = {NULL};

static const char *name_of(dg_ctx *ctx)
{
    if (!ctx)
        return "core";
    return ctx == A ? "a" : ctx == B ? "b" : ctx == C ? "c" : "?";
}

static int setup(void **state)
{
    *state = dg_services_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    dg_services_free(*state);
    return 0;
}

static void provide_and_require(void **state)
{
    dg_services *svc = *state;
    assert_int_equal(dg_services_provide(svc, A, "crypto.aead", 2, &table_one, sizeof(table_one)),
                     DG_OK);
    size_t size = 0;
    assert_ptr_equal(dg_services_require(svc, B, "crypto.aead", 1, &size), &table_one);
    assert_int_equal(size, sizeof(table_one));
    assert_ptr_equal(dg_services_require(svc, B, "crypto.aead", 2, NULL), &table_one);
    /* size untouched when NULL; unknown names give NULL */
    assert_null(dg_services_require(svc, B, "crypto.none", 1, &size));
}

static void version_too_old(void **state)
{
    dg_services *svc = *state;
    assert_int_equal(dg_services_provide(svc, A, "search.index", 1, &table_one, 8), DG_OK);
    assert_null(dg_services_require(svc, B, "search.index", 2, NULL));
    /* A failed require records no edge. */
    dg_ctx *users[4];
    assert_int_equal(dg_services_users_of(svc, A, users, 4), 0);
}

static void duplicate_and_invalid(void **state)
{
    dg_services *svc = *state;
    assert_int_equal(dg_services_provide(svc, A, "x.y", 1, &table_one, 8), DG_OK);
    assert_int_equal(dg_services_provide(svc, B, "x.y", 2, &table_two, 8), DG_EEXIST);
    assert_int_equal(dg_services_provide(svc, A, "", 1, &table_one, 8), DG_EINVAL);
    assert_int_equal(dg_services_provide(svc, A, NULL, 1, &table_one, 8), DG_EINVAL);
    assert_int_equal(dg_services_provide(svc, A, "Upper.case", 1, &table_one, 8), DG_EINVAL);
    assert_int_equal(dg_services_provide(svc, A, "a..b", 1, &table_one, 8), DG_EINVAL);
    assert_int_equal(dg_services_provide(svc, A, ".a", 1, &table_one, 8), DG_EINVAL);
    assert_int_equal(dg_services_provide(svc, A, "a.", 1, &table_one, 8), DG_EINVAL);
    assert_int_equal(dg_services_provide(svc, A, "x@1", 1, &table_one, 8), DG_EINVAL);
    assert_int_equal(dg_services_provide(svc, A, "ok.name", 1, NULL, 8), DG_EINVAL);
    assert_null(dg_services_require(svc, B, "a..b", 0, NULL));
}

static int contains(dg_ctx **v, size_t n, dg_ctx *x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

static void users_of_counts_distinct_users(void **state)
{
    dg_services *svc = *state;
    assert_int_equal(dg_services_provide(svc, A, "one", 1, &table_one, 8), DG_OK);
    assert_int_equal(dg_services_provide(svc, A, "two", 1, &table_two, 8), DG_OK);
    /* B uses both (twice each), C one; A itself and the core make no edges. */
    assert_non_null(dg_services_require(svc, B, "one", 1, NULL));
    assert_non_null(dg_services_require(svc, B, "one", 1, NULL));
    assert_non_null(dg_services_require(svc, B, "two", 1, NULL));
    assert_non_null(dg_services_require(svc, C, "two", 0, NULL));
    assert_non_null(dg_services_require(svc, A, "two", 0, NULL));
    assert_non_null(dg_services_require(svc, NULL, "one", 0, NULL));
    dg_ctx *users[8];
    size_t n = dg_services_users_of(svc, A, users, 8);
    assert_int_equal(n, 2);
    assert_true(contains(users, n, B));
    assert_true(contains(users, n, C));
    /* max bounds what is written */
    assert_int_equal(dg_services_users_of(svc, A, users, 1), 1);
    assert_int_equal(dg_services_users_of(svc, B, users, 8), 0);
}

static void remove_owner_drops_services_and_edges(void **state)
{
    dg_services *svc = *state;
    assert_int_equal(dg_services_provide(svc, A, "one", 1, &table_one, 8), DG_OK);
    assert_int_equal(dg_services_provide(svc, B, "two", 1, &table_two, 8), DG_OK);
    assert_non_null(dg_services_require(svc, B, "one", 1, NULL));
    assert_non_null(dg_services_require(svc, C, "two", 1, NULL));
    dg_ctx *users[4];

    /* The user goes: its edge goes, the provider has no users left. */
    dg_services_remove_owner(svc, B);
    assert_null(dg_services_require(svc, A, "two", 1, NULL));
    assert_int_equal(dg_services_users_of(svc, A, users, 4), 0);
    assert_int_equal(dg_services_users_of(svc, B, users, 4), 0);

    /* The name is free again for a new provider. */
    assert_int_equal(dg_services_provide(svc, C, "two", 3, &table_two, 8), DG_OK);
    assert_non_null(dg_services_require(svc, B, "two", 3, NULL));
    dg_services_remove_owner(svc, A);
    assert_null(dg_services_require(svc, B, "one", 1, NULL));
    assert_int_equal(dg_services_provide(svc, B, "one", 1, &table_one, 8), DG_OK);
}

static void provider_removal_drops_edges_to_it(void **state)
{
    dg_services *svc = *state;
    assert_int_equal(dg_services_provide(svc, A, "one", 1, &table_one, 8), DG_OK);
    assert_non_null(dg_services_require(svc, B, "one", 1, NULL));
    dg_services_remove_owner(svc, A);
    /* A later owner at the same address must not inherit B's old edge. */
    assert_int_equal(dg_services_provide(svc, A, "other", 1, &table_two, 8), DG_OK);
    dg_ctx *users[4];
    assert_int_equal(dg_services_users_of(svc, A, users, 4), 0);
}

static void list_is_sorted_with_users(void **state)
{
    dg_services *svc = *state;
    assert_int_equal(dg_services_provide(svc, B, "zeta.z", 4, &table_two, 8), DG_OK);
    assert_int_equal(dg_services_provide(svc, A, "alpha.a", 1, &table_one, 8), DG_OK);
    assert_int_equal(dg_services_provide(svc, NULL, "core.clock", 1, &table_one, 8), DG_OK);
    assert_non_null(dg_services_require(svc, C, "alpha.a", 1, NULL));
    assert_non_null(dg_services_require(svc, B, "alpha.a", 1, NULL));

    json_t *list = dg_services_list(svc, name_of);
    assert_int_equal(json_array_size(list), 3);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "alpha.a");
    assert_int_equal(json_integer_value(json_object_get(first, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(first, "provider")), "a");
    json_t *users = json_object_get(first, "users");
    assert_int_equal(json_array_size(users), 2);
    assert_string_equal(json_string_value(json_array_get(users, 0)), "c");
    assert_string_equal(json_string_value(json_array_get(users, 1)), "b");
    json_t *second = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(second, "name")), "core.clock");
    assert_string_equal(json_string_value(json_object_get(second, "provider")), "core");
    json_t *third = json_array_get(list, 2);
    assert_string_equal(json_string_value(json_object_get(third, "name")), "zeta.z");
    assert_int_equal(json_array_size(json_object_get(third, "users")), 0);
    json_decref(list);

    /* Without a namer: "core" for NULL, "plugin" for others. */
    list = dg_services_list(svc, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "provider")),
                        "plugin");
    json_decref(list);
}

static void null_registry_is_harmless(void **state)
{
    (void)state;
    dg_ctx *users[1];
    assert_int_equal(dg_services_provide(NULL, A, "x", 1, &table_one, 8), DG_EINVAL);
    assert_null(dg_services_require(NULL, A, "x", 1, NULL));
    assert_int_equal(dg_services_users_of(NULL, A, users, 1), 0);
    dg_services_remove_owner(NULL, A);
    json_t *list = dg_services_list(NULL, NULL);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    dg_services_free(NULL);
}

static void many_services(void **state)
{
    dg_services *svc = *state;
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "svc.n%03d", i);
        assert_int_equal(dg_services_provide(svc, i % 2 ? A : B, name, (uint32_t)i, &table_one, 8),
                         DG_OK);
        assert_non_null(dg_services_require(svc, C, name, 0, NULL));
    }
    dg_services_remove_owner(svc, A);
    json_t *list = dg_services_list(svc, name_of);
    assert_int_equal(json_array_size(list), 50);
    json_decref(list);
    dg_ctx *users[4];
    assert_int_equal(dg_services_users_of(svc, B, users, 4), 1);
    dg_services_remove_owner(svc, C);
    assert_int_equal(dg_services_users_of(svc, B, users, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(provide_and_require, setup, teardown),
        cmocka_unit_test_setup_teardown(version_too_old, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(users_of_counts_distinct_users, setup, teardown),
        cmocka_unit_test_setup_teardown(remove_owner_drops_services_and_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(provider_removal_drops_edges_to_it, setup, teardown),
        cmocka_unit_test_setup_teardown(list_is_sorted_with_users, setup, teardown),
        cmocka_unit_test(null_registry_is_harmless),
        cmocka_unit_test_setup_teardown(many_services, setup, teardown),
    };
    return cmocka_run_group_tests_name("services", tests, NULL, NULL);
}
