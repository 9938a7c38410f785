/*
 * main.c - the command line: parse flags, load or synthesise the
 * configuration, apply overrides, and run (master.h). The same steps
 * build the configuration again on a reload.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sfhttpd/config.h"
#include "sfhttpd/fdlimit.h"
#include "sfhttpd/flags.h"
#include "sfhttpd/master.h"
#include "sfhttpd/startup.h"

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

/* The command line, kept for building the configuration again. */
struct cli {
    const char *config, *access, *errlog, *level, *workers, *dir, *user;
    const char *listens[SF_CONFIG_MAX_LISTEN];
    size_t nlisten;
};

static int
apply_listens(const struct cli *cli, struct sf_config *cfg, FILE *errs)
{
    int errors = 0;
    for (size_t i = 0; i < cli->nlisten; i++) {
        if (i == 0)
            cfg->listen_is_default = true; /* the command line replaces the file */
        char addr[256], why[160];
        struct sf_listen_opts o;
        int rc = sf_config_parse_listen(cli->listens[i], addr, sizeof(addr), &o, why, sizeof(why));
        if (rc == 0)
            rc = sf_config_add_listen(cfg, cli->listens[i]);
        if (rc == 0 && replace_str(&cfg->listen[cfg->nlisten - 1].at, "-l") != 0)
            rc = -ENOMEM;
        if (rc == -EINVAL)
            fprintf(errs, "sfhttpd: -l %s: %s\n", cli->listens[i], why);
        else if (rc)
            fprintf(errs, "sfhttpd: -l %s: too many listen addresses\n", cli->listens[i]);
        errors += rc != 0;
    }
    return errors;
}

static int
apply_workers(const char *w, struct sf_config *cfg, FILE *errs)
{
    if (sf_config_parse_workers(w, &cfg->workers) != 0) {
        fprintf(errs, "sfhttpd: -w %s: expected a number 0..%d or auto\n", w,
                SF_CONFIG_MAX_WORKERS);
        return 1;
    }
    return 0;
}

/* -u USER[:GROUP]: both replace the file's (a group left out is the
 * user's own). */
static int
apply_user(const char *spec, struct sf_config *cfg, FILE *errs)
{
    const char *colon = strchr(spec, ':');
    size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
    char user[64], group[64] = "";
    if (ulen == 0 || ulen >= sizeof(user) || (colon && (!colon[1] || strlen(colon + 1) >= 64))) {
        fprintf(errs, "sfhttpd: -u %s: expected USER or USER:GROUP\n", spec);
        return 1;
    }
    memcpy(user, spec, ulen);
    user[ulen] = '\0';
    if (colon)
        snprintf(group, sizeof(group), "%s", colon + 1);
    if (!getpwnam(user)) {
        fprintf(errs, "sfhttpd: -u %s: no such user\n", user);
        return 1;
    }
    if (group[0] && !getgrnam(group)) {
        fprintf(errs, "sfhttpd: -u %s: no such group %s\n", spec, group);
        return 1;
    }
    free(cfg->group);
    free(cfg->group_at);
    cfg->group = NULL;
    cfg->group_at = NULL;
    if (replace_str(&cfg->user, user) || replace_str(&cfg->user_at, "-u") ||
        (group[0] && (replace_str(&cfg->group, group) || replace_str(&cfg->group_at, "-u"))))
        return 1;
    return 0;
}

/* Defaults, the file or quick-mode site, the command line, validation.
 * Returns the number of errors (written to errs). */
static int
build_config(struct sf_config *cfg, void *arg, FILE *errs)
{
    const struct cli *cli = arg;
    int errors = 0;
    sf_config_defaults(cfg);
    if (cli->config) {
        errors = sf_config_load(cfg, cli->config, errs);
    } else {
        int rc = sf_config_add_quick_site(cfg, cli->dir);
        if (rc) {
            fprintf(errs, "sfhttpd: %s: %s\n", cli->dir, strerror(-rc));
            errors++;
        }
    }
    errors += apply_listens(cli, cfg, errs);
    if (cli->workers)
        errors += apply_workers(cli->workers, cfg, errs);
    if (cli->access && (replace_str(&cfg->access_log, cli->access) != 0 ||
                        replace_str(&cfg->access_log_at, "--access-log") != 0))
        errors++;
    if (cli->errlog && (replace_str(&cfg->error_log, cli->errlog) != 0 ||
                        replace_str(&cfg->error_log_at, "--error-log") != 0))
        errors++;
    if (cli->user)
        errors += apply_user(cli->user, cfg, errs);
    if (cli->level && sf_config_parse_level(cli->level, &cfg->log_level) != 0) {
        fprintf(errs, "sfhttpd: --log-level %s: expected %s, %s, %s or %s\n", cli->level,
                sf_config_level_name(SF_LOG_ERROR), sf_config_level_name(SF_LOG_WARN),
                sf_config_level_name(SF_LOG_INFO), sf_config_level_name(SF_LOG_DEBUG));
        errors++;
    }
    if (!errors)
        errors = sf_config_validate(cfg, errs);
    return errors;
}

