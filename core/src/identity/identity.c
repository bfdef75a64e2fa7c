/*
 * Identity: names from the system, a UUID kept in the home folder, and the
 * cloud key derived from both.
 *
 * The UUID file is the one piece that must never be replaced behind the
 * user's back: a new UUID makes peers see a second person (the "ghost user"
 * of other LAN messengers). So a damaged file is an error that names the file,
 * and creation uses link(2), which fails if another process created the file
 * first, instead of a rename that would overwrite it.
 */
#include "identity/identity.h"

#include "util/fs.h"
#include "util/log.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UUID_FILE "identity.uuid"
#define UUID_LEN 36

static int fail(char **err, const char *fmt, ...) DG_PRINTF(2, 3);
static int fail(char **err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(err, fmt, ap) < 0)
            *err = NULL;
        va_end(ap);
    }
    return -1;
}

/* Copies src into dst[size], cut at a UTF-8 character boundary. 1 if it was cut. */
static int copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    int cut = n >= size;
    if (cut) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--; /* do not end inside a multi-byte character */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return cut;
}

/* IPMsg separates packet fields with ':' and has no escape, so names cannot hold one. */
static void replace_colons(char *s)
{
    for (; *s; s++)
        if (*s == ':')
            *s = ';';
}

static void set_name(char *dst, size_t size, const char *src, const char *fallback)
{
    copy_cut(dst, size, src && *src ? src : fallback);
    replace_colons(dst);
    if (!*dst)
        copy_cut(dst, size, fallback);
}

static const char *system_user(void)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        return pw->pw_name;
    const char *env = getenv("LOGNAME");
    if (env && *env)
        return env;
    return getenv("USER");
}

/* Short host name: IPMsg peers show it, and the domain part only adds noise. */
static void system_host(char *buf, size_t size)
{
    if (gethostname(buf, size) != 0)
        buf[0] = '\0';
    buf[size - 1] = '\0'; /* gethostname may not terminate a truncated name */
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = '\0';
}

