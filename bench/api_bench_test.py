#!/usr/bin/env python3
"""Unit checks of bench/api_bench.py: the store generator (against the real petit binary, which
must read back what it wrote), the wrk output parser, the Lua rotation (wrk against a local
stdlib server), the probe that turns a missing route into "not available", and the fire-delay
query.

    [PETIT=build/release/bin/petit] python3 bench/api_bench_test.py
"""
import http.server
import os
import re
import sqlite3
import subprocess
import shutil
import sys
import tempfile
import threading
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_bench  # noqa: E402

PETIT = os.environ.get("PETIT", os.path.join(api_bench.REPO, "build", "release", "bin", "petit"))

WRK_SAMPLE = """Running 1s test @ http://127.0.0.1:18765/x
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.45ms    9.53ms  70.98ms   94.47%
    Req/Sec     0.92k   369.39     1.60k    80.00%
  Latency Distribution
     50%  812.00us
     75%    4.38ms
     90%    8.60ms
     99%    1.20s
  925 requests in 1.02s, 469.73KB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 925
Requests/sec:    910.98
Transfer/sec:    462.61KB
"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    paths = []
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        with self.lock:
            self.paths.append(self.path)
        status = 404 if self.path.startswith("/missing") else 200
        body = b'{"error":"no route","code":"NOT_FOUND"}' if status == 404 else b'{"status":"ok"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LocalServer:
    def __enter__(self):
        Handler.paths = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class ParsingTest(unittest.TestCase):
    def test_percentile_nearest_rank(self):
        values = list(range(1, 101))
        self.assertEqual(api_bench.percentile(values, 50), 50)
        self.assertEqual(api_bench.percentile(values, 99), 99)
        self.assertEqual(api_bench.percentile(values, 100), 100)
        self.assertEqual(api_bench.percentile([7], 99), 7)
        self.assertEqual(api_bench.percentile([3, 1, 2], 50), 2)

    def test_durations_in_every_unit(self):
        self.assertAlmostEqual(api_bench.parse_duration_ms("812.00us"), 0.812)
        self.assertAlmostEqual(api_bench.parse_duration_ms("4.38ms"), 4.38)
        self.assertAlmostEqual(api_bench.parse_duration_ms("1.20s"), 1200)
        self.assertAlmostEqual(api_bench.parse_duration_ms("2.00m"), 120000)
        for bad in ("", "4.38", "ms", "4.38 hours"):
            with self.assertRaises(ValueError):
                api_bench.parse_duration_ms(bad)

    def test_wrk_output(self):
        r = api_bench.parse_wrk(WRK_SAMPLE)
        self.assertAlmostEqual(r["rps"], 910.98)
        self.assertEqual(r["requests"], 925)
        self.assertEqual(r["non_2xx"], 925)
        self.assertEqual(r["socket_errors"], 5)
        self.assertAlmostEqual(r["percentiles"][50], 0.812)
        self.assertAlmostEqual(r["percentiles"][99], 1200)

    def test_wrk_output_without_errors_or_rate(self):
        clean = "\n".join(l for l in WRK_SAMPLE.splitlines() if "Non-2xx" not in l and "Socket" not in l)
        r = api_bench.parse_wrk(clean)
        self.assertEqual((r["non_2xx"], r["socket_errors"]), (0, 0))
        with self.assertRaises(ValueError):
            api_bench.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")

    def test_expected_occurrences_counts_whole_seconds(self):
        self.assertEqual(api_bench.expected_occurrences(1000, 10_000_000, 25_000_000), 15000)
        self.assertEqual(api_bench.expected_occurrences(2, 10_500_000, 12_500_000), 4)  # 11 s, 12 s
        self.assertEqual(api_bench.expected_occurrences(5, 10_000_001, 10_999_999), 0)

    def test_expected_occurrences_spread_counts_the_jobs_of_each_second(self):
        # 130 jobs: seconds 0..9 of a minute have 3 jobs each (i, i + 60, i + 120), the others 2.
        self.assertEqual(api_bench.expected_occurrences(130, 60_000_000, 120_000_000, spread=60), 130)
        self.assertEqual(api_bench.expected_occurrences(130, 60_000_000, 62_000_000, spread=60), 6)
        self.assertEqual(api_bench.expected_occurrences(130, 70_000_000, 71_000_000, spread=60), 2)
        # All at second 0: one burst a minute.
        self.assertEqual(api_bench.expected_occurrences(130, 59_000_000, 121_000_000, spread=1), 260)
        self.assertEqual(api_bench.expected_occurrences(130, 61_000_000, 119_000_000, spread=1), 0)

    def test_spread_tick_job_fires_once_a_minute(self):
        self.assertIn('schedule: "7 * * * * *"', api_bench.tick_job_yaml("tick0007", 7))
        self.assertIn('schedule: "* * * * * *"', api_bench.tick_job_yaml("tick0007"))

    def test_uuid7_is_version_7_and_time_ordered(self):
        import random
        rng = random.Random(1)
        a = api_bench.uuid7(1796181529981, rng)
        b = api_bench.uuid7(1796181529982, rng)
        self.assertEqual(uuid.UUID(a).version, 7)
        self.assertEqual(uuid.UUID(a).variant, uuid.RFC_4122)
        self.assertEqual(int(a.replace("-", "")[:12], 16), 1796181529981)
        self.assertLess(a, b)


class TableTest(unittest.TestCase):
    def test_skip_and_verdicts(self):
        t = api_bench.Table()
        t.add("a", "1", "< 2", True)
        t.add("b", "3", "< 2", False)
        t.skip("c", "not available: GET /x answered 404", "< 2")
        t.add("load", "0.1")
        text = t.render()
        self.assertRegex(text, r"a\s+1\s+< 2\s+PASS")
        self.assertRegex(text, r"b\s+3\s+< 2\s+MISS")
        self.assertRegex(text, r"c\s+not available: GET /x answered 404\s+< 2\s+SKIP")
        self.assertRegex(text, r"(?m)^load\s+0.1$")


class ProbeTest(unittest.TestCase):
    def test_missing_route_is_not_available(self):
        with LocalServer() as s:
            why = api_bench.probe("127.0.0.1", s.port, "/missing/123", "/missing/{id}")
            self.assertIsNotNone(why)
            self.assertEqual("not available: GET /missing/{id} answered 404 (NOT_FOUND: no route)", why)
            self.assertIsNone(api_bench.probe("127.0.0.1", s.port, "/api/health"))

    def test_nothing_listening_is_not_available(self):
        port = api_bench.free_port()
        why = api_bench.probe("127.0.0.1", port, "/api/health")
        self.assertIn("not available: GET /api/health: nothing answers", why)


@unittest.skipUnless(shutil.which("wrk"), "wrk is not installed")
class LuaRotationTest(unittest.TestCase):
    def test_paths_rotate_over_the_ids(self):
        with tempfile.TemporaryDirectory() as work, LocalServer() as s:
            ids = ["id%03d" % i for i in range(5)]
            ids_file = os.path.join(work, "ids.txt")
            with open(ids_file, "w") as f:
                f.write("\n".join(ids) + "\n")
            lua = os.path.join(work, "rotate.lua")
            with open(lua, "w") as f:
                f.write(api_bench.LUA_ROTATE)

            class Args:
                threads, connections, duration = 1, 2, 1
            result, cmd = api_bench.run_wrk("http://127.0.0.1:%d" % s.port, "/r/id000/tasks", Args,
                                            lua, ("/r/", "/tasks", ids_file))
            self.assertGreater(result["requests"], 10)
            self.assertEqual(result["non_2xx"], 0)
            seen = set(Handler.paths)
            self.assertEqual(seen, {"/r/%s/tasks" % i for i in ids})


@unittest.skipUnless(os.access(PETIT, os.X_OK), "no petit binary at " + PETIT)
class GeneratorTest(unittest.TestCase):
    RUNS = 300

    @classmethod
    def setUpClass(cls):
        cls.cache = tempfile.mkdtemp(prefix="api-bench-test-")
        cls.path, cls.seconds, cls.version = api_bench.generate_store(
            PETIT, cls.RUNS, 20, cls.cache, log=lambda *a: None)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.cache, ignore_errors=True)

    def query(self, sql, *params):
        con = sqlite3.connect(self.path)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def test_counts_and_shape(self):
        self.assertEqual(self.query("SELECT COUNT(*) FROM runs")[0][0], self.RUNS)
        self.assertEqual(self.query("SELECT COUNT(*) FROM task_attempts")[0][0], self.RUNS * 20)
        per_run = self.query("SELECT COUNT(*) FROM task_attempts GROUP BY run_id")
        self.assertEqual({n for (n,) in per_run}, {20})
        statuses = dict(self.query("SELECT status, COUNT(*) FROM runs GROUP BY status"))
        self.assertEqual(statuses, {"succeeded": self.RUNS - self.RUNS // 50, "failed": self.RUNS // 50})
        self.assertEqual(self.query("SELECT DISTINCT job_id, triggered_by FROM runs"),
                         [("history", "schedule")])

    def test_values_as_petit_stores_them(self):
        states = {s for (s,) in self.query("SELECT DISTINCT state FROM task_attempts")}
        self.assertEqual(states, {"succeeded", "failed", "upstream_failed"})
        for run_id, created, started, ended, occurrence in self.query(
                "SELECT id, created_at, started_at, ended_at, occurrence_at FROM runs"):
            self.assertEqual(uuid.UUID(run_id).version, 7)
            self.assertEqual(int(run_id.replace("-", "")[:12], 16), created // 1000)
            self.assertLessEqual(occurrence, created)
            self.assertLessEqual(created, started)
            self.assertLessEqual(started, ended)
            self.assertEqual(occurrence % api_bench.RUN_INTERVAL_US, 0)
        # Never-run tasks keep attempt 0 and no start, as petit writes them.
        self.assertEqual(self.query("SELECT DISTINCT attempt, started_at FROM task_attempts "
                                    "WHERE state = 'upstream_failed'"), [(0, None)])
        for (n,) in self.query("SELECT COUNT(*) FROM task_attempts a JOIN runs r ON r.id = a.run_id "
                               "WHERE a.started_at < r.created_at OR a.ended_at > r.ended_at"):
            self.assertEqual(n, 0)

    def test_petit_reads_the_store_back(self):
        out = subprocess.run([PETIT, "runs", "--storage", "sqlite://" + self.path, "--limit", str(self.RUNS)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual(len(re.findall(r"(?m)^[0-9a-f-]{36}\s+history\s+", out.stdout)), self.RUNS)

    def test_cached_on_second_call(self):
        path, seconds, version = api_bench.generate_store(PETIT, self.RUNS, 20, self.cache,
                                                          log=lambda *a: None)
        self.assertEqual(path, self.path)
        self.assertIsNone(seconds)
        self.assertIsNotNone(self.seconds)
        self.assertIn("schema%d" % version, os.path.basename(path))

    def test_fire_delays_select_tick_schedule_runs_in_window(self):
        with tempfile.TemporaryDirectory() as work:
            db = os.path.join(work, "s.db")
            shutil.copyfile(self.path, db)
            con = sqlite3.connect(db)
            cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
            template = dict(zip(cols, con.execute("SELECT * FROM runs LIMIT 1").fetchone()))
            import random
            rng = random.Random(3)
            rows = [("tick0001", "schedule", 5_000_000, 5_001_500),
                    ("tick0002", "schedule", 6_000_000, 6_000_200),
                    ("tick0002", "manual", None, 6_000_300),        # not a schedule fire
                    ("tick0003", "schedule", 9_000_000, 9_004_000),  # outside the window
                    ("other", "schedule", 5_000_000, 5_009_000)]     # not a tick job
            for job, trigger, occurrence, created in rows:
                r = dict(template, id=api_bench.uuid7(created // 1000, rng), job_id=job,
                         triggered_by=trigger, occurrence_at=occurrence, created_at=created,
                         started_at=created + 100)
                con.execute("INSERT INTO runs (%s) VALUES (%s)" % (", ".join(cols), ", ".join("?" * len(cols))),
                            [r[c] for c in cols])
            con.commit()
            con.close()
            got = api_bench.fire_delays(db, {"w": (5_000_000, 7_000_000)})
            self.assertEqual(sorted(got["w"][0]), [200, 1500])
            self.assertEqual(sorted(got["w"][1]), [300, 1600])


if __name__ == "__main__":
    unittest.main()
