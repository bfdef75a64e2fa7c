#!/usr/bin/env python3
"""Independent interop test of the IPMsg crypto library (plugins/crypto/codec).

The other side is written here from the protocol description alone
(docs/protocol/ipmsg-crypto.md, ../shared/docs/ipmsg-protocol.md §6) with
Python's standard library and python3-cryptography (Debian package), and
talks to the C library through tests/unit/ipmc_tool.c:

  * C encrypts + signs  -> Python decrypts + verifies (both suites, hex and
    base64, with and without PACKETNO_IV, attach/TO lists);
  * Python encrypts + signs -> C decrypts + verifies (both suites);
  * tampered ciphertext, signature, session key, wrong recipient and wrong
    sender key are rejected by C with the right reason;
  * user-name fingerprints and the §6.6 AES-256-CTR stream agree.

Any disagreement fails the test; a missing python3-cryptography fails it too.
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import padding as sympad
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError as e:  # a missing dependency must fail, not skip
    print("crypto_interop: python3-cryptography is required: %s" % e, file=sys.stderr)
    sys.exit(1)
try:  # cryptography >= 43 moved Blowfish to the "decrepit" module
    from cryptography.hazmat.decrepit.ciphers.algorithms import Blowfish
except ImportError:
    Blowfish = algorithms.Blowfish

TOOL = os.environ.get("IPMC_TOOL", "")

RSA_1024, RSA_2048 = 0x2, 0x4
BLOWFISH_128, AES_256 = 0x20000, 0x100000
PACKETNO_IV, ENCODE_BASE64 = 0x800000, 0x1000000
SIGN_SHA1, SIGN_SHA256 = 0x20000000, 0x40000000


def tool(*args, stdin=None):
    p = subprocess.run([TOOL, *args], input=stdin, capture_output=True, timeout=120)
    if p.stderr.strip():
        # Sanitizer reports go to stderr: never let them pass silently.
        raise AssertionError("ipmc_tool stderr: %s" % p.stderr.decode(errors="replace"))
    return p.returncode, p.stdout


def wire(pub):
    n = pub.public_numbers()
    return "%X-%s" % (n.e, n.n.to_bytes(pub.key_size // 8, "big").hex())


def from_wire(s):
    e, n = s.split("-")
    return rsa.RSAPublicNumbers(int(e, 16), int(n, 16)).public_key()


def fingerprint(pub):
    """§6.4: SHA-1 of the little-endian modulus, reversed, +4 zero bytes, XOR of 3 words."""
    le = pub.public_numbers().n.to_bytes(256, "big")[::-1]
    d = hashlib.sha1(le).digest()[::-1] + b"\0" * 4
    return bytes(a ^ b ^ c for a, b, c in zip(d[0:8], d[8:16], d[16:24])).hex()


def enc(b64, data):
    return base64.b64encode(data).decode() if b64 else data.hex()


def dec(b64, s):
    return base64.b64decode(s, validate=True) if b64 else bytes.fromhex(s)


def iv_for(capa, pktno, block):
    iv = (pktno.encode()[:15] if capa & PACKETNO_IV else b"") + b"\0" * 16
    return iv[:block]


def cipher_for(capa, key, iv):
    if capa & AES_256:
        return Cipher(algorithms.AES(key), modes.CBC(iv)), 128
    return Cipher(Blowfish(key), modes.CBC(iv)), 64


def compose(text, attach=None, tolist=None):
    b = text.encode() + b"\0"
    if attach is not None or tolist is not None:
        b += (attach or "").encode() + b"\0"
    if tolist is not None:
        b += tolist.encode() + b"\0"
    return b


def py_encrypt(capa, pktno, peer_pub, sign_priv, plain):
    b64 = bool(capa & ENCODE_BASE64)
    key = os.urandom(32 if capa & AES_256 else 16)
    wrapped = peer_pub.encrypt(key, padding.PKCS1v15())
    c, bits = cipher_for(capa, key, iv_for(capa, pktno, 16 if capa & AES_256 else 8))
    p = sympad.PKCS7(bits).padder()
    e = c.encryptor()
    ct = e.update(p.update(plain) + p.finalize()) + e.finalize()
    out = "%X:%s:%s" % (capa, enc(b64, wrapped), enc(b64, ct))
    if capa & (SIGN_SHA1 | SIGN_SHA256):
        h = hashes.SHA256() if capa & SIGN_SHA256 else hashes.SHA1()
        out += ":" + enc(b64, sign_priv.sign(plain, padding.PKCS1v15(), h))
    return out


def py_decrypt(extra, pktno, priv, sender_pub):
    f = extra.split(":")
    capa = int(f[0], 16)
    b64 = bool(capa & ENCODE_BASE64)
    key = priv.decrypt(dec(b64, f[1]), padding.PKCS1v15())
    c, bits = cipher_for(capa, key, iv_for(capa, pktno, 16 if capa & AES_256 else 8))
    d = c.decryptor()
    u = sympad.PKCS7(bits).unpadder()
    plain = u.update(d.update(dec(b64, f[2])) + d.finalize()) + u.finalize()
    signed = bool(capa & (SIGN_SHA1 | SIGN_SHA256))
    if signed:
        h = hashes.SHA256() if capa & SIGN_SHA256 else hashes.SHA1()
        sender_pub.verify(dec(b64, f[3]), plain, padding.PKCS1v15(), h)  # raises if bad
    assert len(f) == (4 if signed else 3), extra
    return capa, plain


class Interop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not TOOL or not os.access(TOOL, os.X_OK):
            raise AssertionError("IPMC_TOOL must point to the built ipmc_tool")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cdir = os.path.join(cls.tmp.name, "keys")
        rc, out = tool("keys", cls.cdir)
        assert rc == 0, out
        lines = dict(l.split(" ", 1) for l in out.decode().splitlines())
        cls.c2048 = from_wire(lines["2048"])
        cls.c1024 = from_wire(lines["1024"])
        cls.c2048_wire, cls.c1024_wire = lines["2048"], lines["1024"]
        cls.cname = lines["name"]
        cls.p2048 = rsa.generate_private_key(65537, 2048)
        cls.p1024 = rsa.generate_private_key(65537, 1024)
        cls.other2048 = rsa.generate_private_key(65537, 2048)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def c_encrypt(self, peer, capa, pktno, text, attach="-", tolist="-"):
        rc, out = tool("encrypt", self.cdir, wire(peer), "%X" % capa, pktno, text, attach, tolist)
        self.assertEqual(rc, 0, out)
        return out.decode().strip()

    def c_decrypt(self, extra, pktno, sender_wire, ext="1"):
        rc, out = tool("decrypt", self.cdir, sender_wire, pktno, ext, stdin=extra.encode())
        return rc, out.decode()

    # --- key files and wire forms -------------------------------------------------
    def test_key_files_are_pem_0600_readable_by_python(self):
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
        for name, pub in (("ipmsg-rsa2048.pem", self.c2048), ("ipmsg-rsa1024.pem", self.c1024)):
            path = os.path.join(self.cdir, name)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path, "rb") as f:
                k = load_pem_private_key(f.read(), None)
            self.assertEqual(k.public_key().public_numbers(), pub.public_numbers())
        self.assertEqual(self.c2048.key_size, 2048)
        self.assertEqual(self.c1024.key_size, 1024)
        self.assertTrue(self.c2048_wire.startswith("10001-"))

    def test_fingerprints_agree(self):
        self.assertEqual(self.cname, "alice-<%s>" % fingerprint(self.c2048))
        rc, out = tool("fingerprint", wire(self.p2048.public_key()))
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.decode().strip(), fingerprint(self.p2048.public_key()))

    # --- C -> Python ----------------------------------------------------------------
    def check_c_to_py(self, capa, pktno, priv, attach=None, tolist=None):
        text = "h\u00e9llo\nworld %X" % capa
        extra = self.c_encrypt(priv.public_key(), capa, pktno, text, attach or "-", tolist or "-")
        got_capa, plain = py_decrypt(extra, pktno, priv, self.c2048)
        self.assertEqual(got_capa, capa)
        self.assertEqual(plain, compose(text, attach, tolist))
        return extra

    def test_c_to_py_aes_base64_sha256(self):
        extra = self.check_c_to_py(0x41900004, "1700000000", self.p2048,
                                   "0:a.txt:10:5f5e100:1:\a", "TO:bob:h1\acarol:h2\a")
        self.assertTrue(extra.startswith("41900004:"))

    def test_c_to_py_aes_hex_sha1_tolist_only(self):
        self.check_c_to_py(0x20900004, "42", self.p2048, None, "TO:bob:h1\a")

    def test_c_to_py_aes_zero_iv(self):
        self.check_c_to_py(0x41100004, "1700000001", self.p2048)

    def test_c_to_py_blowfish_base64_packetno_iv(self):
        # 10-digit packet number: Blowfish uses only the first 8 digits as IV.
        self.check_c_to_py(0x01820002, "1712345678", self.p1024)

    def test_c_to_py_blowfish_hex_zero_iv(self):
        self.check_c_to_py(0x00020002, "7", self.p1024, "1:b:2:3:1:\a")

    # --- Python -> C ----------------------------------------------------------------
    def check_py_to_c(self, capa, pktno, peer, plain, want_sig, ext="1"):
        extra = py_encrypt(capa, pktno, peer, self.p2048, plain)
        rc, out = self.c_decrypt(extra, pktno, wire(self.p2048.public_key()), ext)
        self.assertEqual(rc, 0, out)
        lines = out.split("\n")
        self.assertEqual(lines[0], "OK %X %d %d" % (capa, 2 if capa & AES_256 else 1, want_sig))
        self.assertEqual(bytes.fromhex(lines[1]), plain)
        return lines

    def test_py_to_c_aes_base64_sha256(self):
        lines = self.check_py_to_c(0x41900004, "1700000100", self.c2048,
                                   compose("hi C", "0:f:1:2:1:\a", "TO:a:b\a"), 2)
        self.assertEqual(lines[2:5], ["hi C", "0:f:1:2:1:\a", "TO:a:b\a"])

    def test_py_to_c_aes_hex_sha1(self):
        self.check_py_to_c(0x20900004, "99", self.c2048, compose("sha1 path"), 1)

    def test_py_to_c_aes_unsigned(self):
        self.check_py_to_c(0x01900004, "100", self.c2048, compose("no sig"), 0)

    def test_py_to_c_blowfish(self):
        self.check_py_to_c(0x01820002, "1712345678", self.c1024, compose("legacy peer"), 0)
        self.check_py_to_c(0x00020002, "5", self.c1024, compose("legacy hex"), 0)

    # --- rejections -----------------------------------------------------------------
    def expect_err(self, extra, pktno, code, sender=None):
        rc, out = self.c_decrypt(extra, pktno, sender or wire(self.p2048.public_key()))
        self.assertEqual(rc, 1, out)
        self.assertTrue(out.startswith("ERR %d " % code), out)

    def test_tampered_ciphertext_rejected(self):
        pktno = "1700000200"
        extra = py_encrypt(0x41900004, pktno, self.c2048, self.p2048, compose("x" * 40))
        f = extra.split(":")
        ct = bytearray(base64.b64decode(f[2]))
        ct[3] ^= 0x01  # first block: garbles it, the signature must catch it
        f[2] = base64.b64encode(bytes(ct)).decode()
        self.expect_err(":".join(f), pktno, -6)
        ct[-1] ^= 0x55  # last block: the padding breaks
        ct[3] ^= 0x01
        f[2] = base64.b64encode(bytes(ct)).decode()
        rc, out = self.c_decrypt(":".join(f), pktno, wire(self.p2048.public_key()))
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"^ERR -(5|6) ")

    def test_tampered_signature_key_and_wrong_keys_rejected(self):
        pktno = "1700000300"
        extra = py_encrypt(0x41900004, pktno, self.c2048, self.p2048, compose("sig" * 20))
        f = extra.split(":")
        sig = bytearray(base64.b64decode(f[3]))
        sig[100] ^= 0x80
        self.expect_err(":".join(f[:3] + [base64.b64encode(bytes(sig)).decode()]), pktno, -6)
        wk = bytearray(base64.b64decode(f[1]))
        wk[10] ^= 0x01
        self.expect_err(":".join([f[0], base64.b64encode(bytes(wk)).decode()] + f[2:]), pktno, -4)
        # Signed by someone else than the claimed sender.
        self.expect_err(extra, pktno, -6, sender=wire(self.other2048.public_key()))
        # Encrypted for another recipient.
        other = py_encrypt(0x41900004, pktno, self.other2048.public_key(), self.p2048,
                           compose("not for C"))
        self.expect_err(other, pktno, -4)
        # Wrong packet number => wrong IV: first block garbled, signature fails.
        self.expect_err(extra, "1700000301", -6)
        # Truncated and malformed inputs.
        self.expect_err(extra[: len(extra) // 2], pktno, -2)
        self.expect_err("41900004:" + f[1], pktno, -2)
        self.expect_err("40000004:" + ":".join(f[1:]), pktno, -3)

    # --- §6.6 stream ------------------------------------------------------------------
    def test_ctr_stream_agrees(self):
        key = os.urandom(32)
        data = os.urandom(100003)
        for pkt in (1700000000, 3000000000):  # the second prints negative ("%d")
            nonce = (str(pkt if pkt < 2**31 else pkt - 2**32).encode() + b"\0" * 16)[:16]
            e = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
            want = e.update(data) + e.finalize()
            rc, out = tool("ctr", key.hex(), str(pkt), stdin=data)
            self.assertEqual(rc, 0)
            self.assertEqual(out, want)


if __name__ == "__main__":
    unittest.main(verbosity=2)
