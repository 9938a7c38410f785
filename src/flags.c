/*
 * flags.c - the command-line flags as one table: getopt_long's options
 * and --help are made from it, so a flag and its help cannot drift
 * apart (main.c acts on the ids; tests/unit/test_docs.c checks that the
 * README and sfhttpd(8) list every row).
 */
#include "sfhttpd/flags.h"

#include <getopt.h>
#include <string.h>

#include "sfhttpd/common.h"

const struct sf_flag sf_flags[] = {
    {"config", 'c', "FILE", "load FILE (INI; see sfhttpd.conf(5))"},
    {"test", 't', NULL,
     "check the configuration and what a start checks\n"
     "(users, folders, addresses), then exit (0 good, 1 bad)"},
    {"dump", 'T', NULL, "print the effective configuration and exit"},
    {"listen", 'l', "'ADDR:PORT [OPTION...]'",
     "listen here (repeatable; replaces the file's listen\n"
     "lines; port 0 picks a free port); default\n"
     "127.0.0.1:8080; options as in a listen line:\n"
     "proxy_protocol, backlog=N, ipv6only=on|off"},
    {"workers", 'w', "N",
     "worker processes: N, auto (one per CPU) or 0 (one\n"
     "process, no master)"},
    {"user", 'u', "USER[:GROUP]",
     "started as root, serve as USER (replaces the file's\n"
     "user and group; without one, root serves as nobody\n"
     "with a config file, as root in quick mode)"},
    {"daemon", SF_FLAG_DAEMON, NULL, "detach from the terminal once listening"},
    {"access-log", SF_FLAG_ACCESS_LOG, "F", "access log file, '-' for stdout, 'off'"},
    {"error-log", SF_FLAG_ERROR_LOG, "F", "error log file, '-' for stderr"},
    {"log-level", SF_FLAG_LOG_LEVEL, "L", "error, warn, info (default) or debug"},
    {"help", 'h', NULL, "this text"},
    {"version", 'V', NULL, "print the version"},
};
const size_t sf_nflags = SF_ARRAY_LEN(sf_flags);
_Static_assert(SF_ARRAY_LEN(sf_flags) < SF_FLAGS_MAX, "raise SF_FLAGS_MAX");

void
sf_flags_getopt(struct option *opts, char *shorts)
{
    size_t n = 0;
    for (size_t i = 0; i < sf_nflags; i++) {
        const struct sf_flag *f = &sf_flags[i];
        opts[i] = (struct option){f->name, f->arg ? required_argument : no_argument, NULL, f->id};
        if (f->id < 256) {
            shorts[n++] = (char)f->id;
            if (f->arg)
                shorts[n++] = ':';
        }
    }
    opts[sf_nflags] = (struct option){NULL, 0, NULL, 0};
    shorts[n] = '\0';
}

/* The help column starts here; a longer flag puts its help below. */
#define HELP_COLUMN 25

void
sf_flags_usage(FILE *out)
{
    fputs("usage: sfhttpd [options] [DIR]\n"
          "       sfhttpd -c FILE [-t | -T]\n"
          "\n"
          "Serve DIR (default: the current directory) over HTTP/1.1, or the sites\n"
          "of a configuration file.\n"
          "\n",
          out);
    for (size_t i = 0; i < sf_nflags; i++) {
        const struct sf_flag *f = &sf_flags[i];
        int w;
        if (f->id < 256)
            w = fprintf(out, "  -%c, --%s%s%s", f->id, f->name, f->arg ? " " : "",
                        f->arg ? f->arg : "");
        else
            w = fprintf(out, "      --%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
        if (w >= HELP_COLUMN) {
            fputc('\n', out);
            w = 0;
        }
        for (const char *line = f->help; *line;) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            fprintf(out, "%*s%.*s\n", HELP_COLUMN - w, "", (int)len, line);
            w = 0;
            line += len + (nl != NULL);
        }
    }
}
