"""Helpers for integration tests: real dengond processes, the real CLI, real sockets.

Every daemon a test starts is stopped by its PID in tearDown (SIGTERM, then
SIGKILL after a grace period), even when the test fails, and its temporary
home folder is removed. Paths come from the environment CTest sets:
DENGON_BUILD_DIR (the build tree) and DENGON_SOURCE_DIR.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BUILD_DIR = os.environ.get("DENGON_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE_DIR = os.environ.get("DENGON_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
DENGOND = os.path.join(BUILD_DIR, "bin", "dengond")
DENGON = os.path.join(BUILD_DIR, "bin", "dengon")
TEST_PLUGINS = os.path.join(BUILD_DIR, "tests", "plugins")
SANITIZED = os.environ.get("DENGON_SANITIZED") == "1"
# Sanitized builds are several times slower; scale every wait.
SLOW = 4.0 if SANITIZED else 1.0


class CliResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"rc={self.rc} out={self.out!r} err={self.err!r}"


class Daemon:
    """One dengond with its own home folder."""

    def __init__(self, home, plugin_dirs=(), options=(), args=(), env=None, system_plugins=False):
        self.home = home
        self.plugin_dirs = list(plugin_dirs)
        self.options = list(options)
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.pop("DENGON_HOME", None)
        if env:
            self.env.update(env)
        self.system_plugins = system_plugins
        self.proc = None
        self.stdout_path = home.rstrip("/") + ".stdout"
        self.stderr_path = home.rstrip("/") + ".stderr"

    @property
    def socket_path(self):
        return os.path.join(self.home, "run", "control.sock")

    def command(self):
        # Nothing from the machine: no system file, no team policy, no admin keys
        # (a test that wants them passes its own --policy-dir/--keys-dir in args).
        cmd = [DENGOND, "--home", self.home, "--system-config", "/nonexistent/dengon.ini",
               "--policy-dir", "/nonexistent/policy.d", "--keys-dir", "/nonexistent/keys"]
        if not self.system_plugins:
            cmd.append("--no-system-plugins")
        if SANITIZED:
            cmd.append("--no-dlclose")
        for d in self.plugin_dirs:
            cmd += ["--plugin-dir", d]
        for o in self.options:
            cmd += ["-o", o]
        return cmd + self.args

    def start(self, wait=True, timeout=10.0):
        self.stdout = open(self.stdout_path, "w")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.command(), stdout=self.stdout, stderr=self.stderr,
                                     env=self.env)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dengond exited with {self.proc.returncode}:\n{self.stderr_text()}")
            try:
                self.call("core.status")
                return
            except (OSError, ConnectionError):
                time.sleep(0.02)
        raise AssertionError(f"dengond not ready after {timeout}s:\n{self.stderr_text()}")

    def call(self, method, params=None, timeout=10.0):
        """One request over the control socket; returns the decoded response object."""
        req = {"id": 1, "method": method}
        if params is not None:
            req["params"] = params
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout * SLOW)
            s.connect(self.socket_path)
            s.sendall(json.dumps(req).encode() + b"\n")
            return json.loads(read_line(s))

    def result(self, method, params=None):
        resp = self.call(method, params)
        if "error" in resp:
            raise AssertionError(f"{method} failed: {resp['error']}")
        return resp["result"]

    def cli(self, *args, json_out=False, timeout=20.0, input=None):
        cmd = [DENGON, "--home", self.home] + (["--json"] if json_out else []) + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * SLOW,
                              input=input, env=self.env)
        return CliResult(proc)

    def plugins(self):
        return {p["id"]: p for p in self.result("core.plugins")}

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=10.0):
        """SIGTERM, wait; returns the exit code. SIGKILL if it does not exit in time."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("dengond did not stop on SIGTERM")
        finally:
            self.close_files()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close_files()

    def close_files(self):
        for f in (getattr(self, "stdout", None), getattr(self, "stderr", None)):
            if f and not f.closed:
                f.close()

    def stdout_text(self):
        with open(self.stdout_path) as f:
            return f.read()

    def stderr_text(self):
        try:
            with open(self.stderr_path) as f:
                return f.read()
        except OSError:
            return ""

    def log_text(self):
        try:
            with open(os.path.join(self.home, "logs", "dengond.log")) as f:
                return f.read()
        except OSError:
            return ""


def read_line(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before a full line")
        buf += chunk
    return buf.decode()


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class DaemonTestCase(unittest.TestCase):
    """Gives each test a temporary folder and stops every daemon it started."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dengon-it-")
        self.daemons = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for d in self.daemons:
            d.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def daemon(self, name="home", **kwargs):
        d = Daemon(os.path.join(self.tmp, name), **kwargs)
        self.daemons.append(d)
        return d

    def assert_clean_exit(self, daemon):
        """Stops the daemon and checks exit 0 and no sanitizer report."""
        rc = daemon.stop()
        err = daemon.stderr_text()
        self.assertEqual(rc, 0, f"dengond exit code {rc}\n{err}")
        self.assertNotIn("Sanitizer", err, err)
        self.assertNotIn("runtime error", err, err)


def free_port(addrs, tcp=False):
    """A port number free for UDP (and TCP when tcp) on every address in addrs.
    Picked at random above the fixed test ports (242xx) and below the kernel's
    ephemeral range, so other test runs on the same machine (another build
    tree's ctest) do not share the daemons' sockets, which the ipmsg plugin
    binds with SO_REUSEADDR."""
    rng = random.SystemRandom()
    kinds = (socket.SOCK_DGRAM, socket.SOCK_STREAM) if tcp else (socket.SOCK_DGRAM,)
    for _ in range(200):
        port = rng.randrange(26000, 32000)
        socks = []
        try:
            for addr in addrs:
                for kind in kinds:
                    s = socket.socket(socket.AF_INET, kind)
                    socks.append(s)
                    s.bind((addr, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port on %s" % ", ".join(addrs))


def sha256_file(path):
    """Hex SHA-256 of a file's content, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
