"""dengond end to end: home folder, identity, config layers, signals, control socket."""
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import unittest

from dgtest import BUILD_DIR, DENGOND, SANITIZED, SLOW, Daemon, DaemonTestCase, read_line, wait_until


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class HomeFolder(DaemonTestCase):
    def test_banner_names_home_socket_and_plugins(self):
        d = self.daemon().start()
        out = d.stdout_text()
        self.assertIn("ready in", out)
        self.assertIn(d.home, out)
        self.assertIn(d.socket_path, out)
        self.assertIn("plugins: none", out)
        self.assert_clean_exit(d)

    def test_folders_are_private_and_socket_is_0600(self):
        d = self.daemon().start()
        for sub in ("", "config", "data", "logs", "run"):
            self.assertEqual(mode(os.path.join(d.home, sub)), 0o700, sub)
        self.assertEqual(mode(d.socket_path), 0o600)
        self.assertEqual(mode(os.path.join(d.home, "data", "identity.uuid")), 0o600)
        self.assertTrue(os.path.getsize(os.path.join(d.home, "logs", "dengond.log")) > 0)
        self.assert_clean_exit(d)

    def test_existing_home_is_tightened(self):
        home = os.path.join(self.tmp, "loose")
        os.makedirs(home, mode=0o755)
        os.chmod(home, 0o755)
        d = Daemon(home)
        self.daemons.append(d)
        d.start()
        self.assertEqual(mode(home), 0o700)
        self.assert_clean_exit(d)

    def test_identity_survives_restart_and_moves_with_the_folder(self):
        d = self.daemon("pc1").start()
        first = d.result("core.whoami")
        self.assertRegex(first["uuid"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertRegex(first["cloud_key"], r"^[0-9a-f]{64}$")
        self.assertEqual(first["lan_key"], f"{first['user']}@{first['host']}")
        self.assert_clean_exit(d)

        d.start()
        self.assertEqual(d.result("core.whoami")["uuid"], first["uuid"])
        self.assert_clean_exit(d)

        moved = os.path.join(self.tmp, "pc2")
        shutil.copytree(d.home, moved, symlinks=True)
        d2 = Daemon(moved)
        self.daemons.append(d2)
        d2.start()
        self.assertEqual(d2.result("core.whoami")["uuid"], first["uuid"])
        self.assert_clean_exit(d2)

    def test_corrupt_identity_is_refused_not_replaced(self):
        d = self.daemon().start()
        self.assert_clean_exit(d)
        path = os.path.join(d.home, "data", "identity.uuid")
        with open(path, "w") as f:
            f.write("not-a-uuid\n")
        proc = subprocess.run(d.command(), capture_output=True, text=True, timeout=20 * SLOW)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("identity.uuid", proc.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), "not-a-uuid\n")

    def test_xdg_directories_without_home(self):
        env = {
            "XDG_CONFIG_HOME": os.path.join(self.tmp, "xdg-config"),
            "XDG_DATA_HOME": os.path.join(self.tmp, "xdg-data"),
            "XDG_STATE_HOME": os.path.join(self.tmp, "xdg-state"),
            "XDG_RUNTIME_DIR": os.path.join(self.tmp, "xdg-run"),
        }
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
        full_env = dict(os.environ, **env)
        full_env.pop("DENGON_HOME", None)
        log = open(os.path.join(self.tmp, "xdg.out"), "w")
        proc = subprocess.Popen([DENGOND, "--no-system-plugins", "--system-config", "/nonexistent"],
                                env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            sock = os.path.join(env["XDG_RUNTIME_DIR"], "dengon", "control.sock")
            wait_until(lambda: os.path.exists(sock), what="XDG control socket")
            self.assertTrue(os.path.exists(os.path.join(env["XDG_DATA_HOME"], "dengon", "identity.uuid")))
            self.assertTrue(os.path.isdir(os.path.join(env["XDG_CONFIG_HOME"], "dengon")))
            self.assertTrue(os.path.exists(os.path.join(env["XDG_STATE_HOME"], "dengon", "logs", "dengond.log")))
            cli = subprocess.run([os.path.join(os.path.dirname(DENGOND), "dengon"), "--json", "status"],
                                 env=full_env, capture_output=True, text=True, timeout=20 * SLOW)
            self.assertEqual(cli.returncode, 0, cli.stderr)
            self.assertEqual(json.loads(cli.stdout)["socket"], sock)
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(10 * SLOW), 0)
            log.close()

    def test_dengon_home_environment_variable(self):
        home = os.path.join(self.tmp, "envhome")
        d = Daemon(home, env={"DENGON_HOME": home})
        self.daemons.append(d)
        cmd = [c for c in d.command()]
        i = cmd.index("--home")
        del cmd[i:i + 2]
        log = open(os.path.join(self.tmp, "env.out"), "w")
        d.proc = subprocess.Popen(cmd, env=dict(os.environ, DENGON_HOME=home), stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: os.path.exists(d.socket_path), what="socket in $DENGON_HOME")
            self.assertEqual(d.result("core.status")["home"], home)
        finally:
            d.stop()
            log.close()


class Lifecycle(DaemonTestCase):
    def test_sigterm_and_sigint_stop_cleanly_and_remove_the_socket(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            d = self.daemon(f"h{int(signum)}").start()
            d.signal(signum)
            self.assertEqual(d.proc.wait(10 * SLOW), 0, d.stderr_text())
            self.assertFalse(os.path.exists(d.socket_path))
            self.assertNotIn("Sanitizer", d.stderr_text())
            self.assertIn("stopping", d.log_text())

    def test_second_daemon_on_the_same_home_is_refused(self):
        d = self.daemon().start()
        proc = subprocess.run(d.command(), capture_output=True, text=True, timeout=20 * SLOW)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("another dengond", proc.stderr)
        self.assertEqual(d.result("core.status")["pid"], d.proc.pid)
        self.assert_clean_exit(d)

    def test_stale_socket_from_a_killed_daemon_is_replaced(self):
        d = self.daemon().start()
        d.kill()
        self.assertTrue(os.path.exists(d.socket_path))
        d.start()
        self.assertEqual(d.result("core.status")["pid"], d.proc.pid)
        self.assert_clean_exit(d)

    def test_status_names_the_allocator_in_use(self):
        """mimalloc serves malloc when the build links it (ADR 0020); sanitizer builds keep theirs."""
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            linked = "DENGON_MIMALLOC:BOOL=ON" in f.read()
        d = self.daemon().start()
        allocator = d.result("core.status")["allocator"]
        if linked and not SANITIZED:
            self.assertRegex(allocator, r"^mimalloc \d+\.\d+\.\d+$")
        else:
            self.assertEqual(allocator, "libc")
        self.assert_clean_exit(d)

    def test_safe_mode_reports_itself(self):
        d = self.daemon(args=["--safe-mode"]).start()
        self.assertTrue(d.result("core.status")["safe_mode"])
        self.assertIn("safe mode", d.stdout_text())
        self.assert_clean_exit(d)

    def test_server_profile(self):
        d = self.daemon(args=["--profile", "server"]).start()
        self.assertEqual(d.result("core.status")["profile"], "server")
        self.assertEqual(d.result("config.get", {"key": "log.keep"})["value"], "10")
        self.assertEqual(d.result("config.get", {"key": "log.keep"})["source"], "profile")
        self.assert_clean_exit(d)

    def test_missing_plugin_dir_is_an_error(self):
        d = self.daemon(plugin_dirs=[os.path.join(self.tmp, "no-such-dir")])
        proc = subprocess.run(d.command(), capture_output=True, text=True, timeout=20 * SLOW)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--plugin-dir", proc.stderr)
        self.assertIn("no such directory", proc.stderr)

    def test_bad_command_line_is_a_usage_error(self):
        for args in (["--frobnicate"], ["--profile", "desktop"], ["-o", "novalue"], ["--home"]):
            proc = subprocess.run([DENGOND] + args, capture_output=True, text=True, timeout=20)
            self.assertEqual(proc.returncode, 2, args)
            self.assertTrue(proc.stderr.startswith("dengond: "), proc.stderr)


class Config(DaemonTestCase):
    def write_user_config(self, d, text):
        os.makedirs(os.path.join(d.home, "config"), exist_ok=True)
        with open(os.path.join(d.home, "config", "dengon.ini"), "w") as f:
            f.write(text)

    def test_layers_default_user_cmdline(self):
        d = self.daemon(options=["identity.group=Ops"])
        self.write_user_config(d, "[identity]\nnickname = Alice\ngroup = Sales\n")
        d.start()
        nick = d.result("config.get", {"key": "identity.nickname"})
        self.assertEqual((nick["value"], nick["source"]), ("Alice", "user"))
        group = d.result("config.get", {"key": "identity.group"})
        self.assertEqual((group["value"], group["source"]), ("Ops", "cmdline"))
        level = d.result("config.get", {"key": "log.level"})
        self.assertEqual((level["value"], level["source"]), ("info", "default"))
        who = d.result("core.whoami")
        self.assertEqual((who["nickname"], who["group"]), ("Alice", "Ops"))
        self.assert_clean_exit(d)

    def test_flat_and_section_keys_are_the_same(self):
        d = self.daemon()
        self.write_user_config(d, "identity.nickname = Flat\n")
        d.start()
        self.assertEqual(d.result("core.whoami")["nickname"], "Flat")
        self.assert_clean_exit(d)

    def test_set_writes_the_user_file_and_applies_live(self):
        d = self.daemon().start()
        r = d.result("config.set", {"key": "identity.nickname", "value": "Bob"})
        self.assertEqual(r["result"], "live")
        self.assertEqual(d.result("core.whoami")["nickname"], "Bob")
        with open(os.path.join(d.home, "config", "dengon.ini")) as f:
            self.assertIn("Bob", f.read())
        self.assertEqual(mode(os.path.join(d.home, "config", "dengon.ini")), 0o600)
        r = d.result("config.set", {"key": "bus.queue_capacity", "value": "100"})
        self.assertEqual(r["result"], "restart")
        self.assertIn("restart", r["message"])
        self.assert_clean_exit(d)
        d.start()
        self.assertEqual(d.result("config.get", {"key": "bus.queue_capacity"})["value"], "100")
        self.assertEqual(d.result("core.whoami")["nickname"], "Bob")
        self.assert_clean_exit(d)

    def test_set_refuses_unknown_keys_and_bad_types(self):
        d = self.daemon().start()
        bad = d.call("config.set", {"key": "no.such.key", "value": "1"})
        self.assertIn("unknown", bad["error"]["message"])
        bad = d.call("config.set", {"key": "bus.queue_capacity", "value": "lots"})
        self.assertIn("error", bad)
        self.assertFalse(os.path.exists(os.path.join(d.home, "config", "dengon.ini")))
        self.assert_clean_exit(d)

    def test_sighup_reloads_and_publishes(self):
        d = self.daemon().start()
        self.write_user_config(d, "identity.nickname = Carol\nlog.level = debug\n")
        d.signal(signal.SIGHUP)
        wait_until(lambda: d.result("core.whoami")["nickname"] == "Carol", what="reload")
        self.assertEqual(d.result("config.get", {"key": "log.level"})["value"], "debug")
        self.assert_clean_exit(d)

    def test_broken_user_file_on_reload_keeps_previous_values(self):
        d = self.daemon()
        self.write_user_config(d, "identity.nickname = Dan\n")
        d.start()
        self.write_user_config(d, "[identity\nnickname = Eve\n")
        d.signal(signal.SIGHUP)
        wait_until(lambda: "reload failed" in d.log_text(), what="reload error in the log")
        self.assertEqual(d.result("core.whoami")["nickname"], "Dan")
        self.assert_clean_exit(d)

    def test_reload_applies_both_files_or_neither(self):
        system = os.path.join(self.tmp, "system.ini")
        with open(system, "w") as f:
            f.write("identity.group = A\n")
        d = self.daemon(args=["--system-config", system])
        self.write_user_config(d, "identity.nickname = Dan\n")
        d.start()
        self.assertEqual(d.result("core.whoami")["group"], "A")
        with open(system, "w") as f:
            f.write("identity.group = B\n")
        self.write_user_config(d, "[identity\nnickname = Eve\n")
        d.signal(signal.SIGHUP)
        wait_until(lambda: "reload failed" in d.log_text(), what="reload error in the log")
        who = d.result("core.whoami")
        self.assertEqual((who["group"], who["nickname"]), ("A", "Dan"))
        self.write_user_config(d, "identity.nickname = Eve\n")
        d.signal(signal.SIGHUP)
        wait_until(lambda: d.result("core.whoami")["group"] == "B", what="both files applied")
        self.assertEqual(d.result("core.whoami")["nickname"], "Eve")
        self.assert_clean_exit(d)

    def test_unknown_keys_are_warned_once(self):
        d = self.daemon()
        self.write_user_config(d, "typo.keyname = 1\n")
        d.start()
        for n in (1, 2):  # one at a time: signals sent together may be delivered once
            d.signal(signal.SIGHUP)
            wait_until(lambda: d.log_text().count("SIGHUP") >= n, what=f"reload {n}")
        self.assertEqual(d.log_text().count("typo.keyname"), 1, d.log_text())
        self.assert_clean_exit(d)


class ControlSocket(DaemonTestCase):
    def test_malformed_requests_get_errors_and_the_daemon_keeps_answering(self):
        d = self.daemon().start()
        bad_lines = [b"not json", b"[1,2]", b"{}", b'{"method": 5}', b'{"method":"core.status","params":7}',
                     b'{"id":3,"method":"no.such.method"}', b"\xff\xfe\x00garbage", b"{" * 5000]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10 * SLOW)
            s.connect(d.socket_path)
            f = s.makefile("rb")
            for line in bad_lines:
                s.sendall(line + b"\n")
                resp = json.loads(f.readline())
                self.assertIn("error", resp, line)
                self.assertIsInstance(resp["error"]["code"], int)
                self.assertTrue(resp["error"]["message"])
            s.sendall(b'{"id":"x","method":"core.status"}\n')
            self.assertEqual(json.loads(f.readline())["id"], "x")
        self.assertEqual(d.result("core.status")["pid"], d.proc.pid)
        self.assert_clean_exit(d)

    def test_pipelined_requests_keep_their_ids(self):
        d = self.daemon().start()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10 * SLOW)
            s.connect(d.socket_path)
            s.sendall(b"".join(json.dumps({"id": i, "method": "core.whoami"}).encode() + b"\n"
                               for i in range(50)))
            f = s.makefile("rb")
            ids = sorted(json.loads(f.readline())["id"] for _ in range(50))
        self.assertEqual(ids, list(range(50)))
        self.assert_clean_exit(d)

    def test_many_concurrent_clients(self):
        d = self.daemon().start()
        errors = []

        def client():
            try:
                for _ in range(20):
                    assert d.result("core.status")["pid"] == d.proc.pid
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=client) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertGreaterEqual(d.result("core.status")["control"]["requests"], 320)
        self.assert_clean_exit(d)

    def test_client_that_disconnects_mid_request(self):
        d = self.daemon().start()
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.socket_path)
            s.sendall(b'{"id":1,"method":"core.status"}\n{"id":2,"meth')
            s.close()
        self.assertEqual(d.result("core.status")["pid"], d.proc.pid)
        self.assert_clean_exit(d)

    def test_status_shows_bus_counters(self):
        d = self.daemon().start()
        bus = d.result("core.status")["bus"]
        for k in ("published", "delivered", "dropped", "topics", "subscribers"):
            self.assertIn(k, bus)
        self.assertIn("core.daemon.ready", bus["topics"])
        self.assert_clean_exit(d)


if __name__ == "__main__":
    unittest.main()
