/*
 * Extended attributes of a file record: "key=value[,value...]", key and
 * values in hex (§3.4), e.g. "14=65f1c2a0" (MTIME) or "8=3" (CLIPBOARDPOS).
 * Used by the attach list (§5.1) and the directory stream headers (§5.3).
 *
 * Unknown keys are kept (in wire order, duplicates too) so a record formats
 * back to the same attributes. Limits: DG_EXTATTR_MAX attributes per record,
 * DG_EXTATTR_MAX_VALS values per attribute, keys < 2^32, values < 2^64.
 */
#ifndef DG_FILES_EXTATTR_H
#define DG_FILES_EXTATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipmsg_error.h"
#include "wirefield.h"

#define DG_EXTATTR_MAX 8
#define DG_EXTATTR_MAX_VALS 8

typedef struct dg_extattr {
    uint32_t key;
    uint32_t n_vals; /* 1..DG_EXTATTR_MAX_VALS */
    uint64_t vals[DG_EXTATTR_MAX_VALS];
} dg_extattr;

/* Parses one "key=v[,v...]" field of len bytes (no ':' inside) into *out.
 * off is the field's offset in the caller's input. */
int dg_extattr_parse(const char *p, size_t len, dg_extattr *out, size_t off, ipmsg_error *err);

/* Appends "key=v[,v...]" (lowercase hex, no leading zeros). The attribute
 * must have 1..DG_EXTATTR_MAX_VALS values (checked by dg_extattr_valid). */
void dg_extattr_put(dg_wf_out *o, const dg_extattr *a);

bool dg_extattr_valid(const dg_extattr *a);

/* First value of the first attribute with key; false when absent. */
bool dg_extattr_find(const dg_extattr *a, size_t n, uint32_t key, uint64_t *val);

#endif
