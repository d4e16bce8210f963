#!/usr/bin/env python3
"""The front of the spec-conformance test (tests/conformance/test_spec.sh); standard library only.

  spec_proxy.py serve --prism URL --direct URL --port-file F --log F
      vrcfs's api_url points here. Every request goes on to the Prism validating proxy (which
      forwards it to the emulator), except the data downloads `GET /file/{id}/{N}/{type}`: the
      spec does not list them, they answer with a 302 to the blob host, and Prism would follow
      that redirect itself (with the auth cookie). Those go straight to the emulator (--direct),
      as presigned PUTs go straight to the blob host anyway. One JSON line per request goes to
      the log: method, path, where it went, status, and the violations Prism found (its
      `sl-violations` header, which is taken off the answer).

  spec_proxy.py check LOG [--require "METHOD REGEX"]...
      Fails on any request-side Error, and on any response-side Error that is not one of the
      departures of the real API from the spec (ALLOWED below, each with its reason). Each
      --require must match at least one request that went through Prism.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import sys
import threading
import urllib.parse

DIRECT = re.compile(r"^/file/[^/]+/[^/]+/(file|signature|delta)$")
HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
       "content-length", "host"}

# Response-side Errors that the real VRChat API gives too (docs/EMULATOR.md, "Where the real API
# departs from the spec"): METHOD, path regex, violation message regex, reason.
ALLOWED = [
    ("POST", r"^/invite/myself/to/", r"^Response body property details must match exactly one schema in oneOf$",
     "the spec's SentNotification.details is a oneOf whose NotificationDetailEmpty (any object), "
     "NotificationDetailBoop and NotificationDetailRequestInvite (no required properties) all match "
     "every object: no value can pass it, the live {worldId, worldName} included"),
]


def pick_upstream(method, path, prism, direct):
    if method in ("GET", "HEAD") and DIRECT.match(urllib.parse.urlsplit(path).path):
        return "direct", direct
    return "prism", prism


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def forward(self):
        cfg = self.server.cfg
        body = self.read_body()
        where, base = pick_upstream(self.command, self.path, cfg["prism"], cfg["direct"])
        u = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        entry = {"method": self.command, "path": self.path.split("?")[0], "via": where}
        try:
            conn.request(self.command, u.path.rstrip("/") + self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            entry.update(status=None, error=str(e))
            self.server.log(entry)
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        finally:
            conn.close()
        violations = []
        out = []
        for k, v in r.getheaders():
            if k.lower() == "sl-violations":
                violations += json.loads(v)
            elif k.lower() not in HOP:
                out.append((k, v))
        entry.update(status=r.status, violations=violations)
        self.server.log(entry)
        self.send_response_only(r.status, r.reason)
        for k, v in out:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cfg):
        self.cfg = cfg
        self.log_lock = threading.Lock()
        self.log_fp = open(cfg["log"], "a", encoding="utf-8")
        super().__init__(("127.0.0.1", 0), Handler)

    def log(self, entry):
        with self.log_lock:
            self.log_fp.write(json.dumps(entry) + "\n")
            self.log_fp.flush()


def serve(a):
    srv = Server({"prism": a.prism, "direct": a.direct, "log": a.log})
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("%d\n" % srv.server_address[1])
    os.replace(tmp, a.port_file)
    srv.serve_forever()


def allowed(entry, v):
    for method, path, message, _ in ALLOWED:
        if re.fullmatch(method, entry["method"]) and re.search(path, entry["path"]) and \
                re.search(message, v.get("message", "")):
            return True
    return False


def check(a):
    with open(a.log) as fh:
        entries = [json.loads(line) for line in fh if line.strip()]
    prism = [e for e in entries if e["via"] == "prism"]
    bad, departures, warnings = [], {}, {}
    for e in entries:
        if e.get("status") is None:
            bad.append("%s %s: no answer through the proxy (%s)" % (e["method"], e["path"], e.get("error")))
        for v in e.get("violations", []):
            where = ".".join(v.get("location", []))
            text = "%s %s: %s %s: %s" % (e["method"], e["path"], v.get("severity"), where, v.get("message"))
            if v.get("severity") != "Error":
                warnings[(e["method"], v.get("message"))] = warnings.get((e["method"], v.get("message")), 0) + 1
            elif v.get("location", [""])[0] == "request":
                bad.append("request-side " + text)
            elif allowed(e, v):
                departures[v.get("message")] = departures.get(v.get("message"), 0) + 1
            else:
                bad.append("response-side " + text)
    for req in a.require:
        method, _, rx = req.partition(" ")
        if not any(e["method"] == method and re.search(rx, e["path"]) for e in prism):
            bad.append("the workload never sent %s %s through Prism" % (method, rx))
    print("spec_proxy: %d requests, %d through Prism, %d straight to the emulator"
          % (len(entries), len(prism), len(entries) - len(prism)))
    for msg, n in sorted(departures.items()):
        print("spec_proxy: allowed (a departure of the real API): %dx %s" % (n, msg))
    for (method, msg), n in sorted(warnings.items()):
        print("spec_proxy: warning: %dx %s %s" % (n, method, msg))
    for b in bad:
        print("spec_proxy: ERROR: " + b)
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--prism", required=True)
    s.add_argument("--direct", required=True)
    s.add_argument("--port-file", required=True)
    s.add_argument("--log", required=True)
    c = sub.add_parser("check")
    c.add_argument("log")
    c.add_argument("--require", action="append", default=[])
    a = p.parse_args()
    if a.cmd == "serve":
        serve(a)
        return 0
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
