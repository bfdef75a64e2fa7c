"""The plugin host end to end: the broken-plugin corpus in a real daemon.

Each case must end in its state with its reason (tests/plugins/EXPECTED.md)
while the daemon keeps answering RPC; refused plugins must never have run.
"""
import json
import os
import signal
import subprocess

from dgtest import BUILD_DIR, SLOW, TEST_PLUGINS, DaemonTestCase, wait_until

EVIL_DIR = os.path.join(BUILD_DIR, "tests", "plugins-evil", "ltdl-inject")

EXPECTED = {
    "testgood": ("active", None),
    "testdep": ("active", None),
    "start-crashes": ("active", None),
    "ctor-crashes": ("active", None),
    "no-entry": ("load_failed", "entry symbol 'dg_plugin_entry' not found"),
    "entry-null": ("load_failed", "entry returned NULL"),
    "id-mismatch": ("load_failed", "descriptor id 'someone-else' does not match manifest id 'id-mismatch'"),
    "small-descriptor": ("load_failed", "descriptor too small"),
    "undefined-symbol": ("load_failed", "undefined symbol: dg_test_function_nobody_defines"),
    "ltdl-inject": ("load_failed", "library not found"),
    "start-fails": ("start_failed", "start failed: DG_ERR (deliberate failure after registering everything)"),
    "dep-on-fails": ("unresolved", "depends on start-fails"),
    "abi-major": ("incompatible", "ABI major 2, host speaks 1"),
    "abi-minor": ("incompatible", "needs ABI 1.99, host has 1.2"),
    "wrong-platform": ("incompatible", "built for plan9-mips"),
    "cycle-a": ("unresolved", "dependency cycle: cycle-a -> cycle-b -> cycle-a"),
    "cycle-b": ("unresolved", "dependency cycle: cycle-a -> cycle-b -> cycle-a"),
    "missing-dep": ("unresolved", "depends on nonexistent which is not installed"),
    "off-by-default": ("disabled", "disabled by config"),
    "dup-key": ("invalid", "duplicate key 'name'"),
    "unknown-key": ("invalid", "unknown key 'permisions'"),
}

NEVER_LOADED = ["abi-major", "abi-minor", "wrong-platform", "cycle-a", "cycle-b", "missing-dep",
                "dep-on-fails", "off-by-default", "ltdl-inject", "dup-key", "unknown-key"]


