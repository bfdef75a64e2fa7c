/*
 * Test plugins leave marker files so a test can prove whether their code ever
 * ran: "<DENGON_TEST_MARKER_DIR>/<id>.loaded" from an ELF constructor (runs at
 * dlopen time) and "<id>.started" from start(). Nothing happens when the
 * variable is unset.
 */
#ifndef DG_TEST_MARKER_H
#define DG_TEST_MARKER_H

#include <stdio.h>
#include <stdlib.h>

static inline void test_marker(const char *id, const char *what)
{
    const char *dir = getenv("DENGON_TEST_MARKER_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.%s", dir, id, what);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

/* Appends id as one line to "<DENGON_TEST_MARKER_DIR>/<file>": records an order. */
static inline void test_marker_append(const char *file, const char *id)
{
    const char *dir = getenv("DENGON_TEST_MARKER_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s\n", id);
        fclose(f);
    }
}

#define TEST_MARKER_CONSTRUCTOR(id)                                                                \
    __attribute__((constructor)) static void test_marker_loaded(void)                              \
    {                                                                                              \
        test_marker(id, "loaded");                                                                 \
    }

#endif
