#include "rx.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cryptohook.h"
#include "listx.h"
#include "messages.h"
#include "presence.h"

int rx_names(ipm_state *st, const ipmsg_packet *pkt, char **user, char **host)
{
    *user = rx_text(st, pkt, pkt->user);
    *host = rx_text(st, pkt, pkt->host);
    if (*user && *host)
        return 0;
    free(*user);
    free(*host);
    *user = *host = NULL;
    return -1;
}

char *rx_text(ipm_state *st, const ipmsg_packet *pkt, ipmsg_slice s)
{
    char *out = NULL;
    size_t replaced = 0;
    if (ipmsg_decode_slice(st->cs, ipmsg_packet_enc(pkt->command), s, &out, &replaced, NULL) !=
        IPMSG_OK)
        return NULL;
    if (replaced)
        st->api->log(st->ctx, DG_LOG_DEBUG, "%zu characters replaced while decoding (%s)", replaced,
                     ipmsg_charset_name(st->cs));
    return out;
}

char *rx_text_from(ipm_state *st, const ipmsg_packet *pkt, const ipm_user *sender, ipmsg_slice s)
{
    /* iptux writes UTF-8 (its default) and never says so with UTF8OPT (§8):
     * from a known iptux peer, text that is valid UTF-8 is taken as UTF-8. */
    if (sender && sender->iptux && ipmsg_packet_enc(pkt->command) == IPMSG_ENC_LEGACY &&
        ipmsg_utf8_valid(s.ptr, s.len)) {
        char *out = NULL;
        if (ipmsg_decode_slice(st->cs, IPMSG_ENC_UTF8, s, &out, NULL, NULL) == IPMSG_OK)
            return out;
    }
    return rx_text(st, pkt, s);
}

/* Our own broadcast looping back: same names as ours on the wire. */
static bool is_own(const ipm_state *st, const ipmsg_packet *pkt)
{
    return pkt->user.len == strlen(st->user) && pkt->host.len == strlen(st->host) &&
           strncasecmp(pkt->user.ptr, st->user, pkt->user.len) == 0 &&
           strncasecmp(pkt->host.ptr, st->host, pkt->host.len) == 0;
}

/* Commands a peer may send that this plugin deliberately does not handle. */
static bool is_unsupported(uint32_t mode)
{
    return mode == IPMSG_BR_ISGETLIST || /* pre-v3 host list */
           mode == IPMSG_ANSLIST_DICT || /* v4 IPDict list */
           /* files: GETFILEDATA/GETDIRFILES come over TCP (files plugin), never UDP */
           mode == IPMSG_GETFILEDATA || mode == IPMSG_GETDIRFILES || mode == IPMSG_DIRFILES_AUTH ||
           mode == IPMSG_DIRFILES_AUTHRET || mode == IPMSG_DELMSG ||
           (mode >= IPMSG_AGENT_REQ && mode <= IPMSG_AGENT_PROXYREQ) ||
           (mode >= IPMSG_DIR_POLL && mode <= IPMSG_DIR_AGENTREJECT) || /* v4 member master */
           mode >= IPTUX_SENDMSG_GROUP;                                 /* iptux private */
}

void rx_datagram(ipm_state *st, const char *data, size_t len, size_t real_len, ipm_addr from)
{
    st->stats.rx_packets++;
    st->stats.rx_bytes += real_len;
    if (real_len > IPMSG_MAX_UDPBUF) {
        st->stats.oversize++;
        return;
    }
    /* v4 IPDict datagrams ("IP2:...", §7) are only sent to CAPIPDICTOPT hosts; ignore. */
    if (len >= 4 && memcmp(data, "IP2:", 4) == 0) {
        st->stats.unsupported++;
        return;
    }
    ipmsg_packet pkt;
    ipmsg_error err;
    if (ipmsg_parse(data, len, IPMSG_MAX_UDPBUF, &pkt, &err) != IPMSG_OK) {
        char a[IPM_ADDR_TEXT];
        st->stats.malformed++;
        st->api->log(st->ctx, DG_LOG_DEBUG, "malformed packet from %s: %s at byte %zu",
                     ipm_addr_format(from, a), err.reason, err.offset);
        return;
    }
    if (is_own(st, &pkt)) {
        st->stats.own++;
        return;
    }
    switch (pkt.mode) {
    case IPMSG_NOOPERATION:
        break;
    case IPMSG_BR_ENTRY:
    case IPMSG_ANSENTRY:
    case IPMSG_BR_ABSENCE:
    case IPMSG_BR_EXIT:
        presence_on_entry(st, &pkt, from);
        break;
    case IPMSG_SENDMSG:
        messages_on_sendmsg(st, &pkt, from);
        break;
    case IPMSG_RECVMSG:
        messages_on_recvmsg(st, &pkt, from);
        break;
    case IPMSG_READMSG:
        messages_on_readmsg(st, &pkt, from);
        break;
    case IPMSG_ANSREADMSG:
        messages_on_ansreadmsg(st, &pkt, from);
        break;
    case IPMSG_GETPUBKEY:
    case IPMSG_ANSPUBKEY:
        cryptohook_on_keyex(st, &pkt, from); /* §6.2, for the crypto provider */
        break;
    case IPMSG_RELEASEFILES:
        messages_on_releasefiles(st, &pkt, from);
        break;
    case IPMSG_GETINFO:
    case IPMSG_GETABSENCEINFO:
        messages_on_query(st, &pkt, from);
        break;
    case IPMSG_SENDINFO:
    case IPMSG_SENDABSENCEINFO:
        presence_on_info(st, &pkt, from);
        break;
    case IPMSG_BR_ISGETLIST2:
    case IPMSG_OKGETLIST:
    case IPMSG_GETLIST:
    case IPMSG_ANSLIST:
        listx_on_packet(st, &pkt, from); /* host list exchange (§4.5) */
        break;
    default:
        if (is_unsupported(pkt.mode))
            st->stats.unsupported++;
        else
            st->stats.unknown++;
        break;
    }
}
