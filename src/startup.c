/*
 * startup.c - the checks of the machine that a start makes before it
 * binds or forks, shared by -t, the start and a reload (startup.h), and
 * the start-up lines that say what is served.
 *
 * The checks ask the kernel rather than read mode bits: faccessat with
 * AT_EACCESS for the starting user, and for the workers' user the same
 * calls in a child process that has switched to it for good, so that
 * ACLs, supplementary groups and mount options all count.
 */
#include "sfhttpd/startup.h"
#include "sfhttpd/fdlimit.h"
#include "sfhttpd/common.h"
#include "sfhttpd/resolve.h"

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* Longest reason one root check gives; a root path is at most PATH_MAX. */
#define REASON_MAX (PATH_MAX + 128)

/* The starting user's name, for messages. */
static void
me(char *buf, size_t cap)
{
    const struct passwd *pw = getpwuid(geteuid());
    if (pw)
        snprintf(buf, cap, "%s", pw->pw_name);
    else
        snprintf(buf, cap, "uid %ld", (long)geteuid());
}

/* The folder of path: "/a/b" -> "/a", "b" -> ".", "/b" -> "/". */
static void
folder_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* ---- files the starting user writes --------------------------------------- */

/*
 * A file the starting user opens before any switch: a log (appended to,
 * created when missing) or the pid file (by_rename: written beside its
 * name and renamed over it). "-" and "off" are not files.
 */
static int
check_writable(FILE *errs, const char *at, const char *key, const char *path, bool by_rename)
{
    char dir[PATH_MAX], who[64];
    struct stat st;
    if (!path || strcmp(path, "-") == 0 || strcmp(path, "off") == 0)
        return 0;
    folder_of(path, dir, sizeof(dir));
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            sf_config_problem(errs, at, key, path, "no such folder: %s", dir);
        else
            sf_config_problem(errs, at, key, path, "folder %s: %s", dir, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        sf_config_problem(errs, at, key, path, "%s is not a folder", dir);
        return 1;
    }
    me(who, sizeof(who));
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* opened with O_NOFOLLOW (log.h): name the file itself */
        sf_config_problem(errs, at, key, path,
                          "is a symbolic link (log and pid files are never opened through one: "
                          "name the file itself)");
        return 1;
    }
    bool exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        sf_config_problem(errs, at, key, path, "is a folder, not a file");
        return 1;
    }
    if (exists && !by_rename) {
        if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0)
            return 0;
        sf_config_problem(errs, at, key, path, "%s cannot write it: %s", who, strerror(errno));
        return 1;
    }
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
        sf_config_problem(errs, at, key, path, "%s cannot create files in %s: %s", who, dir,
                          strerror(errno));
        return 1;
    }
    return 0;
}

static int
check_files(const struct sf_config *cfg, FILE *errs)
{
    int n = check_writable(errs, cfg->error_log_at, "error_log", cfg->error_log, false);
    n += check_writable(errs, cfg->access_log_at, "access_log", cfg->access_log, false);
    n += check_writable(errs, cfg->pid_file_at, "pid_file", cfg->pid_file, true);
    for (size_t i = 0; i < cfg->nsites; i++) {
        const struct sf_site *site = &cfg->sites[i];
        n += check_writable(errs, site->access_log_at, "access_log", site->access_log, false);
    }
    return n;
}

/* ---- listen addresses -------------------------------------------------------- */

/* The lowest port that needs no privilege (net.ipv4.ip_unprivileged_port_start). */
static int
unprivileged_port_start(void)
{
    int port = 1024;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
    if (f) {
        if (fscanf(f, "%d", &port) != 1)
            port = 1024;
        fclose(f);
    }
    return port;
}

static bool
can_bind_low_ports(void)
{
    if (capng_get_caps_process() != 0)
        return geteuid() == 0;
    return capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_BIND_SERVICE) != 0;
}

static int
check_unix(FILE *errs, const char *at, const char *spec, const struct sockaddr_un *un)
{
    char dir[PATH_MAX], who[64];
    const char *path = un->sun_path;
    struct stat st;
    folder_of(path, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sf_config_problem(errs, at, "listen", spec, "no such folder: %s", dir);
        return 1;
    }
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        sf_config_problem(errs, at, "listen", spec, "%s exists and is not a socket", path);
        return 1;
    }
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
        me(who, sizeof(who));
        sf_config_problem(errs, at, "listen", spec, "%s cannot create the socket in %s: %s", who,
                          dir, strerror(errno));
        return 1;
    }
    return 0;
}

