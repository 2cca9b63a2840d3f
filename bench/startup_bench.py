#!/usr/bin/env python3
"""Start-up cost of petit commands: wall and CPU time per command, and shared objects mapped.

    python3 bench/startup_bench.py                       # build/release/bin/petit
    python3 bench/startup_bench.py --petit old=/tmp/petit-before/bin/petit --petit new=build/release/bin/petit

Every command runs --runs times (200 by default) per petit binary, the binaries taking turns run
by run (A, B, A, B, ...) so that both see the same machine load, with stdout and stderr to
/dev/null. Printed: the median and p90 wall time (posix_spawn to waitpid, from Python), the
median CPU time (user + system, from wait4), and the shared objects the process maps (the dynamic
loader's own list, LD_DEBUG=files: the NEEDED tree and anything dlopened), beside the spawn floor
(/bin/true the same way).

Commands: `petit version`, `petit validate examples`, `petit status` against a running daemon
(`petit run` of a one-task job, memory store, API on a free port, one daemon per binary), and
`petit trigger` of a one-task job (`true`) with the memory store and with one SQLite file.

Then the resident memory of an idle `petit run` of --idle-jobs jobs (100 by default, each a
one-task job scheduled at 03:00, so nothing fires): VmRSS from /proc once its API answers and a
second has passed, again a second after ten runs of one job triggered through the API (each
waited for and read back) and a scrape of /metrics, and VmHWM at the end, with the memory store and with SQLite, the API on (its default)
and off (`api: {enabled: false}`, where readiness is the log's "running N jobs" line instead).
A benchmark, never a test: nothing here fails on a number.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ONE_TASK_JOB = """id: one
tasks:
  - {id: only, type: command, command: "true"}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_once(argv):
    """Runs argv once in the working directory (the repository); (wall ms, CPU ms, exit code)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                           (os.POSIX_SPAWN_DUP2, devnull, 1),
                                           (os.POSIX_SPAWN_DUP2, devnull, 2)])
        _, status, usage = os.wait4(pid, 0)
        wall = (time.perf_counter_ns() - start) / 1e6
    finally:
        os.close(devnull)
    return wall, (usage.ru_utime + usage.ru_stime) * 1e3, os.waitstatus_to_exitcode(status)


def mapped_objects(argv):
    env = dict(os.environ, LD_DEBUG="files")
    out = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, errors="replace").stderr
    names = set()
    for line in out.splitlines():
        if "file=" in line and ("generating link map" in line):
            names.add(line.split("file=", 1)[1].split()[0])
    return len(names)


class Petit:
    def __init__(self, label, path, scratch):
        self.label = label
        self.path = os.path.abspath(path)
        self.dir = os.path.join(scratch, label)
        self.jobs = os.path.join(self.dir, "jobs")
        os.makedirs(self.jobs)
        with open(os.path.join(self.jobs, "one.yaml"), "w") as f:
            f.write(ONE_TASK_JOB)
        self.port = free_port()
        with open(os.path.join(self.jobs, "petit.yaml"), "w") as f:
            f.write("api: {bind: 127.0.0.1, port: %d}\n" % self.port)
        self.sqlite = "sqlite:" + os.path.join(self.dir, "petit.db")
        self.daemon = None

    def start_daemon(self):
        log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.daemon = subprocess.Popen(
            [self.path, "run", self.jobs, "--storage", "memory:"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if spawn_once(self.commands()["status (daemon running)"])[2] == 0:
                return
            if self.daemon.poll() is not None:
                sys.exit("%s: petit run exited; see %s/daemon.log" % (self.label, self.dir))
            time.sleep(0.05)
        sys.exit("%s: petit status never answered" % self.label)

    def stop_daemon(self):
        if self.daemon is not None:
            self.daemon.terminate()
            self.daemon.wait(30)

    def commands(self):
        p = self.path
        return {
            "version": [p, "version"],
            "validate examples": [p, "--storage", "memory:", "validate", "examples"],
            "status (daemon running)": [p, "status", self.jobs],
            "trigger, memory:": [p, "trigger", self.jobs, "one", "--storage", "memory:", "--quiet"],
            "trigger, SQLite": [p, "trigger", self.jobs, "one", "--storage", self.sqlite,
                                "--quiet"],
        }


IDLE_JOB = """id: job_%03d
schedule: "0 3 * * *"
tasks:
  - {id: only, type: command, command: "true"}
"""


def proc_status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


USE_RUNS = 10


def use_through_api(port, runs):
    """What a dashboard and an operator do to an idle daemon: `runs` runs of job_000 triggered
    through the API (each waited for), then its job list, its metrics and each run read."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(method, path):
        deadline = time.monotonic() + 30
        while True:
            conn.request(method, path)
            response = conn.getresponse()
            body = response.read()
            # The previous run may still count against the job's limit for a moment after it
            # reads as ended.
            if response.status != 429 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if response.status >= 300:
            sys.exit("%s %s answered %d: %s" % (method, path, response.status, body[:200]))
        return json.loads(body) if body.startswith(b"{") or body.startswith(b"[") else body

    for _ in range(runs):
        run_id = call("POST", "/api/jobs/job_000/trigger")["run_id"]
        deadline = time.monotonic() + 30
        while call("GET", "/api/runs/" + run_id)["status"] in ("pending", "running", "queued"):
            if time.monotonic() > deadline:
                sys.exit("run %s did not end within 30 s" % run_id)
            time.sleep(0.01)
        call("GET", "/api/runs/%s/tasks" % run_id)
    call("GET", "/api/jobs")
    call("GET", "/metrics")
    conn.close()


