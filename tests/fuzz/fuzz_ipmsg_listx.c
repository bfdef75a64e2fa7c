/*
 * libFuzzer harness for what a host list requester does with an ANSLIST page
 * (plugins/ipmsg/src/listx_logic.c): the input is the extra of an ANSLIST
 * packet from a list server; its first byte picks the packet encoding (UTF-8
 * or the CP932 legacy code page). Every entry goes through ipm_listx_apply
 * into a user table: no crash, no leak, and the table holds only entries with
 * non-empty names whose results said so. Seeds: corpus/ipmsg_listx/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "charset.h"
#include "hostlist.h"
#include "listx_logic.h"
#include "users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static ipmsg_charset *cs;
    if (!cs)
        CHECK(ipmsg_charset_open(&cs, "CP932", 0, NULL) == IPMSG_OK);
    ipmsg_slice extra = {(const char *)data + 1, size - 1};
    ipmsg_hostlist_page page;
    if (ipmsg_hostlist_parse(extra, &page, NULL) != IPMSG_OK)
        return 0;
    ipm_users t;
    ipm_users_init(&t);
    ipm_listx_ctx c = {.users = &t,
                       .cs = cs,
                       .enc = (data[0] & 1) ? IPMSG_ENC_UTF8 : IPMSG_ENC_LEGACY,
                       .self_user = "me",
                       .self_host = "here",
                       .now = 1};
    ipmsg_hostlist_iter it;
    ipmsg_hostlist_entry e;
    size_t added = 0;
    ipmsg_hostlist_begin(&page, &it);
    while (ipmsg_hostlist_next(&it, &e, NULL) == 1) {
        ipm_user *u = NULL;
        ipm_addr a;
        ipm_listx_rc rc = ipm_listx_apply(&c, &e, &u, &a);
        if (rc == IPM_LISTX_NEW) {
            CHECK(u && u->user[0] && u->host[0] && a.port != 0);
            added++;
        }
    }
    CHECK(t.n == added);
    ipm_listx_table tab;
    CHECK(ipm_listx_table_build(&t, &tab) == 0 && tab.n == added);
    ipm_listx_table_free(&tab);
    ipm_users_free(&t);
    return 0;
}