/*
 * Listen line i: the family works and the address is this host's (bound
 * with port 0, which takes no port anyone asked for, and closed at once),
 * and a low port is allowed.
 */
static int
check_listen(const struct sf_config *cfg, size_t i, FILE *errs, int low_ports, bool may_bind_low)
{
    const char *at = cfg->listen[i].at, *spec = cfg->listen[i].addr;
    struct sockaddr_storage ss;
    unsigned sslen;
    if (sf_config_parse_addr(spec, &ss, &sslen) != 0)
        return 0; /* sf_config_validate reports it */
    if (ss.ss_family == AF_UNIX)
        return check_unix(errs, at, spec, (const struct sockaddr_un *)&ss);
    in_port_t *portp = ss.ss_family == AF_INET ? &((struct sockaddr_in *)&ss)->sin_port
                                               : &((struct sockaddr_in6 *)&ss)->sin6_port;
    unsigned port = ntohs(*portp);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sf_config_problem(errs, at, "listen", spec, "cannot make an %s socket: %s",
                          ss.ss_family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
        return 1;
    }
    int v6only = cfg->listen[i].opts.v6only;
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    *portp = 0;
    int rc = bind(fd, (struct sockaddr *)&ss, sslen) == 0 ? 0 : errno;
    close(fd);
    if (rc == EADDRNOTAVAIL) {
        sf_config_problem(errs, at, "listen", spec, "not an address of this host");
        return 1;
    }
    if (rc) {
        sf_config_problem(errs, at, "listen", spec, "bind: %s", strerror(rc));
        return 1;
    }
    if (port && (int)port < low_ports && !may_bind_low) {
        sf_config_problem(errs, at, "listen", spec,
                          "port %u needs root or CAP_NET_BIND_SERVICE (ports below %d are "
                          "privileged)",
                          port, low_ports);
        return 1;
    }
    return 0;
}

static int
check_listens(const struct sf_config *cfg, FILE *errs)
{
    if (sd_listen_fds(0) > 0)
        return 0; /* systemd's sockets replace the listen lines */
    int n = 0, low = unprivileged_port_start();
    bool may = can_bind_low_ports();
    for (size_t i = 0; i < cfg->nlisten; i++)
        n += check_listen(cfg, i, errs, low, may);
    return n;
}

/* ---- the kernel ------------------------------------------------------------ */

/*
 * openat2(2) confines every path (resolve.h), and there is no other way
 * in: without it each request would fail with 500. Probed on the first
 * root that opens (else "/"); an error other than the two a missing or
 * blocked call gives (EACCES, say) is check_roots' to name.
 */
