"""Team policy end to end (docs/admin-guide.md).

Real daemons with a policy directory of their own: plugins forced off and on,
locked keys (against `config set` and -o), teams matched by group and by user
key, lan_only, live changes by SIGHUP and `dengon policy reload`, signed and
unsigned policies (signed by the vendor tool and by the openssl command line),
and `dengon policy show` naming where each rule came from.
"""
import base64
import hashlib
import json
import os
import signal
import subprocess
import unittest

from dgtest import BUILD_DIR, DaemonTestCase, wait_until

PLUGINS = os.path.join(BUILD_DIR, "tests", "plugins-licence")
TOOL = os.path.join(BUILD_DIR, "bin", "dengon-licence")


def canonical(doc):
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class PolicyCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.keys = os.path.join(self.tmp, "keys")
        self.policy = os.path.join(self.tmp, "policy.d")
        self.markers = os.path.join(self.tmp, "markers")
        for d in (self.keys, self.policy, self.markers):
            os.makedirs(d)

    def write_policy(self, name, policy):
        with open(os.path.join(self.policy, name), "w") as f:
            json.dump(policy, f, indent=1)

    def start(self, name="home", group="Sales", user="alice", options=(), args=()):
        opts = [f"identity.user={user}", "identity.host=test", *options]
        if group is not None:  # -o wins over `config set`: leave it out to change it live
            opts.append(f"identity.group={group}")
        d = self.daemon(name, plugin_dirs=[PLUGINS], options=opts,
                        env={"DENGON_TEST_MARKER_DIR": self.markers},
                        args=["--policy-dir", self.policy, "--keys-dir", self.keys, *args])
        return d.start()

    def states(self, d):
        return {pid: p["state"] for pid, p in d.plugins().items()}

    def events(self, d, topic):
        return [e["payload"] for e in d.result("testwatch.events") if e["topic"] == topic]

    def tool(self, *args):
        proc = subprocess.run([TOOL, *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"dengon-licence {args}: {proc.stderr}")
        return proc


class Plugins(PolicyCase):
    def test_forced_off_stops_live_and_enable_fails_naming_the_policy(self):
        d = self.start()
        self.assertEqual(self.states(d)["testoutside"], "active")
        self.write_policy("10-acme.json", {"format": 1, "name": "acme",
                                           "default": {"plugins": {"testoutside": "off"}}})
        r = d.cli("policy", "reload")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("stopped: testoutside", r.out)
        p = d.plugins()["testoutside"]
        self.assertEqual(p["state"], "disabled")
        self.assertEqual(p["reason"], "turned off by team policy 'acme' (10-acme.json: default)")
        self.assertTrue(os.path.exists(os.path.join(self.markers, "testoutside.stopped")))
        changed = wait_until(lambda: self.events(d, "core.policy.changed"), what="event")
        self.assertEqual(changed[-1]["stopped"], ["testoutside"])
        self.assertEqual(changed[-1]["cause"], "reload")

        r = d.cli("plugin", "enable", "testoutside")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("cannot enable: turned off by team policy 'acme'", r.err)
        user_file = os.path.join(d.home, "config", "dengon.ini")
        text = open(user_file).read() if os.path.exists(user_file) else ""
        self.assertNotIn("testoutside", text, "a refused enable writes nothing")

        # Policy changes apply live on SIGHUP too: the plugin comes back.
        os.remove(os.path.join(self.policy, "10-acme.json"))
        d.signal(signal.SIGHUP)
        wait_until(lambda: self.states(d)["testoutside"] == "active", what="started again")
        self.assert_clean_exit(d)

    def test_forced_on_and_locked_keys_beat_user_config_and_command_line(self):
        self.write_policy("10-acme.json", {
            "format": 1, "name": "acme",
            "default": {"plugins": {"testoff": "on"}, "config": {"testoff.level": 7}}})
        d = self.start(options=["testoff.level=3"])
        self.assertEqual(self.states(d)["testoff"], "active")  # default_enabled is false
        got = d.result("config.get", {"key": "testoff.level"})
        self.assertEqual((got["value"], got["source"], got["locked"]), ("7", "policy", True))
        self.assertIn("-o testoff.level=3 is ignored", d.log_text())

        r = d.cli("config", "set", "testoff.level", "5")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("testoff.level is locked by team policy 'acme'", r.err)
        r = d.cli("plugin", "disable", "testoff")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("locked by team policy 'acme'", r.err)
        self.assertEqual(self.states(d)["testoff"], "active")

        # A new value is re-applied live; dropping the rule unlocks and stops what it forced.
        self.write_policy("10-acme.json", {
            "format": 1, "name": "acme",
            "default": {"plugins": {"testoff": "on"}, "config": {"testoff.level": 9}}})
        self.assertEqual(d.cli("policy", "reload").rc, 0)
        self.assertEqual(d.result("config.get", {"key": "testoff.level"})["value"], "9")
        os.remove(os.path.join(self.policy, "10-acme.json"))
        r = d.cli("policy", "reload")
        self.assertIn("stopped: testoff", r.out)
        got = d.result("config.get", {"key": "testoff.level"})
        self.assertEqual((got["value"], got["source"], got["locked"]), ("3", "cmdline", False))
        self.assertEqual(self.states(d)["testoff"], "disabled")
        self.assert_clean_exit(d)


class Teams(PolicyCase):
    POLICY = {
        "format": 1, "name": "acme",
        "teams": [
            {"name": "hr", "groups": ["HR"], "modes": ["lan_only"]},
            {"name": "boss", "users": ["alice@test"], "plugins": {"testoff": "on"}},
        ]}

    def test_lan_only_team_by_group_at_start(self):
        self.write_policy("10-acme.json", self.POLICY)
        d = self.start(group="hr", user="bob")  # group names match in any case
        states = self.states(d)
        self.assertEqual(states["testoutside"], "disabled")
        self.assertEqual(states["testwatch"], "active")
        self.assertEqual(states["testoff"], "disabled")  # bob is not the boss
        self.assertIn("team policy 'acme' is lan_only (10-acme.json: team 'hr' (group 'HR'))",
                      d.plugins()["testoutside"]["reason"])
        self.assertFalse(os.path.exists(os.path.join(self.markers, "testoutside.started")),
                         "its code never ran")
        self.assert_clean_exit(d)

    def test_user_key_match_and_a_live_group_change(self):
        self.write_policy("10-acme.json", self.POLICY)
        d = self.start(group=None, user="alice")
        states = self.states(d)
        self.assertEqual(states["testoff"], "active")  # alice@test is the boss
        self.assertEqual(states["testoutside"], "active")
        shown = d.result("policy.show")
        self.assertEqual([t["name"] for t in shown["effective"]["teams"]], ["boss"])
        self.assertEqual(shown["effective"]["plugins"][0]["source"],
                         "10-acme.json: team 'boss' (user 'alice@test')")
        # Joining HR: lan_only now applies, live.
        self.assertEqual(d.cli("config", "set", "identity.group", "HR").rc, 0)
        wait_until(lambda: self.states(d)["testoutside"] == "disabled", what="lan_only applied")
        shown = d.result("policy.show")
        self.assertEqual(sorted(t["name"] for t in shown["effective"]["teams"]), ["boss", "hr"])
        self.assertEqual(shown["effective"]["modes"][0]["mode"], "lan_only")
        self.assert_clean_exit(d)

    def test_policy_show_names_the_source_of_every_rule(self):
        self.write_policy("10-acme.json", {
            "format": 1, "name": "acme",
            "default": {"config": {"testoff.level": 4}},
            "teams": [{"name": "hr", "groups": ["HR"], "modes": ["lan_only"],
                       "plugins": {"testoff": "on"}}]})
        self.write_policy("20-site.json", {"format": 1, "name": "site",
                                           "default": {"config": {"testoff.level": 5}}})
        with open(os.path.join(self.policy, "README"), "w") as f:
            f.write("not a policy: ignored\n")
        d = self.start(group="HR")
        shown = d.result("policy.show")
        self.assertEqual([f["file"] for f in shown["files"]], ["10-acme.json", "20-site.json"])
        self.assertEqual({f["status"] for f in shown["files"]}, {"applied"})
        eff = shown["effective"]
        self.assertEqual(eff["config"], [{"key": "testoff.level", "value": "5", "policy": "site",
                                          "source": "20-site.json: default"}])
        self.assertEqual(eff["plugins"], [{"id": "testoff", "state": "on", "policy": "acme",
                                           "source": "10-acme.json: team 'hr' (group 'HR')"}])
        self.assertEqual(shown["identity"]["group"], "HR")
        human = d.cli("policy", "show")
        self.assertEqual(human.rc, 0, human)
        for text in ("10-acme.json", "20-site.json", "applied", "team hr", "plugin testoff",
                     "config testoff.level", "mode lan_only",
                     "10-acme.json: team 'hr' (group 'HR')", "20-site.json: default"):
            self.assertIn(text, human.out)
        self.assert_clean_exit(d)


class Signatures(PolicyCase):
    OFF = {"format": 1, "name": "secure", "default": {"plugins": {"testoutside": "off"}}}

    def setUp(self):
        super().setUp()
        os.makedirs(os.path.join(self.keys, "admin"))
        self.admin = os.path.join(self.tmp, "admin.pem")
        self.tool("keygen", "--out", self.admin, "--pub",
                  os.path.join(self.keys, "admin", "it-dept.pub"))

    def sign(self, name, policy):
        src = os.path.join(self.tmp, name + ".src")
        with open(src, "w") as f:
            json.dump(policy, f)
        self.tool("sign-policy", "--key", self.admin, "--out", os.path.join(self.policy, name),
                  src)

    def test_unsigned_policy_is_refused_when_signed_policy_is_required(self):
        self.write_policy("10-unsigned.json", self.OFF)
        self.sign("20-signed.json", {"format": 1, "name": "levels",
                                     "default": {"config": {"testoff.level": 8}}})
        d = self.start(options=["policy.require_signed=true"])
        shown = d.result("policy.show")
        self.assertTrue(shown["require_signed"])
        files = {f["file"]: f for f in shown["files"]}
        self.assertEqual(files["10-unsigned.json"]["status"], "refused")
        self.assertEqual(files["10-unsigned.json"]["refusal"], "unsigned")
        self.assertEqual(files["20-signed.json"]["status"], "applied")
        self.assertEqual(files["20-signed.json"]["signer"], "it-dept")
        self.assertEqual(self.states(d)["testoutside"], "active")  # the refused rule is not applied
        self.assertEqual(d.result("config.get", {"key": "testoff.level"})["value"], "8")
        self.assertIn("refused (unsigned)", d.cli("policy", "show").out)

        # Signed by the admin: accepted, applied live.
        os.remove(os.path.join(self.policy, "10-unsigned.json"))
        self.sign("10-signed-off.json", self.OFF)
        r = d.cli("policy", "reload")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.states(d)["testoutside"], "disabled")

        # Tampered afterwards: the reload is refused and the policy in force stays.
        path = os.path.join(self.policy, "10-signed-off.json")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace('"off"', '"on"'))
        r = d.cli("policy", "reload")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("10-signed-off.json: tampered", r.err)
        self.assertIn("the policy in force stays", r.err)
        self.assertEqual(self.states(d)["testoutside"], "disabled")
        # An unsigned file added later is refused the same way.
        with open(path, "w") as f:
            f.write(text)
        self.write_policy("30-new.json", {"format": 1, "name": "new"})
        r = d.cli("policy", "reload")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("30-new.json: unsigned", r.err)
        self.assert_clean_exit(d)

    def test_the_user_file_cannot_lift_the_requirement(self):
        system = os.path.join(self.tmp, "system.ini")
        with open(system, "w") as f:
            f.write("policy.require_signed = true\n")
        os.makedirs(os.path.join(self.tmp, "home", "config"))
        with open(os.path.join(self.tmp, "home", "config", "dengon.ini"), "w") as f:
            f.write("policy.require_signed = false\n")
        self.write_policy("10-unsigned.json", self.OFF)
        d = self.start(args=["--system-config", system])
        shown = d.result("policy.show")
        self.assertTrue(shown["require_signed"])
        self.assertEqual(shown["files"][0]["refusal"], "unsigned")
        self.assertIn("policy.require_signed in the user file is ignored", d.log_text())
        self.assert_clean_exit(d)

    def test_policy_signed_with_the_openssl_command_line(self):
        key = os.path.join(self.tmp, "ossl.pem")
        pub = os.path.join(self.keys, "admin", "ossl.pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
        der = subprocess.run(["openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER"],
                             capture_output=True, check=True).stdout
        msg = os.path.join(self.tmp, "msg")
        sig = os.path.join(self.tmp, "sig")
        with open(msg, "wb") as f:
            f.write(canonical(self.OFF))
        subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", msg,
                        "-out", sig], check=True)
        with open(sig, "rb") as f:
            value = base64.b64encode(f.read()).decode()
        self.write_policy("10-ossl.json", {
            "policy": self.OFF,
            "signature": {"alg": "ed25519", "key_id": hashlib.sha256(der[-32:]).hexdigest()[:16],
                          "value": value}})
        d = self.start(options=["policy.require_signed=true"])
        shown = d.result("policy.show")
        self.assertEqual(shown["files"][0]["status"], "applied", shown)
        self.assertEqual(shown["files"][0]["signer"], "ossl")
        self.assertEqual(self.states(d)["testoutside"], "disabled")
        self.assert_clean_exit(d)


if __name__ == "__main__":
    unittest.main()
