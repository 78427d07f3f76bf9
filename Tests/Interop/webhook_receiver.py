#!/usr/bin/env python3
"""A webhook receiver for t_webhooks: verifies every delivery's X-Trunkgate-Signature with
Python's own hmac (an implementation independent of the edge's), answers 503 to the first
FAIL_FIRST deliveries (to exercise the edge's retries) and 200 afterwards, and appends one JSON
line per request to the log: headers of interest, whether the signature verified, the body."""
import hashlib, hmac, json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, secret_file, log_path, fail_first = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
count = 0

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        secret = open(secret_file).read().strip().encode()
        ts = self.headers.get("X-Trunkgate-Timestamp", "")
        expected = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        given = self.headers.get("X-Trunkgate-Signature", "")
        verified = hmac.compare_digest(expected, given) and ts.isdigit() and abs(time.time() - int(ts)) <= 300
        count += 1
        status = 503 if count <= fail_first else 200
        entry = {"n": count, "status": status, "verified": verified, "path": self.path,
                 "event": self.headers.get("X-Trunkgate-Event"), "delivery": self.headers.get("X-Trunkgate-Delivery"),
                 "attempt": self.headers.get("X-Trunkgate-Attempt"), "content_type": self.headers.get("Content-Type"),
                 "body": body.decode("utf-8", "replace")}
        with open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
