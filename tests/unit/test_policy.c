/*
 * Unit tests for core/src/policy: strict parsing (with the reason of each
 * refusal), signed and unsigned files, the policy directory, rule matching
 * by group and by user, precedence, modes, and the plugin decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "licence/signed.h"
#include "policy/policy.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static dg_policy_file *parse(const char *text, const char *name, const dg_keyring *ring,
                             int require_signed)
{
    dg_policy_file *f = dg_policy_file_parse(text, strlen(text), name, ring, require_signed);
    assert_non_null(f);
    return f;
}

/* ---- parsing ---- */

static const char *const full_policy =
    "{\"format\":1,\"name\":\"acme\",\"description\":\"ACME teams\","
    "\"licence_keys\":[\"reseller-a\"],"
    "\"default\":{\"plugins\":{\"webui\":\"on\"},\"config\":{\"files.max_size\":\"50m\"}},"
    "\"teams\":["
    " {\"name\":\"hr\",\"groups\":[\"HR\",\"Personnel\"],\"modes\":[\"lan_only\"],"
    "  \"config\":{\"users.offline_days\":30,\"av.enabled\":false}},"
    " {\"name\":\"boss\",\"users\":[\"alice@pc-17\",\"0f8f2b9e-4c1d-4e7a-9a55-5b0e6f1d2c3a\"],"
    "  \"plugins\":{\"webui\":\"off\",\"cloud-connector\":\"on\"}}]}";

static void parses_a_full_policy(void **state)
{
    dg_policy_file *f = parse(full_policy, "10-acme.json", NULL, 0);
    assert_int_equal(f->refusal, DG_REFUSAL_NONE);
    const dg_policy_doc *d = f->doc;
    assert_non_null(d);
    assert_string_equal(d->name, "acme");
    assert_int_equal(d->n_licence_keys, 1);
    assert_true(d->has_default);
    assert_int_equal(d->def.n_plugins, 1);
    assert_true(d->def.plugins[0].on);
    assert_int_equal(d->n_teams, 2);
    assert_int_equal(d->teams[0].rule.modes, DG_POLICY_MODE_LAN_ONLY);
    assert_int_equal(d->teams[0].n_groups, 2);
    /* Config values become the text the config stores. */
    const dg_policy_rule *hr = &d->teams[0].rule;
    assert_int_equal(hr->n_config, 2);
    for (size_t i = 0; i < hr->n_config; i++) {
        if (strcmp(hr->config[i].key, "users.offline_days") == 0)
            assert_string_equal(hr->config[i].value, "30");
        else
            assert_string_equal(hr->config[i].value, "false");
    }
    assert_false(f->is_signed);
    dg_policy_file_free(f);
}

static void refuses_bad_policies_with_the_reason(void **state)
{
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"{\"name\":\"a\"}", "'format' must be the integer 1"},
        {"{\"format\":2,\"name\":\"a\"}", "unsupported policy format 2"},
        {"{\"format\":1}", "'name': required"},
        {"{\"format\":1,\"name\":\"a'b\"}", "'name': required"},
        {"{\"format\":1,\"name\":\"a\",\"team\":[]}", "policy: unknown key 'team'"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"name\":\"x\"}}",
         "default: unknown key 'name'"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"plugins\":{\"ipmsg\":\"maybe\"}}}",
         "default.plugins.ipmsg: must be \"on\" or \"off\""},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"plugins\":{\"Bad Id\":\"on\"}}}",
         "'Bad Id' is not a plugin id"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"config\":{\"plugins.ipmsg.enabled\":true}}}",
         "plugins are switched with"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"config\":{\"identity.group\":\"x\"}}}",
         "teams are matched by it"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"config\":{\"policy.require_signed\":false}}}",
         "belong to the installation"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"config\":{\"a.b\":1.5}}}",
         "default.config.a.b: must be a string"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"config\":{\"a.b\":\"x\\ny\"}}}",
         "without control characters"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"config\":{\"a..b\":1}}}",
         "'a..b' is not a config key"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"modes\":[\"offline\"]}}",
         "default.modes[0]: unknown mode"},
        {"{\"format\":1,\"name\":\"a\",\"default\":{\"modes\":[\"lan_only\",\"lan_only\"]}}",
         "'lan_only' is listed twice"},
        {"{\"format\":1,\"name\":\"a\",\"teams\":[{\"name\":\"t\"}]}", "teams[0]: matches nobody"},
        {"{\"format\":1,\"name\":\"a\",\"teams\":[{\"name\":\"t\",\"groups\":[\"g\"]},"
         "{\"name\":\"t\",\"groups\":[\"h\"]}]}",
         "teams[1]: a team named 't' comes earlier"},
        {"{\"format\":1,\"name\":\"a\",\"teams\":[{\"name\":\"t\",\"groups\":[\"g\",\"g\"]}]}",
         "teams[0].groups: 'g' is listed twice"},
        {"{\"format\":1,\"name\":\"a\",\"teams\":[{\"name\":\"t\",\"users\":[\"\"]}]}",
         "teams[0].users[0]: not a valid entry"},
        {"{\"format\":1,\"name\":\"a\",\"licence_keys\":[\"vendor\"]}",
         "licence_keys[0]: not a valid entry"},
        {"{\"format\":1,\"name\":\"a\",\"licence_keys\":[\"../x\"]}",
         "licence_keys[0]: not a valid entry"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dg_policy_file *f = parse(cases[i].text, "p.json", NULL, 0);
        if (f->refusal != DG_REFUSAL_MALFORMED || !f->reason || !strstr(f->reason, cases[i].why))
            fail_msg("case %zu: %s: %s (wanted '%s')", i, dg_refusal_name(f->refusal),
                     f->reason ? f->reason : "accepted", cases[i].why);
        assert_null(f->doc);
        dg_policy_file_free(f);
    }
}

