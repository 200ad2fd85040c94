#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the decision benchmarks and their peers in one go and writes the raw
# results to bench/results/ and the tables of bench/RESULTS.md.
#
#   bench/run.sh
#
# Steps: build the benchmark programs and hoodyc (Release), install the Cedar
# peer with `npm ci`, then decision time (JIT, interpreter, hand-written
# baseline), Cedar on the same cases, reload under load, `hoodyc compile` of
# generated policies and the JIT load of the bundles, each under
# `/usr/bin/time -v`. A few minutes on 2 cores, plus the build.
#
# Environment:
#   BUILD_DIR        build directory (default: build-bench in the repository)
#   COMPILE_SIZES    container counts for `hoodyc compile` (default "10000 100000")
#   COMPILE_TIMEOUT  seconds allowed per `hoodyc compile` (default 120)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$repo/build-bench}
results=$repo/bench/results
compile_sizes=${COMPILE_SIZES:-"10000 100000"}
compile_timeout=${COMPILE_TIMEOUT:-120}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { echo "== $*" >&2; }

step "building in $build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG" >/dev/null
cmake --build "$build" -j2 --target hoody_decision_bench hoody_reload_bench hoody_load_bundle \
  hoodyc

step "installing the Cedar peer"
(cd "$repo/bench/cedar" && npm ci --no-audit --no-fund --loglevel=error >&2)

rm -rf "$results"
mkdir -p "$results"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: bench/run.sh"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
  echo "cores: $(nproc)"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "kernel: $(uname -r)"
  echo "compiler: $(c++ --version | head -1)"
  echo "llvm: $(llvm-config-16 --version 2>/dev/null || echo 16)"
  echo "node: $(node --version)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$results/machine.txt"

step "decision time"
"$build/hoody_decision_bench" --export-cedar "$work/cedar" >"$results/decision.json"

# One Node process per case. Node 20 crashed in V8's deoptimizer (a fatal
# "unreachable code") on the third case of one process that shared a large
# preparsed policy set, so each case runs apart and a failed run is tried
# once more.
for file in "$work"/cedar/*.json; do
  name=$(basename "$file" .json)
  step "Cedar, $name"
  node "$repo/bench/cedar/bench.mjs" "$file" >"$results/cedar-$name.json" ||
    node "$repo/bench/cedar/bench.mjs" "$file" >"$results/cedar-$name.json" ||
    echo "Cedar failed twice on $name" >&2
done

step "reload under load"
"$build/hoody_reload_bench" >"$results/reload.json"

# Peak memory and time of `hoodyc compile`, then of loading its bundle.
for n in $compile_sizes; do
  step "hoodyc compile, $n containers"
  python3 "$repo/bench/gen_policy.py" --containers "$n" --out "$work/policy-$n"
  if timeout "$compile_timeout" /usr/bin/time -v "$build/hoodyc" compile \
      "$work/policy-$n/bench.hoody" --inventory "$work/policy-$n/inventory.json" \
      -o "$work/bundle-$n" 2>"$results/compile-$n.time" >/dev/null; then
    /usr/bin/time -v "$build/hoody_load_bundle" "$work/bundle-$n" \
      >"$results/load-$n.json" 2>"$results/load-$n.time"
  else
    echo "timed out after $compile_timeout s" >>"$results/compile-$n.time"
  fi
done

# The JIT load of a 100,000-container bundle written by the benchmark's own
# generator, so the load is measured even when `hoodyc compile` timed out.
step "JIT load of a generated 100000-container bundle"
"$build/hoody_load_bundle" --generate 100000 "$work/generated-bundle"
/usr/bin/time -v "$build/hoody_load_bundle" "$work/generated-bundle" \
  >"$results/load-generated-100000.json" 2>"$results/load-generated-100000.time"

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/machine.txt"
step "writing bench/RESULTS.md"
python3 "$repo/bench/report.py" "$results" "$repo/bench/RESULTS.md"
