/* SIGINT/SIGTERM stop the daemon gracefully; SIGHUP reloads configuration. */
#include "daemon/daemon.h"

#include "util/log.h"

#include <signal.h>
#include <stddef.h>

static void on_signal(uv_signal_t *handle, int signum)
{
    dg_daemon *d = handle->data;
    if (signum == SIGHUP) {
        dg_log(DG_LOG_INFO, "core", "SIGHUP: reloading configuration");
        dg_daemon_config_reload(d);
        return;
    }
    dg_daemon_request_stop(d, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

int dg_daemon_signals_start(dg_daemon *d)
{
    static const int signums[3] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, &d->signals[i]);
        d->signals[i].data = d;
        int rc = uv_signal_start(&d->signals[i], on_signal, signums[i]);
        if (rc != 0) {
            dg_log(DG_LOG_ERROR, "core", "cannot watch signal %d: %s", signums[i],
                   uv_strerror(rc));
            return -1;
        }
        /* Signal watchers alone must not keep the loop alive once we stop. */
        uv_unref((uv_handle_t *)&d->signals[i]);
    }
    /* A client that vanishes mid-reply must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void dg_daemon_signals_stop(dg_daemon *d)
{
    for (size_t i = 0; i < 3; i++)
        if (!uv_is_closing((uv_handle_t *)&d->signals[i]))
            uv_close((uv_handle_t *)&d->signals[i], NULL);
}
