# bench/lib/report.sh - turn raw/runs.tsv into the tables of results.md.
# Sourced by bench/run.
#
# Ratios are medians of per-repetition ratios: in each repetition every
# server's value is divided by nginx's (or sfhttpd's by the best peer's of
# that repetition), and the median of those ratios is reported. That
# cancels drift that hits all servers of one repetition alike.

# stats TEST METRIC DIR REPS: DIR is hi (higher is better) or lo; REPS is
# "all" or one repetition number. Prints
#   srv NAME MEDIAN RATIO_TO_NGINX N
#   best RATIO_SFHTTPD_TO_BEST_PEER BEST_PEER
stats() {
    awk -F'\t' -v test="$1" -v metric="$2" -v dir="$3" -v reps="$4" -v servers="${SERVERS[*]}" '
        function median(a, n,   i, j, t) {
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            if (n == 0) return "NA"
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        NR > 1 && $3 == test && $4 == metric && $5 ~ /^-?[0-9.e+-]+$/ && (reps == "all" || $1 == reps) {
            v[$1, $2] = $5; rep[$1] = 1
        }
        END {
            ns = split(servers, S, " ")
            for (i = 1; i <= ns; i++) {
                s = S[i]; n = 0; nr = 0
                for (r in rep) {
                    if (!((r, s) in v)) continue
                    vals[++n] = v[r, s]
                    if ((r, "nginx") in v && v[r, "nginx"] != 0) rat[++nr] = v[r, s] / v[r, "nginx"]
                }
                m = median(vals, n); q = median(rat, nr)
                printf "srv %s %s %s %d\n", s, m, q, n
                med[s] = m
                delete vals; delete rat
            }
            nb = 0
            for (r in rep) {
                if (!((r, "sfhttpd") in v)) continue
                best = ""; 
                for (i = 1; i <= ns; i++) {
                    s = S[i]; if (s == "sfhttpd" || !((r, s) in v)) continue
                    if (best == "" || (dir == "hi" ? v[r, s] > best : v[r, s] < best)) best = v[r, s]
                }
                if (best != "" && best != 0) b[++nb] = v[r, "sfhttpd"] / best
            }
            bp = ""
            for (i = 1; i <= ns; i++) {
                s = S[i]; if (s == "sfhttpd" || med[s] == "NA") continue
                if (bp == "" || (dir == "hi" ? med[s] > med[bp] : med[s] < med[bp])) bp = s
            }
            printf "best %s %s\n", median(b, nb), (bp == "" ? "none" : bp)
        }' "$tsv"
}

fmt() { # a number for a table: 3 significant digits, thousands without decimals
    awk -v v="$1" 'BEGIN {
        if (v == "NA" || v == "") { print "NA"; exit }
        a = v < 0 ? -v : v
        if (v == int(v)) printf "%d\n", v; else if (a >= 1000) printf "%.0f\n", v; else if (a >= 100) printf "%.0f\n", v
        else if (a >= 10) printf "%.1f\n", v; else if (a >= 1) printf "%.2f\n", v
        else printf "%.3f\n", v }'
}
fmt_ratio() { awk -v v="$1" 'BEGIN { if (v == "NA" || v == "") print "NA"; else printf "%.2f\n", v }'; }

# st_get LINES KIND NAME FIELD: pick a field out of stats output
st_srv() { awk -v s="$2" -v f="$3" '$1 == "srv" && $2 == s { print $f }' <<<"$1"; }
st_best() { awk -v f="$2" '$1 == "best" { print $f }' <<<"$1"; }

has_test() { [[ " $TESTS " == *" $1 "* ]]; }

# verdict RATIO OP LIMIT: met / not met
verdict() {
    [ "$1" = NA ] && { echo "no data"; return; }
    awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == ">=") ? r >= l : r <= l
        print ok ? "**met**" : "not met" }'
}

