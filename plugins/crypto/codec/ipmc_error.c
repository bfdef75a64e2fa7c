#include "ipmc_error.h"

#include <stdarg.h>
#include <stdio.h>

const char *ipmc_status_str(int status)
{
    switch (status) {
    case IPMC_OK:
        return "ok";
    case IPMC_ERR_ARG:
        return "invalid argument";
    case IPMC_ERR_FORMAT:
        return "bad format";
    case IPMC_ERR_SUITE:
        return "unknown suite";
    case IPMC_ERR_KEY:
        return "wrong key";
    case IPMC_ERR_PADDING:
        return "bad padding";
    case IPMC_ERR_SIGNATURE:
        return "signature mismatch";
    case IPMC_ERR_NOKEY:
        return "key missing";
    case IPMC_ERR_IO:
        return "i/o error";
    case IPMC_ERR_PERM:
        return "unsafe key file";
    case IPMC_ERR_CORRUPT:
        return "corrupt key file";
    case IPMC_ERR_CRYPTO:
        return "crypto library error";
    case IPMC_ERR_REPLAY:
        return "replayed request";
    case IPMC_ERR_MISMATCH:
        return "fingerprint mismatch";
    default:
        return "unknown error";
    }
}

int ipmc_fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}
