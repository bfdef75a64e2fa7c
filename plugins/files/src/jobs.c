#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipmsg_proto.h"
#include "safename.h"
#include "sockio.h"
#include "store.h"
#include "uniqname.h"

static json_t *files_json(const dg_attach_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->count; i++) {
        const dg_attach_entry *e = &l->entries[i];
        uint32_t t = dg_attach_type(e);
        json_array_append_new(a,
                              json_pack("{s:I, s:s, s:I, s:I, s:s, s:b}", "file_id",
                                        (json_int_t)e->file_id, "name", e->name, "size",
                                        (json_int_t)e->size, "mtime", (json_int_t)e->mtime, "type",
                                        t == IPMSG_FILE_REGULAR ? "file"
                                        : t == IPMSG_FILE_DIR   ? "dir"
                                                                : "other",
                                        "fetchable", dg_attach_is_fetchable(e)));
    }
    return a;
}

void jobs_on_message(fl_state *st, const json_t *p)
{
    const char *attach = json_string_value(json_object_get(p, "attachments"));
    const char *from = json_string_value(json_object_get(p, "from"));
    const char *addr = json_string_value(json_object_get(p, "address"));
    json_int_t pkt = json_integer_value(json_object_get(p, "packet_no"));
    uint32_t ip;
    uint16_t port;
    if (!attach || !from || !addr || fl_parse_addr(addr, &ip, &port) != 0)
        return;
    dg_attach_list l;
    ipmsg_error err = {0};
    if (dg_attach_parse(attach, strlen(attach), NULL, &l, &err) != IPMSG_OK) {
        st->api->log(st->ctx, DG_LOG_WARN, "offer %lld from %s refused: bad attach list (%s)",
                     (long long)pkt, from, err.reason);
        return;
    }
    size_t fetchable = 0;
    for (size_t i = 0; i < l.count; i++)
        fetchable += dg_attach_is_fetchable(&l.entries[i]);
    /* Inline images and other non-files only: nothing to offer (§5.5). */
    if (fetchable == 0 || store_has_offer(st, from, (uint32_t)pkt)) {
        dg_attach_list_free(&l);
        return;
    }
    const char *nick = json_string_value(json_object_get(p, "nickname"));
    const char *text = json_string_value(json_object_get(p, "text"));
    int64_t id = store_add_offer(st, from, nick, addr, (uint32_t)pkt, text, attach);
    if (id > 0)
        st->api->publish_ordered(st->ctx, "files.offer",
                                 json_pack("{s:I, s:s, s:s?, s:s, s:I, s:s?, s:o}", "id",
                                           (json_int_t)id, "from", from, "nickname", nick,
                                           "address", addr, "packet_no", pkt, "text", text, "files",
                                           files_json(&l)));
    dg_attach_list_free(&l);
    if (id > 0 && st->cfg.auto_accept) {
        char e[512];
        if (jobs_accept(st, id, NULL, e, sizeof e) != 0)
            st->api->log(st->ctx, DG_LOG_WARN, "auto-accept of offer %lld: %s", (long long)id, e);
    }
}

static fl_job *job_find(fl_state *st, int64_t id)
{
    for (fl_job *j = st->jobs; j; j = j->next)
        if (j->offer == id)
            return j;
    return NULL;
}

static void job_free(fl_job *j)
{
    if (j->dirfd >= 0)
        close(j->dirfd);
    dg_attach_list_free(&j->list);
    free(j->buf);
    free(j->peer);
    free(j);
}

/* Creates the ".part" file of every regular entry that has none yet, before
 * the worker starts: its name is in the store at once, so a restart finds it. */
static int prepare_items(fl_state *st, fl_job *j, char *err, size_t errlen)
{
    for (size_t i = 0; i < j->list.count; i++) {
        const dg_attach_entry *e = &j->list.entries[i];
        /* Folders count with the size their sender announced: 0 from Windows,
         * their content's bytes from iptux and dengon. */
        j->total += dg_attach_type(e) == IPMSG_FILE_REGULAR || dg_attach_type(e) == IPMSG_FILE_DIR
                        ? e->size
                        : 0;
        char *part, *final;
        bool done;
        store_item_get(st, j->offer, e->file_id, &part, &final, &done);
        bool have = part != NULL || done;
        free(part);
        free(final);
        if (have || dg_attach_type(e) != IPMSG_FILE_REGULAR)
            continue;
        char safe[DG_SAFENAME_MAX + 1], cand[DG_SAFENAME_MAX + 1], used[DG_SAFENAME_MAX + 1];
        ipmsg_error ierr = {0};
        if (dg_safename(e->name, e->name_len, safe, NULL, &ierr) != IPMSG_OK) {
            st->api->log(st->ctx, DG_LOG_WARN, "offer %lld: file name refused (%s), skipped",
                         (long long)j->offer, ierr.reason);
            continue;
        }
        fetch_part_name(safe, cand);
        int fd;
        int rc = dg_unique_create(j->dirfd, cand, 0, 0644, used, &fd);
        if (rc < 0) {
            snprintf(err, errlen, "%s: cannot create (%s)", cand, strerror(-rc));
            return -1;
        }
        close(fd);
        store_item_set(st, j->offer, e->file_id, used, safe, false);
    }
    return 0;
}

