/*
 * File requests over TCP (§5.2, §5.3): a normal IPMsg packet whose command
 * is GETFILEDATA (0x60) or GETDIRFILES (0x62) and whose extra is
 *   GETFILEDATA:  <packetID hex>:<fileID hex>:<offset hex>[:]
 *   GETDIRFILES:  <packetID hex>:<fileID hex>[:]          (iptux adds ":0")
 * packetID is the packet number of the offering SENDMSG, fileID the ID of
 * the attach entry (decimal in the offer, hex here, §5.1).
 *
 * The header is parsed by the IPMsg codec (ipmsg_parse); this module only
 * adds the extra. The offset is optional on GETFILEDATA (absent = 0,
 * has_offset false). On GETDIRFILES a third field is read as iptux's offset
 * only when it ends the extra. Anything after the parsed fields is left in
 * `rest` untouched: the decrypted plaintext of a signed or encrypted request
 * continues with "900000:<key>:<reqPkt>" or "4000000:<reqPkt>" (§6.6), which
 * the crypto layer reads. An encrypted request (ENCRYPTOPT) must be
 * decrypted first: dg_file_request_parse refuses it, and the crypto layer
 * passes the plaintext to dg_file_req_parse_extra.
 */
#ifndef DG_FILES_REQUEST_H
#define DG_FILES_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "charset.h"
#include "ipmsg_error.h"
#include "packet.h"

typedef struct dg_file_req {
    uint32_t share_pkt; /* packet number of the offering SENDMSG */
    uint32_t file_id;
    bool has_offset;
    uint64_t offset;
    ipmsg_slice rest; /* after the parsed fields and their ':'; empty if none */
} dg_file_req;

/* Parses the (plaintext) extra of a request with command mode
 * IPMSG_GETFILEDATA or IPMSG_GETDIRFILES. */
int dg_file_req_parse_extra(uint32_t mode, ipmsg_slice extra, dg_file_req *out, ipmsg_error *err);

/* Formats the extra the Windows way, with the trailing ':'. The offset is
 * always written for GETFILEDATA and never for GETDIRFILES; rest is not
 * written (the crypto layer appends its own suffix). */
int dg_file_req_format_extra(uint32_t mode, const dg_file_req *req, char *out, size_t cap,
                             size_t *out_len, ipmsg_error *err);

typedef struct dg_file_request {
    ipmsg_packet pkt; /* header: user and host as sent, for the recipient check */
    dg_file_req req;
} dg_file_request;

/* Parses a whole request as received on TCP (data[0..len), NUL optional).
 * Refuses other commands and ENCRYPTOPT requests (decrypt first). */
int dg_file_request_parse(const void *data, size_t len, dg_file_request *out, ipmsg_error *err);

/*
 * Parses the header of an encrypted request (§6.6: ENCRYPTOPT, GETDIRFILES
 * or GETFILEDATA) as received: out->pkt is filled (its extra is the sealed
 * body, still encrypted; out->req stays zero) and *packet_no is the
 * packet-number field exactly as sent, which is the body's IV. Refuses
 * other commands, plain requests and an empty body.
 */
int dg_file_request_parse_sealed(const void *data, size_t len, dg_file_request *out,
                                 ipmsg_slice *packet_no, ipmsg_error *err);

/*
 * Builds a request packet: command = mode | opts (e.g. IPMSG_UTF8OPT when
 * the offer had it, §1.3). user/host are UTF-8 text converted by the IPMsg
 * codec like any packet (cs may be NULL when both are ASCII).
 */
int dg_file_request_build(uint32_t packet_no, uint32_t mode, uint32_t opts, const char *user,
                          const char *host, const dg_file_req *req, ipmsg_charset *cs, char *out,
                          size_t cap, size_t *out_len, ipmsg_error *err);

#endif
