#!/usr/bin/env python3
"""Task-state writes: Petit's StateStore::SaveAttempts against the SQLite and PostgreSQL floors.

    python3 bench/run_state_bench.py            # 3 rounds (about 3 minutes on 2 idle cores)
    python3 bench/run_state_bench.py --quick    # 1 round, smaller runs

The floors are ../shared/bench/sqlite_states.c and pg_states.c, compiled here (cc -O2) into a
scratch directory: per task one INSERT and two UPDATEs, prepared statements, one connection.
Petit is petit_state_bench from an existing release build (--state-bench): SaveAttempts of the
same three transitions per task (queued, running, succeeded), one call per batch, one transaction
per call. Rows/s = row writes per second on both sides.

Pairs compared, batch = row writes per transaction:
  SQLite      batch 1: floor autocommit (-b 0);  batch 10/100/1000: floor -b N  (WAL, NORMAL)
  PostgreSQL  batch 1: floor autocommit (-b 0);  batch 10/100/1000: floor -b N (one round trip
              per statement) and floor -b N -p (libpq pipeline mode: one round trip per batch)
The targets (DESIGN.md §8): petit >= 50% of the batched SQLite floor, and of the pipelined
PostgreSQL floor.

Every round runs every pair, the floor first, then Petit; ratios are taken round by round and
their median is quoted. SQLite files live in the scratch directory. PostgreSQL is a throwaway
server started with scripts/pg_test_server.sh (unix socket, fsync=off, synchronous_commit=off:
the same server for floor and Petit, so the ratio is fair, but absolute figures are above those
of a durable server), stopped at the end; --postgres CONNINFO uses a running server instead and
--no-postgres skips it. Uses the Python standard library only.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SHARED = os.path.join(os.path.dirname(REPO), "shared", "bench")
DEFAULT_STATE_BENCH = os.path.join(REPO, "build", "release", "bin", "petit_state_bench")
PG_SERVER = os.path.join(REPO, "scripts", "pg_test_server.sh")
BATCHES = [1, 10, 100, 1000]


def log(message):
    print(message, file=sys.stderr, flush=True)


def compile_floors(shared, bindir):
    os.makedirs(bindir, exist_ok=True)
    include = "/usr/include/postgresql"
    if shutil.which("pg_config"):
        include = subprocess.run(["pg_config", "--includedir"], capture_output=True, text=True,
                                 check=True).stdout.strip()
    subprocess.run(["cc", "-O2", "-o", os.path.join(bindir, "sqlite_states"),
                    os.path.join(shared, "sqlite_states.c"), "-lsqlite3"], check=True)
    subprocess.run(["cc", "-O2", "-I" + include, "-o", os.path.join(bindir, "pg_states"),
                    os.path.join(shared, "pg_states.c"), "-lpq"], check=True)


def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


def run_floor(argv):
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    for line in out.stdout.splitlines():
        if line.startswith("RESULT"):
            return float(kv(line)["rows_per_s"])
    raise SystemExit(f"{' '.join(argv)} printed no RESULT line")


def run_petit(args, backend, batch, workdir, pg_uri):
    argv = [args.state_bench, f"--benchmark_filter=^BM_SaveAttempts/{backend}/batch:{batch}/",
            f"--benchmark_min_time={args.min_time}", "--benchmark_format=json",
            "--sqlite-dir=" + os.path.join(workdir, "db")]
    if pg_uri:
        argv.append("--postgres=" + pg_uri)
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    report = json.loads(out.stdout)
    runs = [b for b in report["benchmarks"] if b.get("run_type") == "iteration"]
    if len(runs) != 1:
        raise SystemExit(f"{' '.join(argv)}: expected one benchmark, got {len(runs)}")
    bench = runs[0]
    if bench.get("error_occurred"):
        raise SystemExit(f"{bench['name']}: {bench.get('error_message')}")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[bench["time_unit"]]
    return batch / (bench["real_time"] * scale)


def pairs(args, pg_conninfo):
    """(backend, batch, [(floor label, floor argv)]) for every comparison."""
    q = 0.2 if args.quick else 1.0
    db = os.path.join(args.workdir_path, "db", "floor.db")
    sq = os.path.join(args.bindir, "sqlite_states")
    pg = os.path.join(args.bindir, "pg_states")
    out = []
    for batch in BATCHES:
        if batch == 1:
            floors = [("autocommit", [sq, "-n", str(int(20000 * q)), "-b", "0", db])]
        else:
            floors = [(f"-b {batch}", [sq, "-n", str(int(100000 * q)), "-b", str(batch), db])]
        out.append(("sqlite", batch, floors))
    if pg_conninfo:
        for batch in BATCHES:
            if batch == 1:
                floors = [("autocommit", [pg, "-n", str(int(3000 * q)), "-b", "0", pg_conninfo])]
            else:
                floors = [(f"-b {batch}", [pg, "-n", str(int(5000 * q)), "-b", str(batch),
                                           pg_conninfo]),
                          (f"-b {batch} -p", [pg, "-n", str(int(50000 * q)), "-b", str(batch),
                                              "-p", pg_conninfo])]
            out.append(("postgresql", batch, floors))
    return out


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=DEFAULT_SHARED, help="the floors (default: %(default)s)")
    ap.add_argument("--state-bench", default=DEFAULT_STATE_BENCH,
                    help="petit_state_bench of a release build (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 round, a fifth of the rows")
    ap.add_argument("--min-time", type=float, default=0.5,
                    help="petit_state_bench --benchmark_min_time per measurement, seconds")
    ap.add_argument("--postgres", help="libpq conninfo of a running server to use instead of "
                    "starting one")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--json", help="write every sample here")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    if args.quick:
        args.rounds = 1
        args.min_time = min(args.min_time, 0.2)
    if not os.access(args.state_bench, os.X_OK):
        ap.error(f"{args.state_bench} not found: build the petit_state_bench target of a release "
                 "build, or --state-bench PATH")

    # Under /tmp and world-traversable: the PostgreSQL server runs as `postgres` and keeps its
    # socket in here, whose path must stay short.
    workdir = tempfile.mkdtemp(prefix="petit-state-", dir="/tmp")
    os.chmod(workdir, 0o755)
    args.workdir_path = workdir
    args.bindir = os.path.join(workdir, "bin")
    os.makedirs(os.path.join(workdir, "db"))
    pg_dir = os.path.join(workdir, "pg")
    started_pg = False
    samples = {}
    try:
        compile_floors(os.path.abspath(args.shared), args.bindir)
        pg_uri = None
        if args.postgres:
            pg_uri = "postgresql:" + args.postgres
        elif not args.no_postgres:
            started_pg = True
            pg_uri = subprocess.run(["sh", PG_SERVER, "start", pg_dir], capture_output=True,
                                    text=True, check=True).stdout.strip()
        pg_conninfo = pg_uri[len("postgresql:"):] if pg_uri else None
        comparisons = pairs(args, pg_conninfo)
        one, five, fifteen = os.getloadavg()
        log(f"{args.rounds} round(s); load average {one:.2f} {five:.2f} {fifteen:.2f}")
        for r in range(args.rounds):
            for backend, batch, floors in comparisons:
                for label, argv in floors:
                    samples.setdefault((backend, batch, label), []).append(run_floor(argv))
                samples.setdefault((backend, batch, "petit"), []).append(
                    run_petit(args, backend, batch, workdir, pg_uri))
            log(f"round {r + 1}/{args.rounds} done")

        print(f"### Task-state rows/s: medians of {args.rounds} round(s), petit / floor ratios "
              "are medians of per-round ratios\n")
        if pg_uri and not args.postgres:
            print("PostgreSQL: throwaway server from scripts/pg_test_server.sh (unix socket, "
                  "fsync=off, synchronous_commit=off).\n")
        print("| backend | batch | floor | floor rows/s | petit rows/s | petit / floor |")
        print("|---|---|---|---|---|---|")
        for backend, batch, floors in comparisons:
            petit = samples[(backend, batch, "petit")]
            for label, _ in floors:
                floor = samples[(backend, batch, label)]
                ratios = [p / f for p, f in zip(petit, floor)]
                print(f"| {backend} | {batch} | {label} | {median(floor):,.0f} "
                      f"| {median(petit):,.0f} | {median(ratios):.2f} |")
        print()
        one, five, fifteen = os.getloadavg()
        print(f"load average after: {one:.2f} {five:.2f} {fifteen:.2f}\n")
    finally:
        if started_pg:
            subprocess.run(["sh", PG_SERVER, "stop", pg_dir], check=False)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({f"{b} {n} {l}": v for (b, n, l), v in samples.items()}, f, indent=1)
        if args.keep:
            log(f"scratch kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