static int start_job(fl_state *st, const fl_offer *o, const char *dest, char *err, size_t errlen)
{
    fl_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->buf = malloc(FL_BUF))) {
        free(j);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->st = st;
    j->offer = o->id;
    j->packet_no = o->packet_no;
    j->dirfd = -1;
    atomic_init(&j->sock, -1);
    if (!(j->peer = strdup(o->from ? o->from : ""))) {
        free(j->buf);
        free(j);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ipmsg_error ierr = {0};
    if (fl_parse_addr(o->address, &j->ip, &j->port) != 0 ||
        dg_attach_parse(o->attach, strlen(o->attach), NULL, &j->list, &ierr) != IPMSG_OK) {
        snprintf(err, errlen, "offer %lld is damaged in the store", (long long)o->id);
        job_free(j);
        return -1;
    }
    if (mkdir(dest, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dest, strerror(errno));
        job_free(j);
        return -1;
    }
    j->dirfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j->dirfd < 0) {
        snprintf(err, errlen, "%s: %s", dest, strerror(errno));
        job_free(j);
        return -1;
    }
    if (prepare_items(st, j, err, errlen) != 0) {
        job_free(j);
        return -1;
    }
    store_set_state(st, o->id, "downloading", dest, NULL);
    if (pthread_create(&j->th, NULL, fetch_main, j) != 0) {
        snprintf(err, errlen, "cannot start a thread");
        store_set_state(st, o->id, "failed", NULL, "cannot start a thread");
        job_free(j);
        return -1;
    }
    j->next = st->jobs;
    st->jobs = j;
    return 0;
}

int jobs_accept(fl_state *st, int64_t id, const char *dest, char *err, size_t errlen)
{
    fl_offer o;
    if (store_get_offer(st, id, &o) != 0) {
        snprintf(err, errlen, "no offer %lld", (long long)id);
        return -1;
    }
    int rc = -1;
    if (job_find(st, id))
        snprintf(err, errlen, "offer %lld is already downloading", (long long)id);
    else if (!strcmp(o.state, "done") || !strcmp(o.state, "rejected"))
        snprintf(err, errlen, "offer %lld is %s", (long long)id, o.state);
    else if (dest && dest[0] != '/')
        snprintf(err, errlen, "%s: the folder must be an absolute path", dest);
    else
        /* A resumed download stays in its first folder: its .part files are there. */
        rc = start_job(st, &o,
                       o.dest && strcmp(o.state, "offered") ? o.dest
                       : dest                               ? dest
                                                            : st->cfg.download_dir,
                       err, errlen);
    store_offer_free(&o);
    return rc;
}

int jobs_reject(fl_state *st, int64_t id, char *err, size_t errlen)
{
    fl_offer o;
    if (store_get_offer(st, id, &o) != 0) {
        snprintf(err, errlen, "no offer %lld", (long long)id);
        return -1;
    }
    int rc = -1;
    if (job_find(st, id) || strcmp(o.state, "offered") != 0)
        snprintf(err, errlen, "offer %lld is %s: only a new offer can be rejected", (long long)id,
                 job_find(st, id) ? "downloading" : o.state);
    else if (DG_CHAT_TRANSPORT_HAS(st->t, st->tsize, release_files) &&
             st->t->release_files(st->t->self, o.address, o.packet_no) != 0)
        snprintf(err, errlen, "cannot tell %s", o.from);
    else
        rc = store_set_state(st, id, "rejected", NULL, NULL);
    if (rc == 0)
        st->api->publish_ordered(st->ctx, "files.rejected",
                                 json_pack("{s:I}", "id", (json_int_t)id));
    store_offer_free(&o);
    return rc;
}

