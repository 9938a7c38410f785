/*
 * test_config_keys.c - the config module's key tables and line reader,
 * seen through the public API: the syntax of a line (comments,
 * separators, trimming, the line limit), every key set and dumped back
 * byte for byte in table order, the defaults of a site, the precompressed
 * list, which keys may repeat, and the value parsers that the command
 * line shares with the file (workers, log levels).
 */
#include "sfhttpd/config.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Load text as a config file (a temporary file, removed again); the
 * messages land in *errs (caller frees). Returns the error count. */
static int
load_text(struct sf_config *cfg, const char *text, char **errs)
{
    char path[] = "/tmp/test_config_keys_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t len = strlen(text);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    size_t n = 0;
    FILE *f = open_memstream(errs, &n);
    ck_assert_ptr_nonnull(f);
    sf_config_defaults(cfg);
    int nerr = sf_config_load(cfg, path, f);
    fclose(f);
    unlink(path);
    return nerr;
}

/* The dump of cfg without its first line (which names the file). */
static char *
dump_body(const struct sf_config *cfg)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    ck_assert_ptr_nonnull(f);
    sf_config_dump(cfg, f);
    fclose(f);
    char *body = strdup(strchr(text, '\n') + 1);
    free(text);
    return body;
}

/* ---- the syntax of a line ------------------------------------------------- */

/* One line after "[site]\nroot = /\n": the cache_control value it gives,
 * or (value NULL) the message it must produce. */
static const struct {
    const char *line;
    const char *value;
    const char *err;
} syntax_cases[] = {
    {"cache_control = a", "a", NULL},
    {"cache_control=a", "a", NULL},
    {"cache_control: a", "a", NULL}, /* ':' after a one-word key */
    {"cache_control = a ; a comment", "a", NULL},
    {"cache_control = a\t; a comment", "a", NULL},
    {"cache_control = a;b", "a;b", NULL}, /* ';' after no blank: text */
    {"cache_control = a # b", "a # b", NULL},
    {"cache_control = a:b", "a:b", NULL}, /* the first separator splits */
    {"cache_control = =a", "=a", NULL},
    {"cache_control =   two  words  ", "two  words", NULL},
    {"  cache_control = indented", "indented", NULL}, /* no continuation */
    {"\tcache_control = tab", "tab", NULL},
    {"cache_control = crlf\r", "crlf", NULL},
    {"cache_control = ;x", NULL, ":3: cache_control: empty value"},
    {"cache_control", NULL, ":3: expected KEY = VALUE\n"},
    {"cache_control public", NULL,
     ":3: expected KEY = VALUE (did you mean 'cache_control = public'?)"},
    {"; cache_control = commented out", NULL, NULL},
    {"# cache_control = commented out", NULL, NULL},
    {"", NULL, NULL},
    {" \t ", NULL, NULL},
    {"\r", NULL, NULL},
};

START_TEST(line_syntax)
{
    char text[256], *errs = NULL;
    snprintf(text, sizeof(text), "[site]\nroot = /\n%s\n", syntax_cases[_i].line);
    struct sf_config cfg;
    int nerr = load_text(&cfg, text, &errs);
    const char *want = syntax_cases[_i].value, *err = syntax_cases[_i].err;
    if (err) {
        ck_assert_msg(nerr == 1, "'%s': %s", syntax_cases[_i].line, errs);
        ck_assert_msg(strstr(errs, err), "'%s': want '%s' in %s", syntax_cases[_i].line, err, errs);
    } else {
        ck_assert_msg(nerr == 0, "'%s': %s", syntax_cases[_i].line, errs);
        if (want)
            ck_assert_str_eq(cfg.sites[0].cache_control, want);
        else
            ck_assert_ptr_null(cfg.sites[0].cache_control);
    }
    sf_config_free(&cfg);
    free(errs);
}
END_TEST

/* Section headers: trimmed inside the brackets, a comment may follow. */
START_TEST(section_syntax)
{
    struct sf_config cfg;
    char *errs = NULL;
    ck_assert_int_eq(load_text(&cfg,
                               "[ site  a ] ; the first\nroot = /\n[site b]# second\nroot = /\n"
                               "\t[server]\nbacklog = 9\n",
                               &errs),
                     0);
    ck_assert_uint_eq(cfg.nsites, 2);
    ck_assert_str_eq(cfg.sites[0].name, "site  a");
    ck_assert_str_eq(cfg.sites[1].name, "site b");
    ck_assert_int_eq(cfg.backlog, 9);
    sf_config_free(&cfg);
    free(errs);
}
END_TEST

