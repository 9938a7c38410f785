/*
 * test_config.c - the config module: defaults, a good file with every key,
 * relative paths, a table of bad files and the "FILE:LINE: message" each
 * must produce, listen addresses, quick mode, validation and the dump.
 */
#include "sfhttpd/config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each test runs in a forked child with its own temporary folder. */
static char tmpdir[64];

static void
setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
teardown(void)
{
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
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
    ck_assert_str_eq(cfg.listen[0], "127.0.0.1:8080");
    ck_assert(cfg.listen_is_default);
    ck_assert_int_eq(cfg.backlog, 511);
    ck_assert_int_eq(cfg.workers, 1);
    ck_assert_uint_eq(cfg.header_timeout_ms, 10000);
    ck_assert_uint_eq(cfg.keepalive_timeout_ms, 15000);
    ck_assert_uint_eq(cfg.send_timeout_ms, 60000);
    ck_assert_uint_eq(cfg.shutdown_timeout_ms, 10000);
    ck_assert_uint_eq(cfg.max_header_size, 8192);
    ck_assert_uint_eq(cfg.max_uri_length, 8192);
    ck_assert_uint_eq(cfg.max_headers, 100);
    ck_assert_uint_eq(cfg.send_chunk, 2 * 1024 * 1024);
    ck_assert_uint_eq(cfg.max_ranges, 16);
    ck_assert_uint_eq(cfg.max_connections, 10000);
    ck_assert_uint_eq(cfg.max_body_size, 1024 * 1024);
    ck_assert_int_eq(cfg.file_guard, SF_GUARD_LEASE);
    ck_assert_uint_eq(cfg.open_file_cache_max, 10000);
    ck_assert_uint_eq(cfg.small_file_size, 16 * 1024);
    ck_assert_str_eq(cfg.access_log, "-");
    ck_assert_str_eq(cfg.error_log, "-");
    ck_assert_int_eq(cfg.log_level, SF_LOG_INFO);
    ck_assert_uint_eq(cfg.nsites, 0);
    ck_assert_ptr_null(cfg.path);
    sf_config_free(&cfg);
    ck_assert_uint_eq(cfg.nlisten, 0);
    ck_assert_ptr_null(cfg.listen[0]);
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
    "max_ranges = 4\n"
    "file_guard = stat\n"
    "open_file_cache_max = 50\n"
    "small_file_size = 0\n"
    "max_connections = 500\n"
    "access_log = logs/access.log\n"
    "error_log = /var/log/sfhttpd.log\n"
    "log_level = debug\n"
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
    "\n"
    "[ site example ]\n"
    "root = /\n";
/* clang-format on */

static void
check_good(const struct sf_config *cfg)
{
    char want[PATH_MAX + 64];
    ck_assert_uint_eq(cfg->nlisten, 2);
    ck_assert(!cfg->listen_is_default);
    ck_assert_str_eq(cfg->listen[0], "0.0.0.0:0");
    ck_assert_str_eq(cfg->listen[1], "[::1]:9000");
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
    ck_assert_uint_eq(cfg->max_ranges, 4);
    ck_assert_int_eq(cfg->file_guard, SF_GUARD_STAT);
    ck_assert_uint_eq(cfg->open_file_cache_max, 50);
    ck_assert_uint_eq(cfg->small_file_size, 0);
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
    ck_assert_str_eq(s->precompressed, "gzip, br");
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
    ck_assert_str_eq(s->precompressed, "br, zstd, gzip");
    ck_assert_ptr_null(s->cache_control);
    ck_assert_int_eq(s->expires, -1);
    ck_assert_uint_eq(s->nrules, 0);
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
    {"[site]\nroot = /\ncache_control assets = x\n", 1,
     {":3: 'assets': expected a path prefix (/...) or an extension (*.ext)"}},
    {"[site]\nroot = /\nerror_page = 200 /x.html\n", 1,
     {":3: error_page: '200' is not a status from 400 to 599"}},
    {"[site]\nroot = /\nerror_page = 404 x.html\n", 1,
     {":3: error_page: expected 'STATUS... /PATH', got '404 x.html'"}},
    {"[server]\nopen_file_cache_max = 0\n", 1, {":2: open_file_cache_max: '0' out of range"}},
    {"[server]\nsmall_file_size = 1g\n", 1, {":2: small_file_size: '1g' out of range"}},
    {"[server]\nmax_body_size = 2g\n", 1, {":2: max_body_size: '2g' out of range"}},
    {"[server]\nmax_body_size = lots\n", 1, {":2: max_body_size: 'lots' is not a size"}},
    {"[server]\nlog_level = loud\n", 1, {":2: log_level: 'loud' is not error"}},
    {"[server]\nerror_log = off\n", 1, {":2: error_log: 'off' is not a path or '-'"}},
    {"[server]\nlisten = localhost:http\n", 1, {":2: listen: 'localhost:http' is not an address"}},
    {"[server]\nlisten = 1.2.3.4:80\nlisten = 1.2.3.4:80\n",
     1,
     {":3: listen: '1.2.3.4:80' given twice"}},
    {"[site]\nindex = index.html\n", 1, {":1: [site]: missing root"}},
    {"[site]\nroot = /nonexistent/dir\n",
     1,
     {":2: root: /nonexistent/dir: No such file or directory"}},
    {"[site]\nroot = /dev/null\n", 1, {":2: root: /dev/null: Not a directory"}},
    {"[site]\nroot =\n", 2, {":2: root: empty path", ":1: [site]: missing root"}},
    {"[site]\nroot = /\nlisting = maybe\n", 1, {":3: listing: 'maybe' is not on or off"}},
    {"[site]\nroot = /\ndotfiles = yes\n", 1, {":3: dotfiles: 'yes' is not allow or deny"}},
    {"[site]\nroot = /\nsymlinks = always\n", 1, {":3: symlinks: 'always' is not"}},
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
    {"[server]\njust words\n", 1, {":2: expected 'key = value' or '[section]'"}},
    {"[server]\n= 5\n", 1, {":2: missing key before '='"}},
    {"[server]\nbacklog ; = 5\n", 1, {":2: expected 'key = value'"}},
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
};

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
    ck_assert_str_eq(cfg.listen[0], "1.2.3.4:1");
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
    ck_assert_ptr_nonnull(s->precompressed);
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
    ck_assert_ptr_nonnull(strstr(out, "[site]: root /nonexistent/www: No such file"));
    free(out);
    sf_config_free(&cfg);
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
    tcase_add_loop_test(tc, bad_config, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, long_line);
    tcase_add_test(tc, nul_byte);
    tcase_add_test(tc, bom_and_crlf);
    tcase_add_test(tc, missing_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_loop_test(tc, parse_addr, 0, (int)(sizeof(addr_cases) / sizeof(addr_cases[0])));
    tcase_add_test(tc, add_listen);
    tcase_add_test(tc, quick_site);
    tcase_add_test(tc, validate);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
