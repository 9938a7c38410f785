/*
 * test_fwatch.c - unit tests for fwatch, the inotify watch tree, against
 * a scratch tree in a mkdtemp directory: what a change of each kind in a
 * watched folder reports (a table), a watched folder moved away (its
 * watch is not found again for a new folder of that name), reference
 * counts along the chain to the root, a path that cannot be watched, two
 * paths naming one folder (one kernel watch, kept while either uses it),
 * an owner that drops watches while told of a change, and the queue
 * overflow. Every wait is bounded.
 */
#include "sfhttpd/fwatch.h"
#include "sfhttpd/common.h"
#include "sfhttpd/log.h"

#include <check.h>

#include "unit_util.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 5000
#define MAXEV 256

static char base[256];

/* Per test. */
static char root[600], logpath[600];
static struct sf_log lg;
static struct sf_fwatch *w;

/* What the owner was told. */
struct told {
    unsigned site;
    char rel[256];
    unsigned what;
};
static struct told ev[MAXEV];
static int nev, nall;
/* An owner that drops a watch when told (as fcache drops an entry). */
static struct sf_fwatch_dir *drop_on_change;

static void
setup_base(void)
{
    unit_tmpdir(base, sizeof(base), "sf_fwatch");
}

static void
teardown_base(void)
{
    unit_rmtree(base);
}

static void
on_change(void *arg, unsigned site, const char *rel, unsigned what)
{
    ck_assert_ptr_eq(arg, &ev);
    if (what & SF_FWATCH_ALL) {
        nall++;
        return;
    }
    if (nev < MAXEV) {
        ev[nev].site = site;
        snprintf(ev[nev].rel, sizeof(ev[nev].rel), "%s", rel);
        ev[nev].what = what;
        nev++;
    }
    if (drop_on_change) {
        sf_fwatch_put(w, drop_on_change);
        drop_on_change = NULL;
    }
}

