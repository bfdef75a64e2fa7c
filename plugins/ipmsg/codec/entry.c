#include "entry.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

/* ---- parsing ---- */

static bool starts_nl(ipmsg_slice s)
{
    return s.len > 0 && s.ptr[0] == '\n';
}

/* "\nUN:a\nHN:b..." -> the known lines; unknown lines are ignored (as Windows
 * does) and a repeated key keeps the last value (Windows overwrites too). */
static void parse_block(ipmsg_slice block, ipmsg_entry_raw *out)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"UN:", offsetof(ipmsg_entry_raw, un)},
        {"HN:", offsetof(ipmsg_entry_raw, hn)},
        {"NN:", offsetof(ipmsg_entry_raw, nn)},
        {"GN:", offsetof(ipmsg_entry_raw, gn)},
        {"VS:", offsetof(ipmsg_entry_raw, vs)},
        {"IP:", offsetof(ipmsg_entry_raw, ip)},
        {"PL:", offsetof(ipmsg_entry_raw, pl)},
        {IPMSG_DG_UUID_KEY, offsetof(ipmsg_entry_raw, uuid)},
    };
    const char *p = block.ptr, *end = block.ptr + block.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            size_t kl = strlen(keys[k].key);
            if (n >= kl && memcmp(p, keys[k].key, kl) == 0) {
                ipmsg_slice *dst = (ipmsg_slice *)((char *)out + keys[k].off);
                dst->ptr = p + kl;
                dst->len = n - kl;
                break;
            }
        }
        p = nl ? nl + 1 : end;
    }
}

int ipmsg_entry_parse(const ipmsg_packet *pkt, ipmsg_entry_raw *out, ipmsg_error *err)
{
    if (!pkt || !out)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    memset(out, 0, sizeof(*out));
    if (!ipmsg_is_entry_cmd(pkt->command))
        return ipmsg_fail(err, IPMSG_E_INVAL, "not an entry-family command", 0);

    out->nick = pkt->extra;
    size_t n = pkt->n_sections < IPMSG_MAX_SECTIONS ? pkt->n_sections : IPMSG_MAX_SECTIONS;
    const ipmsg_slice *s = pkt->sections;
    /* Windows also accepts the block right after the nick (no group section). */
    if (n >= 1 && starts_nl(s[0])) {
        out->block = s[0];
    } else if (n >= 1) {
        out->group = s[0];
        if (n >= 2 && starts_nl(s[1])) {
            out->block = s[1];
        } else if (n >= 2) {
            out->iptux_icon = s[1];
            if (n >= 3)
                out->iptux_encoding = s[2];
        }
    }
    if (out->block.ptr)
        parse_block(out->block, out);
    return IPMSG_OK;
}

/* ---- decoding ---- */

