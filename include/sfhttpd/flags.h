/*
 * flags.h - the command-line flags: one table that getopt_long, --help
 * and the documentation test (tests/unit/test_docs.c) all read.
 */
#ifndef SFHTTPD_FLAGS_H
#define SFHTTPD_FLAGS_H

#include <stddef.h>
#include <stdio.h>

struct option;

/* The ids of flags without a one-letter form (a letter's id is itself). */
enum sf_flag_id { SF_FLAG_ACCESS_LOG = 256, SF_FLAG_ERROR_LOG, SF_FLAG_LOG_LEVEL, SF_FLAG_DAEMON };

struct sf_flag {
    const char *name; /* the long form without "--": "config" */
    int id;           /* the letter ('c'), or an enum sf_flag_id */
    const char *arg;  /* the argument as --help names it ("FILE"); NULL: none */
    const char *help; /* what it does, lines separated by '\n' */
};

/* Every flag, in --help order. */
extern const struct sf_flag sf_flags[];
extern const size_t sf_nflags;

/* Number of struct option entries sf_flags_getopt fills (the last one
 * zeroed), and the size of the short-option string it writes. */
#define SF_FLAGS_MAX 24

/*
 * Fill opts (at least sf_nflags + 1 entries, the last zeroed) and shorts
 * (at least 3 * sf_nflags + 1 bytes: "c:tT...") for getopt_long from the
 * table.
 */
void sf_flags_getopt(struct option *opts, char *shorts);

/* Print the usage text, every flag with its help, to out (--help). */
void sf_flags_usage(FILE *out);

#endif
