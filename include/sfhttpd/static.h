/*
 * static.h - the file handler: from a parsed request to a complete
 * response plan (status, head, body segments). It opens and stats files
 * beneath the site root but never touches the socket; everything is
 * decided before the first header byte is written.
 */
#ifndef SFHTTPD_STATIC_H
#define SFHTTPD_STATIC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "sfhttpd/config.h"
#include "sfhttpd/mime.h"
#include "sfhttpd/request.h"
#include "sfhttpd/response.h"

struct sf_fcache;
struct sf_lcache;

struct sf_static_in {
    const struct sf_config *cfg;
    const struct sf_site *site;
    unsigned site_index;  /* for the file cache */
    int rootfd;           /* O_PATH/O_DIRECTORY fd of site->root */
    struct sf_fcache *fc; /* the worker's open-file cache */
    struct sf_lcache *lc; /* its listing cache, or NULL: none */
    struct sf_fneg *neg;  /* missing names it remembers, or NULL */
    struct sf_mime *mime;
    const char *date;          /* current IMF-fixdate */
    time_t now;                /* the same time, for Expires */
    uint64_t *rng;             /* worker PRNG state (multipart boundaries) */
    const char *buf;           /* the request bytes the spans index */
    const struct sf_parser *p; /* a request whose head parsed without error */
    bool keep_alive;
};

/* Build the whole response into out (which was reset). Never fails: any
 * problem becomes an error status. */
void sf_static_handle(const struct sf_static_in *in, struct sf_response *out);

#endif