# summary_row LABEL TEST METRIC DIR OP LIMIT TARGET-TEXT: a row of ratios to
# nginx and the target, evaluated on sfhttpd / best peer
summary_row() {
    local label=$1 test=$2 metric=$3 dir=$4 op=$5 limit=$6 text=$7 st s row b
    has_test "$test" || return 0
    st=$(stats "$test" "$metric" "$dir" all)
    row="| $label"
    for s in "${PEERS[@]}" sfhttpd; do
        in_servers "$s" || continue
        row+=" | $(fmt_ratio "$(st_srv "$st" "$s" 4)")"
    done
    b=$(st_best "$st" 2)
    row+=" | $(fmt_ratio "$b") ($(st_best "$st" 3)) | $text | $( [ -n "$op" ] && verdict "$b" "$op" "$limit" || echo "—") |"
    echo "$row"
}

in_servers() { [[ " ${SERVERS[*]} " == *" $1 "* ]]; }

# idle_cells METRIC: per server, a cell for the idle rows
idle_row() {
    local what=$1 s row v n
    case $what in
    kib1) row="| $IDLE_CONNS idle keep-alive connections, KiB per connection (first wave)" ;;
    kib) row="| the same, later waves (median)" ;;
    after) row="| memory after those close, vs before the first wave (worst wave)" ;;
    fresh) row="| a fresh request while they are held (slowest of $RUNS)" ;;
    esac
    for s in "${PEERS[@]}" sfhttpd; do
        in_servers "$s" || continue
        case $what in
        kib1) v=$(fmt "$(st_srv "$(stats idle kib_per_conn lo 1)" "$s" 3)") ;;
        kib) v=$(awk -F'\t' -v s="$s" 'NR > 1 && $2 == s && $3 == "idle" && $4 == "kib_per_conn" && $1 > 1 { print $5 }' "$tsv" |
                 sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "—"; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')
             [ "$v" != "—" ] && v=$(fmt "$v") ;;
        after) v=$(idle_after "$s") ;;
        fresh) v=$(idle_fresh "$s") ;;
        esac
        row+=" | $v"
    done
    echo "$row"
}

# idle_after NAME: "back (+3%)" or "kept (+120 MB)", worst wave
idle_after() {
    awk -F'\t' -v s="$1" '
        NR > 1 && $2 == s && $3 == "idle" && $4 == "after_pct" && $5 != "NA" { if (!n++ || $5 > w) { w = $5; r = $1 } }
        NR > 1 && $2 == s && $3 == "idle" && $4 == "mem_after_kib" { after[$1] = $5 }
        NR > 1 && $2 == s && $3 == "idle" && $4 == "mem_before_kib" && !start { start = $5 }
        END {
            if (!n) { print "NA"; exit }
            if (w <= 10) printf "back (%+.0f%%)\n", w
            else printf "kept (%+.0f MB, %+.0f%%)\n", (after[r] - start) / 1024, w
        }' "$tsv"
}

# idle_fresh NAME: "2.1 ms", or "times out" if any wave timed out
idle_fresh() {
    awk -F'\t' -v s="$1" '
        NR > 1 && $2 == s && $3 == "idle" && $4 == "fresh_ms" {
            n++
            if ($5 == "timeout") t++; else if ($5 == "error") e++; else if ($5 + 0 > m) m = $5 + 0
        }
        END {
            if (!n) print "NA"
            else if (t) printf "times out (%d of %d)\n", t, n
            else if (e) printf "fails (%d of %d)\n", e, n
            else printf "%.1f ms\n", m
        }' "$tsv"
}

# idle_verdicts: evaluate the three idle targets for sfhttpd
idle_verdict() {
    local what=$1 sf ng
    case $what in
    kib1)
        sf=$(st_srv "$(stats idle kib_per_conn lo 1)" sfhttpd 3)
        ng=$(st_srv "$(stats idle kib_per_conn lo 1)" nginx 3)
        if [ "$sf" = NA ] || [ -z "$ng" ] || [ "$ng" = NA ]; then echo "no data"
        else verdict "$(calc 'a - b' a="$sf" b="$ng")" "<=" 0; fi ;;
    after)
        awk -F'\t' 'NR > 1 && $2 == "sfhttpd" && $3 == "idle" && $4 == "after_pct" { n++; if ($5 == "NA" || $5 > 10) bad++ }
            END { print (!n ? "no data" : bad ? "not met" : "**met**") }' "$tsv" ;;
    fresh)
        awk -F'\t' 'NR > 1 && $2 == "sfhttpd" && $3 == "idle" && $4 == "fresh_ms" { n++; if ($5 !~ /^[0-9.]+$/ || $5 >= 50) bad++ }
            END { print (!n ? "no data" : bad ? "not met" : "**met**") }' "$tsv" ;;
    esac
}

