#include "ipmsg_error.h"

#include <string.h>

bool ipmsg_slice_eq(ipmsg_slice s, const char *str)
{
    if (!s.ptr || !str)
        return false;
    size_t n = strlen(str);
    return n == s.len && (n == 0 || memcmp(s.ptr, str, n) == 0);
}

const char *ipmsg_status_str(int status)
{
    switch (status) {
    case IPMSG_OK:
        return "ok";
    case IPMSG_E_INVAL:
        return "invalid argument";
    case IPMSG_E_TOOBIG:
        return "input too large";
    case IPMSG_E_SYNTAX:
        return "syntax error";
    case IPMSG_E_VERSION:
        return "unsupported version";
    case IPMSG_E_RANGE:
        return "number out of range";
    case IPMSG_E_NOSPACE:
        return "output too large";
    case IPMSG_E_CHARSET:
        return "character set error";
    case IPMSG_E_NOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

int ipmsg_fail(ipmsg_error *err, ipmsg_status code, const char *reason, size_t offset)
{
    if (err) {
        err->code = code;
        err->reason = reason ? reason : ipmsg_status_str(code);
        err->offset = offset;
    }
    return code;
}
