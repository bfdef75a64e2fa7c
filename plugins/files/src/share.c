#include "share.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "ipmsg_proto.h"
#include "sockio.h"
#include "store.h"

/* Largest attach list we send: it must fit a datagram with the text (§1.1). */
#define ATTACH_MAX 16384

static void share_free(fl_share *s)
{
    for (size_t i = 0; i < s->nf; i++) {
        free(s->f[i].path);
        free(s->f[i].name);
    }
    for (size_t i = 0; i < s->nr; i++) {
        free(s->r[i].key);
        free(s->r[i].state);
    }
    free(s->f);
    free(s->r);
    free(s);
}

/* What a restarted daemon needs to serve the share again (states are not
 * kept: after a restart every file is fetchable again, so a cut transfer can
 * resume from the receiver's offset). */
static json_t *share_def(const fl_share *s)
{
    json_t *files = json_array(), *rs = json_array();
    for (size_t i = 0; i < s->nf; i++)
        json_array_append_new(
            files, json_pack("{s:I, s:s, s:s, s:b, s:I, s:I}", "id", (json_int_t)s->f[i].id, "path",
                             s->f[i].path, "name", s->f[i].name, "dir", s->f[i].dir, "size",
                             (json_int_t)s->f[i].size, "mtime", (json_int_t)s->f[i].mtime));
    for (size_t r = 0; r < s->nr; r++)
        json_array_append_new(
            rs, json_pack("{s:s, s:I}", "key", s->r[r].key, "ip", (json_int_t)s->r[r].ip));
    return json_pack("{s:o, s:o}", "files", files, "recipients", rs);
}

/* Unlinks and frees a share, and forgets it in the store (st->lock held). */
static void share_remove(fl_state *st, fl_share **link)
{
    fl_share *s = *link;
    *link = s->next;
    store_share_del(st, s->packet_no);
    share_free(s);
}

/* Extension rule: listed in "exe, bat,.cmd" (case-insensitive, dots optional). */
static bool ext_listed(const char *list, const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!list || !*list || !dot || dot == name)
        return false;
    const char *ext = dot + 1;
    size_t el = strlen(ext);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',' || *p == '.')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t l = (size_t)(e - p);
        while (l > 0 && p[l - 1] == ' ')
            l--;
        if (l == el && l > 0 && strncasecmp(p, ext, l) == 0)
            return true;
        p = e;
    }
    return false;
}

static int check_name(const fl_state *st, const char *name, char *err, size_t errlen)
{
    if (ext_listed(st->cfg.blocked, name)) {
        snprintf(err, errlen, "%s: blocked extension (files.blocked_extensions)", name);
        return -1;
    }
    if (st->cfg.allowed && *st->cfg.allowed && !ext_listed(st->cfg.allowed, name)) {
        snprintf(err, errlen, "%s: extension not allowed (files.allowed_extensions)", name);
        return -1;
    }
    return 0;
}

/* Walks a folder (symlinks not followed, like the server) adding sizes and
 * checking extension rules of every file. */
static int walk_dir(const fl_state *st, int dirfd, const char *path, int depth, uint64_t *total,
                    char *err, size_t errlen)
{
    if (depth > 64) {
        snprintf(err, errlen, "%s: folders nested too deep (64 levels at most)", path);
        return -1;
    }
    DIR *d = fdopendir(dirfd);
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(dirfd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat sb;
        if (fstatat(dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(sb.st_mode)) {
            *total += (uint64_t)sb.st_size;
            rc = check_name(st, e->d_name, err, errlen);
        } else if (S_ISDIR(sb.st_mode)) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                rc = walk_dir(st, sub, e->d_name, depth + 1, total, err, errlen);
        }
    }
    closedir(d);
    return rc;
}

