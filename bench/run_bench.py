#!/usr/bin/env python3
"""End-to-end benchmark: Petit against ninja, GNU make and the spawn floor, in one run.

    python3 bench/run_bench.py              # command-task DAGs (about 6 minutes on 2 idle cores)
    python3 bench/run_bench.py --quick      # the same with 2 rounds
    python3 bench/run_bench.py --inproc     # in-process no-op plugin tasks vs the in-process floor
    python3 bench/run_bench.py --all        # both sections

Command section. The five standard workloads of ../shared/bench/gen_workloads.py (flat 1000,
chain 200, fan-out 1000, layered 10x100, random 2000; every task runs /bin/true) are generated
into a scratch directory, and each dag.json is converted into a Petit job directory (one job,
every task `type: command`, `command: /bin/true`). Every round runs, for every shape and in this
order: the spawn floor (spawn_limit: posix_spawn of the same number of /bin/true, two at a time,
one at a time for the chain), `ninja -j2`, `make -j2`, and `petit trigger --max-parallel 2
--quiet` once for each state store of --storage (default all three: `memory:`,
`sqlite:///...`, `postgresql:...`). An untimed warm-up run of every tool on the first shape comes
first. Times are whole-process wall times (posix_spawn .. wait4, output to /dev/null); ratios are
taken round by round, against the floor run of the same round, and their median is quoted, so
slow drift of a shared machine cancels out. Beside the ratios, every tool's overhead per task
above the floor, in microseconds (wall and CPU; the median over rounds of (tool - floor of the
same round) / tasks), and issue 14's targets for Petit's (memory: at most make's, SQLite at most
ninja's, PostgreSQL at most 1.5 times ninja's). Ctrl-C during a round reports the rounds
finished before it.

--baseline PETIT runs a second petit binary (the one before a change) with every store in the
same rounds, next to --petit's, the two taking turns at going first; it keeps its own SQLite file
and PostgreSQL database.

SQLite state: ONE database file serves the whole invocation (every shape, every round), created
by the warm-up and growing as runs accumulate, as a host's petit.db does in real use.
--fresh-db deletes it (untimed) before every SQLite run instead.

PostgreSQL state: a throwaway server started with ../scripts/pg_test_server.sh (a unix socket in a
scratch directory under /tmp; fsync=off and synchronous_commit=off, so commits are as durable as
the server process, not as the disk), stopped at the end; --postgres CONNINFO uses a running server
instead. Like the SQLite file, ONE database (petit_bench, dropped at the end) serves the whole
invocation; --fresh-db drops and re-creates it (untimed, with psql) before every PostgreSQL run.

Peak RSS: the kernel's ru_maxrss of a child spawned directly by this Python process includes
Python's own high-water mark (posix_spawn shares the address space until exec, and exec keeps
the old maximum). So peak RSS is read from wait4's ru_maxrss in separate, untimed runs under
/usr/bin/time (about 2 MiB of its own), one per shape and storage.

In-process section. Runs the Google Benchmark binary petit_inproc_bench (ExecuteRun of no-op
builtin plugin tasks through the whole plugin ABI path, memory store, max_parallel 2) and the
floor ../shared/bench/inproc_limit.cpp on the same graphs, and prints ns per task side by side.
--isolation process instead runs 1,000 flat no-op tasks both in process and under `process`
isolation (a `petit __plugin-worker` child per attempt) and prints what that isolation costs per
task; --isolation both does the two.

Nothing but the floors is compiled here (gcc/g++ -O2 into the scratch directory); Petit comes
from an existing release build (--petit, --inproc-bench). Uses the Python standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SHARED = os.path.join(os.path.dirname(REPO), "shared", "bench")
DEFAULT_PETIT = os.path.join(REPO, "build", "release", "bin", "petit")
DEFAULT_INPROC_BENCH = os.path.join(REPO, "build", "release", "bin", "petit_inproc_bench")

# (directory name written by gen_workloads.py --standard, label, floor parallelism)
SHAPES = [
    ("flat_1000", "flat 1000", 2),
    ("chain_200", "chain 200", 1),  # a chain cannot overlap: its floor spawns one at a time
    ("fanout_1000", "fan-out 1000", 2),
    ("layered_10x100", "layered 10x100", 2),
    ("random_2000", "random 2000", 2),
]
TOOLS = ["floor", "ninja", "make", "petit-memory", "petit-sqlite", "petit-postgresql"]
PETIT_TOOLS = ["petit-memory", "petit-sqlite", "petit-postgresql"]
# --baseline's binary, run beside --petit's with each store (interleaved, see CommandBench.round).
BASE_TOOLS = ["base-memory", "base-sqlite", "base-postgresql"]
STORAGES = ["memory", "sqlite", "postgresql"]
TOOL_LABELS = {
    "floor": "spawn floor",
    "ninja": "ninja -j2",
    "make": "make -j2",
    "petit-memory": "petit (memory:)",
    "petit-sqlite": "petit (sqlite)",
    "petit-postgresql": "petit (postgresql)",
    "base-memory": "baseline (memory:)",
    "base-sqlite": "baseline (sqlite)",
    "base-postgresql": "baseline (postgresql)",
}
# The targets for Petit's overhead per task above the floor (wall, medians): with each
# store, at most this factor times this tool's overhead.
OVERHEAD_TARGETS = {"memory": ("make", 1.0), "sqlite": ("ninja", 1.0),
                    "postgresql": ("ninja", 1.5)}
PG_SERVER = os.path.join(REPO, "scripts", "pg_test_server.sh")
PG_SERVER_BIN = os.path.join(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"), "postgres")
PG_DATABASE = "petit_bench"
JOB_ID = "bench"
PARALLEL = 2

# The graphs petit_inproc_bench and inproc_limit both run (inproc_limit's own names).
INPROC_GRAPHS = [("flat", "1000"), ("flat", "10000"), ("flat", "100000"),
                 ("layered", "100x1000")]


def is_petit(tool):
    return tool in PETIT_TOOLS or tool in BASE_TOOLS


def storage_of(tool):
    return tool.split("-", 1)[1]


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- set-up


def compile_floors(shared, bindir):
    os.makedirs(bindir, exist_ok=True)
    builds = [
        (["gcc", "-O2", "-o", os.path.join(bindir, "spawn_limit"),
          os.path.join(shared, "spawn_limit.c")]),
        (["g++", "-O2", "-std=c++17", "-pthread", "-o", os.path.join(bindir, "inproc_limit"),
          os.path.join(shared, "inproc_limit.cpp")]),
    ]
    for argv in builds:
        subprocess.run(argv, check=True)


def resolve_program(argv0):
    """The absolute path of a dag.json command, as the floor runs it (/bin/true for `true`)."""
    if os.sep in argv0:
        return argv0
    for directory in ("/bin", "/usr/bin"):
        candidate = os.path.join(directory, argv0)
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(argv0)
    if found is None:
        raise SystemExit(f"command not found: {argv0}")
    return found


def yaml_string(text):
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text)


def write_petit_job(dag_json, job_dir):
    """Converts gen_workloads.py's neutral dag.json into a Petit job directory with one job."""
    with open(dag_json) as f:
        dag = json.load(f)
    os.makedirs(job_dir, exist_ok=True)
    lines = [f"id: {JOB_ID}", f"name: {yaml_string(dag['shape'] + ' ' + str(dag['size']))}",
             "tasks:"]
    for task in dag["tasks"]:
        argv = task["command"]
        lines.append(f"  - id: {yaml_string(task['id'])}")
        lines.append("    type: command")
        lines.append(f"    command: {yaml_string(resolve_program(argv[0]))}")
        if len(argv) > 1:
            lines.append(f"    args: [{', '.join(yaml_string(a) for a in argv[1:])}]")
        if task["depends_on"]:
            lines.append(f"    depends_on: [{', '.join(yaml_string(d) for d in task['depends_on'])}]")
    with open(os.path.join(job_dir, f"{JOB_ID}.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return dag["n_tasks"], dag["n_edges"]


def generate(shared, workdir, only):
    subprocess.run([sys.executable, os.path.join(shared, "gen_workloads.py"), "--standard", workdir],
                   check=True, stdout=subprocess.DEVNULL)
    shapes = []
    for name, label, parallel in SHAPES:
        if only and not any(o in name for o in only):
            continue
        shape_dir = os.path.join(workdir, name)
        tasks, edges = write_petit_job(os.path.join(shape_dir, "dag.json"),
                                       os.path.join(shape_dir, "petit"))
        shapes.append(dict(name=name, label=label, dir=shape_dir, parallel=parallel, tasks=tasks,
                           edges=edges))
    return shapes


# ---------------------------------------------------------------- running


def run_once(argv, cwd):
    """Whole-process wall time of one run; stdin/stdout/stderr are /dev/null."""
    path = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    if path is None:
        raise SystemExit(f"not found: {argv[0]}")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    old = os.getcwd()
    os.chdir(cwd)
    try:
        start = time.perf_counter_ns()
        pid = os.posix_spawn(path, argv, os.environ, file_actions=actions)
        try:
            _, status, usage = os.wait4(pid, 0)
        except KeyboardInterrupt:
            # Let the run end rather than leave it competing with whatever comes next.
            os.waitpid(pid, 0)
            raise
        end = time.perf_counter_ns()
    finally:
        os.chdir(old)
    return dict(wall=(end - start) / 1e9, cpu=usage.ru_utime + usage.ru_stime,
                exit=os.waitstatus_to_exitcode(status))


def peak_rss_mib(argv, cwd):
    """ru_maxrss of `argv` as reported by /usr/bin/time's wait4, in MiB; None without it."""
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        result = run_once(["/usr/bin/time", "-f", "%M", "-o", out.name] + list(argv), cwd)
        values = [w for w in out.read().split() if w.isdigit()]
    if result["exit"] != 0 or not values:
        return None
    return int(values[-1]) / 1024.0


class PostgresServer:
    """The database PG_DATABASE on a throwaway server (scripts/pg_test_server.sh) or on the
    running one named by a libpq conninfo."""

    def __init__(self, conninfo=None, databases=(PG_DATABASE,)):
        self.dir = None
        self.databases = list(databases)
        if conninfo is None:
            # Under /tmp and reachable by the `postgres` user the server runs as; the socket
            # lives here, so the path must stay short.
            self.dir = tempfile.mkdtemp(prefix="petit-bench-pg-", dir="/tmp")
            os.chmod(self.dir, 0o755)
            uri = subprocess.run(["sh", PG_SERVER, "start", os.path.join(self.dir, "pg")],
                                 capture_output=True, text=True, check=True).stdout.strip()
            conninfo = uri[len("postgresql:"):]
        self.admin = conninfo
        try:
            for database in self.databases:
                self.recreate(database)
        except BaseException:
            self.close()
            raise

    def psql(self, *sql):
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.admin,
                "-c", "SET client_min_messages = warning"]
        for statement in sql:
            argv += ["-c", statement]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    def uri(self, database=PG_DATABASE):
        # A later dbname wins over an earlier one in a libpq conninfo.
        return f"postgresql:{self.admin} dbname={database}"

    def recreate(self, database=PG_DATABASE):
        # Separate -c: DROP/CREATE DATABASE cannot run inside one multi-statement transaction.
        self.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                  f"CREATE DATABASE {database}")

    def close(self):
        if self.dir is None:
            for database in self.databases:
                self.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            return
        subprocess.run(["sh", PG_SERVER, "stop", os.path.join(self.dir, "pg")], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def describe(self):
        names = " and ".join(self.databases)
        if self.dir is None:
            return f"database {names} on {self.admin}"
        return (f"database {names} on a throwaway server (scripts/pg_test_server.sh: unix "
                "socket, fsync=off, synchronous_commit=off)")


class CommandBench:
    def __init__(self, args, bindir, workdir, postgres):
        self.args = args
        self.spawn_limit = os.path.join(bindir, "spawn_limit")
        self.db = os.path.join(workdir, "state", "petit.db")
        # The baseline keeps its own state: its schema may be older.
        self.base_db = os.path.join(workdir, "state", "baseline.db")
        self.postgres = postgres
        os.makedirs(os.path.dirname(self.db), exist_ok=True)

    def argv(self, tool, shape):
        binary = self.args.baseline if tool in BASE_TOOLS else self.args.petit
        petit = [binary, "trigger", os.path.join(shape["dir"], "petit"), JOB_ID,
                 "--max-parallel", str(PARALLEL), "--quiet"]
        if tool == "floor":
            return [self.spawn_limit, "-n", str(shape["tasks"]), "-j", str(shape["parallel"]),
                    "-r", "1"]
        if tool == "ninja":
            return ["ninja", "-j2", "--quiet", "-f", "build.ninja"]
        if tool == "make":
            return ["make", "-s", "-j2", "-f", "Makefile"]
        if tool in ("petit-memory", "base-memory"):
            return petit + ["--storage", "memory:"]
        if tool in ("petit-sqlite", "base-sqlite"):
            return petit + ["--storage", "sqlite://" + self.sqlite_file(tool)]
        if tool in ("petit-postgresql", "base-postgresql"):
            return petit + ["--storage", self.postgres.uri(self.pg_database(tool))]
        raise ValueError(tool)

    def sqlite_file(self, tool):
        return self.base_db if tool in BASE_TOOLS else self.db

    @staticmethod
    def pg_database(tool):
        return PG_DATABASE + "_base" if tool in BASE_TOOLS else PG_DATABASE

    def prepare(self, tool, shape):
        """Untimed: reset the tool's state, then flush dirty pages so the previous run's
        write-back does not land inside this one."""
        if tool == "ninja":
            for name in (".ninja_log", ".ninja_deps"):
                try:
                    os.unlink(os.path.join(shape["dir"], name))
                except FileNotFoundError:
                    pass
        if is_petit(tool) and storage_of(tool) == "sqlite" and self.args.fresh_db:
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(self.sqlite_file(tool) + suffix)
                except FileNotFoundError:
                    pass
        if is_petit(tool) and storage_of(tool) == "postgresql" and self.args.fresh_db:
            self.postgres.recreate(self.pg_database(tool))
        os.sync()

    def order(self, round_number):
        """The tools in the order of this round: the baseline and --petit's binary take turns at
        going first, so that drift within a round favours neither."""
        tools = list(self.tools)
        if round_number % 2 == 1:
            for i in range(len(tools) - 1):
                if tools[i] in BASE_TOOLS and tools[i + 1] in PETIT_TOOLS:
                    tools[i], tools[i + 1] = tools[i + 1], tools[i]
        return tools

    def round(self, shapes, samples, timed, round_number=0):
        for shape in shapes:
            for tool in self.order(round_number):
                self.prepare(tool, shape)
                sample = run_once(self.argv(tool, shape), shape["dir"])
                if sample["exit"] != 0:
                    log(f"  {shape['name']} {tool}: exit {sample['exit']}")
                if timed:
                    samples[(shape["name"], tool)].append(sample)

    def run(self, shapes):
        self.tools = []
        for t in TOOLS:
            if t not in self.args.tools:
                continue
            if t in PETIT_TOOLS:
                if storage_of(t) not in self.args.storage:
                    continue
                if self.args.baseline:
                    self.tools.append("base-" + storage_of(t))
            self.tools.append(t)
        samples = {(s["name"], t): [] for s in shapes for t in self.tools}
        log(f"warm-up (untimed), then {self.args.rounds} rounds; Ctrl-C reports the rounds "
            "finished so far")
        # One shape is enough to bring every binary, library and the SQLite file into the cache.
        self.round(shapes[:1], samples, timed=False)
        self.rounds_done = 0
        for r in range(self.args.rounds):
            began = time.monotonic()
            round_samples = {key: [] for key in samples}
            try:
                self.round(shapes, round_samples, timed=True, round_number=r)
            except KeyboardInterrupt:
                log(f"interrupted: reporting {self.rounds_done} complete rounds")
                break
            for key, values in round_samples.items():
                samples[key].extend(values)
            self.rounds_done += 1
            log(f"round {r + 1}/{self.args.rounds} done in {time.monotonic() - began:.0f} s")
        rss = {}
        if not self.args.no_rss and self.rounds_done == self.args.rounds:
            for shape in shapes:
                for tool in self.tools:
                    if is_petit(tool):
                        self.prepare(tool, shape)
                        rss[(shape["name"], tool)] = peak_rss_mib(self.argv(tool, shape),
                                                                  shape["dir"])
        return samples, rss


# ---------------------------------------------------------------- reporting


def median(values):
    return statistics.median(values) if values else float("nan")


def machine_note():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}")


