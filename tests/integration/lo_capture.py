"""A packet capture on lo for tests that must show what goes over the wire.

LoCapture(port, proto) records the payloads of IPv4 UDP or TCP packets to or
from port on the loopback interface, through an AF_PACKET socket (root only),
in a background thread until close(). Each packet is (source address, source
port, destination port, payload); lo shows every packet twice (sent and
received), and only the received copy is kept.

The kernel filters with classic BPF (as `tcpdump -dd udp port N` prints it)
into a large buffer: other tests may push gigabytes over lo at the same time,
and a full buffer would drop the very packets a test looks at.
"""
import ctypes
import socket
import struct
import threading

SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
PROTOCOLS = {"udp": 17, "tcp": 6}


def port_filter(proto, port):
    """The classic BPF program: IPv4, protocol proto, first fragment, port either way."""
    return [
        (0x28, 0, 0, 12),               # ldh [12]           ethertype
        (0x15, 0, 10, 0x0800),          # jeq IPv4, else drop
        (0x30, 0, 0, 23),               # ldb [23]           protocol
        (0x15, 0, 8, PROTOCOLS[proto]),  # jeq proto, else drop
        (0x28, 0, 0, 20),               # ldh [20]           fragment offset
        (0x45, 6, 0, 0x1FFF),           # jset -> drop (not the first fragment)
        (0xB1, 0, 0, 14),               # ldxb 4*([14]&0xf)  IP header length
        (0x48, 0, 0, 14),               # ldh [x+14]         source port
        (0x15, 2, 0, port),             # jeq port -> accept
        (0x48, 0, 0, 16),               # ldh [x+16]         destination port
        (0x15, 0, 1, port),             # jeq port -> accept, else drop
        (0x06, 0, 0, 262144),           # accept: ret whole packet
        (0x06, 0, 0, 0),                # drop
    ]


class LoCapture:
    def __init__(self, port, proto="udp", buffer=64 << 20):
        self.port, self.proto, self.packets, self.stop = port, proto, [], False
        insns = port_filter(proto, port)
        prog = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in insns))
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                             struct.pack("HL", len(insns), ctypes.addressof(prog)))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, buffer)
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                frame, info = self.sock.recvfrom(1 << 17)
            except socket.timeout:
                continue
            if info[2] == socket.PACKET_OUTGOING:
                continue  # the received copy is kept
            ip = frame[14:]
            ihl = (ip[0] & 0x0F) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
            head = 8 if self.proto == "udp" else (ip[ihl + 12] >> 4) * 4
            data = bytes(ip[ihl + head:total])
            if data:
                self.packets.append((socket.inet_ntoa(ip[12:16]), sport, dport, data))

    def payloads(self):
        return [p[3] for p in self.packets]

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()
