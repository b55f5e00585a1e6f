#!/usr/bin/env bash
# Produces every figure of BENCHMARKS.md with `ipass bench` against release
# builds, server and load generator on this machine, each pinned (taskset) to
# its own CPUs. Writes JSON reports, SVG plots and figures.md (a markdown
# fragment to paste) into $OUT, and copies the plots to docs/bench/.
#
#   scripts/benchmarks.sh                      # full run, about 10-15 minutes on 2 cores
#   DUR=3s WARMUP=1s SEED_MAX=20000 PRESIGN=3000 PGADMIN=off scripts/benchmarks.sh   # a quick check of the script
#   PROFILE=1 scripts/benchmarks.sh            # also CPU-profile a repeat of the SQLite run (top 25 in figures.md)
#
# Environment: DUR (measured time per run, default 20s), WARMUP (3s),
# CLIENTS (16), SEED_MAX (1000000), OUT (bench-out),
# SERVER_CPUS and BENCH_CPUS (taskset CPU lists, disjoint; default: the first
# half of the CPUs this script may use for the server, the rest for the
# bench: on 2 CPUs, server 0 and bench 1),
# PGADMIN (a PostgreSQL URL allowed to CREATE DATABASE; default
# postgres://root@127.0.0.1:5432/postgres?sslmode=disable; "off" skips PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${DUR:-20s}
WARMUP=${WARMUP:-3s}
CLIENTS=${CLIENTS:-16}
SEED_MAX=${SEED_MAX:-1000000}
OUT=${OUT:-bench-out}
PGADMIN=${PGADMIN:-postgres://root@127.0.0.1:5432/postgres?sslmode=disable}
PROFILE=${PROFILE:-0}
# Closed-loop runs are signed in full before the clock starts: enough for
# (WARMUP + DUR) at up to 1300 req/s with the defaults. The runs table says
# how many requests the bench still had to sign while measuring.
PRESIGN=${PRESIGN:-30000}
# cpu_list_expand LIST: "0-2,5" -> "0 1 2 5".
cpu_list_expand() {
	tr ',' '\n' <<<"$1" | awk -F- 'NF { hi = (NF > 1) ? $2 : $1; for (c = $1; c <= hi; c++) printf "%d ", c }'
}
if [ -z "${SERVER_CPUS:-}" ] || [ -z "${BENCH_CPUS:-}" ]; then
	read -ra CPUS <<<"$(cpu_list_expand "$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)")"
	if [ "${#CPUS[@]}" -lt 2 ]; then
		echo "need at least 2 CPUs to pin the server and the bench apart (have ${#CPUS[@]})" >&2
		exit 1
	fi
	HALF=$(((${#CPUS[@]} + 1) / 2))
	SERVER_CPUS=${SERVER_CPUS:-$(IFS=,; echo "${CPUS[*]:0:HALF}")}
	BENCH_CPUS=${BENCH_CPUS:-$(IFS=,; echo "${CPUS[*]:HALF}")}
fi
for a in $(cpu_list_expand "$SERVER_CPUS"); do
	for b in $(cpu_list_expand "$BENCH_CPUS"); do
		[ "$a" != "$b" ] || { echo "SERVER_CPUS ($SERVER_CPUS) and BENCH_CPUS ($BENCH_CPUS) share CPU $a" >&2; exit 1; }
	done
done
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed to pin the server and the bench" >&2; exit 1; }
echo "server on CPUs $SERVER_CPUS, bench on CPUs $BENCH_CPUS" >&2
mkdir -p "$OUT" docs/bench
OUT=$(cd "$OUT" && pwd)
FIG="$OUT/figures.md"
TICK=$(getconf CLK_TCK)

log() { printf '\n== %s\n' "$*" >&2; }

# --- builds -------------------------------------------------------------
log "release builds"
CGO_ENABLED=0 go build -o "$OUT/ipass" ./cmd/ipass
OPENSSL_BUILD=""
OPENSSL_NOTE="not measured: the openssl build failed (see openssl-build.log)"
if ! grep -rqE '^//go:build.*\bopenssl\b' --include='*.go' .; then
	# Without files behind the tag, -tags openssl would build pure Go again.
	OPENSSL_NOTE="not measured: no code behind the openssl build tag in this tree"
	echo "$OPENSSL_NOTE" >&2
elif CGO_ENABLED=1 go build -tags openssl -o "$OUT/ipass-openssl" ./cmd/ipass 2>"$OUT/openssl-build.log"; then
	OPENSSL_BUILD="$OUT/ipass-openssl"
else
	echo "openssl build failed (see $OUT/openssl-build.log): not measured" >&2
fi
IPASS="$OUT/ipass"

# --- server control -----------------------------------------------------
SERVER_PID=""
DATA=""
URL=""
# start_server BINARY DSN [extra serve flags...]: serve on a free port with
# the demo tenant, rate limit off for the demo client.
start_server() {
	local bin=$1 dsn=$2
	shift 2
	rm -f "$DATA/addr"
	taskset -c "$SERVER_CPUS" "$bin" serve --addr 127.0.0.1:0 --addr-file "$DATA/addr" --data-dir "$DATA" --db "$dsn" "$@" \
		>>"$OUT/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 300); do
		[ -s "$DATA/addr" ] && break
		sleep 0.1
	done
	[ -s "$DATA/addr" ] || { echo "server did not start; see $OUT/server.log" >&2; exit 1; }
	URL="http://$(cat "$DATA/addr")"
}
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}
trap stop_server EXIT

# no_rate_limit DSN: the demo client gets rateLimit 0 (unlimited).
no_rate_limit() {
	"$IPASS" admin export --db "$1" | sed 's/^\(    rateLimit:\) .*/\1 0/' >"$DATA/tenants.yaml"
	"$IPASS" admin apply --db "$1" -f "$DATA/tenants.yaml" >/dev/null
}

# fresh_db NAME DSN: a new data dir with the demo tenant in DSN, unlimited.
fresh_db() {
	DATA="$OUT/data-$1"
	rm -rf "$DATA"
	mkdir -p "$DATA"
	start_server "$IPASS" "$2"
	stop_server
	no_rate_limit "$2"
}

# bench NAME [flags...]: one run against $URL; report in $OUT/NAME.json/.txt/.svg.
bench() {
	local name=$1
	shift
	local presign=()
	[[ " $* " == *" --rate "* ]] || presign=(--presign "$PRESIGN")
	log "bench $name $*"
	taskset -c "$BENCH_CPUS" "$IPASS" bench --url "$URL" --client-id 2110200000000044 --key "$DATA/demo-client.pem" \
		--server-public-key "$DATA/server-signing.pub.pem" --warmup "$WARMUP" --duration "$DUR" \
		--json "$OUT/$name.json" --plot "$OUT/$name.svg" "${presign[@]}" "$@" | tee "$OUT/$name.txt"
	# The bench warns when it shares CPUs with the server; here that is an error.
	if [ -n "$(jq -r '.shared_cpus // ""' "$OUT/$name.json")" ]; then
		echo "bench $name shared CPUs with the server: $(jq -r .shared_cpus "$OUT/$name.json")" >&2
		exit 1
	fi
	cp "$OUT/$name.svg" docs/bench/
}

# j NAME FILTER [FORMAT]: a figure from a report, "n/a" when null.
j() {
	local v
	v=$(jq -r "$2 // empty" "$OUT/$1.json" 2>/dev/null || true)
	if [ -z "$v" ]; then echo "n/a"; else printf "${3:-%.2f}" "$v"; fi
}

# postgres_cpu: CPU seconds used so far by every postgres process.
postgres_cpu() {
	local total=0 pid
	for pid in $(pgrep -x postgres || true); do
		# Fields 14 and 15 of /proc/PID/stat (after the "(comm)" field).
		read -r ut st < <(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12, $13}') || continue
		total=$((total + ut + st))
	done
	echo "$total $TICK" | awk '{printf "%.3f", $1 / $2}'
}

SQLITE_DSN() { echo "sqlite:$DATA/ipass.db"; }

# --- 1. SQLite, durable, 16 clients: CPU vs crypto, throughput vs bound --
fresh_db sqlite "sqlite:$OUT/data-sqlite/ipass.db"
start_server "$IPASS" "$(SQLITE_DSN)"
bench "sqlite-c$CLIENTS" --concurrency "$CLIENTS" --passes 32
PEAK=$(jq -r .throughput_rps "$OUT/sqlite-c$CLIENTS.json")

# --- 2. open loop at 50 % of that peak -----------------------------------
HALF=$(echo "$PEAK" | awk '{printf "%.0f", $1 / 2}')
bench "sqlite-open-half" --rate "$HALF" --concurrency 64 --passes 32
stop_server
if [ "$PROFILE" = 1 ]; then
	# Run 1 again under the CPU profiler, so that no figure is made under it.
	start_server "$IPASS" "$(SQLITE_DSN)" --cpu-profile "$OUT/sqlite-c$CLIENTS.cpu.pprof"
	bench "sqlite-c$CLIENTS-profiled" --concurrency "$CLIENTS" --passes 32
	stop_server
fi

# --- 3. PostgreSQL, 16 clients, with PostgreSQL's own CPU ----------------
PG_NOTE="not measured (PGADMIN=off)"
if [ "$PGADMIN" != off ]; then
	PGDB="ipass_bench_$(date +%s)"
	psql "$PGADMIN" -qc "CREATE DATABASE $PGDB" >/dev/null
	PGDSN=$(echo "$PGADMIN" | sed "s#/[^/?]*\([?]\|\$\)#/$PGDB\1#")
	fresh_db postgres "$PGDSN"
	start_server "$IPASS" "$PGDSN"
	PG_BEFORE=$(postgres_cpu)
	bench "postgres-c$CLIENTS" --concurrency "$CLIENTS" --passes 32
	PG_AFTER=$(postgres_cpu)
	stop_server
	PG_REQS=$(jq -r '.server_requests // 0' "$OUT/postgres-c$CLIENTS.json")
	PG_CPU=$(awk -v a="$PG_BEFORE" -v b="$PG_AFTER" -v n="$PG_REQS" 'BEGIN { if (n > 0) printf "%.3f", (b - a) * 1000 / n; else print "n/a" }')
	psql "$PGADMIN" -qc "DROP DATABASE $PGDB" >/dev/null || true
	PG_NOTE=""
fi

# --- 4. scale: 1 k, 100 k and 1 M stored passes (SQLite) -----------------
fresh_db scale "sqlite:$OUT/data-scale/ipass.db"
STORED=0
SCALE_ROWS=""
TARGETS=()
for target in 1000 100000 1000000; do
	[ "$target" -lt "$SEED_MAX" ] && TARGETS+=("$target")
done
TARGETS+=("$SEED_MAX")
for target in "${TARGETS[@]}"; do
	log "seed to $target passes"
	"$IPASS" admin seed --db "$(SQLITE_DSN)" --passes $((target - STORED)) | tee -a "$OUT/seed.txt"
	STORED=$target
	start_server "$IPASS" "$(SQLITE_DSN)"
	bench "scale-$target" --concurrency "$CLIENTS" --passes 32
	stop_server
	SCALE_ROWS+="| $target | $(j "scale-$target" .throughput_rps %.0f) | $(j "scale-$target" .latency_ms.p50) | $(j "scale-$target" .latency_ms.p99) | $(j "scale-$target" .server_rss_mb %.0f) |"$'\n'
done
P50_SMALL=$(jq -r .latency_ms.p50 "$OUT/scale-${TARGETS[0]}.json")
P50_LARGE=$(jq -r .latency_ms.p50 "$OUT/scale-$SEED_MAX.json")
P50_GROWTH=$(awk -v a="$P50_SMALL" -v b="$P50_LARGE" 'BEGIN { printf "%+.0f %%", (b / a - 1) * 100 }')

# --- 5. openssl build vs pure Go, same database, back to back ------------
DATA="$OUT/data-sqlite"
start_server "$IPASS" "$(SQLITE_DSN)"
bench "go-c$CLIENTS" --concurrency "$CLIENTS" --passes 32
stop_server
if [ -n "$OPENSSL_BUILD" ]; then
	start_server "$OPENSSL_BUILD" "$(SQLITE_DSN)"
	bench "openssl-c$CLIENTS" --concurrency "$CLIENTS" --passes 32
	stop_server
	OPENSSL_NOTE=""
fi

# --- figures.md -----------------------------------------------------------
C=$CLIENTS
{
	echo "### Machine and build"
	echo
	echo '```'
	lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|L3)' || true
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	go version
	echo "kernel: $(uname -sr)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (modified)')"
	echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "runs: DUR=$DUR WARMUP=$WARMUP CLIENTS=$C SEED_MAX=$SEED_MAX"
	echo "CPUs: server $SERVER_CPUS, bench $BENCH_CPUS (taskset)$([ -z "$PG_NOTE" ] && echo ', PostgreSQL unpinned')"
	echo '```'
	echo
	echo "### Figures"
	echo
	echo "| target | measured | goal | met |"
	echo "|---|---|---|---|"
	R=$(j sqlite-c$C .cpu_to_crypto_ratio)
	echo "| SQLite: server CPU ÷ server crypto time per updatePass ($C clients) | $(j sqlite-c$C .server_cpu_ms_per_request %.3f) ms ÷ $(j sqlite-c$C .crypto_ms_per_request %.3f) ms = **${R}×** | ≤ 1.5× | $(awk -v r="$R" 'BEGIN{print (r != "n/a" && r <= 1.5) ? "yes" : "no"}') |"
	if [ -z "$PG_NOTE" ]; then
		R=$(j postgres-c$C .cpu_to_crypto_ratio)
		echo "| PostgreSQL: server CPU ÷ server crypto time ($C clients); PostgreSQL's own CPU beside it | $(j postgres-c$C .server_cpu_ms_per_request %.3f) ms ÷ $(j postgres-c$C .crypto_ms_per_request %.3f) ms = **${R}×**; PostgreSQL $PG_CPU ms/request | ≤ 1.7× | $(awk -v r="$R" 'BEGIN{print (r != "n/a" && r <= 1.7) ? "yes" : "no"}') |"
	else
		echo "| PostgreSQL: server CPU ÷ crypto | $PG_NOTE | ≤ 1.7× | – |"
	fi
	B=$(j sqlite-c$C .bound_ratio)
	echo "| throughput ÷ crypto bound, same run (SQLite, $C clients) | $(j sqlite-c$C .throughput_rps %.0f) req/s ÷ $(j sqlite-c$C .crypto_bound_rps %.0f) req/s = **$(awk -v b="$B" 'BEGIN{ if (b == "n/a") print b; else printf "%.0f %%", b * 100 }')** | ≥ 60 % | $(awk -v b="$B" 'BEGIN{print (b != "n/a" && b >= 0.6) ? "yes" : "no"}') |"
	P99=$(j sqlite-open-half .latency_ms.p99)
	echo "| p99, open loop at 50 % of peak ($HALF req/s) | **$P99 ms** (p50 $(j sqlite-open-half .latency_ms.p50) ms) | ≤ 10 ms | $(awk -v p="$P99" 'BEGIN{print (p != "n/a" && p <= 10) ? "yes" : "no"}') |"
	echo "| p50 at $SEED_MAX stored passes vs ${TARGETS[0]} | $P50_LARGE ms vs $P50_SMALL ms = **$P50_GROWTH** | ≤ +20 % | $(awk -v a="$P50_SMALL" -v b="$P50_LARGE" 'BEGIN{print (b <= a * 1.2) ? "yes" : "no"}') |"
	RSS=$(j scale-$SEED_MAX .server_rss_mb %.0f)
	echo "| server RSS while serving with $SEED_MAX passes | **$RSS MB** | ≤ 150 MB | $(awk -v r="$RSS" 'BEGIN{print (r != "n/a" && r <= 150) ? "yes" : "no"}') |"
	if [ -z "$OPENSSL_NOTE" ]; then
		G=$(j go-c$C .throughput_rps %.0f)
		O=$(j openssl-c$C .throughput_rps %.0f)
		X=$(awk -v g="$G" -v o="$O" 'BEGIN{printf "%.2f", o / g}')
		echo "| openssl build ÷ pure-Go build throughput (back to back) | $O ÷ $G req/s = **${X}×** | ≥ 2× | $(awk -v x="$X" 'BEGIN{print (x >= 2) ? "yes" : "no"}') |"
	else
		echo "| openssl build ÷ pure-Go build throughput | $OPENSSL_NOTE | ≥ 2× | – |"
	fi
	echo
	echo "### All runs"
	echo
	echo "| run | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | server CPU ms/req | crypto ms/req | crypto bound req/s | results | signed by the bench while measuring |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for f in "$OUT"/*.json; do
		n=$(basename "$f" .json)
		echo "| [$n](docs/bench/$n.svg) | $(j "$n" .throughput_rps %.0f) | $(j "$n" .latency_ms.p50) | $(j "$n" .latency_ms.p90) | $(j "$n" .latency_ms.p99) | $(j "$n" .latency_ms.p999) | $(j "$n" .server_cpu_ms_per_request %.3f) | $(j "$n" .crypto_ms_per_request %.3f) | $(j "$n" .crypto_bound_rps %.0f) | $(jq -r '.results | to_entries | map("\(.key) \(.value)") | join(", ")' "$f") | $(j "$n" .signed_while_measuring %d) |"
	done
	echo
	echo "Crypto time per request by operation (SQLite, $C clients): $(jq -r '.crypto_ms_by_op // {} | to_entries | map("\(.key) \(.value * 1000 | floor / 1000) ms") | join(", ")' "$OUT/sqlite-c$C.json")"
	echo
	echo "### Stored passes"
	echo
	echo "| stored passes | req/s | p50 ms | p99 ms | server RSS MB |"
	echo "|---|---|---|---|---|"
	printf '%s' "$SCALE_ROWS"
	echo
	echo "Seeding: $(tr '\n' ';' <"$OUT/seed.txt")"
	if [ "$PROFILE" = 1 ] && [ -s "$OUT/sqlite-c$C.cpu.pprof" ]; then
		echo
		echo "### CPU profile of the server (SQLite, $C clients: sqlite-c$C-profiled, a repeat of sqlite-c$C under the profiler)"
		echo
		echo '```'
		go tool pprof -top -nodecount 25 "$OUT/ipass" "$OUT/sqlite-c$C.cpu.pprof" 2>/dev/null | sed -n '1,35p'
		echo '```'
	fi
} >"$FIG"
log "figures written to $FIG"
cat "$FIG"