def idle_rss(petit, scratch, jobs, storage, api):
    """VmRSS in MB of `petit run` of `jobs` idle jobs a second after it is ready, then (API on
    only; else None) a second after use_through_api, and VmHWM at the end."""
    root = tempfile.mkdtemp(prefix="idle-", dir=scratch)
    jobs_dir = os.path.join(root, "jobs")
    os.makedirs(jobs_dir)
    for i in range(jobs):
        with open(os.path.join(jobs_dir, "job_%03d.yaml" % i), "w") as f:
            f.write(IDLE_JOB % i)
    port = free_port()
    with open(os.path.join(jobs_dir, "petit.yaml"), "w") as f:
        if api:
            f.write("api: {bind: 127.0.0.1, port: %d}\n" % port)
        else:
            f.write("api: {enabled: false}\n")
    if storage == "sqlite":
        storage = "sqlite:" + os.path.join(root, "petit.db")
    log_path = os.path.join(root, "daemon.log")
    with open(log_path, "w") as log:
        daemon = subprocess.Popen([petit.path, "run", jobs_dir, "--storage", storage],
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline or daemon.poll() is not None:
                sys.exit("%s: idle petit run never became ready; see %s" % (petit.label, log_path))
            if api:
                ready = spawn_once([petit.path, "status", jobs_dir])[2] == 0
            else:
                with open(log_path, errors="replace") as f:
                    ready = " jobs (" in f.read()
            if ready:
                break
            time.sleep(0.05)
        time.sleep(1.0)
        ready_rss = proc_status_kb(daemon.pid, "VmRSS") / 1024.0
        used_rss = None
        if api:
            use_through_api(port, USE_RUNS)
            time.sleep(1.0)
            used_rss = proc_status_kb(daemon.pid, "VmRSS") / 1024.0
        return (ready_rss, used_rss, proc_status_kb(daemon.pid, "VmHWM") / 1024.0)
    finally:
        daemon.terminate()
        daemon.wait(30)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--petit", action="append", default=[],
                        help="LABEL=PATH of a petit binary (repeatable; default "
                             "build/release/bin/petit)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--only", action="append", default=[],
                        help="run only the commands whose name starts with this (repeatable)")
    parser.add_argument("--idle-jobs", type=int, default=100,
                        help="jobs of the idle `petit run` whose memory is measured (0: skip)")
    args = parser.parse_args()
    os.chdir(REPO)  # `validate examples` reads the repository's examples/
    binaries = args.petit or ["petit=" + os.path.join(REPO, "build/release/bin/petit")]

    with tempfile.TemporaryDirectory(prefix="petit-startup-") as scratch:
        petits = []
        for spec in binaries:
            label, _, path = spec.partition("=")
            if not path:
                label, path = os.path.basename(spec), spec
            petits.append(Petit(label, path, scratch))
        try:
            names = [n for n in petits[0].commands()
                     if not args.only or any(n.startswith(o) for o in args.only)]
            if "status (daemon running)" in names:
                for petit in petits:
                    petit.start_daemon()
            wall = {(p.label, n): [] for p in petits for n in names}
            cpu = {(p.label, n): [] for p in petits for n in names}
            floor = []
            for _ in range(args.runs):
                floor.append(spawn_once(["/bin/true"])[0])
                for name in names:
                    for petit in petits:
                        w, c, code = spawn_once(petit.commands()[name])
                        if code != 0:
                            sys.exit("%s: %s exited %d" % (petit.label, name, code))
                        wall[(petit.label, name)].append(w)
                        cpu[(petit.label, name)].append(c)
            mapped = {(p.label, n): mapped_objects(p.commands()[n])
                      for p in petits for n in names}
        finally:
            for petit in petits:
                petit.stop_daemon()
        idle = []
        if args.idle_jobs > 0:
            for storage in ("memory:", "sqlite"):
                for api in (True, False):
                    for petit in petits:
                        idle.append((storage, api, petit.label,
                                     idle_rss(petit, scratch, args.idle_jobs, storage, api)))

    print("%d runs each, binaries taking turns; spawn floor (/bin/true) median %.2f ms; "
          "load average %.2f" % (args.runs, statistics.median(floor), os.getloadavg()[0]))
    print()
    print("| command | petit | wall median ms | wall p90 ms | CPU median ms | shared objects |")
    print("|---|---|---|---|---|---|")
    for name in names:
        for petit in petits:
            key = (petit.label, name)
            print("| %s | %s | %.2f | %.2f | %.2f | %d |" % (
                name, petit.label, statistics.median(wall[key]), percentile(wall[key], 0.9),
                statistics.median(cpu[key]), mapped[key]))
    if idle:
        print()
        print("Idle `petit run` of %d scheduled jobs: VmRSS a second after it is ready, and a "
              "second after %d runs triggered through the API, each read back, and a scrape of "
              "/metrics (API on only):" % (args.idle_jobs, USE_RUNS))
        print()
        print("| store | API | petit | VmRSS MB, ready | VmRSS MB, after use | VmHWM MB |")
        print("|---|---|---|---|---|---|")
        for storage, api, label, (rss, used, hwm) in idle:
            print("| %s | %s | %s | %.1f | %s | %.1f |" % (
                storage.rstrip(":"), "on" if api else "off", label, rss,
                "%.1f" % used if used is not None else "-", hwm))


if __name__ == "__main__":
    main()
