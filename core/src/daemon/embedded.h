/* Text files compiled into dengond (generated from conf/ by cmake/embed.cmake). */
#ifndef DG_DAEMON_EMBEDDED_H
#define DG_DAEMON_EMBEDDED_H

extern const char dg_embedded_defaults_ini[];       /* conf/dengon.ini */
extern const char dg_embedded_profile_client_ini[]; /* conf/profiles/client.ini */
extern const char dg_embedded_profile_server_ini[]; /* conf/profiles/server.ini */

#endif
