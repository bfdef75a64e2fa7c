/*
 * Premium plugins and the trial (docs/licence.md, "Trial"): a premium plugin
 * whose entitlement no valid licence grants may run for DG_TRIAL_SECONDS per
 * daemon start, counted from the first time it becomes active without a
 * licence; then it is stopped and locked until a licence arrives or the
 * daemon restarts. A plugin that ran under a licence which then lapsed is
 * locked at once: the trial is for trying a feature, not a grace period.
 */
#ifndef DG_LICENCE_TRIAL_H
#define DG_LICENCE_TRIAL_H

#include <stdint.h>

/* Fixed in every build; only a build made for tests may shorten it (dg_trial_length_ms). */
#define DG_TRIAL_SECONDS 120

typedef enum dg_entitle {
    DG_ENTITLE_LICENSED = 0, /* a valid licence grants the entitlement */
    DG_ENTITLE_TRIAL,        /* no licence; the trial is unused or still running */
    DG_ENTITLE_LOCKED        /* no licence; the trial is over, or a licence lapsed */
} dg_entitle;

const char *dg_entitle_name(dg_entitle e); /* "licensed", "trial", "locked" */

/* One premium plugin's trial in this daemon run. */
typedef struct dg_trial {
    int64_t started_ms; /* monotonic ms when it first ran without a licence; -1: not yet */
    int licensed_seen;  /* it was allowed under a licence in this run */
} dg_trial;

/*
 * The decision for one premium plugin at now_ms. *left_ms (may be NULL) gets
 * the trial time left (the whole length when not started; 0 when locked or
 * licensed).
 */
dg_entitle dg_trial_decide(int licensed, const dg_trial *t, int64_t now_ms, int64_t trial_ms,
                           int64_t *left_ms);

/*
 * DG_TRIAL_SECONDS in ms. In a build configured with DENGON_TESTING_BUILD,
 * the environment variable DENGON_TEST_TRIAL_SECONDS (1..DG_TRIAL_SECONDS)
 * shortens it; every other build ignores the variable.
 */
int64_t dg_trial_length_ms(void);
/* 1 when this binary honours DENGON_TEST_TRIAL_SECONDS. */
int dg_trial_testing_build(void);

#endif
