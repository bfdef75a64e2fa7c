/*
 * Test driver for the IPMsg crypto library, used by the independent interop
 * test (crypto_interop.py, Python + python3-cryptography): it exposes the
 * library's real entry points on the command line so the other side can be
 * written with a different implementation. Not installed.
 *
 *   ipmc_tool keys DIR                       our two public keys (wire form)
 *                                            and the fingerprinted name "alice"
 *   ipmc_tool encrypt DIR PEERWIRE CAPA PKTNO TEXT [ATTACH|- [TOLIST|-]]
 *   ipmc_tool decrypt DIR SENDERWIRE|- PKTNO EXT   (extra on stdin)
 *   ipmc_tool ctr KEYHEX PKTNO               AES-256-CTR stdin -> stdout
 *   ipmc_tool fingerprint WIRE               16 hex digits of a 2048-bit key
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_body.h"
#include "ipmc_ctr.h"
#include "ipmc_encode.h"
#include "ipmc_error.h"
#include "ipmc_fingerprint.h"
#include "ipmc_keyex.h"
#include "ipmc_keys.h"
#include "ipmc_libctx.h"
#include "ipmc_pubkey.h"

static char err[512];

static int die(int rc)
{
    printf("ERR %d %s: %s\n", rc, ipmc_status_str(rc), err);
    return 1;
}

static char *read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
    }
    if (!b)
        return NULL;
    while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
        n--;
    b[n] = '\0';
    *len = n;
    return b;
}

static int cmd_keys(const char *dir)
{
    ipmc_keys k;
    int rc = ipmc_keys_load_or_create(dir, &k, NULL, err, sizeof err);
    if (rc != IPMC_OK)
        return die(rc);
    char *w2 = NULL, *w1 = NULL;
    char name[128];
    if ((rc = ipmc_pubkey_to_wire(k.rsa2048, &w2, err, sizeof err)) != IPMC_OK ||
        (rc = ipmc_pubkey_to_wire(k.rsa1024, &w1, err, sizeof err)) != IPMC_OK ||
        (rc = ipmc_username_add_fingerprint("alice", k.rsa2048, name, sizeof name)) != IPMC_OK) {
        free(w2);
        ipmc_keys_free(&k);
        return die(rc);
    }
    printf("2048 %s\n1024 %s\nname %s\n", w2, w1, name);
    free(w2);
    free(w1);
    ipmc_keys_free(&k);
    return 0;
}

static int cmd_encrypt(int argc, char **argv)
{
    ipmc_keys k;
    int rc = ipmc_keys_load_or_create(argv[0], &k, NULL, err, sizeof err);
    if (rc != IPMC_OK)
        return die(rc);
    EVP_PKEY *peer = NULL;
    rc = ipmc_pubkey_from_wire(argv[1], strlen(argv[1]), &peer, err, sizeof err);
    if (rc != IPMC_OK) {
        ipmc_keys_free(&k);
        return die(rc);
    }
    ipmc_body_in in = {.capa = (uint32_t)strtoul(argv[2], NULL, 16),
                       .packet_no = (uint32_t)strtoul(argv[3], NULL, 10),
                       .peer_key = peer,
                       .sign_key = k.rsa2048};
    const char *attach = argc > 5 && strcmp(argv[5], "-") ? argv[5] : NULL;
    const char *tolist = argc > 6 && strcmp(argv[6], "-") ? argv[6] : NULL;
    char *out = NULL;
    rc = ipmc_body_encrypt(&in, argv[4], attach, tolist, &out, err, sizeof err);
    EVP_PKEY_free(peer);
    ipmc_keys_free(&k);
    if (rc != IPMC_OK)
        return die(rc);
    printf("%s\n", out);
    free(out);
    return 0;
}

static int cmd_decrypt(char **argv)
{
    ipmc_keys k;
    int rc = ipmc_keys_load_or_create(argv[0], &k, NULL, err, sizeof err);
    if (rc != IPMC_OK)
        return die(rc);
    EVP_PKEY *sender = NULL;
    if (strcmp(argv[1], "-") != 0 && (rc = ipmc_pubkey_from_wire(argv[1], strlen(argv[1]), &sender,
                                                                 err, sizeof err)) != IPMC_OK) {
        ipmc_keys_free(&k);
        return die(rc);
    }
    size_t len = 0;
    char *extra = read_stdin(&len);
    ipmc_body_src src = {.extra = extra,
                         .len = len,
                         .packet_no = argv[2],
                         .ext = strcmp(argv[3], "1") == 0,
                         .sender = sender};
    ipmc_body_out out;
    rc = extra ? ipmc_body_decrypt(&src, &k, &out, err, sizeof err) : IPMC_ERR_ARG;
    free(extra);
    EVP_PKEY_free(sender);
    ipmc_keys_free(&k);
    if (rc != IPMC_OK)
        return die(rc);
    char *hex = malloc(out.plain_len * 2 + 1);
    if (!hex) {
        ipmc_body_out_free(&out);
        return 1;
    }
    ipmc_hex_encode(out.plain, out.plain_len, hex);
    printf("OK %X %d %d\n%s\n%s\n%s\n%s\n", (unsigned)out.capa, (int)out.suite, (int)out.sig, hex,
           out.text, out.attach ? out.attach : "-", out.tolist ? out.tolist : "-");
    free(hex);
    ipmc_body_out_free(&out);
    return 0;
}

static int cmd_ctr(char **argv)
{
    uint8_t key[32];
    size_t klen = 0;
    if (strlen(argv[0]) != 64 || ipmc_hex_decode(argv[0], 64, key, 32, &klen) != IPMC_OK)
        return 2;
    ipmc_ctr *c = NULL;
    if (ipmc_ctr_new(key, (uint32_t)strtoul(argv[1], NULL, 10), &c) != IPMC_OK)
        return 1;
    /* Odd chunk size: the stream must not depend on how data is split. */
    uint8_t buf[777];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        if (ipmc_ctr_apply(c, buf, buf, n) != IPMC_OK || fwrite(buf, 1, n, stdout) != n) {
            ipmc_ctr_free(c);
            return 1;
        }
    }
    ipmc_ctr_free(c);
    return 0;
}

static int cmd_fingerprint(const char *wire)
{
    EVP_PKEY *k = NULL;
    int rc = ipmc_pubkey_from_wire(wire, strlen(wire), &k, err, sizeof err);
    if (rc != IPMC_OK)
        return die(rc);
    char hex[17];
    rc = ipmc_fingerprint_hex(k, hex);
    EVP_PKEY_free(k);
    if (rc != IPMC_OK)
        return die(rc);
    printf("%s\n", hex);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc == 3 && strcmp(argv[1], "keys") == 0)
        rc = cmd_keys(argv[2]);
    else if (argc >= 7 && argc <= 9 && strcmp(argv[1], "encrypt") == 0)
        rc = cmd_encrypt(argc - 2, argv + 2);
    else if (argc == 6 && strcmp(argv[1], "decrypt") == 0)
        rc = cmd_decrypt(argv + 2);
    else if (argc == 4 && strcmp(argv[1], "ctr") == 0)
        rc = cmd_ctr(argv + 2);
    else if (argc == 3 && strcmp(argv[1], "fingerprint") == 0)
        rc = cmd_fingerprint(argv[2]);
    else
        fprintf(stderr, "usage: see the comment at the top of ipmc_tool.c\n");
    ipmc_libctx_shutdown();
    return rc;
}
