"""A minimal X11 client in the Python standard library, to drive iptux's GTK window.

iptux has no command line, D-Bus or config way to send a message: only its chat
window can (docs/protocol/iptux-interop-test.md). The interop report did that with
xdotool; xdotool is not a dependency of dengon, so this module speaks the few X11
core requests and the XTEST FakeInput request it needs over the server's Unix
socket: find a window by title, click into it, type Unicode text, press keys.

Text is typed the way `xdotool type` does it: a character that is not the
unshifted symbol of some key gets a spare keycode whose keysyms are all that
character's keysym (ChangeKeyboardMapping), then the keycode is pressed through
XTEST. Xvfb's default keymap leaves 19 keycodes spare, so one text may hold at
most that many distinct such characters. The mapping stays until close():
restoring it while GTK has not yet read the events would turn them into other
characters, and the Xvfb server is private to the test anyway.
"""
import socket
import struct
import time

# Core request opcodes (X11 protocol, "Encoding::Requests").
_GET_WINDOW_ATTRIBUTES = 3
_GET_GEOMETRY = 14
_QUERY_TREE = 15
_INTERN_ATOM = 16
_GET_PROPERTY = 20
_TRANSLATE_COORDINATES = 40
_SET_INPUT_FOCUS = 42
_GET_INPUT_FOCUS = 43
_QUERY_EXTENSION = 98
_CHANGE_KEYBOARD_MAPPING = 100
_GET_KEYBOARD_MAPPING = 101
_XTEST_FAKE_INPUT = 2  # XTEST minor opcode
_KEY_PRESS, _KEY_RELEASE, _BUTTON_PRESS, _BUTTON_RELEASE, _MOTION = 2, 3, 4, 5, 6
_VIEWABLE = 2
_WM_NAME, _ANY_TYPE = 39, 0

KEYSYMS = {"Return": 0xFF0D, "Control_L": 0xFFE3, "Shift_L": 0xFFE1, "Escape": 0xFF1B}


BAD_WINDOW = 3


class XError(Exception):
    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


def _pad(n):
    return (4 - n % 4) % 4


def keysym_of(ch):
    """The keysym X11 uses for one Unicode character (Latin-1 direct, else 0x01000000+cp)."""
    cp = ord(ch)
    if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF:
        return cp
    if cp < 0x20 or cp == 0x7F:
        raise ValueError("control character %r cannot be typed" % ch)
    return 0x01000000 | cp


