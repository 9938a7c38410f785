/*
 * test_config.c - the config module: defaults, a good file with every key,
 * relative paths, a table of bad files and the "FILE:LINE: message" each
 * must produce, include (nesting, errors naming the included file, cycles,
 * depth), listen addresses, quick mode, validation and the dump.
 */
#include "sfhttpd/config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit_util.h"

/* Each test runs in a forked child with its own temporary folder. */
static char tmpdir[64];

static void
setup(void)
{
    unit_tmpdir(tmpdir, sizeof(tmpdir), "test_config");
}

static void
teardown(void)
{
    unit_rmtree(tmpdir);
}

/* Write len bytes to tmpdir/name; returns the path (static buffer). */
static const char *
write_file(const char *name, const char *content, size_t len)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(content, 1, len, f), len);
    fclose(f);
    return path;
}

static void
make_dir(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* Load content as a config file; errors land in *out (caller frees). */
static int
load_string(struct sf_config *cfg, const char *content, size_t len, const char **path, char **out)
{
    const char *p = write_file("test.conf", content, len);
    size_t outlen = 0;
    FILE *errs = open_memstream(out, &outlen);
    ck_assert_ptr_nonnull(errs);
    sf_config_defaults(cfg);
    int n = sf_config_load(cfg, p, errs);
    fclose(errs);
    if (path)
        *path = p;
    return n;
}

START_TEST(defaults)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    ck_assert_uint_eq(cfg.nlisten, 1);
    ck_assert_str_eq(cfg.listen[0].addr, "127.0.0.1:8080");
    ck_assert(cfg.listen_is_default);
    ck_assert_int_eq(cfg.backlog, 511);
    ck_assert_int_eq(cfg.workers, 1);
    ck_assert_uint_eq(cfg.header_timeout_ms, 10000);
    ck_assert_uint_eq(cfg.keepalive_timeout_ms, 15000);
    ck_assert_uint_eq(cfg.send_timeout_ms, 60000);
    ck_assert_uint_eq(cfg.shutdown_timeout_ms, 10000);
    ck_assert_uint_eq(cfg.drain_delay_ms, 0);
    ck_assert_ptr_null(cfg.health_path);
    ck_assert_uint_eq(cfg.max_header_size, 8192);
    ck_assert_uint_eq(cfg.max_uri_length, 8192);
    ck_assert_uint_eq(cfg.max_headers, 100);
    ck_assert_uint_eq(cfg.send_chunk, 2 * 1024 * 1024);
    ck_assert_uint_eq(cfg.send_chunk_paced, 64 * 1024);
    ck_assert_uint_eq(cfg.max_ranges, 16);
    ck_assert_uint_eq(cfg.max_connections, 0); /* auto */
    ck_assert_uint_eq(cfg.max_body_size, 1024 * 1024);
    ck_assert_int_eq(cfg.file_guard, SF_GUARD_LEASE);
    ck_assert_uint_eq(cfg.open_file_cache_max, 0); /* auto */
    ck_assert_uint_eq(cfg.small_file_size, 16 * 1024);
    ck_assert_uint_eq(cfg.small_file_budget, 64 * 1024 * 1024);
    ck_assert_uint_eq(cfg.snapshot_budget, 32 * 1024 * 1024);
    ck_assert_ptr_null(cfg.snapshot_dir);
    ck_assert_uint_eq(cfg.lease_break_wait_ms, 50);
    ck_assert_uint_eq(cfg.max_listing_entries, 10000);
    ck_assert_uint_eq(cfg.listing_cache_size, 32 * 1024 * 1024);
    ck_assert_uint_eq(cfg.listing_cache_max, 256);
    ck_assert_str_eq(cfg.access_log, "-");
    ck_assert_str_eq(cfg.error_log, "-");
    ck_assert_int_eq(cfg.log_level, SF_LOG_INFO);
    ck_assert_uint_eq(cfg.nsites, 0);
    ck_assert_ptr_null(cfg.path);
    sf_config_free(&cfg);
    ck_assert_uint_eq(cfg.nlisten, 0);
    ck_assert_ptr_null(cfg.listen[0].addr);
    sf_config_free(&cfg); /* zeroed: safe twice */
    sf_config_free(NULL);
}
END_TEST

/* clang-format off */
static const char good_conf[] =
    "; a comment\n"
    "# another comment\n"
    "\n"
    "[server]\n"
    "listen = 0.0.0.0:0\n"
    "listen = [::1]:9000\n"
    "  backlog = 128 ; indented, with an inline comment\n"
    "workers = 3\n"
    "header_timeout = 2.5\n"
    "keepalive_timeout = 500ms\n"
    "send_timeout = 30s\n"
    "shutdown_timeout = 0.0001\n"
    "max_header_size = 16k\n"
    "max_uri_length = 4096\n"
    "max_headers = 50\n"
    "send_chunk = 1M\n"
    "send_chunk_paced = 32k\n"
    "max_ranges = 4\n"
    "file_guard = stat\n"
    "open_file_cache_max = 50\n"
    "small_file_size = 0\n"
    "small_file_budget = 1m\n"
    "max_listing_entries = 500\n"
    "listing_cache_size = 0\n"
    "listing_cache_max = 7\n"
    "max_connections = 500\n"
    "access_log = logs/access.log\n"
    "error_log = /var/log/sfhttpd.log\n"
    "log_level = debug\n"
    "strict_hosts = on\n"
    "access_log_format = json\n"
    "\n"
    "[site]\n"
    "root = www/\n"
    "index = index.html index.htm\n"
    "listing = on\n"
    "dotfiles = allow\n"
    "symlinks = none\n"
    "precompressed = gzip,br\n"
    "cache_control = public, max-age=60\n"
    "expires = 2h\n"
    "cache_control /assets/ = public, immutable\n"
    "expires *.css = 7d\n"
    "expires /assets/ = 30d\n"
    "error_page = 404 410 /errors/404.html\n"
    "server_names = Example.COM *.example.com 192.0.2.1 [2001:DB8::1] www.example.com.\n"
    "add_header = X-Frame-Options: DENY\n"
    "add_header = Access-Control-Allow-Origin:*\n"
    "add_header = Content-Security-Policy: default-src 'self'; img-src *\n"
    "mime_types = md text/markdown\n"
    "mime_types = .WASM application/wasm\n"
    "access_log = logs/site.log\n"
    "access_log_format = vhost_combined\n"
    "\n"
    "[ site example ]\n"
    "root = /\n"
    "server_names = other.test\n"
    "default = on\n"
    "access_log = off\n";
/* clang-format on */

/* The keys of virtual hosts, headers, MIME types and logs in good_conf. */
static void
check_good_vhosts(const struct sf_config *cfg)
{
    char want[PATH_MAX + 64];
    ck_assert(cfg->strict_hosts);
    ck_assert_int_eq(cfg->access_log_format, SF_LOG_FORMAT_JSON);
    const struct sf_site *s = &cfg->sites[0];
    static const char *const names[] = {"example.com", "*.example.com", "192.0.2.1",
                                        "[2001:db8::1]", "www.example.com"};
    ck_assert_uint_eq(s->nnames, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(s->names[i].name, names[i]);
        ck_assert_uint_eq(s->names[i].len, strlen(names[i]));
        ck_assert(s->names[i].wildcard == (i == 1));
    }
    ck_assert(!s->is_default);
    ck_assert_uint_eq(s->nadd_headers, 3);
    ck_assert_str_eq(s->add_headers[0], "X-Frame-Options: DENY");
    ck_assert_str_eq(s->add_headers[1], "Access-Control-Allow-Origin: *");
    ck_assert_str_eq(s->add_headers[2], "Content-Security-Policy: default-src 'self'; img-src *");
    ck_assert_uint_eq(s->nmime_types, 2);
    ck_assert_str_eq(s->mime_types[0].ext, "md");
    ck_assert_str_eq(s->mime_types[0].type, "text/markdown");
    ck_assert_str_eq(s->mime_types[1].ext, "wasm");
    ck_assert_str_eq(s->mime_types[1].type, "application/wasm");
    snprintf(want, sizeof(want), "%s/logs/site.log", tmpdir);
    ck_assert_str_eq(s->access_log, want);
    ck_assert(s->access_log_format_set);
    ck_assert_int_eq(s->access_log_format, SF_LOG_FORMAT_VHOST_COMBINED);
    ck_assert(!cfg->sites[1].access_log_format_set);
}

