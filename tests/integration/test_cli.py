"""The dengon CLI against a real daemon: output, --json, --help, exit codes."""
import json
import os
import subprocess
import unittest

from dgtest import DENGON, SLOW, DaemonTestCase

COMMANDS = [["status"], ["whoami"], ["plugins"], ["plugin", "enable"], ["plugin", "disable"],
            ["config", "get"], ["config", "set"], ["config", "list"], ["call"],
            ["users"], ["send"], ["inbox"], ["read"], ["watch"]]


class NotRunning(DaemonTestCase):
    def run_cli(self, *args):
        return subprocess.run([DENGON, "--home", os.path.join(self.tmp, "nobody")] + list(args),
                              capture_output=True, text=True, timeout=20 * SLOW)

    def test_exit_3_with_one_line_when_no_daemon(self):
        r = self.run_cli("status")
        self.assertEqual(r.returncode, 3)
        self.assertIn("daemon not running", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        r = self.run_cli("--json", "status")
        self.assertEqual(r.returncode, 3)
        self.assertEqual(json.loads(r.stdout)["error"]["kind"], "not_running")

    def test_usage_errors_exit_2(self):
        for args in (["frobnicate"], ["call"], ["call", "core.status", "{bad json"],
                     ["config", "get"], ["plugin", "explode", "x"], ["--timeout"]):
            r = self.run_cli(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("dengon: "), r.stderr)

    def test_help_everywhere(self):
        r = self.run_cli("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in COMMANDS:
            self.assertIn(" ".join(cmd), r.stdout)
            h = self.run_cli(*cmd, "--help")
            self.assertEqual(h.returncode, 0, (cmd, h.stderr))
            self.assertIn("Calls ", h.stdout)


class AgainstDaemon(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.d = self.daemon().start()

    def test_status_and_whoami(self):
        r = self.d.cli("status")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(self.d.socket_path, r.out)
        st = self.d.cli("status", json_out=True).json()
        self.assertEqual(st["pid"], self.d.proc.pid)
        who = self.d.cli("whoami", json_out=True).json()
        self.assertEqual(who, self.d.result("core.whoami"))
        self.assertIn(who["uuid"], self.d.cli("whoami").out)

    def test_config_round_trip(self):
        r = self.d.cli("config", "set", "identity.nickname", "山田")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("live", r.out)
        got = self.d.cli("config", "get", "identity.nickname", json_out=True).json()
        self.assertEqual((got["value"], got["source"]), ("山田", "user"))
        listing = self.d.cli("config", "list", json_out=True).json()
        self.assertIn("identity.nickname", [e["key"] for e in listing])
        self.assertIn("log.level", self.d.cli("config", "list").out)
        bad = self.d.cli("config", "set", "no.such", "1")
        self.assertEqual(bad.rc, 1)
        self.assertIn("unknown", bad.err)

    def test_call_any_method(self):
        r = self.d.cli("call", "core.methods", json_out=True)
        names = [m["method"] for m in r.json()]
        for m in ("core.status", "config.set", "core.plugin.enable"):
            self.assertIn(m, names)
        r = self.d.cli("call", "config.get", '{"key":"log.level"}', json_out=True)
        self.assertEqual(r.json()["value"], "info")
        r = self.d.cli("call", "no.such.method")
        self.assertEqual(r.rc, 1)
        r = self.d.cli("call", "no.such.method", json_out=True)
        self.assertEqual(r.rc, 1)
        self.assertEqual(r.json()["error"]["code"], -32601)

    def test_plugin_commands_on_unknown_plugin(self):
        r = self.d.cli("plugin", "enable", "nosuch")
        self.assertEqual(r.rc, 1)
        self.assertIn("nosuch", r.err)
        self.assertEqual(self.d.cli("plugins", json_out=True).json(), [])

    def tearDown(self):
        self.assert_clean_exit(self.d)


if __name__ == "__main__":
    unittest.main()
