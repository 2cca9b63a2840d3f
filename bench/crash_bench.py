#!/usr/bin/env python3
"""SIGKILL crash testing at scale: 1,000 kills of the real `petit run` per backend.

Runs tests/integration/daemon_kill_test.cc's test (the one ctest runs with a CI-bounded count)
in chunks of --chunk kills, each chunk a fresh store and a seed of its own, until --kills kills
per backend are done, and prints per backend: kills, failures, wall time, seconds per kill, runs
and task attempts that went through the store. Every failing chunk's seed is printed, so
`PETIT_CRASH_SEED=<seed> PETIT_CRASH_KILLS=<chunk>` replays it under ctest or the binary.

Usage:
  bench/crash_bench.py [--build-dir build/dev] [--kills 1000] [--chunk 100]
                       [--backends sqlite,postgres] [--parallel 2]

PostgreSQL: PETIT_TEST_POSTGRES_URI if set, else a throw-away server started with
scripts/pg_test_server.sh in /tmp/petit-crash-bench-pg (stopped at the end).
"""
import argparse
import concurrent.futures
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILTERS = {"sqlite": "*DaemonKillTest*Sqlite", "postgres": "*DaemonKillTest*Postgres"}
SUMMARY = re.compile(r"kills (\d+), runs (\d+), task attempts (\d+), seed (\d+)")


def run_chunk(binary, backend, kills, seed, env):
    chunk_env = dict(env, PETIT_CRASH_KILLS=str(kills), PETIT_CRASH_SEED=str(seed))
    started = time.monotonic()
    proc = subprocess.run(
        [binary, "--gtest_filter=" + FILTERS[backend]],
        env=chunk_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - started
    match = SUMMARY.search(proc.stdout)
    return {
        "backend": backend, "seed": seed, "kills": kills, "seconds": seconds,
        "ok": proc.returncode == 0 and match is not None,
        "runs": int(match.group(2)) if match else 0,
        "attempts": int(match.group(3)) if match else 0,
        "output": proc.stdout,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build", "dev"))
    parser.add_argument("--kills", type=int, default=1000, help="kills per backend")
    parser.add_argument("--chunk", type=int, default=100, help="kills per test process")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--parallel", type=int, default=2, help="chunks at once")
    parser.add_argument("--seed", type=int, default=None, help="seed of the chunk seeds")
    args = parser.parse_args()

    built = os.path.join(args.build_dir, "bin", "petit_daemon_kill_test")
    if not os.access(built, os.X_OK):
        sys.exit(f"crash_bench: {built} is missing: build petit_daemon_kill_test first")
    # A copy of the binaries and plugins, so that rebuilding while the bench runs changes nothing.
    snapshot = tempfile.mkdtemp(prefix="petit-crash-bench-")
    os.mkdir(os.path.join(snapshot, "bin"))
    for name in ("petit", "petit_daemon_kill_test"):
        shutil.copy2(os.path.join(args.build_dir, "bin", name), os.path.join(snapshot, "bin"))
    shutil.copytree(os.path.join(args.build_dir, "lib"), os.path.join(snapshot, "lib"))
    binary = os.path.join(snapshot, "bin", "petit_daemon_kill_test")
    backends = [b for b in args.backends.split(",") if b]
    env = dict(os.environ, PETIT_CRASH_PETIT=os.path.join(snapshot, "bin", "petit"))
    pg_dir = None
    if "postgres" in backends and not env.get("PETIT_TEST_POSTGRES_URI"):
        pg_dir = "/tmp/petit-crash-bench-pg"
        env["PETIT_TEST_POSTGRES_URI"] = subprocess.check_output(
            [os.path.join(ROOT, "scripts", "pg_test_server.sh"), "start", pg_dir],
            text=True).strip()
    master = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(master)
    print(f"crash_bench: {args.kills} kills per backend in chunks of {args.chunk}, "
          f"seed {master}", flush=True)

    jobs = []
    for backend in backends:
        left = args.kills
        while left > 0:
            kills = min(args.chunk, left)
            jobs.append((backend, kills, rng.randrange(2**32)))
            left -= kills
    results = {b: [] for b in backends}
    started = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
            futures = [pool.submit(run_chunk, binary, b, k, s, env) for b, k, s in jobs]
            for future in concurrent.futures.as_completed(futures):
                r = future.result()
                results[r["backend"]].append(r)
                state = "ok" if r["ok"] else "FAILED"
                print(f"  {r['backend']:8} {r['kills']:4} kills  {r['seconds']:7.1f} s  "
                      f"seed {r['seed']:10}  {state}", flush=True)
                if not r["ok"]:
                    print(r["output"][-6000:], flush=True)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
        if pg_dir:
            subprocess.run([os.path.join(ROOT, "scripts", "pg_test_server.sh"), "stop", pg_dir],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - started

    print(f"\n| backend | kills | failed chunks | runs | task attempts | s per kill |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for backend in backends:
        rs = results[backend]
        kills = sum(r["kills"] for r in rs)
        bad = [r for r in rs if not r["ok"]]
        failed += len(bad)
        per_kill = sum(r["seconds"] for r in rs) / kills if kills else 0
        print(f"| {backend} | {kills} | {len(bad)} | {sum(r['runs'] for r in rs)} | "
              f"{sum(r['attempts'] for r in rs)} | {per_kill:.2f} |")
        for r in bad:
            print(f"  replay: PETIT_CRASH_SEED={r['seed']} PETIT_CRASH_KILLS={r['kills']} "
                  f"{built} --gtest_filter='{FILTERS[backend]}'")
    print(f"wall time {wall:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