/* ---- signatures ---- */

typedef struct sig_fixture {
    dg_key *admin, *stranger;
    dg_keyring *ring;
} sig_fixture;

static int sig_setup(void **state)
{
    sig_fixture *f = calloc(1, sizeof(*f));
    f->admin = dg_key_generate();
    f->stranger = dg_key_generate();
    f->ring = dg_keyring_new();
    char *pem = dg_key_pem(f->admin, 0);
    dg_keyring_add(f->ring, "it-dept", dg_key_from_pem(pem, strlen(pem), NULL, 0));
    free(pem);
    *state = f;
    return 0;
}

static int sig_teardown(void **state)
{
    sig_fixture *f = *state;
    dg_key_free(f->admin);
    dg_key_free(f->stranger);
    dg_keyring_free(f->ring);
    free(f);
    return 0;
}

static char *signed_policy(const char *doc, const dg_key *key)
{
    json_error_t jerr;
    json_t *d = json_loads(doc, 0, &jerr);
    assert_non_null(d);
    json_t *env = dg_signed_make(d, "policy", key, NULL, 0);
    assert_non_null(env);
    char *text = json_dumps(env, JSON_INDENT(2));
    json_decref(env);
    json_decref(d);
    return text;
}

static void signed_and_unsigned_policies(void **state)
{
    sig_fixture *f = *state;
    const char *doc = "{\"format\":1,\"name\":\"it\",\"default\":{\"modes\":[\"lan_only\"]}}";

    dg_policy_file *p = parse(doc, "a.json", f->ring, 0);
    assert_non_null(p->doc); /* unsigned is fine when not required */
    dg_policy_file_free(p);
    p = parse(doc, "a.json", f->ring, 1);
    assert_int_equal(p->refusal, DG_REFUSAL_UNSIGNED);
    assert_non_null(strstr(p->reason, "requires policies signed by an admin key"));
    dg_policy_file_free(p);

    char *text = signed_policy(doc, f->admin);
    p = parse(text, "a.json", f->ring, 1);
    assert_int_equal(p->refusal, DG_REFUSAL_NONE);
    assert_true(p->is_signed);
    assert_string_equal(p->signer, "it-dept");
    assert_string_equal(p->key_id, dg_key_id(f->admin));
    dg_policy_file_free(p);

    /* Tampered: lan_only quietly removed. */
    char *mode = strstr(text, "\"lan_only\"");
    assert_non_null(mode);
    memcpy(mode, "\"lan_onlx\"", 10);
    p = parse(text, "a.json", f->ring, 0);
    assert_int_equal(p->refusal, DG_REFUSAL_TAMPERED);
    dg_policy_file_free(p);
    free(text);

    /* A signature nobody trusts is refused even when signatures are optional. */
    text = signed_policy(doc, f->stranger);
    p = parse(text, "a.json", f->ring, 0);
    assert_int_equal(p->refusal, DG_REFUSAL_WRONG_KEY);
    dg_policy_file_free(p);
    p = parse(text, "a.json", NULL, 0);
    assert_int_equal(p->refusal, DG_REFUSAL_WRONG_KEY);
    dg_policy_file_free(p);

    text[strlen(text) / 2] = '\0';
    p = parse(text, "a.json", f->ring, 0);
    assert_int_equal(p->refusal, DG_REFUSAL_TRUNCATED);
    dg_policy_file_free(p);
    free(text);

    p = parse("{\"policy\":{},\"signature\":{},\"x\":1}", "a.json", f->ring, 0);
    assert_int_equal(p->refusal, DG_REFUSAL_MALFORMED);
    dg_policy_file_free(p);
    p = parse("{\"format\":1,\"name\":\"a\",\"signature\":{}}", "a.json", f->ring, 0);
    assert_int_equal(p->refusal, DG_REFUSAL_MALFORMED);
    dg_policy_file_free(p);
}

