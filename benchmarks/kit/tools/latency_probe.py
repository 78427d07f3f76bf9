#!/usr/bin/env python3
"""Low-rate, microsecond-resolution latency probe for the digest-auth flows.

SIPp's response-time counters use a coarse clock (1 jiffy = 4 ms on this
kernel, CONFIG_HZ=250), so this probe runs *next to* the SIPp load at a small
fixed rate and times every round trip with perf_counter_ns().

Flows (same as the SIPp scenarios):
  register: REGISTER -> 401 -> REGISTER+Authorization       -> 200
  invite:   INVITE   -> 407 -> ACK -> INVITE+Proxy-Authorization -> final >= 400 -> ACK

BENCH KIT COPY (Trunkgate issue 8): like the kit's sipp/invite_auth.xml, the INVITE's
Request-URI (and so the digest uri) is sip:bench.local by default (--invite-ruri domain;
`user` restores sip:<callee>@bench.local), and any final response >= 400 to the
authenticated INVITE is accepted (Kamailio 486/404, Trunkgate 501).

Bounded: stops after --count flows or --duration seconds, whichever is first.
Loopback only (refuses other targets).

Usage: latency_probe.py --flow register|invite --transport udp|tcp
                        [--host 127.0.0.1] [--port 5070] [--rate 100]
                        [--count 2000] [--duration 10] [--first-user 9000] [--users 1000]
Prints one JSON line: challenge / auth / flow latency percentiles in microseconds.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import random
import re
import socket
import time

REALM_DOMAIN = "bench.local"
PASSWORD = "Secretpass123"


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def pct(vals, p):
    if not vals:
        return None
    k = max(0, min(len(vals) - 1, int(round(p / 100.0 * len(vals) + 0.5)) - 1))
    return vals[k]


def summarize(vals):
    vals = sorted(vals)
    if not vals:
        return {"n": 0}
    return {"n": len(vals), "p50": pct(vals, 50), "p90": pct(vals, 90),
            "p99": pct(vals, 99), "p999": pct(vals, 99.9), "max": vals[-1],
            "mean": round(sum(vals) / len(vals), 1)}


class Transport:
    def __init__(self, kind, host, port, local_port):
        self.kind = kind
        self.peer = (host, port)
        self.buf = b""
        if kind == "udp":
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.s.bind((host, local_port))
            except OSError:
                self.s.bind((host, 0))
        else:
            self.s = socket.create_connection(self.peer, timeout=5)
            self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.local = self.s.getsockname()

    def send(self, data: bytes):
        if self.kind == "udp":
            self.s.sendto(data, self.peer)
        else:
            self.s.sendall(data)

    def recv_msg(self, timeout):
        self.s.settimeout(timeout)
        if self.kind == "udp":
            data, _ = self.s.recvfrom(65535)
            return data.decode(errors="replace")
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[:end].decode(errors="replace")
                m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                clen = int(m.group(1)) if m else 0
                total = end + 4 + clen
                if len(self.buf) >= total:
                    msg = self.buf[:total].decode(errors="replace")
                    self.buf = self.buf[total:]
                    return msg
            chunk = self.s.recv(65535)
            if not chunk:
                raise ConnectionError("tcp closed")
            self.buf += chunk


def header(msg, name):
    m = re.search(r"(?im)^" + re.escape(name) + r"\s*:\s*(.*)$", msg)
    return m.group(1).strip() if m else ""


def wait_response(tr, call_id, cseq_num, deadline):
    """Return (status_code, message) of the final response for (call_id, cseq)."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        msg = tr.recv_msg(left)
        if not msg.startswith("SIP/2.0"):
            continue
        if header(msg, "Call-ID") != call_id:
            continue
        if header(msg, "CSeq").split()[0:1] != [str(cseq_num)]:
            continue
        code = int(msg.split()[1])
        if code < 200:
            continue
        return code, msg


def digest_header(kind, user, method, uri, challenge, cnonce):
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    realm, nonce = params["realm"], params["nonce"]
    ha1 = md5(f"{user}:{realm}:{PASSWORD}")
    ha2 = md5(f"{method}:{uri}")
    qop = params.get("qop", "")
    if "auth" in qop.split(","):
        nc = "00000001"
        resp = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        resp = md5(f"{ha1}:{nonce}:{ha2}")
        extra = ""
    opaque = f', opaque="{params["opaque"]}"' if "opaque" in params else ""
    return (f'{kind}: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
            f'uri="{uri}", response="{resp}", algorithm=MD5{extra}{opaque}')


