#!/usr/bin/env python3
"""A minimal SIP UAS over TLS for t_call_transports (Python's ssl module, independent of the
edge's TLS stack): answers INVITE with 200 + SDP, takes the ACK, answers BYE with 200. Logs
every message it receives (and failed handshakes) to LOG. Exits after LIFETIME seconds."""
import socket, ssl, sys, threading, time, uuid

port, cert, key, log_path, lifetime = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
ip = sys.argv[6] if len(sys.argv) > 6 else "127.0.0.10"
lock = threading.Lock()

def log(text):
    with lock, open(log_path, "a") as f:
        f.write(text + "\n")

def respond(conn, request, status, reason, tag, body=b""):
    head, _, _ = request.partition("\r\n\r\n")
    lines = head.split("\r\n")
    out = [f"SIP/2.0 {status} {reason}"]
    for line in lines[1:]:
        name = line.split(":", 1)[0].strip().lower()
        if name in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            out.append(line)
        elif name in ("to", "t"):
            out.append(line if ";tag=" in line else line + ";tag=" + tag)
    out.append(f"Contact: <sip:uas@{ip}:{port};transport=tls>")
    if body:
        out.append("Content-Type: application/sdp")
    out.append(f"Content-Length: {len(body)}")
    conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode() + body)

def serve(conn):
    buffer = b""
    tag = uuid.uuid4().hex[:10]
    while True:
        try:
            data = conn.recv(65536)
        except Exception:
            return
        if not data:
            return
        buffer += data
        while b"\r\n\r\n" in buffer:
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith((b"content-length:", b"l:")):
                    length = int(line.split(b":", 1)[1].strip())
            if len(rest) < length:
                break
            message = head.decode() + "\r\n\r\n" + rest[:length].decode()
            buffer = rest[length:]
            log(message.replace("\r\n", "\n") + "\n----")
            method = message.split(" ", 1)[0]
            if method == "INVITE":
                sdp = f"v=0\r\no=carrier 111 222 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n".encode()
                respond(conn, message, 200, "OK", tag, sdp)
            elif method in ("BYE", "OPTIONS"):
                respond(conn, message, 200, "OK", tag)

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((ip, port))
server.listen(16)
server.settimeout(0.5)
deadline = time.time() + lifetime
while time.time() < deadline:
    try:
        raw, peer = server.accept()
    except socket.timeout:
        continue
    try:
        raw.settimeout(lifetime)
        conn = context.wrap_socket(raw, server_side=True)
    except Exception as e:
        log(f"HANDSHAKE FAILED from {peer}: {e}\n----")
        raw.close()
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
