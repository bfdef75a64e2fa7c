/*
 * The plaintext inside an encrypted SENDMSG (§6.3, §6.5): the message text
 * with its terminating NUL; with ENCEXTMSGOPT, then the attach list and its
 * NUL, then optionally the "TO:" recipient list and its NUL. With a TO list
 * but no attachments the attach list is empty: "body\0\0TO:...\0"
 * (msgmng.cpp MakeEncryptMsg / DecryptMsg).
 */
#ifndef DG_IPMC_PLAIN_H
#define DG_IPMC_PLAIN_H

#include <stddef.h>
#include <stdint.h>

/* attach and tolist may be NULL. *out malloc'd. */
int ipmc_plain_compose(const char *text, const char *attach, const char *tolist, uint8_t **out,
                       size_t *outlen);

typedef struct ipmc_plain_parts {
    const char *text;   /* always set */
    const char *attach; /* NULL when absent or empty */
    const char *tolist; /* NULL when absent or empty */
} ipmc_plain_parts;

/*
 * Splits a decrypted plaintext (pointers into buf). buf must end with a NUL
 * (IPMC_ERR_FORMAT otherwise). Without ext only the text is taken, as
 * Windows does; bytes after the last used NUL are ignored.
 */
int ipmc_plain_split(const uint8_t *buf, size_t len, int ext, ipmc_plain_parts *parts);

#endif
