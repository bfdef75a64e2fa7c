/*
 * dengon-licence: the vendor's (and admins') tool for keys, licences and
 * signed policies. Private keys stay wherever the user keeps them; this tool
 * never writes one into a repository and refuses to overwrite a key file.
 *
 *   keygen --out PRIVATE.pem [--pub PUBLIC.pem]
 *   issue --key PRIVATE.pem [--out FILE] DOC.json
 *   issue --key PRIVATE.pem [--out FILE] --id ID --licensee NAME --plan PLAN --seats N
 *         [--entitlement E]... [--issued T] [--not-before T] [--expires T | --days N]
 *   verify [--pub PUBLIC.pem]... [--no-vendor] [--at T] FILE
 *   sign-policy --key PRIVATE.pem [--out FILE] POLICY.json
 *   canonical FILE
 *   keyid KEY.pem
 */
#include "licence/canon.h"
#include "licence/licence.h"
#include "licence/vendor.h"
#include "policy/policy.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fputs("usage: dengon-licence COMMAND [OPTIONS]\n"
          "Keys, licences and signed team policies for dengon (docs/licence.md).\n\n"
          "  keygen --out PRIVATE.pem [--pub PUBLIC.pem]\n"
          "        make an Ed25519 key pair (the private file is created 0600, never\n"
          "        overwritten); prints the key id\n"
          "  issue --key PRIVATE.pem [--out FILE] DOC.json\n"
          "  issue --key PRIVATE.pem [--out FILE] --id ID --licensee NAME --plan PLAN\n"
          "        --seats N [--entitlement E]... [--issued T] [--not-before T]\n"
          "        [--expires T | --days N]\n"
          "        sign a licence document (checked first) and write the licence file\n"
          "        (standard output without --out); times are like 2025-01-31T00:00:00Z\n"
          "  verify [--pub PUBLIC.pem]... [--no-vendor] [--at T] FILE\n"
          "        check a licence against the compiled-in vendor key and/or the given\n"
          "        keys, and its validity now (or at T); exit 0 valid, 1 refused\n"
          "  sign-policy --key PRIVATE.pem [--out FILE] POLICY.json\n"
          "        check a team policy document and sign it with an admin key\n"
          "  canonical FILE\n"
          "        print the canonical bytes of the document in FILE (a licence, a\n"
          "        policy, signed or not): what a signature covers\n"
          "  keyid KEY.pem\n"
          "        print the key id of a public or private key\n",
          out);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "dengon-licence: %s (see dengon-licence --help)\n", msg);
    return EXIT_USAGE;
}

static int read_text(const char *path, size_t max, char **text, size_t *len)
{
    int rc = dg_read_file(path, max, text, len);
    if (rc != 0)
        fprintf(stderr, "dengon-licence: %s: %s\n", path,
                rc == -EFBIG ? "too large" : strerror(-rc));
    return rc;
}

/* Writes text to path (0644, atomically) or to standard output. */
static int write_out(const char *path, const char *text)
{
    if (!path) {
        fputs(text, stdout);
        return fflush(stdout) == 0 ? 0 : EXIT_REFUSED;
    }
    int rc = dg_write_file_atomic(path, text, strlen(text), 0644);
    if (rc != 0) {
        fprintf(stderr, "dengon-licence: cannot write %s: %s\n", path, strerror(-rc));
        return EXIT_REFUSED;
    }
    return 0;
}

/* Creates path exclusively with mode and writes text. */
static int write_new(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "dengon-licence: cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (key files are never overwritten)" : "");
        return -1;
    }
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int ok = n == (ssize_t)len && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "dengon-licence: cannot write %s\n", path);
        unlink(path);
        return -1;
    }
    return 0;
}

static int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"pub", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL, *pub = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'p')
            pub = optarg;
        else
            return usage_error("keygen: bad option");
    }
    if (!out || optind != argc)
        return usage_error("keygen needs --out PRIVATE.pem");
    dg_key *key = dg_key_generate();
    char *priv_pem = key ? dg_key_pem(key, 1) : NULL;
    char *pub_pem = key ? dg_key_pem(key, 0) : NULL;
    int rc = EXIT_REFUSED;
    if (!priv_pem || !pub_pem)
        fprintf(stderr, "dengon-licence: key generation failed\n");
    else if (write_new(out, priv_pem, 0600) == 0 && (!pub || write_new(pub, pub_pem, 0644) == 0)) {
        printf("key id %s\nprivate key: %s (keep it secret, never commit it)\n", dg_key_id(key),
               out);
        if (pub)
            printf("public key:  %s\n", pub);
        rc = 0;
    }
    if (priv_pem)
        memset(priv_pem, 0, strlen(priv_pem));
    free(priv_pem);
    free(pub_pem);
    dg_key_free(key);
    return rc;
}

