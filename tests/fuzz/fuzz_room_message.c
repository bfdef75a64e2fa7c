/*
 * libFuzzer harness for the room envelope (plugins/rooms/src/envelope.c): the
 * input is the text of an IPMsg message as the rooms plugin receives it.
 * Whatever parses must build again, and the built text must parse back to an
 * envelope that builds to the very same bytes (the builder is canonical).
 * A rejected input must come with a reason. Mismatches abort.
 * Seeds: corpus/room_message/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    room_env e;
    char err[256] = "";
    room_env_rc rc = room_env_parse((const char *)data, size, &e, err, sizeof err);
    if (rc == ROOM_ENV_NOT_ROOM) {
        CHECK(size < ROOM_MARKER_LEN || memcmp(data, ROOM_MARKER, ROOM_MARKER_LEN) != 0);
        return 0;
    }
    if (rc == ROOM_ENV_BAD) {
        CHECK(err[0] != '\0');
        return 0;
    }
    CHECK(rc == ROOM_ENV_OK);
    CHECK(room_env_check(&e, NULL, 0) == 0);
    size_t len1 = 0, len2 = 0;
    char *one = room_env_build(&e, &len1, err, sizeof err);
    CHECK(one != NULL && strlen(one) == len1 && len1 <= ROOM_ENVELOPE_MAX);
    room_env back;
    CHECK(room_env_parse(one, len1, &back, err, sizeof err) == ROOM_ENV_OK);
    CHECK(back.op == e.op && strcmp(back.room, e.room) == 0 && strcmp(back.origin, e.origin) == 0);
    CHECK(back.seq == e.seq && back.clock == e.clock && back.time == e.time);
    CHECK(back.n_members == e.n_members && back.n_invited == e.n_invited &&
          back.n_have == e.n_have && back.text_len == e.text_len);
    CHECK(e.text_len == 0 || memcmp(back.text, e.text, e.text_len) == 0);
    char *two = room_env_build(&back, &len2, err, sizeof err);
    CHECK(two != NULL && len1 == len2 && memcmp(one, two, len1) == 0);
    free(one);
    free(two);
    room_env_clear(&back);
    room_env_clear(&e);
    return 0;
}