/* At most 197 bytes of text on a line, with LF or CRLF (sfhttpd.conf(5)). */
START_TEST(line_limit)
{
    char text[512], value[256], *errs = NULL;
    struct sf_config cfg;
    /* "cache_control = " is 16 bytes */
    memset(value, 'v', 181);
    value[181] = '\0';
    snprintf(text, sizeof(text), "[site]\nroot = /\ncache_control = %s\r\n", value);
    ck_assert_msg(load_text(&cfg, text, &errs) == 0, "%s", errs);
    ck_assert_str_eq(cfg.sites[0].cache_control, value);
    sf_config_free(&cfg);
    free(errs);

    memset(value, 'v', 183);
    value[183] = '\0';
    snprintf(text, sizeof(text), "[site]\nroot = /\ncache_control = %s\nlisting = on\n", value);
    ck_assert_int_eq(load_text(&cfg, text, &errs), 1);
    ck_assert_ptr_nonnull(strstr(errs, ":3: line longer than 197 bytes\n"));
    ck_assert_ptr_null(cfg.sites[0].cache_control);
    ck_assert(cfg.sites[0].listing); /* the next line is read */
    sf_config_free(&cfg);
    free(errs);
}
END_TEST

/* ---- every key, dumped back ------------------------------------------------ */

/* clang-format off */
static const char every_key[] =
    "[server]\n"
    "listen = 127.0.0.1:0 proxy_protocol backlog=64\n"
    "listen = [::1]:0 ipv6only=off\n"
    "listen = unix:/run/sf-test.sock\n"
    "backlog = 128\nworkers = 3\nmaster = on\nreuseport = yes\ndefer_accept = true\n"
    "user = root\ngroup = root\npid_file = /run/sf.pid\n"
    "header_timeout = 2.5\nkeepalive_timeout = 500ms\nsend_timeout = 30s\n"
    "shutdown_timeout = 0.0001\ndrain_delay = 2500ms\nhealth_path = /-/health\n"
    "max_header_size = 16k\nmax_uri_length = 4097\n"
    "max_headers = 50\nsend_chunk = 1M\nsend_chunk_paced = 32K\nmax_ranges = 4\n"
    "max_connections = 500\n"
    "max_body_size = 0\naccess_log = /var/log/a.log\nerror_log = /var/log/e.log\n"
    "log_level = DEBUG\nfile_guard = stat\nopen_file_cache_max = 2048\n"
    "small_file_size = 0\nsmall_file_budget = 2M\nsnapshot_budget = 8M\nsnapshot_dir = /var/tmp\n"
    "lease_break_wait = 20ms\nmax_listing_entries = 500\nlisting_cache_size = 1M\n"
    "listing_cache_max = 8\nstrict_hosts = on\naccess_log_format = JSON\n"
    "[site]\n"
    "root = /\nindex = index.html, index.htm\tdefault.htm\nlisting = on\n"
    "dotfiles = ALLOW\nsymlinks = none\nprecompressed = gzip,br gzip\n"
    "cache_control = public, max-age=60\nexpires = 2h\nexpires = 90\n"
    "cache_control /assets/ = public, immutable\nexpires *.css = 7d\n"
    "expires /assets/ = 30d\nexpires    *.js = off\ncache_control *.html = no-cache\n"
    "error_page = 404 410 /errors/404.html\nerror_page = 500 /e.html\n"
    "server_names = Example.COM *.example.com [2001:DB8::1] www.example.com.\n"
    "add_header = X-Frame-Options: DENY\nadd_header = Access-Control-Allow-Origin:*\n"
    "mime_types = md text/markdown\nmime_types = .WASM application/wasm\n"
    "access_log = /var/log/site.log\naccess_log_format = vhost_combined\netag = Content\n"
    "[site other]\nroot = /\ndefault = on\nprecompressed = off\naccess_log = off\n";

/* As sfhttpd -T printed it before the key tables (byte for byte), with the
 * keys added since (listing limits, a site's access_log_format, etag, the
 * lease-break rescue, send_chunk_paced). */
