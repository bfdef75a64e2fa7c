/*
 * The room envelope: how a room operation travels as the text of an IPMsg
 * SENDMSG between dengon peers (docs/protocol/rooms.md).
 *
 *     DGROOM/1 {"op":"post","room":"<32 hex>",...}\n<body>
 *
 * The marker, a space, one line of JSON (ASCII only: everything else is
 * \u-escaped, so no code page conversion can damage it), a line feed, and
 * the body (the posted text, UTF-8; empty for every other operation). The
 * chat.transport service sends plain text only, so the envelope is text too;
 * a client without rooms shows it as a message that starts with the marker.
 *
 * Pure code: no I/O, no host API. Parsing is strict (types, lengths, formats,
 * the fields each operation needs); unknown header keys are ignored so that a
 * later version can add fields without breaking this one.
 */
#ifndef DG_ROOMS_ENVELOPE_H
#define DG_ROOMS_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROOM_MARKER "DGROOM/1 "
#define ROOM_MARKER_LEN 9
#define ROOM_ID_LEN 32   /* lowercase hex of 16 random bytes */
#define ROOM_UUID_LEN 36 /* 8-4-4-4-12, lowercase */
#define ROOM_NAME_MAX 64 /* bytes */
#define ROOM_KEY_MAX 256 /* user@host */
#define ROOM_NICK_MAX 256
#define ROOM_TEXT_MAX 16000             /* bytes of a posted text */
#define ROOM_HEADER_MAX 16384           /* bytes of the JSON line */
#define ROOM_MEMBERS_MAX 200            /* entries of "members" */
#define ROOM_INVITED_MAX 64             /* entries of "invited" */
#define ROOM_HAVE_MAX 1024              /* entries of "have" */
#define ROOM_NUM_MAX 9007199254740991LL /* 2^53 - 1: exact in every JSON reader */
/* Longest whole envelope: fits an IPMsg datagram (32 KiB) with its header. */
#define ROOM_ENVELOPE_MAX (ROOM_MARKER_LEN + ROOM_HEADER_MAX + 1 + ROOM_TEXT_MAX)

typedef enum room_op {
    ROOM_OP_NONE = 0,
    ROOM_OP_POST,     /* logged: a message */
    ROOM_OP_JOIN,     /* logged: origin joins a public room */
    ROOM_OP_LEAVE,    /* logged: origin leaves */
    ROOM_OP_INVITE,   /* logged: origin adds "invited" to the members */
    ROOM_OP_ANNOUNCE, /* control: a public room exists, with these members */
    ROOM_OP_QUERY,    /* control: who is in a public room with this name or id? */
    ROOM_OP_SYNC,     /* control: "have" per origin; send me what I lack */
} room_op;

/* A member as the envelope names it. */
typedef struct room_ref {
    char uuid[ROOM_UUID_LEN + 1];
    char *key;  /* user@host */
    char *nick; /* may be NULL */
} room_ref;

/* Highest contiguous sequence number known from one origin. */
typedef struct room_have {
    char uuid[ROOM_UUID_LEN + 1];
    uint64_t seq;
} room_have;

typedef struct room_env {
    room_op op;
    char room[ROOM_ID_LEN + 1];     /* "" when absent (a query by name) */
    char origin[ROOM_UUID_LEN + 1]; /* identity UUID of the author or asker */
    char *name;                     /* room name, NULL when absent */
    int priv;                       /* -1 absent, 0 public, 1 private */
    char *from;                     /* origin's user@host, NULL when absent */
    char *nick;                     /* origin's nickname, NULL when absent */
    uint64_t seq, clock;            /* logged ops: per-origin sequence, Lamport clock */
    int64_t time;                   /* logged ops: author's Unix time */
    int64_t created;                /* announce: room creation time, 0 = absent */
    room_ref *members;              /* invite, announce */
    size_t n_members;
    room_ref *invited; /* invite */
    size_t n_invited;
    room_have *have; /* sync */
    size_t n_have;
    char *text; /* post body (NUL-terminated), NULL for other ops */
    size_t text_len;
} room_env;

typedef enum room_env_rc {
    ROOM_ENV_BAD = -1,     /* starts with the marker but is malformed: err says why */
    ROOM_ENV_OK = 0,       /* *out filled: free with room_env_clear() */
    ROOM_ENV_NOT_ROOM = 1, /* no marker: an ordinary message */
} room_env_rc;

/* "post", "join", ...; NULL for an unknown value. */
const char *room_op_name(room_op op);
/* post, join, leave and invite are kept in the room log (origin, seq, clock). */
bool room_op_logged(room_op op);

/*
 * Parses len bytes (need not be NUL-terminated). On ROOM_ENV_OK the caller
 * owns *out; on anything else *out is cleared and err (may be NULL) holds a
 * one-line reason for ROOM_ENV_BAD.
 */
room_env_rc room_env_parse(const char *data, size_t len, room_env *out, char *err, size_t errlen);

/*
 * Checks e as the parser would (the fields its op needs, lengths, formats).
 * 0, or -1 with a reason in err.
 */
int room_env_check(const room_env *e, char *err, size_t errlen);

/*
 * Builds the envelope text of e (checked first). Returns a new NUL-terminated
 * string (free()) and its length in *len, or NULL with a reason in err.
 */
char *room_env_build(const room_env *e, size_t *len, char *err, size_t errlen);

/* Frees what e owns and zeroes it. */
void room_env_clear(room_env *e);

/* Validators shared with the RPC layer. */
bool room_id_valid(const char *s);   /* 32 lowercase hex digits */
bool room_uuid_valid(const char *s); /* 8-4-4-4-12 hex, either case */
/*
 * 1..ROOM_NAME_MAX bytes of UTF-8 without controls or white space, not
 * starting with '#' (the CLI strips one) and not shaped like a room id.
 */
bool room_name_valid(const char *s);
/* Valid UTF-8 of len bytes without NUL. */
bool room_utf8_valid(const char *s, size_t len);

#endif
