/*
 * Who this installation is. LAN key = logon name + host name (IP Messenger
 * compatibility). A UUID is created once and kept in <home>/data/identity.uuid
 * (0600), so copying the home folder to a new PC keeps the identity. The cloud
 * key is hex(SHA-256(uuid ":" tenant)).
 */
#ifndef DG_IDENTITY_H
#define DG_IDENTITY_H

#include <jansson.h>

typedef struct dg_identity {
    char user[128];
    char host[256];
    char lan_key[400]; /* "user@host" */
    char uuid[37];
    char tenant[128];
    char cloud_key[65];
    char nickname[128];
    char group[128];
} dg_identity;

/*
 * Loads or creates the UUID file in data_dir. user/host NULL = from the
 * system (getpwuid/LOGNAME, gethostname). nickname NULL/empty = user;
 * tenant NULL = "". Returns 0, or -1 with *err (new string).
 */
int dg_identity_load(dg_identity *id, const char *data_dir, const char *user, const char *host,
                     const char *tenant, const char *nickname, const char *group, char **err);
/*
 * Recomputes cloud key / updates names (config changes). Same meaning of the
 * arguments as in dg_identity_load: tenant NULL = "", nickname NULL/empty =
 * user, group NULL = "". Over-long values are cut (at a UTF-8 boundary) and
 * logged. user and host are kept (':' is replaced by ';' in both, and they are
 * never empty: "user" / "localhost").
 */
void dg_identity_update(dg_identity *id, const char *tenant, const char *nickname,
                        const char *group);
/* {"user","host","lan_key","uuid","tenant","cloud_key","nickname","group"}; new ref. */
json_t *dg_identity_to_json(const dg_identity *id);
/* Lower-case RFC 4122 text form check. */
int dg_uuid_valid(const char *text);

#endif
