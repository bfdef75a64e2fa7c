"""What a licensed filecrypt daemon needs, for the tests and the benchmark.

- a test licence granting "file-encryption", signed by a key made here with
  dengon-licence and trusted through the test's own policy and keys folders
  (the mechanism of tests/integration/test_licence.py);
- a home with RSA key pairs made here (python3-cryptography), so the
  fingerprinted user name that goes with them (§6.4) is known before start:
  peers qualify for §6.6 only with such names.
"""
import json
import os
import subprocess
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import ipmsg_v4_peer as v4


def _utc(offset):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def make_licence(tool, tmp):
    """(keys dir, policy dir, licence file) under tmp."""
    keys, policy = os.path.join(tmp, "keys"), os.path.join(tmp, "policy.d")
    os.makedirs(keys)
    os.makedirs(policy)
    signer = os.path.join(tmp, "reseller.pem")

    def run(*args):
        p = subprocess.run([tool, *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("dengon-licence %s: %s" % (args, p.stderr))
    run("keygen", "--out", signer, "--pub", os.path.join(keys, "reseller.pub"))
    with open(os.path.join(policy, "00-licences.json"), "w") as f:
        json.dump({"format": 1, "name": "licensing", "licence_keys": ["reseller"]}, f)
    doc = {"format": 1, "id": "L-FILECRYPT", "licensee": "dengon tests", "plan": "business",
           "seats": 5, "issued": _utc(-3600), "expires": _utc(30 * 86400),
           "entitlements": ["file-encryption"]}
    src = os.path.join(tmp, "licence.doc")
    with open(src, "w") as f:
        json.dump(doc, f)
    licence = os.path.join(tmp, "licence.json")
    run("issue", "--key", signer, "--out", licence, src)
    return keys, policy, licence


def prepare_home(home, name, licence=None):
    """Key pairs (and the licence when given) in a new home; the fingerprinted user name."""
    data = os.path.join(home, "data")
    keydir = os.path.join(data, "plugin-data", "crypto")
    os.makedirs(keydir, mode=0o700)
    os.chmod(data, 0o700)
    user = name
    for bits in (2048, 1024):
        k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        fd = os.open(os.path.join(keydir, "ipmsg-rsa%d.pem" % bits),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
        if bits == 2048:
            user = "%s-<%s>" % (name, v4.fingerprint(k.public_key()))
    if licence:
        fd = os.open(os.path.join(data, "licence.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                     0o600)
        with open(licence, "rb") as src, os.fdopen(fd, "wb") as out:
            out.write(src.read())
    return user