static const char every_key_dump[] =
    "[server]\n"
    "listen = 127.0.0.1:0 proxy_protocol backlog=64\n"
    "listen = [::1]:0 ipv6only=off\n"
    "listen = unix:/run/sf-test.sock\n"
    "backlog = 128\nworkers = 3\nmaster = on\nreuseport = on\ndefer_accept = on\n"
    "user = root\ngroup = root\npid_file = /run/sf.pid\n"
    "header_timeout = 2.5\nkeepalive_timeout = 0.5\nsend_timeout = 30\n"
    "shutdown_timeout = 0.001\ndrain_delay = 2.5\nhealth_path = /-/health\n"
    "max_header_size = 16k\nmax_uri_length = 4097\n"
    "max_headers = 50\nsend_chunk = 1m\nsend_chunk_paced = 32k\nmax_ranges = 4\n"
    "max_connections = 500\n"
    "max_body_size = 0\naccess_log = /var/log/a.log\nerror_log = /var/log/e.log\n"
    "log_level = debug\nfile_guard = stat\nopen_file_cache_max = 2k\n"
    "small_file_size = 0\nsmall_file_budget = 2m\nsnapshot_budget = 8m\nsnapshot_dir = /var/tmp\n"
    "lease_break_wait = 0.02\nmax_listing_entries = 500\nlisting_cache_size = 1m\n"
    "listing_cache_max = 8\nstrict_hosts = on\naccess_log_format = json\n"
    "\n[site]\n"
    "root = /\nindex = index.html index.htm default.htm\nlisting = on\n"
    "dotfiles = allow\nsymlinks = none\nprecompressed = gzip, br\n"
    "cache_control = public, max-age=60\nexpires = 90s\n"
    "cache_control /assets/ = public, immutable\nexpires /assets/ = 2592000s\n"
    "expires *.css = 604800s\ncache_control *.html = no-cache\n"
    "error_page = 404 /errors/404.html\nerror_page = 410 /errors/404.html\n"
    "error_page = 500 /e.html\n"
    "server_names = example.com *.example.com [2001:db8::1] www.example.com\n"
    "default = off\n"
    "add_header = X-Frame-Options: DENY\nadd_header = Access-Control-Allow-Origin: *\n"
    "mime_types = md text/markdown\nmime_types = wasm application/wasm\n"
    "access_log = /var/log/site.log\naccess_log_format = vhost_combined\netag = content\n"
    "\n[site other]\n"
    "root = /\nindex = index.html\nlisting = off\ndotfiles = deny\nsymlinks = beneath\n"
    "precompressed = off\ndefault = on\naccess_log = off\netag = mtime\n";
/* clang-format on */

START_TEST(dump_every_key)
{
    struct sf_config cfg, again;
    char *errs = NULL;
    ck_assert_msg(load_text(&cfg, every_key, &errs) == 0, "%s", errs);
    free(errs);
    char *body = dump_body(&cfg);
    ck_assert_str_eq(body, every_key_dump);
    /* and the dump reads back into the same configuration */
    char text[sizeof(every_key_dump) + 64];
    snprintf(text, sizeof(text), "; dumped\n%s", body);
    ck_assert_msg(load_text(&again, text, &errs) == 0, "%s", errs);
    free(errs);
    char *body2 = dump_body(&again);
    ck_assert_str_eq(body2, every_key_dump);
    free(body);
    free(body2);
    sf_config_free(&cfg);
    sf_config_free(&again);
}
END_TEST

/* A site that sets only its root: every other key at its default. */
START_TEST(site_defaults)
{
    struct sf_config cfg;
    char *errs = NULL;
    ck_assert_int_eq(load_text(&cfg, "[site]\nroot = /\n", &errs), 0);
    const struct sf_site *s = &cfg.sites[0];
    ck_assert_uint_eq(s->nindex, 1);
    ck_assert_str_eq(s->index[0], "index.html");
    ck_assert(!s->listing && !s->dotfiles && !s->is_default);
    ck_assert_int_eq(s->symlinks, SF_SYMLINKS_BENEATH);
    ck_assert_uint_eq(s->nprecompressed, 3);
    ck_assert_int_eq(s->precompressed[0], SF_CODING_BR);
    ck_assert_int_eq(s->precompressed[1], SF_CODING_ZSTD);
    ck_assert_int_eq(s->precompressed[2], SF_CODING_GZIP);
    ck_assert_ptr_null(s->cache_control);
    ck_assert_int_eq(s->expires, -1);
    ck_assert_uint_eq(s->nrules + s->nerror_pages + s->nnames + s->nadd_headers + s->nmime_types,
                      0);
    ck_assert_ptr_null(s->access_log);
    ck_assert_int_eq(s->etag, SF_ETAG_MTIME);
    char *body = dump_body(&cfg);
    ck_assert_ptr_nonnull(strstr(body, "\n[site]\nroot = /\nindex = index.html\nlisting = off\n"
                                       "dotfiles = deny\nsymlinks = beneath\n"
                                       "precompressed = br, zstd, gzip\ndefault = off\n"));
    free(body);
    free(errs);
    sf_config_free(&cfg);
}
END_TEST