/* ---- evaluation ---- */

static dg_policy_set *set_of(const char *const *texts, const char *const *names, size_t n)
{
    dg_policy_set *set = calloc(1, sizeof(*set));
    set->dir = strdup("test");
    set->files = calloc(n, sizeof(*set->files));
    for (size_t i = 0; i < n; i++)
        set->files[set->n_files++] = parse(texts[i], names[i], NULL, 0);
    return set;
}

static const char *value_of(const dg_policy_entry *e)
{
    return e ? e->value : NULL;
}

static void matching_and_precedence(void **state)
{
    const char *second = "{\"format\":1,\"name\":\"site\","
                         "\"default\":{\"config\":{\"files.max_size\":\"10m\"},"
                         "\"modes\":[\"lan_only\"]},"
                         "\"teams\":[{\"name\":\"hr2\",\"groups\":[\"hr\"],"
                         "\"plugins\":{\"webui\":\"on\"}}]}";
    const char *broken = "{\"format\":1,\"name\":\"x\",\"default\":{\"plugins\":{\"a\":\"?\"}}}";
    const char *const texts[] = {full_policy, broken, second};
    const char *const names[] = {"10-acme.json", "15-broken.json", "20-site.json"};
    dg_policy_set *set = set_of(texts, names, 3);
    assert_int_equal(dg_policy_set_refused(set), 1);

    /* Nobody special: the defaults, the later file winning for files.max_size. */
    dg_policy_who nobody = {"bob@pc-2", "11111111-2222-4333-8444-555555555555", "Sales"};
    dg_policy_effective *e = dg_policy_evaluate(set, &nobody);
    assert_non_null(e);
    assert_string_equal(value_of(dg_policy_plugin_rule(e, "webui")), "on");
    const dg_policy_entry *size = dg_policy_config_rule(e, "files.max_size");
    assert_string_equal(size->value, "10m");
    assert_string_equal(size->source, "20-site.json: default");
    assert_string_equal(size->policy, "site");
    assert_null(dg_policy_config_rule(e, "users.offline_days"));
    assert_int_equal(e->n_teams, 0);
    assert_int_equal(e->n_licence_keys, 1);
    assert_string_equal(e->licence_keys[0].source, "10-acme.json");
    dg_policy_effective_free(e);

    /* Group match (any case): hr's rules, and lan_only credited to the first rule that set it. */
    dg_policy_who hr = {"carol@pc-9", NULL, "hR"};
    e = dg_policy_evaluate(set, &hr);
    assert_string_equal(value_of(dg_policy_config_rule(e, "users.offline_days")), "30");
    const dg_policy_entry *lan = dg_policy_mode_rule(e, DG_POLICY_MODE_LAN_ONLY);
    assert_non_null(lan);
    assert_string_equal(lan->source, "10-acme.json: team 'hr' (group 'HR')");
    assert_int_equal(e->n_teams, 2);
    assert_string_equal(value_of(dg_policy_plugin_rule(e, "webui")), "on");
    assert_string_equal(dg_policy_plugin_rule(e, "webui")->source,
                        "20-site.json: team 'hr2' (group 'hr')");
    dg_policy_effective_free(e);

    /* User match by LAN key, and by UUID: the team overrides the default of its file. */
    dg_policy_who boss = {"alice@pc-17", "aaaaaaaa-2222-4333-8444-555555555555", ""};
    e = dg_policy_evaluate(set, &boss);
    const dg_policy_entry *webui = dg_policy_plugin_rule(e, "webui");
    assert_string_equal(webui->value, "off");
    assert_string_equal(webui->source, "10-acme.json: team 'boss' (user 'alice@pc-17')");
    assert_string_equal(value_of(dg_policy_plugin_rule(e, "cloud-connector")), "on");
    dg_policy_effective_free(e);
    dg_policy_who by_uuid = {"someone@else", "0F8F2B9E-4C1D-4E7A-9A55-5B0E6F1D2C3A", NULL};
    e = dg_policy_evaluate(set, &by_uuid);
    assert_string_equal(value_of(dg_policy_plugin_rule(e, "webui")), "off");
    json_t *j = dg_policy_effective_json(e);
    assert_int_equal(json_array_size(json_object_get(j, "teams")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "plugins"), 0), "state")),
                        "off");
    json_decref(j);
    dg_policy_effective_free(e);
    dg_policy_set_free(set);
}

