"""An independent IP Messenger v4 peer for the encrypted file transfer (§6.6).

Written from ../shared/docs/ipmsg-protocol.md §5-§6 alone, with Python's
standard library and python3-cryptography (Debian package): nothing of
dengon is imported. It speaks UDP (entry with CAPFILEENCOPT, GETPUBKEY and
ANSPUBKEY, acks, offers) and TCP:

  * as a receiver, it builds the encrypted and signed GETDIRFILES request
    (`<pkt>:<fid>:900000:<AES key>:<reqPkt>`, encrypted like a message body
    with the request's packet number as IV, ENCRYPTOPT|ENCFILEOPT) and
    decrypts the AES-256-CTR answer (headers included);
  * as a sender, it serves such requests: decrypts, verifies the signature
    with the requester's key, checks the replay guard, and answers with an
    AES-256-CTR stream of directory records.
"""
import base64
import hashlib
import os
import socket
import sys
import threading
import time

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import padding as sympad
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError as e:  # a missing dependency must fail, not skip
    print("ipmsg_v4_peer: python3-cryptography is required: %s" % e, file=sys.stderr)
    raise

# §3.1 commands and options, §6.1 capability bits.
BR_ENTRY, ANSENTRY, SENDMSG, RECVMSG = 0x01, 0x03, 0x20, 0x21
GETPUBKEY, ANSPUBKEY, GETFILEDATA, GETDIRFILES = 0x72, 0x73, 0x60, 0x62
SENDCHECKOPT, FILEATTACHOPT, UTF8OPT, CAPUTF8OPT = 0x100, 0x200000, 0x800000, 0x1000000
ENCRYPTOPT, ENCFILEOPT, CAPFILEENCOPT = 0x400000, 0x800, 0x40000
RSA_2048, AES_256, PACKETNO_IV, ENCODE_BASE64 = 0x4, 0x100000, 0x800000, 0x1000000
SIGN_SHA1, SIGN_SHA256, NOENC_FILEBODY = 0x20000000, 0x40000000, 0x4000000
CAPA = RSA_2048 | AES_256 | SIGN_SHA1 | SIGN_SHA256 | PACKETNO_IV | NOENC_FILEBODY | ENCODE_BASE64
BODY_CAPA = RSA_2048 | AES_256 | SIGN_SHA256 | PACKETNO_IV | ENCODE_BASE64  # 0x41900004
FILE_REGULAR, FILE_DIR, FILE_RETPARENT = 1, 2, 3


def fingerprint(pub):
    """§6.4: SHA-1 of the little-endian modulus, reversed, +4 zero bytes, XOR of 3 words."""
    le = pub.public_numbers().n.to_bytes(256, "big")[::-1]
    d = hashlib.sha1(le).digest()[::-1] + b"\0" * 4
    return bytes(a ^ b ^ c for a, b, c in zip(d[0:8], d[8:16], d[16:24])).hex()