static void
setup(void)
{
    char tdir[512];
    snprintf(tdir, sizeof(tdir), "%s/t.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    snprintf(root, sizeof(root), "%s/root", tdir);
    snprintf(logpath, sizeof(logpath), "%s/error.log", tdir);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    memset(&lg, 0, sizeof(lg));
    lg.err_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ck_assert_int_ge(lg.err_fd, 0);
    lg.access_fd = -1;
    lg.level = SF_LOG_DEBUG;
    nev = nall = 0;
    drop_on_change = NULL;
    w = sf_fwatch_new(&lg, on_change, &ev);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_ge(sf_fwatch_fd(w), 0);
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
}

static void
teardown(void)
{
    sf_fwatch_free(w);
    w = NULL;
    close(lg.err_fd);
}

/* The absolute path of rel (a static buffer per slot). */
static const char *
abs_path(int slot, const char *rel)
{
    static char buf[4][1024];
    snprintf(buf[slot], sizeof(buf[slot]), "%s%s%s", root, rel[0] ? "/" : "", rel);
    return buf[slot];
}

/* Wait (bounded) for events and read them all. */
static void
pump(void)
{
    ck_assert_msg(readable(sf_fwatch_fd(w), WAIT_MS), "no inotify event");
    /* let a burst of events (a rename's pair) arrive whole */
    usleep(20000);
    sf_fwatch_read(w);
}

/* True when some report names rel with every flag of what (exactly
 * those flags when exact). */
static bool
told(const char *rel, unsigned what, bool exact)
{
    for (int i = 0; i < nev; i++)
        if (ev[i].site == 7 && strcmp(ev[i].rel, rel) == 0 &&
            (exact ? ev[i].what == what : (ev[i].what & what) == what))
            return true;
    return false;
}

static bool
told_of(const char *rel, unsigned what)
{
    return told(rel, what, false);
}

static struct sf_fwatch_dir *
get(const char *rel)
{
    return sf_fwatch_get(w, 7, root, rel);
}

/* ------------------------------------------------------ what is told */

enum change {
    CH_CREATE,
    CH_WRITE,
    CH_UNLINK,
    CH_RENAME_OVER,
    CH_CHMOD,
    CH_MKDIR,
    CH_RMDIR,
    CH_TOUCH_DIR_FILE
};

struct name_case {
    const char *name;
    const char *dir; /* the watched folder ("" = the root) */
    enum change ch;
    const char *rel; /* the name reported */
    unsigned what;   /* flags it must carry */
    bool beneath;    /* and whether BENEATH may be set */
};

static const struct name_case name_cases[] = {
    {"create", "d", CH_CREATE, "d/new.txt", SF_FWATCH_NAME | SF_FWATCH_BENEATH, true},
    {"write in place", "d", CH_WRITE, "d/f.txt", SF_FWATCH_NAME, false},
    {"unlink", "d", CH_UNLINK, "d/f.txt", SF_FWATCH_NAME | SF_FWATCH_BENEATH, true},
    {"rename over", "d", CH_RENAME_OVER, "d/f.txt", SF_FWATCH_NAME | SF_FWATCH_BENEATH, true},
    {"chmod", "d", CH_CHMOD, "d/f.txt", SF_FWATCH_NAME, false},
    {"mkdir", "d", CH_MKDIR, "d/sub", SF_FWATCH_NAME | SF_FWATCH_BENEATH, true},
    {"rmdir", "d", CH_RMDIR, "d/old", SF_FWATCH_NAME | SF_FWATCH_BENEATH, true},
    {"write in place, root", "", CH_WRITE, "f.txt", SF_FWATCH_NAME, false},
    {"create, root", "", CH_CREATE, "new.txt", SF_FWATCH_NAME | SF_FWATCH_BENEATH, true},
    {"a file two levels down", "d/e", CH_TOUCH_DIR_FILE, "d/e/f.txt", SF_FWATCH_NAME, false},
};

START_TEST(test_name_table)
{
    const struct name_case *c = &name_cases[_i];
    char dir[256], file[300], tmp[320];
    snprintf(dir, sizeof(dir), "%s", c->dir);
    if (dir[0]) {
        unit_mkdir(root, "d");
        if (strcmp(dir, "d/e") == 0)
            unit_mkdir(root, "d/e");
    }
    snprintf(file, sizeof(file), "%s%sf.txt", dir, dir[0] ? "/" : "");
    unit_put(root, file, "old");
    if (c->ch == CH_RMDIR)
        unit_mkdir(root, "d/old");
    struct sf_fwatch_dir *d = get(file);
    ck_assert_ptr_nonnull(d);
    size_t depth = 1;
    for (const char *p = dir; *p; p++)
        depth += *p == '/';
    if (dir[0])
        depth++;
    ck_assert_uint_eq(sf_fwatch_count(w), depth);

    switch (c->ch) {
    case CH_CREATE: unit_put(root, c->rel, "new"); break;
    case CH_WRITE:
    case CH_TOUCH_DIR_FILE: {
        int fd = open(abs_path(0, file), O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "x", 1), 1);
        close(fd);
        break;
    }
    case CH_UNLINK: ck_assert_int_eq(unlink(abs_path(0, file)), 0); break;
    case CH_RENAME_OVER:
        snprintf(tmp, sizeof(tmp), "%s.tmp", file);
        unit_put(root, tmp, "new");
        ck_assert_int_eq(rename(abs_path(0, tmp), abs_path(1, file)), 0);
        break;
    case CH_CHMOD: ck_assert_int_eq(chmod(abs_path(0, file), 0600), 0); break;
    case CH_MKDIR: unit_mkdir(root, c->rel); break;
    case CH_RMDIR: ck_assert_int_eq(rmdir(abs_path(0, c->rel)), 0); break;
    }
    pump();
    ck_assert_msg(told_of(c->rel, c->what), "%s: not told of %s (what %#x); %d report(s), first %s",
                  c->name, c->rel, c->what, nev, nev ? ev[0].rel : "-");
    if (!c->beneath)
        for (int i = 0; i < nev; i++)
            ck_assert_msg(!(ev[i].what & SF_FWATCH_BENEATH) || strcmp(ev[i].rel, c->rel) != 0,
                          "%s: %s reported as a folder", c->name, c->rel);
    ck_assert_int_eq(nall, 0);
    sf_fwatch_put(w, d);
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
}
END_TEST

/* After its last put, a folder is no longer watched: nothing is told. */
START_TEST(test_unwatched_after_put)
{
    unit_mkdir(root, "d");
    unit_put(root, "d/f.txt", "x");
    sf_fwatch_put(w, get("d/f.txt"));
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
    unit_put(root, "d/g.txt", "y");
    readable(sf_fwatch_fd(w), 200); /* the kernel may still queue IN_IGNORED */
    sf_fwatch_read(w);
    ck_assert_int_eq(nev, 0);
}
END_TEST

/* A watched folder moved away: told that everything beneath it changed,
 * and its watch (kept alive by a file in flight) is not found again for
 * a new folder of the same name, whose changes are then told. */
