/*
 * test_vhost.c - site selection by host: tables of hosts and the site
 * each must pick (exact, wildcard, case, port, trailing dot, IP literals,
 * unknown, absent), the same with strict_hosts (-1 for no match), server
 * name parsing, and the host an absolute-form request names.
 */
#include "sfhttpd/vhost.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A config of sites with these names; site->name is unused here. */
static void
add_site(struct sf_config *cfg, bool is_default, const char *const *names)
{
    struct sf_site *s = &cfg->sites[cfg->nsites++];
    s->is_default = is_default;
    for (size_t i = 0; names && names[i]; i++) {
        char out[SF_VHOST_NAME_MAX + 1];
        const char *why;
        ck_assert_msg(sf_vhost_name_parse(names[i], out, &why) == 0, "%s: %s", names[i], why);
        struct sf_server_name *n = &s->names[s->nnames++];
        n->name = strdup(out);
        n->len = strlen(out);
        n->wildcard = out[0] == '*';
    }
}

static void
make_config(struct sf_config *cfg, bool strict)
{
    static const char *const a[] = {"example.com", "www.Example.com", NULL};
    static const char *const b[] = {"*.example.com", NULL};
    static const char *const c[] = {"*.api.example.com", "127.0.0.1", "[::1]",
                                    "static.example.org.", NULL};
    static const char *const d[] = {"a.b.example.com", "[2001:DB8::1]", NULL};
    memset(cfg, 0, sizeof(*cfg));
    cfg->strict_hosts = strict;
    add_site(cfg, false, a);
    add_site(cfg, false, b);
    add_site(cfg, false, c);
    add_site(cfg, false, d);
    add_site(cfg, true, NULL); /* [site e]: the default, no names */
}

#define DEF 4 /* the default site in make_config */

static const struct {
    const char *host; /* NULL: no host at all */
    int site;         /* without strict_hosts */
    int strict;       /* with strict_hosts */
} select_cases[] = {
    {"example.com", 0, 0},
    {"EXAMPLE.COM", 0, 0},
    {"Example.Com:8080", 0, 0},
    {"example.com:", 0, 0},
    {"example.com.", 0, 0},
    {"example.com.:443", 0, 0},
    {"www.example.com", 0, 0},
    {"WWW.EXAMPLE.COM:80", 0, 0},
    /* wildcards: any subdomain, at any depth, never the bare domain */
    {"foo.example.com", 1, 1},
    {"Foo.Example.Com:443", 1, 1},
    {"x.y.example.com", 1, 1},
    {"api.example.com", 1, 1},
    {"v1.api.example.com", 2, 2}, /* the longer wildcard wins */
    {"a.v1.api.example.com", 2, 2},
    {"a.b.example.com", 3, 3}, /* an exact name beats any wildcard */
    {"c.a.b.example.com", 1, 1},
    /* no dot boundary, no match */
    {"notexample.com", DEF, -1},
    {"xexample.com", DEF, -1},
    {"example.com.evil.net", DEF, -1},
    {"example.co", DEF, -1},
    {"example.comm", DEF, -1},
    {".example.com", DEF, -1},
    /* IP literals */
    {"127.0.0.1", 2, 2},
    {"127.0.0.1:8080", 2, 2},
    {"127.0.0.2", DEF, -1},
    {"[::1]", 2, 2},
    {"[::1]:8080", 2, 2},
    {"[2001:db8::1]:443", 3, 3},
    {"[2001:DB8::1]", 3, 3},
    {"[::2]", DEF, -1},
    {"[::1", DEF, -1},
    {"static.example.org", 2, 2},
    {"STATIC.example.org:1", 2, 2},
    /* unknown and absent */
    {"example.org", DEF, -1},
    {"localhost", DEF, -1},
    {"", DEF, -1},
    {NULL, DEF, -1},
    {":80", DEF, -1},
};

START_TEST(select_table)
{
    struct sf_config cfg;
    const char *h = select_cases[_i].host;
    for (int strict = 0; strict < 2; strict++) {
        make_config(&cfg, strict);
        int want = strict ? select_cases[_i].strict : select_cases[_i].site;
        int got = sf_vhost_select(&cfg, h, h ? strlen(h) : 0);
        ck_assert_msg(got == want, "host \"%s\"%s: want site %d, got %d", h ? h : "(none)",
                      strict ? " (strict)" : "", want, got);
        sf_config_free(&cfg);
    }
}
END_TEST

