/*
 * Offers we sent (shares): what each recipient may fetch, from which
 * address, and what it already fetched (each file once per recipient, a
 * failed transfer resets it, §5.2). Guarded by st->lock: the serving
 * threads look shares up and never keep a pointer across an unlock.
 */
#ifndef DG_FL_SHARE_H
#define DG_FL_SHARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

enum { FL_FREE = 0, FL_BUSY = 1, FL_DONE = 2 };

typedef struct fl_sfile {
    uint32_t id;
    char *path; /* absolute, as given */
    char *name; /* last component: the name peers see */
    bool dir;
    uint64_t size; /* regular file; 0 for a folder */
    int64_t mtime;
} fl_sfile;

typedef struct fl_rcpt {
    char *key;
    uint32_t ip;    /* host order: only this address may fetch */
    uint8_t *state; /* per file: FL_FREE, FL_BUSY, FL_DONE */
} fl_rcpt;

typedef struct fl_share {
    struct fl_share *next;
    uint32_t packet_no;
    int64_t created;
    size_t nf, nr;
    fl_sfile *f;
    fl_rcpt *r;
} fl_share;

/*
 * files.send: checks paths (absolute, regular files or folders, limits and
 * extension rules), resolves recipients' addresses, sends the offer and
 * registers the share. Returns the result object or NULL with err.
 */
json_t *share_send(fl_state *st, const json_t *to, const json_t *paths, const char *text, char *err,
                   size_t errlen);

/* share_claim: the file is being sent to that recipient by another connection. */
#define FL_CLAIM_BUSY (-2)

/* What a request may ask for: GETFILEDATA a file, GETDIRFILES a folder, an
 * encrypted GETDIRFILES either (§6.6). */
enum { FL_KIND_FILE = 0, FL_KIND_DIR = 1, FL_KIND_ANY = 2 };

/* What a serving thread needs: copies the path, marks the file BUSY, says
 * whether it is a folder. The recipient is the one at ip, or the one named
 * key (user@host) when key is not NULL (a request it signed, §6.6). 0, or
 * FL_CLAIM_BUSY, or -1, with a reason in err (not a recipient, wrong address,
 * already fetched...). */
int share_claim(fl_state *st, uint32_t packet_no, uint32_t file_id, uint32_t ip, const char *key,
                int kind, char **path, char **name, bool *is_dir, char *err, size_t errlen);
/* Ends a claim (same ip/key): DONE on success, FREE again on failure. Drops
 * the share when every recipient fetched everything. */
void share_release_claim(fl_state *st, uint32_t packet_no, uint32_t file_id, uint32_t ip,
                         const char *key, bool ok);

/* chat.files.released: the recipient at ip (or key) gave up; the share goes
 * when nobody is left. */
void share_on_released(fl_state *st, uint32_t packet_no, const char *key, uint32_t ip);
/* files.cancel {share}: drops a share. 0 or -1 when unknown. */
int share_drop(fl_state *st, uint32_t packet_no);
/* At start: the offers we sent that are still recorded (files may be fetched
 * again: a transfer cut by our own stop resumes from the receiver's offset). */
void share_load(fl_state *st);
/* Drops shares older than the configured expiry. */
void share_expire(fl_state *st);
json_t *share_list_json(fl_state *st);
void share_free_all(fl_state *st);

#endif
