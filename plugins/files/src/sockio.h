/* Blocking socket and file helpers of the worker threads. */
#ifndef DG_FL_SOCKIO_H
#define DG_FL_SOCKIO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all of buf; 0 or -errno. */
int fl_write_all(int fd, const void *buf, size_t len);
/* Sets send and receive timeouts (seconds) on a socket. */
void fl_sock_timeouts(int fd, int64_t seconds);
/* Connects to ip:port (host byte order) with a timeout, from local_ip when
 * not 0 (the IPMsg bind address: senders check where requests come from);
 * fd or -errno. */
int fl_connect(uint32_t ip, uint16_t port, uint32_t local_ip, int64_t timeout_s);
/* "a.b.c.d:port" -> ip/port (host order); 0 or -1. */
int fl_parse_addr(const char *s, uint32_t *ip, uint16_t *port);

#endif