def load_average():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "missing"
    return out.splitlines()[0].strip() if out else "?"


def ratio_stats(samples, shape, tool, base, key="wall"):
    a = samples.get((shape, tool), [])
    b = samples.get((shape, base), [])
    ratios = [x[key] / y[key] for x, y in zip(a, b) if y[key] > 0]
    return median(ratios), (min(ratios) if ratios else float("nan")), (
        max(ratios) if ratios else float("nan"))


def overhead_us(samples, shape, tool, key="wall"):
    """Median over rounds of (tool - spawn floor of the same round) per task, in microseconds:
    what the tool spends per task beyond starting and waiting for the process."""
    a = samples.get((shape["name"], tool), [])
    b = samples.get((shape["name"], "floor"), [])
    return median([(x[key] - y[key]) / shape["tasks"] * 1e6 for x, y in zip(a, b)])


def print_overhead_tables(shapes, samples, tools):
    others = [t for t in tools if t != "floor"]
    print("### Overhead per task above the spawn floor (us/task): wall, CPU\n")
    print("Median over rounds of (tool - spawn floor of the same round) / tasks; CPU is user+sys "
          "of the process tree (the floor's includes its /bin/true children, as every tool's "
          "does).\n")
    header = ["shape"] + [TOOL_LABELS[t] for t in others]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for shape in shapes:
        cells = [shape["label"]]
        for t in others:
            cells.append(f"{overhead_us(samples, shape, t):.0f}, "
                         f"{overhead_us(samples, shape, t, key='cpu'):.0f}")
        print("| " + " | ".join(cells) + " |")
    print()

    checks = []
    for t in others:
        if t not in PETIT_TOOLS:
            continue
        base, factor = OVERHEAD_TARGETS[storage_of(t)]
        if base in tools:
            checks.append((t, base, factor))
    if not checks:
        return
    print("### Targets: Petit's wall overhead per task against make's and ninja's (issue 14)\n")
    header = ["shape"] + [f"{TOOL_LABELS[t]} <= {'' if f == 1 else f'{f:g} x '}{b}"
                          for t, b, f in checks]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for shape in shapes:
        cells = [shape["label"]]
        for t, b, f in checks:
            mine = overhead_us(samples, shape, t)
            limit = f * overhead_us(samples, shape, b)
            cells.append(f"{mine:.0f} vs {limit:.0f}: {'PASS' if mine <= limit else 'MISS'}")
        print("| " + " | ".join(cells) + " |")
    print()


