/*
 * libFuzzer harness for team policy files: envelope, admin signature,
 * strict document parser, and the evaluation of the rules. Checks:
 *   - a file is either applied (doc set, no refusal) or refused with a
 *     one-line reason, never both;
 *   - requiring signatures never accepts an unsigned file;
 *   - the effective policy only names plugins, keys and modes the document
 *     names, and every entry has a source;
 *   - an accepted document, signed with an admin key, is accepted when
 *     signatures are required and gives the same effective policy.
 */
#include "licence/signed.h"
#include "policy/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static dg_key *admin;
static dg_keyring *ring;

static void setup(void)
{
    if (ring)
        return;
    admin = dg_key_generate();
    char *pem = dg_key_pem(admin, 0);
    ring = dg_keyring_new();
    CHECK(admin && pem && ring);
    CHECK(dg_keyring_add(ring, "admin", dg_key_from_pem(pem, strlen(pem), NULL, 0)) == DG_OK);
    free(pem);
}

static void check_file(const dg_policy_file *f)
{
    CHECK((f->doc != NULL) == (f->refusal == DG_REFUSAL_NONE));
    if (!f->doc) {
        CHECK(f->reason && f->reason[0] && !strchr(f->reason, '\n'));
        return;
    }
    CHECK(f->doc->name && f->doc->name[0]);
}

static json_t *effective_for(dg_policy_file *f, const dg_policy_who *who)
{
    dg_policy_set set = {.dir = "fuzz", .files = &f, .n_files = 1};
    dg_policy_effective *e = dg_policy_evaluate(&set, who);
    CHECK(e != NULL);
    for (size_t i = 0; i < e->n_plugins; i++) {
        CHECK(e->plugins[i].source && e->plugins[i].policy);
        CHECK(strcmp(e->plugins[i].value, "on") == 0 || strcmp(e->plugins[i].value, "off") == 0);
        char why[512];
        int allowed = dg_policy_plugin_allowed(e, e->plugins[i].name, 0, why, sizeof why);
        CHECK(allowed == (strcmp(e->plugins[i].value, "on") == 0));
    }
    for (size_t i = 0; i < e->n_config; i++)
        CHECK(e->config[i].source && e->config[i].value);
    CHECK((e->n_modes == 0) == (e->mode_bits == 0));
    json_t *j = dg_policy_effective_json(e);
    CHECK(j != NULL);
    dg_policy_effective_free(e);
    return j;
}

static void check_signed_round_trip(const char *text, size_t size, dg_policy_file *f,
                                    const json_t *eff)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);
    CHECK(root != NULL);
    const json_t *doc = json_object_get(root, "policy");
    json_t *env = dg_signed_make(doc ? doc : root, "policy", admin, NULL, 0);
    CHECK(env != NULL);
    char *out = json_dumps(env, 0);
    CHECK(out != NULL);
    dg_policy_file *g = dg_policy_file_parse(out, strlen(out), "fuzz.json", ring, 1);
    CHECK(g && g->doc && g->is_signed && strcmp(g->signer, "admin") == 0);
    dg_policy_who who = {"user@host", "00000000-0000-4000-8000-000000000000", "group"};
    json_t *again = effective_for(g, &who);
    CHECK(json_equal(again, eff));
    json_decref(again);
    dg_policy_file_free(g);
    free(out);
    json_decref(env);
    json_decref(root);
    (void)f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    const char *text = (const char *)data;
    dg_policy_file *f = dg_policy_file_parse(text, size, "fuzz.json", ring, 0);
    CHECK(f != NULL);
    check_file(f);
    dg_policy_file *strict = dg_policy_file_parse(text, size, "fuzz.json", ring, 1);
    CHECK(strict != NULL);
    check_file(strict);
    CHECK(!strict->doc || strict->is_signed);
    dg_policy_file_free(strict);
    if (f->doc) {
        dg_policy_who who = {"user@host", "00000000-0000-4000-8000-000000000000", "group"};
        json_t *eff = effective_for(f, &who);
        if (!f->is_signed)
            check_signed_round_trip(text, size, f, eff);
        json_decref(eff);
        /* Every team's own members match it. */
        for (size_t i = 0; i < f->doc->n_teams; i++) {
            const dg_policy_team *t = &f->doc->teams[i];
            dg_policy_who member = {t->n_users ? t->users[0] : NULL, NULL,
                                    t->n_groups ? t->groups[0] : NULL};
            json_t *e = effective_for(f, &member);
            CHECK(json_array_size(json_object_get(e, "teams")) >= 1);
            json_decref(e);
        }
    }
    dg_policy_file_free(f);
    return 0;
}
