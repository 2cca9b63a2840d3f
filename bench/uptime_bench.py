#!/usr/bin/env python3
"""Long uptime (issue 14, item 4): the RSS of one `petit run` process over RUNS runs.

    cmake --preset release && cmake --build --preset release -j2 --target petit builtin.so
    python3 bench/uptime_bench.py                         # 100,000 runs, SQLite store
    python3 bench/uptime_bench.py --storage memory        # the memory store (holds every run)
    python3 bench/uptime_bench.py --runs 20000 --sample-every 500

The daemon: `petit run` on a jobs directory of CLIENTS jobs `one0`... (one builtin `noop` task,
max_active_runs 0: unlimited, no schedule) and TICKS jobs `tick0`... (one `noop` task on
`* * * * * *`), the API on a free 127.0.0.1 port, and one subscriber following
GET /api/v1/events (the event journal and the SSE path are exercised as a dashboard would).
CLIENTS threads each trigger their own `one` job through POST /api/v1/jobs/{id}/trigger on a
keep-alive connection until RUNS runs were accepted in all; the ticks fire every second
meanwhile (their runs are counted from the store at the end). Every SAMPLE_EVERY accepted
triggers, VmRSS, RssAnon, RssFile and the thread count are read from /proc/PID/status, and
GET /metrics is scraped once (so its per-run bookkeeping is exercised too).

The report: the samples (a table), then first / last / max RSS, and the growth of RSS and of
RssAnon from the sample at 10% of the runs to the last one (the first 10% fill the bounded
caches: the event journal's ring, SQLite's page cache, the allocator's arenas, the run threads).
Target: within +-5%. RssFile is shown apart: with SQLite it holds the pages of the growing store
file that the process mapped (SQLite's shared-memory index), which the kernel may drop at will.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """{field: value} of /proc/PID/status; sizes in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            parts = value.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0])
    return out


def smaps(pid):
    """{(start address, name): Rss KiB} of every mapping of the process."""
    out = {}
    key = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split()
                key = (parts[0].split("-")[0], parts[5] if len(parts) > 5 else "[anon]")
                out[key] = 0
            elif first == "Rss:" and key is not None:
                out[key] = int(line.split()[1])
    return out


def smaps_growth(before, after, top=8):
    """The mappings whose Rss grew most between two smaps() snapshots, as text lines."""
    grown = []
    for key, rss in after.items():
        delta = rss - before.get(key, 0)
        if delta:
            grown.append((delta, key))
    for key, rss in before.items():
        if key not in after and rss:
            grown.append((-rss, key + ("(gone)",)))
    grown.sort(reverse=True)
    total = sum(d for d, _ in grown)
    lines = ["Rss growth by mapping from 10%% of the runs to the end: %+d KiB in all" % total]
    for delta, key in grown[:top]:
        lines.append("  %+6d KiB  %s" % (delta, " ".join(key)))
    return lines


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_jobs(work, clients, ticks, port, storage):
    jobs_dir = os.path.join(work, "jobs")
    os.makedirs(jobs_dir)
    for i in range(clients):
        with open(os.path.join(jobs_dir, "one%d.yaml" % i), "w") as f:
            f.write("id: one%d\nmax_active_runs: 0\ntasks:\n  - id: t\n    type: noop\n" % i)
    for i in range(ticks):
        with open(os.path.join(jobs_dir, "tick%d.yaml" % i), "w") as f:
            f.write("id: tick%d\nschedule: \"* * * * * *\"\ntasks:\n  - id: t\n    type: noop\n" % i)
    config = os.path.join(work, "petit.yaml")
    with open(config, "w") as f:
        f.write("storage: '%s'\napi:\n  enabled: true\n  bind: 127.0.0.1\n  port: %d\n"
                "logging:\n  level: warn\n" % (storage, port))
    return jobs_dir, config


class Counter:
    def __init__(self, target):
        self.lock = threading.Lock()
        self.cv = threading.Condition(self.lock)
        self.accepted = 0
        self.in_flight = 0
        self.refused = 0
        self.errors = 0
        self.target = target

    def take(self):
        """A ticket for one more trigger, or None once RUNS were accepted or are being asked."""
        with self.lock:
            if self.accepted + self.in_flight >= self.target:
                return None
            self.in_flight += 1
            return True

    def done(self, ok, status):
        with self.cv:
            self.in_flight -= 1
            if ok:
                self.accepted += 1
            elif status == 429:
                self.refused += 1
            else:
                self.errors += 1
            self.cv.notify_all()


