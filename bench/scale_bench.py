#!/usr/bin/env python3
"""Scale (issue 14, item 5): one DAG of 1,000 to 100,000 builtin `noop` tasks, loaded, validated
and run by `petit trigger`; time and peak RSS against tasks + edges.

    cmake --preset release && cmake --build --preset release -j2 --target petit builtin.so
    python3 bench/scale_bench.py                               # 1k, 10k, 100k; flat and sparse
    python3 bench/scale_bench.py --sizes 1000 10000 --storage memory --rounds 3

Shapes (one job file each, generated once per size):
  flat     N independent tasks (no edges)
  sparse   task i depends on up to 2 of the 100 tasks before it (seeded; about 2N edges), so
           the graph is wide and deep at once and its edges grow linearly with N
For each size, shape and store (`memory:`, and one fresh SQLite file per run), rounds taking
turns: `petit validate DIR` (load + validate only) and `petit trigger DIR JOB --max-parallel 2
--quiet --storage ...` (load, validate, run, every transition in the store). Wall time and peak
RSS (ru_maxrss of the child) are the medians of the rounds; the table also gives what each
task + edge added since the previous size cost in time and memory, which stays flat when growth
is linear. A size the loader refuses (a limit) is reported as refused, with its message.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOB = "scale"


def job_yaml(n, shape, seed=14):
    rng = random.Random(seed)
    lines = ["id: %s" % JOB, "tasks:"]
    edges = 0
    for i in range(n):
        lines.append("  - id: t%d" % i)
        lines.append("    type: noop")
        if shape == "sparse" and i > 0:
            lo = max(0, i - 100)
            deps = sorted(set(rng.randrange(lo, i) for _ in range(2)))
            edges += len(deps)
            lines.append("    depends_on: [%s]" % ", ".join("t%d" % d for d in deps))
    return "\n".join(lines) + "\n", edges


def timed(cmd):
    """(wall seconds, peak RSS KiB, exit code) of one child."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise Refused("exited %d: %s" % (code, err.strip().splitlines()[-1] if err.strip() else ""))
    return wall, usage.ru_maxrss


class Refused(Exception):
    """The command failed (a limit of the loader, say): reported in the table, never estimated."""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--petit", default=os.path.join(REPO, "build", "release", "bin", "petit"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--shapes", nargs="+", default=["flat", "sparse"], choices=["flat", "sparse"])
    ap.add_argument("--storage", nargs="+", default=["memory", "sqlite"], choices=["memory", "sqlite"])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    load_before = os.getloadavg()
    work = tempfile.mkdtemp(prefix="petit-scale-bench-")
    rows = []
    try:
        for shape in args.shapes:
            for n in args.sizes:
                d = os.path.join(work, "%s-%d" % (shape, n))
                os.makedirs(d)
                text, edges = job_yaml(n, shape)
                with open(os.path.join(d, JOB + ".yaml"), "w") as f:
                    f.write(text)
                kinds = ["validate"] + ["trigger " + s for s in args.storage]
                results = {k: [] for k in kinds}
                failed = {}
                for r in range(args.rounds):
                    for kind in kinds:
                        if kind in failed:
                            continue
                        if kind == "validate":
                            cmd = [args.petit, "validate", d]
                        else:
                            cmd = [args.petit, "trigger", d, JOB, "--max-parallel", "2", "--quiet"]
                            if kind.endswith("memory"):
                                cmd += ["--storage", "memory:"]
                            else:
                                db = os.path.join(work, "store-%s-%d-%d.db" % (shape, n, r))
                                cmd += ["--storage", "sqlite://" + db]
                        try:
                            results[kind].append(timed(cmd))
                        except Refused as e:
                            failed[kind] = str(e)
                            print("  %s %d %s: %s" % (shape, n, kind, e), file=sys.stderr, flush=True)
                            continue
                        print("  %s %d %s round %d: %.3f s, %d KiB" % (
                            shape, n, kind, r, *results[kind][-1]), file=sys.stderr, flush=True)
                for kind in kinds:
                    if kind in failed:
                        rows.append((shape, n, edges, kind, failed[kind], None))
                        continue
                    wall = statistics.median(x[0] for x in results[kind])
                    rss = statistics.median(x[1] for x in results[kind])
                    rows.append((shape, n, edges, kind, wall, rss))
    finally:
        if args.keep:
            print("kept " + work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    print("| shape | tasks | edges | command | wall s | peak RSS MiB | per task+edge added since the "
          "previous size: µs, bytes |")
    print("|---|---|---|---|---|---|---|")
    previous = {}
    for shape, n, edges, kind, wall, rss in rows:
        units = n + edges
        if rss is None:
            print("| %s | %d | %d | %s | %s | | |" % (shape, n, edges, kind, wall))
            continue
        marginal = ""
        if (shape, kind) in previous:
            p_units, p_wall, p_rss = previous[(shape, kind)]
            marginal = "%.2f µs, %.0f B" % ((wall - p_wall) * 1e6 / (units - p_units),
                                           (rss - p_rss) * 1024.0 / (units - p_units))
        previous[(shape, kind)] = (units, wall, rss)
        print("| %s | %d | %d | %s | %.3f | %.1f | %s |" % (shape, n, edges, kind, wall, rss / 1024.0,
                                                          marginal))
    print("\nload average before %.2f / %.2f / %.2f, after %.2f / %.2f / %.2f"
          % (load_before + load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
