# Shared by the benchmark scripts (sourced): start the release API against
# $DB, log in, capture the SQL of one request as a pgbench script, and run wrk
# and pgbench side by side with the same settings.
# Expects: BIN, DB, POOL, WRK_CONNS, DURATION, PORT, API; BENCH_TOOLS (wrk jq)
# names the Debian packages to install when missing.

for tool in ${BENCH_TOOLS:-wrk jq}; do command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }; done
work=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

start_server() {
  if [[ -n $server ]]; then kill "$server"; wait "$server" 2>/dev/null || true; fi
  ONEGRID_BIND=127.0.0.1:$PORT ONEGRID_POOL_SIZE=$POOL ONEGRID_ACCESS_TTL_SECS=3600 RUST_LOG=warn "$BIN/onegrid" serve >"/tmp/onegrid-bench-serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "the API did not start; see /tmp/onegrid-bench-serve.log" >&2
  exit 1
}

login() { curl -sf -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$API/auth/login" | jq -r .access_token; }

# The first grid of the first street and a grid worker of it (bench-worker), made through the API.
bench_worker() { # admin token
  local admin=$1
  call() { curl -sf -H "Authorization: Bearer $admin" -H 'content-type: application/json' "$@"; }
  street=$(call "$API/streets?limit=1" | jq -r '.items[0].id')
  community=$(call "$API/streets/$street/communities?limit=1" | jq -r '.items[0].id')
  grid=$(call "$API/communities/$community/grids?limit=1" | jq -r '.items[0].id')
  worker=$(call "$API/users?street_id=$street" | jq -r '.items[] | select(.username == "bench-worker") | .id')
  if [[ -z $worker ]]; then
    worker=$(call -X POST "$API/users" -d "{\"username\":\"bench-worker\",\"display_name\":\"基准网格员\",\"password\":\"OneGrid-bench-2026\",\"street_id\":\"$street\"}" | jq -r .id)
    call -X POST "$API/users/$worker/roles" -d "{\"role\":\"grid_worker\",\"scope\":{\"grid_id\":\"$grid\"}}" >/dev/null
  fi
}

# Logs every statement of $DB and restarts the API so its pooled connections log too.
capture_on() {
  pglog=/var/log/postgresql/$(ls /var/log/postgresql | grep -m1 main.log)
  psql -h 127.0.0.1 -U postgres -qc "ALTER DATABASE $DB SET log_statement = 'all'"
  sleep 0.5
  start_server
}
capture_off() { psql -h 127.0.0.1 -U postgres -qc "ALTER DATABASE $DB RESET log_statement"; }
capture() { # name, log2pgbench options (quoted, may be empty), then the curl arguments of the request
  local name=$1 opts=$2; shift 2
  local before; before=$(wc -l <"$pglog")
  curl -sf -o /dev/null "$@"
  sleep 0.3
  # shellcheck disable=SC2086
  tail -n +"$((before + 1))" "$pglog" | python3 bench/city/log2pgbench.py $opts >"$work/$name.sql"
  echo "captured $name: $(grep -c ';$' "$work/$name.sql") statements"
}

pg() { # script
  pgbench -h 127.0.0.1 -U onegrid_app -n -M prepared -c "$POOL" -j 2 -T "$DURATION" -f "$1" -l --log-prefix="$work/pgb" "$DB" >"$work/pgbench.txt" 2>&1 || { cat "$work/pgbench.txt" >&2; return 1; }
  local tps; tps=$(awk '/^tps = / {print $3}' "$work/pgbench.txt")
  cat "$work"/pgb.* | awk '{print $3}' | sort -n | awk -v tps="$tps" '{l[NR] = $1} END {printf "pgbench %8.0f tps  p50 %.2fms  p99 %.2fms\n", tps, l[int(NR*.50)]/1000, l[int(NR*.99)]/1000}'
  rm -f "$work"/pgb.*
}
api() { # wrk arguments
  wrk -t2 -c"$WRK_CONNS" -d"${DURATION}s" --latency "$@" | awk '/Requests\/sec/ {r=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {e=$0} END {printf "API     %8.0f req/s p50 %s  p99 %s %s\n", r, p50, p99, e}'
}
