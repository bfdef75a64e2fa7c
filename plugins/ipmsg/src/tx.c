#include "tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "absence.h"
#include "cryptohook.h"
#include "entry.h"
#include "net.h"
#include "packet.h"

static int build(ipm_state *st, const ipmsg_build_in *base, char *out, size_t cap, size_t *len)
{
    ipmsg_build_in in = *base;
    in.user = ipmsg_text(st->user);
    in.host = ipmsg_text(st->host);
    uint32_t command = in.command;
    ipmsg_error err = {0};
    int rc = ipmsg_build(&in, st->cs, out, cap, len, &err);
    if (rc != IPMSG_OK && rc != IPMSG_E_NOSPACE)
        st->api->log(st->ctx, DG_LOG_WARN, "cannot build %s packet: %s",
                     ipmsg_command_name(command) ? ipmsg_command_name(command) : "?",
                     err.reason ? err.reason : ipmsg_status_str(rc));
    return rc == IPMSG_OK ? 0 : -1;
}

int tx_build(ipm_state *st, uint32_t packet_no, uint32_t command, const char *extra,
             size_t extra_len, char *out, size_t cap, size_t *len)
{
    ipmsg_build_in in = {
        .packet_no = packet_no,
        .command = command,
        .extra = {extra ? extra : "", extra ? extra_len : 0, IPMSG_PART_TEXT},
    };
    return build(st, &in, out, cap, len);
}

int tx_build_raw(ipm_state *st, uint32_t packet_no, uint32_t command, const char *extra,
                 size_t extra_len, char *out, size_t cap, size_t *len)
{
    ipmsg_build_in in = {
        .packet_no = packet_no,
        .command = command,
        .extra = ipmsg_raw(extra ? extra : "", extra ? extra_len : 0),
    };
    return build(st, &in, out, cap, len);
}

int tx_build_attach(ipm_state *st, uint32_t packet_no, uint32_t command, const char *extra,
                    size_t extra_len, const char *attach, char *out, size_t cap, size_t *len)
{
    ipmsg_part section = ipmsg_text(attach);
    ipmsg_build_in in = {
        .packet_no = packet_no,
        .command = command,
        .extra = {extra ? extra : "", extra ? extra_len : 0, IPMSG_PART_TEXT},
        .sections = attach ? &section : NULL,
        .n_sections = attach ? 1 : 0,
    };
    return build(st, &in, out, cap, len);
}

int tx_named(ipm_state *st, uint32_t command, char *out, size_t cap, size_t *len)
{
    char *nick = away_nickname(st);
    if (!nick)
        return -1;
    ipmsg_part group = ipmsg_text(st->group);
    ipmsg_build_in in = {
        .packet_no = ipmsg_pktno_next_now(&st->pktno),
        .command = command,
        .extra = ipmsg_text(nick),
        .sections = &group,
        .n_sections = 1,
    };
    int rc = build(st, &in, out, cap, len);
    free(nick);
    return rc;
}

uint32_t tx_simple(ipm_state *st, ipm_addr to, uint32_t command, const char *extra)
{
    char buf[IPM_TX_MAX];
    size_t len;
    uint32_t no = ipmsg_pktno_next_now(&st->pktno);
    if (tx_build(st, no, command, extra, extra ? strlen(extra) : 0, buf, sizeof buf, &len) != 0)
        return 0;
    net_send(st, to, buf, len);
    return no;
}

uint32_t tx_number(ipm_state *st, ipm_addr to, uint32_t command, uint32_t number)
{
    char extra[16];
    snprintf(extra, sizeof extra, "%u", (unsigned)number);
    return tx_simple(st, to, command, extra);
}

uint32_t tx_status(const ipm_state *st)
{
    /* Only what is implemented (§10): FILEATTACHOPT only while a plugin that
     * receives files asked for it (st->caps), ENCRYPTOPT/ENCEXTMSGOPT only
     * while a crypto provider is installed, never CAPIPDICTOPT (§7). */
    uint32_t s = IPMSG_CAPUTF8OPT | st->caps | cryptohook_status(st);
    if (away_active(st))
        s |= IPMSG_ABSENCEOPT;
    if (st->cfg.dialup)
        s |= IPMSG_DIALUPOPT;
    return s;
}

int tx_entry(ipm_state *st, uint32_t mode, uint32_t extra_opts, char *out, size_t cap, size_t *len)
{
    char *nick = away_nickname(st);
    if (!nick)
        return -1;
    ipmsg_entry_msg m = {
        .packet_no = ipmsg_pktno_next_now(&st->pktno),
        .command = mode | tx_status(st) | extra_opts,
        .user = st->user,
        .host = st->host,
        .nick = nick,
        .group = st->group,
        .names_block = true,
        .uuid = st->uuid[0] ? st->uuid : NULL,
    };
    ipmsg_error err = {0};
    int rc = ipmsg_entry_build(&m, st->cs, out, cap, len, &err);
    free(nick);
    if (rc != IPMSG_OK) {
        st->api->log(st->ctx, DG_LOG_WARN, "cannot build entry packet: %s",
                     err.reason ? err.reason : ipmsg_status_str(rc));
        return -1;
    }
    return 0;
}