/* drain_delay and health_path: the values that mean off, and what the
 * dump says for them (and the auto of max_connections and
 * open_file_cache_max, their default) (the default dumps as off; an unset health_path is
 * left out, as every unset string is). */
static const struct {
    const char *text;
    unsigned drain_ms;
    const char *health;
    const char *dump; /* must appear in the dump */
} drain_cases[] = {
    {"", 0, NULL, "\ndrain_delay = off\nmax_header_size"},
    {"drain_delay = off\nhealth_path = off\n", 0, NULL, "\ndrain_delay = off\nmax_header_size"},
    {"drain_delay = 0\n", 0, NULL, "\ndrain_delay = off\n"},
    {"drain_delay = 5\n", 5000, NULL, "\ndrain_delay = 5\n"},
    {"drain_delay = 0.1s\n", 100, NULL, "\ndrain_delay = 0.1\n"},
    {"drain_delay = 3600\n", 3600000, NULL, "\ndrain_delay = 3600\n"},
    {"max_connections = auto\nopen_file_cache_max = AUTO\n", 0, NULL, "\nmax_connections = auto\n"},
    {"", 0, NULL, "\nopen_file_cache_max = auto\n"},
    {"open_file_cache_max = 4k\n", 0, NULL, "\nopen_file_cache_max = 4k\n"},
    {"health_path = /\n", 0, "/", "\nhealth_path = /\n"},
    {"health_path = /healthz\n", 0, "/healthz", "\nhealth_path = /healthz\n"},
    {"health_path = /.well-known/ready;v=1\n", 0, "/.well-known/ready;v=1",
     "\nhealth_path = /.well-known/ready;v=1\n"},
};

START_TEST(drain_values)
{
    char text[256], *errs = NULL;
    struct sf_config cfg;
    snprintf(text, sizeof(text), "[server]\n%s[site]\nroot = /\n", drain_cases[_i].text);
    ck_assert_msg(load_text(&cfg, text, &errs) == 0, "%s", errs);
    ck_assert_uint_eq(cfg.drain_delay_ms, drain_cases[_i].drain_ms);
    if (drain_cases[_i].health)
        ck_assert_str_eq(cfg.health_path, drain_cases[_i].health);
    else
        ck_assert_ptr_null(cfg.health_path);
    char *body = dump_body(&cfg);
    ck_assert_msg(strstr(body, drain_cases[_i].dump), "%s", body);
    if (!drain_cases[_i].health)
        ck_assert_ptr_null(strstr(body, "health_path"));
    free(body);
    free(errs);
    sf_config_free(&cfg);
}
END_TEST

/* precompressed: codings in the order given, each once; any case; off. */
static const struct {
    const char *v;
    size_t n;
    enum sf_coding want[SF_CODING_COUNT];
    const char *err;
} precompressed_cases[] = {
    {"gzip", 1, {SF_CODING_GZIP}, NULL},
    {"ZSTD, br", 2, {SF_CODING_ZSTD, SF_CODING_BR}, NULL},
    {"gzip,br gzip br", 2, {SF_CODING_GZIP, SF_CODING_BR}, NULL},
    {"br zstd gzip", 3, {SF_CODING_BR, SF_CODING_ZSTD, SF_CODING_GZIP}, NULL},
    {"off", 0, {0}, NULL},
    {"No", 0, {0}, NULL},
    {"x-gzip", 0, {0}, ":3: precompressed: 'x-gzip' is not br, zstd, gzip or off"},
    {"gz", 0, {0}, ":3: precompressed: 'gz' is not br, zstd, gzip or off"},
    {", ,", 0, {0}, ":3: precompressed: empty list"},
};

START_TEST(precompressed_list)
{
    char text[128], *errs = NULL;
    struct sf_config cfg;
    snprintf(text, sizeof(text), "[site]\nroot = /\nprecompressed = %s\n",
             precompressed_cases[_i].v);
    int nerr = load_text(&cfg, text, &errs);
    const struct sf_site *s = &cfg.sites[0];
    if (precompressed_cases[_i].err) {
        ck_assert_int_eq(nerr, 1);
        ck_assert_msg(strstr(errs, precompressed_cases[_i].err), "%s", errs);
        ck_assert_uint_eq(s->nprecompressed, 3); /* the default stays */
    } else {
        ck_assert_msg(nerr == 0, "%s", errs);
        ck_assert_uint_eq(s->nprecompressed, precompressed_cases[_i].n);
        for (size_t i = 0; i < s->nprecompressed; i++)
            ck_assert_int_eq(s->precompressed[i], precompressed_cases[_i].want[i]);
    }
    sf_config_free(&cfg);
    free(errs);
}
END_TEST