/* The document of a licence built from options. */
static json_t *doc_from_options(const char *id, const char *licensee, const char *plan,
                                const char *seats, char **ents, size_t n_ents, const char *issued,
                                const char *not_before, const char *expires, const char *days)
{
    char now[32], until[32];
    time_t t = time(NULL);
    dg_time_format((int64_t)t, now);
    if (!issued)
        issued = now;
    char *end = NULL;
    long long n_seats = seats ? strtoll(seats, &end, 10) : 0;
    if (!seats || *end) {
        fprintf(stderr, "dengon-licence: --seats needs a number\n");
        return NULL;
    }
    if (days) {
        long long d = strtoll(days, &end, 10);
        int64_t from = 0;
        if (*end || d < 1 || d > 36600 || dg_time_parse(not_before ? not_before : issued, &from)) {
            fprintf(stderr, "dengon-licence: --days needs 1..36600 and valid times\n");
            return NULL;
        }
        dg_time_format(from + d * 86400, until);
        expires = until;
    }
    json_t *e = json_array();
    for (size_t i = 0; e && i < n_ents; i++)
        json_array_append_new(e, json_string(ents[i]));
    json_t *doc = json_pack("{s:i, s:s?, s:s?, s:s?, s:I, s:s, s:o}", "format", DG_LICENCE_FORMAT,
                            "id", id, "licensee", licensee, "plan", plan, "seats",
                            (json_int_t)n_seats, "issued", issued, "entitlements", e);
    if (doc && not_before)
        json_object_set_new(doc, "not_before", json_string(not_before));
    if (doc && expires)
        json_object_set_new(doc, "expires", json_string(expires));
    return doc;
}

/* Loads DOC.json: a bare document, or the "licence"/"policy" member of a signed file. */
static json_t *load_doc(const char *path, const char *member)
{
    char *text = NULL;
    size_t len = 0;
    if (read_text(path, DG_SIGNED_MAX_BYTES, &text, &len) != 0)
        return NULL;
    json_t *root = NULL;
    char why[512];
    dg_refusal r = dg_signed_parse_json(text, len, &root, why, sizeof why);
    free(text);
    if (r != DG_REFUSAL_NONE) {
        fprintf(stderr, "dengon-licence: %s: %s: %s\n", path, dg_refusal_name(r), why);
        return NULL;
    }
    json_t *doc = json_object_get(root, member);
    doc = json_incref(json_is_object(doc) ? doc : root);
    json_decref(root);
    return doc;
}