def build(method, ruri, tr, user, to_user, call_id, cseq, branch, contact_port,
          extra_hdr="", to_tag="", body=""):
    proto = tr.kind.upper()
    lip, lport = tr.local[0], tr.local[1]
    to = f"<sip:{to_user}@{REALM_DOMAIN}>" + (f";tag={to_tag}" if to_tag else "")
    lines = [
        f"{method} {ruri} SIP/2.0",
        f"Via: SIP/2.0/{proto} {lip}:{lport};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{REALM_DOMAIN}>;tag=p{call_id[-12:]}",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:{user}@{lip}:{contact_port};transport={tr.kind}>",
    ]
    if method == "REGISTER":
        lines.append("Expires: 3600")
    if extra_hdr:
        lines.append(extra_hdr)
    lines.append("User-Agent: latency-probe")
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def one_flow(tr, flow, user, callee, i, contact_port, timeout, invite_ruri="domain"):
    call_id = f"probe-{os.getpid()}-{i}-{random.getrandbits(32):08x}"
    cnonce = f"{random.getrandbits(32):08x}"
    if flow == "register":
        ruri, method, to_user, body = f"sip:{REALM_DOMAIN}", "REGISTER", user, ""
        want_chal, want_final, ahdr, chal_hdr = 401, 200, "Authorization", "WWW-Authenticate"
    else:
        ruri = f"sip:{REALM_DOMAIN}" if invite_ruri == "domain" else f"sip:{callee}@{REALM_DOMAIN}"
        method, to_user, body = "INVITE", callee, SDP
        want_chal, want_final, ahdr, chal_hdr = 407, None, "Proxy-Authorization", "Proxy-Authenticate"
    br1 = f"z9hG4bK-pr{i}-1-{random.getrandbits(24):x}"
    t0 = time.perf_counter_ns()
    tr.send(build(method, ruri, tr, user, to_user, call_id, 1, br1, contact_port, body=body))
    code, msg = wait_response(tr, call_id, 1, time.monotonic() + timeout)
    t1 = time.perf_counter_ns()
    if code != want_chal:
        raise ValueError(f"challenge leg got {code}")
    if method == "INVITE":
        totag = re.search(r";tag=([^;>\s]+)", header(msg, "To"))
        tr.send(build("ACK", ruri, tr, user, to_user, call_id, 1, br1, contact_port,
                      to_tag=totag.group(1) if totag else ""))
    auth = digest_header(ahdr, user, method, ruri, header(msg, chal_hdr), cnonce)
    br2 = f"z9hG4bK-pr{i}-2-{random.getrandbits(24):x}"
    t2 = time.perf_counter_ns()
    tr.send(build(method, ruri, tr, user, to_user, call_id, 2, br2, contact_port, extra_hdr=auth, body=body))
    code, msg = wait_response(tr, call_id, 2, time.monotonic() + timeout)
    t3 = time.perf_counter_ns()
    if (code != want_final) if want_final is not None else (code < 400):
        raise ValueError(f"auth leg got {code}")
    if method == "INVITE":
        totag = re.search(r";tag=([^;>\s]+)", header(msg, "To"))
        tr.send(build("ACK", ruri, tr, user, to_user, call_id, 2, br2, contact_port,
                      to_tag=totag.group(1) if totag else ""))
    return (t1 - t0) / 1000.0, (t3 - t2) / 1000.0, (t3 - t0) / 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flow", choices=["register", "invite"], default="register")
    ap.add_argument("--transport", choices=["udp", "tcp"], default="udp")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5070)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--first-user", type=int, default=9000)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--total-users", type=int, default=10000)
    ap.add_argument("--contact-port", type=int, default=5081)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--invite-ruri", choices=["domain", "user"], default="domain")
    a = ap.parse_args()
    if not ipaddress.ip_address(a.host).is_loopback:
        raise SystemExit("refusing non-loopback target")
    a.count = max(0, min(a.count, 100000))
    a.duration = max(0.0, min(a.duration, 600.0))

    tr = Transport(a.transport, a.host, a.port, a.contact_port)
    chal, authl, flow, errors = [], [], [], {}
    start = time.monotonic()
    deadline = start + a.duration
    for i in range(a.count):
        due = start + i / a.rate
        now = time.monotonic()
        if due > deadline or now > deadline:
            break
        if due > now:
            time.sleep(due - now)
        u = a.first_user + (i % a.users)
        user = f"user{u:04d}"
        callee = f"user{(u + 1) % a.total_users:04d}"
        try:
            c, au, f = one_flow(tr, a.flow, user, callee, i, a.contact_port, a.timeout, a.invite_ruri)
            chal.append(c); authl.append(au); flow.append(f)
        except (TimeoutError, socket.timeout):
            errors["timeout"] = errors.get("timeout", 0) + 1
        except (ValueError, KeyError, ConnectionError, OSError) as e:
            k = str(e)[:40]
            errors[k] = errors.get(k, 0) + 1
            if isinstance(e, (ConnectionError, OSError)) and a.transport == "tcp":
                break
    print(json.dumps({"flow": a.flow, "transport": a.transport, "rate": a.rate,
                      "ok": len(flow), "errors": errors,
                      "challenge_us": summarize(chal), "auth_us": summarize(authl),
                      "flow_us": summarize(flow)}, sort_keys=True))


if __name__ == "__main__":
    main()