bool ipmsg_uuid_valid(const char *s, size_t len)
{
    if (!s || len != IPMSG_UUID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool ipmsg_user_fingerprint(ipmsg_slice user, ipmsg_slice *base, ipmsg_slice *hex)
{
    const size_t tail = 2 + 16 + 1; /* "-<" 16 hex ">" */
    if (!user.ptr || user.len <= tail)
        return false;
    const char *t = user.ptr + user.len - tail;
    if (t[0] != '-' || t[1] != '<' || t[tail - 1] != '>')
        return false;
    for (size_t i = 2; i < 18; i++)
        if (!isxdigit((unsigned char)t[i]))
            return false;
    if (base)
        *base = (ipmsg_slice){user.ptr, user.len - tail};
    if (hex)
        *hex = (ipmsg_slice){t + 2, 16};
    return true;
}

void ipmsg_entry_clear(ipmsg_entry *e)
{
    if (!e)
        return;
    free(e->user);
    free(e->host);
    free(e->nick);
    free(e->group);
    free(e->version);
    free(e->iptux_encoding);
    memset(e, 0, sizeof(*e));
}

/* A block value wins when present and valid UTF-8 (non-empty if required). */
static bool block_usable(ipmsg_slice v, bool need_nonempty)
{
    return v.ptr && (!need_nonempty || v.len > 0) && ipmsg_utf8_valid(v.ptr, v.len);
}

static int pick(ipmsg_charset *cs, ipmsg_enc enc, ipmsg_slice legacy, ipmsg_slice block,
                bool need_nonempty, char **dst, ipmsg_entry *e, ipmsg_error *err)
{
    size_t rep = 0;
    int rc;
    if (block_usable(block, need_nonempty)) {
        rc = ipmsg_decode_slice(cs, IPMSG_ENC_UTF8, block, dst, &rep, err);
        e->from_block = true;
    } else {
        rc = ipmsg_decode_slice(cs, enc, legacy, dst, &rep, err);
    }
    e->replaced += rep;
    return rc;
}

static bool names_utf8(ipmsg_slice encoding)
{
    return ipmsg_slice_eq(encoding, "utf-8") || ipmsg_slice_eq(encoding, "UTF-8") ||
           ipmsg_slice_eq(encoding, "utf8") || ipmsg_slice_eq(encoding, "UTF8");
}

int ipmsg_entry_decode(const ipmsg_packet *pkt, ipmsg_charset *cs, ipmsg_entry *out,
                       ipmsg_error *err)
{
    if (!out)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    memset(out, 0, sizeof(*out));
    ipmsg_entry_raw raw;
    int rc = ipmsg_entry_parse(pkt, &raw, err);
    if (rc != IPMSG_OK)
        return rc;

    ipmsg_enc enc = ipmsg_packet_enc(pkt->command);
    if (enc == IPMSG_ENC_LEGACY && names_utf8(raw.iptux_encoding))
        enc = IPMSG_ENC_UTF8;
    ipmsg_slice none = {NULL, 0};
    out->status = pkt->opts;

    if ((rc = pick(cs, enc, pkt->user, raw.un, true, &out->user, out, err)) != IPMSG_OK ||
        (rc = pick(cs, enc, pkt->host, raw.hn, true, &out->host, out, err)) != IPMSG_OK ||
        (rc = pick(cs, enc, raw.nick, raw.nn, false, &out->nick, out, err)) != IPMSG_OK ||
        (rc = pick(cs, enc, raw.group, raw.gn, false, &out->group, out, err)) != IPMSG_OK)
        goto fail;
    if (raw.vs.ptr &&
        (rc = pick(cs, IPMSG_ENC_UTF8, raw.vs, none, false, &out->version, out, err)) != IPMSG_OK)
        goto fail;
    if (raw.iptux_encoding.ptr && (rc = pick(cs, IPMSG_ENC_UTF8, raw.iptux_encoding, none, false,
                                             &out->iptux_encoding, out, err)) != IPMSG_OK)
        goto fail;
    if (ipmsg_uuid_valid(raw.uuid.ptr, raw.uuid.len)) {
        for (size_t i = 0; i < IPMSG_UUID_LEN; i++)
            out->uuid[i] = (char)tolower((unsigned char)raw.uuid.ptr[i]);
        out->uuid[IPMSG_UUID_LEN] = '\0';
    }
    return IPMSG_OK;
fail:
    ipmsg_entry_clear(out);
    return rc;
}

/* ---- building ---- */

/* Appends "\n<key><value>" with the value sanitized to UTF-8 and CR/LF
 * turned into spaces; colon_to_semi for UN/HN (they must equal the header). */
static int put_line(char *out, size_t cap, size_t *len, const char *key, const char *value,
                    bool colon_to_semi)
{
    size_t kl = strlen(key);
    if (cap - *len < 1 + kl)
        return IPMSG_E_NOSPACE;
    out[(*len)++] = '\n';
    memcpy(out + *len, key, kl);
    *len += kl;
    size_t wrote = 0;
    const char *v = value ? value : "";
    int rc = ipmsg_encode_into(NULL, IPMSG_ENC_UTF8, v, strlen(v), out + *len, cap - *len, &wrote,
                               NULL, NULL);
    if (rc != IPMSG_OK)
        return rc;
    for (size_t i = *len; i < *len + wrote; i++) {
        if (out[i] == '\n' || out[i] == '\r')
            out[i] = ' ';
        else if (colon_to_semi && out[i] == ':')
            out[i] = ';';
    }
    *len += wrote;
    return IPMSG_OK;
}

int ipmsg_entry_build(const ipmsg_entry_msg *m, ipmsg_charset *cs, char *out, size_t cap,
                      size_t *out_len, ipmsg_error *err)
{
    if (!m || !out || !out_len)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    if (!ipmsg_is_entry_cmd(m->command))
        return ipmsg_fail(err, IPMSG_E_INVAL, "not an entry-family command", 0);
    if (ipmsg_is_broadcast_cmd(m->command) && (m->command & IPMSG_UTF8OPT))
        return ipmsg_fail(err, IPMSG_E_INVAL, "UTF8OPT must not be set on broadcasts", 0);
    if (m->uuid && !ipmsg_uuid_valid(m->uuid, strlen(m->uuid)))
        return ipmsg_fail(err, IPMSG_E_INVAL, "invalid dengon UUID", 0);

    bool block = m->names_block || m->version || m->uuid;
    const char *group = m->group ? m->group : "";
    ipmsg_part sect = ipmsg_text(group);
    ipmsg_build_in in = {
        .packet_no = m->packet_no,
        .command = m->command,
        .user = ipmsg_text(m->user),
        .host = ipmsg_text(m->host),
        .extra = ipmsg_text(m->nick ? m->nick : ""),
        .sections = &sect,
        /* Like Windows: "nick\0" alone when there is neither group nor block. */
        .n_sections = (block || *group) ? 1 : 0,
    };
    size_t len = 0;
    int rc = ipmsg_build(&in, cs, out, cap, &len, err);
    if (rc != IPMSG_OK)
        return rc;
    if (m->names_block) {
        if ((rc = put_line(out, cap, &len, "UN:", m->user, true)) != IPMSG_OK ||
            (rc = put_line(out, cap, &len, "HN:", m->host, true)) != IPMSG_OK ||
            (rc = put_line(out, cap, &len, "NN:", m->nick, false)) != IPMSG_OK ||
            (rc = put_line(out, cap, &len, "GN:", group, false)) != IPMSG_OK)
            return ipmsg_fail(err, rc, "UTF-8 block does not fit", len);
    }
    if (m->version && (rc = put_line(out, cap, &len, "VS:", m->version, false)) != IPMSG_OK)
        return ipmsg_fail(err, rc, "UTF-8 block does not fit", len);
    if (m->uuid && (rc = put_line(out, cap, &len, IPMSG_DG_UUID_KEY, m->uuid, false)) != IPMSG_OK)
        return ipmsg_fail(err, rc, "UTF-8 block does not fit", len);
    *out_len = len;
    return IPMSG_OK;
}