static int sign_and_write(const json_t *doc, const char *member, const char *key_path,
                          const char *out)
{
    char err[512];
    dg_key *key = dg_key_load_private(key_path, err, sizeof err);
    if (!key) {
        fprintf(stderr, "dengon-licence: %s\n", err);
        return EXIT_REFUSED;
    }
    json_t *env = dg_signed_make(doc, member, key, err, sizeof err);
    char *text = env ? json_dumps(env, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    int rc = EXIT_REFUSED;
    if (!env) {
        fprintf(stderr, "dengon-licence: %s\n", err);
    } else if (text) {
        size_t n = strlen(text);
        char *line = malloc(n + 2);
        if (line) {
            memcpy(line, text, n);
            memcpy(line + n, "\n", 2);
            rc = write_out(out, line);
            free(line);
        }
        if (rc == 0 && out)
            fprintf(stderr, "signed with key %s: %s\n", dg_key_id(key), out);
    }
    free(text);
    json_decref(env);
    dg_key_free(key);
    return rc;
}

static int cmd_issue(int argc, char **argv)
{
    enum {
        O_KEY = 1,
        O_OUT,
        O_ID,
        O_LICENSEE,
        O_PLAN,
        O_SEATS,
        O_ENT,
        O_ISSUED,
        O_NB,
        O_EXP,
        O_DAYS
    };
    static const struct option opts[] = {{"key", required_argument, NULL, O_KEY},
                                         {"out", required_argument, NULL, O_OUT},
                                         {"id", required_argument, NULL, O_ID},
                                         {"licensee", required_argument, NULL, O_LICENSEE},
                                         {"plan", required_argument, NULL, O_PLAN},
                                         {"seats", required_argument, NULL, O_SEATS},
                                         {"entitlement", required_argument, NULL, O_ENT},
                                         {"issued", required_argument, NULL, O_ISSUED},
                                         {"not-before", required_argument, NULL, O_NB},
                                         {"expires", required_argument, NULL, O_EXP},
                                         {"days", required_argument, NULL, O_DAYS},
                                         {NULL, 0, NULL, 0}};
    const char *key = NULL, *out = NULL, *id = NULL, *licensee = NULL, *plan = NULL, *seats = NULL,
               *issued = NULL, *nb = NULL, *exp = NULL, *days = NULL;
    char *ents[DG_LICENCE_MAX_ENTITLEMENTS];
    size_t n_ents = 0;
    int c, fields = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        fields += c >= O_ID;
        switch (c) {
        case O_KEY:
            key = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_ID:
            id = optarg;
            break;
        case O_LICENSEE:
            licensee = optarg;
            break;
        case O_PLAN:
            plan = optarg;
            break;
        case O_SEATS:
            seats = optarg;
            break;
        case O_ENT:
            if (n_ents == DG_LICENCE_MAX_ENTITLEMENTS)
                return usage_error("too many --entitlement options");
            ents[n_ents++] = optarg;
            break;
        case O_ISSUED:
            issued = optarg;
            break;
        case O_NB:
            nb = optarg;
            break;
        case O_EXP:
            exp = optarg;
            break;
        case O_DAYS:
            days = optarg;
            break;
        default:
            return usage_error("issue: bad option");
        }
    }
    if (!key)
        return usage_error("issue needs --key PRIVATE.pem");
    if ((optind == argc) == (fields == 0))
        return usage_error("issue takes either DOC.json or the --id/--licensee/... options");
    if (exp && days)
        return usage_error("give --expires or --days, not both");
    json_t *doc = optind < argc ? (optind + 1 == argc ? load_doc(argv[optind], "licence") : NULL)
                                : doc_from_options(id, licensee, plan, seats, ents, n_ents, issued,
                                                   nb, exp, days);
    if (!doc)
        return optind + 1 < argc ? usage_error("issue takes one DOC.json") : EXIT_REFUSED;
    char why[512];
    dg_licence *lic = NULL;
    dg_refusal r = dg_licence_parse_doc(doc, &lic, why, sizeof why);
    int rc = EXIT_REFUSED;
    if (r != DG_REFUSAL_NONE)
        fprintf(stderr, "dengon-licence: not a valid licence: %s\n", why);
    else
        rc = sign_and_write(doc, "licence", key, out);
    dg_licence_free(lic);
    json_decref(doc);
    return rc;
}

static void print_licence(const dg_licence *lic)
{
    char when[32];
    printf("licence %s for %s\n  plan %s, %lld seat%s\n", lic->id, lic->licensee, lic->plan,
           (long long)lic->seats, lic->seats == 1 ? "" : "s");
    dg_time_format(lic->not_before, when);
    printf("  valid from %s", when);
    if (lic->expires) {
        dg_time_format(lic->expires, when);
        printf(" until %s\n", when);
    } else {
        printf(", no expiry\n");
    }
    printf("  entitlements:");
    for (size_t i = 0; i < lic->n_entitlements; i++)
        printf("%s %s", i ? "," : "", lic->entitlements[i]);
    printf("%s\n  signed by key %s (%s)\n", lic->n_entitlements ? "" : " none", lic->key_id,
           lic->key_name);
}

