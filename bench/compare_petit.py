#!/usr/bin/env python3
"""Two petit binaries side by side on the same job directories, interleaved, so that the drift of
a shared machine hits both alike: median wall and CPU (user+sys) per task of `petit trigger DIR
bench --storage memory: --max-parallel 2`, and the difference in microseconds per task.

    python3 bench/run_bench.py --quick --storage memory --tools petit-memory --no-rss \\
        --keep --workdir /tmp/petit-shapes           # writes the five job directories
    python3 bench/compare_petit.py --base OLD/bin/petit --now build/release/bin/petit \\
        --workdir /tmp/petit-shapes

Uses the Python standard library only.
"""
import argparse
import glob
import os
import resource
import subprocess
import time


def measure(petit, job_dir, tasks, reps):
    walls, cpus = [], []
    for _ in range(reps):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run([petit, "trigger", job_dir, "bench", "--storage", "memory:", "--quiet",
                        "--max-parallel", "2"], stdout=subprocess.DEVNULL, check=True)
        t1 = time.monotonic()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(t1 - t0)
        cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    walls.sort()
    cpus.sort()
    return walls[len(walls) // 2] / tasks * 1e3, cpus[len(cpus) // 2] / tasks * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--now", required=True)
    ap.add_argument("--workdir", required=True, help="a run_bench.py --keep scratch directory")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    for job_dir in sorted(glob.glob(os.path.join(args.workdir, "w", "*", "petit"))):
        shape = os.path.basename(os.path.dirname(job_dir))
        with open(os.path.join(job_dir, "bench.yaml")) as f:
            tasks = sum(1 for line in f if line.startswith("  - id:"))
        base, now = (0.0, 0.0), (0.0, 0.0)
        bw, bc, nw, nc = [], [], [], []
        for _ in range(args.reps):  # interleaved, one run each at a time
            w, c = measure(args.base, job_dir, tasks, 1)
            bw.append(w); bc.append(c)
            w, c = measure(args.now, job_dir, tasks, 1)
            nw.append(w); nc.append(c)
        med = lambda xs: sorted(xs)[len(xs) // 2]
        print("%-16s base %.3f ms/task wall %.3f cpu | now %.3f wall %.3f cpu | now - base: %+.0f us "
              "wall, %+.0f us cpu per task" % (shape, med(bw), med(bc), med(nw), med(nc),
                                               (med(nw) - med(bw)) * 1e3, (med(nc) - med(bc)) * 1e3))


if __name__ == "__main__":
    main()