START_TEST(select_not_terminated)
{
    /* the host is a span inside a larger buffer: never read past len */
    struct sf_config cfg;
    make_config(&cfg, false);
    const char *buf = "example.comXYZ";
    ck_assert_int_eq(sf_vhost_select(&cfg, buf, 11), 0);
    ck_assert_int_eq(sf_vhost_select(&cfg, buf, 12), DEF);
    ck_assert_int_eq(sf_vhost_select(&cfg, "foo.example.com", 3), DEF);
    sf_config_free(&cfg);
}
END_TEST

START_TEST(select_long_host)
{
    struct sf_config cfg;
    make_config(&cfg, false);
    char host[600];
    memset(host, 'a', sizeof(host));
    memcpy(host + sizeof(host) - 12, ".example.com", 12);
    ck_assert_int_eq(sf_vhost_select(&cfg, host, sizeof(host)), DEF);
    /* 255 characters still match the wildcard */
    ck_assert_int_eq(sf_vhost_select(&cfg, host + sizeof(host) - 255, 255), 1);
    sf_config_free(&cfg);
}
END_TEST

START_TEST(default_site)
{
    struct sf_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    ck_assert_int_eq(sf_vhost_select(&cfg, "x", 1), -1); /* no sites */
    static const char *const a[] = {"a.test", NULL};
    static const char *const b[] = {"b.test", NULL};
    add_site(&cfg, false, a);
    add_site(&cfg, false, b);
    /* no default = on: the first site */
    ck_assert_uint_eq(sf_vhost_default(&cfg), 0);
    ck_assert_int_eq(sf_vhost_select(&cfg, "c.test", 6), 0);
    ck_assert_int_eq(sf_vhost_select(&cfg, "b.test", 6), 1);
    cfg.sites[1].is_default = true;
    ck_assert_uint_eq(sf_vhost_default(&cfg), 1);
    ck_assert_int_eq(sf_vhost_select(&cfg, "c.test", 6), 1);
    ck_assert_int_eq(sf_vhost_select(&cfg, NULL, 0), 1);
    ck_assert_int_eq(sf_vhost_select(&cfg, "a.test", 6), 0);
    sf_config_free(&cfg);
}
END_TEST

static const struct {
    const char *in;
    const char *out; /* NULL: rejected */
} name_cases[] = {
    {"example.com", "example.com"},
    {"Example.COM", "example.com"},
    {"example.com.", "example.com"},
    {"*.Example.com", "*.example.com"},
    {"localhost", "localhost"},
    {"a_b-c.example", "a_b-c.example"},
    {"192.0.2.1", "192.0.2.1"},
    {"[::1]", "[::1]"},
    {"[2001:DB8::1]", "[2001:db8::1]"},
    {"xn--bcher-kva.example", "xn--bcher-kva.example"},
    {"", NULL},
    {".", NULL},
    {"*", NULL},
    {"*.", NULL},
    {"**.example.com", NULL},
    {"a.*.example.com", NULL},
    {"*example.com", NULL},
    {"example.com:80", NULL},
    {"::1", NULL},
    {"[::1", NULL},
    {"[::1]:80", NULL},
    {"[nope]", NULL},
    {"foo..com", NULL},
    {".foo.com", NULL},
    {"foo.com..", NULL},
    {"ex ample.com", NULL},
    {"exa/mple.com", NULL},
    {"ex\"ample", NULL},
    {"b\xc3\xbc"
     "cher.example",
     NULL},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL}, /* 64 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"}, /* 63 */
};

START_TEST(name_parse)
{
    char out[SF_VHOST_NAME_MAX + 1];
    const char *why = NULL;
    int rc = sf_vhost_name_parse(name_cases[_i].in, out, &why);
    if (!name_cases[_i].out) {
        ck_assert_msg(rc == -EINVAL, "\"%s\" accepted as \"%s\"", name_cases[_i].in, out);
        ck_assert_ptr_nonnull(why);
        return;
    }
    ck_assert_msg(rc == 0, "\"%s\" rejected: %s", name_cases[_i].in, why);
    ck_assert_str_eq(out, name_cases[_i].out);
}
END_TEST

