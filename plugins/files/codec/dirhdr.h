/*
 * One record header of the GETDIRFILES answer stream (§5.3):
 *   <hdrsize hex>:<name>:<size hex>:<attr hex>[:<key>=<val>...]:
 * hdrsize counts every byte of the header, from its own first digit through
 * the ':' just before the content. Both Windows and iptux write it as
 * exactly 4 hex digits ("%04x" patched in after formatting) and the Windows
 * receiver reads the first 8 bytes to find it, so the encoder always writes
 * 4 digits and a header can never exceed 0xffff bytes. The decoder accepts
 * 1..8 digits.
 *
 * ':' in the name is written "::" as in the attach list. Windows header:
 * "%04x:%s:%x%08x:%x:14=<mtime>:16=<createtime>:"; iptux:
 * "0000:%s:%.9jx:%lx:14=%jx:16=%jx:". The mtime is ext attr
 * IPMSG_FILE_MTIME (0x14, §3.4).
 *
 * A record's name may be empty only for RETPARENT (its name is "." in
 * practice and carries no meaning); DIR and RETPARENT records have size 0
 * (checked by the stream decoder, which knows the context).
 */
#ifndef DG_FILES_DIRHDR_H
#define DG_FILES_DIRHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extattr.h"
#include "ipmsg_error.h"

#define DG_DIRHDR_MAX 0xffffu  /* 4 hex digits */
#define DG_DIRHDR_LEN_DIGITS 8 /* most digits accepted for hdrsize */

typedef struct dg_dirhdr {
    const char *name; /* decoded: NUL-terminated in the decoder's buffer */
    size_t name_len;
    uint64_t size;
    uint32_t attr; /* type (low 8 bits) | attribute bits (§3.2-3.3) */
    size_t n_ext;
    dg_extattr ext[DG_EXTATTR_MAX];
} dg_dirhdr;

static inline uint32_t dg_dirhdr_type(const dg_dirhdr *h)
{
    return h->attr & 0xffu;
}

/* MTIME (0x14) of the record; false when the sender gave none. */
bool dg_dirhdr_mtime(const dg_dirhdr *h, uint64_t *mtime);

/* Appends (or replaces) one extended attribute with a single value. Returns
 * false when DG_EXTATTR_MAX attributes are already set. */
bool dg_dirhdr_set_ext(dg_dirhdr *h, uint32_t key, uint64_t val);

/*
 * Writes the header into out[0..cap) with its 4-digit length, *out_len =
 * that length. IPMSG_E_INVAL for an empty name (except RETPARENT), a NUL in
 * the name or invalid ext attrs; IPMSG_E_TOOBIG when it would exceed
 * DG_DIRHDR_MAX; IPMSG_E_NOSPACE when it does not fit cap.
 */
int dg_dirhdr_format(const dg_dirhdr *h, char *out, size_t cap, size_t *out_len, ipmsg_error *err);

/*
 * Parses a complete header hdr[0..len) (len = its hdrsize, which must match
 * the digits). The name is unescaped into name_buf (needs len bytes, gets a
 * NUL) and out->name points there.
 */
int dg_dirhdr_parse(const char *hdr, size_t len, dg_dirhdr *out, char *name_buf, ipmsg_error *err);

/*
 * Reads the hdrsize prefix "<hex>:" from p[0..len). Returns 1 and the value
 * and the prefix length (digits + ':') when complete, 0 when more bytes are
 * needed (no ':' yet and fewer than DG_DIRHDR_LEN_DIGITS digits), or a
 * negative status when the bytes cannot be a header length.
 */
int dg_dirhdr_len_prefix(const char *p, size_t len, uint32_t *hdrsize, size_t *prefix_len,
                         ipmsg_error *err);

#endif
