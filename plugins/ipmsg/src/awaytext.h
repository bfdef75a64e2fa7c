/*
 * Pure helpers of absence mode (docs/ipmsg-protocol.md §4.2): the nickname
 * decoration Windows sends while absent, and the auto-absence delay as
 * configured. No I/O, unit-tested (tests/test_plugin_logic.c).
 */
#ifndef DG_IPM_AWAYTEXT_H
#define DG_IPM_AWAYTEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * "nick[title]", as Windows' GetNickNameEx builds it while absent: the
 * decoration goes in the entry packet's nickname field and in its NN: line.
 * With an empty or NULL title the nickname is sent as it is. New string
 * (free()), or NULL when out of memory.
 */
char *ipm_nick_decorate(const char *nick, const char *title);

/*
 * Length of nick[0..len) without a trailing "[title]" decoration: the
 * position of the '[' that opens the last bracket pair when the text ends
 * with ']' and a character other than a space precedes the '[' (Windows
 * writes "%s[%s]", no space). len when there is no decoration. Used only on
 * entries that carry ABSENCEOPT and do not come from iptux (which sets
 * ABSENCEOPT always and never decorates), so that a nickname of its own
 * like "Bob [IT]" is not cut.
 */
size_t ipm_nick_undecorated_len(const char *nick, size_t len);

/* The longest auto-absence delay accepted: one week. */
#define IPM_AWAY_MAX_MINUTES 10080

/*
 * ipmsg.auto_absence_minutes: a decimal number of minutes with at most three
 * fraction digits ("10", "0.5", "2.25"), surrounding spaces allowed, up to
 * IPM_AWAY_MAX_MINUTES. "" and "0" mean off (*ms = 0). Returns 0 and the delay
 * in milliseconds, or -1 for anything else.
 */
int ipm_parse_minutes(const char *s, int64_t *ms);

#endif
