/* users.directory@1 (include/dengon/users_directory.h): the directory for other plugins. */
#include <stdio.h>

#include "state.h"

static json_t *svc_resolve(void *self, const char *who, char *err, size_t errlen)
{
    us_state *st = self;
    us_user *u = NULL;
    if (!who || !*who) {
        snprintf(err, errlen, "no user named");
        return NULL;
    }
    if (us_dir_resolve(&st->dir, who, &u, err, errlen) != US_RESOLVE_OK)
        return NULL;
    return us_user_json(u);
}

int us_service_provide(us_state *st)
{
    st->directory = (dg_users_directory_v1){
        .struct_size = sizeof(dg_users_directory_v1),
        .self = st,
        .resolve = svc_resolve,
    };
    return st->api->service_provide(st->ctx, DG_USERS_DIRECTORY_SERVICE, DG_USERS_DIRECTORY_VERSION,
                                    &st->directory, sizeof st->directory);
}