int dg_uuid_valid(const char *text)
{
    if (!text || strlen(text) != UUID_LEN)
        return 0;
    for (int i = 0; i < UUID_LEN; i++) {
        char c = text[i];
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

static int uuid_generate_v4(char out[UUID_LEN + 1])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

/* Reads and checks the file. 0 ok, 1 absent, -1 error (*err set). */
static int read_uuid(const char *path, char out[UUID_LEN + 1], char **err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = dg_read_file(path, 4096, &text, &len);
    if (rc == -ENOENT)
        return 1;
    if (rc != 0)
        return fail(err, "%s: %s", path, strerror(-rc));
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = '\0'; /* a trailing newline from an editor is fine */
    int ok = dg_uuid_valid(text);
    if (ok)
        memcpy(out, text, UUID_LEN + 1);
    free(text);
    if (!ok)
        return fail(err,
                    "%s: not a valid identity UUID (expected one line like "
                    "1b4e28ba-2fa1-41d2-883f-0016d3cca427). Restore it from a backup; deleting "
                    "it creates a new identity that other users will see as a different person",
                    path);
    return 0;
}

static char *tmp_name(const char *path)
{
    char *out = NULL;
    if (asprintf(&out, "%s.new.%ld", path, (long)getpid()) < 0)
        return NULL;
    return out;
}

/* Writes a temp file, then link()s it: never replaces a file another process made. */
static int create_uuid(const char *path, char out[UUID_LEN + 1], char **err)
{
    char uuid[UUID_LEN + 2];
    if (uuid_generate_v4(uuid) != 0)
        return fail(err, "cannot create an identity UUID: no randomness from OpenSSL");
    char *tmp = tmp_name(path);
    if (!tmp)
        return fail(err, "out of memory");
    strcat(uuid, "\n");
    int rc = dg_write_file_atomic(tmp, uuid, UUID_LEN + 1, 0600);
    if (rc == 0 && link(tmp, path) != 0)
        rc = -errno;
    unlink(tmp);
    free(tmp);
    /* Losing the new file to a power cut would mint another UUID: a ghost user. */
    if (rc == 0)
        rc = dg_fsync_parent(path);
    if (rc == -EEXIST) /* lost a race: use the winner's identity */
        return read_uuid(path, out, err) == 0 ? 0 : -1;
    if (rc != 0)
        return fail(err, "cannot create %s: %s", path, strerror(-rc));
    memcpy(out, uuid, UUID_LEN);
    out[UUID_LEN] = '\0';
    dg_log(DG_LOG_INFO, "core", "created identity %s in %s", out, path);
    return 0;
}

static int load_uuid(const char *data_dir, char out[UUID_LEN + 1], char **err)
{
    char *path = dg_path_join(data_dir, UUID_FILE);
    if (!path)
        return fail(err, "out of memory");
    int rc = read_uuid(path, out, err);
    if (rc == 1) {
        int mk = dg_mkdir_p(data_dir, 0700);
        rc = mk == 0 ? create_uuid(path, out, err)
                     : fail(err, "cannot create %s: %s", data_dir, strerror(-mk));
    }
    free(path);
    return rc;
}

static void compute_cloud_key(dg_identity *id)
{
    char input[sizeof id->uuid + 1 + sizeof id->tenant];
    int n = snprintf(input, sizeof input, "%s:%s", id->uuid, id->tenant);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    id->cloud_key[0] = '\0';
    if (n < 0 || EVP_Digest(input, (size_t)n, md, &md_len, EVP_sha256(), NULL) != 1 ||
        md_len != 32) {
        dg_log(DG_LOG_ERROR, "core", "SHA-256 failed: cloud key unavailable");
        return;
    }
    for (unsigned i = 0; i < md_len; i++)
        snprintf(id->cloud_key + 2 * i, 3, "%02x", md[i]);
}

static void set_text(char *dst, size_t size, const char *src, const char *what)
{
    if (copy_cut(dst, size, src ? src : ""))
        dg_log(DG_LOG_WARN, "core", "identity %s longer than %zu bytes, cut", what, size - 1);
}

void dg_identity_update(dg_identity *id, const char *tenant, const char *nickname,
                        const char *group)
{
    if (!id)
        return;
    set_text(id->tenant, sizeof id->tenant, tenant, "tenant");
    set_text(id->nickname, sizeof id->nickname, nickname && *nickname ? nickname : id->user,
             "nickname");
    set_text(id->group, sizeof id->group, group, "group");
    compute_cloud_key(id);
}

int dg_identity_load(dg_identity *id, const char *data_dir, const char *user, const char *host,
                     const char *tenant, const char *nickname, const char *group, char **err)
{
    if (!id || !data_dir)
        return fail(err, "invalid arguments");
    memset(id, 0, sizeof *id);
    if (load_uuid(data_dir, id->uuid, err) != 0)
        return -1;
    set_name(id->user, sizeof id->user, user ? user : system_user(), "user");
    if (host) {
        set_name(id->host, sizeof id->host, host, "localhost");
    } else {
        char buf[sizeof id->host];
        system_host(buf, sizeof buf);
        set_name(id->host, sizeof id->host, buf, "localhost");
    }
    snprintf(id->lan_key, sizeof id->lan_key, "%s@%s", id->user, id->host);
    dg_identity_update(id, tenant, nickname, group);
    return 0;
}

json_t *dg_identity_to_json(const dg_identity *id)
{
    if (!id)
        return NULL;
    /* Names come from the system and config; keep the object even if one is not UTF-8. */
    json_t *o = json_object();
    const struct {
        const char *name, *value;
    } fields[] = {{"user", id->user},         {"host", id->host},     {"lan_key", id->lan_key},
                  {"uuid", id->uuid},         {"tenant", id->tenant}, {"cloud_key", id->cloud_key},
                  {"nickname", id->nickname}, {"group", id->group}};
    for (size_t i = 0; o && i < sizeof fields / sizeof fields[0]; i++) {
        json_t *v = json_string(fields[i].value);
        if (!v)
            v = json_stringn_nocheck("?", 1);
        json_object_set_new(o, fields[i].name, v);
    }
    return o;
}
