/*
 * main.c - the command line: parse flags, load or synthesise the
 * configuration, apply overrides, and run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sfhttpd/config.h"
#include "sfhttpd/worker.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: sfhttpd [options] [DIR]\n"
            "       sfhttpd -c FILE [-t | -T]\n"
            "\n"
            "Serve DIR (default: the current directory) over HTTP/1.1, or the sites\n"
            "of a configuration file.\n"
            "\n"
            "  -c, --config FILE      load FILE (INI; see conf/sfhttpd.conf)\n"
            "  -t, --test             check the configuration and exit (0 good, 1 bad)\n"
            "  -T, --dump             print the effective configuration and exit\n"
            "  -l, --listen ADDR:PORT listen here (repeatable; port 0 picks a free port);\n"
            "                         default 127.0.0.1:8080\n"
            "  -w, --workers N        worker processes (accepted; one process for now)\n"
            "      --access-log F     access log file, '-' for stdout, 'off'\n"
            "      --error-log F      error log file, '-' for stderr\n"
            "      --log-level L      error, warn, info (default) or debug\n"
            "  -h, --help             this text\n"
            "  -V, --version          print the version\n");
}

static int
parse_level(const char *s, enum sf_log_level *lv)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *lv = (enum sf_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

static int
replace_str(char **dst, const char *src)
{
    char *p = strdup(src);
    if (!p)
        return -ENOMEM;
    free(*dst);
    *dst = p;
    return 0;
}

int
main(int argc, char **argv)
{
    enum { OPT_ACCESS = 256, OPT_ERROR, OPT_LEVEL };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"test", no_argument, NULL, 't'},
        {"dump", no_argument, NULL, 'T'},          {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'}, {"access-log", required_argument, NULL, OPT_ACCESS},
        {"error-log", required_argument, NULL, OPT_ERROR},
        {"log-level", required_argument, NULL, OPT_LEVEL},
        {"help", no_argument, NULL, 'h'},          {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *access = NULL, *errlog = NULL, *level = NULL, *workers = NULL;
    const char *listens[SF_CONFIG_MAX_LISTEN];
    size_t nlisten = 0;
    bool test = false, dump = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:tTl:w:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 't': test = true; break;
        case 'T': dump = true; break;
        case 'l':
            if (nlisten == SF_CONFIG_MAX_LISTEN) {
                fprintf(stderr, "sfhttpd: at most %d -l options\n", SF_CONFIG_MAX_LISTEN);
                return 1;
            }
            listens[nlisten++] = optarg;
            break;
        case 'w': workers = optarg; break;
        case OPT_ACCESS: access = optarg; break;
        case OPT_ERROR: errlog = optarg; break;
        case OPT_LEVEL: level = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("sfhttpd " SFHTTPD_VERSION "\n"); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (argc - optind > 1 || (config && argc - optind > 0)) {
        fprintf(stderr, "sfhttpd: %s\n",
                config ? "a DIR argument cannot be combined with -c" : "only one DIR");
        return 1;
    }

    struct sf_config cfg;
    sf_config_defaults(&cfg);
    int errors = 0;
    if (config) {
        errors = sf_config_load(&cfg, config, stderr);
    } else {
        const char *dir = optind < argc ? argv[optind] : ".";
        int rc = sf_config_add_quick_site(&cfg, dir);
        if (rc) {
            fprintf(stderr, "sfhttpd: %s: %s\n", dir, strerror(-rc));
            errors++;
        }
    }
    for (size_t i = 0; i < nlisten; i++) {
        struct sockaddr_storage ss;
        unsigned sslen;
        if (sf_config_parse_addr(listens[i], &ss, &sslen) != 0) {
            fprintf(stderr, "sfhttpd: -l %s: expected ADDR:PORT, [V6ADDR]:PORT or PORT\n",
                    listens[i]);
            errors++;
            continue;
        }
        if (i == 0)
            cfg.listen_is_default = true; /* the command line replaces the file */
        if (sf_config_add_listen(&cfg, listens[i]) != 0) {
            fprintf(stderr, "sfhttpd: -l %s: too many listen addresses\n", listens[i]);
            errors++;
        }
    }
    if (workers) {
        char *end;
        long n = strtol(workers, &end, 10);
        if (strcmp(workers, "auto") == 0)
            n = 1;
        else if (*end || n < 0 || n > 1024) {
            fprintf(stderr, "sfhttpd: -w %s: expected a number 0..1024 or auto\n", workers);
            errors++;
        }
        cfg.workers = (int)n;
    }
    if (access && replace_str(&cfg.access_log, access) != 0)
        errors++;
    if (errlog && replace_str(&cfg.error_log, errlog) != 0)
        errors++;
    if (level && parse_level(level, &cfg.log_level) != 0) {
        fprintf(stderr, "sfhttpd: --log-level %s: expected error, warn, info or debug\n", level);
        errors++;
    }
    if (!errors)
        errors = sf_config_validate(&cfg, stderr);
    if (errors) {
        if (test)
            fprintf(stderr, "sfhttpd: configuration has %d error%s\n", errors,
                    errors == 1 ? "" : "s");
        sf_config_free(&cfg);
        return 1;
    }
    if (test || dump) {
        if (dump)
            sf_config_dump(&cfg, stdout);
        if (test)
            printf("sfhttpd: configuration %s OK\n", config ? config : "(command line)");
        sf_config_free(&cfg);
        return 0;
    }
    int status = sf_worker_run(&cfg);
    sf_config_free(&cfg);
    return status;
}
