/* Internal to the registry: repairs text before it becomes a JSON string. */
#ifndef DG_RPC_UTF8_H
#define DG_RPC_UTF8_H

/* Replaces every byte that is not part of a valid UTF-8 sequence with '?', in place. */
void dg_utf8_repair(char *text);

#endif
