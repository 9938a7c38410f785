/*
 * config_key.c - what the rows of the key tables share (config_int.h):
 * errors and places, reading and writing a row's field by its type, the
 * generic setters and dumpers (numbers, sizes, times, booleans, enums,
 * strings), and the walks over a table that set defaults, free and dump.
 */
#include "config_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- memory, errors, places ----------------------------------------------- */

/* Out of memory while loading the config: this is start-up, give up. */
_Noreturn void
config_oom(void)
{
    fputs("sfhttpd: out of memory\n", stderr);
    abort();
}

void *
config_xalloc(void *p)
{
    if (!p)
        config_oom();
    return p;
}

char *
config_xstrdup(const char *s)
{
    return config_xalloc(strdup(s));
}

void
config_err(struct loader *l, int line, const char *fmt, ...)
{
    l->nerr++;
    if (!l->errs)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (line > 0)
        fprintf(l->errs, "%s:%d: ", l->file, line);
    else
        fprintf(l->errs, "%s: ", l->file);
    vfprintf(l->errs, fmt, ap);
    fputc('\n', l->errs);
    va_end(ap);
}

void
config_note_at(struct loader *l, char **dst)
{
    char *at;
    if (l->lineno == 0)
        return;
    if (asprintf(&at, "%s:%d", l->file, l->lineno) < 0)
        config_oom();
    free(*dst);
    *dst = at;
}

char *
config_log_dest(struct loader *l, const char *v)
{
    if (strcmp(v, "-") == 0)
        return config_xstrdup("-");
    if (strcasecmp(v, "off") == 0)
        return config_xstrdup("off");
    return config_xalloc(config_make_absolute(l->dir, v));
}

/* ---- fields ------------------------------------------------------------------ */

void *
config_field(const struct key *k, void *obj)
{
    return (char *)obj + k->off;
}

const void *
config_cfield(const struct key *k, const void *obj)
{
    return (const char *)obj + k->off;
}

long long
config_get_number(const struct key *k, const void *obj)
{
    const void *p = config_cfield(k, obj);
    switch (k->type) {
    case T_BOOL: return *(const bool *)p;
    case T_INT: return *(const int *)p;
    case T_UINT: return *(const unsigned *)p;
    case T_SIZE: return (long long)*(const size_t *)p;
    case T_LLONG: return *(const long long *)p;
    default: break;
    }
    assert(!"not a number field");
    return 0;
}

void
config_put_number(const struct key *k, void *obj, unsigned long long n)
{
    void *p = config_field(k, obj);
    switch (k->type) {
    case T_BOOL: *(bool *)p = n != 0; return;
    case T_INT: *(int *)p = (int)n; return;
    case T_UINT: *(unsigned *)p = (unsigned)n; return;
    case T_SIZE: *(size_t *)p = (size_t)n; return;
    case T_LLONG: *(long long *)p = (long long)n; return;
    default: break;
    }
    assert(!"not a number field");
}

