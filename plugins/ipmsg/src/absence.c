#include "absence.h"

#include <stdlib.h>
#include <string.h>

#include "awaytext.h"
#include "presence.h"

typedef enum away_reason {
    AWAY_CONFIG = 0, /* ipmsg.absence */
    AWAY_MANUAL = 1, /* chat.absence */
    AWAY_IDLE = 2,   /* ipmsg.auto_absence_minutes of no local activity */
} away_reason;

static const char *const reason_names[] = {"config", "manual", "idle"};

typedef struct ipm_away {
    bool on;
    away_reason reason;
    char *text, *title;        /* chat.absence overrides; NULL = the configured ones */
    int64_t since;             /* Unix time absence began */
    uint64_t last_activity_ms; /* ipm_mono_ms() of the last chat.send/read/absence */
    dg_timer *idle_timer;
} ipm_away;

bool away_active(const ipm_state *st)
{
    return st->away && st->away->on;
}

const char *away_text(const ipm_state *st)
{
    const ipm_away *a = st->away;
    const char *t = a && a->on && a->text ? a->text : st->cfg.absence_text;
    return t ? t : "";
}

const char *away_title(const ipm_state *st)
{
    const ipm_away *a = st->away;
    const char *t = a && a->on && a->title ? a->title : st->cfg.absence_title;
    return t ? t : "";
}

char *away_nickname(const ipm_state *st)
{
    return ipm_nick_decorate(st->nickname, away_active(st) ? away_title(st) : NULL);
}

json_t *away_json(const ipm_state *st)
{
    const ipm_away *a = st->away;
    uint64_t now = ipm_mono_ms();
    uint64_t idle = a && now > a->last_activity_ms ? now - a->last_activity_ms : 0;
    json_t *o =
        json_pack("{s:b, s:s, s:s, s:I, s:I}", "absent", away_active(st), "text", away_text(st),
                  "title", away_title(st), "idle_s", (json_int_t)(idle / 1000), "auto_absence_s",
                  (json_int_t)(st->cfg.auto_absence_ms / 1000));
    if (o && away_active(st)) {
        json_object_set_new(o, "reason", json_string(reason_names[a->reason]));
        json_object_set_new(o, "since", json_integer(a->since));
    }
    return o;
}

/* Peers learn the change from a BR_ABSENCE round (§4.2); local plugins from the bus. */
static void announce(ipm_state *st, const char *change)
{
    presence_round(st, IPMSG_BR_ABSENCE);
    json_t *ev = away_json(st);
    char *nick = away_nickname(st);
    if (ev) {
        json_object_set_new(ev, "change", json_string(change));
        json_object_set_new(ev, "nickname", json_string(nick ? nick : st->nickname));
        json_object_set_new(ev, "time", json_integer(ipm_now()));
        /* coalesce (docs/events.md): only the newest state matters. */
        st->api->publish(st->ctx, "presence.self.changed", ev);
    }
    free(nick);
    st->api->log(st->ctx, DG_LOG_INFO, "absence %s (%s)", away_active(st) ? "on" : "off", change);
}

static void clear_overrides(ipm_away *a)
{
    free(a->text);
    free(a->title);
    a->text = a->title = NULL;
}

static void go(ipm_state *st, bool on, away_reason reason, const char *change)
{
    ipm_away *a = st->away;
    if (on && !a->on)
        a->since = ipm_now();
    a->on = on;
    a->reason = reason;
    if (!on || reason != AWAY_MANUAL)
        clear_overrides(a);
    announce(st, change);
}

static void on_idle_check(dg_ctx *ctx, dg_timer *timer, void *user)
{
    ipm_state *st = user;
    ipm_away *a = st->away;
    uint64_t limit = (uint64_t)st->cfg.auto_absence_ms;
    if (!a->on && limit && ipm_mono_ms() - a->last_activity_ms >= limit)
        go(st, true, AWAY_IDLE, "idle");
}

/* Checks ten times per delay (100 ms to 10 s apart): late by a tenth at most. */
static void arm_idle(ipm_state *st)
{
    ipm_away *a = st->away;
    if (a->idle_timer)
        st->api->timer_cancel(st->ctx, a->idle_timer);
    a->idle_timer = NULL;
    uint64_t limit = (uint64_t)st->cfg.auto_absence_ms;
    if (!limit)
        return;
    uint64_t every = limit / 10;
    every = every < 100 ? 100 : every > 10000 ? 10000 : every;
    a->idle_timer = st->api->timer_add(st->ctx, every, every, on_idle_check, st, NULL);
    if (!a->idle_timer)
        st->api->log(st->ctx, DG_LOG_WARN, "cannot arm the auto-absence timer");
}

int away_init(ipm_state *st)
{
    ipm_away *a = calloc(1, sizeof(*a));
    if (!a)
        return -1;
    st->away = a;
    a->on = st->cfg.absent;
    a->reason = AWAY_CONFIG;
    a->since = a->on ? ipm_now() : 0;
    a->last_activity_ms = ipm_mono_ms(); /* starting the daemon counts as activity */
    arm_idle(st);
    return 0;
}

void away_free(ipm_state *st)
{
    if (!st->away)
        return;
    clear_overrides(st->away);
    free(st->away); /* the host removes the timer */
    st->away = NULL;
}

void away_set_manual(ipm_state *st, bool on, const char *text, const char *title)
{
    ipm_away *a = st->away;
    a->last_activity_ms = ipm_mono_ms();
    clear_overrides(a);
    if (on) {
        a->text = text ? strdup(text) : NULL;
        a->title = title ? strdup(title) : NULL;
    }
    go(st, on, AWAY_MANUAL, "manual");
}

void away_activity(ipm_state *st)
{
    ipm_away *a = st->away;
    a->last_activity_ms = ipm_mono_ms();
    if (a->on && a->reason == AWAY_IDLE)
        go(st, false, AWAY_IDLE, "activity");
}

void away_config_changed(ipm_state *st, const char *key)
{
    ipm_away *a = st->away;
    if (!strcmp(key, "ipmsg.absence")) {
        go(st, st->cfg.absent, AWAY_CONFIG, "config");
    } else if (!strcmp(key, "ipmsg.absence_text") || !strcmp(key, "ipmsg.absence_title")) {
        /* The title decorates the nickname; the text is what GETABSENCEINFO returns. */
        if (a->on && !(a->reason == AWAY_MANUAL && (a->text || a->title)))
            announce(st, "config");
    } else if (!strcmp(key, "ipmsg.auto_absence_minutes")) {
        arm_idle(st);
    }
}