static void
check_good(const struct sf_config *cfg)
{
    char want[PATH_MAX + 64];
    ck_assert_uint_eq(cfg->nlisten, 2);
    ck_assert(!cfg->listen_is_default);
    ck_assert_str_eq(cfg->listen[0].addr, "0.0.0.0:0");
    ck_assert_str_eq(cfg->listen[1].addr, "[::1]:9000");
    ck_assert_int_eq(cfg->backlog, 128);
    ck_assert_int_eq(cfg->workers, 3);
    ck_assert_uint_eq(cfg->header_timeout_ms, 2500);
    ck_assert_uint_eq(cfg->keepalive_timeout_ms, 500);
    ck_assert_uint_eq(cfg->send_timeout_ms, 30000);
    ck_assert_uint_eq(cfg->shutdown_timeout_ms, 1);
    ck_assert_uint_eq(cfg->max_header_size, 16384);
    ck_assert_uint_eq(cfg->max_uri_length, 4096);
    ck_assert_uint_eq(cfg->max_headers, 50);
    ck_assert_uint_eq(cfg->send_chunk, 1024 * 1024);
    ck_assert_uint_eq(cfg->send_chunk_paced, 32 * 1024);
    ck_assert_uint_eq(cfg->max_ranges, 4);
    ck_assert_int_eq(cfg->file_guard, SF_GUARD_STAT);
    ck_assert_uint_eq(cfg->open_file_cache_max, 50);
    ck_assert_uint_eq(cfg->small_file_size, 0);
    ck_assert_uint_eq(cfg->small_file_budget, 1024 * 1024);
    ck_assert_uint_eq(cfg->max_listing_entries, 500);
    ck_assert_uint_eq(cfg->listing_cache_size, 0);
    ck_assert_uint_eq(cfg->listing_cache_max, 7);
    ck_assert_uint_eq(cfg->max_connections, 500);
    snprintf(want, sizeof(want), "%s/logs/access.log", tmpdir);
    ck_assert_str_eq(cfg->access_log, want);
    ck_assert_str_eq(cfg->error_log, "/var/log/sfhttpd.log");
    ck_assert_int_eq(cfg->log_level, SF_LOG_DEBUG);

    ck_assert_uint_eq(cfg->nsites, 2);
    const struct sf_site *s = &cfg->sites[0];
    ck_assert_str_eq(s->name, "site");
    snprintf(want, sizeof(want), "%s/www", tmpdir);
    ck_assert_str_eq(s->root, want);
    ck_assert_uint_eq(s->nindex, 2);
    ck_assert_str_eq(s->index[0], "index.html");
    ck_assert_str_eq(s->index[1], "index.htm");
    ck_assert(s->listing);
    ck_assert(s->dotfiles);
    ck_assert_int_eq(s->symlinks, SF_SYMLINKS_NONE);
    ck_assert_uint_eq(s->nprecompressed, 2);
    ck_assert_int_eq(s->precompressed[0], SF_CODING_GZIP);
    ck_assert_int_eq(s->precompressed[1], SF_CODING_BR);
    ck_assert_str_eq(s->cache_control, "public, max-age=60");
    ck_assert_int_eq(s->expires, 7200);
    ck_assert_uint_eq(s->nrules, 2);
    ck_assert_str_eq(s->rules[0].match, "/assets/");
    ck_assert(!s->rules[0].is_ext);
    ck_assert_str_eq(s->rules[0].cache_control, "public, immutable");
    ck_assert_int_eq(s->rules[0].expires, 30 * 86400);
    ck_assert_str_eq(s->rules[1].match, ".css");
    ck_assert(s->rules[1].is_ext);
    ck_assert_ptr_null(s->rules[1].cache_control);
    ck_assert_int_eq(s->rules[1].expires, 7 * 86400);
    ck_assert_uint_eq(s->nerror_pages, 2);
    ck_assert_int_eq(s->error_pages[0].status, 404);
    ck_assert_int_eq(s->error_pages[1].status, 410);
    ck_assert_str_eq(s->error_pages[1].path, "/errors/404.html");

    s = &cfg->sites[1];
    ck_assert_str_eq(s->name, "site example");
    ck_assert_str_eq(s->root, "/");
    ck_assert_uint_eq(s->nindex, 1);
    ck_assert_str_eq(s->index[0], "index.html");
    ck_assert(!s->listing);
    ck_assert(!s->dotfiles);
    ck_assert_int_eq(s->symlinks, SF_SYMLINKS_BENEATH);
    ck_assert_uint_eq(s->nprecompressed, 3);
    ck_assert_int_eq(s->precompressed[0], SF_CODING_BR);
    ck_assert_int_eq(s->precompressed[1], SF_CODING_ZSTD);
    ck_assert_int_eq(s->precompressed[2], SF_CODING_GZIP);
    ck_assert_ptr_null(s->cache_control);
    ck_assert_int_eq(s->expires, -1);
    ck_assert_uint_eq(s->nrules, 0);
    ck_assert_uint_eq(s->nnames, 1);
    ck_assert_str_eq(s->names[0].name, "other.test");
    ck_assert(s->is_default);
    ck_assert_uint_eq(s->nadd_headers, 0);
    ck_assert_uint_eq(s->nmime_types, 0);
    ck_assert_str_eq(s->access_log, "off");
    check_good_vhosts(cfg);
}

