/*
 * libFuzzer harness for the GETDIRFILES stream decoder (plugins/files/
 * codec/dirstream.c, §5.3). The input is a raw stream; it is decoded
 * whole, byte by byte, and in chunks whose sizes come from the input
 * itself. Checks, any breach aborts:
 *  - the three runs produce the same events and the same verdict
 *    (FILE_DATA compared as the concatenation of its pieces);
 *  - a record never gets more FILE_DATA bytes than its declared size, and
 *    FILE_END comes exactly when all of them were delivered;
 *  - FILE_DATA points inside the input; depths follow ENTER/LEAVE;
 *  - every header formats back (4-digit length) and parses to the same
 *    name, size, attr and extended attributes.
 * Seeds: corpus/files_dirstream/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dirstream.h"
#include "ipmsg_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* FNV-1a over the event transcript: equal transcripts, equal hashes. */
typedef struct run {
    uint64_t hash;
    uint64_t events;
    int status;
    const char *reason;
} run;

static void mix(run *r, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        r->hash ^= b[i];
        r->hash *= 0x100000001b3ull;
    }
}

static void check_header(const dg_dirhdr *h)
{
    char *out = malloc(DG_DIRHDR_MAX);
    char *name = malloc(DG_DIRHDR_MAX);
    CHECK(out && name);
    size_t len;
    CHECK(dg_dirhdr_format(h, out, DG_DIRHDR_MAX, &len, NULL) == IPMSG_OK);
    dg_dirhdr b;
    CHECK(dg_dirhdr_parse(out, len, &b, name, NULL) == IPMSG_OK);
    CHECK(b.name_len == h->name_len && memcmp(b.name, h->name, h->name_len) == 0);
    CHECK(b.size == h->size && b.attr == h->attr && b.n_ext == h->n_ext);
    for (size_t k = 0; k < h->n_ext; k++) {
        CHECK(b.ext[k].key == h->ext[k].key && b.ext[k].n_vals == h->ext[k].n_vals);
        CHECK(memcmp(b.ext[k].vals, h->ext[k].vals, h->ext[k].n_vals * sizeof(uint64_t)) == 0);
    }
    free(out);
    free(name);
}

/* chunk(i) gives the size of the i-th chunk (0 = all the rest). */
static run decode(const uint8_t *data, size_t size, int mode, bool check_headers)
{
    run r = {0xcbf29ce484222325ull, 0, 0, NULL};
    dg_dirstream_limits lim = {.max_depth = 16, .max_entries = 4096};
    dg_dirstream *d = dg_dirstream_new(&lim);
    CHECK(d);
    size_t pos = 0, ci = 0;
    uint64_t declared = 0, got = 0;
    uint32_t depth = 0;
    bool in_file = false, done = false;
    int rc = 0;
    ipmsg_error e = {0};
    for (;;) {
        size_t chunk = size - pos;
        if (mode == 1 && chunk > 1)
            chunk = 1;
        if (mode == 2 && size) {
            size_t want = 1 + data[ci++ % size] % 64;
            if (want < chunk)
                chunk = want;
        }
        const uint8_t *p = data + pos;
        size_t left = chunk;
        for (;;) {
            dg_ds_event ev;
            size_t used;
            rc = dg_dirstream_next(d, p, left, &used, &ev, &e);
            CHECK(used <= left);
            p += used;
            left -= used;
            if (rc <= 0)
                break;
            CHECK(!done);
            r.events++;
            if (ev.kind == DG_DS_FILE_DATA) {
                CHECK(in_file && ev.len > 0);
                CHECK(ev.data >= data && ev.data + ev.len <= data + size);
                got += ev.len;
                CHECK(got <= declared);
                mix(&r, ev.data, ev.len);
                continue;
            }
            uint8_t k = (uint8_t)ev.kind;
            mix(&r, &k, 1);
            mix(&r, &ev.depth, sizeof(ev.depth));
            switch (ev.kind) {
            case DG_DS_ENTER_DIR:
                CHECK(!in_file && ev.depth == depth);
                depth++;
                break;
            case DG_DS_FILE_BEGIN:
                CHECK(!in_file && ev.depth == depth);
                in_file = true;
                declared = ev.hdr->size;
                got = 0;
                break;
            case DG_DS_FILE_END:
                CHECK(in_file && got == declared && ev.hdr->size == declared);
                in_file = false;
                break;
            case DG_DS_LEAVE_DIR:
                CHECK(!in_file && depth > 0 && ev.depth == depth - 1);
                depth--;
                break;
            case DG_DS_DONE:
                CHECK(!in_file && depth == 0);
                done = true;
                break;
            default:
                CHECK(0);
            }
            if (ev.hdr) {
                mix(&r, ev.hdr->name, ev.hdr->name_len);
                mix(&r, &ev.hdr->size, sizeof(ev.hdr->size));
                mix(&r, &ev.hdr->attr, sizeof(ev.hdr->attr));
                CHECK(ev.hdr->name[ev.hdr->name_len] == '\0');
                if (check_headers && ev.kind != DG_DS_FILE_END)
                    check_header(ev.hdr);
            }
        }
        if (rc < 0)
            break;
        CHECK(left == 0);
        pos += chunk;
        if (pos >= size)
            break;
    }
    if (rc >= 0) {
        dg_ds_event ev;
        size_t used;
        while ((rc = dg_dirstream_next(d, data, 0, &used, &ev, &e)) == 1) {
            CHECK(used == 0 && ev.kind != DG_DS_FILE_DATA);
            uint8_t k = (uint8_t)ev.kind;
            mix(&r, &k, 1);
            if (ev.kind == DG_DS_FILE_END) {
                CHECK(in_file && got == declared);
                in_file = false;
            }
            if (ev.kind == DG_DS_DONE)
                done = true;
        }
        if (rc == 0)
            rc = dg_dirstream_finish(d, &e);
        CHECK((rc == 0) == done);
    }
    if (rc < 0)
        CHECK(e.reason != NULL);
    r.status = rc;
    r.reason = rc < 0 ? e.reason : NULL;
    dg_dirstream_free(d);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run whole = decode(data, size, 0, true);
    run bytes = decode(data, size, 1, false);
    run split = decode(data, size, 2, false);
    CHECK(whole.status == bytes.status && whole.status == split.status);
    CHECK(whole.reason == bytes.reason && whole.reason == split.reason);
    CHECK(whole.hash == bytes.hash && whole.hash == split.hash);
    return 0;
}
