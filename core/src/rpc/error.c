/*
 * Error objects. Messages are formatted by plugins and may quote outside
 * input (file names, peer nicknames, parser excerpts), so they are cut to a
 * fixed size and repaired to valid UTF-8: jansson refuses invalid strings, and
 * an error that cannot be built would turn into a silent failure.
 */
#include "rpc/rpc.h"

#include "rpc/utf8.h"

#include <stdio.h>

json_t *dg_rpc_error_newv(int code, const char *fmt, va_list ap)
{
    char msg[DG_RPC_MESSAGE_MAX];
    if (!fmt || vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        snprintf(msg, sizeof msg, "error %d", code);
    dg_utf8_repair(msg);
    return json_pack("{s:i,s:s}", "code", code, "message", msg);
}

json_t *dg_rpc_error_new(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *e = dg_rpc_error_newv(code, fmt, ap);
    va_end(ap);
    return e;
}
