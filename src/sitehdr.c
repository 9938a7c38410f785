/*
 * sitehdr.c - the headers a site's configuration adds to its responses:
 * Cache-Control and Expires from the site's values and its per-path
 * rules, and the add_header lines (sitehdr.h). static.c calls both.
 */
#include "sfhttpd/sitehdr.h"

#include <assert.h>
#include <string.h>

#include "sfhttpd/httpdate.h"

static bool
rule_matches(const struct sf_cache_rule *r, const struct sf_path *p)
{
    size_t n = strlen(r->match);
    if (r->is_ext)
        return p->len > n && strcmp(p->rel + p->len - n, r->match) == 0;
    /* a prefix "/assets/" against the path "/" + rel */
    return n > 0 && p->len + 1 >= n && strncmp(p->rel, r->match + 1, n - 1) == 0;
}

void
sf_sitehdr_cache(struct sf_response *out, const struct sf_site *s, const struct sf_path *path,
                 time_t now)
{
    const char *cc = NULL;
    long long exp = -1;
    for (size_t i = 0; i < s->nrules; i++) {
        const struct sf_cache_rule *r = &s->rules[i];
        if (!rule_matches(r, path))
            continue;
        if (!cc && r->cache_control)
            cc = r->cache_control;
        if (exp < 0 && r->expires >= 0)
            exp = r->expires;
    }
    if (!cc)
        cc = s->cache_control;
    if (exp < 0)
        exp = s->expires;
    if (cc)
        sf_response_puts(out, "Cache-Control", cc);
    else if (exp >= 0)
        sf_response_header(out, "Cache-Control", "max-age=%lld", exp);
    if (exp >= 0) {
        char date[SF_HTTPDATE_LEN + 1];
        sf_httpdate_format(now + (time_t)exp, date);
        sf_response_put(out, "Expires", date, SF_HTTPDATE_LEN);
    }
}

void
sf_sitehdr_add(const struct sf_site *s, struct sf_response *o)
{
    if (s->nadd_headers == 0 || o->st.head_overflow)
        return;
    assert(o->st.head_len >= 4 && memcmp(o->head + o->st.head_len - 4, "\r\n\r\n", 4) == 0);
    size_t pos = o->st.head_len - 2; /* where the blank line starts */
    for (size_t i = 0; i < s->nadd_headers; i++) {
        size_t n = strlen(s->add_headers[i]);
        if (pos + n + 4 > sizeof(o->head)) {
            o->st.head_overflow = true;
            return;
        }
        memcpy(o->head + pos, s->add_headers[i], n);
        memcpy(o->head + pos + n, "\r\n", 2);
        pos += n + 2;
    }
    memcpy(o->head + pos, "\r\n", 2);
    o->st.head_len = pos + 2;
}
