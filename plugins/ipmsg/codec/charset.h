/*
 * Text encoding of IPMsg packets (docs/ipmsg-protocol.md §1.3).
 *
 * A packet with IPMSG_UTF8OPT is UTF-8 from the first byte to the last. A
 * packet without it is in the sender's "ANSI" code page: the spec assumes
 * CP932, but Windows really uses CP_ACP (CP936 in China, CP1252 in the West),
 * so the legacy code page is configurable. dengon works in UTF-8 inside; this
 * module converts at the edge with glibc iconv.
 *
 * Bad input never disappears silently and never fails a packet: an invalid
 * legacy or UTF-8 sequence becomes U+FFFD when decoding, a character the code
 * page cannot represent (an emoji in CP932) becomes '?' when encoding, and the
 * number of replacements is reported so the caller can log it.
 *
 * "CP932" (glibc's Windows-31J table) is the default rather than "SHIFT_JIS"
 * because it matches what Windows produces: NEC/IBM extensions (①) exist and
 * 0x8160 decodes to U+FF5E like on Windows.
 *
 * Only ASCII-compatible code pages make sense (the header syntax is ASCII);
 * pure-ASCII text is therefore copied without iconv.
 *
 * An ipmsg_charset holds iconv descriptors, which carry conversion state: use
 * one per thread (the plugin uses it on the loop thread only).
 */
#ifndef DG_IPMSG_CHARSET_H
#define DG_IPMSG_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipmsg_error.h"

#define IPMSG_DEFAULT_LEGACY_CHARSET "CP932"
/* At most this many code pages in the fallback list. */
#define IPMSG_CHARSET_MAX_FALLBACK 4

typedef enum ipmsg_enc {
    IPMSG_ENC_LEGACY = 0, /* the configured code page */
    IPMSG_ENC_UTF8 = 1,   /* UTF-8, sanitized */
    IPMSG_ENC_RAW = 2,    /* bytes are already in wire form: copied as they are */
} ipmsg_enc;

/*
 * Open flag: a legacy packet whose text is valid UTF-8 and not pure ASCII is
 * decoded as UTF-8. iptux never sets UTF8OPT yet sends UTF-8 by default
 * (iptux-interop.md §7, ipmsg-protocol.md §9.2), so this rescues its text. It
 * is off by default because short CP932 strings can be valid UTF-8 by
 * accident: half-width "ﾃｽﾄ①" is C3 BD C4 87 40, i.e. UTF-8 "ýć@".
 */
#define IPMSG_CHARSET_SNIFF_UTF8 0x1u

typedef struct ipmsg_charset ipmsg_charset;

/*
 * legacy: one code page name known to iconv, or a comma-separated list
 * ("CP932,GB18030"). NULL or "" means IPMSG_DEFAULT_LEGACY_CHARSET. Text is
 * always *encoded* with the first entry. When decoding, each entry is tried
 * strictly in order and the first that converts cleanly wins; if none does,
 * the first is used with replacement characters.
 * Returns IPMSG_OK or IPMSG_E_CHARSET (unknown name) / E_INVAL / E_NOMEM.
 */
int ipmsg_charset_open(ipmsg_charset **out, const char *legacy, unsigned flags, ipmsg_error *err);
void ipmsg_charset_close(ipmsg_charset *cs);
/* The code page used for encoding (first entry of the list). */
const char *ipmsg_charset_name(const ipmsg_charset *cs);

/* The per-packet rule of §1.3: UTF8OPT set -> UTF-8, else legacy. */
static inline ipmsg_enc ipmsg_packet_enc(uint32_t command)
{
    return (command & 0x00800000u) ? IPMSG_ENC_UTF8 : IPMSG_ENC_LEGACY;
}

/*
 * Wire bytes -> UTF-8. *out is a new NUL-terminated string (free()), *out_len
 * its length without the NUL; replaced (may be NULL) counts substitutions.
 * cs may be NULL for ENC_UTF8/ENC_RAW, and for ENC_LEGACY when the input is
 * pure ASCII (otherwise IPMSG_E_INVAL). ENC_RAW copies the bytes unchanged.
 */
int ipmsg_decode(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len, char **out,
                 size_t *out_len, size_t *replaced, ipmsg_error *err);
/* Same, for a slice (absent slice decodes to ""). */
int ipmsg_decode_slice(ipmsg_charset *cs, ipmsg_enc enc, ipmsg_slice s, char **out,
                       size_t *replaced, ipmsg_error *err);

/*
 * UTF-8 -> wire bytes written into out[0..cap). IPMSG_E_NOSPACE when it does
 * not fit (nothing useful is left in out then). Same cs rules as decode.
 * The result is not NUL-terminated.
 */
int ipmsg_encode_into(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len, char *out,
                      size_t cap, size_t *written, size_t *replaced, ipmsg_error *err);
/* Same, into a new NUL-terminated buffer. */
int ipmsg_encode(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len, char **out,
                 size_t *out_len, size_t *replaced, ipmsg_error *err);

/* Strict UTF-8 check: no overlongs, no surrogates, nothing above U+10FFFF. */
bool ipmsg_utf8_valid(const char *s, size_t len);
/* Length (1-4) of the valid UTF-8 sequence starting at s, or 0 if invalid. */
size_t ipmsg_utf8_seq_len(const char *s, size_t len);
bool ipmsg_is_ascii(const char *s, size_t len);

#endif