static int
check_openat2(const struct sf_config *cfg, FILE *errs)
{
    int dirfd = -1;
    for (size_t i = 0; i < cfg->nsites && dirfd < 0; i++)
        dirfd = open(cfg->sites[i].root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return 0;
    int rc = sf_resolve_probe(dirfd);
    close(dirfd);
    if (rc != -ENOSYS && rc != -EPERM)
        return 0;
    sf_config_problem(errs, NULL, NULL, NULL,
                      "openat2(2) is not available: Linux 5.6 or later is needed, or a seccomp "
                      "filter blocks it (%s)",
                      strerror(-rc));
    return 1;
}

/* ---- the roots, as the workers' user --------------------------------------- */

/*
 * What keeps this process from reaching root: searching every folder down
 * to it, and reading it when need_read (a listing). "" when nothing.
 */
static void
reach_problem(const char *root, bool need_read, char *out, size_t cap)
{
    out[0] = '\0';
    if (faccessat(AT_FDCWD, root, X_OK, AT_EACCESS) != 0) {
        int err = errno;
        char prefix[PATH_MAX];
        size_t len = strlen(root);
        if (len >= sizeof(prefix)) {
            snprintf(out, cap, "%s", strerror(ENAMETOOLONG));
            return;
        }
        /* the first folder on the way that fails names the cause */
        for (size_t i = 1; i <= len; i++) {
            if (i < len && root[i] != '/')
                continue;
            memcpy(prefix, root, i);
            prefix[i] = '\0';
            if (faccessat(AT_FDCWD, prefix, X_OK, AT_EACCESS) == 0)
                continue;
            err = errno;
            if (err == EACCES)
                snprintf(out, cap, "cannot enter %s (%s)", prefix, strerror(err));
            else
                snprintf(out, cap, "%s: %s", prefix, strerror(err));
            return;
        }
        snprintf(out, cap, "%s", strerror(err));
        return;
    }
    if (need_read && faccessat(AT_FDCWD, root, R_OK, AT_EACCESS) != 0)
        snprintf(out, cap, "cannot read it for the listing (%s)", strerror(errno));
}

/*
 * reach_problem for every site as ids->uid/gid, in a child switched to
 * them for good; its answers come back as "INDEX REASON" lines, read into
 * buf (NUL-terminated; cut at cap). -errno when no child could be run.
 */
static int
reach_as(const struct sf_config *cfg, const struct sf_ids *ids, char *buf, size_t cap)
{
    int p[2];
    size_t len = 0;
    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int rc = -errno;
        close(p[0]);
        close(p[1]);
        return rc;
    }
    if (pid == 0) {
        char why[REASON_MAX];
        close(p[0]);
        int rc = sf_privs_become(ids);
        if (rc)
            dprintf(p[1], "! %s\n", strerror(-rc));
        for (size_t i = 0; rc == 0 && i < cfg->nsites; i++) {
            reach_problem(cfg->sites[i].root, cfg->sites[i].listing, why, sizeof(why));
            if (why[0])
                dprintf(p[1], "%zu %s\n", i, why);
        }
        _exit(0);
    }
    close(p[1]);
    for (;;) {
        char drop[512];
        ssize_t r =
            len + 1 < cap ? read(p[0], buf + len, cap - 1 - len) : read(p[0], drop, sizeof(drop));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (len + 1 < cap)
            len += (size_t)r;
    }
    close(p[0]);
    buf[len] = '\0';
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

/* One unreachable root, in the words its origin calls for. */
static void
report_root(const struct sf_config *cfg, const struct sf_ids *ids, const struct sf_site *site,
            const char *why, FILE *errs)
{
    char as[160] = "";
    if (ids->drop)
        snprintf(as, sizeof(as), "%s%s%s", ids->user, ids->group[0] ? ":" : "", ids->group);
    if (ids->fallback)
        sf_config_problem(errs, cfg->server_at ? cfg->server_at : cfg->path, NULL, NULL,
                          "started as root without a user, and %s cannot reach root %s: %s: "
                          "set user = NAME in [server] to a user who can (or -u NAME; "
                          "user = root keeps the workers root)",
                          as, site->root, why);
    else if (!cfg->path)
        sf_config_problem(errs, NULL, NULL, NULL, "cannot serve %s%s%s: %s", site->root,
                          as[0] ? " as " : "", as, why);
    else if (as[0])
        sf_config_problem(errs, site->root_at, "root", site->root, "%s cannot reach it: %s", as,
                          why);
    else
        sf_config_problem(errs, site->root_at, "root", site->root, "%s", why);
}

static int
check_roots(const struct sf_config *cfg, const struct sf_ids *ids, FILE *errs)
{
    char why[REASON_MAX];
    int n = 0;
    if (!ids->drop) {
        for (size_t i = 0; i < cfg->nsites; i++) {
            reach_problem(cfg->sites[i].root, cfg->sites[i].listing, why, sizeof(why));
            if (why[0]) {
                report_root(cfg, ids, &cfg->sites[i], why, errs);
                n++;
            }
        }
        return n;
    }
    size_t cap = SF_CONFIG_MAX_SITES * 512;
    char *buf = malloc(cap);
    int rc = buf ? reach_as(cfg, ids, buf, cap) : -ENOMEM;
    if (rc) {
        sf_config_problem(errs, NULL, NULL, NULL, "cannot check the roots as %s: %s", ids->user,
                          strerror(-rc));
        free(buf);
        return 1;
    }
    for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        char *end;
        unsigned long i = strtoul(line, &end, 10);
        if (line[0] == '!' || end == line || *end != ' ' || i >= cfg->nsites)
            sf_config_problem(errs, NULL, NULL, NULL, "cannot check the roots as %s: %s", ids->user,
                              line[0] == '!' ? line + 2 : line);
        else
            report_root(cfg, ids, &cfg->sites[i], end + 1, errs);
        n++;
    }
    free(buf);
    return n;
}

