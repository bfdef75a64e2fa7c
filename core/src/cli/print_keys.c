/* Printers of the key commands (commands_keys.c). */
#include "cli/print.h"

#include <stdio.h>

void cli_print_keys(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result)
{
    const json_t *own = json_object_get(result, "own");
    /* Null while a first start is still generating them. */
    const char *k2048 = json_string_value(json_object_get(own, "rsa2048"));
    const char *k1024 = json_string_value(json_object_get(own, "rsa1024"));
    printf("our keys:  rsa2048 %s\n           rsa1024 %s\n", k2048 ? k2048 : "(being generated)",
           k1024 ? k1024 : "(being generated)");
    const json_t *peers = json_object_get(result, "peers");
    if (json_array_size(peers) == 0) {
        printf("no pinned peer keys\n");
        return;
    }
    printf("%-32s %-5s %-9s %s\n", "PEER", "BITS", "TRUST", "FINGERPRINT");
    size_t i;
    const json_t *p;
    json_array_foreach(peers, i, p)
    {
        printf("%-32s %-5d %-9s %s\n", json_string_value(json_object_get(p, "peer")),
               (int)json_integer_value(json_object_get(p, "bits")),
               json_string_value(json_object_get(p, "trust")),
               json_string_value(json_object_get(p, "fingerprint")));
        const char *nf = json_string_value(json_object_get(p, "new_fingerprint"));
        if (nf)
            printf("%-32s %-5d %-9s %s  <- NEW KEY, not trusted: dengon keys accept %s\n", "",
                   (int)json_integer_value(json_object_get(p, "new_bits")), "", nf,
                   json_string_value(json_object_get(p, "peer")));
    }
}

void cli_print_keys_accept(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result)
{
    printf("%s: the new key is now trusted\n", json_string_value(json_object_get(result, "peer")));
}