static void plugin_decisions(void **state)
{
    const char *doc = "{\"format\":1,\"name\":\"acme\","
                      "\"default\":{\"plugins\":{\"cloud\":\"on\",\"ipmsg\":\"off\"}},"
                      "\"teams\":[{\"name\":\"hr\",\"groups\":[\"HR\"],\"modes\":[\"lan_only\"]}]}";
    const char *const texts[] = {doc};
    const char *const names[] = {"acme.json"};
    dg_policy_set *set = set_of(texts, names, 1);
    dg_policy_who sales = {"a@b", NULL, "Sales"}, hr = {"a@b", NULL, "HR"};
    char why[512];
    dg_policy_effective *e = dg_policy_evaluate(set, &sales);
    assert_false(dg_policy_plugin_allowed(e, "ipmsg", 0, why, sizeof why));
    assert_string_equal(why, "turned off by team policy 'acme' (acme.json: default)");
    assert_true(dg_policy_plugin_allowed(e, "cloud", 1, why, sizeof why));
    assert_true(dg_policy_plugin_allowed(e, "other", 1, why, sizeof why));
    dg_policy_effective_free(e);

    e = dg_policy_evaluate(set, &hr);
    /* lan_only beats "on": off wins. */
    assert_false(dg_policy_plugin_allowed(e, "cloud", 1, why, sizeof why));
    assert_non_null(strstr(why, "team policy 'acme' is lan_only (acme.json: team 'hr'"));
    assert_false(dg_policy_plugin_allowed(e, "other", 1, why, sizeof why));
    assert_true(dg_policy_plugin_allowed(e, "other", 0, why, sizeof why));
    dg_policy_effective_free(e);

    /* No policy at all: everything allowed. */
    assert_true(dg_policy_plugin_allowed(NULL, "ipmsg", 1, why, sizeof why));
    dg_policy_set_free(set);
}

/* ---- the directory ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void directory_reads_json_files_in_order(void **state)
{
    char dir[] = "/tmp/dg-policy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "20-b.json", "{\"format\":1,\"name\":\"b\"}");
    write_file(dir, "10-a.json", "{\"format\":1,\"name\":\"a\"}");
    write_file(dir, "README", "not a policy");
    write_file(dir, ".hidden.json", "{");
    write_file(dir, "30-c.json~", "{");
    write_file(dir, "40-bad.json", "{\"format\":1");
    dg_policy_set *set = dg_policy_load_dir(dir, NULL, 0);
    assert_non_null(set);
    assert_null(set->error);
    assert_int_equal(set->n_files, 3);
    assert_string_equal(set->files[0]->file, "10-a.json");
    assert_string_equal(set->files[1]->file, "20-b.json");
    assert_string_equal(set->files[2]->file, "40-bad.json");
    assert_int_equal(set->files[2]->refusal, DG_REFUSAL_TRUNCATED);
    assert_int_equal(dg_policy_set_refused(set), 1);
    json_t *j = dg_policy_set_json(set);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 2), "status")),
                        "refused");
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 2), "refusal")),
                        "truncated");
    json_decref(j);
    dg_policy_set_free(set);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);

    set = dg_policy_load_dir("/nonexistent/policy.d", NULL, 1);
    assert_non_null(set);
    assert_null(set->error); /* absent = no policy */
    assert_int_equal(set->n_files, 0);
    dg_policy_set_free(set);
}

/* conf/policy-examples/ must stay valid: admins copy them. */
static void shipped_examples_are_accepted(void **state)
{
    dg_policy_set *set = dg_policy_load_dir(DG_SOURCE_DIR "/conf/policy-examples", NULL, 0);
    assert_non_null(set);
    assert_null(set->error);
    assert_true(set->n_files >= 1);
    for (size_t i = 0; i < set->n_files; i++)
        if (!set->files[i]->doc)
            fail_msg("%s: %s", set->files[i]->file, set->files[i]->reason);
    dg_policy_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_a_full_policy),
        cmocka_unit_test(refuses_bad_policies_with_the_reason),
        cmocka_unit_test_setup_teardown(signed_and_unsigned_policies, sig_setup, sig_teardown),
        cmocka_unit_test(matching_and_precedence),
        cmocka_unit_test(plugin_decisions),
        cmocka_unit_test(directory_reads_json_files_in_order),
        cmocka_unit_test(shipped_examples_are_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
