#!/usr/bin/env python3
"""Daemon operations: how long `petit run` takes to recover a store full of a dead host's runs,
and to reload a large job directory on SIGHUP, measured from the daemon's own log timestamps.

    python3 bench/daemon_ops_bench.py                      # 10,000 runs, 1,000 job files
    python3 bench/daemon_ops_bench.py --runs 1000 --jobs 100

Recovery: a SQLite store (schema made by `petit runs`) is filled with N runs left `running` by an
owner that is dead (pid 1 with a start time that is not init's), each with one `running` attempt
of a one-task job that allows one retry. `petit run` then interrupts all of them, resumes what
max_concurrency admits (RESUMED of them; the others stay interrupted) and logs `running ...`; the
figure is
the time from the process start to that line (recovery, resumption planning and arming), and
then until every resumed run has ended.

Reload: N job files (each a one-task `@hourly` job) and a daemon; one of them is changed and
SIGHUP sent; the figure is the time between the `received SIGHUP` and `reload:` log lines. A job
that runs across the reload (a task waiting on a file) must end on its old definition: checked.

Uses the Python standard library only; Petit comes from a release build (--petit).
"""
import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The job's max_concurrency: recovery interrupts every run, resumes this many (one thread each)
# and leaves the others interrupted, as a real host would.
RESUMED = 50


def stamp(line):
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", line)
    if not m:
        return None
    y, mo, d, h, mi, s, ms = map(int, m.groups())
    return ((h * 60 + mi) * 60 + s) + ms / 1000.0 + d * 86400


class Daemon:
    def __init__(self, petit, args, env=None):
        self.proc = subprocess.Popen([petit] + args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env=env)
        self.lines = []

    def wait_for(self, pattern, timeout=600):
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if re.search(pattern, line):
                return line
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("petit run ended before '%s':\n%s" % (pattern, "".join(self.lines[-20:])))
            self.lines.append(line)
            if re.search(pattern, line):
                return line
        raise RuntimeError("timed out waiting for " + pattern)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.stderr.read()
        self.proc.wait(timeout=600)


def uuid7(ms, n):
    # A version-7 UUID: 48-bit milliseconds, version 7, random bits from n.
    value = (ms << 80) | (0x7 << 76) | ((n & 0xFFF) << 64) | (0x2 << 62) | (n & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def bench_recovery(petit, runs, work):
    jobs = os.path.join(work, "recovery-jobs")
    os.makedirs(jobs)
    with open(os.path.join(jobs, "j.yaml"), "w") as f:
        f.write("id: j\nmax_concurrency: %d\ntasks:\n  - id: t\n    type: command\n"
                "    command: /bin/true\n    retry: {max_attempts: 1}\n" % RESUMED)
    db = os.path.join(work, "recovery.db")
    uri = "sqlite://" + db
    subprocess.run([petit, "runs", "--storage", uri], check=True, stdout=subprocess.DEVNULL)
    con = sqlite3.connect(db)
    now_us = int(time.time() * 1e6)
    owner = "%s/1/1" % os.uname().nodename  # pid 1 lives, but not since tick 1: dead owner
    rows = []
    for i in range(runs):
        rid = uuid7(now_us // 1000 - runs + i, i)
        rows.append((rid, "j", "running", "schedule", now_us, now_us, owner))
    con.executemany("INSERT INTO runs (id, job_id, status, triggered_by, created_at, started_at, "
                    "owner) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany("INSERT INTO task_attempts (run_id, task_id, attempt, state, queued_at, "
                    "started_at) VALUES (?, 't', 1, 'running', ?, ?)",
                    [(r[0], now_us, now_us) for r in rows])
    con.commit()
    con.close()
    start = time.monotonic()
    d = Daemon(petit, ["run", jobs, "--storage", uri, "--max-parallel", "2"])
    running = d.wait_for(r" petit: running \d+ jobs")
    start_to_armed = time.monotonic() - start
    armed = stamp(running)
    # Every resumed run ends: count the end lines.
    ended = 0
    last = armed
    while ended < min(runs, RESUMED):
        line = d.wait_for(r" ended: ")
        d.lines.remove(line)
        ended += 1
        last = stamp(line)
    d.stop()
    con = sqlite3.connect(db)
    left = con.execute("SELECT COUNT(*) FROM runs WHERE status IN ('queued','running')").fetchone()[0]
    ok = con.execute("SELECT COUNT(*) FROM runs WHERE status = 'succeeded'").fetchone()[0]
    con.close()
    return {"runs": runs, "start_to_armed_s": round(start_to_armed, 3),
            "armed_to_all_ended_s": round(last - armed, 3), "left_running": left, "succeeded": ok}


def bench_reload(petit, files, work):
    jobs = os.path.join(work, "reload-jobs")
    os.makedirs(jobs)
    for i in range(files):
        with open(os.path.join(jobs, "job%04d.yaml" % i), "w") as f:
            f.write("id: job%04d\nschedule: \"@hourly\"\ntasks:\n  - id: t\n    type: command\n"
                    "    command: /bin/true\n" % i)
    release = os.path.join(work, "release")
    out = os.path.join(work, "long.out")
    with open(os.path.join(jobs, "long.yaml"), "w") as f:
        f.write("id: long\nschedule: \"@every 1s\"\ntasks:\n  - id: t\n    type: command\n"
                "    shell: \"echo old >> %s; while [ ! -e %s ]; do sleep 0.05; done\"\n" % (out, release))
    uri = "sqlite://" + os.path.join(work, "reload.db")
    d = Daemon(petit, ["run", jobs, "--storage", uri])
    d.wait_for(r"run started")
    with open(os.path.join(jobs, "long.yaml"), "w") as f:
        f.write("id: long\nschedule: \"@every 1s\"\ntasks:\n  - id: t\n    type: command\n"
                "    shell: \"echo new >> %s\"\n" % out)
    d.proc.send_signal(signal.SIGHUP)
    got = stamp(d.wait_for(r"received SIGHUP"))
    done_line = d.wait_for(r"reload: ")
    done = stamp(done_line)
    open(release, "w").close()
    d.wait_for(r"job long run .* ended: succeeded")
    d.stop()
    text = open(out).read().split()
    return {"files": files + 1, "reload_s": round(done - got, 3), "summary": done_line.split("petit: ")[-1].strip(),
            "running_run_kept_old_definition": text[:1] == ["old"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--petit", default=os.path.join(REPO, "build", "release", "bin", "petit"))
    ap.add_argument("--runs", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="petit-daemon-ops-") as work:
        print("recovery:", bench_recovery(args.petit, args.runs, work), flush=True)
        print("reload:", bench_reload(args.petit, args.jobs, work), flush=True)


if __name__ == "__main__":
    sys.exit(main())