/* ---- inherited descriptors --------------------------------------------------------- */

/* Close every descriptor from first up, by reading /proc/self/fd (for a
 * kernel without close_range). */
static void
close_from_proc(int first)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int own = dirfd(d);
    int fds[256];
    size_t n = 0;
    struct dirent *e;
    bool more = false;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd < first || fd == own)
            continue;
        if (n == SF_ARRAY_LEN(fds)) {
            more = true;
            break;
        }
        fds[n++] = (int)fd;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    if (more)
        close_from_proc(first); /* closing while reading would skip some */
}

void
sf_startup_close_fds(void)
{
    /* 0, 1 and 2 open, so that no file we open takes their place and gets
     * what is written to stdout or stderr */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int nul = open("/dev/null", O_RDWR | O_NOCTTY);
        if (nul >= 0 && nul != fd) {
            dup2(nul, fd);
            close(nul);
        }
    }
    /* systemd's sockets (LISTEN_FDS, for this pid) start at 3: keep them */
    int n = sd_listen_fds(0);
    int first = 3 + (n > 0 ? n : 0);
    if (close_range((unsigned)first, ~0U, 0) != 0)
        close_from_proc(first);
}

/* ---- the whole check ------------------------------------------------------------ */

int
sf_startup_check(const struct sf_config *cfg, struct sf_ids *ids, FILE *errs)
{
    int n = check_openat2(cfg, errs);
    bool bad_ids = sf_privs_resolve(cfg, ids, errs) != 0;
    n += bad_ids;
    n += check_files(cfg, errs);
    n += check_listens(cfg, errs);
    if (!bad_ids)
        n += check_roots(cfg, ids, errs);
    return n;
}

void
sf_startup_note(const struct sf_config *cfg, const struct sf_ids *ids, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (ids->fallback)
        snprintf(buf, cap,
                 "no user set: serving as %s:%s after binding (it can reach every root; "
                 "set user = NAME in [server] to choose)",
                 ids->user, ids->group);
    else if (!cfg->user && geteuid() == 0)
        snprintf(buf, cap, "running as root (no user set; -u USER serves as USER)");
}

int
sf_startup_prepare(const struct sf_config *cfg, struct sf_ids *ids, struct sf_log *log)
{
    static const char self[] = "sfhttpd: ";
    char *text = NULL, note[256];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        if (log)
            sf_log_msg(log, SF_LOG_ERROR, "out of memory");
        return 1;
    }
    int n = sf_startup_check(cfg, ids, f);
    fclose(f);
    for (char *line = text, *nl; line && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        if (strncmp(line, self, sizeof(self) - 1) == 0)
            line += sizeof(self) - 1;
        if (log)
            sf_log_msg(log, SF_LOG_ERROR, "%s", line);
        else
            fprintf(stderr, "%s%s\n", self, line);
    }
    free(text);
    sf_startup_note(cfg, ids, note, sizeof(note));
    if (n == 0 && note[0] && log)
        sf_log_msg(log, SF_LOG_INFO, "%s", note);
    if (n == 0 && log) {
        /* before any worker starts: they inherit the raised limit */
        struct sf_fdlimit fl;
        int rc = sf_fdlimit_raise(&fl);
        if (rc)
            sf_log_errno(log, SF_LOG_WARN, rc, "RLIMIT_NOFILE: cannot raise the soft limit");
        sf_fdlimit_plan(cfg, fl.soft, &fl);
        sf_fdlimit_log(&fl, log);
    }
    return n;
}

void
sf_startup_announce(const struct sf_config *cfg, const struct sf_listen_set *set,
                    struct sf_log *log)
{
    char urls[1024] = "";
    size_t used = 0;
    if (cfg->path || cfg->nsites == 0)
        return;
    for (size_t i = 0; i < set->n; i++) {
        const char *name = set->l[i].name;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(set->l[j].name, name) == 0;
        if (seen || !name[0])
            continue;
        int k = snprintf(urls + used, sizeof(urls) - used, "%s%s", used ? " " : "", name);
        if (k < 0 || (size_t)k >= sizeof(urls) - used)
            break;
        used += (size_t)k;
    }
    sf_log_msg(log, SF_LOG_INFO, "serving %s on %s", cfg->sites[0].root, urls);
}
