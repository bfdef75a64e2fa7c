/* Provides the "chat.transport" service (version 1) backed by this plugin. */
#ifndef DG_IPM_SERVICE_H
#define DG_IPM_SERVICE_H

#include "state.h"

int service_provide(ipm_state *st);

#endif
