#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...]: builds the fuzz preset (clang, libFuzzer, ASan, UBSan)
# and runs each fuzz target (all of fuzz/corpus/*, or those named) for SECONDS (default 60), two
# at a time, from its seed corpus in fuzz/corpus/TARGET and its dictionary in fuzz/dict/.
# Fails when any target finds a crash, a hang (one input over 10 s), a leak or undefined
# behaviour; the input that did it is saved as build/fuzz/artifacts/TARGET-*.
#
# New inputs the fuzzer finds go to build/fuzz/corpus/TARGET (kept between runs), never to the
# tree: copy the interesting ones to fuzz/corpus/TARGET by hand. Logs: build/fuzz/logs/TARGET.log.
# Reproduce a finding: build/fuzz/bin/fuzz_TARGET build/fuzz/artifacts/TARGET-crash-...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
seconds=${1:-60}
shift || true
# libFuzzer reads -max_total_time=0 as "no limit": refuse it with the rest.
case "$seconds" in '' | *[!0-9]* | 0) echo "usage: scripts/fuzz.sh [SECONDS>0] [TARGET...]" >&2; exit 2 ;; esac
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for dir in fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

log "building the fuzz targets (fuzz preset)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${PETIT_JOBS:-2}"

out="$here/build/fuzz"
mkdir -p "$out/logs" "$out/artifacts"

run_one() {  # run_one TARGET: one bounded run; its summary on stdout, its exit status
  local target=$1
  local corpus="$out/corpus/$target"
  local dict=()
  [ -f "fuzz/dict/$target.dict" ] && dict=(-dict="fuzz/dict/$target.dict")
  mkdir -p "$corpus"
  local status=0
  # -timeout: one input running longer is a hang. Leaks are findings (ASan's leak check).
  "$out/bin/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-" "${dict[@]}" \
    "$corpus" "fuzz/corpus/$target" >"$out/logs/$target.log" 2>&1 || status=$?
  local last execs
  last=$(grep -E '^#[0-9]+' "$out/logs/$target.log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$target.log")
  printf '%-14s %4ss  execs %-10s %s\n' "$target" "$seconds" "${execs:-?}" \
    "$(printf '%s' "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+|exec/s: [0-9]+' | paste -sd' ')"
  if [ "$status" -ne 0 ]; then
    echo "FAILED: fuzz_$target (exit $status); the end of $out/logs/$target.log:" >&2
    tail -40 "$out/logs/$target.log" >&2
  fi
  return "$status"
}
export -f run_one
export out seconds

log "fuzzing ${targets[*]} for ${seconds}s each, two at a time"
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'run_one "$1"' _ {}