START_TEST(good_config)
{
    make_dir("www");
    struct sf_config cfg;
    char *out = NULL;
    const char *path;
    int n = load_string(&cfg, good_conf, sizeof(good_conf) - 1, &path, &out);
    ck_assert_msg(n == 0, "errors: %s", out);
    ck_assert_str_eq(out, "");
    ck_assert_str_eq(cfg.path, path);
    check_good(&cfg);
    ck_assert_int_eq(sf_config_validate(&cfg, stderr), 0);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(dump_round_trip)
{
    make_dir("www");
    struct sf_config cfg, again;
    char *out = NULL, *d1 = NULL, *d2 = NULL;
    size_t n1 = 0, n2 = 0;
    ck_assert_int_eq(load_string(&cfg, good_conf, sizeof(good_conf) - 1, NULL, &out), 0);
    FILE *f = open_memstream(&d1, &n1);
    sf_config_dump(&cfg, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(d1, "header_timeout = 2.5\n"));
    ck_assert_ptr_nonnull(strstr(d1, "keepalive_timeout = 0.5\n"));
    ck_assert_ptr_nonnull(strstr(d1, "shutdown_timeout = 0.001\n"));
    ck_assert_ptr_nonnull(strstr(d1, "max_header_size = 16k\n"));
    ck_assert_ptr_nonnull(strstr(d1, "send_chunk = 1m\n"));
    ck_assert_ptr_nonnull(strstr(d1, "send_chunk_paced = 32k\n"));
    ck_assert_ptr_nonnull(strstr(d1, "[site example]\n"));

    const char *dumped = write_file("dump.conf", d1, n1);
    sf_config_defaults(&again);
    ck_assert_int_eq(sf_config_load(&again, dumped, stderr), 0);
    check_good(&again);
    f = open_memstream(&d2, &n2);
    sf_config_dump(&again, f);
    fclose(f);
    /* identical but for the first line, which names the file */
    ck_assert_str_eq(strchr(d1, '\n'), strchr(d2, '\n'));
    sf_config_free(&cfg);
    sf_config_free(&again);
    free(out);
    free(d1);
    free(d2);
}
END_TEST

START_TEST(relative_paths)
{
    static const char conf[] = "[server]\naccess_log = ./a/../b.log\n"
                               "[site]\nroot = ../www\n"
                               "[site two]\nroot = .\n";
    make_dir("conf");
    make_dir("www");
    write_file("conf/x.conf", conf, sizeof(conf) - 1);
    char old[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 64];
    ck_assert_ptr_nonnull(getcwd(old, sizeof(old)));
    /* a relative config path resolves against the current folder */
    ck_assert_int_eq(chdir(tmpdir), 0);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    ck_assert_int_eq(sf_config_load(&cfg, "conf/x.conf", stderr), 0);
    ck_assert_int_eq(chdir(old), 0);
    snprintf(want, sizeof(want), "%s/conf/../www", cwd);
    ck_assert_str_eq(cfg.sites[0].root, want);
    snprintf(want, sizeof(want), "%s/conf", cwd);
    ck_assert_str_eq(cfg.sites[1].root, want);
    snprintf(want, sizeof(want), "%s/conf/a/../b.log", cwd);
    ck_assert_str_eq(cfg.access_log, want);
    ck_assert_int_eq(sf_config_validate(&cfg, stderr), 0);
    sf_config_free(&cfg);
}
END_TEST

START_TEST(workers_auto)
{
    struct sf_config cfg;
    char *out = NULL;
    static const char conf[] = "[server]\nworkers = auto\n";
    ck_assert_int_eq(load_string(&cfg, conf, sizeof(conf) - 1, NULL, &out), 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    ck_assert_int_eq(cfg.workers, cpus > 0 ? cpus : 1);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

/* ---- bad configs ---------------------------------------------------------- */

static const struct {
    const char *conf;
    int nerr;
    const char *want[4]; /* each appears after the file name */
} bad_cases[] = {
    /* virtual hosts, add_header, mime_types, access logs */
    {"[server]\nstrict_hosts = maybe\n", 1, {":2: strict_hosts: 'maybe' is not on or off"}},
    {"[server]\naccess_log_format = xml\n",
     1,
     {":2: access_log_format: 'xml' is not combined, vhost_combined or json"}},
    {"[site]\nroot = /\naccess_log_format = apache\n",
     1,
     {":3: access_log_format: 'apache' is not combined, vhost_combined or json"}},
    {"[site]\nroot = /\naccess_log_format = json\naccess_log_format = json\n",
     1,
     {":4: duplicate key 'access_log_format' (first on line 3)"}},
    {"[site]\nroot = /\nserver_names = ok.test bad..test\n",
     1,
     {":3: server_names: 'bad..test': not a host name or IP address"}},
    {"[site]\nroot = /\nserver_names = a.test:80\n",
     1,
     {":3: server_names: 'a.test:80': no port in server names"}},
    {"[site]\nroot = /\nserver_names = a.*.test\n",
     1,
     {":3: server_names: 'a.*.test': a wildcard must be a leading \"*.\""}},
    {"[site]\nroot = /\nserver_names = [::1\n",
     1,
     {":3: server_names: '[::1': an IPv6 address needs brackets"}},
    {"[site]\nroot = /\nserver_names =\n", 1, {":3: server_names: no name"}},
    {"[site]\nroot = /\nserver_names = a.test A.TEST\n",
     1,
     {":3: server_names: 'A.TEST' given twice"}},
    {"[site a]\nroot = /\nserver_names = a.test *.a.test\n\n[site b]\nroot = /\n"
     "server_names = b.test *.A.test\n",
     1,
     {":7: server_names: '*.A.test' already names [site a] (line 3)"}},
    {"[site]\nroot = /\nserver_names = a.test\nserver_names = b.test\n",
     1,
     {":4: duplicate key 'server_names' (first on line 3)"}},
    {"[site a]\nroot = /\ndefault = on\n[site b]\nroot = /\ndefault = yes\n",
     1,
     {":6: default: [site a] is already the default site (line 3)"}},
    {"[site a]\nroot = /\ndefault = on\n[site b]\nroot = /\ndefault = off\n", 0, {NULL}},
    {"[site]\nroot = /\ndefault = maybe\n", 1, {":3: default: 'maybe' is not on or off"}},
    {"[site]\nroot = /\nadd_header = X-Foo\n",
     1,
     {":3: add_header: expected 'Name: value', got 'X-Foo'"}},
    {"[site]\nroot = /\nadd_header = : x\n", 1, {":3: add_header: expected 'Name: value'"}},
    {"[site]\nroot = /\nadd_header = Bad Name: x\n",
     1,
     {":3: add_header: 'Bad Name' is not a header name"}},
    {"[site]\nroot = /\nadd_header = X(1): x\n",
     1,
     {":3: add_header: 'X(1)' is not a header name"}},
    {"[site]\nroot = /\nadd_header = content-length: 5\n",
     1,
     {":3: add_header: content-length is set by the server"}},
    {"[site]\nroot = /\nadd_header = Connection: close\n",
     1,
     {":3: add_header: Connection is set by the server"}},
    {"[site]\nroot = /\nadd_header = X-A:\n", 1, {":3: add_header: X-A: empty value"}},
    {"[site]\nroot = /\nadd_header = X-A: a\x01b\n",
     1,
     {":3: add_header: X-A: control character in value"}},
    {"[site]\nroot = /\nmime_types = md\n",
     1,
     {":3: mime_types: expected 'EXTENSION TYPE', got 'md'"}},
    {"[site]\nroot = /\nmime_types = m/d text/plain\n",
     1,
     {":3: mime_types: 'm/d' is not a file extension"}},
    {"[site]\nroot = /\nmime_types = md text\n",
     1,
     {":3: mime_types: 'text' is not a media type (type/subtype)"}},
    {"[site]\nroot = /\nmime_types = md text/plain junk\n",
     1,
     {":3: mime_types: 'text/plain junk' is not a media type"}},
    {"[site]\nroot = /\nmime_types = md text/markdown\nmime_types = MD text/plain\n",
     1,
     {":4: mime_types: 'md' given twice"}},
    {"[site]\nroot = /\naccess_log =\n", 1, {":3: access_log: empty value"}},
    {"[server]\nfoo = 1\n", 1, {":2: unknown key 'foo' in [server]"}},
    {"[bogus]\nx = 1\n", 1, {":1: unknown section [bogus]"}},
    {"backlog = 5\n", 1, {":1: 'backlog' outside a section"}},
    {"[server]\nbacklog = 0\n", 1, {":2: backlog: '0' out of range (1..65535)"}},
    {"[server]\nbacklog = 65536\n", 1, {":2: backlog: '65536' out of range"}},
    {"[server]\nbacklog = abc\n", 1, {":2: backlog: 'abc' is not a number"}},
    {"[server]\nbacklog = -1\n", 1, {":2: backlog: '-1' is not a number"}},
    {"[server]\nbacklog = 99999999999999999999999\n", 1, {":2: backlog: '9"}},
    {"[server]\nbacklog = 10\nbacklog = 20\n",
     1,
     {":3: duplicate key 'backlog' (first on line 2)"}},
    {"[server]\nworkers = many\n", 1, {":2: workers: 'many' is not a number or 'auto'"}},
    /* load-balancer drain */
    {"[server]\ndrain_delay = soon\n",
     1,
     {":2: drain_delay: 'soon' is not off or a time (seconds, fractions allowed"}},
    {"[server]\ndrain_delay = -1\n", 1, {":2: drain_delay: '-1' is not off or a time"}},
    {"[server]\ndrain_delay = 3601\n",
     1,
     {":2: drain_delay: '3601' out of range (at most 1 hour)"}},
    {"[server]\ndrain_delay = 1\ndrain_delay = 2\n",
     1,
     {":3: duplicate key 'drain_delay' (first on line 2)"}},
    {"[server]\nhealth_path = healthz\n",
     1,
     {":2: health_path: 'healthz' is not off or a path (starting with '/'"}},
    {"[server]\nhealth_path = /health?full=1\n", 1, {":2: health_path: '/health?full=1' is not"}},
    {"[server]\nhealth_path = /health#top\n", 1, {":2: health_path: '/health#top' is not"}},
    {"[server]\nhealth_path = /health%7a\n", 1, {":2: health_path: '/health%7a' is not"}},
    {"[server]\nhealth_path = /a\\b\n", 1, {":2: health_path: '/a\\b' is not"}},
    {"[server]\nhealth_path = /a b\n", 1, {":2: health_path: '/a b' is not"}},
    {"[server]\nhealth_path = /caf\xc3\xa9\n", 1, {":2: health_path: '/caf"}},
    {"[server]\nhealth_path =\n", 1, {":2: health_path: empty value"}},
    {"[server]\nheader_timeout = 0\n", 1, {":2: header_timeout: '0' out of range"}},
    {"[server]\nsend_timeout = 86401\n", 1, {":2: send_timeout: '86401' out of range"}},
    {"[server]\nsend_timeout = 2d\n", 1, {":2: send_timeout: '2d' is not a time"}},
    {"[server]\nsend_timeout = .\n", 1, {":2: send_timeout: '.' is not a time"}},
    {"[server]\nmax_header_size = 512\n", 1, {":2: max_header_size: '512' out of range"}},
    {"[server]\nmax_header_size = 2m\n", 1, {":2: max_header_size: '2m' out of range"}},
    {"[server]\nmax_header_size = 8x\n", 1, {":2: max_header_size: '8x' is not a size"}},
    {"[server]\nmax_header_size = 8kb\n", 1, {":2: max_header_size: '8kb' is not a size"}},
    {"[server]\nmax_headers = 1001\n", 1, {":2: max_headers: '1001' out of range"}},
    {"[server]\nmax_ranges = 65\n", 1, {":2: max_ranges: '65' out of range"}},
    {"[server]\nfile_guard = maybe\n", 1, {":2: file_guard: 'maybe' is not lease, stat or off"}},
    {"[site]\nroot = /\nexpires = soon\n", 1, {":3: expires: 'soon' is not a duration"}},
    {"[site]\nroot = /\ncache_control assets = x\n",
     1,
     {":3: 'assets': expected a path prefix (/...) or an extension (*.ext)"}},
    {"[site]\nroot = /\nerror_page = 200 /x.html\n",
     1,
     {":3: error_page: '200' is not a status from 400 to 599"}},
    {"[site]\nroot = /\nerror_page = 404 x.html\n",
     1,
     {":3: error_page: expected 'STATUS... /PATH', got '404 x.html'"}},
    {"[server]\nopen_file_cache_max = 0\n", 1, {":2: open_file_cache_max: '0' out of range"}},
    {"[server]\nopen_file_cache_max = many\n",
     1,
     {":2: open_file_cache_max: 'many' is not a size (a number, or with k, m or g) or auto"}},
    {"[server]\nmax_connections = 0\n", 1, {":2: max_connections: '0' out of range"}},
    {"[server]\nmax_connections = lots\n",
     1,
     {":2: max_connections: 'lots' is not a number or auto"}},
    {"[server]\nsmall_file_size = 1g\n", 1, {":2: small_file_size: '1g' out of range"}},
    {"[server]\nmax_listing_entries = 0\n", 1, {":2: max_listing_entries: '0' out of range"}},
    {"[server]\nlisting_cache_size = 17g\n", 1, {":2: listing_cache_size: '17g' out of range"}},
    {"[server]\nlisting_cache_max = 0\n", 1, {":2: listing_cache_max: '0' out of range"}},
    {"[server]\nmax_body_size = 2g\n", 1, {":2: max_body_size: '2g' out of range"}},
    {"[server]\nmax_body_size = lots\n", 1, {":2: max_body_size: 'lots' is not a size"}},
    {"[server]\nlog_level = loud\n", 1, {":2: log_level: 'loud' is not error"}},
    {"[server]\nerror_log = off\n", 1, {":2: error_log: 'off' is not a path or '-'"}},
    {"[server]\nlisten = localhost:http\n", 1, {":2: listen: 'localhost:http' is not an address"}},
    {"[server]\nlisten = 1.2.3.4:80\nlisten = 1.2.3.4:80\n",
     1,
     {":3: listen: '1.2.3.4:80' given twice"}},
    {"[site]\nindex = index.html\n", 1, {":1: [site]: missing root"}},
    /* processes, listeners, privileges */
    {"[server]\nmaster = maybe\n", 1, {":2: master: 'maybe' is not auto, on or off"}},
    {"[server]\nreuseport = sometimes\n", 1, {":2: reuseport: 'sometimes' is not on or off"}},
    {"[server]\ndefer_accept = 2\n", 1, {":2: defer_accept: '2' is not on or off"}},
    {"[server]\nuser = no-such-user-sf\n", 1, {":2: user: no such user 'no-such-user-sf'"}},
    {"[server]\ngroup = no-such-group-sf\n", 1, {":2: group: no such group 'no-such-group-sf'"}},
    {"[server]\npid_file =\n", 1, {":2: pid_file: empty path"}},
    {"[server]\nuser = root\nuser = root\n", 1, {":3: duplicate key 'user' (first on line 2)"}},
    {"[server]\nlisten = 1.2.3.4:80 fast\n", 1, {":2: listen: 'fast' is not an option"}},
    {"[server]\nlisten = 1.2.3.4:80 backlog=0\n", 1, {":2: listen: 'backlog=0' is not an option"}},
    {"[server]\nlisten = 1.2.3.4:80 backlog\n", 1, {":2: listen: 'backlog' is not an option"}},
    {"[server]\nlisten = 1.2.3.4:80 ipv6only=off\n",
     1,
     {":2: listen: ipv6only applies to [IPv6] addresses only"}},
    {"[server]\nlisten = [::1]:80 ipv6only=maybe\n", 1, {":2: listen: 'ipv6only=maybe' is not"}},
    {"[server]\nlisten = 1.2.3.4:80 proxy_protocol=yes please\n",
     1,
     {":2: listen: 'please' is not an option"}},
    {"[server]\nlisten = unix:relative.sock\n", 1, {":2: listen: 'unix:relative.sock' is not"}},
    {"[server]\nlisten = unix:/a.sock\nlisten = unix:/a.sock proxy_protocol\n",
     1,
     {":3: listen: 'unix:/a.sock' given twice"}},
    {"[site]\nroot = /nonexistent/dir\n",
     1,
     {":2: root: /nonexistent/dir: No such file or directory"}},
    {"[site]\nroot = /dev/null\n", 1, {":2: root: /dev/null: Not a directory"}},
    {"[site]\nroot =\n", 2, {":2: root: empty path", ":1: [site]: missing root"}},
    {"[site]\nroot = /\nlisting = maybe\n", 1, {":3: listing: 'maybe' is not on or off"}},
    {"[site]\nroot = /\ndotfiles = yes\n", 1, {":3: dotfiles: 'yes' is not allow or deny"}},
    {"[site]\nroot = /\nsymlinks = always\n", 1, {":3: symlinks: 'always' is not"}},
    {"[site]\nroot = /\netag = hash\n", 1, {":3: etag: 'hash' is not mtime or content"}},
    {"[site]\nroot = /\netag = off\n", 1, {":3: etag: 'off' is not mtime or content"}},
    {"[site]\nroot = /\nprecompressed = br, lzma\n",
     1,
     {":3: precompressed: 'lzma' is not br, zstd, gzip or off"}},
    {"[site]\nroot = /\nindex = a/b.html\n", 1, {":3: index: 'a/b.html' is not a file name"}},
    {"[site]\nroot = /\nindex = a b c d e f g h i\n", 1, {":3: index: more than 8 names"}},
    {"[site]\nroot = /\ncache_control =\n", 1, {":3: cache_control: empty value"}},
    {"[site]\nroot = /\nfoo = 1\n", 1, {":3: unknown key 'foo' in [site]"}},
    {"[site]\nroot = /\nroot = /\n", 1, {":3: duplicate key 'root' (first on line 2)"}},
    {"[site]\nroot = /\n\n[site]\nroot = /\n",
     1,
     {":4: duplicate section [site] (first on line 1)"}},
    {"[site \n", 1, {":1: section header without ']'"}},
    {"[server] junk\n", 1, {":1: text after section header"}},
    {"[server]\njust words\n", 1, {":2: expected KEY = VALUE (did you mean 'just = words'?)\n"}},
    {"[server]\n= 5\n", 1, {":2: missing key before '='"}},
    {"[server]\nbacklog ; = 5\n", 1, {":2: expected KEY = VALUE\n"}},
    /* a key without its '=': inih would split "listen 127.0.0.1:80" at
     * the ':' into an unknown key */
    {"[server]\nlisten 127.0.0.1:80\n",
     1,
     {":2: expected KEY = VALUE (did you mean 'listen = 127.0.0.1:80'?)\n"}},
    {"[server]\nlisten 127.0.0.1:80 ; the port\n",
     1,
     {":2: expected KEY = VALUE (did you mean 'listen = 127.0.0.1:80'?)\n"}},
    {"[server]\n: 5\n", 1, {":2: missing key before ':'"}},
    {"[server]\nlisten\n", 1, {":2: expected KEY = VALUE\n"}},
    {"[server]\nLISTEN 127.0.0.1:80\n", 1, {":2: expected KEY = VALUE\n"}},
    {"[site]\nroot = /\ncache_control /a:b/ = x\n",
     1,
     {":3: expected KEY = VALUE (a key cannot hold ':')\n"}},
    {"[site]\nroot = /\nadd_header X-A: b\n",
     1,
     {":3: expected KEY = VALUE (did you mean 'add_header = X-A: b'?)\n"}},
    {"[server]\nbacklog = 0\nfoo = 1\n[nope]\nbar = 2\n[site]\nlisting = on\n",
     4,
     {":2: backlog: '0' out of range", ":3: unknown key 'foo'", ":4: unknown section [nope]",
      ":6: [site]: missing root"}},
};

START_TEST(bad_config)
{
    struct sf_config cfg;
    char *out = NULL;
    const char *path;
    const char *conf = bad_cases[_i].conf;
    int n = load_string(&cfg, conf, strlen(conf), &path, &out);
    ck_assert_msg(n == bad_cases[_i].nerr, "case %d: want %d errors, got %d:\n%s", _i,
                  bad_cases[_i].nerr, n, out);
    for (size_t j = 0; j < 4 && bad_cases[_i].want[j]; j++) {
        char want[PATH_MAX + 256];
        snprintf(want, sizeof(want), "%s%s", path, bad_cases[_i].want[j]);
        ck_assert_msg(strstr(out, want), "case %d: want \"%s\" in:\n%s", _i, want, out);
    }
    /* one line per error, each starting with the file name */
    int lines = 0;
    for (const char *p = out; *p; p = strchr(p, '\n') + 1) {
        ck_assert_msg(strncmp(p, path, strlen(path)) == 0, "case %d: %s", _i, p);
        lines++;
    }
    ck_assert_int_eq(lines, n);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(add_header_bytes)
{
    /* headers of 177 bytes (179 with CRLF): the twelfth passes 2048 */
    char conf[8192], value[171];
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    int n = snprintf(conf, sizeof(conf), "[site]\nroot = /\n");
    for (int i = 0; i < 12; i++)
        n += snprintf(conf + n, sizeof(conf) - (size_t)n, "add_header = X-H%02d: %s\n", i, value);
    struct sf_config cfg;
    char *out = NULL;
    const char *path;
    int nerr = load_string(&cfg, conf, (size_t)n, &path, &out);
    ck_assert_msg(nerr == 1, "%s", out);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s:14: add_header: more than 2048 bytes of headers", path);
    ck_assert_msg(strstr(out, want), "want %s in %s", want, out);
    ck_assert_uint_eq(cfg.sites[0].nadd_headers, 11);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

static int validate_to_string(const struct sf_config *cfg, char **out);

/* One access log, one format: a site's format must agree with every
 * other writer of its destination, the server included. */
START_TEST(validate_log_formats)
{
    make_dir("www");
    static const struct {
        const char *conf;
        const char *want; /* NULL: valid */
    } cases[] = {
        /* the site writes the server's log (stdout) in another format */
        {"[server]\naccess_log_format = combined\n"
         "[site a]\nroot = www\naccess_log_format = json\n",
         ":3: [site a]: access_log_format json, but its access log - (standard output) is "
         "written in combined by [server]: one file takes one format"},
        /* its own file: fine; the same format as the server's: fine */
        {"[site a]\nroot = www\naccess_log = a.log\naccess_log_format = json\n"
         "[site b]\nroot = www\naccess_log_format = combined\n",
         NULL},
        /* two sites, one file, two formats */
        {"[site a]\nroot = www\naccess_log = x.log\naccess_log_format = json\n"
         "[site b]\nroot = www\naccess_log = x.log\naccess_log_format = vhost_combined\n",
         ":5: [site b]: access_log_format vhost_combined, but its access log "},
        /* a server access log that is off writes nothing */
        {"[server]\naccess_log = off\n[site a]\nroot = www\naccess_log_format = json\n", NULL},
        /* every site in the server's format (inherited) */
        {"[server]\naccess_log_format = vhost_combined\n[site a]\nroot = www\n"
         "[site b]\nroot = www\naccess_log_format = vhost_combined\n",
         NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sf_config cfg;
        char *out = NULL, *msgs = NULL;
        ck_assert_int_eq(load_string(&cfg, cases[i].conf, strlen(cases[i].conf), NULL, &out), 0);
        int n = validate_to_string(&cfg, &msgs);
        if (!cases[i].want) {
            ck_assert_msg(n == 0, "case %zu: %s", i, msgs);
        } else {
            ck_assert_msg(n == 1, "case %zu: %d errors: %s", i, n, msgs);
            ck_assert_msg(strstr(msgs, cases[i].want) != NULL, "case %zu: %s", i, msgs);
        }
        free(msgs);
        free(out);
        sf_config_free(&cfg);
    }
}
END_TEST

START_TEST(validate_vhosts)
{
    make_dir("www");
    static const char conf[] = "[site a]\nroot = www\nserver_names = a.test\n"
                               "[site b]\nroot = www\nserver_names = b.test\n";
    struct sf_config cfg;
    char *out = NULL;
    ck_assert_int_eq(load_string(&cfg, conf, sizeof(conf) - 1, NULL, &out), 0);
    ck_assert_int_eq(sf_config_validate(&cfg, NULL), 0);
    /* changed after loading: validate catches what the loader would have */
    cfg.sites[0].is_default = cfg.sites[1].is_default = true;
    free(cfg.sites[1].names[0].name);
    cfg.sites[1].names[0].name = strdup("a.test");
    char *msgs = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&msgs, &len);
    ck_assert_int_eq(sf_config_validate(&cfg, f), 2);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(msgs, "[site b]: a second default site"));
    ck_assert_ptr_nonnull(strstr(msgs, "[site b]: server name a.test given twice"));
    free(msgs);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(long_line)
{
    char conf[1024];
    memset(conf, 'a', sizeof(conf));
    memcpy(conf, "[server]\naccess_log = ", 22);
    memcpy(conf + sizeof(conf) - 23, "\n[server]\nbacklog = 0\n", 22);
    struct sf_config cfg;
    char *out = NULL;
    const char *path;
    int n = load_string(&cfg, conf, sizeof(conf) - 1, &path, &out);
    ck_assert_msg(n == 2, "%s", out);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s:2: line longer than", path);
    ck_assert_ptr_nonnull(strstr(out, want));
    /* line numbers after the long line are still right */
    snprintf(want, sizeof(want), "%s:4: backlog", path);
    ck_assert_ptr_nonnull(strstr(out, want));
    ck_assert_str_eq(cfg.access_log, "-");
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(nul_byte)
{
    static const char conf[] = "[server]\nback\0log = 1\nbacklog = 0\n";
    struct sf_config cfg;
    char *out = NULL;
    const char *path;
    int n = load_string(&cfg, conf, sizeof(conf) - 1, &path, &out);
    ck_assert_msg(n == 2, "%s", out);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
    ck_assert_ptr_nonnull(strstr(out, want));
    snprintf(want, sizeof(want), "%s:3: backlog", path);
    ck_assert_ptr_nonnull(strstr(out, want));
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(bom_and_crlf)
{
    static const char conf[] = "\xef\xbb\xbf[server]\r\nbacklog = 7\r\n";
    struct sf_config cfg;
    char *out = NULL;
    ck_assert_int_eq(load_string(&cfg, conf, sizeof(conf) - 1, NULL, &out), 0);
    ck_assert_int_eq(cfg.backlog, 7);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(missing_file)
{
    char *out = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&out, &len);
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    ck_assert_int_eq(sf_config_load(&cfg, "/nonexistent/x.conf", errs), 1);
    fclose(errs);
    ck_assert_str_eq(out, "/nonexistent/x.conf: No such file or directory\n");
    sf_config_free(&cfg);
    free(out);
}
END_TEST

/* ---- include ------------------------------------------------------------------ */

/* Load tmpdir/name; errors into *out (caller frees). */
static int
load_path(struct sf_config *cfg, const char *name, char **out)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    size_t outlen = 0;
    FILE *errs = open_memstream(out, &outlen);
    ck_assert_ptr_nonnull(errs);
    sf_config_defaults(cfg);
    int n = sf_config_load(cfg, path, errs);
    fclose(errs);
    return n;
}

/* want "tmpdir/NAME:REST" somewhere in out */
static void
assert_error(const char *out, const char *name, const char *rest)
{
    char want[PATH_MAX + 256];
    snprintf(want, sizeof(want), "%s/%s%s", tmpdir, name, rest);
    ck_assert_msg(strstr(out, want), "want \"%s\" in:\n%s", want, out);
}

#define PUT(name, text) write_file(name, text, sizeof(text) - 1)

START_TEST(include_nested)
{
    make_dir("www");
    make_dir("conf.d");
    make_dir("conf.d/more");
    make_dir("conf.d/sub.conf"); /* a folder that matches: skipped */
    PUT("main.conf", "include = conf.d/*.conf\n"
                     "[server]\nbacklog = 77\ninclude = conf.d/none-*.conf\n"
                     "max_ranges = 3\n");
    /* read in sorted order: a before b; relative paths from their folder */
    PUT("conf.d/b.conf", "[site b]\nroot = ../www\n");
    PUT("conf.d/a.conf", "include = more/*.conf\n[site a]\nroot = ../www\nlisting = on\n");
    PUT("conf.d/more/x.conf", "[server]\naccess_log = x.log\n[site x]\nroot = /\n");
    PUT("conf.d/b.conf.off", "[nope]\n");
    struct sf_config cfg;
    char *out = NULL;
    int n = load_path(&cfg, "main.conf", &out);
    ck_assert_msg(n == 0, "%s", out);
    ck_assert_int_eq(cfg.backlog, 77);
    ck_assert_uint_eq(cfg.max_ranges, 3);
    ck_assert_uint_eq(cfg.nsites, 3);
    ck_assert_str_eq(cfg.sites[0].name, "site x");
    ck_assert_str_eq(cfg.sites[1].name, "site a");
    ck_assert(cfg.sites[1].listing);
    ck_assert_str_eq(cfg.sites[2].name, "site b");
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s/conf.d/../www", tmpdir);
    ck_assert_str_eq(cfg.sites[1].root, want);
    ck_assert_str_eq(cfg.sites[2].root, want);
    snprintf(want, sizeof(want), "%s/conf.d/more/x.log", tmpdir);
    ck_assert_str_eq(cfg.access_log, want);
    snprintf(want, sizeof(want), "%s/main.conf", tmpdir);
    ck_assert_str_eq(cfg.path, want);
    ck_assert_int_eq(sf_config_validate(&cfg, stderr), 0);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(include_error_names_file)
{
    make_dir("conf.d");
    PUT("main.conf", "[server]\nbacklog = 5\ninclude = conf.d/*.conf\nfoo = 1\n");
    PUT("conf.d/site.conf", "; a site\n[site]\nroot = /\nlisting = maybe\n");
    PUT("conf.d/srv.conf", "[server]\nbacklog = 6\n[site two]\nindex = x\n[site]\nroot = /\n");
    struct sf_config cfg;
    char *out = NULL;
    int n = load_path(&cfg, "main.conf", &out);
    ck_assert_msg(n == 5, "%s", out);
    assert_error(out, "conf.d/srv.conf", ":5: duplicate section [site]\n");
    assert_error(out, "conf.d/site.conf", ":4: listing: 'maybe' is not on or off\n");
    assert_error(out, "conf.d/srv.conf",
                 ":2: duplicate key 'backlog' (first set in another file)\n");
    assert_error(out, "conf.d/srv.conf", ":3: [site two]: missing root\n");
    /* the including file's own line numbers go on after the include */
    assert_error(out, "main.conf", ":4: unknown key 'foo' in [server]\n");
    ck_assert_int_eq(cfg.backlog, 5);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(include_cycle)
{
    make_dir("conf.d");
    PUT("main.conf", "include = conf.d/a.conf\n[site]\nroot = /\n");
    PUT("conf.d/a.conf", "include = b.conf\n");
    PUT("conf.d/b.conf", "\ninclude = ../main.conf\n");
    struct sf_config cfg;
    char *out = NULL;
    int n = load_path(&cfg, "main.conf", &out);
    ck_assert_msg(n == 1, "%s", out);
    assert_error(out, "conf.d/b.conf", ":2: include: ");
    ck_assert_ptr_nonnull(strstr(out, "main.conf is already being read (an include cycle)"));
    sf_config_free(&cfg);
    free(out);

    /* a file that includes itself */
    PUT("self.conf", "include = self.conf\n");
    n = load_path(&cfg, "self.conf", &out);
    ck_assert_msg(n == 1, "%s", out);
    assert_error(out, "self.conf", ":1: include: ");
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(include_depth)
{
    /* d0 includes d1 ... includes d9: the ninth level is too deep */
    for (int i = 0; i < 10; i++) {
        char name[32], text[64];
        snprintf(name, sizeof(name), "d%d.conf", i);
        int len = snprintf(text, sizeof(text), "include = d%d.conf\n", i + 1);
        write_file(name, text, (size_t)len);
    }
    struct sf_config cfg;
    char *out = NULL;
    int n = load_path(&cfg, "d0.conf", &out);
    ck_assert_msg(n == 1, "%s", out);
    assert_error(out, "d8.conf", ":1: include: ");
    ck_assert_ptr_nonnull(strstr(out, "d9.conf: includes nested more than 8 deep"));
    sf_config_free(&cfg);
    free(out);
}
END_TEST

static const struct {
    const char *conf;
    const char *want; /* after the file name */
} include_bad[] = {
    {"[site]\nroot = /\ninclude = x/*.conf\n",
     ":3: include: only allowed at the top of a file or in [server]"},
    {"include =\n", ":1: include: empty pattern"},
    {"include = missing.conf\n", ":1: include: "},
    {"include = .\n", ":1: include: "},
};

START_TEST(include_bad_values)
{
    struct sf_config cfg;
    char *out = NULL;
    const char *path;
    const char *conf = include_bad[_i].conf;
    int n = load_string(&cfg, conf, strlen(conf), &path, &out);
    ck_assert_msg(n == 1, "case %d: %s", _i, out);
    char want[PATH_MAX + 256];
    snprintf(want, sizeof(want), "%s%s", path, include_bad[_i].want);
    ck_assert_msg(strstr(out, want), "case %d: want \"%s\" in:\n%s", _i, want, out);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

START_TEST(include_no_match)
{
    /* no conf.d at all, and an empty one: neither is an error */
    PUT("main.conf", "include = conf.d/*.conf\ninclude = empty/*.conf\n[site]\nroot = /\n");
    make_dir("empty");
    struct sf_config cfg;
    char *out = NULL;
    ck_assert_int_eq(load_path(&cfg, "main.conf", &out), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(cfg.nsites, 1);
    sf_config_free(&cfg);
    free(out);
}
END_TEST

/* ---- listen addresses --------------------------------------------------------- */

static const struct {
    const char *in;
    int family; /* 0: must be rejected */
    const char *ip;
    unsigned port;
} addr_cases[] = {
    {"127.0.0.1:8080", AF_INET, "127.0.0.1", 8080},
    {"0.0.0.0:0", AF_INET, "0.0.0.0", 0},
    {"10.1.2.3:65535", AF_INET, "10.1.2.3", 65535},
    {":8080", AF_INET, "127.0.0.1", 8080},
    {"8080", AF_INET, "127.0.0.1", 8080},
    {"localhost:80", AF_INET, "127.0.0.1", 80},
    {"*:80", AF_INET, "0.0.0.0", 80},
    {"[::1]:9000", AF_INET6, "::1", 9000},
    {"[::]:443", AF_INET6, "::", 443},
    {"[2001:db8::1]:1", AF_INET6, "2001:db8::1", 1},
    {"", 0, NULL, 0},
    {":", 0, NULL, 0},
    {"127.0.0.1", 0, NULL, 0},
    {"127.0.0.1:", 0, NULL, 0},
    {"127.0.0.1:65536", 0, NULL, 0},
    {"127.0.0.1:-1", 0, NULL, 0},
    {"127.0.0.1:+80", 0, NULL, 0},
    {"127.0.0.1:80x", 0, NULL, 0},
    {"127.0.0.1: 80", 0, NULL, 0},
    {"127.0.0.1:0080800", 0, NULL, 0},
    {"1.2.3:80", 0, NULL, 0},
    {"256.0.0.1:80", 0, NULL, 0},
    {"example.com:80", 0, NULL, 0},
    {"::1:80", 0, NULL, 0},
    {"[::1]", 0, NULL, 0},
    {"[::1]80", 0, NULL, 0},
    {"[::1]:", 0, NULL, 0},
    {"[127.0.0.1]:80", 0, NULL, 0},
    {"[fe80::1%eth0]:80", 0, NULL, 0},
    {"[::1:80", 0, NULL, 0},
    {"unix:", 0, NULL, 0},
    {"unix:relative/path.sock", 0, NULL, 0},
};

/* listen lines: address and options */
static const struct {
    const char *in;
    const char *addr; /* NULL: rejected, why contains err */
    bool proxy;
    int backlog;
    bool v6only;
    const char *err;
} listen_cases[] = {
    {"127.0.0.1:80", "127.0.0.1:80", false, 0, true, NULL},
    {"127.0.0.1:80 proxy_protocol", "127.0.0.1:80", true, 0, true, NULL},
    {"127.0.0.1:80  proxy_protocol=off\tbacklog=100", "127.0.0.1:80", false, 100, true, NULL},
    {"[::]:80 ipv6only=off", "[::]:80", false, 0, false, NULL},
    {"[::]:80 ipv6only=on backlog=65535 proxy_protocol=on", "[::]:80", true, 65535, true, NULL},
    {"unix:/run/sfhttpd.sock", "unix:/run/sfhttpd.sock", false, 0, true, NULL},
    {"unix:/run/sfhttpd.sock proxy_protocol backlog=7", "unix:/run/sfhttpd.sock", true, 7, true,
     NULL},
    {"", NULL, false, 0, true, "is not an address"},
    {"nonsense", NULL, false, 0, true, "'nonsense' is not an address"},
    {"1.2.3.4:80 backlog=65536", NULL, false, 0, true, "'backlog=65536' is not an option"},
    {"1.2.3.4:80 backlog=x", NULL, false, 0, true, "'backlog=x' is not an option"},
    {"1.2.3.4:80 ipv6only=off", NULL, false, 0, true, "ipv6only applies to [IPv6]"},
    {"1.2.3.4:80 proxy_protocol=2", NULL, false, 0, true, "'proxy_protocol=2' is not an option"},
    {"1.2.3.4:80 reuseport", NULL, false, 0, true, "'reuseport' is not an option"},
};

START_TEST(parse_listen)
{
    char addr[256], why[160] = "";
    struct sf_listen_opts o;
    int rc = sf_config_parse_listen(listen_cases[_i].in, addr, sizeof(addr), &o, why, sizeof(why));
    if (!listen_cases[_i].addr) {
        ck_assert_msg(rc == -EINVAL, "'%s' accepted", listen_cases[_i].in);
        ck_assert_msg(strstr(why, listen_cases[_i].err) != NULL, "'%s': %s", listen_cases[_i].in,
                      why);
        return;
    }
    ck_assert_msg(rc == 0, "'%s' rejected: %s", listen_cases[_i].in, why);
    ck_assert_str_eq(addr, listen_cases[_i].addr);
    ck_assert_int_eq(o.proxy_protocol, listen_cases[_i].proxy);
    ck_assert_int_eq(o.backlog, listen_cases[_i].backlog);
    ck_assert_int_eq(o.v6only, listen_cases[_i].v6only);
}
END_TEST

/* The [server] keys of the process model, and listen options in the
 * config, the -T dump and back. */
START_TEST(process_keys)
{
    static const char conf[] = "[server]\n"
                               "listen = 127.0.0.1:8080 proxy_protocol backlog=64\n"
                               "listen = [::]:8080 ipv6only=off\n"
                               "listen = unix:/run/x.sock\n"
                               "workers = 3\nmaster = on\nreuseport = on\ndefer_accept = on\n"
                               "user = root\ngroup = root\npid_file = run/sf.pid\n"
                               "[site]\nroot = .\n";
    struct sf_config cfg, again;
    char *out = NULL, *dump = NULL;
    size_t dlen = 0;
    const char *path;
    ck_assert_int_eq(load_string(&cfg, conf, sizeof(conf) - 1, &path, &out), 0);
    free(out);
    ck_assert_uint_eq(cfg.nlisten, 3);
    ck_assert_str_eq(cfg.listen[0].addr, "127.0.0.1:8080");
    ck_assert(cfg.listen[0].opts.proxy_protocol && !cfg.listen[1].opts.proxy_protocol &&
              !cfg.listen[2].opts.proxy_protocol);
    ck_assert_int_eq(cfg.listen[0].opts.backlog, 64);
    ck_assert(!cfg.listen[1].opts.v6only);
    ck_assert_str_eq(cfg.listen[2].addr, "unix:/run/x.sock");
    ck_assert_int_eq(cfg.workers, 3);
    ck_assert_int_eq(cfg.master, 1);
    ck_assert(cfg.reuseport && cfg.defer_accept);
    ck_assert_str_eq(cfg.user, "root");
    ck_assert_str_eq(cfg.group, "root");
    ck_assert_ptr_nonnull(strstr(cfg.pid_file, "/run/sf.pid"));
    ck_assert_int_eq(cfg.pid_file[0], '/');
    FILE *f = open_memstream(&dump, &dlen);
    sf_config_dump(&cfg, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(dump, "listen = 127.0.0.1:8080 proxy_protocol backlog=64\n"));
    ck_assert_ptr_nonnull(strstr(dump, "listen = [::]:8080 ipv6only=off\n"));
    ck_assert_ptr_nonnull(strstr(dump, "master = on\n"));
    ck_assert_ptr_nonnull(strstr(dump, "user = root\n"));
    ck_assert_int_eq(load_string(&again, dump, dlen, NULL, &out), 0);
    free(out);
    ck_assert_int_eq(again.listen[0].opts.backlog, 64);
    ck_assert(again.listen[0].opts.proxy_protocol && !again.listen[1].opts.v6only);
    ck_assert_int_eq(again.master, 1);
    free(dump);
    sf_config_free(&again);
    sf_config_free(&cfg);

    /* defaults, and master/workers consistency */
    sf_config_defaults(&cfg);
    ck_assert_int_eq(cfg.master, -1);
    ck_assert(!cfg.reuseport && cfg.defer_accept && cfg.listen[0].opts.v6only);
    ck_assert_ptr_null(cfg.user);
    ck_assert_ptr_null(cfg.pid_file);
    ck_assert_int_eq(sf_config_add_quick_site(&cfg, "/"), 0);
    cfg.master = 0;
    cfg.workers = 2;
    char *verr = NULL;
    size_t vlen = 0;
    f = open_memstream(&verr, &vlen);
    ck_assert_int_eq(sf_config_validate(&cfg, f), 1);
    cfg.master = 1;
    cfg.workers = 0;
    ck_assert_int_eq(sf_config_validate(&cfg, f), 1);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(verr, "master = off needs workers = 0 or 1"));
    ck_assert_ptr_nonnull(strstr(verr, "master = on needs workers >= 1"));
    free(verr);
    sf_config_free(&cfg);
}
END_TEST

START_TEST(parse_addr)
{
    struct sockaddr_storage ss;
    unsigned len = 0;
    int rc = sf_config_parse_addr(addr_cases[_i].in, &ss, &len);
    if (!addr_cases[_i].family) {
        ck_assert_msg(rc == -EINVAL, "'%s' accepted", addr_cases[_i].in);
        return;
    }
    ck_assert_msg(rc == 0, "'%s' rejected", addr_cases[_i].in);
    ck_assert_int_eq(ss.ss_family, addr_cases[_i].family);
    char ip[INET6_ADDRSTRLEN];
    unsigned port;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        ck_assert_uint_eq(len, sizeof(*sin));
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        port = ntohs(sin->sin_port);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
        ck_assert_uint_eq(len, sizeof(*sin6));
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        port = ntohs(sin6->sin6_port);
    }
    ck_assert_str_eq(ip, addr_cases[_i].ip);
    ck_assert_uint_eq(port, addr_cases[_i].port);
}
END_TEST

/* ---- programmatic changes and validation ------------------------------------ */

START_TEST(add_listen)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    ck_assert_int_eq(sf_config_add_listen(&cfg, "1.2.3.4:1"), 0);
    ck_assert_uint_eq(cfg.nlisten, 1);
    ck_assert_str_eq(cfg.listen[0].addr, "1.2.3.4:1");
    ck_assert(!cfg.listen_is_default);
    for (int i = 1; i < SF_CONFIG_MAX_LISTEN; i++)
        ck_assert_int_eq(sf_config_add_listen(&cfg, "[::1]:2"), 0);
    ck_assert_int_eq(sf_config_add_listen(&cfg, "[::1]:3"), -E2BIG);
    ck_assert_uint_eq(cfg.nlisten, SF_CONFIG_MAX_LISTEN);
    sf_config_free(&cfg);
}
END_TEST

START_TEST(quick_site)
{
    struct sf_config cfg;
    char cwd[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    sf_config_defaults(&cfg);
    ck_assert_int_eq(sf_config_add_quick_site(&cfg, "."), 0);
    ck_assert_uint_eq(cfg.nsites, 1);
    const struct sf_site *s = &cfg.sites[0];
    ck_assert_str_eq(s->root, cwd);
    ck_assert(s->listing);
    ck_assert(!s->dotfiles);
    ck_assert_int_eq(s->symlinks, SF_SYMLINKS_BENEATH);
    ck_assert_uint_eq(s->nprecompressed, 3);
    ck_assert_uint_eq(s->nindex, 1);
    ck_assert_str_eq(s->index[0], "index.html");
    ck_assert_int_eq(sf_config_validate(&cfg, stderr), 0);
    ck_assert_int_eq(sf_config_add_quick_site(&cfg, "/srv//www/"), 0);
    ck_assert_str_eq(cfg.sites[1].root, "/srv/www");
    while (cfg.nsites < SF_CONFIG_MAX_SITES)
        ck_assert_int_eq(sf_config_add_quick_site(&cfg, "/"), 0);
    ck_assert_int_eq(sf_config_add_quick_site(&cfg, "/"), -E2BIG);
    sf_config_free(&cfg);
}
END_TEST

static int
validate_to_string(const struct sf_config *cfg, char **out)
{
    size_t len = 0;
    FILE *errs = open_memstream(out, &len);
    int n = sf_config_validate(cfg, errs);
    fclose(errs);
    return n;
}

START_TEST(validate)
{
    struct sf_config cfg;
    char *out = NULL;
    sf_config_defaults(&cfg);
    ck_assert_int_eq(validate_to_string(&cfg, &out), 1);
    ck_assert_str_eq(out, "no site configured\n");
    free(out);

    ck_assert_int_eq(sf_config_add_quick_site(&cfg, "/nonexistent/www"), 0);
    ck_assert_int_eq(sf_config_add_listen(&cfg, "bogus"), 0);
    cfg.backlog = 0;
    ck_assert_int_eq(validate_to_string(&cfg, &out), 3);
    ck_assert_ptr_nonnull(strstr(out, "listen: 'bogus' is not an address\n"));
    ck_assert_ptr_nonnull(strstr(out, "backlog: 0 out of range"));
    /* quick mode: the folder of the command line, in its own words */
    ck_assert_ptr_nonnull(strstr(out, "sfhttpd: no such folder: /nonexistent/www\n"));
    ck_assert_ptr_null(strstr(out, "[site]"));
    free(out);
    sf_config_free(&cfg);

    /* a file given as the quick-mode folder */
    sf_config_defaults(&cfg);
    ck_assert_int_eq(sf_config_add_quick_site(&cfg, write_file("f", "x", 1)), 0);
    ck_assert_int_eq(validate_to_string(&cfg, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "sfhttpd: not a folder: "));
    free(out);
    sf_config_free(&cfg);
}
END_TEST

/* A root that went missing after the file was read: FILE:LINE of its
 * root line, not "[site]: ...". */
START_TEST(validate_root_line)
{
    struct sf_config cfg;
    char *out = NULL, conf[PATH_MAX + 64], want[2 * PATH_MAX];
    const char *path;
    make_dir("www");
    snprintf(conf, sizeof(conf), "[site]\n\nroot = %s/www\n", tmpdir);
    ck_assert_int_eq(load_string(&cfg, conf, strlen(conf), &path, &out), 0);
    free(out);
    snprintf(want, sizeof(want), "%s/www", tmpdir);
    ck_assert_int_eq(rmdir(want), 0);
    ck_assert_int_eq(validate_to_string(&cfg, &out), 1);
    snprintf(want, sizeof(want), "%s:3: root %s/www: No such file or directory\n", path, tmpdir);
    ck_assert_str_eq(out, want);
    free(out);
    sf_config_free(&cfg);
}
END_TEST

/* The loader remembers where the values that start-up checks came from. */
START_TEST(value_places)
{
    struct sf_config cfg;
    char *out = NULL, want[PATH_MAX + 16];
    const char *path;
    static const char conf[] = "; top\n"
                               "[server]\n"
                               "listen = 127.0.0.1:1\n"
                               "listen = 127.0.0.1:2\n"
                               "user = root\n"
                               "group = root\n"
                               "pid_file = run/x.pid\n"
                               "access_log = a.log\n"
                               "error_log = e.log\n"
                               "backlog = 5\n"
                               "\n"
                               "[site]\n"
                               "root = /\n"
                               "access_log = s.log\n";
    ck_assert_int_eq(load_string(&cfg, conf, strlen(conf), &path, &out), 0);
    free(out);
    static const struct {
        size_t off;
        int line;
    } want_at[] = {
        {offsetof(struct sf_config, server_at), 2},
        {offsetof(struct sf_config, listen[0].at), 3},
        {offsetof(struct sf_config, listen[1].at), 4},
        {offsetof(struct sf_config, user_at), 5},
        {offsetof(struct sf_config, group_at), 6},
        {offsetof(struct sf_config, pid_file_at), 7},
        {offsetof(struct sf_config, access_log_at), 8},
        {offsetof(struct sf_config, error_log_at), 9},
    };
    for (size_t i = 0; i < sizeof(want_at) / sizeof(want_at[0]); i++) {
        const char *at = *(char *const *)((const char *)&cfg + want_at[i].off);
        snprintf(want, sizeof(want), "%s:%d", path, want_at[i].line);
        ck_assert_msg(at && strcmp(at, want) == 0, "entry %zu: want %s, got %s", i, want,
                      at ? at : "(null)");
    }
    snprintf(want, sizeof(want), "%s:12", path);
    ck_assert_str_eq(cfg.sites[0].at, want);
    snprintf(want, sizeof(want), "%s:13", path);
    ck_assert_str_eq(cfg.sites[0].root_at, want);
    snprintf(want, sizeof(want), "%s:14", path);
    ck_assert_str_eq(cfg.sites[0].access_log_at, want);
    /* a listen added later (the command line) replaces the file's lines
     * and their places */
    cfg.listen_is_default = true;
    ck_assert_int_eq(sf_config_add_listen(&cfg, "127.0.0.1:3"), 0);
    ck_assert_uint_eq(cfg.nlisten, 1);
    ck_assert_ptr_null(cfg.listen[0].at);
    ck_assert_ptr_null(cfg.listen[1].at);
    sf_config_free(&cfg);

    /* a value refused is not remembered; a default has no place */
    static const char bad[] = "[server]\nerror_log = off\n[site]\nroot = /\n";
    ck_assert_int_eq(load_string(&cfg, bad, strlen(bad), &path, &out), 1);
    free(out);
    ck_assert_ptr_null(cfg.error_log_at);
    ck_assert_ptr_null(cfg.listen[0].at);
    ck_assert_ptr_null(cfg.user_at);
    sf_config_free(&cfg);
}
END_TEST

/* "key: value" still reads as inih has it, after a one-word key. */
START_TEST(colon_separator)
{
    struct sf_config cfg;
    char *out = NULL;
    const char *path;
    static const char conf[] = "[server]\nlisten: 127.0.0.1:81\nbacklog:7\n[site]\nroot : /\n";
    ck_assert_int_eq(load_string(&cfg, conf, strlen(conf), &path, &out), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(cfg.nlisten, 1);
    ck_assert_str_eq(cfg.listen[0].addr, "127.0.0.1:81");
    ck_assert_int_eq(cfg.backlog, 7);
    ck_assert_str_eq(cfg.sites[0].root, "/");
    free(out);
    sf_config_free(&cfg);
}
END_TEST

/* sf_config_problem: one line, in the words of where the value came from. */
static const struct {
    const char *at, *key, *value, *want;
} problem_cases[] = {
    {"a.conf:7", "listen", "10.0.0.1:80", "a.conf:7: listen 10.0.0.1:80: MSG\n"},
    {"a.conf:7", NULL, NULL, "a.conf:7: MSG\n"},
    {"a.conf", NULL, NULL, "a.conf: MSG\n"},
    {"a.conf:7", "group", NULL, "a.conf:7: group: MSG\n"},
    {"-l", "listen", "10.0.0.1:80", "sfhttpd: -l 10.0.0.1:80: MSG\n"},
    {"-u", "user", NULL, "sfhttpd: -u: MSG\n"},
    {NULL, "listen", "127.0.0.1:8080", "sfhttpd: listen 127.0.0.1:8080: MSG\n"},
    {NULL, NULL, NULL, "sfhttpd: MSG\n"},
    {"-odd.conf:3", "root", "/x", "-odd.conf:3: root /x: MSG\n"},
};

START_TEST(problem_lines)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    sf_config_problem(f, problem_cases[_i].at, problem_cases[_i].key, problem_cases[_i].value, "%s",
                      "MSG");
    fclose(f);
    ck_assert_str_eq(out, problem_cases[_i].want);
    free(out);
    sf_config_problem(NULL, "a", "b", "c", "nothing to print to");
}
END_TEST

static Suite *
config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, good_config);
    tcase_add_test(tc, dump_round_trip);
    tcase_add_test(tc, relative_paths);
    tcase_add_test(tc, workers_auto);
    tcase_add_test(tc, process_keys);
    tcase_add_loop_test(tc, bad_config, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, add_header_bytes);
    tcase_add_test(tc, validate_vhosts);
    tcase_add_test(tc, validate_log_formats);
    tcase_add_test(tc, long_line);
    tcase_add_test(tc, nul_byte);
    tcase_add_test(tc, bom_and_crlf);
    tcase_add_test(tc, missing_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("include");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, include_nested);
    tcase_add_test(tc, include_error_names_file);
    tcase_add_test(tc, include_cycle);
    tcase_add_test(tc, include_depth);
    tcase_add_loop_test(tc, include_bad_values, 0,
                        (int)(sizeof(include_bad) / sizeof(include_bad[0])));
    tcase_add_test(tc, include_no_match);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, parse_addr, 0, (int)(sizeof(addr_cases) / sizeof(addr_cases[0])));
    tcase_add_test(tc, add_listen);
    tcase_add_loop_test(tc, parse_listen, 0, (int)(sizeof(listen_cases) / sizeof(listen_cases[0])));
    tcase_add_test(tc, quick_site);
    tcase_add_test(tc, validate);
    tcase_add_test(tc, validate_root_line);
    tcase_add_test(tc, value_places);
    tcase_add_test(tc, colon_separator);
    tcase_add_loop_test(tc, problem_lines, 0,
                        (int)(sizeof(problem_cases) / sizeof(problem_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(config_suite());
}
