#!/usr/bin/env python3
"""A far end's other address for t_call_remote_target: logs every SIP message it receives over
UDP and answers BYE (and OPTIONS) with 200, echoing Via/From/To/Call-ID/CSeq. Exits after
LIFETIME seconds."""
import socket, sys, time

ip, port, log_path, lifetime = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, port))
s.settimeout(0.5)
deadline = time.time() + lifetime
while time.time() < deadline:
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        continue
    text = data.decode("utf-8", "replace")
    with open(log_path, "a") as f:
        f.write(f"from {peer[0]}:{peer[1]}\n" + text.replace("\r\n", "\n") + "\n----\n")
    method = text.split(" ", 1)[0]
    if method in ("BYE", "OPTIONS"):
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        keep = [l for l in head[1:] if l.split(":", 1)[0].strip().lower() in ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq")]
        s.sendto(("\r\n".join(["SIP/2.0 200 OK"] + keep + ["Content-Length: 0"]) + "\r\n\r\n").encode(), peer)
