#!/usr/bin/env python3
"""How loading one large DAG grows: `petit validate` (read, parse, check every task and edge,
validate the graph) of one job of N tasks, for N = 1,000, 10,000 and 100,000 by default.

The job is the random shape of ../shared/bench/gen_workloads.py (task i depends on k distinct
tasks among the ones before it, k uniform in 0..min(3, i), fixed seed), written as
bench/run_bench.py writes its jobs (block style, quoted ids, flow lists of dependencies), every
task of the builtin plugin type `noop`. Each size is run --rounds times, the binaries alternating
within a round; the figures are the medians of the process's wall time and peak RSS (ru_maxrss),
and the same for a job of one task, the floor every run pays (start-up, plugins, libraries).

    python3 bench/load_growth.py [--petit build/release/bin/petit] [--before OTHER_PETIT]
                                 [--sizes 1000,10000,100000] [--rounds 5]

A binary that refuses a job (for example one whose limit on tasks per job is lower) is reported
as such for that size, not measured.
"""
import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def random_dag(n, seed=42):
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        k = rng.randint(0, min(3, i))
        parents = sorted(rng.sample(range(i), k)) if k else []
        tasks.append((f"t{i}", [f"t{p}" for p in parents]))
    return tasks


def write_job(directory, n):
    os.makedirs(directory, exist_ok=True)
    tasks = random_dag(n)
    lines = [f"id: growth_{n}", "tasks:"]
    for task_id, parents in tasks:
        lines.append(f'  - id: "{task_id}"')
        lines.append("    type: noop")
        if parents:
            lines.append("    depends_on: [" + ", ".join(f'"{p}"' for p in parents) + "]")
    path = os.path.join(directory, "job.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return sum(len(p) for _, p in tasks), os.path.getsize(path)


def run(petit, directory):
    """Wall seconds, peak RSS in KiB and the exit code of `petit validate DIRECTORY`. The RSS is
    /usr/bin/time's: a child of this Python process would count the interpreter's pages (a forked
    one until its exec, a spawned one through the address space it borrowed)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        argv = ["/usr/bin/time", "-f", "%M", "-o", out.name, petit, "validate", directory]
        actions = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status, _ = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        values = [w for w in out.read().split() if w.isdigit()]
    return wall, int(values[-1]) if values else 0, os.waitstatus_to_exitcode(status)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--petit", default=os.path.join(HERE, "..", "build", "release", "bin",
                                                        "petit"))
    parser.add_argument("--before", help="another petit binary, measured alternately")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    binaries = [("after", os.path.abspath(args.petit))]
    if args.before:
        binaries.insert(0, ("before", os.path.abspath(args.before)))
    sizes = [1] + [int(s) for s in args.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="petit-load-growth-")
    try:
        shapes = {}
        for n in sizes:
            directory = os.path.join(work, str(n))
            edges, size = write_job(directory, n)
            shapes[n] = (directory, edges, size)
        samples = {(name, n): [] for name, _ in binaries for n in sizes}
        refused = set()
        for _ in range(args.rounds):
            for n in sizes:
                for name, petit in binaries:
                    if (name, n) in refused:
                        continue
                    wall, rss, code = run(petit, shapes[n][0])
                    if code != 0:
                        refused.add((name, n))
                        continue
                    samples[(name, n)].append((wall, rss))
        print(f"load average {os.getloadavg()[0]:.2f}; medians of {args.rounds} rounds; "
              "`petit validate DIR` of one job")
        print("| binary | tasks | edges | file KB | wall ms | peak RSS MiB | RSS above the 1-task "
              "floor MiB | wall above the floor, µs per task + edge |")
        print("|---|---|---|---|---|---|---|---|")
        for name, _ in binaries:
            floor = samples[(name, 1)]
            floor_wall = statistics.median(w for w, _ in floor) if floor else 0.0
            floor_rss = statistics.median(r for _, r in floor) if floor else 0
            for n in sizes:
                directory, edges, size = shapes[n]
                if (name, n) in refused or not samples[(name, n)]:
                    print(f"| {name} | {n:,} | {edges:,} | {size / 1000:,.0f} | refused | | | |")
                    continue
                wall = statistics.median(w for w, _ in samples[(name, n)])
                rss = statistics.median(r for _, r in samples[(name, n)])
                per = (wall - floor_wall) * 1e6 / (n + edges) if n > 1 else 0.0
                print(f"| {name} | {n:,} | {edges:,} | {size / 1000:,.0f} | {wall * 1e3:,.1f} | "
                      f"{rss / 1024:.1f} | {(rss - floor_rss) / 1024:.1f} | "
                      f"{per:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
