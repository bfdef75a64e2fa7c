"""Debian's iptux GUI as a headless IPMsg peer: Xvfb + iptux inside a network namespace.

The recipe is docs/protocol/iptux-interop-test.md (after the field report
iptux-interop.md §3-§4, §9-§10): a private config and home, Xvfb on a free
display (its lock file decides), iptux under dbus-run-session with a clean
environment, DEBUG log on stderr. Every process is stopped by its PID, children
first, even when the test fails.
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import time

import xclient

BIND_LINE = "bind UDP port(0.0.0.0:2425) success."


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Orphans below this process are re-parented to it, not to init: dbus-run-session
    leaves its dbus-daemon behind when iptux quits, and that one must be found (to
    stop it) and reaped by PID, whatever the container's init does."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _stat(pid):
    """(state, ppid, start time) of a process, or None when there is none."""
    try:
        with open("/proc/%d/stat" % pid, errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[19])


def descendants(pid):
    """(pid, start time) of every process below `pid`, deepest first (kill order)."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                children.setdefault(st[1], []).append((int(name), st[2]))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c[0])
    return list(reversed(out))


def _alive(pid, start):
    """True while the recorded process runs (not a zombie, same start time)."""
    st = _stat(pid)
    return st is not None and st[2] == start and st[0] != "Z"


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_pid(pid, start, grace=3.0):
    """SIGTERM, then SIGKILL, one process if it is still the one recorded (same start
    time), then reaps it if it is our child (a subreaper's orphan)."""
    if _alive(pid, start):
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _alive(pid, start) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid, start):
            _signal(pid, signal.SIGKILL)
    reap(pid, start, grace)


