"""Real broadcast between dengond processes in network namespaces the test
creates (root only; skipped with a reason otherwise). Nothing reaches the
machine's own network: every link is a veth pair between namespaces made
here, and they are deleted, with the daemons stopped by PID, even when a
test fails.

    segment 1 (10.231.1.0/24, bridge br1)      segment 2 (10.231.2.0/24, bridge br2)
      A  .2  list server                          C  .2  ipmsg.broadcast=10.231.1.255
      B  .3  (address added while running)        D  .3  ipmsg.list_get, ipmsg.hosts=A
      R  .1  ---------- router R (forwarding, directed broadcast) ---------- .1

A and B find each other by broadcast alone (no host lists), B only after its
address appears (netlink re-announce). C, on the other segment, reaches both
through its configured broadcast list (R forwards the directed broadcast,
bc_forwarding). D, also there, gets B from A's host list (GETLIST/ANSLIST) and
introduces itself to B by unicast.
"""
import os
import shutil
import subprocess
import time
import unittest

from dgtest import Daemon, DaemonTestCase, wait_until
from ipmsg_testlib import PLUGINS, TEST_PLUGINS

IP = shutil.which("ip")


def run(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


class NsDaemon(Daemon):
    """A dengond started inside a network namespace ('ip netns exec' execs it: same PID)."""

    def __init__(self, home, netns, **kw):
        super().__init__(home, **kw)
        self.netns = netns

    def command(self):
        return [IP, "netns", "exec", self.netns] + super().command()


class Topology:
    """The namespaces, bridges and veth pairs of the module docstring."""

    def __init__(self):
        sfx = "%d" % (os.getpid() % 100000)
        self.br, self.r = "dg-br-" + sfx, "dg-r-" + sfx
        self.host = {n: "dg-%s-%s" % (n, sfx) for n in "abcd"}
        self.made = []

    def ns(self, name):
        run(IP, "netns", "add", name)
        self.made.append(name)
        run(IP, "-n", name, "link", "set", "lo", "up")
        run(IP, "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")

    def link(self, ns, ifname, bridge, port):
        """A veth from ns (ifname) to a port of bridge in the bridge namespace."""
        run(IP, "link", "add", ifname, "netns", ns, "type", "veth", "peer", "name", port,
            "netns", self.br)
        run(IP, "-n", self.br, "link", "set", port, "master", bridge, "up")
        run(IP, "-n", ns, "link", "set", ifname, "up")

    def address(self, ns, ifname, cidr, gateway=None):
        run(IP, "-n", ns, "addr", "add", cidr, "broadcast", "+", "dev", ifname)
        if gateway:
            run(IP, "-n", ns, "route", "add", "default", "via", gateway)

    def build(self):
        self.ns(self.br)
        for b in ("br1", "br2"):
            run(IP, "-n", self.br, "link", "add", b, "type", "bridge")
            run(IP, "-n", self.br, "link", "set", b, "up")
        self.ns(self.r)
        for n in "abcd":
            self.ns(self.host[n])
        self.link(self.r, "eth1", "br1", "pr1")
        self.link(self.r, "eth2", "br2", "pr2")
        self.address(self.r, "eth1", "10.231.1.1/24")
        self.address(self.r, "eth2", "10.231.2.1/24")
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.bc_forwarding=1",
                    "net.ipv4.conf.eth1.bc_forwarding=1", "net.ipv4.conf.eth2.bc_forwarding=1",
                    "net.ipv4.conf.all.rp_filter=0"):
            run(IP, "netns", "exec", self.r, "sysctl", "-qw", key)
        for n, bridge in (("a", "br1"), ("b", "br1"), ("c", "br2"), ("d", "br2")):
            self.link(self.host[n], "eth0", bridge, "p" + n)
        self.address(self.host["a"], "eth0", "10.231.1.2/24", "10.231.1.1")
        # B gets its address later, while its daemon runs.
        self.address(self.host["c"], "eth0", "10.231.2.2/24", "10.231.2.1")
        self.address(self.host["d"], "eth0", "10.231.2.3/24", "10.231.2.1")

    def destroy(self):
        for name in reversed(self.made):
            run(IP, "netns", "del", name, check=False)
        self.made = []


def skip_reason():
    if os.geteuid() != 0:
        return "netns: needs root to create network namespaces (run the suite as root to include it)"
    if not IP:
        return "netns: needs the 'ip' command (iproute2)"
    probe = "dg-probe-%d" % os.getpid()
    r = run(IP, "netns", "add", probe, check=False)
    if r.returncode != 0:
        return "netns: cannot create a network namespace here: " + r.stderr.strip()
    try:
        r = run(IP, "netns", "exec", probe, "sysctl", "-n", "net.ipv4.conf.all.bc_forwarding",
                check=False)
        if r.returncode != 0:
            return "netns: the kernel cannot forward directed broadcasts (no bc_forwarding, Linux < 4.19)"
    finally:
        run(IP, "netns", "del", probe, check=False)
    return None


SKIP = skip_reason()


