#!/usr/bin/env python3
"""Writes in flight, kill -9, and what was acknowledged (t_crash_kill9).

  crash_writes.py fire --api http://127.0.0.1:PORT --account AC --key SK --token T --trunk TK
        --pid PID --out acked.json [--trunks 150] [--credentials 150] [--threads 16] [--kill-after 120]
      Sends --trunks trunk creations and --credentials credential creations (on --trunk),
      interleaved, from --threads threads (one keep-alive connection each). Once --kill-after
      of them have been answered 2xx, sends SIGKILL to --pid; the others fail. Writes every
      request's outcome to --out: {"acked": [{"kind", "sid", "body"}], "sent", "failed", ...}.

  crash_writes.py verify --api … --account … --key … --token … --trunk TK --acked acked.json
        --openapi openapi.json [--password P] [--sip HOST:PORT] [--sample 20]
      After the restart: every acknowledged object is fetched by sid (200, the very body that
      was acknowledged); every trunk and credential listed (all pages) is whole (valid against
      the OpenAPI document's schema). With --sip, --sample of the acknowledged credentials
      register with digest (their HA1s survived whole). Prints counts as JSON; exit 1 on any
      breach.
"""
import argparse
import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

PASSWORD = "Interop-Secret-2024"


class API:
    def __init__(self, base, account, key, token):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.prefix = f"/v1/accounts/{account}"
        self.auth = "Basic " + base64.b64encode(f"{key}:{token}".encode()).decode()
        self.conn = None

    def call(self, method, path, body=None, timeout=10):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        headers = {"Authorization": self.auth}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, self.prefix + path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        return response.status, (json.loads(raw) if raw else None)


def fire(args):
    jobs = []
    for i in range(max(args.trunks, args.credentials)):
        if i < args.trunks:
            jobs.append(("trunk", "/trunks", {"trunk_name": f"crash{i}", "domain_name": f"crash{i}.kill9.interop.test"}))
        if i < args.credentials:
            jobs.append(("credential", f"/trunks/{args.trunk}/credentials",
                         {"user_name": f"crash{i}", "password": PASSWORD, "friendly_name": f"crash test {i}"}))
    lock = threading.Lock()
    state = {"next": 0, "acked": [], "failed": 0, "refused": [], "killed_at": None, "in_flight_at_kill": 0, "in_flight": 0}

    def worker():
        api = API(args.api, args.account, args.key, args.token)
        while True:
            with lock:
                if state["next"] >= len(jobs):
                    return
                kind, path, body = jobs[state["next"]]
                state["next"] += 1
                state["in_flight"] += 1
            try:
                status, answer = api.call("POST", path, body)
            except Exception:
                status, answer = None, None
            with lock:
                state["in_flight"] -= 1
                if status is not None and 200 <= status < 300:
                    state["acked"].append({"kind": kind, "sid": answer["sid"], "body": answer})
                    if state["killed_at"] is None and len(state["acked"]) >= args.kill_after:
                        os.kill(args.pid, signal.SIGKILL)
                        state["killed_at"] = time.time()
                        state["in_flight_at_kill"] = state["in_flight"]
                elif status is not None:
                    state["refused"].append({"kind": kind, "status": status, "body": answer})
                else:
                    state["failed"] += 1

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = {
        "sent": state["next"], "acked": state["acked"], "failed": state["failed"], "refused": state["refused"],
        "killed": state["killed_at"] is not None, "in_flight_at_kill": state["in_flight_at_kill"],
        "seconds_to_kill": round((state["killed_at"] or time.time()) - started, 3),
    }
    json.dump(result, open(args.out, "w"))
    print(json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in result.items()}))
    if state["refused"]:
        print("refused (non-2xx answers):", json.dumps(state["refused"][:5]), file=sys.stderr)
        sys.exit(1)


