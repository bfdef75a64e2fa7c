"""core.events (the ring of recent events, long poll) and `dengon watch`."""
import json
import os
import signal
import socket
import subprocess
import time

from dgtest import DENGON, SLOW, TEST_PLUGINS, DaemonTestCase, read_line, wait_until


class Events(DaemonTestCase):
    def start_daemon(self, options=()):
        return self.daemon(plugin_dirs=[TEST_PLUGINS], options=list(options)).start()

    def events(self, d, **params):
        return d.result("core.events", params)

    def newest(self, d):
        return self.events(d)["next"]

    def open_call(self, d, params):
        """Sends core.events and returns the socket without reading the answer."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.settimeout(20 * SLOW)
        s.connect(d.socket_path)
        s.sendall(json.dumps({"id": 7, "method": "core.events", "params": params}).encode() + b"\n")
        return s

    def wait_parked(self, d, n=1):
        # Our own core.status call is pending while it runs: parked calls are the rest.
        wait_until(lambda: d.result("core.status")["control"]["pending"] >= n + 1,
                   what=f"{n} parked call(s)")

    def test_immediate_answer_after_seq(self):
        d = self.start_daemon()
        start = self.newest(d)
        for i in range(3):
            d.result("testgood.publish", {"n": i})
        r = self.events(d, after=start, pattern="test.*")
        self.assertEqual([e["topic"] for e in r["events"]], ["test.ping"] * 3)
        self.assertEqual([e["payload"] for e in r["events"]], [{"n": 0}, {"n": 1}, {"n": 2}])
        seqs = [e["seq"] for e in r["events"]]
        self.assertEqual(seqs, sorted(seqs))
        self.assertGreater(seqs[0], start)
        self.assertEqual(r["dropped"], 0)
        now_ms = time.time() * 1000
        for e in r["events"]:
            self.assertLess(abs(e["time_ms"] - now_ms), 60000)
        # Nothing after next: an empty answer with the same next.
        again = self.events(d, after=r["next"], pattern="test.*")
        self.assertEqual((again["events"], again["next"]), ([], r["next"]))
        # limit: the first two, and next points at the second.
        two = self.events(d, after=start, pattern="test.*", limit=2)
        self.assertEqual(len(two["events"]), 2)
        self.assertEqual(two["next"], two["events"][1]["seq"])
        self.assert_clean_exit(d)

    def test_pattern_filtering(self):
        d = self.start_daemon()
        d.result("testgood.publish", {"x": 1})
        everything = self.events(d, after=0)
        topics = {e["topic"] for e in everything["events"]}
        self.assertIn("test.ping", topics)
        self.assertIn("core.daemon.ready", topics)
        core = self.events(d, after=0, pattern="core.**")
        self.assertTrue(core["events"])
        self.assertTrue(all(e["topic"].startswith("core.") for e in core["events"]))
        # "core.*" is one segment: core.plugin.state is not in it.
        one = self.events(d, after=0, pattern="core.*")
        self.assertFalse([e for e in one["events"] if e["topic"].count(".") != 1], one)
        self.assertEqual(self.events(d, after=0, pattern="chat.*")["events"], [])
        # Bad parameters: a clear error, not an answer.
        for params in ({"pattern": "Bad Pattern"}, {"pattern": 3}, {"wait_ms": 30001},
                       {"wait_ms": -1}, {"after": "x"}, {"limit": 0}):
            resp = d.call("core.events", params)
            self.assertEqual(resp.get("error", {}).get("code"), -32602, (params, resp))
        self.assert_clean_exit(d)

    def test_parked_call_answered_by_publish(self):
        d = self.start_daemon()
        start = self.newest(d)
        s = self.open_call(d, {"after": start, "pattern": "test.*", "wait_ms": 20000})
        self.wait_parked(d)
        # An event that does not match leaves it parked.
        d.result("core.plugin.disable", {"id": "testdep"})
        s.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            s.recv(1)
        s.settimeout(20 * SLOW)
        t0 = time.monotonic()
        d.result("testgood.publish", {"hello": "world"})
        resp = json.loads(read_line(s))
        self.assertLess(time.monotonic() - t0, 5 * SLOW)
        events = resp["result"]["events"]
        self.assertEqual([(e["topic"], e["payload"]) for e in events],
                         [("test.ping", {"hello": "world"})])
        self.assertEqual(resp["result"]["next"], events[0]["seq"])
        self.assert_clean_exit(d)

    def test_wait_timeout_returns_empty(self):
        d = self.start_daemon()
        t0 = time.monotonic()
        r = self.events(d, pattern="nothing.here", wait_ms=400)
        elapsed = time.monotonic() - t0
        self.assertEqual(r["events"], [])
        self.assertGreaterEqual(elapsed, 0.35)
        self.assertLess(elapsed, 10 * SLOW)
        # The timer is gone with the answer: nothing is left pending.
        self.assertEqual(d.result("core.status")["control"]["pending"], 1)
        self.assert_clean_exit(d)

    def test_parked_calls_answered_at_shutdown(self):
        d = self.start_daemon()
        s = self.open_call(d, {"pattern": "nothing.here", "wait_ms": 30000})
        self.wait_parked(d)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        resp = json.loads(read_line(s))
        self.assertEqual(resp["result"]["events"], [])
        self.assertLess(time.monotonic() - t0, 10 * SLOW)
        # Let it finish the shutdown this SIGTERM started: a second one (from
        # assert_clean_exit) may land after the signal handlers are gone.
        d.proc.wait(10 * SLOW)
        self.assert_clean_exit(d)

    def test_ring_overflow_reports_dropped(self):
        d = self.start_daemon(options=["bus.recent_events=4"])
        for i in range(10):
            d.result("testgood.publish", {"i": i})
        r = self.events(d, after=0)
        self.assertEqual(len(r["events"]), 4)
        self.assertEqual(r["dropped"], r["next"] - 4)
        self.assertEqual([e["payload"] for e in r["events"]][-1], {"i": 9})
        # A reader that kept up loses nothing.
        start = self.newest(d)
        d.result("testgood.publish", {"i": 10})
        self.assertEqual(self.events(d, after=start)["dropped"], 0)
        self.assertEqual(d.result("config.get", {"key": "bus.recent_events"})["value"], "4")
        self.assert_clean_exit(d)

    def test_plugin_state_events(self):
        d = self.start_daemon()
        start = self.newest(d)
        d.result("core.plugin.disable", {"id": "testdep"})
        d.result("core.plugin.enable", {"id": "testdep"})
        r = self.events(d, after=start, pattern="core.plugin.state")
        states = [e["payload"]["state"] for e in r["events"] if e["payload"]["id"] == "testdep"]
        self.assertIn("disabled", states)
        self.assertEqual(states[-1], "active")
        self.assertLess(states.index("disabled"), len(states) - 1)
        self.assert_clean_exit(d)


class Watch(DaemonTestCase):
    def watcher(self, d, *args):
        cmd = [DENGON, "--home", d.home, "--timeout", "1", "watch"] + list(args)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=d.env)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(),
                                 p.stdout.close(), p.stderr.close()))
        # Its first call parks in the daemon: from then on nothing is missed.
        wait_until(lambda: d.result("core.status")["control"]["pending"] >= 2,
                   what="the watcher's call")
        return p

    def test_watch_json_lines_and_sigint(self):
        d = self.daemon(plugin_dirs=[TEST_PLUGINS]).start()
        p = self.watcher(d, "test.*", "--json")
        for i in range(3):
            d.result("testgood.publish", {"i": i})
        lines = [json.loads(p.stdout.readline()) for _ in range(3)]
        self.assertEqual([e["topic"] for e in lines], ["test.ping"] * 3)
        self.assertEqual([e["payload"] for e in lines], [{"i": 0}, {"i": 1}, {"i": 2}])
        self.assertEqual(sorted(e["seq"] for e in lines), [e["seq"] for e in lines])
        # Longer than --timeout 1: watch is bounded per call, not by --timeout.
        time.sleep(1.5)
        self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(10 * SLOW), 0)
        self.assertEqual(p.stdout.read(), "")
        self.assert_clean_exit(d)

    def test_watch_human_lines(self):
        d = self.daemon(plugin_dirs=[TEST_PLUGINS]).start()
        p = self.watcher(d)
        d.result("testgood.publish", {"text": "a\x1bb"})
        line = p.stdout.readline()
        self.assertRegex(line, r"^\d\d:\d\d:\d\d\.\d{3} test\.ping ")
        self.assertNotIn("\x1b", line)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(10 * SLOW), 0)
        self.assert_clean_exit(d)

    def test_daemon_stopping_exits_3(self):
        d = self.daemon(plugin_dirs=[TEST_PLUGINS]).start()
        p = self.watcher(d, "test.*")
        self.assert_clean_exit(d)
        self.assertEqual(p.wait(15 * SLOW), 3)
        err = p.stderr.read()
        self.assertIn("daemon not running", err)

    def test_bad_pattern_fails(self):
        d = self.daemon().start()
        r = d.cli("watch", "Not A Pattern")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("pattern", r.err)
        self.assert_clean_exit(d)