/* One path of files.send into f; total grows by its size. */
static int add_path(const fl_state *st, const char *path, uint32_t id, fl_sfile *f, uint64_t *total,
                    char *err, size_t errlen)
{
    if (path[0] != '/') {
        snprintf(err, errlen, "%s: not an absolute path", path);
        return -1;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    const char *base = path + len;
    while (base > path && base[-1] != '/')
        base--;
    f->id = id;
    f->path = strndup(path, len);
    f->name = strndup(base, (size_t)(path + len - base));
    f->mtime = (int64_t)sb.st_mtime;
    if (!f->path || !f->name || !*f->name) {
        snprintf(err, errlen, "%s: no file name", path);
        return -1;
    }
    if (S_ISREG(sb.st_mode)) {
        f->size = (uint64_t)sb.st_size;
        *total += f->size;
        return check_name(st, f->name, err, errlen);
    }
    if (S_ISDIR(sb.st_mode)) {
        f->dir = true;
        int fd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        /* Announced as the folder's size (the bytes of its regular files), as
         * iptux does: Windows writes 0, but iptux takes a folder of size 0 as
         * received already and never fetches it. Receivers use it for progress. */
        uint64_t before = *total;
        int rc = walk_dir(st, fd, f->path, 0, total, err, errlen);
        f->size = *total - before;
        return rc;
    }
    snprintf(err, errlen, "%s: neither a regular file nor a folder", path);
    return -1;
}

/* Recipient's address from the transport (users.get's "address" or the address itself). */
static int rcpt_ip(fl_state *st, const char *who, uint32_t *ip, char **key)
{
    json_t *u = st->t->user_get(st->t->self, who);
    const char *addr = u ? json_string_value(json_object_get(u, "address")) : NULL;
    const char *k = u ? json_string_value(json_object_get(u, "key")) : NULL;
    uint16_t port;
    int rc = -1;
    if (addr && fl_parse_addr(addr, ip, &port) == 0) {
        rc = 0;
    } else if (!u) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s%s", who, strchr(who, ':') ? "" : ":1");
        rc = fl_parse_addr(buf, ip, &port);
    }
    *key = strdup(k ? k : who);
    json_decref(u);
    return rc == 0 && *key ? 0 : -1;
}

