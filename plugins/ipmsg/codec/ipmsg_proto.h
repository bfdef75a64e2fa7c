/*
 * IP Messenger protocol constants (wire values), as listed in
 * docs/ipmsg-protocol.md §2 (commands), §3.1 (options), §3.2-3.4 (file
 * attributes) and §6.1 (crypto capabilities). The values are facts of the
 * protocol copied from the reference header [H]; the names keep the IPMSG_
 * spelling every implementation uses, so packet captures and the spec read
 * the same as this code.
 *
 * An option bit means different things for different commands (§3.1): always
 * decode it against IPMSG_GET_MODE(command).
 */
#ifndef DG_IPMSG_PROTO_H
#define DG_IPMSG_PROTO_H

#include <stdint.h>

#define IPMSG_VERSION 1
#define IPMSG_DEFAULT_PORT 2425 /* 0x0979, UDP and TCP (§1.1) */

/* Windows' receive buffer (MAX_UDPBUF); iptux cuts datagrams at 8192 (§1.1). */
#define IPMSG_MAX_UDPBUF 32768u
#define IPMSG_IPTUX_MAX_UDPLEN 8192u

/* Low 8 bits: the command; high 24 bits: options (§1.2). */
#define IPMSG_GET_MODE(cmd) (((uint32_t)(cmd)) & 0x000000ffu)
#define IPMSG_GET_OPT(cmd) (((uint32_t)(cmd)) & 0xffffff00u)

/* ---- Commands (§2) ---- */
#define IPMSG_NOOPERATION 0x00000000u
#define IPMSG_BR_ENTRY 0x00000001u
#define IPMSG_BR_EXIT 0x00000002u
#define IPMSG_ANSENTRY 0x00000003u
#define IPMSG_BR_ABSENCE 0x00000004u
#define IPMSG_BR_NOTIFY IPMSG_BR_ABSENCE /* v4 name */

#define IPMSG_BR_ISGETLIST 0x00000010u
#define IPMSG_OKGETLIST 0x00000011u
#define IPMSG_GETLIST 0x00000012u
#define IPMSG_ANSLIST 0x00000013u
#define IPMSG_ANSLIST_DICT 0x00000014u
#define IPMSG_BR_ISGETLIST2 0x00000018u

#define IPMSG_SENDMSG 0x00000020u
#define IPMSG_RECVMSG 0x00000021u
#define IPMSG_READMSG 0x00000030u
#define IPMSG_DELMSG 0x00000031u
#define IPMSG_ANSREADMSG 0x00000032u

#define IPMSG_GETINFO 0x00000040u
#define IPMSG_SENDINFO 0x00000041u
#define IPMSG_GETABSENCEINFO 0x00000050u
#define IPMSG_SENDABSENCEINFO 0x00000051u

#define IPMSG_GETFILEDATA 0x00000060u
#define IPMSG_RELEASEFILES 0x00000061u
#define IPMSG_GETDIRFILES 0x00000062u
#define IPMSG_DIRFILES_AUTH 0x00000063u
#define IPMSG_DIRFILES_AUTHRET 0x00000064u

#define IPMSG_GETPUBKEY 0x00000072u
#define IPMSG_ANSPUBKEY 0x00000073u

#define IPMSG_AGENT_REQ 0x000000a0u
#define IPMSG_AGENT_ANSREQ 0x000000a1u
#define IPMSG_AGENT_PACKET 0x000000a2u
#define IPMSG_AGENT_PROXYREQ 0x000000a3u

#define IPMSG_DIR_POLL 0x000000b0u
#define IPMSG_DIR_POLLAGENT 0x000000b1u
#define IPMSG_DIR_BROADCAST 0x000000b2u
#define IPMSG_DIR_ANSBROAD 0x000000b3u
#define IPMSG_DIR_PACKET 0x000000b4u
#define IPMSG_DIR_REQUEST 0x000000b5u
#define IPMSG_DIR_AGENTPACKET 0x000000b6u
#define IPMSG_DIR_EVBROAD 0x000000b7u
#define IPMSG_DIR_AGENTREJECT 0x000000b8u