class Corpus(DaemonTestCase):
    def corpus_daemon(self, name="home", **kwargs):
        self.markers = os.path.join(self.tmp, "markers")
        os.makedirs(self.markers, exist_ok=True)
        env = {"DENGON_TEST_MARKER_DIR": self.markers, "LTDL_LIBRARY_PATH": EVIL_DIR}
        return self.daemon(name, plugin_dirs=[TEST_PLUGINS], env=env, **kwargs)

    def assert_states(self, d, expected):
        plugins = d.cli("plugins", json_out=True).json()
        by_id = {p["id"]: p for p in plugins}
        for pid, (state, reason) in expected.items():
            self.assertIn(pid, by_id)
            p = by_id[pid]
            self.assertEqual(p["state"], state, f"{pid}: {p}")
            if reason is None:
                self.assertIsNone(p.get("reason"), f"{pid}: {p}")
            else:
                self.assertIn(reason, p.get("reason") or "", f"{pid}: {p}")

    def test_every_case_ends_in_its_state_and_the_core_keeps_running(self):
        d = self.corpus_daemon().start()
        self.assert_states(d, EXPECTED)
        self.assertEqual(d.result("core.status")["plugins"]["active"], 4)
        # The daemon still answers, and working plugins work.
        self.assertEqual(d.result("testgood.echo", {"a": [1, "二"]}), {"a": [1, "二"]})
        d.result("testgood.publish")
        wait_until(lambda: d.result("testgood.count")["count"] >= 1, what="test.ping delivered")
        self.assertEqual(d.result("testdep.count")["count"], d.result("testgood.count")["count"])
        # Human output names every plugin with its state.
        table = d.cli("plugins")
        self.assertEqual(table.rc, 0)
        for pid, (state, _) in EXPECTED.items():
            self.assertIn(pid, table.out)
        self.assert_clean_exit(d)

    def test_refused_plugins_never_ran_and_injection_is_ignored(self):
        d = self.corpus_daemon().start()
        made = set(os.listdir(self.markers))
        for pid in NEVER_LOADED:
            self.assertNotIn(f"{pid}.loaded", made, pid)
            self.assertNotIn(f"{pid}.started", made, pid)
        # Positive control: the same marker code does leave files once a plugin is opened.
        r = d.cli("plugin", "enable", "off-by-default")
        self.assertEqual(r.rc, 0, r)
        made = set(os.listdir(self.markers))
        self.assertIn("off-by-default.loaded", made)
        self.assertIn("off-by-default.started", made)
        self.assertTrue(os.path.exists(os.path.join(EVIL_DIR, "libltdl-inject.so")),
                        "the injected library must exist for this test to mean anything")
        self.assert_clean_exit(d)

    def test_failed_start_leaves_nothing_behind(self):
        d = self.corpus_daemon().start()
        methods = [m["method"] for m in d.result("core.methods")]
        self.assertIn("testgood.echo", methods)
        self.assertFalse([m for m in methods if m.startswith("startfails.")], methods)
        bus = d.result("core.status")["bus"]
        self.assertNotIn("test.startfails", bus["topics"])
        owners = {s["owner"] for s in bus["subscribers"]}
        self.assertNotIn("start-fails", owners)
        self.assertIn("testgood", owners)
        resp = d.call("startfails.method")
        self.assertEqual(resp["error"]["code"], -32601)
        import time
        time.sleep(0.2 * SLOW)  # its 5 ms timer would have fired by now
        self.assertNotIn("start-fails.ran", os.listdir(self.markers))
        self.assert_clean_exit(d)

    def test_disable_and_enable_live_and_persisted(self):
        d = self.corpus_daemon().start()
        r = d.cli("plugin", "disable", "testgood")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("testgood: disabled (1 dependent stopped: testdep)", r.out)
        self.assert_states(d, {"testgood": ("disabled", "disabled by config"),
                               "testdep": ("unresolved", "depends on testgood")})
        self.assertEqual(d.call("testgood.echo")["error"]["code"], -32601)
        with open(os.path.join(d.home, "config", "dengon.ini")) as f:
            self.assertIn("plugins.testgood.enabled = false", f.read())
        self.assert_clean_exit(d)

        d.start()
        self.assert_states(d, {"testgood": ("disabled", "disabled by config"),
                               "testdep": ("unresolved", "depends on testgood")})
        r = d.cli("plugin", "enable", "testgood")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("testgood: active (1 dependent started: testdep)", r.out)
        self.assertEqual(d.result("testgood.echo", {"x": 1}), {"x": 1})
        bad = d.cli("plugin", "enable", "no-such-plugin")
        self.assertEqual(bad.rc, 1)
        self.assertIn("no plugin 'no-such-plugin'", bad.err)
        self.assert_clean_exit(d)

    def test_config_set_of_enabled_key_applies_live(self):
        d = self.corpus_daemon().start()
        r = d.cli("config", "set", "plugins.testgood.enabled", "false")
        self.assertEqual(r.rc, 0, r)
        wait_until(lambda: d.plugins()["testgood"]["state"] == "disabled", what="testgood disabled")
        self.assertEqual(d.plugins()["testdep"]["state"], "unresolved")
        self.assert_clean_exit(d)

    def test_crash_in_start_is_quarantined_until_enabled(self):
        d = self.corpus_daemon()
        crash_dir = os.path.join(d.home, "data", "plugin-data", "start-crashes")
        os.makedirs(crash_dir, mode=0o700)
        crash = os.path.join(crash_dir, "crash")
        open(crash, "w").close()
        proc = subprocess.run(d.command(), capture_output=True, text=True, timeout=60 * SLOW,
                              env=d.env)
        self.assertNotEqual(proc.returncode, 0, "dengond should have died inside start()")
        sentinel_dir = os.path.join(d.home, "data", "state", "plugins")
        self.assertIn("start-crashes.starting", os.listdir(sentinel_dir))

        d.start()
        self.assert_states(d, {"start-crashes": ("quarantined", "crashed during start on "),
                               "testgood": ("active", None)})
        self.assertIn("dengon plugin enable start-crashes",
                      d.plugins()["start-crashes"]["reason"])
        self.assert_clean_exit(d)
        d.start()  # still quarantined after a clean restart
        self.assertEqual(d.plugins()["start-crashes"]["state"], "quarantined")
        os.unlink(crash)
        r = d.cli("plugin", "enable", "start-crashes")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("start-crashes: active", r.out)
        self.assertNotIn("start-crashes.quarantined", os.listdir(sentinel_dir))
        self.assert_clean_exit(d)

    def test_crash_while_loading_is_quarantined_too(self):
        d = self.corpus_daemon()
        env = dict(d.env, DENGON_TEST_CTOR_CRASH="1")
        proc = subprocess.run(d.command(), capture_output=True, text=True, timeout=60 * SLOW, env=env)
        self.assertNotEqual(proc.returncode, 0, "dengond should have died opening the library")
        d.start()
        self.assert_states(d, {"ctor-crashes": ("quarantined", "crashed during start on "),
                               "testgood": ("active", None)})
        r = d.cli("plugin", "enable", "ctor-crashes")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(d.plugins()["ctor-crashes"]["state"], "active")
        self.assert_clean_exit(d)

    def test_shutdown_stops_plugins_in_reverse_start_order(self):
        d = self.corpus_daemon().start()
        self.assert_clean_exit(d)
        with open(os.path.join(self.markers, "stop-order")) as f:
            order = f.read().split()
        # testdep started after testgood (it depends on it), so it stops first.
        self.assertEqual(order, ["testdep", "testgood"])
        self.assertIn("stopped", d.log_text())

    def test_safe_mode_starts_nothing(self):
        d = self.corpus_daemon(args=["--safe-mode"]).start()
        self.assertEqual(d.result("core.status")["plugins"]["active"], 0)
        self.assertEqual(d.plugins()["unknown-key"]["state"], "invalid")
        self.assertFalse([m for m in os.listdir(self.markers) if m.endswith(".loaded")])
        self.assert_clean_exit(d)

    def test_home_plugins_only_when_allowed(self):
        import shutil
        d = self.daemon("user")
        shutil.copytree(os.path.join(TEST_PLUGINS, "testgood"), os.path.join(d.home, "plugins", "testgood"))
        d.start()
        self.assertEqual(d.result("core.plugins"), [])  # plugins.allow_user defaults to false
        self.assert_clean_exit(d)
        d.options = ["plugins.allow_user=true"]
        d.start()
        self.assertEqual(d.plugins()["testgood"]["state"], "active")
        self.assert_clean_exit(d)

    def test_state_changes_are_bus_events(self):
        d = self.corpus_daemon().start()
        stats = d.result("core.status")["bus"]["topics"]["core.plugin.state"]
        self.assertGreaterEqual(stats["published"], 3)
        d.cli("plugin", "disable", "testdep")
        after = d.result("core.status")["bus"]["topics"]["core.plugin.state"]["published"]
        self.assertGreater(after, stats["published"])
        self.assert_clean_exit(d)


if __name__ == "__main__":
    import unittest
    unittest.main()