summary_table() {
    local s head="| workload" sep="| ---"
    for s in "${PEERS[@]}" sfhttpd; do
        in_servers "$s" || continue
        head+=" | $s"; sep+=" | ---:"
    done
    echo "$head | sfhttpd / best peer | target | sfhttpd |"
    echo "$sep | ---: | --- | --- |"
    summary_row "1 KiB keep-alive, req/s" 1k rps hi ">=" 1 "≥ the best peer"
    summary_row "1 KiB keep-alive, server CPU per request" 1k srv_us lo "<=" 0.85 "≤ 0.85 × the cheapest peer"
    summary_row "16 KiB keep-alive, req/s" 16k rps hi ">=" 1 "≥ the best peer"
    summary_row "16 KiB keep-alive, server CPU per request" 16k srv_us lo "<=" 0.85 "≤ 0.85 × the cheapest peer"
    summary_row "1 KiB, new connection per request, server CPU per request" close srv_us lo "<=" 1 "≤ the cheapest peer"
    summary_row "1 KiB, new connection per request, req/s" close rps hi "" "" "—"
    summary_row "1 KiB keep-alive, a browser's request headers, req/s" browser rps hi "" "" "—"
    summary_row "1 KiB keep-alive, a browser's request headers, server CPU per request" browser srv_us lo "" "" "—"
    summary_row "1 MiB keep-alive, req/s" 1m rps hi ">=" 1 "keep the lead (≥ the best peer)"
    summary_row "1 GiB, $BIG_CONC downloads discarded in the kernel, MB/s" 1g mbps hi ">=" 1 "keep the lead (≥ the best peer)"
    summary_row "mixed ($MIX_CONNS conns, Zipf over $MIX_FILES files), req/s" mixed rps hi "" "" "—"
    summary_row "mixed, MB/s" mixed mbps hi "" "" "—"
    summary_row "mixed, server CPU per request" mixed srv_us lo "" "" "—"
    if has_test idle; then
        echo "$(idle_row kib1) | absolute KiB | ≤ nginx's | $(idle_verdict kib1) |"
        [ "$RUNS" -gt 1 ] && echo "$(idle_row kib) | absolute KiB | — | — |"
        echo "$(idle_row after) | | back to within 10% of the start | $(idle_verdict after) |"
        echo "$(idle_row fresh) | | answered in < 50 ms | $(idle_verdict fresh) |"
    fi
}

