/*
 * Sanitizer for file and directory names received from peers (attach list
 * entries and directory stream records, already converted to UTF-8 by the
 * caller). The result is one safe path component, usable with openat() in
 * the download folder and also valid on Windows file systems (a download
 * folder may live on NTFS/SMB, and a received folder may be sent on to a
 * Windows peer).
 *
 * Refused (error, no name): empty; invalid UTF-8 (overlong forms,
 * surrogates, > U+10FFFF, truncated sequences); NUL; absolute paths ('/' or
 * '\' first, or a drive "X:\"); "." and ".."; any '/' or '\' inside the name
 * (a single component cannot hold a path: "a/../../x" is refused, not
 * flattened, so a hostile peer cannot pick where anything lands); names
 * made only of dots and spaces.
 *
 * Cleaned (the name is kept, *changes tells what was done):
 *  - DG_SAFENAME_REPLACED: control bytes (0x01-0x1f, 0x7f), C1 controls
 *    (U+0080-U+009F), bidi overrides that can disguise an extension
 *    (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the characters
 *    Windows forbids (< > : " | ? *) become '_' (Windows itself maps '?'
 *    to '_', §5.3).
 *  - DG_SAFENAME_TRIMMED: trailing dots and spaces removed (Windows drops
 *    them silently, so "a.txt." and "a.txt" would collide).
 *  - DG_SAFENAME_RESERVED: Windows device names (CON, PRN, AUX, NUL,
 *    COM1-COM9, LPT1-LPT9, any case, with or without an extension, e.g.
 *    "con.txt", "LPT1 .log") get a '_' prefix.
 *  - DG_SAFENAME_CUT: longer than DG_SAFENAME_MAX bytes: the stem is cut at
 *    a UTF-8 character boundary, keeping the extension (the part after the
 *    last '.' when it is at most 32 bytes and not the first character).
 */
#ifndef DG_FILES_SAFENAME_H
#define DG_FILES_SAFENAME_H

#include <stddef.h>

#include "ipmsg_error.h"

#define DG_SAFENAME_MAX 255 /* bytes, NAME_MAX on Linux */

#define DG_SAFENAME_REPLACED 0x1u
#define DG_SAFENAME_TRIMMED 0x2u
#define DG_SAFENAME_RESERVED 0x4u
#define DG_SAFENAME_CUT 0x8u

/*
 * Writes the safe name of in[0..len) to out (NUL-terminated, at most
 * DG_SAFENAME_MAX bytes). changes (may be NULL) gets the DG_SAFENAME_* bits.
 * On refusal out is "" and err says why (IPMSG_E_SYNTAX; IPMSG_E_NOMEM).
 */
int dg_safename(const char *in, size_t len, char out[DG_SAFENAME_MAX + 1], unsigned *changes,
                ipmsg_error *err);

/* Length of the longest prefix of s[0..len) that is at most max bytes and
 * does not end inside a UTF-8 sequence (s must be valid UTF-8). */
size_t dg_utf8_cut(const char *s, size_t len, size_t max);

/* True when s[0..len) is valid UTF-8 (strict: no overlongs, surrogates or
 * code points above U+10FFFF). */
int dg_utf8_valid(const char *s, size_t len);

#endif
