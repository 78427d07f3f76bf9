#!/usr/bin/env python3
"""Raw-socket robustness checks against a running `trunkgate serve`.

Usage: malformed.py PORT CONFORMANCE_DIR

Over UDP and TCP, on 127.0.0.1 and ::1: a malformed request (RFC 4475 ncl.dat, negative
Content-Length) gets `400`; junk gets nothing and does not stop the server; ACK and responses
get nothing; CRLF CRLF on TCP gets a CRLF pong; a TCP framing error closes the connection; a
message dribbled in pieces is reassembled. Every wait is bounded. Exit status 1 on the first
failed check.

The well-formed OPTIONS used to probe that the server still serves go to sip:edge@<address>,
which is no trunk's domain: the edge answers them 404 Not Found (trunk resolution by
Request-URI), which needs no API set-up and proves the request went through the whole pipeline.
"""
import os
import random
import socket
import sys
import time

PORT = int(sys.argv[1])
CONFORMANCE = sys.argv[2]
HOSTS = [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
checks = 0
# The answer to a well-formed OPTIONS for a domain that is no trunk's.
ALIVE = b"SIP/2.0 404 Not Found"


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)


def options(branch, transport="UDP", host="127.0.0.1", method="OPTIONS"):
    via_host = f"[{host}]" if ":" in host else host
    return (
        f"{method} sip:edge@{via_host}:{PORT} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {via_host}:9;branch=z9hG4bK{branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@example.com>;tag={branch}\r\n"
        f"To: <sip:edge@example.com>\r\n"
        f"Call-ID: {branch}@interop\r\n"
        f"CSeq: 1 {method}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def udp_socket(family, host):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    return s


def udp_exchange(family, host, payload, timeout=3.0):
    """Sends one datagram and returns the first reply, or None after `timeout`."""
    with udp_socket(family, host) as s:
        s.settimeout(timeout)
        s.sendto(payload, (host, PORT))
        try:
            return s.recvfrom(70000)[0]
        except socket.timeout:
            return None


def tcp_connect(family, host):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, PORT))
    return s


def recv_until(s, predicate, timeout=5.0):
    """Reads until predicate(data) holds, the peer closes, or `timeout`. Returns (data, closed)."""
    data = b""
    deadline = time.monotonic() + timeout
    while not predicate(data):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return data, False
        s.settimeout(remaining)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def status_lines(data):
    return [line for line in data.split(b"\r\n") if line.startswith(b"SIP/2.0 ")]


with open(os.path.join(CONFORMANCE, "rfc4475", "ncl.dat"), "rb") as f:
    NCL = f.read()
NCL_CALL_ID = b"Call-ID: ncl.0ha0isndaksdj2193423r542w35"
rng = random.Random(4475)

for family, host in HOSTS:
    # A malformed request over UDP: 400 with the parse error, echoing the dialog headers.
    reply = udp_exchange(family, host, NCL)
    check(reply is not None, f"[{host}] UDP ncl.dat: no response")
    check(reply.startswith(b"SIP/2.0 400 Bad Request (Content-Length"), f"[{host}] UDP ncl.dat: got {reply[:60]!r}")
    check(NCL_CALL_ID in reply and b"\r\nCSeq: 0 INVITE\r\n" in reply, f"[{host}] UDP ncl.dat: headers not echoed")
    check(reply.endswith(b"Content-Length: 0\r\n\r\n"), f"[{host}] UDP ncl.dat: bad ending {reply[-30:]!r}")

    # Junk: random datagrams, an empty one, a keepalive, a 65 000-byte one. None is answered.
    with udp_socket(family, host) as s:
        junk = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1500))) for _ in range(300)]
        junk += [b"", b"\r\n\r\n", b"\x00\x00\x00\x00", os.urandom(65000), b"SIP/2.0 200 OK\r\n\r\n"]
        for payload in junk:
            s.sendto(payload, (host, PORT))
        s.settimeout(1.0)
        try:
            unexpected = s.recvfrom(70000)[0]
        except socket.timeout:
            unexpected = None
        check(unexpected is None, f"[{host}] UDP junk was answered: {unexpected[:60] if unexpected else b''!r}")

    # ACK is never answered; a stray response is dropped.
    check(udp_exchange(family, host, options("ack1", host=host, method="ACK"), timeout=1.0) is None,
          f"[{host}] ACK was answered")
    stray = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKs\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n" \
            b"Call-ID: s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    check(udp_exchange(family, host, stray, timeout=1.0) is None, f"[{host}] a response was answered")

    # Still serving after all that.
    reply = udp_exchange(family, host, options(f"alive{family}", host=host))
    check(reply is not None and reply.startswith(ALIVE + b"\r\n"), f"[{host}] UDP OPTIONS after junk: {reply!r}")

    # TCP: RFC 5626 ping gets a CRLF pong, then the connection carries requests as usual.
    with tcp_connect(family, host) as s:
        s.sendall(b"\r\n\r\n")
        data, closed = recv_until(s, lambda d: len(d) >= 2, timeout=3)
        check(data == b"\r\n" and not closed, f"[{host}] TCP ping: got {data!r}")
        message = options(f"drip{family}", transport="TCP", host=host)
        for piece in (message[:20], message[20:90], message[90:]):  # dribbled in pieces
            s.sendall(piece)
            time.sleep(0.05)
        data, closed = recv_until(s, lambda d: d.endswith(b"\r\n\r\n"))
        check(status_lines(data) == [ALIVE], f"[{host}] TCP dribbled OPTIONS: got {data[:80]!r}")

    # TCP framing error: 400, then the server closes the connection.
    with tcp_connect(family, host) as s:
        s.sendall(NCL)
        data, closed = recv_until(s, lambda d: False, timeout=5)
        lines = status_lines(data)
        check(len(lines) == 1 and lines[0].startswith(b"SIP/2.0 400 Bad Request (Content-Length"),
              f"[{host}] TCP ncl.dat: got {data[:80]!r}")
        check(NCL_CALL_ID in data, f"[{host}] TCP ncl.dat: Call-ID not echoed")
        check(closed, f"[{host}] TCP ncl.dat: connection not closed by the server")

    # Half-open connections that never send anything do not stop UDP or TCP service.
    idle = [tcp_connect(family, host) for _ in range(50)]
    reply = udp_exchange(family, host, options(f"idle{family}", host=host))
    check(reply is not None and reply.startswith(ALIVE + b"\r\n"), f"[{host}] UDP OPTIONS with idle TCP peers")
    with tcp_connect(family, host) as s:
        s.sendall(options(f"idletcp{family}", transport="TCP", host=host))
        data, _ = recv_until(s, lambda d: d.endswith(b"\r\n\r\n"))
        check(status_lines(data) == [ALIVE], f"[{host}] TCP OPTIONS with idle TCP peers: {data[:60]!r}")
    for s in idle:
        s.close()

print(f"{checks} checks passed")