def client(port, job, counter, failures):
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    path = "/api/v1/jobs/%s/trigger" % job
    while counter.take():
        try:
            con.request("POST", path, body=b"", headers={"Content-Length": "0"})
            resp = con.getresponse()
            resp.read()
            counter.done(resp.status == 202, resp.status)
            if resp.status not in (202, 429):
                failures.append("%s answered %d" % (path, resp.status))
                if len(failures) > 20:
                    return
        except (OSError, http.client.HTTPException) as e:
            failures.append("%s: %s" % (path, e))
            counter.done(False, None)
            con.close()
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            time.sleep(0.1)
            if len(failures) > 20:
                return
    con.close()


def follow_events(port, stop, seen):
    """Reads GET /api/v1/events (SSE) until `stop`, counting event lines."""
    while not stop.is_set():
        try:
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            con.request("GET", "/api/v1/events")
            resp = con.getresponse()
            if resp.status != 200:
                seen["status"] = resp.status
                return
            while not stop.is_set():
                line = resp.fp.readline()
                if not line:
                    break
                if line.startswith(b"id:"):
                    seen["events"] = seen.get("events", 0) + 1
            con.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)


def scrape_metrics(port):
    try:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        con.request("GET", "/metrics")
        resp = con.getresponse()
        body = resp.read()
        con.close()
        return len(body) if resp.status == 200 else -resp.status
    except (OSError, http.client.HTTPException):
        return -1


def mib(kib):
    return "%.1f" % (kib / 1024.0)