int
main(int argc, char **argv)
{
    struct option opts[SF_FLAGS_MAX];
    char shorts[3 * SF_FLAGS_MAX + 1];
    sf_flags_getopt(opts, shorts);
    struct cli cli = {.dir = "."};
    struct sf_master_opts mo = {.load = build_config, .load_arg = &cli};
    bool test = false, dump = false;
    int ch;
    sf_startup_close_fds(); /* nothing of whoever started us stays open */
    while ((ch = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        switch (ch) {
        case 'c': cli.config = optarg; break;
        case 't': test = true; break;
        case 'T': dump = true; break;
        case 'l':
            if (cli.nlisten == SF_CONFIG_MAX_LISTEN) {
                fprintf(stderr, "sfhttpd: at most %d -l options\n", SF_CONFIG_MAX_LISTEN);
                return 1;
            }
            cli.listens[cli.nlisten++] = optarg;
            break;
        case 'w': cli.workers = optarg; break;
        case 'u': cli.user = optarg; break;
        case SF_FLAG_ACCESS_LOG: cli.access = optarg; break;
        case SF_FLAG_ERROR_LOG: cli.errlog = optarg; break;
        case SF_FLAG_LOG_LEVEL: cli.level = optarg; break;
        case SF_FLAG_DAEMON: mo.daemon = true; break;
        case 'h': sf_flags_usage(stdout); return 0;
        case 'V': printf("sfhttpd " SFHTTPD_VERSION "\n"); return 0;
        default: sf_flags_usage(stderr); return 1;
        }
    }
    if (argc - optind > 1 || (cli.config && argc - optind > 0)) {
        fprintf(stderr, "sfhttpd: %s\n",
                cli.config ? "a DIR argument cannot be combined with -c" : "only one DIR");
        return 1;
    }
    if (optind < argc)
        cli.dir = argv[optind];
    /* a daemon runs in /: a reload must still find the file and folder */
    char *abs_config = NULL, *abs_dir = NULL;
    if (mo.daemon && cli.config && (abs_config = realpath(cli.config, NULL)))
        cli.config = abs_config;
    if (mo.daemon && !cli.config && (abs_dir = realpath(cli.dir, NULL)))
        cli.dir = abs_dir;

    struct sf_config cfg;
    struct sf_ids ids;
    char note[256] = "";
    int errors = build_config(&cfg, &cli, stderr);
    if (!errors && test) {
        /* what a start would check on this machine, as it would */
        errors = sf_startup_check(&cfg, &ids, stderr);
        sf_startup_note(&cfg, &ids, note, sizeof(note));
    }
    if (errors) {
        if (test)
            fprintf(stderr, "sfhttpd: configuration has %d error%s\n", errors,
                    errors == 1 ? "" : "s");
        sf_config_free(&cfg);
        free(abs_config);
        free(abs_dir);
        return 1;
    }
    if (test || dump) {
        if (dump) {
            /* the limits a start would run with (it raises them first) */
            struct sf_fdlimit fl;
            char line[256];
            sf_fdlimit_raise(&fl);
            sf_fdlimit_plan(&cfg, fl.soft, &fl);
            sf_fdlimit_format(&fl, line, sizeof(line));
            sf_config_dump(&cfg, stdout);
            printf("; limits: %s\n", line);
        }
        if (test && note[0])
            printf("sfhttpd: %s\n", note);
        if (test)
            printf("sfhttpd: configuration %s OK\n", cli.config ? cli.config : "(command line)");
        sf_config_free(&cfg);
        free(abs_config);
        free(abs_dir);
        return 0;
    }
    int status = sf_master_run(&cfg, &mo);
    sf_config_free(&cfg);
    free(abs_config);
    free(abs_dir);
    return status;
}
