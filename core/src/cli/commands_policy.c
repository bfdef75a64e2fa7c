/* Team policy commands: policy show | reload (docs/admin-guide.md). */
#include "cli/cli.h"
#include "cli/print.h"

const cli_command cli_commands_policy[] = {
    {.name = "policy show",
     .args = "",
     .summary = "show the effective team policy and where each rule came from",
     .help = "Shows the team policy in force for this identity: the policy files read (and\n"
             "why any was refused), the teams matched, the plugins turned on or off, the\n"
             "locked config keys and the modes (lan_only), each with the file and rule it\n"
             "came from.",
     .method = "policy.show",
     .print = cli_print_policy_show},
    {.name = "policy reload",
     .args = "",
     .summary = "read the policy files again and apply them live",
     .help = "Reads the policy directory again (as SIGHUP does) and applies the result\n"
             "live: plugins turned off stop, plugins turned on start, locked keys are\n"
             "re-applied. If a file is refused, nothing changes and the reason is shown.",
     .method = "policy.reload",
     .print = cli_print_plugin_action},
    {0},
};