START_TEST(name_too_long)
{
    char name[300], out[SF_VHOST_NAME_MAX + 1];
    const char *why;
    /* five labels of 49 and their dots (250), then 6 more letters: 256 */
    for (int i = 0; i < 250; i++)
        name[i] = i % 50 == 49 ? '.' : 'a';
    memset(name + 250, 'b', 6);
    name[256] = '\0';
    ck_assert_int_eq(sf_vhost_name_parse(name, out, &why), -EINVAL);
    name[255] = '\0'; /* 255: the longest name */
    ck_assert_int_eq(sf_vhost_name_parse(name, out, &why), 0);
    ck_assert_str_eq(out, name);
}
END_TEST

/* A parser state as request.c leaves it after a head. */
static void
fake_request(struct sf_parser *p, const char *buf, enum sf_target_form form, const char *target,
             const char *path, const char *host)
{
    memset(p, 0, sizeof(*p));
    p->r.form = form;
    p->r.target.off = (uint32_t)(strstr(buf, target) - buf);
    p->r.target.len = (uint32_t)strlen(target);
    /* the path is the tail of the target */
    p->r.path.len = (uint32_t)strlen(path);
    p->r.path.off = p->r.target.off + p->r.target.len - p->r.path.len;
    if (host) {
        p->r.present |= 1u << SF_HDR_HOST;
        p->r.hdr[SF_HDR_HOST].off = (uint32_t)(strstr(buf, host) - buf);
        p->r.hdr[SF_HDR_HOST].len = (uint32_t)strlen(host);
    }
}

static const struct {
    enum sf_target_form form;
    const char *target, *path, *host;
    const char *want; /* NULL: none */
} req_cases[] = {
    {SF_TARGET_ORIGIN, "/a.txt", "/a.txt", "one.test", "one.test"},
    {SF_TARGET_ORIGIN, "/a.txt", "/a.txt", NULL, NULL},
    {SF_TARGET_ABSOLUTE, "http://two.test/a.txt", "/a.txt", "one.test", "two.test"},
    {SF_TARGET_ABSOLUTE, "HTTPS://Two.Test:8443/x?y", "/x?y", "one.test", "Two.Test:8443"},
    {SF_TARGET_ABSOLUTE, "http://two.test", "", "one.test", "two.test"},
    {SF_TARGET_ABSOLUTE, "http://two.test?q", "?q", NULL, "two.test"},
    {SF_TARGET_ABSOLUTE, "http://[::1]:80/", "/", NULL, "[::1]:80"},
    {SF_TARGET_ASTERISK, "*", "", "one.test", "one.test"},
};

START_TEST(request_host)
{
    char buf[512];
    const char *host = req_cases[_i].host;
    snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", req_cases[_i].target,
             host ? host : "-");
    struct sf_parser p;
    const char *path = req_cases[_i].path;
    fake_request(&p, buf, req_cases[_i].form, req_cases[_i].target, path, host);
    size_t len = 99;
    const char *got = sf_vhost_request_host(&p, buf, &len);
    if (!req_cases[_i].want) {
        ck_assert_ptr_null(got);
        ck_assert_uint_eq(len, 0);
        return;
    }
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(len == strlen(req_cases[_i].want) && memcmp(got, req_cases[_i].want, len) == 0,
                  "case %d: want \"%s\", got \"%.*s\"", _i, req_cases[_i].want, (int)len, got);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
vhost_suite(void)
{
    Suite *s = suite_create("vhost");
    TCase *tc = tcase_create("vhost");
    tcase_add_loop_test(tc, select_table, 0, N(select_cases));
    tcase_add_test(tc, select_not_terminated);
    tcase_add_test(tc, select_long_host);
    tcase_add_test(tc, default_site);
    tcase_add_loop_test(tc, name_parse, 0, N(name_cases));
    tcase_add_test(tc, name_too_long);
    tcase_add_loop_test(tc, request_host, 0, N(req_cases));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(vhost_suite());
}
