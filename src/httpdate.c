/*
 * httpdate.c - HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate for
 * Date and Last-Modified, and parsing the three forms a recipient must
 * accept for the conditional headers. Calendar arithmetic is done here on
 * the proleptic Gregorian calendar with our own name tables, so nothing
 * depends on the locale or the TZ environment.
 */
#include "sfhttpd/httpdate.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

static const char *const wkday[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wkday_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
static const char *const month_name[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The formats have four-digit years: 0000-01-01 .. 9999-12-31 23:59:59. */
#define SF_DATE_MIN_SEC (-62167219200LL)
#define SF_DATE_MAX_SEC 253402300799LL

/* Days since 1970-01-01 of y-m-d (m 1..12); exact for any year here. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    /* Count years from March so the leap day ends the year. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

static char *
put2(char *p, int v)
{
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *
put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

void
sf_httpdate_format(time_t t, char out[SF_HTTPDATE_LEN + 1])
{
    int64_t sec = (int64_t)t;
    /* Clamp rather than overflow the fixed 29-byte layout. */
    if (sec < SF_DATE_MIN_SEC)
        sec = SF_DATE_MIN_SEC;
    if (sec > SF_DATE_MAX_SEC)
        sec = SF_DATE_MAX_SEC;

    int64_t days = sec / 86400;
    int64_t rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int wd = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */

    char *p = out;
    p = put_str(p, wkday[wd]);
    p = put_str(p, ", ");
    p = put2(p, d);
    *p++ = ' ';
    p = put_str(p, month_name[m - 1]);
    *p++ = ' ';
    p = put2(p, (int)(y / 100));
    p = put2(p, (int)(y % 100));
    *p++ = ' ';
    p = put2(p, (int)(rem / 3600));
    *p++ = ':';
    p = put2(p, (int)(rem / 60 % 60));
    *p++ = ':';
    p = put2(p, (int)(rem % 60));
    p = put_str(p, " GMT");
    *p = '\0';
    assert(p - out == SF_HTTPDATE_LEN);
}

/* A cursor over the input; every helper advances only on success. */
struct cur {
    const char *p;
    const char *end;
};

static bool
lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool
digits(struct cur *c, int count, int *v)
{
    if (c->end - c->p < count)
        return false;
    int acc = 0;
    for (int i = 0; i < count; i++) {
        unsigned char ch = (unsigned char)c->p[i];
        if (ch < '0' || ch > '9')
            return false;
        acc = acc * 10 + (ch - '0');
    }
    c->p += count;
    *v = acc;
    return true;
}

/* Match one name of the table (case-sensitive, as RFC 9110 specifies);
 * returns its index or -1. No name is a prefix of another in a table. */
static int
name(struct cur *c, const char *const *tbl, int count)
{
    for (int i = 0; i < count; i++)
        if (lit(c, tbl[i]))
            return i;
    return -1;
}

static bool
time_of_day(struct cur *c, int *hh, int *mm, int *ss)
{
    return digits(c, 2, hh) && lit(c, ":") && digits(c, 2, mm) && lit(c, ":") && digits(c, 2, ss);
}

/* The current UTC year, for RFC 850's two-digit years. */
static int64_t
current_year(void)
{
    time_t now = time(NULL);
    int64_t days = (int64_t)now / 86400;
    if ((int64_t)now % 86400 < 0)
        days--;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    return y;
}

/* rfc850-date: the last weekday name and comma have been consumed. */
static bool
parse_rfc850(struct cur *c, int64_t *y, int *mon, int *d, int *hh, int *mm, int *ss)
{
    int yy;
    if (!(lit(c, " ") && digits(c, 2, d) && lit(c, "-")))
        return false;
    if ((*mon = name(c, month_name, 12) + 1) == 0)
        return false;
    if (!(lit(c, "-") && digits(c, 2, &yy) && lit(c, " ") && time_of_day(c, hh, mm, ss) &&
          lit(c, " GMT")))
        return false;
    /* RFC 9110: a year more than 50 years in the future is the most
     * recent past year with the same last two digits. */
    int64_t now = current_year();
    int64_t full = now - now % 100 + yy;
    if (full > now + 50)
        full -= 100;
    else if (full <= now - 50)
        full += 100;
    *y = full;
    return true;
}

bool
sf_httpdate_parse(const char *s, size_t len, time_t *out)
{
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len < 4)
        return false;

    struct cur c = {s, s + len};
    int64_t y = 0;
    int yv = 0, mon = 0, d = 0, hh = 0, mm = 0, ss = 0;

    if (s[3] == ',') {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        if (name(&c, wkday, 7) < 0 || !lit(&c, ", ") || !digits(&c, 2, &d) || !lit(&c, " "))
            return false;
        if ((mon = name(&c, month_name, 12) + 1) == 0)
            return false;
        if (!(lit(&c, " ") && digits(&c, 4, &yv) && lit(&c, " ") &&
              time_of_day(&c, &hh, &mm, &ss) && lit(&c, " GMT")))
            return false;
        y = yv;
    } else if (s[3] == ' ') {
        /* asctime-date: Sun Nov  6 08:49:37 1994 */
        if (name(&c, wkday, 7) < 0 || !lit(&c, " "))
            return false;
        if ((mon = name(&c, month_name, 12) + 1) == 0)
            return false;
        if (!lit(&c, " "))
            return false;
        if (!(lit(&c, " ") ? digits(&c, 1, &d) : digits(&c, 2, &d)))
            return false;
        if (!(lit(&c, " ") && time_of_day(&c, &hh, &mm, &ss) && lit(&c, " ") && digits(&c, 4, &yv)))
            return false;
        y = yv;
    } else {
        /* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
        if (name(&c, wkday_long, 7) < 0 || !lit(&c, ","))
            return false;
        if (!parse_rfc850(&c, &y, &mon, &d, &hh, &mm, &ss))
            return false;
    }
    if (c.p != c.end)
        return false;

    /* Leap seconds (60) are rejected: time_t cannot name them. */
    if (d < 1 || d > month_days(y, mon) || hh > 23 || mm > 59 || ss > 59)
        return false;

    int64_t sec = days_from_civil(y, mon, d) * 86400 + hh * 3600 + mm * 60 + ss;
    if ((int64_t)(time_t)sec != sec)
        return false;
    *out = (time_t)sec;
    return true;
}
