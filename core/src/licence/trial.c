/* The trial decision and its length (trial.h). */
#include "licence/trial.h"

#include <stdlib.h>

const char *dg_entitle_name(dg_entitle e)
{
    switch (e) {
    case DG_ENTITLE_LICENSED:
        return "licensed";
    case DG_ENTITLE_TRIAL:
        return "trial";
    case DG_ENTITLE_LOCKED:
        return "locked";
    }
    return "locked";
}

dg_entitle dg_trial_decide(int licensed, const dg_trial *t, int64_t now_ms, int64_t trial_ms,
                           int64_t *left_ms)
{
    if (left_ms)
        *left_ms = 0;
    if (licensed)
        return DG_ENTITLE_LICENSED;
    if (t->started_ms < 0) {
        if (t->licensed_seen)
            return DG_ENTITLE_LOCKED; /* a lapsed licence is not a fresh trial */
        if (left_ms)
            *left_ms = trial_ms;
        return DG_ENTITLE_TRIAL;
    }
    int64_t left = t->started_ms + trial_ms - now_ms;
    if (left <= 0)
        return DG_ENTITLE_LOCKED;
    if (left_ms)
        *left_ms = left;
    return DG_ENTITLE_TRIAL;
}

int dg_trial_testing_build(void)
{
#ifdef DENGON_TESTING_BUILD
    return 1;
#else
    return 0;
#endif
}

int64_t dg_trial_length_ms(void)
{
#ifdef DENGON_TESTING_BUILD
    /* Test builds only: integration tests cannot wait two minutes per case. */
    const char *text = getenv("DENGON_TEST_TRIAL_SECONDS");
    if (text && *text) {
        char *end;
        long v = strtol(text, &end, 10);
        if (*end == '\0' && v >= 1 && v <= DG_TRIAL_SECONDS)
            return (int64_t)v * 1000;
    }
#endif
    return (int64_t)DG_TRIAL_SECONDS * 1000;
}
