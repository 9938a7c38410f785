/*
 * config.c - a configuration's life outside the file: the defaults (every
 * key table row's default), the sites of quick mode, and sf_config_free.
 *
 * The rest of the module (config_int.h): config_load.c reads files,
 * config_server.c and config_site.c hold the key tables, config_key.c
 * what their rows share, config_value.c parses values and addresses,
 * config_check.c validates and dumps.
 */
#include "config_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
sf_config_defaults(struct sf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    config_keys_defaults(config_server_keys, config_nserver_keys, cfg, cfg);
    /* the default listen line gives way to the first one a file or the
     * command line gives */
    cfg->listen_is_default = true;
}

void
config_site_init(struct sf_site *site, struct sf_config *cfg, const char *name)
{
    *site = (struct sf_site){0};
    config_keys_defaults(config_site_keys, config_nsite_keys, cfg, site);
    site->name = config_xstrdup(name);
}

static void
site_free(struct sf_site *site)
{
    config_keys_free(config_site_keys, config_nsite_keys, site);
    free(site->name);
    free(site->at);
    *site = (struct sf_site){0};
}

int
sf_config_add_quick_site(struct sf_config *cfg, const char *root)
{
    if (cfg->nsites >= SF_CONFIG_MAX_SITES)
        return -E2BIG;
    char *cwd = NULL;
    if (root[0] != '/' && !(cwd = config_current_dir()))
        return -errno;
    char *abs = config_make_absolute(cwd ? cwd : "/", root);
    free(cwd);
    if (!abs)
        return -ENOMEM;
    struct sf_site *site = &cfg->sites[cfg->nsites++];
    config_site_init(site, cfg, "site");
    site->root = abs; /* checked by sf_config_validate, in quick mode's words */
    site->listing = true;
    return 0;
}

void
sf_config_free(struct sf_config *cfg)
{
    if (!cfg)
        return;
    config_keys_free(config_server_keys, config_nserver_keys, cfg);
    for (size_t i = 0; i < cfg->nsites; i++)
        site_free(&cfg->sites[i]);
    free(cfg->path);
    free(cfg->server_at);
    memset(cfg, 0, sizeof(*cfg));
}