def check_schema(value, schema, document, where):
    """A small JSON Schema check (the subset the OpenAPI document uses); returns a list of problems."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return check_schema(value, document["components"]["schemas"][name], document, where)
    problems = []
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        actual = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string",
                  list: "array", dict: "object"}[type(value)]
        if actual not in types and not (actual == "integer" and "number" in types):
            return [f"{where}: {actual}, want {types}"]
    if value is None:
        return problems
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if schema.get("format") == "date-time" and not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", value):
            problems.append(f"{where}: {value!r} is not an RFC 3339 time")
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(f"{where}: shorter than {schema['minLength']}")
    if isinstance(value, dict):
        for field in schema.get("required", []):
            if field not in value:
                problems.append(f"{where}: missing {field}")
        for field, sub in schema.get("properties", {}).items():
            if field in value:
                problems += check_schema(value[field], sub, document, f"{where}.{field}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += check_schema(item, schema["items"], document, f"{where}[{i}]")
    return problems


def list_all(api, path, key):
    items, token = [], None
    while True:
        query = "?page_size=100" + (f"&page_token={urllib.parse.quote(token)}" if token else "")
        status, page = api.call("GET", path + query)
        if status != 200:
            raise SystemExit(f"GET {path}: HTTP {status} {page}")
        items += page[key]
        token = page["meta"]["next_page_token"]
        if not token:
            return items


def verify(args):
    document = json.load(open(args.openapi))
    fired = json.load(open(args.acked))
    api = API(args.api, args.account, args.key, args.token)
    problems = []
    found = 0
    for item in fired["acked"]:
        path = f"/trunks/{item['sid']}" if item["kind"] == "trunk" else f"/trunks/{args.trunk}/credentials/{item['sid']}"
        status, body = api.call("GET", path)
        if status == 200:
            found += 1
        if status != 200:
            problems.append(f"acknowledged {item['kind']} {item['sid']}: GET answered {status} {body}")
        elif body != item["body"]:
            problems.append(f"acknowledged {item['kind']} {item['sid']} changed: was {item['body']}, now {body}")
    trunks = list_all(api, "/trunks", "trunks")
    credentials = list_all(api, f"/trunks/{args.trunk}/credentials", "credentials")
    for trunk in trunks:
        problems += check_schema(trunk, {"$ref": "#/components/schemas/Trunk"}, document, f"trunk {trunk.get('sid')}")
    for credential in credentials:
        problems += check_schema(credential, {"$ref": "#/components/schemas/Credential"}, document, f"credential {credential.get('sid')}")
        if credential.get("realm") != args.realm:
            problems.append(f"credential {credential.get('sid')}: realm {credential.get('realm')!r}, want {args.realm!r}")
    acked = {item["sid"] for item in fired["acked"]}
    listed = {t["sid"] for t in trunks} | {c["sid"] for c in credentials}
    missing = acked - listed
    if missing:
        problems.append(f"acknowledged but not listed: {sorted(missing)[:10]}")
    # Crash objects listed but never acknowledged: committed, but the answer was lost in the kill.
    crash_listed = [t for t in trunks if t["trunk_name"].startswith("crash")] + \
                   [c for c in credentials if c["user_name"].startswith("crash")]
    unacked = [o["sid"] for o in crash_listed if o["sid"] not in acked]

    registered = 0
    if args.sip:
        sample = [item["body"] for item in fired["acked"] if item["kind"] == "credential"][: args.sample]
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipdigest.py")
        for credential in sample:
            run = subprocess.run([sys.executable, script, "register", "--to", args.sip, "--domain", args.realm,
                                  "--user", credential["user_name"], "--password", PASSWORD, "--wait", "3"],
                                 capture_output=True, text=True)
            if run.returncode == 0:
                registered += 1
            else:
                problems.append(f"acknowledged credential {credential['user_name']} does not register: {run.stdout.strip()}")
    print(json.dumps({
        "acknowledged": len(acked), "found_by_sid": found,
        "trunks_listed": len(trunks), "credentials_listed": len(credentials),
        "committed_but_unacknowledged": len(unacked), "registered_sample": registered, "problems": len(problems),
    }))
    for p in problems[:20]:
        print("PROBLEM:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["fire", "verify"])
    for name in ("--api", "--account", "--key", "--token", "--trunk"):
        parser.add_argument(name, required=True)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--out")
    parser.add_argument("--trunks", type=int, default=150)
    parser.add_argument("--credentials", type=int, default=150)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--kill-after", type=int, default=120)
    parser.add_argument("--acked")
    parser.add_argument("--openapi")
    parser.add_argument("--realm")
    parser.add_argument("--sip")
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args()
    fire(args) if args.command == "fire" else verify(args)


if __name__ == "__main__":
    main()