class Display:
    """One connection to display :N through /tmp/.X11-unix/XN (works from any netns)."""

    def __init__(self, number, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect("/tmp/.X11-unix/X%d" % number)
        self.seq = 0
        self._setup()
        self._xtest = self._extension(b"XTEST")
        self._keymap = self._get_keymap()
        self._spare = [kc for kc, syms in sorted(self._keymap.items()) if not any(syms)]
        self._typed = {}  # keysym -> spare keycode already mapped to it
        self._net_wm_name = self.atom("_NET_WM_NAME")

    def close(self):
        self.sock.close()

    # -- wire ---------------------------------------------------------------

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise XError("X server closed the connection")
            buf += chunk
        return buf

    def _setup(self):
        # Little-endian, protocol 11.0, no authorization (Xvfb started without -auth
        # accepts local clients).
        self.sock.sendall(struct.pack("<BxHHHHxx", 0x6C, 11, 0, 0, 0))
        head = self._recv(8)
        status, reason_len, _, _, length = struct.unpack("<BBHHH", head)
        body = self._recv(length * 4)
        if status != 1:
            reason = body[:reason_len].decode("latin-1", "replace")
            raise XError("X connection refused: %s" % reason)
        vendor_len, = struct.unpack_from("<H", body, 16)
        nformats = body[21]
        self.min_keycode, self.max_keycode = body[26], body[27]
        screen = 32 + vendor_len + _pad(vendor_len) + 8 * nformats
        self.root, = struct.unpack_from("<I", body, screen)
        self.width, self.height = struct.unpack_from("<HH", body, screen + 20)

    def _send(self, data):
        assert len(data) % 4 == 0
        self.sock.sendall(data)
        self.seq = (self.seq + 1) & 0xFFFF
        return self.seq

    def _reply(self, seq):
        """Reads until the reply to request `seq`; events (MappingNotify ...) are skipped."""
        while True:
            pkt = self._recv(32)
            kind = pkt[0]
            if kind == 0:
                code, eseq, value = pkt[1], *struct.unpack_from("<HI", pkt, 2)
                raise XError("X error %d (request seq %d, value 0x%x, major %d)"
                             % (code, eseq, value, pkt[10]), code)
            if kind == 1:
                extra, = struct.unpack_from("<I", pkt, 4)
                body = pkt + self._recv(extra * 4)
                if struct.unpack_from("<H", body, 2)[0] == seq:
                    return body

    def _request(self, opcode, data1, payload=b""):
        """A core request with a reply; returns the reply bytes."""
        length = 1 + (len(payload) + 3) // 4
        payload += b"\0" * _pad(len(payload))
        return self._reply(self._send(struct.pack("<BBH", opcode, data1, length) + payload))

    def _oneway(self, opcode, data1, payload=b""):
        length = 1 + (len(payload) + 3) // 4
        payload += b"\0" * _pad(len(payload))
        self._send(struct.pack("<BBH", opcode, data1, length) + payload)

    def sync(self):
        """A round trip: every request sent so far has been processed (errors surface here)."""
        self._request(_GET_INPUT_FOCUS, 0)

    def _extension(self, name):
        r = self._request(_QUERY_EXTENSION, 0, struct.pack("<Hxx", len(name)) + name)
        if not r[8]:
            raise XError("X server has no %s extension" % name.decode())
        return r[9]

    # -- windows ------------------------------------------------------------

    def atom(self, name):
        name = name.encode()
        r = self._request(_INTERN_ATOM, 0, struct.pack("<Hxx", len(name)) + name)
        return struct.unpack_from("<I", r, 8)[0]

    def children(self, window):
        r = self._request(_QUERY_TREE, 0, struct.pack("<I", window))
        n, = struct.unpack_from("<H", r, 16)
        return list(struct.unpack_from("<%dI" % n, r, 32))

    def title(self, window):
        """_NET_WM_NAME (UTF-8, what GTK sets) or else WM_NAME; '' when unnamed."""
        for prop in (self._net_wm_name, _WM_NAME):
            req = struct.pack("<IIIII", window, prop, _ANY_TYPE, 0, 4096)
            r = self._request(_GET_PROPERTY, 0, req)
            fmt, (nitems,) = r[1], struct.unpack_from("<I", r, 16)
            if fmt == 8 and nitems:
                return r[32:32 + nitems].decode("utf-8", "replace")
        return ""

    def viewable(self, window):
        return self._request(_GET_WINDOW_ATTRIBUTES, 0, struct.pack("<I", window))[26] == _VIEWABLE

    def toplevels(self):
        """(window, title) of every viewable child of the root. There is no window
        manager, so GTK's toplevels are the root's direct children."""
        out = []
        for w in self.children(self.root):
            try:
                if self.viewable(w):
                    out.append((w, self.title(w)))
            except XError as e:
                if e.code != BAD_WINDOW:  # destroyed since QueryTree: skip it
                    raise
        return out

    def find_window(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            for w, t in self.toplevels():
                if predicate(t):
                    return w, t
            if time.monotonic() > deadline:
                titles = [t for _, t in self.toplevels()]
                raise XError("no window matched within %.0fs; windows: %r" % (timeout, titles))
            time.sleep(0.1)

    def geometry(self, window):
        """(root x, root y, width, height) of a window."""
        r = self._request(_GET_GEOMETRY, 0, struct.pack("<I", window))
        width, height = struct.unpack_from("<HH", r, 16)
        r = self._request(_TRANSLATE_COORDINATES, 0, struct.pack("<IIhh", window, self.root, 0, 0))
        x, y = struct.unpack_from("<hh", r, 12)
        return x, y, width, height

    def focus(self, window):
        # revert-to Parent; time CurrentTime.
        self._oneway(_SET_INPUT_FOCUS, 2, struct.pack("<II", window, 0))
        self.sync()

    # -- input (XTEST) ------------------------------------------------------

    def _fake(self, kind, detail, x=0, y=0):
        # xXTestFakeInputReq, 36 bytes: type, detail, time, root, root x/y, deviceid 0 (core).
        self._send(struct.pack("<BBHBBxxII8xhh7xB", self._xtest, _XTEST_FAKE_INPUT, 9, kind, detail,
                               0, self.root if kind == _MOTION else 0, x, y, 0))

    def click(self, window, dx, dy, button=1):
        """Moves the pointer to window-relative (dx, dy) and clicks there."""
        x, y, _, _ = self.geometry(window)
        self._fake(_MOTION, 0, x + dx, y + dy)
        self.sync()
        time.sleep(0.05)
        self._fake(_BUTTON_PRESS, button)
        self._fake(_BUTTON_RELEASE, button)
        self.sync()

    def _get_keymap(self):
        count = self.max_keycode - self.min_keycode + 1
        r = self._request(_GET_KEYBOARD_MAPPING, 0, struct.pack("<BBxx", self.min_keycode, count))
        self.per_keycode = r[1]
        syms = struct.unpack_from("<%dI" % (count * self.per_keycode), r, 32)
        return {self.min_keycode + i: syms[i * self.per_keycode:(i + 1) * self.per_keycode]
                for i in range(count)}

    def keycode(self, name):
        """The keycode whose first keysym is `name` (a key of KEYSYMS or one character)."""
        sym = KEYSYMS[name] if len(name) > 1 else keysym_of(name)
        for kc, syms in sorted(self._keymap.items()):
            if syms and syms[0] == sym:
                return kc
        raise XError("no keycode for %s in the server's keymap" % name)

    def key(self, *names):
        """Presses the keys in order and releases them in reverse (a chord: "Control_L", "q")."""
        codes = [self.keycode(n) for n in names]
        for kc in codes:
            self._fake(_KEY_PRESS, kc)
        for kc in reversed(codes):
            self._fake(_KEY_RELEASE, kc)
        self.sync()

    def _bind(self, ch):
        sym = keysym_of(ch)
        for kc, syms in self._keymap.items():
            if syms and syms[0] == sym:  # unshifted on a key already: no remapping
                return kc
        if sym not in self._typed:
            if not self._spare:
                raise XError("no spare keycode left for %r: use fewer distinct characters" % ch)
            kc = self._spare.pop()
            self._oneway(_CHANGE_KEYBOARD_MAPPING, 1, struct.pack("<BBxx", kc, self.per_keycode)
                         + struct.pack("<%dI" % self.per_keycode, *([sym] * self.per_keycode)))
            self._typed[sym] = kc
        return self._typed[sym]

    def type(self, text, delay=0.02):
        """Types `text` (any Unicode without control characters) into the focused window."""
        codes = [self._bind(ch) for ch in text]
        self.sync()
        # Let the client read the new keymap (MappingNotify) before the first key.
        time.sleep(0.3)
        for kc in codes:
            self._fake(_KEY_PRESS, kc)
            self._fake(_KEY_RELEASE, kc)
            self.sync()
            time.sleep(delay)
