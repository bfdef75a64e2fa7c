/*
 * Writing a large JSON answer straight into text, without a jansson tree:
 * for rpc_reply_json (sdk plugin.h, minor 2). A users.list of 10,000 people
 * as a tree is about 300,000 allocations, then a serialisation pass, then
 * as many frees; written directly it is one growing buffer.
 *
 * Commas between members and elements are placed automatically. Strings are
 * escaped as RFC 8259 requires (quote, backslash, control characters) and
 * kept as UTF-8; bytes that are not valid UTF-8 become U+FFFD, so the text is
 * always valid whatever the input. Output is compact (no spaces, no newline).
 * Errors (out of memory, nesting deeper than DG_JT_MAX_DEPTH, unbalanced
 * calls) are sticky: dg_jt_finish then returns NULL.
 */
#ifndef DG_PLUGIN_COMMON_JSON_TEXT_H
#define DG_PLUGIN_COMMON_JSON_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DG_JT_MAX_DEPTH 32

typedef struct dg_jt {
    char *buf;
    size_t len, cap;
    int depth;
    bool failed;
    bool has_items[DG_JT_MAX_DEPTH]; /* per open container: a comma is due before the next */
    bool after_key;                  /* a key was written: the value needs no comma */
} dg_jt;

/* cap_hint: first buffer size (0 = 4 KiB). */
void dg_jt_init(dg_jt *w, size_t cap_hint);
/* Frees what was written (after a failure, or to abandon). */
void dg_jt_discard(dg_jt *w);
/* The text (malloc'd, NUL-terminated, *len without the NUL) or NULL after an error. */
char *dg_jt_finish(dg_jt *w, size_t *len);

void dg_jt_begin_object(dg_jt *w);
void dg_jt_end_object(dg_jt *w);
void dg_jt_begin_array(dg_jt *w);
void dg_jt_end_array(dg_jt *w);
/* A member name inside an object; the next call writes its value. */
void dg_jt_key(dg_jt *w, const char *key);

void dg_jt_string(dg_jt *w, const char *s); /* NULL writes null */
void dg_jt_int(dg_jt *w, int64_t v);
void dg_jt_bool(dg_jt *w, bool v);
void dg_jt_null(dg_jt *w);
/* Any jansson value, serialised compactly (small values: arrays of names...). */
void dg_jt_value(dg_jt *w, const json_t *v);

/* key + value in one call. */
void dg_jt_member_string(dg_jt *w, const char *key, const char *s);
void dg_jt_member_int(dg_jt *w, const char *key, int64_t v);
void dg_jt_member_bool(dg_jt *w, const char *key, bool v);

#endif
