#!/usr/bin/env bash
# Load test of the tile server with wrk over shuffled tile paths across
# France, z0–z14, on the national demo set; prints throughput, latency
# percentiles and the server's resident memory. Loopback only, bounded in
# time. Needs wrk (Debian: apt-get install wrk). Usage: make load
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
DATA="${LOAD_DATA_DIR:-var/load}"
ADDR="${LOAD_ADDR:-127.0.0.1:18099}"
DURATION="${LOAD_DURATION:-30s}"
mkdir -p "$DATA"
go build -o bin/atigip ./cmd/atigip
go run ./tiles/bench/genpaths -n 20000 > "$DATA/tile-paths.txt"

log="$DATA/serve.log"
ATIGIP_DATA_DIR="$DATA" ATIGIP_ADDR="$ADDR" ATIGIP_LOG_LEVEL=warn ATIGIP_BASEMAP_URL= \
  bin/atigip serve > "$DATA/serve.out" 2> "$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
# The first start seeds the national set and builds the index.
for _ in $(seq 1 300); do
  grep -q "^listening on" "$DATA/serve.out" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 1
done
grep -q "^listening on" "$DATA/serve.out" || { echo "server did not start" >&2; exit 1; }
sleep 5
echo "resident memory before load: $(($(ps -o rss= -p $pid) / 1024)) MB"
PATHS="$DATA/tile-paths.txt" wrk -t2 -c64 -d"$DURATION" --latency -s tiles/bench/wrk.lua "http://$ADDR"
echo "resident memory after load: $(($(ps -o rss= -p $pid) / 1024)) MB"
