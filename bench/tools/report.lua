-- report.lua - wrk script that only adds a machine-readable summary line.
-- It defines no request() or response() function, so wrk still sends its
-- one pre-built request and runs no Lua per request: loading this script
-- costs the load generator nothing while it measures.
--
-- bench/run reads the line that starts with "BENCH". Latencies are in
-- microseconds, duration in microseconds, bytes are all bytes wrk read.

function bench_report(summary, latency)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d bytes=%d duration_us=%d p50_us=%d p99_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.bytes, summary.duration,
      latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.status, e.timeout))
end

done = function(summary, latency, requests)
   bench_report(summary, latency)
end