/* Which keys may repeat: the repeatable ones add (or the last wins), the
 * others are refused at the line that repeats them. */
START_TEST(repeat_rules)
{
    struct sf_config cfg;
    char *errs = NULL;
    ck_assert_int_eq(load_text(&cfg,
                               "[site]\nroot = /\nexpires = 1h\nexpires = 2h\n"
                               "cache_control /a/ = x\ncache_control /a/ = y\n"
                               "cache_control = p\ncache_control = q\n",
                               &errs),
                     1);
    ck_assert_ptr_nonnull(strstr(errs, ":8: duplicate key 'cache_control' (first on line 7)"));
    const struct sf_site *s = &cfg.sites[0];
    ck_assert_int_eq(s->expires, 7200);
    ck_assert_uint_eq(s->nrules, 1);
    ck_assert_str_eq(s->rules[0].cache_control, "y");
    ck_assert_str_eq(s->cache_control, "p");
    sf_config_free(&cfg);
    free(errs);
}
END_TEST

/* ---- values the command line shares ------------------------------------------- */

static const struct {
    const char *s;
    int rc, n; /* n -1: the number of CPUs */
} workers_cases[] = {
    {"0", 0, 0},
    {"1", 0, 1},
    {"4096", 0, 4096},
    {"4097", -ERANGE, 0},
    {"99999999999999999999999", -ERANGE, 0},
    {"auto", 0, -1},
    {"AUTO", 0, -1},
    {"", -EINVAL, 0},
    {"+3", -EINVAL, 0},
    {" 3", -EINVAL, 0},
    {"3 ", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {"many", -EINVAL, 0},
    {"0x10", -EINVAL, 0},
};

START_TEST(parse_workers)
{
    int n = 12345;
    int rc = sf_config_parse_workers(workers_cases[_i].s, &n);
    ck_assert_msg(rc == workers_cases[_i].rc, "'%s': rc %d", workers_cases[_i].s, rc);
    if (rc) {
        ck_assert_int_eq(n, 12345);
        return;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = workers_cases[_i].n >= 0 ? workers_cases[_i].n
               : cpus < 1               ? 1
               : cpus > 4096            ? 4096
                                        : (int)cpus;
    ck_assert_int_eq(n, want);
}
END_TEST

START_TEST(levels)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i <= SF_LOG_DEBUG; i++) {
        enum sf_log_level lv = SF_LOG_INFO;
        ck_assert_str_eq(sf_config_level_name((enum sf_log_level)i), names[i]);
        ck_assert_int_eq(sf_config_parse_level(names[i], &lv), 0);
        ck_assert_int_eq(lv, i);
    }
    enum sf_log_level lv = SF_LOG_ERROR;
    ck_assert_int_eq(sf_config_parse_level("DeBuG", &lv), 0);
    ck_assert_int_eq(lv, SF_LOG_DEBUG);
    ck_assert_int_eq(sf_config_parse_level("loud", &lv), -EINVAL);
    ck_assert_int_eq(sf_config_parse_level("", &lv), -EINVAL);
    ck_assert_int_eq(sf_config_parse_level("warning", &lv), -EINVAL);
    ck_assert_int_eq(lv, SF_LOG_DEBUG);
}
END_TEST

static Suite *
config_keys_suite(void)
{
    Suite *s = suite_create("config_keys");
    TCase *tc = tcase_create("syntax");
    tcase_add_loop_test(tc, line_syntax, 0, (int)(sizeof(syntax_cases) / sizeof(syntax_cases[0])));
    tcase_add_test(tc, section_syntax);
    tcase_add_test(tc, line_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_test(tc, dump_every_key);
    tcase_add_test(tc, site_defaults);
    tcase_add_loop_test(tc, precompressed_list, 0,
                        (int)(sizeof(precompressed_cases) / sizeof(precompressed_cases[0])));
    tcase_add_test(tc, repeat_rules);
    tcase_add_loop_test(tc, drain_values, 0, (int)(sizeof(drain_cases) / sizeof(drain_cases[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_loop_test(tc, parse_workers, 0,
                        (int)(sizeof(workers_cases) / sizeof(workers_cases[0])));
    tcase_add_test(tc, levels);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(config_keys_suite());
}