void
config_join_names(char *buf, size_t cap, const char *const *names, size_t n, const char *last)
{
    size_t len = 0;
    size_t all = n + (last != NULL);
    buf[0] = '\0';
    for (size_t i = 0; i < all && len < cap; i++) {
        const char *sep = i == 0 ? "" : i == all - 1 ? " or " : ", ";
        int w = snprintf(buf + len, cap - len, "%s%s", sep, i < n ? names[i] : last);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

/* ---- generic setters ---------------------------------------------------------- */

/* Store n after the range check, or report what is wrong: rc is the
 * parser's, what says what a value must be, range (NULL: "min..max") what
 * the range is. */
static void
put_ranged(struct loader *l, const struct key *k, void *obj, const char *v, int rc,
           unsigned long long n, const char *what, const char *range)
{
    if (rc == -EINVAL) {
        config_err(l, l->lineno, "%s: '%s' is not %s", k->name, v, k->what ? k->what : what);
        return;
    }
    if (rc || n < k->min || n > k->max) {
        if (range)
            config_err(l, l->lineno, "%s: '%s' out of range (%s)", k->name, v, range);
        else
            config_err(l, l->lineno, "%s: '%s' out of range (%llu..%llu)", k->name, v, k->min,
                       k->max);
        return;
    }
    config_put_number(k, obj, n);
}

void
config_set_number(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    unsigned long long n = 0;
    (void)arg;
    int rc = config_parse_number(v, &n);
    put_ranged(l, k, obj, v, rc, n, "a number", NULL);
}

void
config_set_size(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    unsigned long long n = 0;
    (void)arg;
    int rc = config_parse_size(v, &n);
    put_ranged(l, k, obj, v, rc, n, "a size (bytes, or a number with k, m or g)", NULL);
}

/* The timeouts: more than 0, at most a day (the rows' range). */
void
config_set_ms(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    unsigned long long n = 0;
    (void)arg;
    int rc = config_parse_ms(v, &n);
    put_ranged(l, k, obj, v, rc, n, "a time (seconds, fractions allowed, or a number with ms)",
               "more than 0, at most 1 day");
}

void
config_set_bool(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    bool b;
    (void)arg;
    if (config_parse_bool(v, &b))
        config_err(l, l->lineno, "%s: '%s' is not %s", k->name, v, k->what ? k->what : "on or off");
    else
        config_put_number(k, obj, b);
}

void
config_set_enum(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    (void)arg;
    int i = config_lookup(v, k->names, k->nnames);
    if (i >= 0) {
        config_put_number(k, obj, (unsigned)i);
        return;
    }
    char what[160];
    if (k->what)
        snprintf(what, sizeof(what), "%s", k->what);
    else
        config_join_names(what, sizeof(what), k->names, k->nnames, NULL);
    config_err(l, l->lineno, "%s: '%s' is not %s", k->name, v, what);
}

/* ---- generic dumpers ------------------------------------------------------------ */

void
config_dump_number(FILE *out, const struct key *k, const void *obj)
{
    fprintf(out, "%s = %lld\n", k->name, config_get_number(k, obj));
}

void
config_dump_size(FILE *out, const struct key *k, const void *obj)
{
    static const struct {
        unsigned long long mult;
        char suffix;
    } units[] = {{GIB, 'g'}, {MIB, 'm'}, {KIB, 'k'}};
    unsigned long long n = (unsigned long long)config_get_number(k, obj);
    for (size_t i = 0; i < SF_ARRAY_LEN(units); i++) {
        if (n && n % units[i].mult == 0) {
            fprintf(out, "%s = %llu%c\n", k->name, n / units[i].mult, units[i].suffix);
            return;
        }
    }
    fprintf(out, "%s = %llu\n", k->name, n);
}

void
config_dump_ms(FILE *out, const struct key *k, const void *obj)
{
    unsigned ms = (unsigned)config_get_number(k, obj);
    if (ms % 1000 == 0) {
        fprintf(out, "%s = %u\n", k->name, ms / 1000);
        return;
    }
    char frac[8];
    snprintf(frac, sizeof(frac), "%03u", ms % 1000);
    for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
        frac[n - 1] = '\0';
    fprintf(out, "%s = %u.%s\n", k->name, ms / 1000, frac);
}

void
config_dump_bool(FILE *out, const struct key *k, const void *obj)
{
    fprintf(out, "%s = %s\n", k->name, config_get_number(k, obj) ? "on" : "off");
}

void
config_dump_enum(FILE *out, const struct key *k, const void *obj)
{
    long long v = config_get_number(k, obj);
    /* a value no name has (set by hand, refused by validate): the default */
    fprintf(out, "%s = %s\n", k->name, v >= 0 && (size_t)v < k->nnames ? k->names[v] : k->def);
}

void
config_dump_string(FILE *out, const struct key *k, const void *obj)
{
    const char *s = *(char *const *)config_cfield(k, obj);
    if (!s)
        s = k->def;
    if (s)
        fprintf(out, "%s = %s\n", k->name, s);
}

/* ---- walks over a table --------------------------------------------------------- */

void
config_keys_defaults(const struct key *keys, size_t n, struct sf_config *cfg, void *obj)
{
    char dir[] = "/";
    struct loader l = {.cfg = cfg, .file = "(defaults)", .dir = dir, .errs = stderr};
    for (size_t i = 0; i < n; i++) {
        if (keys[i].def)
            keys[i].set(&l, &keys[i], obj, NULL, keys[i].def);
    }
    assert(l.nerr == 0 && "a default in a key table does not parse");
}

void
config_keys_free(const struct key *keys, size_t n, void *obj)
{
    for (size_t i = 0; i < n; i++) {
        const struct key *k = &keys[i];
        if (k->free)
            k->free(k, obj);
        if (k->type == T_STR) {
            char **s = config_field(k, obj);
            free(*s);
            *s = NULL;
        }
        if (k->at) {
            char **at = (char **)((char *)obj + k->at);
            free(*at);
            *at = NULL;
        }
    }
}

void
config_keys_dump(const struct key *keys, size_t n, const void *obj, FILE *out)
{
    for (size_t i = 0; i < n; i++)
        keys[i].dump(out, &keys[i], obj);
}

/* ---- the keys, for the documentation test and tools ---------------------------- */

const char *
sf_config_key_name(enum sf_config_keys sect, size_t i)
{
    switch (sect) {
    case SF_CONFIG_KEYS_SERVER:
        if (i < config_nserver_keys)
            return config_server_keys[i].name;
        return i == config_nserver_keys ? CONFIG_INCLUDE_KEY : NULL;
    case SF_CONFIG_KEYS_SITE: return i < config_nsite_keys ? config_site_keys[i].name : NULL;
    case SF_CONFIG_KEYS_LISTEN:
        return i < config_nlisten_options ? config_listen_option_names[i] : NULL;
    }
    return NULL;
}
