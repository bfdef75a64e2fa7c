"""Licences and premium plugins end to end (docs/licence.md).

Real daemons with the premium test plugin (tests/plugins/licence): the trial
(shortened only in a build made for testing), installing a licence live,
expiry, every refusal reason, the core.licence service, and interoperability
with the openssl command line in both directions. The tests make their own
keys; team policy trusts them (licence_keys), as a customer's admin would.
"""
import base64
import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from dgtest import BUILD_DIR, SLOW, DaemonTestCase, wait_until

PLUGINS = os.path.join(BUILD_DIR, "tests", "plugins-licence")
TOOL = os.path.join(BUILD_DIR, "bin", "dengon-licence")


def utc(offset_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(doc):
    """The canonical bytes of docs/licence.md, re-implemented with the standard library."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True)


def raw_public_key(pub_pem_path):
    der = openssl("pkey", "-pubin", "-in", pub_pem_path, "-outform", "DER").stdout
    return der[-32:]  # SubjectPublicKeyInfo of Ed25519 ends with the 32 raw bytes


def key_id(pub_pem_path):
    return hashlib.sha256(raw_public_key(pub_pem_path)).hexdigest()[:16]


def doc(**fields):
    d = {"format": 1, "id": "L-TEST-1", "licensee": "ACME 株式会社", "plan": "business",
         "seats": 25, "issued": utc(-3600), "expires": utc(30 * 86400),
         "entitlements": ["test-premium"]}
    d.update(fields)
    return {k: v for k, v in d.items() if v is not None}


class LicenceCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.keys = os.path.join(self.tmp, "keys")
        self.policy = os.path.join(self.tmp, "policy.d")
        self.markers = os.path.join(self.tmp, "markers")
        for d in (self.keys, self.policy, self.markers):
            os.makedirs(d)
        # The reseller key signs the test licences; team policy trusts it.
        self.reseller = os.path.join(self.tmp, "reseller.pem")
        self.tool("keygen", "--out", self.reseller, "--pub", os.path.join(self.keys, "reseller.pub"))
        self.write_policy("00-licences.json", {"format": 1, "name": "licensing",
                                               "licence_keys": ["reseller"]})

    def tool(self, *args, check=True):
        proc = subprocess.run([TOOL, *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"dengon-licence {args}: {proc.stderr}")
        return proc

    def write_policy(self, name, policy):
        with open(os.path.join(self.policy, name), "w") as f:
            json.dump(policy, f)

    def issue(self, name="licence.json", key=None, **fields):
        """A licence file signed by the vendor tool (checked by it first)."""
        src = os.path.join(self.tmp, name + ".doc")
        with open(src, "w") as f:
            json.dump(doc(**fields), f, ensure_ascii=False)
        out = os.path.join(self.tmp, name)
        self.tool("issue", "--key", key or self.reseller, "--out", out, src)
        return out

    def sign_with_openssl(self, document, key_pem, pub_pem, name):
        """A licence file made without dengon at all: openssl signs the canonical bytes."""
        msg = os.path.join(self.tmp, name + ".canon")
        sig = os.path.join(self.tmp, name + ".sig")
        with open(msg, "wb") as f:
            f.write(canonical(document))
        openssl("pkeyutl", "-sign", "-rawin", "-inkey", key_pem, "-in", msg, "-out", sig)
        with open(sig, "rb") as f:
            value = base64.b64encode(f.read()).decode()
        env = {"licence": document,
               "signature": {"alg": "ed25519", "key_id": key_id(pub_pem), "value": value}}
        out = os.path.join(self.tmp, name)
        with open(out, "w") as f:
            json.dump(env, f, ensure_ascii=False, indent=1)
        return out

    def start(self, name="home", trial=None, extra_env=None, **kwargs):
        env = {"DENGON_TEST_MARKER_DIR": self.markers}
        if trial is not None:
            env["DENGON_TEST_TRIAL_SECONDS"] = str(trial)
        env.update(extra_env or {})
        d = self.daemon(name, plugin_dirs=[PLUGINS], env=env,
                        args=["--policy-dir", self.policy, "--keys-dir", self.keys], **kwargs)
        return d.start()

    def is_testing_build(self, d):
        return d.result("licence.show")["testing_build"]

    def premium(self, d):
        return d.plugins()["testpremium"]

    def events(self, d, topic):
        return [e["payload"] for e in d.result("testwatch.events") if e["topic"] == topic]

    def installed_bytes(self, d):
        path = os.path.join(d.home, "data", "licence.json")
        with open(path, "rb") as f:
            return f.read()


class Trial(LicenceCase):
    def test_trial_runs_then_stops_with_event_and_message_and_restart_resets_it(self):
        d = self.start(trial=3)
        if not self.is_testing_build(d):
            self.skipTest("not a build made for testing: the trial is fixed at 120 s "
                          "(see test_trial_length_is_fixed_outside_test_builds)")
        p = self.premium(d)
        self.assertEqual(p["state"], "active")
        self.assertEqual(p["licence"]["state"], "trial")
        self.assertEqual(p["licence"]["entitlement"], "test-premium")
        self.assertTrue(0 < p["licence"]["seconds_left"] <= 3, p)
        table = d.cli("plugins")
        self.assertIn("LICENCE", table.out)
        self.assertIn("trial (", table.out)
        # A trial is not a licence: the service says so.
        status = d.result("testpremium.status")
        self.assertFalse(status["has"])
        self.assertEqual(status["seats"], 0)

        wait_until(lambda: self.premium(d)["state"] == "locked", timeout=10, what="trial end")
        p = self.premium(d)
        self.assertEqual(p["licence"]["state"], "locked")
        self.assertIn("trial ended (3 seconds per daemon start)", p["reason"])
        self.assertIn("dengon licence install FILE", p["reason"])
        self.assertTrue(os.path.exists(os.path.join(self.markers, "testpremium.stopped")),
                        "stop() ran: a clean stop")
        ended = wait_until(lambda: self.events(d, "core.licence.trial_ended"), what="event")
        self.assertEqual(ended[0]["id"], "testpremium")
        self.assertEqual(ended[0]["entitlement"], "test-premium")
        self.assertTrue(ended[0]["stopped"])
        self.assertIn("dengon licence install", ended[0]["message"])
        self.assertIn("trial ended", d.log_text())
        # The user cannot re-enable it past the trial.
        r = d.cli("plugin", "enable", "testpremium")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("trial ended", r.err)
        self.assert_clean_exit(d)

        # A new daemon start is a new trial.
        os.remove(os.path.join(self.markers, "testpremium.stopped"))
        d2 = self.start(name="home", trial=3)
        p = self.premium(d2)
        self.assertEqual(p["state"], "active")
        self.assertEqual(p["licence"]["state"], "trial")
        self.assert_clean_exit(d2)

    def test_trial_length_is_fixed_outside_test_builds(self):
        d = self.start(trial=5)
        shown = d.result("licence.show")
        if shown["testing_build"]:
            self.assertEqual(shown["trial_seconds"], 5)
            self.assertIn("trial shortened to 5 s", d.log_text())
        else:
            self.assertEqual(shown["trial_seconds"], 120)
        self.assert_clean_exit(d)
        # Out-of-range values are ignored even in a test build.
        d = self.start(name="other", trial=121)
        self.assertEqual(d.result("licence.show")["trial_seconds"], 120)
        self.assert_clean_exit(d)


class Install(LicenceCase):
    def test_install_starts_a_locked_plugin_live_and_exposes_seats(self):
        d = self.start(trial=1)
        # In a build made for testing the trial ends first, so the licence must start the
        # plugin; elsewhere (a 120 s trial) the running trial simply becomes licensed.
        testing = self.is_testing_build(d)
        if testing:
            wait_until(lambda: self.premium(d)["state"] == "locked", timeout=10, what="trial end")
        path = self.issue(seats=25)
        r = d.cli("licence", "install", path)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("licence L-TEST-1 for ACME 株式会社 installed", r.out)
        self.assertIn("started: testpremium" if testing else "started: none", r.out)
        p = self.premium(d)
        self.assertEqual(p["state"], "active")
        self.assertEqual(p["licence"]["state"], "licensed")
        self.assertTrue(os.path.exists(os.path.join(self.markers, "testpremium.started")))
        # The core.licence@1 service as a plugin sees it: has() and seats() for the server role.
        status = d.result("testpremium.status")
        self.assertTrue(status["has"])
        self.assertEqual(status["seats"], 25)
        self.assertEqual(status["licence"]["id"], "L-TEST-1")
        self.assertEqual(status["licence"]["key"], "reseller")
        shown = d.result("licence.show")
        self.assertEqual(shown["status"], "valid")
        self.assertEqual(shown["seats"], 25)
        self.assertEqual([k["name"] for k in shown["trusted_keys"]], ["vendor", "reseller"])
        changed = wait_until(lambda: self.events(d, "core.licence.changed"), what="event")
        self.assertEqual(changed[-1]["cause"], "install")
        self.assertEqual(changed[-1]["started"], ["testpremium"] if testing else [])
        human = d.cli("licence", "show")
        self.assertEqual(human.rc, 0)
        for text in ("valid", "L-TEST-1 for ACME 株式会社", "business, 25 seats", "test-premium",
                     "licensed"):
            self.assertIn(text, human.out)
        # Removing it locks the plugin again once its trial is used up.
        r = d.cli("licence", "remove")
        self.assertEqual(r.rc, 0, r)
        if testing:
            self.assertIn("stopped: testpremium", r.out)
            self.assertEqual(self.premium(d)["state"], "locked")
        else:
            self.assertEqual(self.premium(d)["licence"]["state"], "trial")
        self.assertEqual(d.result("licence.show")["status"], "none")
        self.assertEqual(d.cli("licence", "remove").rc, 1)
        self.assert_clean_exit(d)

    def test_licence_expiring_while_running_stops_the_plugin(self):
        # Installed before the start: the plugin never ran as a trial, so it locks at once
        # when the licence lapses (the trial is 120 s here: it must not be used as grace).
        path = self.issue(expires=utc(4))
        home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(home, "data"), mode=0o700)
        shutil.copy(path, os.path.join(home, "data", "licence.json"))
        d = self.start()
        p = self.premium(d)
        self.assertEqual((p["state"], p["licence"]["state"]), ("active", "licensed"))
        wait_until(lambda: self.premium(d)["state"] == "locked", timeout=15, what="expiry")
        p = self.premium(d)
        self.assertIn("expired on", p["reason"])
        self.assertIn("dengon licence install FILE", p["reason"])
        shown = d.result("licence.show")
        self.assertEqual(shown["status"], "expired")
        self.assertEqual(shown["seats"], 0)
        changed = wait_until(lambda: [e for e in self.events(d, "core.licence.changed")
                                      if e["cause"] == "expiry"], what="expiry event")
        self.assertEqual(changed[0]["stopped"], ["testpremium"])
        self.assertEqual(changed[0]["status"], "expired")
        self.assert_clean_exit(d)
        # Checked at start too: an expired licence unlocks nothing.
        d = self.start()
        self.assertEqual(d.result("licence.show")["status"], "expired")
        self.assertEqual(self.premium(d)["licence"]["state"], "trial")
        self.assert_clean_exit(d)


class Refusals(LicenceCase):
    def refused(self, d, path, reason):
        before = self.installed_bytes(d)
        r = d.cli("licence", "install", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn(f"licence refused ({reason})", r.err)
        self.assertIn("nothing was changed", r.err)
        # Nothing else changed: same file, same licence, plugin still running.
        self.assertEqual(self.installed_bytes(d), before)
        shown = d.result("licence.show")
        self.assertEqual((shown["status"], shown["licence"]["id"]), ("valid", "L-GOOD"))
        self.assertEqual(self.premium(d)["state"], "active")
        return r

    def test_every_refusal_names_its_reason(self):
        d = self.start()
        self.assertEqual(d.cli("licence", "install", self.issue(id="L-GOOD")).rc, 0)

        good = self.issue("other.json", id="L-OTHER")
        with open(good) as f:
            text = f.read()
        tampered = os.path.join(self.tmp, "tampered.json")
        with open(tampered, "w") as f:
            f.write(text.replace('"seats": 25', '"seats": 2500'))
        r = self.refused(d, tampered, "tampered")
        self.assertIn("does not match the content", r.err)

        truncated = os.path.join(self.tmp, "truncated.json")
        with open(truncated, "w") as f:
            f.write(text[: len(text) // 2])
        self.refused(d, truncated, "truncated")

        stranger = os.path.join(self.tmp, "stranger.pem")
        self.tool("keygen", "--out", stranger, "--pub", os.path.join(self.keys, "stranger.pub"))
        r = self.refused(d, self.issue("stranger.json", key=stranger), "wrong key")
        self.assertIn("does not trust", r.err)

        self.refused(d, self.issue("old.json", issued=utc(-7200), expires=utc(-3600)), "expired")
        r = self.refused(d, self.issue("future.json", not_before=utc(86400)), "not yet valid")
        self.assertIn("valid only from", r.err)

        # Malformed: properly signed (openssl, since the vendor tool refuses bad documents).
        key = os.path.join(self.tmp, "ossl.pem")
        pub = os.path.join(self.keys, "ossl.pub")
        openssl("genpkey", "-algorithm", "ed25519", "-out", key)
        openssl("pkey", "-in", key, "-pubout", "-out", pub)
        self.write_policy("01-ossl.json", {"format": 1, "name": "ossl", "licence_keys": ["ossl"]})
        self.assertEqual(d.cli("policy", "reload").rc, 0)
        bad = doc(seats="many")
        r = self.refused(d, self.sign_with_openssl(bad, key, pub, "bad.json"), "malformed")
        self.assertIn("'seats' must be an integer", r.err)
        notjson = os.path.join(self.tmp, "notjson.txt")
        with open(notjson, "w") as f:
            f.write("this is not a licence\n")
        self.refused(d, notjson, "malformed")
        self.assert_clean_exit(d)

    def test_other_keys_are_trusted_only_if_policy_allows(self):
        os.remove(os.path.join(self.policy, "00-licences.json"))
        d = self.start()
        path = self.issue()
        r = d.cli("licence", "install", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("licence refused (wrong key)", r.err)
        self.assertEqual([k["name"] for k in d.result("licence.show")["trusted_keys"]], ["vendor"])
        # The admin allows the reseller key: the same file now installs.
        self.write_policy("00-licences.json", {"format": 1, "name": "licensing",
                                               "licence_keys": ["reseller"]})
        d.signal(signal.SIGHUP)
        wait_until(lambda: len(d.result("licence.show")["trusted_keys"]) == 2, what="reload")
        r = d.cli("licence", "install", path)
        self.assertEqual(r.rc, 0, r)
        # Withdrawing the trust invalidates the installed licence live.
        os.remove(os.path.join(self.policy, "00-licences.json"))
        self.assertEqual(d.cli("policy", "reload").rc, 0)
        shown = d.result("licence.show")
        self.assertEqual(shown["status"], "invalid")
        self.assertIn("does not trust", shown["reason"])
        self.assertEqual(self.premium(d)["licence"]["state"], "trial")
        self.assert_clean_exit(d)


class Interop(LicenceCase):
    def test_openssl_signed_licence_installs(self):
        key = os.path.join(self.tmp, "ossl.pem")
        pub = os.path.join(self.keys, "ossl.pub")
        openssl("genpkey", "-algorithm", "ed25519", "-out", key)
        openssl("pkey", "-in", key, "-pubout", "-out", pub)
        self.write_policy("01-ossl.json", {"format": 1, "name": "ossl", "licence_keys": ["ossl"]})
        d = self.start()
        document = doc(id="L-OSSL", licensee='Quote " and backslash \\ and 日本')
        path = self.sign_with_openssl(document, key, pub, "ossl-licence.json")
        r = d.cli("licence", "install", path)
        self.assertEqual(r.rc, 0, r)
        shown = d.result("licence.show")
        self.assertEqual(shown["licence"]["id"], "L-OSSL")
        self.assertEqual(shown["licence"]["key"], "ossl")
        self.assertEqual(shown["licence"]["key_id"], key_id(pub))
        self.assertEqual(self.premium(d)["licence"]["state"], "licensed")
        # The vendor tool agrees.
        v = self.tool("verify", "--no-vendor", "--pub", pub, path)
        self.assertIn("valid", v.stdout)
        self.assert_clean_exit(d)

    def test_dengon_signed_licence_verifies_with_openssl(self):
        path = self.issue(licensee="Ünïcödé / \"quoted\"")
        with open(path) as f:
            env = json.load(f)
        canon = canonical(env["licence"])
        # The tool prints the same canonical bytes the standard library makes.
        self.assertEqual(self.tool("canonical", path).stdout.encode(), canon)
        msg = os.path.join(self.tmp, "msg")
        sig = os.path.join(self.tmp, "sig")
        with open(msg, "wb") as f:
            f.write(canon)
        with open(sig, "wb") as f:
            f.write(base64.b64decode(env["signature"]["value"]))
        pub = os.path.join(self.keys, "reseller.pub")
        out = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", msg,
                      "-sigfile", sig)
        self.assertIn(b"Signature Verified Successfully", out.stdout)
        self.assertEqual(env["signature"]["key_id"], key_id(pub))
        # And a changed byte fails openssl's check too.
        with open(msg, "wb") as f:
            f.write(canon.replace(b'"seats":25', b'"seats":26'))
        bad = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin",
                              "-in", msg, "-sigfile", sig], capture_output=True)
        self.assertNotEqual(bad.returncode, 0)

    def test_vendor_tool_refuses_to_overwrite_keys_and_invalid_documents(self):
        r = self.tool("keygen", "--out", self.reseller, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("never overwritten", r.stderr)
        src = os.path.join(self.tmp, "bad.doc")
        with open(src, "w") as f:
            json.dump(doc(entitlements=["Not An Id"]), f)
        r = self.tool("issue", "--key", self.reseller, src, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a valid licence", r.stderr)


if __name__ == "__main__":
    unittest.main()