json_t *share_send(fl_state *st, const json_t *to, const json_t *paths, const char *text, char *err,
                   size_t errlen)
{
    if (!st->listening) {
        snprintf(err, errlen,
                 "the file service is not listening (see the log): cannot offer files");
        return NULL;
    }
    size_t nr = json_is_array(to) ? json_array_size(to) : json_is_string(to) ? 1 : 0;
    size_t nf = json_array_size(paths);
    if (nr == 0 || nf == 0) {
        snprintf(err, errlen, "'to' (a recipient or a list) and 'paths' (a list) are required");
        return NULL;
    }
    if (nf > 1000) {
        snprintf(err, errlen, "at most 1000 paths per offer (send folders instead)");
        return NULL;
    }
    fl_share *s = calloc(1, sizeof(*s));
    const char **tos = calloc(nr, sizeof(*tos));
    dg_attach_entry *ents = calloc(nf, sizeof(*ents));
    char *list = malloc(ATTACH_MAX + 1);
    json_t *result = NULL;
    if (!s || !tos || !ents || !list || !(s->f = calloc(nf, sizeof(*s->f))) ||
        !(s->r = calloc(nr, sizeof(*s->r)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < nf; i++) {
        const char *p = json_string_value(json_array_get(paths, i));
        s->nf = i + 1;
        if (!p) {
            snprintf(err, errlen, "paths[%zu] is not a string", i);
            goto fail;
        }
        if (add_path(st, p, (uint32_t)i, &s->f[i], &total, err, errlen) != 0)
            goto fail;
        ents[i] = (dg_attach_entry){
            .file_id = (uint32_t)i,
            .name = s->f[i].name,
            .name_len = strlen(s->f[i].name),
            .size = s->f[i].size,
            .mtime = (uint64_t)s->f[i].mtime,
            .attr = s->f[i].dir ? IPMSG_FILE_DIR : IPMSG_FILE_REGULAR,
        };
    }
    if (st->cfg.max_size && total > st->cfg.max_size) {
        snprintf(err, errlen, "%llu bytes: more than files.max_size (%llu)",
                 (unsigned long long)total, (unsigned long long)st->cfg.max_size);
        goto fail;
    }
    size_t list_len;
    ipmsg_error ierr = {0};
    if (dg_attach_format(ents, nf, list, ATTACH_MAX, &list_len, &ierr) != IPMSG_OK) {
        snprintf(err, errlen, "cannot build the attach list: %s",
                 ierr.reason ? ierr.reason : "too many or too long names for one datagram");
        goto fail;
    }
    list[list_len] = '\0';
    for (size_t i = 0; i < nr; i++) {
        const char *who =
            json_is_string(to) ? json_string_value(to) : json_string_value(json_array_get(to, i));
        s->nr = i + 1;
        if (!who) {
            snprintf(err, errlen, "to[%zu] is not a string", i);
            goto fail;
        }
        tos[i] = who;
        if (rcpt_ip(st, who, &s->r[i].ip, &s->r[i].key) != 0) {
            snprintf(err, errlen, "%s: unknown user (no address to serve files to)", who);
            goto fail;
        }
        if (!(s->r[i].state = calloc(nf, 1))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    /* The packet number is known only once sent, and a fast peer (auto-accept
     * on loopback) may ask at once: serving threads wait on the lock until the
     * share is in the table. send_files does not block. */
    pthread_mutex_lock(&st->lock);
    uint32_t no = st->t->send_files(st->t->self, tos, nr, text ? text : "", list, err, errlen);
    if (no) {
        s->packet_no = no;
        s->created = fl_now();
        s->next = st->shares;
        st->shares = s;
        json_t *def = share_def(s);
        if (!def || store_share_put(st, no, s->created, def) != 0)
            st->api->log(st->ctx, DG_LOG_WARN,
                         "offer %u not recorded: it is not served after a restart", no);
        json_decref(def);
    }
    pthread_mutex_unlock(&st->lock);
    if (!no)
        goto fail;
    json_t *files = json_array();
    for (size_t i = 0; i < nf; i++)
        json_array_append_new(files,
                              json_pack("{s:I, s:s, s:s, s:I}", "file_id", (json_int_t)s->f[i].id,
                                        "name", s->f[i].name, "type", s->f[i].dir ? "dir" : "file",
                                        "size", (json_int_t)s->f[i].size));
    result = json_pack("{s:I, s:I, s:o}", "id", (json_int_t)no, "total", (json_int_t)total, "files",
                       files);
    s = NULL;
fail:
    if (s)
        share_free(s);
    free(tos);
    free(ents);
    free(list);
    return result;
}

static fl_share *find(fl_state *st, uint32_t packet_no, fl_share ***link)
{
    for (fl_share **pp = &st->shares; *pp; pp = &(*pp)->next)
        if ((*pp)->packet_no == packet_no) {
            if (link)
                *link = pp;
            return *pp;
        }
    return NULL;
}

static bool all_done(const fl_share *s)
{
    for (size_t i = 0; i < s->nr; i++)
        for (size_t j = 0; j < s->nf; j++)
            if (s->r[i].state[j] != FL_DONE)
                return false;
    return true;
}

/* The recipient r of s that may fetch: by its key when the request was
 * signed by it (§6.6: from any address), else by the address it connects from. */
static bool rcpt_matches(const fl_rcpt *r, uint32_t ip, const char *key)
{
    return key ? strcasecmp(r->key, key) == 0 : r->ip == ip;
}

int share_claim(fl_state *st, uint32_t packet_no, uint32_t file_id, uint32_t ip, const char *key,
                int kind, char **path, char **name, bool *is_dir, char *err, size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&st->lock);
    fl_share *s = find(st, packet_no, NULL);
    size_t r = 0;
    while (s && r < s->nr && !rcpt_matches(&s->r[r], ip, key))
        r++;
    if (!s)
        snprintf(err, errlen, "no offer %u (released, expired or never made)", packet_no);
    else if (r == s->nr)
        snprintf(err, errlen, "offer %u was not sent to %s", packet_no, key ? key : "this address");
    else if (file_id >= s->nf)
        snprintf(err, errlen, "offer %u has no file %u", packet_no, file_id);
    else if (kind != FL_KIND_ANY && s->f[file_id].dir != (kind == FL_KIND_DIR))
        snprintf(err, errlen, "file %u of offer %u is %s", file_id, packet_no,
                 kind == FL_KIND_DIR ? "not a folder" : "a folder");
    else if (s->r[r].state[file_id] != FL_FREE) {
        snprintf(err, errlen, "file %u of offer %u is %s", file_id, packet_no,
                 s->r[r].state[file_id] == FL_BUSY ? "being sent" : "already sent");
        rc = s->r[r].state[file_id] == FL_BUSY ? FL_CLAIM_BUSY : -1;
    } else if (!(*path = strdup(s->f[file_id].path)) || !(*name = strdup(s->f[file_id].name))) {
        free(*path);
        *path = NULL;
        snprintf(err, errlen, "out of memory");
    } else {
        s->r[r].state[file_id] = FL_BUSY;
        *is_dir = s->f[file_id].dir;
        rc = 0;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void share_release_claim(fl_state *st, uint32_t packet_no, uint32_t file_id, uint32_t ip,
                         const char *key, bool ok)
{
    pthread_mutex_lock(&st->lock);
    fl_share **link;
    fl_share *s = find(st, packet_no, &link);
    for (size_t r = 0; s && r < s->nr; r++)
        if (rcpt_matches(&s->r[r], ip, key) && file_id < s->nf && s->r[r].state[file_id] == FL_BUSY)
            s->r[r].state[file_id] = ok ? FL_DONE : FL_FREE;
    if (s && all_done(s))
        share_remove(st, link);
    pthread_mutex_unlock(&st->lock);
}

void share_on_released(fl_state *st, uint32_t packet_no, const char *key, uint32_t ip)
{
    pthread_mutex_lock(&st->lock);
    fl_share **link;
    fl_share *s = find(st, packet_no, &link);
    bool left = false;
    for (size_t r = 0; s && r < s->nr; r++) {
        if (s->r[r].ip == ip || (key && strcasecmp(s->r[r].key, key) == 0))
            for (size_t j = 0; j < s->nf; j++)
                if (s->r[r].state[j] == FL_FREE)
                    s->r[r].state[j] = FL_DONE; /* gave up: nothing more for them */
        for (size_t j = 0; j < s->nf; j++)
            left |= s->r[r].state[j] != FL_DONE;
    }
    if (s && !left)
        share_remove(st, link);
    pthread_mutex_unlock(&st->lock);
}

int share_drop(fl_state *st, uint32_t packet_no)
{
    pthread_mutex_lock(&st->lock);
    fl_share **link;
    fl_share *s = find(st, packet_no, &link);
    if (s)
        share_remove(st, link);
    pthread_mutex_unlock(&st->lock);
    return s ? 0 : -1;
}

void share_expire(fl_state *st)
{
    if (st->cfg.expire_s <= 0)
        return;
    int64_t now = fl_now();
    pthread_mutex_lock(&st->lock);
    for (fl_share **pp = &st->shares; *pp;) {
        fl_share *s = *pp;
        if (now - s->created > st->cfg.expire_s) {
            share_remove(st, pp);
        } else {
            pp = &s->next;
        }
    }
    pthread_mutex_unlock(&st->lock);
}

static const char *state_name(uint8_t v)
{
    return v == FL_DONE ? "sent" : v == FL_BUSY ? "sending" : "waiting";
}

json_t *share_list_json(fl_state *st)
{
    json_t *out = json_array();
    pthread_mutex_lock(&st->lock);
    for (fl_share *s = st->shares; s; s = s->next) {
        json_t *files = json_array(), *rs = json_array();
        for (size_t i = 0; i < s->nf; i++)
            json_array_append_new(
                files, json_pack("{s:I, s:s, s:s, s:s, s:I}", "file_id", (json_int_t)s->f[i].id,
                                 "name", s->f[i].name, "path", s->f[i].path, "type",
                                 s->f[i].dir ? "dir" : "file", "size", (json_int_t)s->f[i].size));
        for (size_t r = 0; r < s->nr; r++) {
            json_t *sts = json_array();
            for (size_t i = 0; i < s->nf; i++)
                json_array_append_new(sts, json_string(state_name(s->r[r].state[i])));
            json_array_append_new(rs, json_pack("{s:s, s:o}", "key", s->r[r].key, "files", sts));
        }
        json_array_append_new(out, json_pack("{s:I, s:I, s:o, s:o}", "id", (json_int_t)s->packet_no,
                                             "time", (json_int_t)s->created, "files", files,
                                             "recipients", rs));
    }
    pthread_mutex_unlock(&st->lock);
    return out;
}

void share_free_all(fl_state *st)
{
    while (st->shares) {
        fl_share *s = st->shares;
        st->shares = s->next;
        share_free(s);
    }
}

/* One stored share back into the table; NULL when damaged. */
static fl_share *share_from_def(const json_t *row)
{
    const json_t *def = json_object_get(row, "def");
    const json_t *files = json_object_get(def, "files"), *rs = json_object_get(def, "recipients");
    size_t nf = json_array_size(files), nr = json_array_size(rs);
    fl_share *s = nf && nr ? calloc(1, sizeof(*s)) : NULL;
    if (!s || !(s->f = calloc(nf, sizeof(*s->f))) || !(s->r = calloc(nr, sizeof(*s->r)))) {
        if (s)
            share_free(s);
        return NULL;
    }
    s->packet_no = (uint32_t)json_integer_value(json_object_get(row, "packet_no"));
    s->created = (int64_t)json_integer_value(json_object_get(row, "created"));
    bool ok = true;
    for (size_t i = 0; i < nf; i++) {
        const json_t *f = json_array_get(files, i);
        const char *path = json_string_value(json_object_get(f, "path"));
        const char *name = json_string_value(json_object_get(f, "name"));
        s->nf = i + 1;
        s->f[i].id = (uint32_t)json_integer_value(json_object_get(f, "id"));
        s->f[i].path = path ? strdup(path) : NULL;
        s->f[i].name = name ? strdup(name) : NULL;
        s->f[i].dir = json_is_true(json_object_get(f, "dir"));
        s->f[i].size = (uint64_t)json_integer_value(json_object_get(f, "size"));
        s->f[i].mtime = (int64_t)json_integer_value(json_object_get(f, "mtime"));
        ok &= s->f[i].path && s->f[i].name && s->f[i].id == i;
    }
    for (size_t r = 0; ok && r < nr; r++) {
        const json_t *v = json_array_get(rs, r);
        const char *key = json_string_value(json_object_get(v, "key"));
        s->nr = r + 1;
        s->r[r].key = key ? strdup(key) : NULL;
        s->r[r].ip = (uint32_t)json_integer_value(json_object_get(v, "ip"));
        s->r[r].state = calloc(nf, 1);
        ok &= s->r[r].key && s->r[r].state;
    }
    if (!ok) {
        share_free(s);
        return NULL;
    }
    return s;
}

void share_load(fl_state *st)
{
    json_t *rows = store_shares(st);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        fl_share *s = share_from_def(row);
        uint32_t no = (uint32_t)json_integer_value(json_object_get(row, "packet_no"));
        if (!s) {
            st->api->log(st->ctx, DG_LOG_WARN, "stored offer %u is damaged: dropped", no);
            store_share_del(st, no);
            continue;
        }
        pthread_mutex_lock(&st->lock);
        s->next = st->shares;
        st->shares = s;
        pthread_mutex_unlock(&st->lock);
    }
    json_decref(rows);
    share_expire(st);
}