def bench(args):
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    load_before = os.getloadavg()
    work = tempfile.mkdtemp(prefix="petit-uptime-bench-")
    proc = None
    try:
        port = args.port or free_port()
        db = os.path.join(work, "store.db")
        storage = "memory:" if args.storage == "memory" else "sqlite://" + db
        jobs_dir, config = write_jobs(work, args.clients, args.ticks, port, storage)
        log_path = os.path.join(work, "petit.log")
        log_file = open(log_path, "w")
        proc = subprocess.Popen([args.petit, "run", jobs_dir, "--config", config],
                                stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file)
        deadline = time.monotonic() + 60
        while True:
            try:
                con = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                con.request("GET", "/api/health")
                if con.getresponse().status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                with open(log_path) as f:
                    raise RuntimeError("petit run did not answer /api/health:\n" + f.read()[-2000:])
            time.sleep(0.1)
        start_status = proc_status(proc.pid)
        stop = threading.Event()
        seen = {}
        follower = threading.Thread(target=follow_events, args=(port, stop, seen), daemon=True)
        follower.start()

        counter = Counter(args.runs)
        failures = []
        threads = [threading.Thread(target=client, args=(port, "one%d" % i, counter, failures),
                                    daemon=True) for i in range(args.clients)]
        t0 = time.monotonic()
        cpu0 = cpu_seconds(proc.pid)
        for t in threads:
            t.start()
        samples = []  # (runs accepted, seconds, status, metrics bytes)
        smaps_tenth = None
        next_sample = 0
        while True:
            with counter.cv:
                while counter.accepted < next_sample and any(t.is_alive() for t in threads):
                    counter.cv.wait(timeout=1)
                accepted = counter.accepted
            if accepted >= next_sample:
                size = scrape_metrics(port)
                samples.append((accepted, time.monotonic() - t0, proc_status(proc.pid), size))
                if args.smaps and smaps_tenth is None and accepted >= args.runs // 10:
                    smaps_tenth = smaps(proc.pid)
                next_sample += args.sample_every
            if accepted >= args.runs or not any(t.is_alive() for t in threads):
                break
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
        # Let the last runs end, then one more sample: what the idle process keeps.
        time.sleep(args.settle)
        samples.append((counter.accepted, time.monotonic() - t0, proc_status(proc.pid),
                        scrape_metrics(port)))
        smaps_end = smaps(proc.pid) if args.smaps else None
        stop.set()
        load_after = os.getloadavg()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
        proc = None
        log_file.close()

        ticked = 0
        if args.storage == "sqlite":
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            ticked = con.execute("SELECT count(*) FROM runs WHERE job_id LIKE 'tick%'").fetchone()[0]
            total = con.execute("SELECT count(*) FROM runs").fetchone()[0]
            con.close()
        else:
            total = None

        print("petit run: %s store, %d trigger clients, %d jobs on * * * * * *"
              % (args.storage, args.clients, args.ticks))
        print("at start: VmRSS %s MiB, RssAnon %s MiB, %d threads"
              % (mib(start_status["VmRSS"]), mib(start_status["RssAnon"]), start_status["Threads"]))
        print()
        print("%10s %8s %9s %9s %9s %9s %8s %10s" % ("runs", "s", "VmRSS MiB", "RssAnon", "RssFile",
                                                     "VmHWM", "threads", "/metrics B"))
        for accepted, secs, st, size in samples:
            print("%10d %8.1f %9s %9s %9s %9s %8d %10d" % (
                accepted, secs, mib(st["VmRSS"]), mib(st["RssAnon"]), mib(st["RssFile"]),
                mib(st["VmHWM"]), st["Threads"], size))
        print()
        rss = [s[2]["VmRSS"] for s in samples]
        anon = [s[2]["RssAnon"] for s in samples]
        # The sample at (or just after) 10% of the runs.
        tenth = next(i for i, s in enumerate(samples) if s[0] >= args.runs // 10)
        growth = 100.0 * (rss[-1] - rss[tenth]) / rss[tenth]
        anon_growth = 100.0 * (anon[-1] - anon[tenth]) / anon[tenth]
        max_after = max(rss[tenth:])
        print("runs triggered through the API: %d (%d refused, %d errors) in %.1f s: %.0f runs/s, "
              "petit run CPU %.0f%% of one core" % (counter.accepted, counter.refused, counter.errors,
                                                    elapsed, counter.accepted / elapsed, 100 * cpu / elapsed))
        if total is not None:
            print("runs in the store: %d (%d of them scheduled ticks)" % (total, ticked))
        print("events read from GET /api/v1/events: %d%s" % (
            seen.get("events", 0), " (answered %d)" % seen["status"] if "status" in seen else ""))
        print("VmRSS first / at 10%% / last / max: %s / %s / %s / %s MiB" % (
            mib(rss[0]), mib(rss[tenth]), mib(rss[-1]), mib(max(rss))))
        print("growth from 10%% of the runs to the end: VmRSS %+.1f%%, RssAnon %+.1f%% "
              "(max after 10%%: %+.1f%%); target within +-5%%: %s" % (
                  growth, anon_growth, 100.0 * (max_after - rss[tenth]) / rss[tenth],
                  "PASS" if abs(growth) <= 5 and abs(anon_growth) <= 5 else "MISS"))
        if smaps_tenth is not None and smaps_end is not None:
            print("\n".join(smaps_growth(smaps_tenth, smaps_end)))
        print("petit run exited %d" % code)
        print("load average before %.2f / %.2f / %.2f, after %.2f / %.2f / %.2f" % (load_before + load_after))
        if failures:
            print("failures (first): " + "; ".join(failures[:5]))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"samples": [(a, s, st, m) for a, s, st, m in samples],
                           "growth_pct": growth, "anon_growth_pct": anon_growth}, f)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        if args.keep:
            log("kept " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--petit", default=os.path.join(REPO, "build", "release", "bin", "petit"))
    ap.add_argument("--runs", type=int, default=100000, help="runs triggered through the API")
    ap.add_argument("--storage", choices=("sqlite", "memory"), default="sqlite")
    ap.add_argument("--clients", type=int, default=4, help="trigger threads, one job each")
    ap.add_argument("--ticks", type=int, default=10, help="jobs firing every second meanwhile")
    ap.add_argument("--sample-every", type=int, default=5000, help="runs between RSS samples")
    ap.add_argument("--settle", type=float, default=3, help="seconds after the last trigger")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--json", help="also write the samples here")
    ap.add_argument("--smaps", action="store_true",
                    help="also print which mappings grew from 10%% of the runs to the end")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (store, log)")
    args = ap.parse_args(argv)
    if args.runs < 10 or args.sample_every < 1:
        ap.error("--runs >= 10 and --sample-every >= 1")
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