def print_command_tables(shapes, samples, rss, tools, rounds):
    def per_task_ms(shape, tool):
        walls = [s["wall"] for s in samples.get((shape["name"], tool), [])]
        return median(walls) / shape["tasks"] * 1e3

    def cpu_ms(shape, tool):
        cpus = [s["cpu"] for s in samples.get((shape["name"], tool), [])]
        return median(cpus) / shape["tasks"] * 1e3

    print(f"### Command tasks: median wall time per task (ms/task), {rounds} "
          f"round{'s' if rounds != 1 else ''}\n")
    if "floor" in tools:
        print("In brackets: median over rounds of the ratio to the spawn floor of the same round.\n")
    header = ["shape (tasks, edges)"] + [TOOL_LABELS[t] for t in tools]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for shape in shapes:
        cells = [f"{shape['label']} ({shape['tasks']}, {shape['edges']})"]
        for tool in tools:
            cell = f"{per_task_ms(shape, tool):.3f}"
            if tool != "floor" and "floor" in tools:
                cell += f" ({ratio_stats(samples, shape['name'], tool, 'floor')[0]:.2f}x)"
            elif tool == "floor" and shape["parallel"] == 1:
                cell += " (one at a time)"
            cells.append(cell)
        print("| " + " | ".join(cells) + " |")
    print()

    petits = [t for t in tools if is_petit(t)]
    bases = [b for b in ("floor", "ninja", "make") if b in tools]
    if petits and bases:
        print("### Petit's ratios: median of per-round ratios (min-max), and peak RSS\n")
        header = (["shape", "petit"] + [f"petit / {b}" for b in bases] +
                  (["CPU petit / floor"] if "floor" in bases else []) + ["peak RSS MiB"])
        print("| " + " | ".join(header) + " |")
        print("|---" * len(header) + "|")
        for shape in shapes:
            for p in petits:
                cells = [shape["label"], TOOL_LABELS[p]]
                for b in bases:
                    md, lo, hi = ratio_stats(samples, shape["name"], p, b)
                    cells.append(f"{md:.2f}x ({lo:.2f}-{hi:.2f})")
                if "floor" in bases:
                    md, lo, hi = ratio_stats(samples, shape["name"], p, "floor", key="cpu")
                    cells.append(f"{md:.2f}x ({lo:.2f}-{hi:.2f})")
                peak = rss.get((shape["name"], p))
                cells.append("-" if peak is None else f"{peak:.1f}")
                print("| " + " | ".join(cells) + " |")
        print()

    if "floor" in tools:
        print_overhead_tables(shapes, samples, tools)

    print("### CPU per task (user+sys of the whole process tree, ms/task, median)\n")
    print("When other work competes for the CPUs, wall times measure scheduling shares as much as "
          "the tools (a multi-threaded process gets more of a loaded machine than a "
          "single-threaded one); CPU time stays comparable.\n")
    if "petit-postgresql" in tools:
        print("petit (postgresql) leaves out the PostgreSQL server's own CPU time (its processes "
              "are not petit's children).\n")
    header = ["shape"] + [TOOL_LABELS[t] for t in tools]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for shape in shapes:
        print("| " + " | ".join([shape["label"]] + [f"{cpu_ms(shape, t):.3f}" for t in tools])
              + " |")
    print()

    bad = sorted({f"{k[0]} {k[1]}" for k, v in samples.items() if any(s["exit"] != 0 for s in v)})
    if bad:
        print("**Non-zero exits:** " + ", ".join(bad) + "\n")