def reap(pid, start, timeout=3.0):
    """Waits for a recorded process that became our child; no-op for anyone else's."""
    deadline = time.monotonic() + timeout
    while True:
        st = _stat(pid)
        if st is None or st[2] != start:
            return
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            return  # not ours: its parent reaps it
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def stop_popen(proc, recorded=(), grace=3.0):
    """Stops a child we started, everything below it and the recorded processes that
    were below it once, by PID, children first."""
    try:
        for pid, start in descendants(proc.pid) + list(recorded):
            stop_pid(pid, start, grace)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Xvfb:
    """Xvfb started by argv `prefix` (ip netns exec <ns>) on a free display `number`.

    Not -displayfd: with it Xvfb writes no lock file, and two of them started in two
    fresh network namespaces (each with its own abstract sockets) both took :0 here;
    the second replaced the first's /tmp/.X11-unix/X0, so both tests typed into one
    iptux. Xvfb :N takes the lock file /tmp/.XN-lock: a number in use makes it exit
    at once, and the next one is tried.
    """

    FIRST = 90  # clear of the usual desktop and ssh-forwarded displays

    def __init__(self, prefix, log_path):
        self.prefix, self.log_path = prefix, log_path
        self.proc = None
        self.number = None

    def start(self, tries=100, timeout=20.0):
        for n in range(self.FIRST, self.FIRST + tries):
            if os.path.exists("/tmp/.X%d-lock" % n) or os.path.exists("/tmp/.X11-unix/X%d" % n):
                continue
            with open(self.log_path, "w") as log:
                self.proc = subprocess.Popen(
                    self.prefix + ["Xvfb", ":%d" % n, "-screen", "0", "1280x1024x24",
                                   "-nolisten", "tcp"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready(n, timeout):
                self.number = n
                return self
            if self.proc.poll() is None:
                raise AssertionError("Xvfb :%d not ready after %ss:\n%s" % (n, timeout, self.log()))
            # Exited: display taken meanwhile (lock) -> next number.
        raise AssertionError("no free X display in :%d-:%d:\n%s"
                             % (self.FIRST, self.FIRST + tries - 1, self.log()))

    def _wait_ready(self, n, timeout):
        """True once our Xvfb holds the lock of :n and accepts a connection."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with open("/tmp/.X%d-lock" % n) as f:
                    ours = int(f.read().strip() or 0) == self.proc.pid
            except (OSError, ValueError):
                ours = False
            if ours:
                try:
                    xclient.Display(n, timeout=2).close()
                    return True
                except (OSError, xclient.XError):
                    pass
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc:
            stop_popen(self.proc)

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Iptux:
    """One iptux GUI with its own home under `root`, talking on `prefix`'s namespace."""

    def __init__(self, prefix, root, display, nick, group, dialup):
        self.prefix, self.root, self.display = prefix, root, display
        self.nick, self.group, self.dialup = nick, group, dialup
        self.home = os.path.join(root, "home")
        self.config_home = os.path.join(self.home, ".config")
        self.config_path = os.path.join(self.home, ".iptux", "config.json")
        self.proc = None
        self.recorded = []  # (pid, start time) of dbus-daemon and iptux below dbus-run-session
        self.runs = 0
        self.log_path = None

    @property
    def chat_log_path(self):
        return os.path.join(self.config_home, "iptux", "log", "communicate.log")

    def _write_config(self):
        for d in (".iptux", ".config/iptux/log", ".cache", "recv", "runtime"):
            os.makedirs(os.path.join(self.home, d), exist_ok=True)
        os.chmod(os.path.join(self.home, "runtime"), 0o700)
        config = {
            "version": 1,
            "nick_name": self.nick,
            "belong_group": self.group,
            "my_icon": "icon-tux.png",
            "personal_sign": "dengon interop test",
            "archive_path": os.path.join(self.home, "recv"),
            # UTF-8 in and out: what iptux uses on a Linux LAN.
            "preference_encode": "utf-8",
            "candidacy_encode": "utf-8",
            "record_log": True,
            # The chat window must open by itself when a message arrives: the test types
            # the reply into it.
            "open_chat": True,
            "hide_startup": False,
            "open_transmission": False,
            "open_blacklist": False,
            "proof_shared": False,
            "clearup_history": False,
            "log_level": "DEBUG",
            # Startup "dial-up": a unicast BR_ENTRY to dengon's address.
            "scan_net_segment": [{"startip": self.dialup, "endip": self.dialup,
                                  "description": "dengon"}],
            # 900x700 shows the whole chat window; the input view is at (180, h-150).
            "peer_window_width": 900,
            "peer_window_height": 700,
        }
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)

    def _env(self):
        h = self.home
        return {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "HOME": h,
            "XDG_CONFIG_HOME": self.config_home,
            "XDG_CACHE_HOME": os.path.join(h, ".cache"),
            "XDG_DATA_HOME": os.path.join(h, ".local", "share"),
            "XDG_RUNTIME_DIR": os.path.join(h, "runtime"),
            "DISPLAY": ":%d" % self.display,
            # No accessibility bus: it would spawn daemons that outlive iptux.
            "NO_AT_BRIDGE": "1",
            "GTK_A11Y": "none",
            # No dconf service activated on the private bus.
            "GSETTINGS_BACKEND": "memory",
        }

    def start(self, timeout=30.0):
        """Starts iptux and waits until its sockets are bound and its main window shows."""
        self._write_config()
        self.runs += 1
        self.log_path = os.path.join(self.root, "iptux-%d.log" % self.runs)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                self.prefix + ["dbus-run-session", "--", "iptux", "-c", self.config_path,
                               "-l", "DEBUG"],
                env=self._env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while BIND_LINE not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError("iptux exited with %d:\n%s"
                                     % (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("iptux did not bind UDP 2425:\n" + self.log())
            time.sleep(0.05)
        self.recorded = descendants(self.proc.pid)
        with self.x() as x:
            x.find_window(lambda t: t == "Iptux", timeout=max(1.0, deadline - time.monotonic()))
        return self

    def x(self):
        return _XSession(self.display)

    def quit(self, timeout=20.0):
        """Ctrl+Q in the main window, as a user quits: iptux sends BR_EXIT, then exits."""
        with self.x() as x:
            w, _ = x.find_window(lambda t: t == "Iptux")
            x.focus(w)
            x.key("Control_L", "q")
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("iptux did not exit after Ctrl+Q:\n" + self.log()[-4000:])
        # dbus-run-session does not wait for its dbus-daemon.
        for pid, start in self.recorded:
            stop_pid(pid, start)
        return rc

    def stop(self):
        if self.proc:
            stop_popen(self.proc, self.recorded)

    def send_from_chat_window(self, title_prefix, text, timeout=20.0):
        """Types `text` into the open chat window whose title starts with `title_prefix`
        and sends it with Ctrl+Return (iptux's win.send_message accelerator)."""
        with self.x() as x:
            w, title = x.find_window(lambda t: t.startswith(title_prefix), timeout=timeout)
            _, _, _, height = x.geometry(w)
            x.focus(w)
            # Click into the input view first: after other clicks the focus may sit on a
            # button, and a typed space would press it (iptux-interop.md §9).
            x.click(w, 180, height - 150)
            x.type(text)
            x.key("Control_L", "Return")
            return title

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def chat_log(self):
        try:
            with open(self.chat_log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class _XSession:
    def __init__(self, number):
        self.number = number

    def __enter__(self):
        self.display = xclient.Display(self.number)
        return self.display

    def __exit__(self, *exc):
        self.display.close()

# ---- shared by the interop tests (ipmsg's and files') ----

TOOLS = ("ip", "Xvfb", "iptux", "dbus-run-session")


def unavailable_reason(netns):
    """Why an iptux interop test cannot run here, or None."""
    reason = netns.unavailable()
    missing = [t for t in TOOLS if not shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if not reason and missing:
        reason = "not installed: %s (packaging/install-deps.sh installs iptux and xvfb)" % (
            ", ".join(missing))
    return reason


def ns_daemon_class(daemon_class):
    """A Daemon run through `ip netns exec <ns>`, which execs it: the PID is dengond's."""

    class NsDaemon(daemon_class):
        def __init__(self, prefix, home, **kwargs):
            super().__init__(home, **kwargs)
            self.prefix = prefix

        def command(self):
            return self.prefix + super().command()

    return NsDaemon
