#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs policies/production.hoody for real: builds hoodyc and hoody-proxy,
# starts one demo upstream per container on loopback, writes the inventory,
# compiles the bundle, starts the proxy and prints URLs plus curl commands
# that show each outcome (200, 401, 403, 404, 503).
#
#   examples/demo.sh            run until Ctrl-C
#   examples/demo.sh --smoke    run every printed curl, check the statuses, stop
#
# HOODY_DEMO_PORT sets the proxy port (default 8443). Everything listens on
# 127.0.0.1 only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
port="${HOODY_DEMO_PORT:-8443}"
smoke=0
[[ "${1:-}" == "--smoke" ]] && smoke=1

policy="$root/policies/production.hoody"
secrets="$root/examples/secrets"
run="$root/examples/run"
node=node-demo
domain=hoody.test

if [[ $smoke -eq 0 || ! -x "$build_dir/hoody-proxy" ]]; then
  bash "$root/scripts/build.sh" --target hoodyc hoody-proxy >/dev/null
fi
hoodyc="$build_dir/hoodyc"
rm -rf "$run"
mkdir -p "$run"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# 1. One upstream per container; every service of a container goes to it.
"$hoodyc" urls "$policy" --node "$node" --domain "$domain" --json >"$run/urls.json"
containers=$(python3 -c '
import json, sys
seen = {}
for row in json.load(open(sys.argv[1])):
    host = row["url"].split("//")[1].split(".")[0]
    seen.setdefault(host[:24], row["container"])
for cid, name in seen.items():
    print(cid, name)' "$run/urls.json")
declare -A upstream_port
while read -r cid name; do
  p=$(free_port)
  upstream_port[$cid]=$p
  python3 "$root/examples/upstream/echo_upstream.py" --listen "127.0.0.1:$p" --name "$name" \
    >"$run/upstream-$name.log" 2>&1 &
  pids+=($!)
done <<<"$containers"

# 2. The inventory: where each container's services listen.
{
  echo "{ \"node\": \"$node\", \"domain\": \"$domain\", \"containers\": {"
  first=1
  for cid in "${!upstream_port[@]}"; do
    p=${upstream_port[$cid]}
    [[ $first -eq 1 ]] || echo ","
    first=0
    printf '  "%s": { "upstream": "127.0.0.1", "services": { "http": %s, "terminal": %s, "files": %s, "display": %s } }' \
      "$cid" "$p" "$p" "$p" "$p"
  done
  echo
  echo "} }"
} >"$run/inventory.json"

# 3. Compile and start the proxy.
"$hoodyc" compile "$policy" --inventory "$run/inventory.json" -o "$run/bundle"
"$build_dir/hoody-proxy" --bundle "$run/bundle" --listen "127.0.0.1:$port" \
  --state-dir "$root/examples/state" --access-log "$run/access.log" --workers 2 \
  >"$run/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "listening" "$run/proxy.log" 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$run/proxy.log"; exit 1; }
  sleep 0.1
done
ca="$root/examples/state/ca.pem"

# 4. URLs and curl commands for each outcome.
url_of() {  # container service
  python3 -c '
import json, sys
for row in json.load(open(sys.argv[1])):
    if row["container"] == sys.argv[2] and row["service"] == sys.argv[3]:
        print(row["url"]); break' "$run/urls.json" "$1" "$2"
}
host_of() { local u; u=$(url_of "$1" "$2"); u=${u#https://}; echo "${u%%/*}"; }
monitoring_token=$(cat "$secrets/monitoring.token")
jwt=$(python3 "$root/examples/mint_jwt.py" --key "$secrets/operators.key.pem" --alg ES256 \
  --iss "$(cat "$secrets/operators.issuer")" --aud "$(cat "$secrets/operators.audience")" \
  --claim 'hoody_realm="acme"')

api_http=$(host_of public-api http)
api_term=$(host_of public-api terminal)
worker_http=$(host_of billing-worker http)
worker_term=$(host_of billing-worker terminal)
db_http=$(host_of billing-db http)
wrong_id="000000000000000000000000${worker_http:24}"

checks=(
  "200|public-api http, group world (any address)|$api_http|"
  "401|public-api terminal without a token (operators need a JWT)|$api_term|"
  "200|public-api terminal with an operators JWT|$api_term|-H 'Authorization: Bearer $jwt'"
  "401|billing-worker http without the monitoring token|$worker_http|"
  "200|billing-worker http GET with the monitoring token|$worker_http|-H 'Authorization: Bearer $monitoring_token'"
  "403|billing-worker http POST with the monitoring token (GET and HEAD only)|$worker_http|-X POST -H 'Authorization: Bearer $monitoring_token'"
  "403|billing-worker terminal from 127.0.0.1 (devops is 203.0.113.0/24)|$worker_term|"
  "404|a wrong container ID|$wrong_id|"
  "503|billing-db, in maintenance|$db_http|"
)

echo
echo "hoody-proxy is listening on https://127.0.0.1:$port (CA: $ca)"
echo "Policy: $policy   bundle: $run/bundle   access log: $run/access.log"
echo
failed=0
for check in "${checks[@]}"; do
  IFS='|' read -r want what host extra <<<"$check"
  cmd="curl -sS --cacert $ca --resolve $host:$port:127.0.0.1 $extra https://$host:$port/"
  echo "# expect $want: $what"
  echo "$cmd"
  if [[ $smoke -eq 1 ]]; then
    got=$(eval "$cmd -o /dev/null -w '%{http_code}' --max-time 10" || true)
    if [[ "$got" == "$want" ]]; then echo "  -> $got ok"; else echo "  -> $got, expected $want"; failed=1; fi
  fi
  echo
done
echo "All URLs: $hoodyc urls $policy --inventory $run/inventory.json"

if [[ $smoke -eq 1 ]]; then
  exit $failed
fi
echo "Press Ctrl-C to stop."
wait