# ---------------------------------------------------------------- in-process section


def kv(line):
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))


def run_inproc_bench(args, pattern):
    if not os.access(args.inproc_bench, os.X_OK):
        raise SystemExit(f"{args.inproc_bench} not found: build it with "
                         "`cmake --build --preset release --target petit_inproc_bench`")
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        subprocess.run([args.inproc_bench, f"--benchmark_out={out.name}",
                        "--benchmark_out_format=json", f"--benchmark_filter={pattern}",
                        f"--benchmark_repetitions={args.inproc_reps}",
                        "--benchmark_report_aggregates_only=true"],
                       check=True, stdout=subprocess.DEVNULL)
        return json.load(out)


def run_isolation(args):
    """The cost per task of `process` isolation: 1,000 flat no-op tasks both ways."""
    report = run_inproc_bench(args, "^BM_ExecuteRunFlat(Process)?/1000/")
    per_task_us = {}
    for bench in report["benchmarks"]:
        if bench.get("aggregate_name") != "median":
            continue
        mode = "process" if "Process" in bench["run_name"] else "in_process"
        per_task_us[mode] = bench["per_task"] * 1e6
    nan = float("nan")
    inproc = per_task_us.get("in_process", nan)
    process = per_task_us.get("process", nan)
    print(f"### Plugin isolation, 1,000 flat no-op tasks, {PARALLEL} at a time: us per task "
          "(medians)\n")
    print("| isolation | us per task | cost of isolation per task |")
    print("|---|---|---|")
    print(f"| in_process | {inproc:,.3f} | |")
    print(f"| process (a worker child per attempt) | {process:,.1f} | {process - inproc:,.1f} |")
    print()
    return dict(per_task_us=per_task_us)