/* iptux private commands (§8); Windows ignores them. */
#define IPTUX_SENDMSG_GROUP 0x000000fbu
#define IPTUX_SEND_SIGN 0x000000fcu
#define IPTUX_SENDSUBLAYER 0x000000fdu
#define IPTUX_SENDICON 0x000000feu
#define IPTUX_ASKSHARED 0x000000ffu

/* ---- Options for entry/status commands (§3.1, left column) ---- */
#define IPMSG_ABSENCEOPT 0x00000100u
#define IPMSG_SERVEROPT 0x00000200u
#define IPMSG_CAPFILEENC_OBSLT 0x00001000u
#define IPMSG_DIALUPOPT 0x00010000u
#define IPMSG_CAPFILEENCOPT 0x00040000u
#define IPMSG_FILEATTACHOPT 0x00200000u
#define IPMSG_ENCRYPTOPT 0x00400000u
#define IPMSG_UTF8OPT 0x00800000u
#define IPMSG_CAPUTF8OPT 0x01000000u
#define IPMSG_CAPIPDICTOPT 0x02000000u
#define IPMSG_ENCEXTMSGOPT 0x04000000u
#define IPMSG_CLIPBOARDOPT 0x08000000u
#define IPMSG_DIR_MASTER 0x10000000u
#define IPMSG_FLAG_RESV1 0x20000000u
#define IPMSG_FLAG_RESV2 0x40000000u

/* ---- Options for SENDMSG and friends (§3.1, middle column) ---- */
#define IPMSG_SENDCHECKOPT 0x00000100u
#define IPMSG_SECRETOPT 0x00000200u
#define IPMSG_BROADCASTOPT 0x00000400u
#define IPMSG_MULTICASTOPT 0x00000800u
#define IPMSG_NOPOPUPOPT 0x00001000u /* obsolete (v3 header) */
#define IPMSG_AUTORETOPT 0x00002000u
#define IPMSG_RETRYOPT 0x00004000u
#define IPMSG_PASSWORDOPT 0x00008000u
#define IPMSG_NOLOGOPT 0x00020000u
#define IPMSG_NEWMULTIOPT 0x00040000u /* obsolete */
#define IPMSG_NOADDLISTOPT 0x00080000u
#define IPMSG_READCHECKOPT 0x00100000u
#define IPMSG_SECRETEXOPT (IPMSG_READCHECKOPT | IPMSG_SECRETOPT) /* 0x00100200 */

/* ---- Options for GETFILEDATA / GETDIRFILES (§3.1, right column) ---- */
#define IPMSG_ENCFILE_OBSLT 0x00000400u
#define IPMSG_ENCFILEOPT 0x00000800u

/* iptux private option bits (§3.1 last row, §8) */
#define IPTUX_PASSWDOPT 0x40000000u
#define IPTUX_SHAREDOPT 0x80000000u

/* ---- File types, low 8 bits of fileattr (§3.2) ---- */
#define IPMSG_FILE_REGULAR 0x00000001u
#define IPMSG_FILE_DIR 0x00000002u
#define IPMSG_FILE_RETPARENT 0x00000003u
#define IPMSG_FILE_SYMLINK 0x00000004u
#define IPMSG_FILE_CDEV 0x00000005u
#define IPMSG_FILE_BDEV 0x00000006u
#define IPMSG_FILE_FIFO 0x00000007u
#define IPMSG_FILE_RESFORK 0x00000010u
#define IPMSG_FILE_CLIPBOARD 0x00000020u

/* ---- File attribute bits, high 24 bits of fileattr (§3.3) ---- */
#define IPMSG_FILE_RONLYOPT 0x00000100u
#define IPMSG_FILE_HIDDENOPT 0x00001000u
#define IPMSG_FILE_EXHIDDENOPT 0x00002000u
#define IPMSG_FILE_ARCHIVEOPT 0x00004000u
#define IPMSG_FILE_SYSTEMOPT 0x00008000u

