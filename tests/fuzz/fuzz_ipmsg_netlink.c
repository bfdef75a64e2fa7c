/*
 * libFuzzer harness for the reading of rtnetlink address notifications
 * (plugins/ipmsg/src/nlparse.c): the input is one datagram of the
 * NETLINK_ROUTE socket. The walk must stay inside the buffer (ASan checks
 * that) and its counts must be consistent. Seeds: corpus/ipmsg_netlink/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "nlparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ipm_nl_summary s;
    ipm_nl_summarize(data, size, &s);
    /* Every counted message has at least a header (16 bytes). */
    if (s.messages > size / 16 || s.changes + s.ignored > s.messages)
        abort();
    return 0;
}
