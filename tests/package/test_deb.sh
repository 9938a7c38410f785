#!/bin/sh
# test_deb.sh BUILD_DIR - build the Debian package from a configured and
# built tree, install it on this machine with dpkg, check the installed
# files and run the installed binary on a loopback port with curl, then
# purge the package and check that it is gone.
#
# Needs root and dpkg; exits 77 (ctest: skipped) without them. It changes
# the machine: the package is installed and purged again, and the system
# user "sfhttpd" that its postinst creates stays (as Debian's policy has
# it). It refuses to run when /usr/sbin/sfhttpd exists but is not from a
# package, so that it never clobbers a hand-installed server.
set -eu

fail() {
    echo "test_deb: FAIL: $*" >&2
    exit 1
}
skip() {
    echo "test_deb: skipped: $*" >&2
    exit 77
}

[ $# -eq 1 ] || fail "usage: $0 BUILD_DIR"
build=$(cd "$1" && pwd)
[ "$(id -u)" -eq 0 ] || skip "needs root for dpkg -i"
for tool in dpkg dpkg-deb cpack curl setpriv; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
[ -f "$build/CPackConfig.cmake" ] || fail "$build has no CPackConfig.cmake"
if [ -e /usr/sbin/sfhttpd ] && ! dpkg-query -S /usr/sbin/sfhttpd >/dev/null 2>&1; then
    skip "/usr/sbin/sfhttpd exists and belongs to no package"
fi

work=$(mktemp -d /tmp/test_deb.XXXXXX)
chmod 0755 "$work"
pid=""
installed=0
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ "$installed" = 1 ]; then
        dpkg --purge sfhttpd >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- build the package -----------------------------------------------------
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
    { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
arch=$(dpkg --print-architecture)
deb=$(ls "$work"/out/sfhttpd_*_"$arch".deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { ls -l "$work/out" >&2; fail "no sfhttpd_VERSION_$arch.deb"; }
echo "test_deb: built $(basename "$deb")"

version=$(dpkg-deb -f "$deb" Version)
depends=$(dpkg-deb -f "$deb" Depends)
echo "test_deb: Depends: $depends"
for lib in libevent-2.1-7 libmagic1; do
    echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib"
done
# these only once the binary links them (privileges, sd_notify, etag = content)
for pair in libcap-ng:libcap-ng0 libsystemd:libsystemd0 libxxhash:libxxhash0; do
    so=${pair%%:*}
    pkg=${pair#*:}
    if ldd "$build/sfhttpd" | grep -q "$so"; then
        echo "$depends" | grep -q "$pkg" || fail "binary links $so but Depends lacks $pkg"
    fi
done
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/sbin/sfhttpd ./etc/sfhttpd/sfhttpd.conf ./lib/systemd/system/sfhttpd.service \
    ./lib/systemd/system/sfhttpd.socket ./etc/logrotate.d/sfhttpd \
    ./usr/share/man/man8/sfhttpd.8 ./usr/share/man/man5/sfhttpd.conf.5 \
    ./usr/share/doc/sfhttpd/README.md; do
    grep -q " $f" "$work/contents" || fail "package lacks $f"
done
! grep -q ' ./usr/etc/' "$work/contents" || fail "package ships /usr/etc"
dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$work/control"
for f in postinst prerm postrm conffiles; do
    grep -q "$f" "$work/control" || fail "package lacks the $f control file"
done

# ---- install ----------------------------------------------------------------
installed=1
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
[ "$(dpkg-query -W -f='${Status} ${Version}' sfhttpd)" = "install ok installed $version" ] ||
    fail "dpkg-query does not show sfhttpd $version installed"
[ -x /usr/sbin/sfhttpd ] || fail "/usr/sbin/sfhttpd missing"
/usr/sbin/sfhttpd -V | grep -q "^sfhttpd " || fail "sfhttpd -V"
# the packaged config runs workers as the package's user, under a master
# (so that `systemctl reload` works)
grep -qx 'user = sfhttpd' /etc/sfhttpd/sfhttpd.conf || fail "packaged config: no user = sfhttpd"
grep -qx 'master = on' /etc/sfhttpd/sfhttpd.conf || fail "packaged config: no master = on"
/usr/sbin/sfhttpd -t -c /etc/sfhttpd/sfhttpd.conf >"$work/t.log" 2>&1 ||
    { cat "$work/t.log" >&2; fail "sfhttpd -t -c /etc/sfhttpd/sfhttpd.conf"; }
getent passwd sfhttpd >/dev/null || fail "postinst did not create the user sfhttpd"
[ "$(stat -c %U /var/log/sfhttpd)" = sfhttpd ] || fail "/var/log/sfhttpd not owned by sfhttpd"
if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify /lib/systemd/system/sfhttpd.socket \
        /lib/systemd/system/sfhttpd.service >"$work/verify.log" 2>&1 ||
        { cat "$work/verify.log" >&2; fail "systemd-analyze verify"; }
fi
if command -v man >/dev/null 2>&1; then
    man -l /usr/share/man/man8/sfhttpd.8.gz >/dev/null 2>&1 || fail "man sfhttpd.8"
    man -l /usr/share/man/man5/sfhttpd.conf.5.gz >/dev/null 2>&1 || fail "man sfhttpd.conf.5"
fi

# ---- run the installed binary as the package's user ---------------------------
mkdir "$work/www"
echo "served by the installed package" >"$work/www/hello.txt"
chmod -R a+rX "$work/www"
setpriv --reuid=sfhttpd --regid=sfhttpd --init-groups --inh-caps=-all \
    /usr/sbin/sfhttpd -l 127.0.0.1:0 --access-log off "$work/www" \
    >"$work/out.log" 2>"$work/err.log" &
pid=$!
port=""
i=0
while [ $i -lt 100 ]; do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$work/err.log" |
        head -n 1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/err.log" >&2; fail "sfhttpd exited"; }
    sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || { cat "$work/err.log" >&2; fail "no 'listening on' line"; }
body=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/hello.txt") || fail "curl"
[ "$body" = "served by the installed package" ] || fail "body: $body"
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -0 "$pid" 2>/dev/null && fail "sfhttpd did not stop on SIGTERM"
wait "$pid" || fail "sfhttpd exited with status $? on SIGTERM"
pid=""
echo "test_deb: served hello.txt on 127.0.0.1:$port"

# ---- remove -------------------------------------------------------------------
dpkg --purge sfhttpd >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg --purge"; }
installed=0
[ ! -e /usr/sbin/sfhttpd ] || fail "/usr/sbin/sfhttpd still there after purge"
[ ! -e /etc/sfhttpd/sfhttpd.conf ] || fail "/etc/sfhttpd/sfhttpd.conf still there after purge"
[ ! -e /lib/systemd/system/sfhttpd.service ] || fail "the unit is still there after purge"
[ ! -e /var/log/sfhttpd ] || fail "/var/log/sfhttpd still there after purge"
dpkg-query -W -f='${Status}' sfhttpd 2>/dev/null | grep -q 'ok installed' &&
    fail "dpkg still lists sfhttpd"
echo "test_deb: OK"
