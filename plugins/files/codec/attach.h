/*
 * FILEATTACHOPT attach list (§5.1): the section after the message's NUL,
 *   <fileID>:<name>:<size>:<mtime>:<attr>[:<key>=<val>[,<val>]...]:\a[:]...
 * fileID decimal (Windows %d, iptux %u), size/mtime/attr and extended
 * attributes hex, ':' in a name written "::", entries ended by '\a' (0x07).
 *
 * Parsing accepts what Windows and iptux send: an optional ':' after '\a'
 * (iptux), a missing '\a' or ':' after the last entry, runs of trailing
 * separators, empty fields between extended attributes (Windows' tokenizer
 * skips them too). It refuses, with a reason and offset, anything that would
 * need a guess: a non-numeric or overflowing number, an empty name, a name
 * holding NUL or '\a' (no peer can format one unambiguously), more entries,
 * a longer name or more extended attributes than the limits allow.
 *
 * The file type is the low 8 bits of attr (§3.2); the high bits carry
 * RONLYOPT, SYSTEMOPT... (§3.3), so never compare attr as a whole (the
 * iptux bug of §9.6). Inline images (type CLIPBOARD 0x20, §5.5) and other
 * types that cannot be fetched as files are flagged, not refused, so the
 * caller skips them and keeps the rest of the list.
 *
 * Formatting writes the Windows form ("%u:%s:%llx:%llx:%x[:ext]:\a",
 * lowercase hex without padding); parse(format(x)) gives back x field by
 * field.
 */
#ifndef DG_FILES_ATTACH_H
#define DG_FILES_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extattr.h"
#include "ipmsg_error.h"

/* Default limits. A 32 KiB datagram (§1.1) holds at most ~3,600 entries of
 * the minimum size, so 4096 never refuses a real list; names are cut to 255
 * bytes by the sanitizer later, but Windows may send up to MAX_PATH UTF-16
 * units (~780 UTF-8 bytes). */
#define DG_ATTACH_DEFAULT_MAX_ENTRIES 4096
#define DG_ATTACH_DEFAULT_MAX_NAME 1024

typedef struct dg_attach_limits {
    size_t max_entries; /* 0 = DG_ATTACH_DEFAULT_MAX_ENTRIES */
    size_t max_name;    /* bytes after unescaping; 0 = DG_ATTACH_DEFAULT_MAX_NAME */
} dg_attach_limits;

typedef struct dg_attach_entry {
    uint32_t file_id;
    /* Wire encoding (the caller converts legacy code pages). When parsed:
     * NUL-terminated, owned by the list. When formatting: caller's bytes. */
    const char *name;
    size_t name_len;
    uint64_t size;
    uint64_t mtime; /* Unix seconds */
    uint32_t attr;  /* type (low 8 bits) | attribute bits */
    size_t n_ext;
    dg_extattr ext[DG_EXTATTR_MAX];
} dg_attach_entry;

typedef struct dg_attach_list {
    dg_attach_entry *entries;
    size_t count;
    char *names; /* storage of every entry's name */
} dg_attach_list;

/* File type: IPMSG_FILE_REGULAR, IPMSG_FILE_DIR, IPMSG_FILE_CLIPBOARD... */
static inline uint32_t dg_attach_type(const dg_attach_entry *e)
{
    return e->attr & 0xffu;
}

/* An inline image (§5.5): fetched into the message, not saved as a file. */
bool dg_attach_is_inline_image(const dg_attach_entry *e);

/* A regular file or a directory: what a download can save. Everything else
 * (inline images, symlinks, devices, Mac resource forks, unknown types)
 * is skipped by the caller. */
bool dg_attach_is_fetchable(const dg_attach_entry *e);

/* CLIPBOARDPOS (ext key 8) of an inline image; false when absent. */
bool dg_attach_clip_pos(const dg_attach_entry *e, uint64_t *pos);

/*
 * Parses the attach list data[0..len) (the whole section, without its NUL).
 * lim may be NULL for the defaults. On success out holds count entries (0
 * when the section holds only separators) and must be freed with
 * dg_attach_list_free. On error out is empty and err says why.
 */
int dg_attach_parse(const char *data, size_t len, const dg_attach_limits *lim, dg_attach_list *out,
                    ipmsg_error *err);

void dg_attach_list_free(dg_attach_list *list);

/*
 * Formats n entries into out[0..cap). *out_len gets the length (no NUL
 * written). IPMSG_E_INVAL for an entry that could not be parsed back (empty
 * name, NUL or '\a' in the name, an extended attribute without values or
 * with more than DG_EXTATTR_MAX_VALS, n_ext > DG_EXTATTR_MAX);
 * IPMSG_E_NOSPACE when it does not fit (nothing usable is left in out).
 */
int dg_attach_format(const dg_attach_entry *entries, size_t n, char *out, size_t cap,
                     size_t *out_len, ipmsg_error *err);

#endif