START_TEST(test_moved_dir)
{
    unit_mkdir(root, "d");
    unit_mkdir(root, "d/e");
    unit_put(root, "d/e/f.txt", "one");
    struct sf_fwatch_dir *old = get("d/e/f.txt"); /* in flight */
    ck_assert_uint_eq(sf_fwatch_count(w), 3);
    ck_assert_int_eq(rename(abs_path(0, "d"), abs_path(1, "d.old")), 0);
    pump();
    /* from the root; d's own MOVE_SELF then comes from a watch that was
     * already dropped with its name, and adds nothing */
    ck_assert(told_of("d", SF_FWATCH_NAME | SF_FWATCH_BENEATH));

    unit_mkdir(root, "d");
    unit_mkdir(root, "d/e");
    unit_put(root, "d/e/f.txt", "two");
    pump();
    struct sf_fwatch_dir *now = get("d/e/f.txt");
    ck_assert_ptr_nonnull(now);
    ck_assert_ptr_ne(now, old);
    ck_assert_uint_eq(sf_fwatch_count(w), 5); /* root shared, two new */
    nev = 0;
    unit_put(root, "d/e/g.txt", "three");
    pump();
    ck_assert_msg(told_of("d/e/g.txt", SF_FWATCH_NAME), "a change in the new folder was missed");
    sf_fwatch_put(w, old);
    sf_fwatch_put(w, now);
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
}
END_TEST

/* A folder symlink swapped by rename (mv -T: current -> releases/v1
 * replaced by current -> releases/v2) while a file beneath it is in
 * flight: every watch beneath "current" must go with the name, so that
 * the next get watches v2 and its deletions and renames over are told. */
START_TEST(test_symlink_swap)
{
    unit_mkdir(root, "releases");
    unit_mkdir(root, "releases/v1");
    unit_mkdir(root, "releases/v2");
    unit_mkdir(root, "releases/v1/sub");
    unit_mkdir(root, "releases/v2/sub");
    unit_put(root, "releases/v1/secret.txt", "one");
    unit_put(root, "releases/v2/secret.txt", "two");
    unit_put(root, "releases/v1/sub/a.txt", "one");
    unit_put(root, "releases/v2/sub/a.txt", "two");
    ck_assert_int_eq(symlink("releases/v1", abs_path(0, "current")), 0);
    struct sf_fwatch_dir *old = get("current/secret.txt");   /* in flight */
    struct sf_fwatch_dir *oldsub = get("current/sub/a.txt"); /* and beneath */
    ck_assert_ptr_nonnull(old);
    ck_assert_ptr_nonnull(oldsub);

    ck_assert_int_eq(symlink("releases/v2", abs_path(0, "current.tmp")), 0);
    ck_assert_int_eq(rename(abs_path(0, "current.tmp"), abs_path(1, "current")), 0);
    pump();
    ck_assert(told_of("current", SF_FWATCH_NAME | SF_FWATCH_BENEATH));

    struct sf_fwatch_dir *now = get("current/secret.txt");
    struct sf_fwatch_dir *nowsub = get("current/sub/a.txt");
    ck_assert_ptr_nonnull(now);
    ck_assert_msg(now != old, "the watch of the old target stood for the new one");
    ck_assert_msg(nowsub != oldsub, "a watch beneath the swapped name was kept");

    nev = 0;
    ck_assert_int_eq(unlink(abs_path(0, "releases/v2/secret.txt")), 0);
    pump();
    ck_assert_msg(told_of("current/secret.txt", SF_FWATCH_NAME),
                  "a deletion in the new target was missed");
    nev = 0;
    unit_put(root, "releases/v2/sub/a.new", "three");
    pump();
    nev = 0;
    ck_assert_int_eq(
        rename(abs_path(0, "releases/v2/sub/a.new"), abs_path(1, "releases/v2/sub/a.txt")), 0);
    pump();
    ck_assert_msg(told_of("current/sub/a.txt", SF_FWATCH_NAME),
                  "a rename over in the new target was missed");
    /* nothing heard from the old target any more, under the new name */
    nev = 0;
    unit_put(root, "releases/v1/sub/b.txt", "x");
    readable(sf_fwatch_fd(w), 200);
    sf_fwatch_read(w);
    ck_assert_msg(!told_of("current/sub/b.txt", SF_FWATCH_NAME),
                  "the old target still reported under the swapped name");
    sf_fwatch_put(w, old);
    sf_fwatch_put(w, oldsub);
    sf_fwatch_put(w, now);
    sf_fwatch_put(w, nowsub);
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
}
END_TEST

/* ------------------------------------------------------------- refs */

struct ref_case {
    const char *files; /* space-separated, all got, then all put */
    size_t count;      /* folders watched while held */
};

static const struct ref_case ref_cases[] = {
    {"f.txt", 1},
    {"f.txt g.txt", 1},
    {"a/f.txt", 2},
    {"a/f.txt a/g.txt", 2},
    {"a/b/c.txt", 3},
    {"a/b/c.txt a/f.txt x/y.txt", 4},
    {"a/b/c.txt a/b/d.txt a/f.txt f.txt", 3},
};

