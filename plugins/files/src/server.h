/*
 * The TCP file service (§5.2, §5.3) on the IPMsg bind address and port:
 * a non-blocking listening socket watched by the host (io_watch), one worker
 * thread per accepted connection doing blocking I/O. A connection carries one
 * request: GETFILEDATA (a regular file from an offset, sendfile(2)) or
 * GETDIRFILES (a folder as a directory stream, symlinks not followed). Only
 * a recipient of the offer, connecting from that recipient's address, gets
 * anything; otherwise the connection is closed without an answer, like
 * Windows does. An encrypted request (ENCRYPTOPT, §6.6) goes to the
 * files.crypto provider (fcrypto.h): once it verified the requester's
 * signature, the requester is served from any address, and with the AES
 * mode the whole answer is encrypted (read, encrypt, write: no sendfile).
 */
#ifndef DG_FL_SERVER_H
#define DG_FL_SERVER_H

#include "state.h"

/* Most connections served at once; more are closed at accept. */
#define FL_MAX_CONNS 64

/* Opens the listener; 0, or -1 (logged) when the port cannot be bound. */
int server_start(fl_state *st);
/* Joins finished connection threads (loop thread). */
void server_reap(fl_state *st);
/* files.cancel {share}: stops the running transfers of that offer (the
 * serving threads see the flag between chunks; their sockets are shut down
 * at once). Returns how many were running. */
int server_cancel_share(fl_state *st, uint32_t packet_no);
/* The files.crypto provider goes: its transfers stop (they fail). */
void server_stop_encrypted(fl_state *st);
/* At stop: shuts every connection down and joins the threads. */
void server_stop(fl_state *st);

#endif
