/*
 * Encryption key commands: `keys` lists our fingerprints and the peers'
 * pinned keys with their trust, `keys accept PEER` trusts a changed key.
 * They call keys.* of the crypto plugin.
 */
#include "cli/cli.h"
#include "cli/print.h"

const cli_command cli_commands_keys[] = {
    {.name = "keys",
     .args = "",
     .summary = "list encryption keys: ours and the peers' pinned keys",
     .help = "Prints the fingerprints of our RSA-2048 and RSA-1024 keys, then every peer\n"
             "whose key was pinned on first use: its fingerprint (the IP Messenger form\n"
             "user-<16 hex> uses for a 2048-bit key, sha256:... for a 1024-bit one), its\n"
             "size and its trust: 'trusted', or 'changed' when the peer now shows another\n"
             "key (its messages are then not verified and none are encrypted to it until\n"
             "'dengon keys accept PEER'). Needs the crypto plugin.",
     .method = "keys.list",
     .print = cli_print_keys},
    {.name = "keys accept",
     .args = "PEER",
     .summary = "trust the changed key of a peer",
     .help = "Makes the key PEER (user@host, as 'dengon keys' shows it) now presents the\n"
             "trusted one, after you compared its fingerprint with the peer's own (in\n"
             "person or by phone). Its messages are verified again and encrypted to it.\n"
             "Needs the crypto plugin.",
     .method = "keys.accept",
     .params = {"peer"},
     .min_args = 1,
     .max_args = 1,
     .print = cli_print_keys_accept},
    {0},
};
