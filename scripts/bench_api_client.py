#!/usr/bin/env python3
"""HTTP load client for scripts/bench-api (loopback only; standard library only).

  bench_api_client.py create --api URL --accounts FILE [--threads N]
      FILE: one JSON line per account {"account_sid","key","token","trunk_sid"}. One thread per
      account (N at most), each creating credentials on its account's trunk (one keep-alive
      connection per thread) until its account's credential limit (--per-account) is reached.
  bench_api_client.py list --api URL --accounts FILE [--threads N] [--seconds S]
      GET /trunks (default page) on the first account, from N threads, for S seconds.

Prints one JSON line: requests, errors, seconds, requests_per_second, latency p50/p90/p99/max (ms).
"""
import argparse
import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


class Conn:
    def __init__(self, api, account):
        url = urllib.parse.urlsplit(api)
        if url.hostname not in ("127.0.0.1", "::1", "localhost"):
            sys.exit("loopback only")
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.prefix = f"/v1/accounts/{account['account_sid']}"
        self.auth = "Basic " + base64.b64encode(f"{account['key']}:{account['token']}".encode()).decode()

    def call(self, method, path, body=None):
        headers = {"Authorization": self.auth}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, self.prefix + path, body=data, headers=headers)
        response = self.conn.getresponse()
        response.read()
        return response.status


def run(args):
    accounts = [json.loads(line) for line in open(args.accounts) if line.strip()]
    lock = threading.Lock()
    latencies, errors, statuses = [], [0], {}
    stop_at = time.perf_counter() + args.seconds

    def record(status, seconds):
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if 200 <= status < 300:
                latencies.append(seconds)
            else:
                errors[0] += 1

    def creator(account, first, count):
        conn = Conn(args.api, account)
        for i in range(first, first + count):
            body = {"user_name": f"bench{i}", "password": "Bench-Secret-2024", "friendly_name": "bench"}
            began = time.perf_counter()
            status = conn.call("POST", f"/trunks/{account['trunk_sid']}/credentials", body)
            record(status, time.perf_counter() - began)

    def lister(account):
        conn = Conn(args.api, account)
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            status = conn.call("GET", "/trunks")
            record(status, time.perf_counter() - began)

    if args.command == "create":
        threads = [threading.Thread(target=creator, args=(a, 0, args.per_account)) for a in accounts[: args.threads]]
    else:
        threads = [threading.Thread(target=lister, args=(accounts[0],)) for _ in range(args.threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    ms = lambda v: round(v * 1000, 2) if v is not None else None
    print(json.dumps({
        "operation": args.command, "threads": len(threads), "requests": len(latencies) + errors[0],
        "errors": errors[0], "statuses": statuses, "seconds": round(elapsed, 2),
        "requests_per_second": round((len(latencies) + errors[0]) / elapsed, 1),
        "p50_ms": ms(percentile(latencies, 50)), "p90_ms": ms(percentile(latencies, 90)),
        "p99_ms": ms(percentile(latencies, 99)), "max_ms": ms(latencies[-1] if latencies else None),
    }))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["create", "list"])
    parser.add_argument("--api", required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-account", type=int, default=190)
    parser.add_argument("--seconds", type=float, default=5)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