START_TEST(test_ref_table)
{
    const struct ref_case *c = &ref_cases[_i];
    char list[256];
    snprintf(list, sizeof(list), "%s", c->files);
    struct sf_fwatch_dir *held[8];
    int n = 0;
    for (char *save = NULL, *f = strtok_r(list, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
        /* make the folders of f */
        char dir[256];
        snprintf(dir, sizeof(dir), "%s", f);
        for (char *p = dir; (p = strchr(p, '/')); p++) {
            *p = '\0';
            mkdir(abs_path(0, dir), 0755);
            *p = '/';
        }
        unit_put(root, f, "x");
        held[n] = get(f);
        ck_assert_msg(held[n], "no watch for %s", f);
        n++;
    }
    ck_assert_uint_eq(sf_fwatch_count(w), c->count);
    /* files of one folder share its watch */
    for (int i = 0; i < n; i++)
        sf_fwatch_put(w, held[i]);
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
    sf_fwatch_put(w, NULL); /* NULL-safe */
}
END_TEST

/* A folder that does not exist cannot be watched: NULL, and the watches
 * taken for its ancestors on the way are given back. */
START_TEST(test_missing_dir)
{
    unit_mkdir(root, "a");
    ck_assert_ptr_null(get("a/missing/f.txt"));
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
    ck_assert_ptr_null(sf_fwatch_get(w, 7, "/nonexistent-sfhttpd-root", "f.txt"));
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
}
END_TEST

/* Two paths naming one folder (a symlink): one kernel watch; dropping
 * one path's watch keeps the kernel's for the other. */
START_TEST(test_shared_wd)
{
    unit_mkdir(root, "d");
    unit_put(root, "d/f.txt", "x");
    ck_assert_int_eq(symlink("d", abs_path(0, "l")), 0);
    struct sf_fwatch_dir *a = get("d/f.txt");
    struct sf_fwatch_dir *b = get("l/f.txt");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(sf_fwatch_count(w), 3);
    sf_fwatch_put(w, b);
    ck_assert_uint_eq(sf_fwatch_count(w), 2);
    unit_put(root, "d/g.txt", "y");
    pump();
    ck_assert_msg(told_of("d/g.txt", SF_FWATCH_NAME), "the shared kernel watch was removed");
    sf_fwatch_put(w, a);
}
END_TEST

/* The owner drops the last reference of the folder it is told about
 * while being told (fcache uncaching the last entry in it): the watcher
 * holds on, and reads on. */
START_TEST(test_put_while_told)
{
    unit_mkdir(root, "d");
    unit_put(root, "d/f.txt", "x");
    drop_on_change = get("d/f.txt");
    ck_assert_uint_eq(sf_fwatch_count(w), 2);
    unit_put(root, "d/g.txt", "y");
    unit_put(root, "d/h.txt", "z");
    pump();
    ck_assert_ptr_null(drop_on_change);
    ck_assert(told_of("d/g.txt", SF_FWATCH_NAME));
    ck_assert_uint_eq(sf_fwatch_count(w), 0);
}
END_TEST

/* More events than the kernel queues: the owner is told that anything
 * may have changed. */
START_TEST(test_overflow)
{
    FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "re");
    ck_assert_ptr_nonnull(f);
    long max = 0;
    ck_assert_int_eq(fscanf(f, "%ld", &max), 1);
    fclose(f);
    if (max > 200000) {
        fprintf(stderr, "test_fwatch: max_queued_events %ld, overflow not tried\n", max);
        return;
    }
    unit_put(root, "f.txt", "x");
    struct sf_fwatch_dir *d = get("f.txt");
    char name[64];
    for (long i = 0; i < max / 2 + 16; i++) {
        /* two events each (create, delete) */
        snprintf(name, sizeof(name), "n%ld", i);
        unit_put(root, name, "");
        ck_assert_int_eq(unlink(abs_path(0, name)), 0);
    }
    sf_fwatch_read(w);
    ck_assert_int_ge(nall, 1);
    sf_fwatch_put(w, d);
}
END_TEST

static Suite *
fwatch_suite(void)
{
    Suite *s = suite_create("fwatch");
    TCase *tc;

    tc = tcase_create("told");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_name_table, 0, (int)SF_ARRAY_LEN(name_cases));
    tcase_add_test(tc, test_unwatched_after_put);
    tcase_add_test(tc, test_moved_dir);
    tcase_add_test(tc, test_symlink_swap);
    tcase_add_test(tc, test_put_while_told);
    tcase_add_test(tc, test_overflow);
    suite_add_tcase(s, tc);

    tc = tcase_create("refs");
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_ref_table, 0, (int)SF_ARRAY_LEN(ref_cases));
    tcase_add_test(tc, test_missing_dir);
    tcase_add_test(tc, test_shared_wd);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return unit_run(fwatch_suite());
}
