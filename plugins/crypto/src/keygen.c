#include "keygen.h"

#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "ipmc_error.h"

static void keygen_done(void *user)
{
    cr_state *st = user;
    pthread_join(st->gen.th, NULL);
    st->gen.running = false;
    if (st->gen.rc != IPMC_OK) {
        st->api->log(st->ctx, DG_LOG_ERROR,
                     "cannot create the RSA key pairs in %s: %s; encryption stays off",
                     st->api->data_dir(st->ctx), st->gen.err);
        hooks_keys_failed(st);
        return;
    }
    ipmc_keys_free(&st->keys);
    st->keys = st->gen.keys;
    st->gen.keys = (ipmc_keys){0};
    st->api->log(st->ctx, DG_LOG_INFO, "created RSA-2048 and RSA-1024 key pairs in %s",
                 st->api->data_dir(st->ctx));
    hooks_keys_ready(st);
}

static void *keygen_main(void *arg)
{
    cr_state *st = arg;
    /* Loads what exists again (the same files) and makes the rest. */
    st->gen.rc =
        ipmc_keys_load_or_create(st->gen.dir, &st->gen.keys, NULL, st->gen.err, sizeof st->gen.err);
    /* log() is for the loop thread: a failed hand-over is reported at stop. */
    (void)st->api->post(st->ctx, keygen_done, st);
    return NULL;
}

int keygen_start(cr_state *st)
{
    const char *dir = st->api->data_dir(st->ctx);
    char err[256];
    bool complete = false;
    if (ipmc_keys_load_existing(dir, &st->keys, &complete, err, sizeof err) != IPMC_OK) {
        st->api->log(st->ctx, DG_LOG_ERROR, "key pairs in %s: %s", dir ? dir : "(none)", err);
        return -1;
    }
    if (complete) {
        st->ready = true;
        return 0;
    }
    snprintf(st->gen.dir, sizeof st->gen.dir, "%s", dir);
    if (strlen(dir) >= sizeof st->gen.dir ||
        pthread_create(&st->gen.th, NULL, keygen_main, st) != 0) {
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot start the key generation for %s", dir);
        ipmc_keys_free(&st->keys);
        return -1;
    }
    st->gen.running = true;
    return 1;
}

void keygen_stop(cr_state *st)
{
    /* A post that comes round after stop is dropped by the host: join here. */
    if (st->gen.running) {
        pthread_join(st->gen.th, NULL);
        if (st->gen.rc == IPMC_OK)
            st->api->log(st->ctx, DG_LOG_INFO,
                         "key pairs made during this run were saved; they are used from the "
                         "next start");
    }
    st->gen.running = false;
    ipmc_keys_free(&st->gen.keys);
}
