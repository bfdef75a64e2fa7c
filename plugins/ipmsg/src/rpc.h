/* Registration of the plugin's RPC methods (all answered on the loop thread). */
#ifndef DG_IPM_RPC_H
#define DG_IPM_RPC_H

#include "state.h"

/* chat.send, chat.inbox, chat.read (rpc_chat.c). DG_OK or the failing status. */
int rpc_chat_register(ipm_state *st);
/* users.list, users.get, ipmsg.stats (rpc_users.c). */
int rpc_users_register(ipm_state *st);
/* chat.absence (rpc_absence.c). */
int rpc_absence_register(ipm_state *st);
/* ipmsg.discovery (rpc_discovery.c). */
int rpc_discovery_register(ipm_state *st);

#endif
