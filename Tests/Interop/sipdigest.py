#!/usr/bin/env python3
"""A minimal raw-UDP SIP digest client for the interop tests (loopback only).

  sipdigest.py register --to HOST:PORT --domain DOMAIN --user U --password P
        [--challenge-from HOST:PORT] [--expect 200] [--wait SECONDS]
        [--since EPOCH | --since-file FILE] [--ready-file FILE] [--interval 0.05] [--timeout 2]

One REGISTER flow: REGISTER -> 401 (WWW-Authenticate; the MD5 challenge is answered) ->
REGISTER + Authorization -> final status. With --challenge-from the first REGISTER goes there
and the answer goes to --to (a nonce issued by one node, verified by another).
With --wait the flow is repeated every --interval seconds until the final status is --expect
(or the time is up); the output then tells how long after --since (default: the start) it was.
--since-file: the poll may start before the change it waits for; the change's time (epoch
seconds) is read from FILE once it exists, and "elapsed" is from then to the end of the first
flow that ended as expected ("flow" is how long that flow took, "after_last_miss" how long after
the start of the last flow that did not). --ready-file is created once the first flow has ended.
Prints one JSON line: {"status": N, "reason": ..., "attempts": K, "elapsed": S, "challenge": ...}
and exits 0 when the final status is --expect, 1 otherwise.
"""
import argparse
import hashlib
import ipaddress
import json
import random
import re
import socket
import sys
import time


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def address(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit(f"refusing non-loopback target {text}")
    return host, int(port)


def header_values(message, name):
    values = []
    for line in message.split("\r\n")[1:]:
        if not line:
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            values.append(value.strip())
    return values


def parse_challenge(value):
    scheme, _, rest = value.partition(" ")
    params = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("([^"\\]|\\.)*"|[^,\s]+)', rest):
        v = m.group(2)
        if v.startswith('"'):
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[m.group(1).lower()] = v
    return scheme, params


class Client:
    def __init__(self, host):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.local = self.sock.getsockname()
        self.call_id = f"{random.getrandbits(64):016x}@interop"
        self.tag = f"{random.getrandbits(32):08x}"
        self.cseq = 0

    def request(self, target, domain, user, authorization=None, timeout=2.0):
        self.cseq += 1
        host, port = self.local[0], self.local[1]
        host_text = f"[{host}]" if ":" in host else host
        branch = f"z9hG4bK{random.getrandbits(64):016x}"
        lines = [
            f"REGISTER sip:{domain} SIP/2.0",
            f"Via: SIP/2.0/UDP {host_text}:{port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{domain}>;tag={self.tag}",
            f"To: <sip:{user}@{domain}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{user}@{host_text}:{port}>;expires=60",
            "Expires: 60",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        lines += ["Content-Length: 0", "", ""]
        self.sock.sendto("\r\n".join(lines).encode(), target)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            text = data.decode(errors="replace")
            if branch not in text:
                continue  # a late answer to an earlier attempt
            status = int(text.split(" ", 2)[1])
            if status >= 200:
                return text


def flow(args):
    """One REGISTER -> 401 -> REGISTER+Authorization; returns (final status, reason, challenge)."""
    challenge_target = address(args.challenge_from or args.to)
    answer_target = address(args.to)
    client = Client(answer_target[0])
    first = client.request(challenge_target, args.domain, args.user, timeout=args.timeout)
    if first is None:
        return 0, "no answer to the first REGISTER", None
    status_line = first.split("\r\n", 1)[0]
    status = int(status_line.split(" ", 2)[1])
    if status != 401:
        return status, status_line, None
    chosen = None
    for value in header_values(first, "WWW-Authenticate"):
        scheme, params = parse_challenge(value)
        if scheme.lower() == "digest" and params.get("algorithm", "MD5").upper() == "MD5":
            chosen = params
            break
    if chosen is None:
        return 401, "no MD5 challenge offered", None
    realm, nonce = chosen["realm"], chosen["nonce"]
    uri = f"sip:{args.domain}"
    ha1 = md5(f"{args.user}:{realm}:{args.password}")
    ha2 = md5(f"REGISTER:{uri}")
    fields = [f'username="{args.user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"', "algorithm=MD5"]
    if "auth" in [q.strip() for q in chosen.get("qop", "").split(",")]:
        cnonce, nc = f"{random.getrandbits(64):016x}", "00000001"
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = md5(f"{ha1}:{nonce}:{ha2}")
    fields.append(f'response="{response}"')
    if "opaque" in chosen:
        fields.append(f'opaque="{chosen["opaque"]}"')
    final = client.request(answer_target, args.domain, args.user, "Digest " + ", ".join(fields), timeout=args.timeout)
    if final is None:
        return 0, "no answer to the authenticated REGISTER", chosen
    status_line = final.split("\r\n", 1)[0]
    return int(status_line.split(" ", 2)[1]), status_line, chosen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["register"])
    parser.add_argument("--to", required=True)
    parser.add_argument("--challenge-from")
    parser.add_argument("--domain", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--expect", type=int, default=200)
    parser.add_argument("--wait", type=float, default=0)
    parser.add_argument("--since", type=float)
    parser.add_argument("--since-file")
    parser.add_argument("--ready-file")
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()

    since = args.since if args.since is not None else time.time()
    deadline = time.monotonic() + args.wait
    attempts = 0
    last_miss = None
    while True:
        attempts += 1
        began = time.time()
        status, reason, challenge = flow(args)
        ended = time.time()
        if attempts == 1 and args.ready_file:
            open(args.ready_file, "w").close()
        if status == args.expect or time.monotonic() >= deadline:
            break
        last_miss = began
        time.sleep(args.interval)
    if args.since_file:
        for _ in range(200):
            try:
                since = float(open(args.since_file).read().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        else:
            sys.exit(f"no time in {args.since_file}")
    print(json.dumps({
        "status": status, "reason": reason, "attempts": attempts,
        "elapsed": round(ended - since, 3), "flow": round(ended - began, 3),
        "after_last_miss": round(last_miss - since, 3) if last_miss is not None else None,
        "challenge": {k: challenge[k] for k in ("realm", "nonce") if k in challenge} if challenge else None,
    }))
    sys.exit(0 if status == args.expect else 1)


if __name__ == "__main__":
    main()