@unittest.skipIf(SKIP, SKIP)
class TestNamespaces(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.topo = Topology()
        # Registered after DaemonTestCase's cleanup, so it runs first: daemons stop
        # (by PID) before their namespaces go.
        self.addCleanup(self.teardown_topology)
        self.topo.build()

    def teardown_topology(self):
        for d in self.daemons:
            d.kill()
        self.topo.destroy()

    def node(self, name, netns_key, options=()):
        opts = ["identity.user=" + name, "identity.host=" + netns_key,
                "ipmsg.announce_interval_s=0"] + list(options)
        home = os.path.join(self.tmp, name)
        d = NsDaemon(home, self.topo.host[netns_key], plugin_dirs=[PLUGINS, TEST_PLUGINS],
                     options=opts)
        self.daemons.append(d)
        d.start()
        self.assertEqual(d.plugins()["ipmsg"]["state"], "active", d.plugins())
        return d

    def users(self, d):
        return {u["key"]: u for u in d.result("ipmsg.peers")}  # the live peer table

    def wait_user(self, d, key, timeout=15):
        return wait_until(lambda: self.users(d).get(key, {}).get("status") == "online" and
                          self.users(d)[key], timeout=timeout, what="%s online" % key)

    def test_broadcast_segments_and_host_list(self):
        a = self.node("alice", "a", ["ipmsg.list_server=true", "ipmsg.list_wait_ms=500"])
        # B starts after A's only entry round (no periodic ones here), so neither hears the other.
        wait_until(lambda: a.result("ipmsg.discovery")["announces"] >= 1, what="A's entry")
        time.sleep(0.3)
        b = self.node("bob", "b")
        disc = b.result("ipmsg.discovery")
        self.assertTrue(disc["address_watch"]["watching"], disc)
        self.assertEqual(disc["targets"], ["255.255.255.255:2425"])  # no address yet
        # B's start-up entry went nowhere (no route): A has not heard of it.
        wait_until(lambda: b.result("ipmsg.discovery")["announces"] >= 1, what="B's first entry")
        time.sleep(0.5)
        self.assertNotIn("bob@b", self.users(a))
        self.assertNotIn("alice@a", self.users(b))
        self.assertGreaterEqual(b.result("ipmsg.stats")["tx_errors"], 1)

        # B's address appears: netlink tells its daemon, which announces again, now
        # also to the new interface's directed broadcast. Only broadcasts: no host lists.
        self.topo.address(self.topo.host["b"], "eth0", "10.231.1.3/24", "10.231.1.1")
        u = self.wait_user(a, "bob@b")
        self.assertEqual(u["address"], "10.231.1.3:2425")
        self.assertEqual(self.wait_user(b, "alice@a")["address"], "10.231.1.2:2425")
        disc = b.result("ipmsg.discovery")
        self.assertGreaterEqual(disc["address_watch"]["address_changes"], 1)
        self.assertGreaterEqual(disc["address_watch"]["reannounces"], 1)
        self.assertIn("10.231.1.255:2425", disc["targets"])

        # C, on segment 2, reaches segment 1 through its broadcast list: the router
        # forwards the directed broadcast 10.231.1.255, A and B answer by unicast.
        c = self.node("carol", "c", ["ipmsg.broadcast=10.231.1.255"])
        self.assertEqual(self.wait_user(a, "carol@c")["address"], "10.231.2.2:2425")
        self.wait_user(b, "carol@c")
        self.wait_user(c, "alice@a")
        self.wait_user(c, "bob@b")

        # D, also on segment 2, knows only A (a list server): B reaches it through the
        # host list, and learns about D from the entry D then sends it by unicast.
        d = self.node("dave", "d", ["ipmsg.list_get=true", "ipmsg.list_wait_ms=500",
                                    "ipmsg.hosts=10.231.1.2"])
        last = wait_until(lambda: d.result("ipmsg.discovery")["host_list"].get("last"),
                          timeout=20, what="host list exchange")
        self.assertTrue(last["ok"], last)
        self.assertEqual(last["server"], "10.231.1.2:2425")
        self.assertEqual(self.wait_user(d, "bob@b")["address"], "10.231.1.3:2425")
        self.wait_user(b, "dave@d")
        self.wait_user(d, "alice@a")

        # A broadcast message goes out on the real broadcast address too: nobody acks it.
        r = a.result("chat.send", {"broadcast": True, "text": "segment meeting at 3"})
        self.assertIn("255.255.255.255:2425", [x["address"] for x in r["recipients"]])
        for peer in (b, c):
            m = wait_until(lambda: [m for m in peer.result("chat.inbox")["messages"]
                                    if m["text"] == "segment meeting at 3"], what="broadcast")
            self.assertTrue(m[0]["broadcast"])
        self.assertEqual(a.result("ipmsg.stats")["pending"], 0)

        # BR_EXIT goes out by broadcast as well: the others see A leave.
        self.assert_clean_exit(a)
        wait_until(lambda: self.users(b)["alice@a"]["status"] == "offline", what="exit at B")
        for x in (b, c, d):
            self.assert_clean_exit(x)


if __name__ == "__main__":
    unittest.main()