/* ---- Extended attribute keys (§3.4), "key=value" both hex ---- */
#define IPMSG_FILE_UID 0x00000001u
#define IPMSG_FILE_USERNAME 0x00000002u
#define IPMSG_FILE_GID 0x00000003u
#define IPMSG_FILE_GROUPNAME 0x00000004u
#define IPMSG_FILE_CLIPBOARDPOS 0x00000008u
#define IPMSG_FILE_PERM 0x00000010u
#define IPMSG_FILE_MAJORNO 0x00000011u
#define IPMSG_FILE_MINORNO 0x00000012u
#define IPMSG_FILE_CTIME 0x00000013u
#define IPMSG_FILE_MTIME 0x00000014u
#define IPMSG_FILE_ATIME 0x00000015u
#define IPMSG_FILE_CREATETIME 0x00000016u
#define IPMSG_FILE_CREATOR 0x00000020u
#define IPMSG_FILE_FILETYPE 0x00000021u
#define IPMSG_FILE_FINDERINFO 0x00000022u
#define IPMSG_FILE_ACL 0x00000030u
#define IPMSG_FILE_ALIASFNAME 0x00000040u
#define IPMSG_FILE_UNICODEFNAME 0x00000041u /* iptux only, unused */

/* Separators (§3.4): attach-list entries end with \a; ANSLIST fields are
 * separated by \a and \b stands for an empty value (§4.5). */
#define IPMSG_FILELIST_SEPARATOR '\a'
#define IPMSG_HOSTLIST_SEPARATOR '\a'
#define IPMSG_HOSTLIST_DUMMY '\b'

/* ---- Encryption capability / algorithm bits, a separate namespace carried
 * as hex in the extra of GETPUBKEY/ANSPUBKEY/encrypted SENDMSG (§6.1). The
 * stale iptux values must not be used. ---- */
#define IPMSG_RSA_512 0x00000001u
#define IPMSG_RSA_1024 0x00000002u
#define IPMSG_RSA_2048 0x00000004u
#define IPMSG_RSA_4096 0x00000008u
#define IPMSG_RC2_40OLD 0x00000010u
#define IPMSG_RC2_128OLD 0x00000040u
#define IPMSG_BLOWFISH_128OLD 0x00000400u
#define IPMSG_RC2_40 0x00001000u
#define IPMSG_RC2_128 0x00004000u
#define IPMSG_RC2_256 0x00008000u
#define IPMSG_BLOWFISH_128 0x00020000u
#define IPMSG_BLOWFISH_256 0x00040000u
#define IPMSG_AES_128 0x00080000u
#define IPMSG_AES_256 0x00100000u
#define IPMSG_IPDICT_CTR 0x00400000u
#define IPMSG_PACKETNO_IV 0x00800000u
#define IPMSG_ENCODE_BASE64 0x01000000u
#define IPMSG_NOENC_FILEBODY 0x04000000u
#define IPMSG_SIGN_MD5 0x10000000u
#define IPMSG_SIGN_SHA1 0x20000000u
#define IPMSG_SIGN_SHA256 0x40000000u

/* Broadcast commands carry the legacy header plus the UTF-8 block and must
 * never set UTF8OPT (§1.3). */
static inline int ipmsg_is_broadcast_cmd(uint32_t command)
{
    uint32_t m = IPMSG_GET_MODE(command);
    return m == IPMSG_NOOPERATION || m == IPMSG_BR_ENTRY || m == IPMSG_BR_EXIT ||
           m == IPMSG_BR_ABSENCE;
}

/* Commands whose extra is nickname\0group\0... (§1.4). */
static inline int ipmsg_is_entry_cmd(uint32_t command)
{
    return ipmsg_is_broadcast_cmd(command) || IPMSG_GET_MODE(command) == IPMSG_ANSENTRY;
}

#endif