def run_inproc(args, bindir):
    floor = os.path.join(bindir, "inproc_limit")
    floor_ns = {}
    floor_meta = {}
    for graph, size in INPROC_GRAPHS:
        out = subprocess.run([floor, graph, size, "--threads", str(PARALLEL), "--reps",
                              str(args.inproc_reps)], capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            if line.startswith("RESULT"):
                d = kv(line)
                floor_ns[(graph, size, d["sched"])] = float(d["ns_per_task"])
                floor_meta[(graph, size)] = (int(d["tasks"]), int(d["edges"]))

    report = run_inproc_bench(args, "^BM_ExecuteRun(Flat|Layered)/")
    petit_ns = {}
    petit_meta = {}
    for bench in report["benchmarks"]:
        if bench.get("aggregate_name") != "median":
            continue
        # BM_ExecuteRunFlat/100000/manual_time, BM_ExecuteRunLayered/100/1000/manual_time
        parts = bench["run_name"].split("/")
        graph = parts[0].replace("BM_ExecuteRun", "").lower()
        size = "x".join(p for p in parts[1:] if p.isdigit())
        petit_ns[(graph, size)] = bench["per_task"] * 1e9
        petit_meta[(graph, size)] = (int(bench["tasks"]), int(bench["edges"]))

    print(f"### In-process no-op plugin tasks, {PARALLEL} threads: ns per task (medians)\n")
    print("petit = ExecuteRun of builtin `noop` tasks through the plugin ABI (memory store); "
          "floors = inproc_limit.cpp (serial: one thread, no synchronisation; mutex: one "
          "mutex+condvar queue; ws: work stealing).\n")
    print("| graph (tasks, edges) | petit ExecuteRun | floor serial | floor mutex | floor ws "
          "| petit / mutex floor |")
    print("|---|---|---|---|---|---|")
    nan = float("nan")
    for graph, size in INPROC_GRAPHS:
        key = (graph, size)
        tasks, edges = petit_meta.get(key, floor_meta.get(key, (0, 0)))
        if key in floor_meta and key in petit_meta and floor_meta[key] != petit_meta[key]:
            log(f"warning: {graph} {size}: petit's graph {petit_meta[key]} is not the floor's "
                f"{floor_meta[key]}")
        p = petit_ns.get(key, nan)
        m = floor_ns.get((graph, size, "mutex"), nan)
        print(f"| {graph} {size} ({tasks}, {edges}) | {p:,.0f} "
              f"| {floor_ns.get((graph, size, 'serial'), nan):,.1f} | {m:,.1f} "
              f"| {floor_ns.get((graph, size, 'ws'), nan):,.1f} | {p / m:,.1f}x |")
    print()
    return dict(petit_ns={f"{g} {s}": v for (g, s), v in petit_ns.items()},
                floor_ns={f"{g} {s} {k}": v for (g, s, k), v in floor_ns.items()})


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=DEFAULT_SHARED,
                    help="the floors and workload generator (default: %(default)s)")
    ap.add_argument("--petit", default=DEFAULT_PETIT, help="release build of petit")
    ap.add_argument("--baseline", metavar="PETIT",
                    help="a second petit binary (before a change), run beside --petit's with "
                    "every store in the same rounds, the two alternating which goes first")
    ap.add_argument("--inproc-bench", default=DEFAULT_INPROC_BENCH,
                    help="the petit_inproc_bench binary")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    ap.add_argument("--quick", action="store_true", help="2 rounds, 3 in-process repetitions")
    ap.add_argument("--inproc", action="store_true", help="only the in-process section")
    ap.add_argument("--all", action="store_true", help="the command and in-process sections")
    ap.add_argument("--inproc-reps", type=int, default=5)
    ap.add_argument("--isolation", choices=("in_process", "process", "both"), default="in_process",
                    help="in-process section: no-op tasks in process against the floors, the cost "
                    "per task of process isolation, or both (default: %(default)s)")
    ap.add_argument("--shapes", nargs="*", help="only shapes whose name contains one of these")
    ap.add_argument("--tools", nargs="*", default=TOOLS, choices=TOOLS)
    ap.add_argument("--storage", nargs="*", default=STORAGES, choices=STORAGES,
                    help="petit's state stores, one column each (default: all)")
    ap.add_argument("--postgres", metavar="CONNINFO",
                    help="use this running PostgreSQL server instead of starting a throwaway one")
    ap.add_argument("--fresh-db", action="store_true",
                    help="a new SQLite file and PostgreSQL database for every petit run "
                    "(default: one for the whole run)")
    ap.add_argument("--no-rss", action="store_true", help="skip the untimed peak-RSS runs")
    ap.add_argument("--workdir", help="scratch directory (default: a new one under $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--json", help="write every sample here")
    args = ap.parse_args()
    if args.quick:
        args.rounds = min(args.rounds, 2)
        args.inproc_reps = min(args.inproc_reps, 3)
    args.shared = os.path.abspath(args.shared)
    # Runs start in the shapes' directories.
    args.petit = os.path.abspath(args.petit)
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
    args.inproc_bench = os.path.abspath(args.inproc_bench)
    command_section = not args.inproc or args.all
    inproc_section = args.inproc or args.all

    for needed in ("gen_workloads.py", "spawn_limit.c", "inproc_limit.cpp"):
        if not os.path.exists(os.path.join(args.shared, needed)):
            ap.error(f"{needed} not in {args.shared} (use --shared DIR)")
    if command_section:
        if not os.access(args.petit, os.X_OK):
            ap.error(f"{args.petit} not found: `cmake --preset release && "
                     "cmake --build --preset release`, or --petit PATH")
        if args.baseline and not os.access(args.baseline, os.X_OK):
            ap.error(f"--baseline {args.baseline} not found")
        if ("postgresql" in args.storage and "petit-postgresql" in args.tools and
                args.postgres is None and not os.access(PG_SERVER_BIN, os.X_OK)):
            ap.error(f"{PG_SERVER_BIN} not found (apt-get install postgresql-15, or set PGBIN); "
                     "use --postgres CONNINFO, or leave PostgreSQL out with "
                     "--storage memory sqlite")
        missing = [t for t in ("ninja", "make") if t in args.tools and shutil.which(t) is None]
        if missing:
            ap.error(f"not installed: {', '.join(missing)} (apt-get install ninja-build make), "
                     "or leave them out with --tools")

    workdir = args.workdir or tempfile.mkdtemp(prefix="petit-bench-")
    os.makedirs(workdir, exist_ok=True)
    bindir = os.path.join(workdir, "bin")
    result = {"machine": machine_note(), "load_before": load_average()}
    postgres = None
    try:
        compile_floors(args.shared, bindir)
        print(f"## Petit benchmarks: {result['machine']}\n")
        print(f"load average before: {result['load_before']}  ")
        if os.getloadavg()[0] > (os.cpu_count() or 1):
            print(f"**Warning: the machine is busy (load above {os.cpu_count()} CPUs): wall-time "
                  "ratios are unreliable, compare CPU per task.**  ")
        if command_section:
            shapes = generate(args.shared, os.path.join(workdir, "w"), args.shapes)
            if "postgresql" in args.storage and "petit-postgresql" in args.tools:
                postgres = PostgresServer(
                    args.postgres, [PG_DATABASE] + ([PG_DATABASE + "_base"] if args.baseline
                                                    else []))
            bench = CommandBench(args, bindir, workdir, postgres)
            samples, rss = bench.run(shapes)
            result["load_after_command"] = load_average()
            print(f"load average after the command section: {result['load_after_command']}  ")
            print(f"ninja {tool_version(['ninja', '--version'])}, "
                  f"{tool_version(['make', '--version'])}  ")
            print(f"petit: {args.petit}" +
                  (f" (baseline: {args.baseline})" if args.baseline else "") + "; SQLite state: "
                  + ("a fresh file per run" if args.fresh_db else
                     f"one file for the whole run ({bench.db})") +
                  ("" if postgres is None else
                   "; PostgreSQL state: " + postgres.describe() +
                   (", re-created for every run" if args.fresh_db else
                    ", one for the whole run")) + "\n")
            print_command_tables(shapes, samples, rss, bench.tools, bench.rounds_done)
            result["command"] = {f"{k[0]} {k[1]}": v for k, v in samples.items()}
            result["peak_rss_mib"] = {f"{k[0]} {k[1]}": v for k, v in rss.items()}
            if "floor" in bench.tools:
                result["overhead_us"] = {
                    f"{s['name']} {t}": {"wall": overhead_us(samples, s, t),
                                         "cpu": overhead_us(samples, s, t, key="cpu")}
                    for s in shapes for t in bench.tools if t != "floor"}
        if inproc_section and args.isolation != "process":
            result["inproc"] = run_inproc(args, bindir)
        if inproc_section and args.isolation != "in_process":
            result["isolation"] = run_isolation(args)
            print(f"load average after the in-process section: {load_average()}\n")
    finally:
        if postgres is not None:
            postgres.close()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            log(f"scratch kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
