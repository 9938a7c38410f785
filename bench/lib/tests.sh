# bench/lib/tests.sh - the workloads. Sourced by bench/run.
#
# Each test_* function measures one server once and records its numbers
# with `record REP SERVER TEST METRIC VALUE` into $tsv. Load generators run
# under tools/loadrun (pinned to CLIENT_CPUS, time-limited, CPU time
# recorded); the server's CPU time is utime + stime of all its processes
# from /proc, read before and after.

tsv_init() {
    printf 'rep\tserver\ttest\tmetric\tvalue\n' >"$tsv"
}
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$tsv"; }

anomalies=()
declare -A S_IDLE_START
note() { anomalies+=("$*"); say "ANOMALY: $*"; }

# run_load OUTFILE CMD...: CMD in the background, output to OUTFILE; wait.
# In the background so that a trapped Ctrl-C returns from `wait` at once;
# cleanup then stops CMD (loadrun passes the signal on) by its PID.
run_load() {
    local outfile=$1
    shift
    "$@" >"$outfile" 2>&1 &
    cur_pid=$!
    wait "$cur_pid"
    local rc=$?
    cur_pid=""
    return $rc
}

# measure NAME LOG LIMIT_S CMD...: run CMD as the load generator against
# server NAME. Sets m_rc, m_srv_s (server CPU seconds), m_cli_s (load
# generator CPU seconds), m_wall_s, and m_busy (CPUs 0 and 1 busy in all,
# as a percentage of one CPU: everything, ours and others', from /proc/stat).
measure() {
    local name=$1 log=$2 limit=$3 pids c0 c1 u s w rc st0 st1
    shift 3
    pids=($(srv_pids "$name"))
    c0=$(cpu_ticks "${pids[@]}")
    st0=$(grep -E '^cpu[01] ' /proc/stat)
    rm -f "$tmp/rusage"
    run_load "$log" "$tools/loadrun" -c "$CLIENT_CPUS" -t "$limit" -o "$tmp/rusage" -- "$@"
    m_rc=$?
    c1=$(cpu_ticks "${pids[@]}")
    st1=$(grep -E '^cpu[01] ' /proc/stat)
    # user nice system idle iowait irq softirq steal: busy is all but idle
    # and iowait; steal (the hypervisor ran someone else) counts as busy
    m_busy=$(printf '%s\n%s\n' "$st0" "$st1" | awk '
        { b = $2 + $3 + $4 + $7 + $8 + $9; t = b + $5 + $6
          if ($1 in b0) { busy += (b - b0[$1]) / (t - t0[$1]) } else { b0[$1] = b; t0[$1] = t } }
        END { printf "%.1f", 100 * busy }')
    m_srv_s=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN { printf "%.4f", (b - a) / hz }')
    if read -r u s w rc <"$tmp/rusage" 2>/dev/null; then
        m_cli_s=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.4f", (u + s) / 1e6 }')
        m_wall_s=$(awk -v w="$w" 'BEGIN { printf "%.4f", w / 1e6 }')
    else
        m_cli_s=NA; m_wall_s=NA
    fi
}

# calc EXPR NAME=VALUE...: EXPR evaluated by awk with those variables;
# NA when a value is missing or NA. calc 'a / b' a=1 b=2 prints 0.5.
calc() {
    local expr=$1 a args=()
    shift
    for a in "$@"; do
        case ${a#*=} in ''|NA) echo NA; return ;; esac
        args+=(-v "$a")
    done
    awk "${args[@]}" "BEGIN { printf \"%.6g\\n\", $expr }" 2>/dev/null || echo NA
}

# ---------------------------------------------------------------- wrk tests
# What Chrome 120 sends with a navigation, plus a site's cookie: the
# browser test's request headers (wrk adds Host). A browser's head is
# 600-800 bytes, wrk's own 47: parsing it is part of every request.
BROWSER_HEADERS=(
    'sec-ch-ua: "Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"'
    'sec-ch-ua-mobile: ?0'
    'sec-ch-ua-platform: "Linux"'
    'Upgrade-Insecure-Requests: 1'
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'
    'Sec-Fetch-Site: none'
    'Sec-Fetch-Mode: navigate'
    'Sec-Fetch-User: ?1'
    'Sec-Fetch-Dest: document'
    'Accept-Encoding: gzip, deflate, br'
    'Accept-Language: en-US,en;q=0.9,de;q=0.8'
    'Cookie: _ga=GA1.1.123456789.1700000000; session=abcdef0123456789abcdef0123456789; theme=dark'
)

# browser_head_bytes: the length of the browser test's request head (for
# a five-digit port)
browser_head_bytes() {
    local h line='GET /1k.bin HTTP/1.1' host='Host: 127.0.0.1:18080'
    local n=$((${#line} + 2 + ${#host} + 2 + 2))
    for h in "${BROWSER_HEADERS[@]}"; do n=$((n + ${#h} + 2)); done
    echo "$n"
}

# test_wrk REP NAME TEST: TEST is 1k, 16k, 1m (keep-alive), close (1 KiB,
# Connection: close), browser (1 KiB keep-alive, BROWSER_HEADERS) or
# mixed.
test_wrk() {
    local rep=$1 name=$2 test=$3 url=${S_URL[$2]} conns=$CONNS path script args=() hdr=()
    script="$here/tools/report.lua"
    case $test in
    1k) path=/1k.bin ;;
    16k) path=/16k.bin ;;
    1m) path=/1m.bin ;;
    close) path=/1k.bin; hdr=(-H 'Connection: close') ;;
    browser) path=/1k.bin
             local h
             for h in "${BROWSER_HEADERS[@]}"; do hdr+=(-H "$h"); done ;;
    mixed) path=/mix; conns=$MIX_CONNS; script="$here/tools/mixed.lua"
           args=(-- "$manifest" "$ZIPF_S" "$((rep * 7919))") ;;
    esac
    local log="$raw/rep$rep-$test-$name.txt"
    measure "$name" "$log" $((dur_s + 60)) wrk -t"$WRK_THREADS" -c"$conns" -d"${dur_s}s" \
        --timeout 10s --latency "${hdr[@]}" -s "$script" "$url$path" "${args[@]}"
    [ "$m_rc" = 0 ] || note "$name $test rep $rep: wrk exited with status $m_rc (see raw/$(basename "$log"))"
    local line
    line=$(grep -m1 '^BENCH ' "$log")
    if [ -z "$line" ]; then
        note "$name $test rep $rep: no summary from wrk"
        return
    fi
    local requests bytes duration_us p50_us p99_us connect read write status timeout
    eval "$(echo "${line#BENCH }" | tr ' ' '\n' | grep -E '^[a-z0-9_]+=[0-9]+$')"
    local errs=$((connect + read + write + timeout))
    if [ "$errs" -gt 0 ]; then
        # with Connection: close wrk counts its reconnect races as read errors
        note "$name $test rep $rep: wrk socket errors: connect $connect, read $read, write $write, timeout $timeout"
    fi
    [ "$status" -gt 0 ] && note "$name $test rep $rep: $status responses were not 2xx/3xx"
    if [ "$requests" -eq 0 ]; then
        note "$name $test rep $rep: no complete request"
        return
    fi
    local secs=$(calc 'd / 1e6' d="$duration_us")
    record "$rep" "$name" "$test" rps "$(calc 'r / s' r="$requests" s="$secs")"
    record "$rep" "$name" "$test" mbps "$(calc 'b / s / 1e6' b="$bytes" s="$secs")"
    record "$rep" "$name" "$test" p50_ms "$(calc 'p / 1000' p="$p50_us")"
    record "$rep" "$name" "$test" p99_ms "$(calc 'p / 1000' p="$p99_us")"
    record "$rep" "$name" "$test" srv_us "$(calc 'c * 1e6 / r' c="$m_srv_s" r="$requests")"
    record "$rep" "$name" "$test" cli_us "$(calc 'c * 1e6 / r' c="$m_cli_s" r="$requests")"
    record "$rep" "$name" "$test" srv_util "$(calc '100 * c / w' c="$m_srv_s" w="$m_wall_s")"
    record "$rep" "$name" "$test" cli_util "$(calc '100 * c / w' c="$m_cli_s" w="$m_wall_s")"
    record "$rep" "$name" "$test" others_util "$(calc 'b - 100 * (c + k) / w' b="$m_busy" c="$m_srv_s" k="$m_cli_s" w="$m_wall_s")"
    record "$rep" "$name" "$test" errors "$((errs + status))"
    say "rep $rep $test $name: $(calc 'r / s' r="$requests" s="$secs") req/s," \
        "server $(calc 'c * 1e6 / r' c="$m_srv_s" r="$requests") us/req ($(calc '100 * c / w' c="$m_srv_s" w="$m_wall_s")% CPU)," \
        "client $(calc 'c * 1e6 / r' c="$m_cli_s" r="$requests") us/req ($(calc '100 * c / w' c="$m_cli_s" w="$m_wall_s")% CPU)"
}

# ---------------------------------------------------------------- 1 GiB
test_big() {
    local rep=$1 name=$2 log="$raw/rep$1-1g-$2.txt" line
    measure "$name" "$log" $((dur_s + 600)) "$tools/bigget" 127.0.0.1 "${S_PORT[$name]}" \
        /1g.bin "$BIG_SIZE" "$BIG_CONC" "$dur_s" "$BIG_MAX"
    line=$(grep -m1 '^bytes=' "$log")
    if [ "$m_rc" != 0 ] || [ -z "$line" ]; then
        note "$name 1g rep $rep: bigget exited with status $m_rc: $(tail -n 1 "$log")"
        [ -z "$line" ] && return
    fi
    local bytes seconds downloads failed MBps
    eval "$(echo "$line" | tr ' ' '\n' | grep -E '^[A-Za-z]+=[0-9.]+$')"
    [ "$bytes" -gt 0 ] || return
    record "$rep" "$name" 1g mbps "$MBps"
    record "$rep" "$name" 1g srv_s_per_gb "$(calc 'c / (b / 1e9)' c="$m_srv_s" b="$bytes")"
    record "$rep" "$name" 1g srv_util "$(calc '100 * c / w' c="$m_srv_s" w="$m_wall_s")"
    record "$rep" "$name" 1g cli_util "$(calc '100 * c / w' c="$m_cli_s" w="$m_wall_s")"
    record "$rep" "$name" 1g others_util "$(calc 'b - 100 * (c + k) / w' b="$m_busy" c="$m_srv_s" k="$m_cli_s" w="$m_wall_s")"
    say "rep $rep 1g $name: $MBps MB/s ($downloads downloads), server $(calc '100 * c / w' c="$m_srv_s" w="$m_wall_s")% CPU"
}

# ---------------------------------------------------------------- idle
# wait_line FILE REGEX SECONDS: until a line of FILE matches (or time is up)
wait_line() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        [ -n "$cur_pid" ] && ! kill -0 "$cur_pid" 2>/dev/null && return 1
        sleep 0.1
    done
    return 1
}

test_idle() {
    local rep=$1 name=$2 log="$raw/rep$1-idle-$2.txt" pids before held_mem after line
    local ok failed held server_closed setup_ms fresh code t
    pids=($(srv_pids "$name"))
    before=$(mem_kib "${pids[@]}")
    # "after" is compared with the memory before the first wave
    [ -n "${S_IDLE_START[$name]:-}" ] || S_IDLE_START[$name]=$before
    taskset -c "$CLIENT_CPUS" "$tools/idle" -H 600 127.0.0.1 "${S_PORT[$name]}" /1k.bin "$IDLE_CONNS" \
        >"$log" 2>&1 &
    cur_pid=$!
    if ! wait_line "$log" '^ready ' 120; then
        note "$name idle rep $rep: the idle client did not get ready: $(tail -n 2 "$log" | tr '\n' ' ')"
        kill -TERM "$cur_pid" 2>/dev/null; wait "$cur_pid" 2>/dev/null; cur_pid=""
        return
    fi
    line=$(grep -m1 '^ready ' "$log")
    ok=$(echo "$line" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
    failed=$(echo "$line" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
    setup_ms=$(echo "$line" | sed -n 's/.* setup_ms=\([0-9.]*\).*/\1/p')
    [ "$failed" -gt 0 ] && note "$name idle rep $rep: $failed of $IDLE_CONNS connections got no response (${line#*first_error=})"
    sleep 1
    kill -USR1 "$cur_pid" 2>/dev/null
    wait_line "$log" '^status ' 10
    pids=($(srv_pids "$name"))
    held_mem=$(mem_kib "${pids[@]}")
    line=$(grep -m1 '^status ' "$log")
    held=$(echo "$line" | sed -n 's/.* held=\([0-9]*\).*/\1/p')
    server_closed=$(echo "$line" | sed -n 's/.* server_closed=\([0-9]*\).*/\1/p')
    # a fresh client while they are held
    t=$(taskset -c "$CLIENT_CPUS" curl -s -o /dev/null --max-time "$FRESH_TIMEOUT" \
        -w '%{http_code} %{time_total}' "${S_URL[$name]}/1k.bin" 2>/dev/null)
    code=$?
    if [ "$code" = 0 ] && [ "${t%% *}" = 200 ]; then
        fresh=$(calc 't * 1000' t="${t##* }")
    elif [ "$code" = 28 ]; then
        fresh=timeout
    else
        fresh="error"
        note "$name idle rep $rep: the fresh request failed (curl exit $code, HTTP ${t%% *})"
    fi
    kill -TERM "$cur_pid" 2>/dev/null
    wait_line "$log" '^closed ' 30
    wait "$cur_pid" 2>/dev/null
    cur_pid=""
    sleep "$IDLE_AFTER"
    pids=($(srv_pids "$name"))
    after=$(mem_kib "${pids[@]}")
    record "$rep" "$name" idle mem_before_kib "$before"
    record "$rep" "$name" idle mem_held_kib "$held_mem"
    record "$rep" "$name" idle mem_after_kib "$after"
    record "$rep" "$name" idle held "${held:-NA}"
    record "$rep" "$name" idle server_closed "${server_closed:-NA}"
    record "$rep" "$name" idle setup_ms "${setup_ms:-NA}"
    [ "${held:-0}" -gt 0 ] &&
        record "$rep" "$name" idle kib_per_conn "$(calc '(h - b) / n' h="$held_mem" b="$before" n="$held")"
    record "$rep" "$name" idle after_pct "$(calc '100 * (a - b) / b' a="$after" b="${S_IDLE_START[$name]}")"
    record "$rep" "$name" idle fresh_ms "$fresh"
    say "rep $rep idle $name: ${held:-?} held (of $ok answered), memory $before -> $held_mem -> $after KiB," \
        "fresh request: $fresh$( [[ $fresh =~ ^[0-9.]+$ ]] && echo " ms")"
}

# ---------------------------------------------------------------- syscalls
# test_syscalls NAME KIND: strace -f every process of the server during a
# fixed wrk -c10 run; KIND is 1k, 16k or close. Writes the full trace to
# tmp, keeps a per-syscall summary in raw/, records per-request counts.
test_syscalls() {
    local name=$1 kind=$2 path=/1k.bin hdr=() trace="$tmp/strace-$1-$2.txt"
    local sum="$raw/syscalls-$kind-$name.txt" log="$raw/syscalls-$kind-$name-wrk.txt" spid p args=()
    [ "$kind" = 16k ] && path=/16k.bin
    [ "$kind" = close ] && hdr=(-H 'Connection: close')
    for p in $(srv_pids "$name"); do args+=(-p "$p"); done
    strace -f -qq -s 0 -o "$trace" "${args[@]}" 2>"$tmp/strace.err" &
    spid=$!
    strace_pid=$spid
    sleep 1   # attaching takes a moment; nothing runs yet
    if ! kill -0 "$spid" 2>/dev/null; then
        note "$name syscalls $kind: strace did not attach: $(head -n 2 "$tmp/strace.err" | tr '\n' ' ')"
        strace_pid=""
        return
    fi
    run_load "$log" "$tools/loadrun" -c "$CLIENT_CPUS" -t $((STRACE_SECS + 60)) -- \
        wrk -t1 -c10 -d"${STRACE_SECS}s" --timeout 10s "${hdr[@]}" -s "$here/tools/report.lua" "${S_URL[$name]}$path"
    sleep 0.5   # let the last responses' syscalls finish
    kill -INT "$spid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$spid" 2>/dev/null && kill -KILL "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    strace_pid=""
    local requests
    requests=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$log")
    if [ -z "$requests" ] || [ "$requests" -eq 0 ]; then
        note "$name syscalls $kind: no requests completed under strace"
        rm -f "$trace"
        return
    fi
    # A call is a line that starts one ("name(" or "<unfinished ...>"); a
    # "<... name resumed>" line carries the result of one already counted.
    awk -v req="$requests" '
        {
            sub(/^[0-9]+ +/, "")
            if ($0 ~ /^<\.\.\. [a-z_0-9]+ resumed>/) {
                n = $0; sub(/^<\.\.\. /, "", n); sub(/ resumed>.*/, "", n)
                if ($0 ~ /= -1 EAGAIN/) again[n]++
                next
            }
            if ($0 !~ /^[a-z_0-9]+\(/) next
            n = $0; sub(/\(.*/, "", n)
            calls[n]++; total++
            if ($0 ~ /= -1 EAGAIN/) again[n]++
        }
        END {
            printf "requests %d\ntotal %d\n", req, total
            for (n in calls) printf "call %s %d %d\n", n, calls[n], again[n] + 0
        }' "$trace" | sort -k1,1 -k3,3nr >"$sum"
    rm -f "$trace"
    local total reads reads_again
    total=$(awk '$1 == "total" { print $2 }' "$sum")
    reads=$(awk '$1 == "call" && $2 ~ /^(read|readv|recvfrom|recvmsg)$/ { s += $3 } END { print s + 0 }' "$sum")
    reads_again=$(awk '$1 == "call" && $2 ~ /^(read|readv|recvfrom|recvmsg)$/ { s += $4 } END { print s + 0 }' "$sum")
    record 1 "$name" "sys-$kind" per_req "$(calc 't / r' t="$total" r="$requests")"
    record 1 "$name" "sys-$kind" reads "$(calc 't / r' t="$reads" r="$requests")"
    record 1 "$name" "sys-$kind" reads_again "$(calc 't / r' t="$reads_again" r="$requests")"
    record 1 "$name" "sys-$kind" top "$(awk -v r="$requests" '$1 == "call" {
            printf "%s%s %.2f", sep, $2, $3 / r; if ($4) printf " (%.2f EAGAIN)", $4 / r; sep = ", " }' \
            <(sort -k3,3nr "$sum" | grep '^call' | head -n 8))"
    say "syscalls $kind $name: $(calc 't / r' t="$total" r="$requests") per request ($requests requests)"
}