# detail_table TEST TITLE: absolute medians (ratio to nginx) for every metric
detail_table() {
    local test=$1 title=$2 s head="| metric" sep="| ---" m dir st row
    has_test "$test" || return 0
    for s in "${SERVERS[@]}"; do head+=" | $s"; sep+=" | ---:"; done
    echo "### $title"
    echo
    echo "$head | sfhttpd / best peer |"
    echo "$sep | ---: |"
    local metrics spec label v r
    case $test in
    1g) metrics=("mbps hi MB/s" "srv_s_per_gb lo server CPU s per GB"
                 "srv_util lo server CPU %" "cli_util lo client CPU %"
                 "others_util lo CPUs 0-1 busy with other work %") ;;
    *) metrics=("rps hi req/s" "mbps hi MB/s" "p50_ms lo p50 latency, ms" "p99_ms lo p99 latency, ms"
                "srv_us lo server CPU µs per request" "cli_us lo client CPU µs per request"
                "srv_util lo server CPU %" "cli_util lo client CPU %"
                "others_util lo CPUs 0-1 busy with other work %") ;;
    esac
    for spec in "${metrics[@]}"; do
        read -r m dir label <<<"$spec"
        st=$(stats "$test" "$m" "$dir" all)
        row="| $label"
        for s in "${SERVERS[@]}"; do
            v=$(fmt "$(st_srv "$st" "$s" 3)")
            r=$(fmt_ratio "$(st_srv "$st" "$s" 4)")
            case $m in *util) row+=" | $(fmt_ratio "$(st_srv "$st" "$s" 3)" | sed 's/\.[0-9]*$//')" ;; *) row+=" | $v ($r)" ;; esac
        done
        case $m in
        *util) echo "$row | |" ;;
        *) echo "$row | $(fmt_ratio "$(st_best "$st" 2)") ($(st_best "$st" 3)) |" ;;
        esac
    done
    row="| bottleneck"
    for s in "${SERVERS[@]}"; do
        local su cu
        su=$(st_srv "$(stats "$test" srv_util lo all)" "$s" 3)
        cu=$(st_srv "$(stats "$test" cli_util lo all)" "$s" 3)
        row+=" | $(awk -v s="$su" -v c="$cu" -v w="$WORKERS" 'BEGIN {
            if (s == "NA" || c == "NA") print "NA"
            else if (s >= 90 * w && s >= c) print "server"
            else if (c >= 90) print "client"
            else print "neither (< 90%)" }')"
    done
    echo "$row | |"
    echo
}

syscall_table() {
    has_test syscalls || return 0
    local s k head="| request" sep="| ---"
    for s in "${SERVERS[@]}"; do head+=" | $s"; sep+=" | ---:"; done
    echo "$head |"
    echo "$sep |"
    for k in 1k 16k close; do
        local row
        case $k in 1k) row="| 1 KiB keep-alive" ;; 16k) row="| 16 KiB keep-alive" ;; close) row="| 1 KiB, new connection" ;; esac
        for s in "${SERVERS[@]}"; do
            local t r a
            t=$(awk -F'\t' -v s="$s" -v k="sys-$k" '$2 == s && $3 == k && $4 == "per_req" { print $5 }' "$tsv")
            r=$(awk -F'\t' -v s="$s" -v k="sys-$k" '$2 == s && $3 == k && $4 == "reads" { print $5 }' "$tsv")
            a=$(awk -F'\t' -v s="$s" -v k="sys-$k" '$2 == s && $3 == k && $4 == "reads_again" { print $5 }' "$tsv")
            if [ -z "$t" ]; then row+=" | NA"; continue; fi
            row+=" | $(fmt_ratio "$t") ($(fmt_ratio "$r") reads, $(fmt_ratio "$a") EAGAIN)"
        done
        echo "$row |"
    done
    echo
    echo "Most frequent calls per request:"
    echo
    for k in 1k 16k close; do
        for s in "${SERVERS[@]}"; do
            local top
            top=$(awk -F'\t' -v s="$s" -v k="sys-$k" '$2 == s && $3 == k && $4 == "top" { print $5 }' "$tsv")
            [ -n "$top" ] && echo "- $k, $s: $top"
        done
    done
}

every_rep_table() {
    local s head="| test | metric" sep="| --- | ---"
    for s in "${SERVERS[@]}"; do head+=" | $s"; sep+=" | ---"; done
    echo "$head |"
    echo "$sep |"
    awk -F'\t' -v servers="${SERVERS[*]}" 'NR > 1 && $3 !~ /^sys-/ {
            k = $3 "\t" $4
            if (!(k in seen)) { seen[k] = 1; order[++n] = k }
            c = k "\t" $2
            v[c] = v[c] (v[c] == "" ? "" : ", ") $5
        }
        END {
            ns = split(servers, S, " ")
            for (i = 1; i <= n; i++) {
                split(order[i], f, "\t"); printf "| %s | %s", f[1], f[2]
                for (j = 1; j <= ns; j++) printf " | %s", v[order[i] "\t" S[j]]
                print " |"
            }
        }' "$tsv"
}