int jobs_cancel(fl_state *st, int64_t id, char *err, size_t errlen)
{
    fl_job *j = job_find(st, id);
    if (!j || atomic_load(&j->finished)) {
        snprintf(err, errlen, "offer %lld is not downloading", (long long)id);
        return -1;
    }
    atomic_store(&j->cancel, true);
    pthread_mutex_lock(&st->lock); /* the worker closes its socket under it */
    int fd = atomic_load(&j->sock);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&st->lock);
    return 0;
}

void jobs_resume(fl_state *st)
{
    json_t *ids = store_ids_in_state(st, "downloading");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        fl_offer o;
        char err[512];
        if (store_get_offer(st, json_integer_value(v), &o) != 0)
            continue;
        if (start_job(st, &o, o.dest ? o.dest : st->cfg.download_dir, err, sizeof err) != 0) {
            store_set_state(st, o.id, "failed", NULL, err);
            st->api->log(st->ctx, DG_LOG_WARN, "offer %lld does not resume: %s", (long long)o.id,
                         err);
        } else {
            st->api->log(st->ctx, DG_LOG_INFO, "offer %lld resumes", (long long)o.id);
        }
        store_offer_free(&o);
    }
    json_decref(ids);
}

static void job_end(fl_state *st, fl_job *j)
{
    pthread_join(j->th, NULL);
    if (atomic_load(&st->stopping)) {
        job_free(j); /* stays "downloading": resumes at the next start */
        return;
    }
    bool cancelled = atomic_load(&j->cancel);
    bool enc = atomic_load(&j->encrypted);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)j->offer);
    if (st->encrypted || (st->encrypted = json_object()))
        json_object_set_new(st->encrypted, id, json_boolean(enc));
    if (!j->reason[0]) {
        store_set_state(st, j->offer, "done", NULL, NULL);
        st->api->publish_ordered(st->ctx, "files.done",
                                 json_pack("{s:I, s:I, s:I, s:b}", "id", (json_int_t)j->offer,
                                           "bytes", (json_int_t)atomic_load(&j->bytes), "skipped",
                                           (json_int_t)j->skipped, "encrypted", enc));
    } else {
        store_set_state(st, j->offer, cancelled ? "cancelled" : "failed", NULL, j->reason);
        st->api->publish_ordered(st->ctx, cancelled ? "files.cancelled" : "files.failed",
                                 json_pack("{s:I, s:I, s:s, s:b}", "id", (json_int_t)j->offer,
                                           "bytes", (json_int_t)atomic_load(&j->bytes), "reason",
                                           j->reason, "encrypted", enc));
    }
    job_free(j);
}

void jobs_reap(fl_state *st)
{
    for (fl_job **pp = &st->jobs; *pp;) {
        fl_job *j = *pp;
        if (atomic_load(&j->finished)) {
            *pp = j->next;
            job_end(st, j);
        } else {
            pp = &j->next;
        }
    }
}

void jobs_stop(fl_state *st)
{
    for (fl_job *j = st->jobs; j; j = j->next) {
        atomic_store(&j->cancel, true);
        pthread_mutex_lock(&st->lock);
        int fd = atomic_load(&j->sock);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
        pthread_mutex_unlock(&st->lock);
    }
    while (st->jobs) {
        fl_job *j = st->jobs;
        st->jobs = j->next;
        job_end(st, j);
    }
}

json_t *jobs_json(fl_state *st)
{
    json_t *a = json_array();
    for (fl_job *j = st->jobs; j; j = j->next)
        json_array_append_new(a, json_pack("{s:I, s:I, s:I, s:b}", "id", (json_int_t)j->offer,
                                           "bytes", (json_int_t)atomic_load(&j->bytes), "total",
                                           (json_int_t)j->total, "encrypted",
                                           atomic_load(&j->encrypted)));
    return a;
}

void jobs_stop_encrypted(fl_state *st)
{
    for (fl_job *j = st->jobs; j; j = j->next) {
        if (!atomic_load(&j->encrypted) || atomic_load(&j->finished))
            continue;
        atomic_store(&j->nocrypto, true);
        pthread_mutex_lock(&st->lock);
        int fd = atomic_load(&j->sock);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
        pthread_mutex_unlock(&st->lock);
    }
}

void jobs_mark_encryption(fl_state *st, json_t *offers)
{
    size_t i;
    json_t *o;
    json_array_foreach(offers, i, o)
    {
        json_int_t oid = json_integer_value(json_object_get(o, "id"));
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)oid);
        json_t *v = st->encrypted ? json_object_get(st->encrypted, id) : NULL;
        for (fl_job *j = st->jobs; j; j = j->next)
            if (j->offer == oid)
                v = atomic_load(&j->encrypted) ? json_true() : json_false();
        if (v)
            json_object_set(o, "encrypted", v);
    }
}
