#include "pins.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_fingerprint.h"
#include "ipmc_pubkey.h"

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS pins(peer TEXT PRIMARY KEY COLLATE NOCASE, capa INTEGER NOT NULL, "
    "pubkey TEXT NOT NULL, fingerprint TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen "
    "INTEGER NOT NULL, trust TEXT NOT NULL, new_capa INTEGER, new_pubkey TEXT, new_fingerprint "
    "TEXT, changed_at INTEGER);";

int pins_open(cr_state *st)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/crypto.db", st->api->data_dir(st->ctx));
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(st->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot open %s: %s", path,
                     st->db ? sqlite3_errmsg(st->db) : "out of memory");
        pins_close(st);
        return -1;
    }
    sqlite3_busy_timeout(st->db, 5000);
    return 0;
}

void pins_close(cr_state *st)
{
    if (st->db)
        sqlite3_close(st->db);
    st->db = NULL;
}

static sqlite3_stmt *prep(cr_state *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        st->api->log(st->ctx, DG_LOG_ERROR, "sql: %s", sqlite3_errmsg(st->db));
    return s;
}

static int run(cr_state *st, sqlite3_stmt *s)
{
    int rc = s && sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    if (s && rc != 0)
        st->api->log(st->ctx, DG_LOG_ERROR, "sql: %s", sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc;
}

void cr_fingerprint(const EVP_PKEY *key, char out[48])
{
    uint8_t mod[512], md[32];
    size_t len = 0;
    unsigned mdlen = 0;
    out[0] = '\0';
    if (ipmc_key_bits(key) == 2048 && ipmc_fingerprint_hex(key, out) == 0)
        return;
    if (ipmc_key_modulus(key, mod, sizeof mod, &len) != 0 ||
        !EVP_Digest(mod, len, md, &mdlen, EVP_sha256(), NULL))
        return;
    int n = snprintf(out, 48, "sha256:");
    for (unsigned i = 0; i < 16; i++)
        n += snprintf(out + n, (size_t)(48 - n), "%02x", md[i]);
}

/* Binds the wire form and fingerprint of key at columns i, i+1. */
static int bind_key(sqlite3_stmt *s, int i, const EVP_PKEY *key)
{
    char *wire = NULL, err[128], fp[48];
    if (ipmc_pubkey_to_wire(key, &wire, err, sizeof err) != 0)
        return -1;
    cr_fingerprint(key, fp);
    sqlite3_bind_text(s, i, wire, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, i + 1, fp, -1, SQLITE_TRANSIENT);
    free(wire);
    return 0;
}

int pins_add(cr_state *st, const cr_peer *p)
{
    sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO pins(peer, capa, pubkey, fingerprint, "
                               "first_seen, last_seen, trust) VALUES(?,?,?,?,?,?,'trusted')");
    if (!s || bind_key(s, 3, p->pub) != 0) {
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_bind_text(s, 1, p->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, p->capa);
    sqlite3_bind_int64(s, 5, cr_now());
    sqlite3_bind_int64(s, 6, cr_now());
    return run(st, s);
}

int pins_set_pending(cr_state *st, const cr_peer *p)
{
    sqlite3_stmt *s = prep(st, "UPDATE pins SET trust='changed', new_pubkey=?, "
                               "new_fingerprint=?, new_capa=?, changed_at=? WHERE peer=?");
    if (!s || bind_key(s, 1, p->pending) != 0) {
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_bind_int64(s, 3, p->pending_capa);
    sqlite3_bind_int64(s, 4, cr_now());
    sqlite3_bind_text(s, 5, p->key, -1, SQLITE_TRANSIENT);
    return run(st, s);
}

int pins_accept(cr_state *st, const cr_peer *p)
{
    sqlite3_stmt *s = prep(st, "UPDATE pins SET trust='trusted', capa=?, pubkey=?, fingerprint=?, "
                               "new_capa=NULL, new_pubkey=NULL, new_fingerprint=NULL, "
                               "changed_at=NULL, last_seen=? WHERE peer=?");
    if (!s || bind_key(s, 2, p->pub) != 0) {
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_bind_int64(s, 1, p->capa);
    sqlite3_bind_int64(s, 4, cr_now());
    sqlite3_bind_text(s, 5, p->key, -1, SQLITE_TRANSIENT);
    return run(st, s);
}

void pins_seen(cr_state *st, const cr_peer *p)
{
    sqlite3_stmt *s = prep(st, "UPDATE pins SET last_seen=? WHERE peer=?");
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, cr_now());
    sqlite3_bind_text(s, 2, p->key, -1, SQLITE_TRANSIENT);
    run(st, s);
}

static EVP_PKEY *col_key(cr_state *st, sqlite3_stmt *s, int i)
{
    const char *wire = (const char *)sqlite3_column_text(s, i);
    EVP_PKEY *k = NULL;
    char err[128];
    if (wire && ipmc_pubkey_from_wire(wire, strlen(wire), &k, err, sizeof err) != 0) {
        st->api->log(st->ctx, DG_LOG_WARN, "stored key unreadable: %s", err);
        k = NULL;
    }
    return k;
}

int pins_load(cr_state *st)
{
    sqlite3_stmt *s = prep(st, "SELECT peer, capa, pubkey, new_capa, new_pubkey FROM pins");
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cr_peer *p = calloc(1, sizeof *p);
        if (!p || !(p->key = strdup((const char *)sqlite3_column_text(s, 0)))) {
            free(p);
            sqlite3_finalize(s);
            return -1;
        }
        p->st = st;
        p->capa = (uint32_t)sqlite3_column_int64(s, 1);
        p->pub = col_key(st, s, 2);
        p->pending_capa = (uint32_t)sqlite3_column_int64(s, 3);
        p->pending = col_key(st, s, 4);
        p->next = st->peers;
        st->peers = p;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

json_t *pins_list_json(cr_state *st)
{
    json_t *a = json_array();
    sqlite3_stmt *s = prep(st, "SELECT peer, pubkey, fingerprint, trust, first_seen, last_seen, "
                               "new_pubkey, new_fingerprint, changed_at FROM pins ORDER BY peer");
    while (a && s && sqlite3_step(s) == SQLITE_ROW) {
        EVP_PKEY *k = col_key(st, s, 1);
        json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:I}", "peer",
                              (const char *)sqlite3_column_text(s, 0), "bits",
                              k ? (int)ipmc_key_bits(k) : 0, "fingerprint",
                              (const char *)sqlite3_column_text(s, 2), "trust",
                              (const char *)sqlite3_column_text(s, 3), "first_seen",
                              (json_int_t)sqlite3_column_int64(s, 4), "last_seen",
                              (json_int_t)sqlite3_column_int64(s, 5));
        EVP_PKEY_free(k);
        if (o && sqlite3_column_type(s, 7) != SQLITE_NULL) {
            EVP_PKEY *nk = col_key(st, s, 6);
            json_object_set_new(o, "new_fingerprint",
                                json_string((const char *)sqlite3_column_text(s, 7)));
            json_object_set_new(o, "new_bits", json_integer(nk ? ipmc_key_bits(nk) : 0));
            json_object_set_new(o, "changed_at", json_integer(sqlite3_column_int64(s, 8)));
            EVP_PKEY_free(nk);
        }
        json_array_append_new(a, o);
    }
    sqlite3_finalize(s);
    return a;
}
