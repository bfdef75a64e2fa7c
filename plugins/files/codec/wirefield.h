/*
 * Token layer shared by the attach list (§5.1) and the directory stream
 * headers (§5.3): ':'-separated fields holding hex or decimal numbers, and
 * file names in which ':' is written "::".
 *
 * Numbers are strict: digits only (no sign, no "0x", no spaces), at least
 * one, at most DG_WF_MAX_DIGITS characters (Windows pads sizes with
 * "%x%08x" and iptux with "%.9jx", so leading zeros are normal), and the
 * value must not exceed the caller's maximum. Overflow is an error, never a
 * wrap-around. Error reasons are static strings (ipmsg_error).
 */
#ifndef DG_FILES_WIREFIELD_H
#define DG_FILES_WIREFIELD_H

#include <stddef.h>
#include <stdint.h>

#include "ipmsg_error.h"

/* Longest accepted digit string, leading zeros included. */
#define DG_WF_MAX_DIGITS 32

/* Parses p[0..len) as hex (base 16) or decimal (base 10) into *out, which
 * must not exceed max. off is the field's offset in the caller's input,
 * reported in err. */
int dg_wf_number(const char *p, size_t len, int base, uint64_t max, uint64_t *out, size_t off,
                 ipmsg_error *err);

/* Length of the field starting at p and ending before the first byte of
 * stops (or at end); number fields never contain ':' escapes. */
size_t dg_wf_span(const char *p, const char *end, const char *stops);

/*
 * Escaped name starting at p: walks "::" pairs and stops at a single ':'.
 * Returns the escaped length (bytes before the terminating ':'), or
 * (size_t)-1 when no terminating ':' is found before end. *unescaped_len
 * receives the length after "::" -> ":".
 */
size_t dg_wf_name_scan(const char *p, const char *end, size_t *unescaped_len);

/* Copies an escaped name of esc_len bytes to out, turning "::" into ":".
 * out needs the unescaped length (dg_wf_name_scan), no NUL is added. */
void dg_wf_name_unescape(const char *p, size_t esc_len, char *out);

/* Bytes needed to write name escaped (each ':' doubled). */
size_t dg_wf_name_escaped_len(const char *name, size_t len);

/* Writes name escaped to out (dg_wf_name_escaped_len bytes). */
void dg_wf_name_escape(const char *name, size_t len, char *out);

/* Bounded output buffer used by the formatters: appends never write past
 * cap; overflow is remembered and reported once at the end. With buf NULL
 * nothing is written and len only counts (measuring pass). */
typedef struct dg_wf_out {
    char *buf;
    size_t cap;
    size_t len;
    int overflow;
} dg_wf_out;

void dg_wf_put(dg_wf_out *o, const char *s, size_t n);
void dg_wf_putc(dg_wf_out *o, char c);
/* Lowercase hex or decimal without leading zeros. */
void dg_wf_put_num(dg_wf_out *o, uint64_t v, int base);
void dg_wf_put_name(dg_wf_out *o, const char *name, size_t len);

#endif
