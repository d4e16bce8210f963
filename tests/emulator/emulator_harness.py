"""The harness both emulator suites share: an emulator run as a subprocess on a free port,
plain HTTP calls to it, and a unittest base class that starts one emulator per test class.

test_emulator.py (scripts/vrchat-emulator) and test_sharedcloud_emulator.py
(scripts/sharedcloud-emulator) subclass EmulatorProcess with their API's calls.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "<%s %r>" % (self.status, self.body[:300])


class EmulatorProcess:
    """scripts/<script> --port 0 --port-file ... --log ... plus args; port is where it listens."""

    script = None  # the emulator's name in scripts/

    def __init__(self, *args):
        self.dir = tempfile.TemporaryDirectory(prefix=self.script + "-test-")
        self.port_file = os.path.join(self.dir.name, "port")
        self.log_path = os.path.join(self.dir.name, "log.jsonl")
        cmd = [sys.executable, os.path.join(SCRIPTS, self.script), "--port", "0",
               "--port-file", self.port_file, "--log", self.log_path] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("emulator did not start: %s" % self.proc.stderr.read())
            time.sleep(0.02)
        with open(self.port_file) as fh:
            text = fh.read()
        assert re.match(r"^\d+\n$", text), text
        self.port = int(text)

    def stop(self):
        """Ends the emulator with SIGTERM and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.dir.cleanup()
        return self.proc.returncode

    def raw(self, method, url_or_path, body=None, headers=None, port=None, conn=None):
        """One request with exactly these headers (no Accept-Encoding added); a body that is
        not bytes is sent as JSON. A dropped connection raises."""
        if url_or_path.startswith("http://"):
            u = urllib.parse.urlsplit(url_or_path)
            port, path = u.port, u.path + ("?" + u.query if u.query else "")
        else:
            path = url_or_path
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
            hdrs = dict(headers or {})
            if body is not None:
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                    hdrs.setdefault("Content-Type", "application/json")
                hdrs["Content-Length"] = str(len(body))
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.getheaders(), data)
        finally:
            if own:
                conn.close()

    def control(self, method, path, body=None):
        return self.raw(method, "/_emulator/" + path, body)

    def state(self):
        return self.control("GET", "state").json()

    def log(self):
        with open(self.log_path) as fh:
            return [json.loads(line) for line in fh if line.strip()]


class EmulatorTestCase(unittest.TestCase):
    """One emulator (emulator_class(*args)) per test class, with no faults at each test's start;
    it must exit 0 at the end."""

    emulator_class = None
    args = ()

    @classmethod
    def setUpClass(cls):
        cls.emu = cls.emulator_class(*cls.args)

    @classmethod
    def tearDownClass(cls):
        rc = cls.emu.stop()
        assert rc == 0, "emulator exit code %r" % rc

    def setUp(self):
        self.emu.control("DELETE", "faults")
