/* Policy files and the policy directory: envelope, signature, document. */
#include "policy/policy.h"

#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dg_policy_file_free(dg_policy_file *f)
{
    if (!f)
        return;
    free(f->file);
    free(f->signer);
    dg_policy_doc_free(f->doc);
    free(f->reason);
    free(f);
}

static dg_policy_file *refused(dg_policy_file *f, dg_refusal r, const char *why)
{
    f->refusal = r;
    free(f->reason);
    f->reason = strdup(why);
    dg_policy_doc_free(f->doc);
    f->doc = NULL;
    return f;
}

static dg_policy_file *new_file(const char *name)
{
    dg_policy_file *f = calloc(1, sizeof(*f));
    if (!f || !(f->file = strdup(name ? name : "policy"))) {
        free(f);
        return NULL;
    }
    dg_text_one_line(f->file); /* file names are shown and sent as JSON */
    return f;
}

dg_policy_file *dg_policy_file_parse(const char *text, size_t len, const char *name,
                                     const dg_keyring *admin_keys, int require_signed)
{
    dg_policy_file *f = new_file(name);
    if (!f)
        return NULL;
    char why[512];
    json_t *root = NULL;
    if (len > DG_POLICY_MAX_BYTES) {
        snprintf(why, sizeof why, "larger than %d bytes", DG_POLICY_MAX_BYTES);
        return refused(f, DG_REFUSAL_MALFORMED, why);
    }
    dg_refusal r = dg_signed_parse_json(text, len, &root, why, sizeof why);
    if (r != DG_REFUSAL_NONE)
        return refused(f, r, why);
    const json_t *doc = NULL;
    dg_signature sig;
    r = dg_signed_open(root, "policy", 1, &doc, &sig, &f->is_signed, why, sizeof why);
    if (r == DG_REFUSAL_NONE && f->is_signed) {
        memcpy(f->key_id, sig.key_id, sizeof f->key_id);
        const char *signer = NULL;
        r = dg_signed_verify(doc, &sig, admin_keys, &signer, why, sizeof why);
        if (r == DG_REFUSAL_NONE && !(f->signer = strdup(signer ? signer : ""))) {
            r = DG_REFUSAL_MALFORMED;
            snprintf(why, sizeof why, "out of memory");
        }
    } else if (r == DG_REFUSAL_NONE && require_signed) {
        r = DG_REFUSAL_UNSIGNED;
        snprintf(why, sizeof why,
                 "unsigned policy refused: this installation requires policies signed by an "
                 "admin key (policy.require_signed)");
    }
    if (r == DG_REFUSAL_NONE && dg_policy_parse_doc(doc, &f->doc, why, sizeof why) != 0)
        r = DG_REFUSAL_MALFORMED;
    json_decref(root);
    return r == DG_REFUSAL_NONE ? f : refused(f, r, why);
}

static int is_policy_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

void dg_policy_set_free(dg_policy_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n_files; i++)
        dg_policy_file_free(set->files[i]);
    free(set->files);
    free(set->dir);
    free(set->error);
    free(set);
}

static int add_file(dg_policy_set *set, dg_policy_file *f)
{
    if (!f)
        return -1;
    dg_policy_file **grown = realloc(set->files, (set->n_files + 1) * sizeof(*grown));
    if (!grown) {
        dg_policy_file_free(f);
        return -1;
    }
    set->files = grown;
    set->files[set->n_files++] = f;
    return 0;
}

/* A file that cannot be read is refused like a bad one: it is listed, and names its error. */
static dg_policy_file *read_one(const char *dir, const char *name, const dg_keyring *admin_keys,
                                int require_signed)
{
    char *path = dg_path_join(dir, name);
    char *text = NULL;
    size_t len = 0;
    int rc = path ? dg_read_file(path, DG_POLICY_MAX_BYTES, &text, &len) : -ENOMEM;
    free(path);
    if (rc != 0) {
        dg_policy_file *f = new_file(name);
        char why[256];
        snprintf(why, sizeof why, "cannot read it: %s",
                 rc == -EFBIG ? "larger than the policy size limit" : strerror(-rc));
        return f ? refused(f, rc == -EFBIG ? DG_REFUSAL_MALFORMED : DG_REFUSAL_TRUNCATED, why)
                 : NULL;
    }
    dg_policy_file *f = dg_policy_file_parse(text, len, name, admin_keys, require_signed);
    free(text);
    return f;
}

dg_policy_set *dg_policy_load_dir(const char *dir, const dg_keyring *admin_keys, int require_signed)
{
    dg_policy_set *set = calloc(1, sizeof(*set));
    if (!set || !(set->dir = strdup(dir ? dir : ""))) {
        free(set);
        return NULL;
    }
    if (!dir)
        return set;
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        if (errno != ENOENT) {
            char msg[512];
            snprintf(msg, sizeof msg, "cannot read the policy directory %s: %s", dir,
                     strerror(errno));
            set->error = strdup(msg);
        }
        return set;
    }
    size_t taken = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (is_policy_name(name)) {
            if (taken++ < DG_POLICY_MAX_FILES) {
                if (add_file(set, read_one(dir, name, admin_keys, require_signed)) != 0) {
                    free(set->error);
                    set->error = strdup("out of memory reading the policy directory");
                }
            } else if (!set->error) {
                char msg[256];
                snprintf(msg, sizeof msg, "more than %d policy files: the rest is ignored",
                         DG_POLICY_MAX_FILES);
                set->error = strdup(msg);
            }
        }
        free(names[i]);
    }
    free(names);
    return set;
}

size_t dg_policy_set_refused(const dg_policy_set *set)
{
    size_t n = 0;
    for (size_t i = 0; set && i < set->n_files; i++)
        n += set->files[i]->doc == NULL;
    return n;
}

json_t *dg_policy_set_json(const dg_policy_set *set)
{
    json_t *a = json_array();
    for (size_t i = 0; a && set && i < set->n_files; i++) {
        const dg_policy_file *f = set->files[i];
        json_t *o = json_pack("{s:s, s:s?, s:b, s:s?, s:s?, s:s}", "file", f->file, "name",
                              f->doc ? f->doc->name : NULL, "signed", f->is_signed, "key_id",
                              f->is_signed ? f->key_id : NULL, "signer", f->signer, "status",
                              f->doc ? "applied" : "refused");
        if (o && !f->doc) {
            json_object_set_new(o, "refusal", json_string(dg_refusal_name(f->refusal)));
            json_object_set_new(o, "reason", json_string(f->reason ? f->reason : ""));
        }
        json_array_append_new(a, o);
    }
    return a;
}
