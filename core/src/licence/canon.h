/*
 * Canonical JSON: the exact bytes a licence or policy signature covers, so
 * that any tool can produce them (docs/licence.md, "Canonical form"):
 *   - objects: members sorted by key, compared as UTF-8 bytes (= code points);
 *   - no whitespace anywhere: {"a":1,"b":[true,null]};
 *   - strings: UTF-8 as is; only '"' and '\' are escaped (\" and \\);
 *     control characters (U+0000..U+001F) are not allowed at all, so there is
 *     no choice between escape spellings;
 *   - numbers: integers only, in decimal, '-' for negatives, no '+', no
 *     leading zeros, no fraction or exponent;
 *   - true, false, null as literals;
 *   - at most DG_CANON_MAX_DEPTH nested containers.
 * Python's json.dumps(v, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False) gives the same bytes for every value accepted here.
 */
#ifndef DG_LICENCE_CANON_H
#define DG_LICENCE_CANON_H

#include <jansson.h>
#include <stddef.h>

#define DG_CANON_MAX_DEPTH 32

/*
 * Serialises v. Returns 0 with *out (new, NUL-terminated) and *len, or -1
 * with a one-line reason in err ("$.seats: numbers must be integers").
 */
int dg_canon_dump(const json_t *v, char **out, size_t *len, char *err, size_t errlen);

#endif
