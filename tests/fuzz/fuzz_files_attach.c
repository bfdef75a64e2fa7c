/*
 * libFuzzer harness for the file-transfer codec's text parsers
 * (plugins/files/codec): the input is a FILEATTACHOPT attach list (§5.1).
 *  - A list that parses is formatted and parsed again: every field of every
 *    entry must be equal (parse -> format -> parse).
 *  - Each parsed name goes through the sanitizer: a name it accepts is one
 *    safe component (<= 255 bytes, valid UTF-8, no '/' or '\', not "." or
 *    "..", no control bytes, no trailing dot or space).
 *  - The same bytes are read as a GETFILEDATA and a GETDIRFILES request
 *    extra (§5.2-5.3); a request that parses formats back to the same IDs.
 * Any breach aborts. Seeds: corpus/files_attach/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "ipmsg_proto.h"
#include "request.h"
#include "safename.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_same(const dg_attach_list *a, const dg_attach_list *b)
{
    CHECK(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        const dg_attach_entry *x = &a->entries[i], *y = &b->entries[i];
        CHECK(x->file_id == y->file_id && x->name_len == y->name_len);
        CHECK(memcmp(x->name, y->name, x->name_len) == 0);
        CHECK(x->size == y->size && x->mtime == y->mtime && x->attr == y->attr);
        CHECK(x->n_ext == y->n_ext);
        for (size_t k = 0; k < x->n_ext; k++) {
            CHECK(x->ext[k].key == y->ext[k].key && x->ext[k].n_vals == y->ext[k].n_vals);
            CHECK(memcmp(x->ext[k].vals, y->ext[k].vals, x->ext[k].n_vals * sizeof(uint64_t)) == 0);
        }
    }
}

static void check_safename(const char *name, size_t len)
{
    char out[DG_SAFENAME_MAX + 1];
    unsigned ch;
    ipmsg_error e = {0};
    if (dg_safename(name, len, out, &ch, &e) != IPMSG_OK) {
        CHECK(e.reason != NULL && out[0] == '\0');
        return;
    }
    size_t n = strlen(out);
    CHECK(n >= 1 && n <= DG_SAFENAME_MAX);
    CHECK(dg_utf8_valid(out, n));
    CHECK(strcmp(out, ".") != 0 && strcmp(out, "..") != 0);
    CHECK(out[n - 1] != '.' && out[n - 1] != ' ');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        CHECK(c >= 0x20 && c != 0x7f && c != '/' && c != '\\' && c != ':');
    }
    /* sanitizing is idempotent: a safe name stays as it is */
    char again[DG_SAFENAME_MAX + 1];
    CHECK(dg_safename(out, n, again, &ch, NULL) == IPMSG_OK);
    CHECK(strcmp(out, again) == 0 && ch == 0);
}

static void check_request(uint32_t mode, const uint8_t *data, size_t size)
{
    dg_file_req a, b;
    ipmsg_error e = {0};
    ipmsg_slice extra = {(const char *)data, size};
    if (dg_file_req_parse_extra(mode, extra, &a, &e) != IPMSG_OK) {
        CHECK(e.reason != NULL);
        return;
    }
    CHECK(a.rest.ptr >= extra.ptr && a.rest.ptr + a.rest.len == extra.ptr + extra.len);
    char out[80];
    size_t len;
    CHECK(dg_file_req_format_extra(mode, &a, out, sizeof(out), &len, NULL) == IPMSG_OK);
    ipmsg_slice back = {out, len};
    CHECK(dg_file_req_parse_extra(mode, back, &b, NULL) == IPMSG_OK);
    CHECK(a.share_pkt == b.share_pkt && a.file_id == b.file_id && b.rest.len == 0);
    if (mode == IPMSG_GETFILEDATA)
        CHECK(b.has_offset && b.offset == a.offset);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    dg_attach_list a;
    ipmsg_error e = {0};
    if (dg_attach_parse(s, size, NULL, &a, &e) == IPMSG_OK) {
        for (size_t i = 0; i < a.count; i++) {
            const dg_attach_entry *x = &a.entries[i];
            CHECK(x->name_len >= 1 && x->name_len <= DG_ATTACH_DEFAULT_MAX_NAME);
            CHECK(x->name[x->name_len] == '\0');
            CHECK(!memchr(x->name, '\a', x->name_len) && !memchr(x->name, '\0', x->name_len));
            check_safename(x->name, x->name_len);
        }
        /* Canonical numbers are never longer than the input's; each entry
         * may gain its ":\a" terminator. */
        size_t cap = size + 2 * a.count + 1;
        char *out = malloc(cap);
        CHECK(out);
        size_t len;
        CHECK(dg_attach_format(a.entries, a.count, out, cap, &len, &e) == IPMSG_OK);
        dg_attach_list b;
        CHECK(dg_attach_parse(out, len, NULL, &b, &e) == IPMSG_OK);
        check_same(&a, &b);
        dg_attach_list_free(&b);
        free(out);
        dg_attach_list_free(&a);
    } else {
        CHECK(e.reason != NULL && a.count == 0 && a.entries == NULL);
    }
    check_safename(s, size);
    check_request(IPMSG_GETFILEDATA, data, size);
    check_request(IPMSG_GETDIRFILES, data, size);
    return 0;
}