static int cmd_verify(int argc, char **argv)
{
    enum { O_PUB = 1, O_NOVENDOR, O_AT };
    static const struct option opts[] = {{"pub", required_argument, NULL, O_PUB},
                                         {"no-vendor", no_argument, NULL, O_NOVENDOR},
                                         {"at", required_argument, NULL, O_AT},
                                         {NULL, 0, NULL, 0}};
    dg_keyring *ring = dg_keyring_new();
    int vendor = 1, c, rc = EXIT_REFUSED;
    int64_t at = (int64_t)time(NULL);
    char err[512];
    if (!ring)
        return EXIT_REFUSED;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_PUB) {
            dg_key *k = dg_key_load(optarg, err, sizeof err);
            if (!k) {
                fprintf(stderr, "dengon-licence: %s\n", err);
                dg_keyring_free(ring);
                return EXIT_USAGE;
            }
            const char *base = strrchr(optarg, '/');
            dg_keyring_add(ring, base ? base + 1 : optarg, k);
        } else if (c == O_NOVENDOR) {
            vendor = 0;
        } else if (c == O_AT && dg_time_parse(optarg, &at) == 0) {
            continue;
        } else {
            dg_keyring_free(ring);
            return usage_error("verify: bad option or time (like 2025-01-31T00:00:00Z)");
        }
    }
    if (optind + 1 != argc) {
        dg_keyring_free(ring);
        return usage_error("verify takes one licence FILE");
    }
    if (vendor)
        dg_keyring_add(ring, DG_VENDOR_KEY_NAME, dg_vendor_key());
    char *text = NULL;
    size_t len = 0;
    if (read_text(argv[optind], DG_LICENCE_MAX_BYTES, &text, &len) == 0) {
        dg_licence *lic = NULL;
        char why[512];
        dg_refusal r = dg_licence_load(text, len, ring, &lic, why, sizeof why);
        if (r == DG_REFUSAL_NONE)
            r = dg_licence_check_time(lic, at, why, sizeof why);
        if (lic)
            print_licence(lic);
        if (r == DG_REFUSAL_NONE) {
            printf("valid\n");
            rc = 0;
        } else {
            printf("refused: %s: %s\n", dg_refusal_name(r), why);
        }
        dg_licence_free(lic);
        free(text);
    }
    dg_keyring_free(ring);
    return rc;
}

static int cmd_sign_policy(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"out", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    const char *key = NULL, *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            key = optarg;
        else if (c == 'o')
            out = optarg;
        else
            return usage_error("sign-policy: bad option");
    }
    if (!key || optind + 1 != argc)
        return usage_error("sign-policy needs --key PRIVATE.pem and one POLICY.json");
    json_t *doc = load_doc(argv[optind], "policy");
    if (!doc)
        return EXIT_REFUSED;
    char why[512];
    dg_policy_doc *pd = NULL;
    int rc = EXIT_REFUSED;
    if (dg_policy_parse_doc(doc, &pd, why, sizeof why) != 0)
        fprintf(stderr, "dengon-licence: %s: not a valid policy: %s\n", argv[optind], why);
    else
        rc = sign_and_write(doc, "policy", key, out);
    dg_policy_doc_free(pd);
    json_decref(doc);
    return rc;
}

static int cmd_canonical(int argc, char **argv)
{
    if (argc != 2)
        return usage_error("canonical takes one FILE");
    char *text = NULL;
    size_t len = 0;
    if (read_text(argv[1], DG_SIGNED_MAX_BYTES, &text, &len) != 0)
        return EXIT_REFUSED;
    json_t *root = NULL;
    char why[512];
    dg_refusal r = dg_signed_parse_json(text, len, &root, why, sizeof why);
    free(text);
    if (r != DG_REFUSAL_NONE) {
        fprintf(stderr, "dengon-licence: %s: %s: %s\n", argv[1], dg_refusal_name(r), why);
        return EXIT_REFUSED;
    }
    const json_t *doc = json_object_get(root, "licence");
    if (!json_is_object(doc))
        doc = json_object_get(root, "policy");
    if (!json_is_object(doc))
        doc = root;
    char *canon = NULL;
    size_t n = 0;
    int rc = EXIT_REFUSED;
    if (dg_canon_dump(doc, &canon, &n, why, sizeof why) != 0)
        fprintf(stderr, "dengon-licence: %s: cannot be canonicalised: %s\n", argv[1], why);
    else if (fwrite(canon, 1, n, stdout) == n && fflush(stdout) == 0)
        rc = 0;
    free(canon);
    json_decref(root);
    return rc;
}

static int cmd_keyid(int argc, char **argv)
{
    if (argc != 2)
        return usage_error("keyid takes one KEY.pem");
    char err[512];
    dg_key *key = dg_key_load(argv[1], err, sizeof err);
    if (!key) {
        fprintf(stderr, "dengon-licence: %s\n", err);
        return EXIT_REFUSED;
    }
    printf("%s\n", dg_key_id(key));
    dg_key_free(key);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    opterr = 0;
    optind = 1;
    argc--;
    argv++;
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc, argv);
    if (strcmp(cmd, "issue") == 0)
        return cmd_issue(argc, argv);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc, argv);
    if (strcmp(cmd, "sign-policy") == 0)
        return cmd_sign_policy(argc, argv);
    if (strcmp(cmd, "canonical") == 0)
        return cmd_canonical(argc, argv);
    if (strcmp(cmd, "keyid") == 0)
        return cmd_keyid(argc, argv);
    fprintf(stderr, "dengon-licence: unknown command '%s'\n", cmd);
    return usage_error("commands: keygen, issue, verify, sign-policy, canonical, keyid");
}