def wire_key(pub):
    n = pub.public_numbers()
    return "%X-%s" % (n.e, n.n.to_bytes(pub.key_size // 8, "big").hex())


def key_from_wire(s):
    e, n = s.split("-")
    return rsa.RSAPublicNumbers(int(e, 16), int(n, 16)).public_key()


def body_encrypt(pktno, peer_pub, sign_priv, plain):
    """§6.3 with RSA-2048/AES-256-CBC, PACKETNO_IV, base64, SHA-256 signature."""
    key = os.urandom(32)
    iv = (str(pktno).encode()[:15] + b"\0" * 16)[:16]
    p = sympad.PKCS7(128).padder()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ct = e.update(p.update(plain) + p.finalize()) + e.finalize()
    sig = sign_priv.sign(plain, padding.PKCS1v15(), hashes.SHA256())
    b64 = lambda b: base64.b64encode(b).decode()
    return "%X:%s:%s:%s" % (BODY_CAPA, b64(peer_pub.encrypt(key, padding.PKCS1v15())), b64(ct),
                            b64(sig))


def body_decrypt(extra, pktno_field, priv, sender_pub):
    """Decrypts and verifies (raises on a bad signature); returns the plaintext."""
    f = extra.split(":")
    capa = int(f[0], 16)
    assert capa & AES_256 and capa & ENCODE_BASE64 and capa & SIGN_SHA256, hex(capa)
    key = priv.decrypt(base64.b64decode(f[1]), padding.PKCS1v15())
    iv = (pktno_field.encode()[:15] + b"\0" * 16)[:16]
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    u = sympad.PKCS7(128).unpadder()
    plain = u.update(d.update(base64.b64decode(f[2])) + d.finalize()) + u.finalize()
    sender_pub.verify(base64.b64decode(f[3]), plain, padding.PKCS1v15(), hashes.SHA256())
    return plain


def ctr(key, req_pkt):
    """§6.6: AES-256-CTR, nonce = decimal packet number ("%d") padded with zeros."""
    signed = req_pkt - (1 << 32) if req_pkt >= 1 << 31 else req_pkt
    nonce = (str(signed).encode() + b"\0" * 16)[:16]
    return Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()


def dir_record(name, size, attr, mtime):
    """§5.3 header: 4 hex digits counting the whole header, Windows field order."""
    body = ":%s:%x:%x:14=%x:16=%x:" % (name.replace(":", "::"), size, attr, mtime, mtime)
    raw = body.encode()
    return b"%04x" % (4 + len(raw)) + raw


def parse_records(stream):
    """[(name, attr, content bytes)] of a complete §5.3 stream."""
    out, pos = [], 0
    while pos < len(stream):
        hdrsize = int(stream[pos:pos + 4], 16)
        head = stream[pos:pos + hdrsize].decode()
        fields = head[5:-1].split(":")
        name, size, attr = fields[0], int(fields[1], 16), int(fields[2], 16)
        pos += hdrsize
        out.append((name, attr & 0xFF, stream[pos:pos + size]))
        pos += size
    return out


class V4Peer:
    """One IPMsg v4 host on addr:port with an RSA-2048 key and a fingerprinted name."""

    def __init__(self, addr, port, user="winv4", host="script"):
        self.addr, self.port, self.host = addr, port, host
        self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pub = self.priv.public_key()
        self.user = "%s-<%s>" % (user, fingerprint(self.pub))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((addr, port))
        self.udp.settimeout(0.05)
        self.no = int(time.time()) & 0x3FFFFFFF
        self.lock = threading.Lock()
        self.keys = {}  # address -> public key (ANSPUBKEY)
        self.users = {}  # address -> user name seen in its packets
        self.got = []  # (pktno field, user, host, command, extra)
        self.stop = False
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()
        self.shares = {}  # packet no -> {file id: (name, bytes)}
        self.last_req = {}  # requester key -> last reqPkt (replay guard)
        self.served = []  # what the TCP side did: ("sent", ...) or ("refused", reason)
        self.tcp = None

    def close(self):
        self.stop = True
        self.thread.join()
        self.udp.close()
        if self.tcp:
            self.tcp.close()
            self.tcp_thread.join()

    def next_no(self):
        with self.lock:
            self.no += 1
            return self.no

    def packet(self, no, cmd, extra=b"", tail=b""):
        if isinstance(extra, str):
            extra = extra.encode()
        head = b"1:%d:%s:%s:%d:" % (no, self.user.encode(), self.host.encode(), cmd)
        return head + extra + b"\0" + tail

    def send(self, to, cmd, extra=b"", tail=b"", no=None):
        no = no or self.next_no()
        self.udp.sendto(self.packet(no, cmd, extra, tail), (to, self.port))
        return no

    def entry(self, to):
        status = ENCRYPTOPT | CAPUTF8OPT | CAPFILEENCOPT | FILEATTACHOPT | UTF8OPT
        block = "\nUN:%s\nHN:%s\nNN:%s\nGN:" % (self.user, self.host, "winv4")
        self.send(to, BR_ENTRY | status, "winv4", b"\0" + block.encode())

    def _pump(self):
        while not self.stop:
            try:
                data, src = self.udp.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            head = data.partition(b"\0")[0]
            f = head.split(b":", 5)
            if len(f) < 6:
                continue
            cmd = int(f[4])
            mode, user, extra = cmd & 0xFF, f[2].decode(), f[5]
            self.users[src[0]] = user
            self.got.append((f[1].decode(), user, f[3].decode(), cmd, extra))
            if mode == GETPUBKEY:
                self.send(src[0], ANSPUBKEY | UTF8OPT, "%X:%s" % (CAPA, wire_key(self.pub)))
            elif mode == ANSPUBKEY:
                self.keys[src[0]] = key_from_wire(extra.decode().split(":", 1)[1])
            elif mode == SENDMSG and cmd & SENDCHECKOPT:
                self.send(src[0], RECVMSG | UTF8OPT, f[1])
            elif mode == BR_ENTRY:
                status = ENCRYPTOPT | CAPUTF8OPT | CAPFILEENCOPT | FILEATTACHOPT | UTF8OPT
                block = "\nUN:%s\nHN:%s\nNN:winv4\nGN:" % (self.user, self.host)
                self.send(src[0], ANSENTRY | status, "winv4", b"\0" + block.encode())

    def fetch_key(self, to, timeout=10.0):
        deadline = time.monotonic() + timeout
        while to not in self.keys and time.monotonic() < deadline:
            self.send(to, GETPUBKEY | UTF8OPT, "%X" % CAPA)
            time.sleep(0.3)
        return self.keys[to]

    # ---- receiver ----

    def sealed_request(self, to, share_pkt, file_id, tamper=None):
        """(request bytes, AES key, reqPkt) of an encrypted GETDIRFILES to the daemon at to."""
        key = os.urandom(32)
        no = self.next_no()
        plain = ("%x:%x:%x:%s:%x" % (share_pkt, file_id, AES_256 | PACKETNO_IV, key.hex(),
                                     no)).encode() + b"\0"
        extra = body_encrypt(no, self.keys[to], self.priv, plain)
        if tamper:
            extra = tamper(extra)
        cmd = GETDIRFILES | UTF8OPT | ENCRYPTOPT | ENCFILEOPT
        return self.packet(no, cmd, extra), key, no

    def fetch(self, to, request, key, req_pkt, timeout=20.0, source=None):
        """Sends request on TCP (from source, default our address); the decrypted answer
        and the raw bytes (b"" when refused)."""
        with socket.create_connection((to, self.port), timeout=timeout,
                                      source_address=(source or self.addr, 0)) as s:
            s.sendall(request)
            raw = bytearray()
            while True:
                try:
                    chunk = s.recv(1 << 16)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                raw += chunk
        return ctr(key, req_pkt).update(bytes(raw)), bytes(raw)

    # ---- sender ----

    def offer(self, to, files):
        """Offers files [(name, bytes, mtime)] in a plain SENDMSG|FILEATTACHOPT; its packet no."""
        no = self.next_no()
        entries = []
        self.shares[no] = {}
        for i, (name, data, mtime) in enumerate(files):
            entries.append("%d:%s:%x:%x:%x:" % (i, name.replace(":", "::"), len(data), mtime,
                                                 FILE_REGULAR))
            self.shares[no][i] = (name, data, mtime)
        attach = "\a".join(entries) + "\a"
        cmd = SENDMSG | SENDCHECKOPT | FILEATTACHOPT | UTF8OPT
        self.send(to, cmd, "encrypted files for you", attach.encode() + b"\0", no=no)
        return no

    def serve(self):
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((self.addr, self.port))
        self.tcp.listen(8)
        self.tcp.settimeout(0.1)
        self.tcp_thread = threading.Thread(target=self._serve_loop, daemon=True)
        self.tcp_thread.start()

    def _serve_loop(self):
        while not self.stop:
            try:
                conn, src = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    self._serve_one(conn, src[0])
                except Exception as e:  # recorded: the test reads self.served
                    self.served.append(("refused", "%s: %s" % (type(e).__name__, e)))

    def _serve_one(self, conn, addr):
        req = bytearray()
        while b"\0" not in req:
            chunk = conn.recv(8192)
            if not chunk:
                break
            req += chunk
        head = bytes(req).partition(b"\0")[0].decode()
        f = head.split(":", 5)
        cmd, user, host = int(f[4]), f[2], f[3]
        if not (cmd & ENCRYPTOPT and cmd & ENCFILEOPT and cmd & 0xFF == GETDIRFILES):
            self.served.append(("refused", "not an encrypted GETDIRFILES: %x" % cmd))
            return
        sender = self.keys.get(addr) or self.fetch_key(addr)
        plain = body_decrypt(f[5], f[1], self.priv, sender)  # raises on a bad signature
        text = plain.rstrip(b"\0").decode()
        pkt, fid, mode, key, req_pkt = text.split(":")
        pkt, fid, req_pkt = int(pkt, 16), int(fid, 16), int(req_pkt, 16)
        assert int(mode, 16) == AES_256 | PACKETNO_IV, mode
        who = "%s@%s" % (user, host)
        if req_pkt <= self.last_req.get(who, 0):
            self.served.append(("refused", "replay"))
            return
        self.last_req[who] = req_pkt
        name, data, mtime = self.shares[pkt][fid]
        enc = ctr(bytes.fromhex(key), req_pkt)
        out = enc.update(dir_record(name, len(data), FILE_REGULAR, mtime))
        conn.sendall(out)
        for i in range(0, len(data), 1 << 16):
            conn.sendall(enc.update(data[i:i + (1 << 16)]))
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):
            pass
        self.served.append(("sent", who, pkt, fid, len(data)))

    def private_pem(self):
        return self.priv.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
