#!/usr/bin/env python3
"""The HTTP API under load (issue 12's performance figures), in one run against a release build.

    cmake --preset release && cmake --build --preset release -j2 --target petit builtin.so
    nice python3 bench/api_bench.py                  # full run: about 2 minutes once the store is cached
    nice python3 bench/api_bench.py --generate-only  # only build (or find) the cached 100,000-run store
    python3 bench/api_bench_test.py                  # unit checks of the generator and the harness

The store: a SQLite file holding RUNS runs (default 100,000) of the 20-task job `history`
(2,000,000 attempt rows). `petit trigger` creates the file (so the schema is exactly the binary's)
and records two real runs of the job, one that succeeds and one whose task t10 fails; every
generated run copies one of them (ids, states, errors, outputs and attempt numbers as petit wrote
them, times shifted), one run a minute, trigger `schedule`, 2% failed. The file is cached under
--cache-dir, keyed by a hash of the schema the binary creates, and copied for each bench run.

The daemon: `petit run` on a jobs directory of `history` (unscheduled) and JOBS jobs `tick0000`...
(default 1,000), each one builtin `noop` task on the schedule `* * * * * *` (every second), with
the API on a free 127.0.0.1 port and the copied store. Then, in order:
  idle        fire delay of the tick jobs with nothing else running (for comparison)
  wrk         GET /api/runs/{id}, /api/runs/{id}/tasks, /api/v1/runs/{id}, each for --duration
              seconds, a Lua script rotating over every stored run id: requests/s and latency at
              saturation, then again paced (each connection pausing between requests) to offer
              about --paced-rate requests/s, where the p99 target is judged
  wrk         GET /api/health
  /metrics    --metrics-requests sequential GETs on one keep-alive connection: median, p99
  status      `petit status` wall time, median of --status-runs
`--fire-only` measures only the idle fire delay, on an empty store (no history store, no wrk, so
`--jobs 10000 --fire-only` is the scheduler's precision with 10,000 jobs); `--spread S` makes tick
job i fire once a minute at second i % S instead of every second (60: evenly spread; 1: all of
them at second 0).
After SIGTERM the fire delay (created_at - occurrence_at of the tick jobs' `schedule` runs) is read
from the store for the idle window and for the wrk windows. A figure whose route is missing is
reported as "not available: <route> answered <status>", never estimated. Prints one table and
the load average before and after; the machine is shared, so say what the load was.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Bump when the generated content changes, so stale cached stores are not reused.
GENERATOR_VERSION = 1
HISTORY_JOB = "history"
TICK_PREFIX = "tick"
FAILED_EVERY = 50  # one generated run in 50 is a failed one (2%)
RUN_INTERVAL_US = 60 * 1000000  # the history job ran once a minute
BATCH_RUNS = 1000  # runs (and their attempts) per transaction while generating

# ---------------------------------------------------------------------------------------------
# Jobs and the store generator


def history_job_yaml(tasks, fail_task=None):
    """The history job: a chain of `tasks` builtin tasks; `fail_task` (an index) fails once."""
    lines = ["id: " + HISTORY_JOB,
             "description: the job whose generated runs fill the benchmark store",
             "tasks:"]
    for i in range(tasks):
        lines.append("  - id: t%02d" % i)
        if i == fail_task:
            lines.append("    type: fail")
            lines.append("    params: {times: 1}")
        else:
            lines.append("    type: noop")
        if i:
            lines.append("    depends_on: [t%02d]" % (i - 1))
    return "\n".join(lines) + "\n"


def tick_job_yaml(name, second=None):
    """A tick job: one builtin `noop` task every second, or once a minute at `second`."""
    schedule = "* * * * * *" if second is None else "%d * * * * *" % second
    return ("id: %s\nschedule: \"%s\"\ntasks:\n  - id: t\n    type: noop\n" % (name, schedule))


def uuid7(unix_ms, rng):
    """A version-7 UUID as petit's RunId writes it: 48-bit ms, version 7, variant 2, random."""
    value = ((unix_ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) \
        | (0x2 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def schema_key(petit, scratch):
    """Hash of the schema `petit` creates (tables, indexes, migrations applied): the cache key."""
    db = os.path.join(scratch, "schema-probe.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    subprocess.run([petit, "runs", "--storage", "sqlite://" + db], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    con = sqlite3.connect(db)
    try:
        objects = con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        versions = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    finally:
        con.close()
    digest = hashlib.sha256(repr((objects, versions)).encode()).hexdigest()
    return digest[:16], max(v for v, _ in versions)


def record_templates(petit, scratch, tasks, db):
    """Creates `db` through `petit trigger` and returns the two real runs of the history job (one
    succeeded, one failed) as templates: run row and attempt rows, times relative to created_at.
    The template runs are then deleted from `db`."""
    template = {}
    for kind, fail_task in (("ok", None), ("failed", tasks // 2)):
        jobs = os.path.join(scratch, "template-" + kind)
        os.makedirs(jobs, exist_ok=True)
        with open(os.path.join(jobs, HISTORY_JOB + ".yaml"), "w") as f:
            f.write(history_job_yaml(tasks, fail_task))
        proc = subprocess.run([petit, "trigger", jobs, HISTORY_JOB, "--storage", "sqlite://" + db,
                               "--quiet", "--max-parallel", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        m = re.search(r"run ([0-9a-f-]{36}) (succeeded|failed)", proc.stdout)
        want = "succeeded" if kind == "ok" else "failed"
        if not m or m.group(2) != want:
            raise RuntimeError("petit trigger of the %s template did not end %s:\n%s"
                               % (kind, want, proc.stdout))
        template[kind] = m.group(1)
    con = sqlite3.connect(db)
    try:
        run_cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
        attempt_cols = [r[1] for r in con.execute("PRAGMA table_info(task_attempts)")]
        out = {"run_cols": run_cols, "attempt_cols": attempt_cols}
        for kind, run_id in template.items():
            run = dict(zip(run_cols, con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()))
            attempts = [dict(zip(attempt_cols, row)) for row in con.execute(
                "SELECT * FROM task_attempts WHERE run_id = ? ORDER BY task_id, attempt", (run_id,))]
            if len(attempts) != tasks:
                raise RuntimeError("the %s template run has %d attempt rows, expected %d"
                                   % (kind, len(attempts), tasks))
            out[kind] = {"run": run, "attempts": attempts}
        con.execute("DELETE FROM task_attempts")
        con.execute("DELETE FROM task_logs")
        con.execute("DELETE FROM runs")
        con.commit()
    finally:
        con.close()
    return out


def shifted(value, base, new_base, scale):
    if value is None:
        return None
    return new_base + int(round((value - base) * scale))


def generate_rows(templates, runs, end_us, seed=12):
    """Yields (run_row, attempt_rows) for `runs` runs, oldest first, the newest occurrence one
    interval before `end_us`. Rows are tuples in the stored column order."""
    rng = random.Random(seed)
    run_cols = templates["run_cols"]
    attempt_cols = templates["attempt_cols"]
    first_occurrence = (end_us // RUN_INTERVAL_US - runs) * RUN_INTERVAL_US
    for i in range(runs):
        kind = "failed" if i % FAILED_EVERY == FAILED_EVERY - 1 else "ok"
        tpl = templates[kind]
        base = tpl["run"]["created_at"]
        occurrence = first_occurrence + i * RUN_INTERVAL_US
        created = occurrence + rng.randint(150, 3000)  # the fire delay of a real scheduler
        scale = rng.uniform(0.5, 4.0)  # task durations vary from run to run
        run_id = uuid7(created // 1000, rng)
        run = dict(tpl["run"])
        run.update(id=run_id, triggered_by="schedule", created_at=created,
                   started_at=shifted(run["started_at"], base, created, scale),
                   ended_at=shifted(run["ended_at"], base, created, scale),
                   owner="benchhost/%d/%d" % (1000 + i % 30000, 500000 + i // 30000),
                   occurrence_at=occurrence)
        attempts = []
        for a in tpl["attempts"]:
            row = dict(a)
            row["run_id"] = run_id
            for col in ("queued_at", "started_at", "ended_at"):
                row[col] = shifted(row[col], base, created, scale)
            attempts.append(tuple(row[c] for c in attempt_cols))
        yield tuple(run[c] for c in run_cols), attempts


def generate_store(petit, runs, tasks, cache_dir, log=print):
    """Returns (path, seconds spent generating or None when cached, schema version)."""
    os.makedirs(cache_dir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="gen-", dir=cache_dir)
    try:
        key, version = schema_key(petit, scratch)
        path = os.path.join(cache_dir, "history-v%d-%dx%d-schema%d-%s.db"
                            % (GENERATOR_VERSION, runs, tasks, version, key))
        if os.path.exists(path):
            return path, None, version
        log("generating the store (cached afterwards as %s)" % path)
        start = time.monotonic()
        db = os.path.join(scratch, "store.db")
        templates = record_templates(petit, scratch, tasks, db)
        con = sqlite3.connect(db, isolation_level=None)
        try:
            con.execute("PRAGMA synchronous = OFF")  # a scratch file: durability is not needed
            run_sql = "INSERT INTO runs (%s) VALUES (%s)" % (
                ", ".join(templates["run_cols"]), ", ".join("?" * len(templates["run_cols"])))
            attempt_sql = "INSERT INTO task_attempts (%s) VALUES (%s)" % (
                ", ".join(templates["attempt_cols"]), ", ".join("?" * len(templates["attempt_cols"])))
            end_us = int(time.time() * 1e6) - 3600 * 1000000
            run_batch, attempt_batch = [], []
            done = 0
            for run, attempts in generate_rows(templates, runs, end_us):
                run_batch.append(run)
                attempt_batch.extend(attempts)
                if len(run_batch) == BATCH_RUNS:
                    insert_batch(con, run_sql, run_batch, attempt_sql, attempt_batch)
                    done += len(run_batch)
                    run_batch, attempt_batch = [], []
                    if done % 20000 == 0:
                        log("  generated %d of %d runs (%.0f s)" % (done, runs, time.monotonic() - start))
            if run_batch:
                insert_batch(con, run_sql, run_batch, attempt_sql, attempt_batch)
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        seconds = time.monotonic() - start
        with open(path + ".json", "w") as f:
            json.dump({"runs": runs, "tasks": tasks, "seconds": round(seconds, 1)}, f)
        os.replace(db, path)  # atomic: a reader never sees a half-written cache entry
        return path, seconds, version
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def insert_batch(con, run_sql, runs, attempt_sql, attempts):
    con.execute("BEGIN")
    con.executemany(run_sql, runs)
    con.executemany(attempt_sql, attempts)
    con.execute("COMMIT")


def history_run_ids(db):
    # immutable: the cached file is never written again, and no -wal/-shm appear beside it.
    con = sqlite3.connect("file:%s?immutable=1" % db, uri=True)
    try:
        return [r[0] for r in con.execute("SELECT id FROM runs WHERE job_id = ?", (HISTORY_JOB,))]
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# Measuring helpers

def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_duration_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError("not a wrk duration: %r" % text)
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(output):
    """Requests/s, latency percentiles (ms), total requests, non-2xx/3xx and socket errors from
    `wrk --latency` output."""
    result = {"non_2xx": 0, "socket_errors": 0, "percentiles": {}}
    m = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not m:
        raise ValueError("wrk printed no Requests/sec:\n" + output)
    result["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ", output)
    result["requests"] = int(m.group(1)) if m else None
    for p, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M):
        result["percentiles"][int(p)] = parse_duration_ms(value)
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if m:
        result["non_2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if m:
        result["socket_errors"] = sum(int(x) for x in m.groups())
    return result


LUA_ROTATE = r"""
-- Rotates over run ids read from a file: path = prefix .. id .. suffix. Each wrk thread starts
-- at its own offset so the threads do not ask for the same run at the same time.
local paths = {}
local i = 0
function init(args)
  local prefix, suffix, file = args[1], args[2], args[3]
  for id in io.lines(file) do paths[#paths + 1] = prefix .. id .. suffix end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + #tostring({}))
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
-- Paced runs (args[4], milliseconds): each connection waits that long before each request, so the
-- offered load is about connections / (pause + latency) requests a second.
local pause = 0
local rotate_init = init
function init(args)
  rotate_init(args)
  pause = tonumber(args[4] or "0") or 0
end
function delay()
  return pause
end
"""


def http_get(host, port, path, timeout=10):
    """(status, body) or (None, why) when nothing answers."""
    try:
        con = http.client.HTTPConnection(host, port, timeout=timeout)
        con.request("GET", path)
        resp = con.getresponse()
        body = resp.read()
        con.close()
        return resp.status, body
    except (OSError, http.client.HTTPException) as error:
        return None, str(error)


def probe(host, port, path, shown=None):
    """None when GET path answers 200, else the reason the figure is not available."""
    status, body = http_get(host, port, path)
    shown = shown or path
    if status is None:
        return "not available: GET %s: nothing answers on %s:%d (%s)" % (shown, host, port, body)
    if status != 200:
        text = body.decode("utf-8", "replace").strip()
        try:
            error = json.loads(text)
            text = "%s: %s" % (error["code"], error["error"])
        except (ValueError, KeyError, TypeError):
            pass
        if len(text) > 60:
            text = text[:57] + "..."
        return "not available: GET %s answered %d (%s)" % (shown, status, text)
    return None


def run_wrk(url_base, path, args, lua=None, lua_args=()):
    cmd = ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % args.duration,
           "--latency", "--timeout", "5s"]
    if lua:
        cmd += ["-s", lua]
    cmd.append(url_base + path)
    if lua_args:
        cmd += ["--"] + list(lua_args)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError("wrk failed (%d):\n%s" % (proc.returncode, proc.stdout))
    return parse_wrk(proc.stdout), " ".join(shlex.quote(c) for c in cmd)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_us():
    return int(time.time() * 1e6)


def fire_delays(db, windows):
    """{window name: [created_at - occurrence_at (µs)] of tick runs fired by the schedule whose
    occurrence lies inside the window}, and the count of occurrences expected there."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    out = {}
    try:
        for name, (start, end) in windows.items():
            rows = con.execute(
                "SELECT created_at - occurrence_at, started_at - occurrence_at FROM runs "
                "WHERE triggered_by = 'schedule' AND job_id LIKE ? AND occurrence_at >= ? "
                "AND occurrence_at < ?", (TICK_PREFIX + "%", start, end)).fetchall()
            out[name] = ([r[0] for r in rows], [r[1] for r in rows if r[1] is not None])
    finally:
        con.close()
    return out


def wake_floor(until, out):
    """Appends to `out` how late (µs) this thread wakes at each whole second before `until`
    (time.time()), sleeping in between: the machine's wake-up latency, which the scheduler
    thread's fires pay as well, measured beside them."""
    while True:
        target = int(time.time()) + 1
        if target >= until:
            return
        time.sleep(max(0.0, target - time.time()))
        out.append((time.time() - target) * 1e6)


def cpu_seconds(pid):
    """User + system CPU time of a live process, from /proc (Linux)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def expected_occurrences(jobs, start_us, end_us, spread=0):
    """Whole seconds in [start, end) times the number of every-second jobs; with `spread` S, the
    jobs that fire at each of those seconds (job i at second i % S of every minute)."""
    first = -(-start_us // 1000000)
    last = -(-end_us // 1000000)
    if not spread:
        return jobs * max(0, last - first)
    return sum(len(range(sec % 60, jobs, spread)) for sec in range(first, last) if sec % 60 < spread)


# ---------------------------------------------------------------------------------------------
# The daemon

class Daemon:
    def __init__(self, petit, jobs_dir, config, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([petit, "run", jobs_dir, "--config", config],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

    def wait_for_line(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                for line in f:
                    if re.search(pattern, line):
                        return line
            if self.proc.poll() is not None:
                raise RuntimeError("petit run exited (%d) before '%s':\n%s"
                                   % (self.proc.returncode, pattern, self.tail()))
            time.sleep(0.2)
        raise RuntimeError("petit run did not log '%s' in %d s:\n%s" % (pattern, timeout, self.tail()))

    def tail(self, n=20):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def write_jobs(work, jobs, tasks, port, db, spread=0):
    jobs_dir = os.path.join(work, "jobs")
    os.makedirs(jobs_dir)
    with open(os.path.join(jobs_dir, HISTORY_JOB + ".yaml"), "w") as f:
        f.write(history_job_yaml(tasks))
    for i in range(jobs):
        name = "%s%04d" % (TICK_PREFIX, i)
        with open(os.path.join(jobs_dir, name + ".yaml"), "w") as f:
            f.write(tick_job_yaml(name, i % spread if spread else None))
    config = os.path.join(work, "petit.yaml")
    with open(config, "w") as f:
        f.write("storage: sqlite://%s\napi:\n  enabled: true\n  bind: 127.0.0.1\n  port: %d\n"
                % (db, port))
    return jobs_dir, config


# ---------------------------------------------------------------------------------------------
# The table

class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, measured, target=None, ok=None):
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        self.rows.append((figure, measured, target or "", verdict))

    def skip(self, figure, why, target=None):
        self.rows.append((figure, why, target or "", "SKIP"))

    def render(self):
        heads = ("figure", "measured", "target", "")
        widths = [max(len(str(r[i])) for r in self.rows + [heads]) for i in range(4)]
        lines = ["  ".join(str(h).ljust(w) for h, w in zip(heads, widths)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        for r in self.rows:
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        return "\n".join(lines)


def ms(value):
    return "%.2f ms" % value


# ---------------------------------------------------------------------------------------------

def api_figures(args, table, host, port, base, ids, ids_file, lua, config, work, daemon, window, log):
    """The API's figures (wrk on the run routes and health, /metrics, /api/v1/jobs, petit version
    and petit status) into `table`; the fire windows they covered through `window`."""
    sample = ids[0]
    for route, prefix, suffix in (("GET /api/runs/{id}", "/api/runs/", ""),
                                  ("GET /api/runs/{id}/tasks", "/api/runs/", "/tasks"),
                                  ("GET /api/v1/runs/{id}", "/api/v1/runs/", "")):
        why = probe(host, port, prefix + sample + suffix, route.split(" ")[1])
        if why:
            table.skip(route + ": req/s", why, ">= 5,000/s")
            table.skip(route + ": p99", why, "< 5 ms")
            continue
        log("wrk " + route)
        t0, cpu0 = now_us(), cpu_seconds(daemon.proc.pid)
        result, cmd = run_wrk(base, prefix + sample + suffix, args, lua, (prefix, suffix, ids_file))
        window("wrk " + route, t0, cpu0)
        log("  " + cmd)
        note = ""
        if result["non_2xx"] or result["socket_errors"]:
            note = " (%d non-2xx, %d socket errors)" % (result["non_2xx"], result["socket_errors"])
        ok = not note
        table.add(route + ": req/s", "%.0f%s" % (result["rps"], note), ">= 5,000/s",
                  ok and result["rps"] >= 5000)
        p = result["percentiles"]
        # At saturation every connection always has a request in flight, so the mean latency is
        # connections / throughput (Little's law) whatever the server does: informational.
        table.add(route + ": p50 / p99 at saturation (%d connections)" % args.connections,
                  "%s / %s" % (ms(p[50]), ms(p[99])))
        # The latency target is about a given load: the same connections, each pausing so that
        # together they offer about --paced-rate requests a second.
        pause_ms = max(0, int(args.connections * 1000 / args.paced_rate) - 1)
        t0, cpu0 = now_us(), cpu_seconds(daemon.proc.pid)
        paced, cmd = run_wrk(base, prefix + sample + suffix, args, lua,
                             (prefix, suffix, ids_file, str(pause_ms)))
        window("wrk paced " + route, t0, cpu0)
        log("  " + cmd)
        note = ""
        if paced["non_2xx"] or paced["socket_errors"]:
            note = " (%d non-2xx, %d socket errors)" % (paced["non_2xx"], paced["socket_errors"])
        p = paced["percentiles"]
        table.add(route + ": p50 / p99 at %.0f req/s (paced, %d ms pauses)"
                  % (paced["rps"], pause_ms),
                  "%s / %s%s" % (ms(p[50]), ms(p[99]), note), "p99 < 5 ms at >= 5,000/s",
                  not note and p[99] < 5.0 and paced["rps"] >= 5000)

    why = probe(host, port, "/api/health")
    if why:
        table.skip("GET /api/health: req/s", why, ">= 20,000/s")
    else:
        log("wrk GET /api/health")
        t0, cpu0 = now_us(), cpu_seconds(daemon.proc.pid)
        result, cmd = run_wrk(base, "/api/health", args)
        window("wrk GET /api/health", t0, cpu0)
        log("  " + cmd)
        bad = result["non_2xx"] + result["socket_errors"]
        table.add("GET /api/health: req/s (p99 %s)" % ms(result["percentiles"][99]),
                  "%.0f%s" % (result["rps"], " (%d errors)" % bad if bad else ""),
                  ">= 20,000/s", not bad and result["rps"] >= 20000)

    why = probe(host, port, "/metrics")
    if why:
        table.skip("GET /metrics (%d jobs): p50 / p99" % args.jobs, why, "< 10 ms")
    else:
        log("GET /metrics x %d" % args.metrics_requests)
        times, size, errors = [], 0, 0
        con = http.client.HTTPConnection(host, port, timeout=10)
        for _ in range(args.metrics_requests):
            t = time.perf_counter()
            con.request("GET", "/metrics")
            resp = con.getresponse()
            body = resp.read()
            times.append((time.perf_counter() - t) * 1000)
            size = len(body)
            errors += resp.status != 200
        con.close()
        with open(os.path.join(work, "metrics.txt"), "wb") as f:
            f.write(body)
        families = {}
        for line in body.decode("utf-8", "replace").splitlines():
            if line and not line.startswith("#"):
                name = re.split(r"[{ ]", line, 1)[0]
                families[name] = families.get(name, 0) + 1
        biggest = sorted(families.items(), key=lambda kv: -kv[1])[:5]
        log("  /metrics: %d series; largest: %s" % (sum(families.values()),
                                                  ", ".join("%s %d" % kv for kv in biggest)))
        table.add("GET /metrics (%d jobs, %d KB): p50 / p99" % (args.jobs, size // 1024),
                  "%s / %s%s" % (ms(statistics.median(times)), ms(percentile(times, 99)),
                                 " (%d errors)" % errors if errors else ""),
                  "< 10 ms", not errors and percentile(times, 99) < 10.0)

    # What `petit status` asks beside health, scheduler and active runs: every job's summary.
    why = probe(host, port, "/api/v1/jobs")
    if why:
        table.skip("GET /api/v1/jobs (%d jobs): p50 / p99" % (args.jobs + 1), why)
    else:
        times = []
        con = http.client.HTTPConnection(host, port, timeout=10)
        for _ in range(20):
            t = time.perf_counter()
            con.request("GET", "/api/v1/jobs")
            resp = con.getresponse()
            body = resp.read()
            times.append((time.perf_counter() - t) * 1000)
        con.close()
        table.add("GET /api/v1/jobs (%d jobs, %d KB): p50 / p99 of 20" % (args.jobs + 1, len(body) // 1024),
                  "%s / %s" % (ms(statistics.median(times)), ms(percentile(times, 99))))

    # The floor under any CLI figure: starting the binary (dynamic linking, static
    # initialisers) and exiting, with no request.
    times = []
    for _ in range(args.status_runs):
        t = time.perf_counter()
        subprocess.run([args.petit, "version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
    table.add("petit version (process start floor): wall, median (p90)",
              "%s (%s)" % (ms(statistics.median(times)), ms(percentile(times, 90))))

    status_cmd = [args.petit, "status", "--config", config]
    first = subprocess.run(status_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Exit 1 is a real answer (the daemon says it is degraded); anything else is not.
    if first.returncode not in (0, 1):
        table.skip("petit status: wall", "not available: `petit status` exited %d: %s"
                   % (first.returncode, first.stdout.strip().splitlines()[-1:] or ""), "< 5 ms")
    else:
        log("petit status x %d" % args.status_runs)
        times = []
        for _ in range(args.status_runs):
            t = time.perf_counter()
            subprocess.run(status_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append((time.perf_counter() - t) * 1000)
        table.add("petit status%s: wall, median (p90) of %d"
                  % (" (exit 1, degraded)" if first.returncode == 1 else "", args.status_runs),
                  "%s (%s)" % (ms(statistics.median(times)), ms(percentile(times, 90))),
                  "< 5 ms", statistics.median(times) < 5.0)


def bench(args):
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    table = Table()
    load_before = os.getloadavg()
    table.add("load average before (1/5/15 min)", "%.2f / %.2f / %.2f" % load_before)
    if args.fire_only:
        cached, ids = None, []
    else:
        log("store: %d runs of %d tasks, cache %s" % (args.runs, args.tasks, args.cache_dir))
        cached, gen_s, version = generate_store(args.petit, args.runs, args.tasks, args.cache_dir, log)
        if gen_s is None:
            try:
                with open(cached + ".json") as f:
                    gen_s = json.load(f)["seconds"]
                generated = "cached (generated in %.0f s)" % gen_s
            except (OSError, ValueError, KeyError):
                generated = "cached"
        else:
            generated = "%.0f s" % gen_s
        table.add("store: %d runs x %d tasks, schema v%d" % (args.runs, args.tasks, version), generated)
        if args.generate_only:
            print(cached)
            return 0
        ids = history_run_ids(cached)
        random.Random(7).shuffle(ids)

    work = tempfile.mkdtemp(prefix="petit-api-bench-")
    daemon = None
    try:
        db = os.path.join(work, "store.db")
        if cached is not None:
            start = time.monotonic()
            shutil.copyfile(cached, db)
            log("copied the store (%.0f MB) in %.1f s" % (os.path.getsize(db) / 1e6, time.monotonic() - start))
        ids_file = os.path.join(work, "run_ids.txt")
        with open(ids_file, "w") as f:
            f.write("\n".join(ids) + "\n")
        lua = os.path.join(work, "rotate.lua")
        with open(lua, "w") as f:
            f.write(LUA_ROTATE)
        port = args.port or free_port()
        jobs_dir, config = write_jobs(work, args.jobs, args.tasks, port, db, args.spread)
        host = "127.0.0.1"
        base = "http://%s:%d" % (host, port)

        daemon = Daemon(args.petit, jobs_dir, config, os.path.join(work, "petit.log"))
        daemon.wait_for_line(r"petit: running \d+ jobs", timeout=300)
        # The priority the scheduler thread got (runtime/thread_priority.h): SCHED_FIFO only where
        # the process may use real-time priorities, so say which one this run measured.
        try:
            line = daemon.wait_for_line(r"scheduler thread: ", timeout=5)
            table.add("scheduler thread priority", line.split("scheduler thread: ", 1)[1].strip())
        except RuntimeError:
            table.add("scheduler thread priority", "not logged by this build")
        api_up = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, _ = http_get(host, port, "/api/health", timeout=2)
            if status is not None:
                api_up = True
                break
            time.sleep(0.2)
        if not api_up:
            log("no API answers on %s 10 s after startup; API figures are skipped" % base)
        time.sleep(args.settle)
        windows = {}
        cpu = {}

        def window(name, t0, cpu0):
            windows[name] = (t0, now_us())
            cpu[name] = (cpu_seconds(daemon.proc.pid) - cpu0) / ((windows[name][1] - t0) / 1e6)

        t0, cpu0 = now_us(), cpu_seconds(daemon.proc.pid)
        floor = []
        floor_thread = threading.Thread(target=wake_floor, args=(time.time() + args.idle, floor))
        floor_thread.start()
        time.sleep(args.idle)
        window("idle", t0, cpu0)
        floor_thread.join()

        if not args.fire_only:
            api_figures(args, table, host, port, base, ids, ids_file, lua, config, work,
                        daemon, window, log)

        load_after = os.getloadavg()
        code = daemon.stop()
        if code != 0:
            log("petit run exited %d:\n%s" % (code, daemon.tail()))
            table.add("petit run after SIGTERM", "exited %d%s" % (
                code, " (killed by signal %d)" % -code if code < 0 else ""), "exit 0", False)
        daemon = None

        delays = fire_delays(db, windows)
        # Under saturation only: the paced windows load the daemon less.
        loaded = [n for n in windows if n != "idle" and not n.startswith("wrk paced")]
        rows = [("idle", ["idle"])]
        if loaded:
            rows.append(("while wrk hammers the API", loaded))
        for label, names in rows:
            created, started = [], []
            expected = 0
            for n in names:
                created += delays[n][0]
                started += delays[n][1]
                expected += expected_occurrences(args.jobs, *windows[n], spread=args.spread)
            if not created:
                table.add("fire delay, %s" % label, "no scheduled runs recorded", "p99 < 5 ms", False)
                continue
            c = [v / 1000 for v in created]
            s = [v / 1000 for v in started] or [float("nan")]
            table.add("fire delay, %s: created p50 / p99 / max" % label,
                      "%s / %s / %s (fired %d of %d occurrences)" % (ms(percentile(c, 50)), ms(percentile(c, 99)),
                                                       ms(max(c)), len(c), expected),
                      "p99 < 5 ms", percentile(c, 99) < 5.0)
            table.add("fire delay, %s: started p50 / p99 / max" % label,
                      "%s / %s / %s" % (ms(percentile(s, 50)), ms(percentile(s, 99)), ms(max(s))))
            if label == "idle" and floor:
                f = [v / 1000 for v in floor]
                table.add("wake-up floor, idle (a thread sleeping to each whole second, %d): "
                          "p50 / p99 / max" % len(f),
                          "%s / %s / %s" % (ms(percentile(f, 50)), ms(percentile(f, 99)), ms(max(f))))
        for name in windows:
            table.add("petit run CPU, %s" % name, "%.0f%% of one core" % (100 * cpu[name]))
        table.add("load average after (1/5/15 min)", "%.2f / %.2f / %.2f" % load_after)
    finally:
        if daemon is not None:
            daemon.stop()
        if args.keep:
            log("kept " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(table.render())
    return 0


def build_info(petit):
    cache = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(petit))), "CMakeCache.txt")
    kind = "unknown build type"
    if os.path.exists(cache):
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(\w*)", f.read(), re.M)
            if m:
                kind = m.group(1) or "no build type"
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except OSError:
        head = "?"
    return kind, head


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--petit", default=os.path.join(REPO, "build", "release", "bin", "petit"))
    ap.add_argument("--runs", type=int, default=100000, help="runs in the store (default 100,000)")
    ap.add_argument("--tasks", type=int, default=20, help="tasks of the history job (default 20)")
    ap.add_argument("--jobs", type=int, default=1000, help="jobs firing every second (default 1,000)")
    ap.add_argument("--duration", type=int, default=15, help="seconds of each wrk run (default 15)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--paced-rate", type=int, default=5500,
                    help="requests/s the paced wrk runs offer, for the p99 target (default 5,500: "
                         "a little over the 5,000/s the target names, as latency lowers it)")
    ap.add_argument("--idle", type=float, default=15, help="seconds of the no-load fire window")
    ap.add_argument("--settle", type=float, default=3, help="seconds after startup before measuring")
    ap.add_argument("--metrics-requests", type=int, default=200)
    ap.add_argument("--status-runs", type=int, default=50)
    ap.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    ap.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "petit-api-bench-cache"))
    ap.add_argument("--generate-only", action="store_true", help="build or find the cached store, print its path")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (store, log)")
    ap.add_argument("--fire-only", action="store_true",
                    help="only the fire delay of the tick jobs, on an empty store, for --idle seconds"
                         " (no history store, no wrk, no /metrics, no petit status)")
    ap.add_argument("--spread", type=int, default=0, choices=range(0, 61), metavar="S",
                    help="tick job i fires once a minute, at second i %% S (1..60), instead of every"
                         " second (0, the default); --spread 1: all at once, at second 0")
    args = ap.parse_args(argv)
    if not os.access(args.petit, os.X_OK):
        sys.exit("no petit binary at %s: build the release preset first" % args.petit)
    if not args.generate_only and not args.fire_only and shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    kind, head = build_info(args.petit)
    print("petit %s (%s build, commit %s); %d cores; command: %s"
          % (args.petit, kind, head, os.cpu_count(), " ".join([os.path.basename(sys.argv[0])] + (argv or sys.argv[1:]))),
          flush=True)
    if kind != "Release":
        print("warning: not a Release build; figures are not comparable", flush=True)
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
