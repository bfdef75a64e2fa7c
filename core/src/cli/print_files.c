/*
 * Human output of the file transfer commands (files.* methods,
 * docs/protocol/files-plugin.md). Missing fields fall back to "?".
 */
#include "cli/print.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *field(const json_t *o, const char *key)
{
    const char *v = cli_nonempty_field(o, key);
    return v ? v : "?";
}

void cli_print_files_sent(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result)
{
    printf("offer %lld sent: %zu item(s), %lld bytes\n",
           (long long)json_integer_value(json_object_get(result, "id")),
           json_array_size(json_object_get(result, "files")),
           (long long)json_integer_value(json_object_get(result, "total")));
}

void cli_print_files_id(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result)
{
    const json_t *share = json_object_get(result, "share");
    if (share) {
        printf("withdrew offer %lld (%lld transfer(s) stopped)\n",
               (long long)json_integer_value(share),
               (long long)json_integer_value(json_object_get(result, "stopped")));
        return;
    }
    printf("%s %lld\n",
           strcmp(cmd->name, "accept") == 0   ? "downloading offer"
           : strcmp(cmd->name, "cancel") == 0 ? "cancelled the download of offer"
                                              : "rejected offer",
           (long long)json_integer_value(json_object_get(result, "id")));
}

/* "1.5 GiB", "12.0 MiB", "512 B". */
static void size_text(double v, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static long long mono_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

void cli_print_files_progress(cli_progress_state *ps, const json_t *p)
{
    long long bytes = json_integer_value(json_object_get(p, "bytes"));
    long long total = json_integer_value(json_object_get(p, "total"));
    long long rate = json_integer_value(json_object_get(p, "rate"));
    if (!ps->tty) {
        long long now = mono_sec();
        if (ps->drawn && now == ps->last_sec)
            return;
        ps->last_sec = now;
    }
    char b[32], t[32], r[32], eta[32] = "";
    size_text((double)bytes, b, sizeof b);
    size_text((double)total, t, sizeof t);
    size_text((double)rate, r, sizeof r);
    /* Folders announce no size (total counts regular files only): no bar, no ETA. */
    int known = total > 0 && bytes <= total;
    if (known && rate > 0) {
        long long s = (total - bytes) / rate;
        snprintf(eta, sizeof eta, "ETA %lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    }
    if (ps->tty) {
        char bar[31];
        int fill = known ? (int)(bytes * 30 / total) : 0;
        for (int i = 0; i < 30; i++)
            bar[i] = known ? (i < fill ? '#' : '-') : ' ';
        bar[30] = '\0';
        printf("\r[%s] %3lld%%  %s / %s  %s/s  %s\033[K", bar, known ? bytes * 100 / total : 0, b,
               known ? t : "?", r, eta);
    } else {
        printf("%lld%%  %lld/%lld bytes  %s/s  %s\n", known ? bytes * 100 / total : 0, bytes, total,
               r, eta);
    }
    ps->drawn = 1;
    fflush(stdout);
}

void cli_print_files_end(cli_progress_state *ps, const json_t *end)
{
    if (ps->tty && ps->drawn)
        printf("\n");
    const char *state = json_string_value(json_object_get(end, "state"));
    char b[32];
    size_text((double)json_integer_value(json_object_get(end, "bytes")), b, sizeof b);
    if (state && !strcmp(state, "done"))
        printf("offer %lld done: %s\n", (long long)json_integer_value(json_object_get(end, "id")),
               b);
    else
        printf("offer %lld %s\n", (long long)json_integer_value(json_object_get(end, "id")),
               state ? state : "?");
}

/* The names in an attach list "<id>:<name>:...:\a" (first 3, then "..."). */
static void names(const char *attach)
{
    int n = 0;
    for (const char *p = attach; p && *p && n < 4; n++) {
        const char *s = strchr(p, ':');
        if (!s)
            break;
        const char *e = s + 1;
        while (*e && !(e[0] == ':' && e[1] != ':'))
            e += e[0] == ':' ? 2 : 1;
        printf("%s%.*s", n ? ", " : "  ", n < 3 ? (int)(e - s - 1) : 3, n < 3 ? s + 1 : "...");
        const char *next = strchr(e, '\a');
        p = next ? next + 1 : NULL;
        while (p && *p == ':')
            p++;
    }
}

void cli_print_files(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result)
{
    const json_t *offers = json_object_get(result, "offers");
    const json_t *dls = json_object_get(result, "downloads");
    const json_t *shares = json_object_get(result, "shares");
    size_t i;
    const json_t *o;
    if (json_array_size(offers) == 0)
        printf("no offers received\n");
    json_array_foreach(offers, i, o)
    {
        printf("%4lld  %-11s %s", (long long)json_integer_value(json_object_get(o, "id")),
               field(o, "state"), field(o, "from"));
        names(json_string_value(json_object_get(o, "attachments")));
        const json_t *d;
        size_t k;
        json_array_foreach(dls, k, d)
        {
            if (json_integer_value(json_object_get(d, "id")) !=
                json_integer_value(json_object_get(o, "id")))
                continue;
            long long b = json_integer_value(json_object_get(d, "bytes"));
            long long t = json_integer_value(json_object_get(d, "total"));
            printf("  %lld/%lld bytes (%lld%%)", b, t, t > 0 ? b * 100 / t : 0);
        }
        /* Known for downloads of this daemon run (files-encryption.md). */
        const json_t *enc = json_object_get(o, "encrypted");
        if (json_is_boolean(enc))
            printf("  [%s]", json_is_true(enc) ? "encrypted" : "not encrypted");
        if (cli_nonempty_field(o, "error"))
            printf("\n      %s", field(o, "error"));
        printf("\n");
    }
    json_array_foreach(shares, i, o)
    {
        printf("sent %lld: %zu item(s) to %zu recipient(s), still fetchable\n",
               (long long)json_integer_value(json_object_get(o, "id")),
               json_array_size(json_object_get(o, "files")),
               json_array_size(json_object_get(o, "recipients")));
    }
}
