/*
 * The pure part of the host list exchange (docs/ipmsg-protocol.md §4.5):
 * which users a list server puts in its ANSLIST pages, what a requester does
 * with each listed host, and whether it asks for another page. The packets
 * and timers are in listx.c. No I/O; unit-tested.
 */
#ifndef DG_IPM_LISTX_LOGIC_H
#define DG_IPM_LISTX_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "charset.h"
#include "hostlist.h"
#include "users.h"

/* ---- list server ---- */

/* "255.255.255.255" and its NUL. */
#define IPM_IP_TEXT 16

typedef struct ipm_listx_table {
    ipmsg_hostlist_host *hosts; /* strings borrowed from the users table */
    char (*addr)[IPM_IP_TEXT];  /* hosts[i].addr points here */
    size_t n;
} ipm_listx_table;

/*
 * The hosts a list server sends: every user that is online or absent
 * (offline ones are gone, as Windows removes them from its list), ordered by
 * key so that the page a GETLIST index selects does not depend on the order
 * entries arrived in. Valid while the users table is unchanged: build it
 * for one page and free it. 0, or -1 when out of memory.
 */
int ipm_listx_table_build(const ipm_users *t, ipm_listx_table *out);
void ipm_listx_table_free(ipm_listx_table *t);

/* ---- requester ---- */

typedef enum ipm_listx_rc {
    IPM_LISTX_NEW = 0,     /* added to the users table */
    IPM_LISTX_UPDATED = 1, /* it was offline here: now present again, with the listed data */
    IPM_LISTX_SAME = 2,    /* nothing visible changed */
    IPM_LISTX_KNOWN = 3,   /* present and heard first hand: the list is older news, left alone */
    IPM_LISTX_SELF = 4,    /* ourselves */
    IPM_LISTX_GONE = 5,    /* status 0 or BR_EXIT: the host left; not added */
    IPM_LISTX_BAD = 6,     /* unusable address or port, undecodable names, or a spoofed
                              fingerprinted name without ENCRYPTOPT (§6.4) */
    IPM_LISTX_ERROR = 7,   /* out of memory */
} ipm_listx_rc;

typedef struct ipm_listx_ctx {
    ipm_users *users;
    ipmsg_charset *cs;
    ipmsg_enc enc; /* of the ANSLIST packet: UTF8OPT or the legacy code page */
    const char *self_user, *self_host;
    int64_t now;
} ipm_listx_ctx;

/*
 * Records one listed host the way Windows' AddHostList does: present (or
 * absent, with ABSENCEOPT), with the listed nickname, group, status and
 * address. *user (may be NULL) gets the entry for NEW/UPDATED/SAME/KNOWN,
 * *addr (may be NULL) the listed address for every result but BAD/ERROR.
 */
ipm_listx_rc ipm_listx_apply(const ipm_listx_ctx *c, const ipmsg_hostlist_entry *e, ipm_user **user,
                             ipm_addr *addr);

typedef enum ipm_listx_step {
    IPM_LISTX_DONE = 0,     /* the list is complete */
    IPM_LISTX_CONTINUE = 1, /* ask for the page at next_start */
    IPM_LISTX_STUCK = 2,    /* the server asks for a page that would not progress */
} ipm_listx_step;

/* Most pages one exchange fetches (each holds about 300 hosts at 32 KiB). */
#define IPM_LISTX_MAX_PAGES 1000

/*
 * After a page answering GETLIST(asked): done when next_start is 0; continue
 * when next_start moves forward past the entries received and the page had
 * at least one; else stuck (a server that would make us loop forever). pages
 * counts this one; beyond IPM_LISTX_MAX_PAGES the exchange is stuck too.
 */
ipm_listx_step ipm_listx_after_page(uint32_t asked, uint32_t next_start, size_t entries,
                                    unsigned pages);

#endif
