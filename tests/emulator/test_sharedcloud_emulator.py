#!/usr/bin/env python3
"""Tests for scripts/sharedcloud-emulator (standard library unittest).

Run: python3 tests/emulator/test_sharedcloud_emulator.py [-v]
Each test class starts its own emulator as a subprocess (--port 0 --port-file).
"""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import unittest

from emulator_harness import EmulatorProcess, EmulatorTestCase, Response

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "..", "..", "scripts", "sharedcloud-emulator")
BASE = "/api/v1/instances/"
TOKEN = "demo-token"
DATE_RE = re.compile(r"^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FIELDS = {"uuid", "type", "gpu", "gpu_name", "num_running_jobs", "updated_at", "created_at",
          "num_assigned_jobs", "current_server_time", "last_connection", "name", "status",
          "ask_price", "downloaded_images", "max_num_parallel_jobs"}


class Emulator(EmulatorProcess):
    """scripts/sharedcloud-emulator plus its API's calls."""

    script = "sharedcloud-emulator"

    def __init__(self, *args):
        super().__init__(*args)
        self.banner = self.proc.stdout.readline().rstrip("\n")

    def raw(self, method, path, body=None, headers=None):
        """As EmulatorProcess.raw, but a dropped connection is an answer with status None."""
        try:
            return super().raw(method, path, body, headers)
        except (ConnectionError, http.client.RemoteDisconnected) as e:
            return Response(None, [], str(e).encode())

    def api(self, method, path="", body=None, token=TOKEN, headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Token " + token
        return self.raw(method, BASE + path, body, h)


class EmuTest(EmulatorTestCase):
    emulator_class = Emulator

    def detail(self, r, status, text):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json(), {"detail": text})

    def create(self, **fields):
        body = {"name": "t-%f" % time.time(), "ask_price": 0.1}
        body.update(fields)
        r = self.emu.api("POST", body=body)
        self.assertEqual(r.status, 200, r)
        return r.json()


class TestStartAndAuth(EmuTest):
    def test_banner_and_port_file(self):
        self.assertEqual(self.emu.banner, "sharedcloud-emulator: api http://127.0.0.1:%d%s token demo-token"
                         % (self.emu.port, BASE))

    def test_token_rules(self):
        self.detail(self.emu.api("GET", token=None), 401, "Authentication credentials were not provided.")
        r = self.emu.api("GET", token="wrong")
        self.detail(r, 401, "Invalid token.")
        self.assertEqual(r.header("WWW-Authenticate"), "Token")
        self.detail(self.emu.raw("GET", BASE, headers={"Authorization": "Bearer demo-token"}), 401,
                    "Authentication credentials were not provided.")
        self.detail(self.emu.raw("GET", BASE, headers={"Authorization": "Token"}), 401,
                    "Invalid token header. No credentials provided.")
        self.detail(self.emu.raw("GET", BASE, headers={"Authorization": "Token a b"}), 401,
                    "Invalid token header. Token string should not contain spaces.")
        self.assertEqual(self.emu.raw("GET", BASE, headers={"Authorization": "token demo-token"}).status, 200)

    def test_auth_comes_before_the_method_check(self):
        self.detail(self.emu.api("PUT", token="wrong"), 401, "Invalid token.")
        r = self.emu.api("PUT")
        self.detail(r, 405, 'Method "PUT" not allowed.')
        self.assertEqual(r.header("Allow"), "GET, POST, HEAD")

    def test_unknown_routes_and_slash(self):
        r = self.emu.api("GET", "no/such/thing/")
        self.assertEqual(r.status, 404)
        self.assertIn(b"<h1>Not Found</h1>", r.body)
        r = self.emu.raw("GET", "/api/v1/instances")
        self.assertEqual((r.status, r.header("Location")), (301, "/api/v1/instances/"))
        r = self.emu.api("GET", "abc")
        self.assertEqual((r.status, r.header("Location")), (301, BASE + "abc/"))

    def test_log_lines_never_hold_the_token(self):
        self.emu.api("GET")
        with open(self.emu.log_path) as fh:
            text = fh.read()
        self.assertNotIn("demo-token", text)
        last = self.emu.log()[-1]
        for k in ("method", "path", "status", "host", "authorization"):
            self.assertIn(k, last)
        self.assertEqual((last["method"], last["path"], last["status"], last["host"], last["authorization"]),
                         ("GET", BASE, 200, "api", True))
        self.emu.state()
        self.assertEqual(self.emu.log()[-1]["host"], "control")

    def test_revoke(self):
        emu = Emulator()
        try:
            self.assertEqual(emu.control("POST", "revoke", {"token": TOKEN}).status, 200)
            self.detail(emu.api("GET"), 401, "Invalid token.")
            self.assertEqual(emu.control("POST", "revoke", {"token": TOKEN}).status, 404)
        finally:
            emu.stop()


class TestShapes(EmuTest):
    args = ("--instances", "4")

    def test_list_shapes(self):
        r = self.emu.api("GET")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        items = r.json()
        self.assertIsInstance(items, list)
        self.assertEqual(len(items), 3 + 4)
        for i in items:
            self.assertEqual(set(i), FIELDS)
            self.assertRegex(i["uuid"], UUID_RE)
            self.assertIn(i["type"], (1, 2))
            for k in ("created_at", "updated_at", "current_server_time"):
                self.assertRegex(i[k], DATE_RE)
            self.assertTrue(i["last_connection"] is None or DATE_RE.match(i["last_connection"]))
            self.assertIsInstance(i["max_num_parallel_jobs"], int)
            self.assertIsInstance(i["ask_price"], float)
            self.assertEqual(i["gpu"] == "n/a", i["type"] == 1)
        first = items[0]
        self.assertEqual((first["name"], first["created_at"], first["ask_price"], first["max_num_parallel_jobs"]),
                         ("instance1", "05-10-2018 16:02:04", 0.02, 2))
        gpu = [i for i in items if i["name"] == "gpu-box"][0]
        self.assertEqual(gpu["type"], 2)
        self.assertRegex(gpu["gpu"], UUID_RE)
        self.assertEqual(gpu["gpu_name"], "GeForce GTX 1080 Ti")

    def test_other_users_instances_are_hidden(self):
        mine = {i["uuid"] for i in self.emu.api("GET").json()}
        theirs = self.emu.api("GET", token="other-token").json()
        self.assertEqual(len(theirs), 1)
        self.assertNotIn(theirs[0]["uuid"], mine)
        self.detail(self.emu.api("GET", theirs[0]["uuid"] + "/"), 404, "Not found.")

    def test_get_and_404(self):
        first = self.emu.api("GET").json()[0]
        r = self.emu.api("GET", first["uuid"] + "/")
        self.assertEqual(r.status, 200)
        got = r.json()
        got.pop("current_server_time")
        first.pop("current_server_time")
        self.assertEqual(got, first)
        self.detail(self.emu.api("GET", "6baf15c3-5fb1-4312-b793-fc7d19629a7f/"), 404, "Not found.")
        self.detail(self.emu.api("GET", "not-a-uuid/"), 404, "Not found.")
        self.assertEqual(self.emu.api("HEAD", first["uuid"] + "/").body, b"")

    def test_deterministic_seed(self):
        other = Emulator("--instances", "4")
        try:
            self.assertEqual([i["uuid"] for i in other.api("GET").json()],
                             [i["uuid"] for i in self.emu.api("GET").json()[:7]])
        finally:
            other.stop()


class TestWrites(EmuTest):
    def test_create_defaults_and_quirks(self):
        r = self.emu.api("POST", body={"name": "fresh", "ask_price": 0.01})
        self.assertEqual(r.status, 200, r)
        inst = r.json()
        self.assertEqual(set(inst), FIELDS)
        self.assertEqual((inst["type"], inst["gpu"], inst["max_num_parallel_jobs"], inst["last_connection"]),
                         (1, None, 1, None))
        self.assertRegex(inst["created_at"], DATE_RE)
        # max_num_parallel_jobs goes in as a string and comes back a number; type in as a word.
        gpu = next(iter(self.emu.state()["gpus"]))
        inst = self.create(type="gpu", gpu=gpu, max_num_parallel_jobs="3", ask_price="0.25")
        self.assertEqual((inst["type"], inst["gpu"], inst["max_num_parallel_jobs"], inst["ask_price"]),
                         (2, gpu, 3, 0.25))
        self.assertIn(inst["uuid"], [i["uuid"] for i in self.emu.api("GET").json()])

    def test_validation_errors(self):
        r = self.emu.api("POST", body={})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"name": ["This field is required."],
                                    "ask_price": ["This field is required."]})
        r = self.emu.api("POST", body={"name": " ", "ask_price": "cheap", "type": "tpu",
                                       "max_num_parallel_jobs": "2.5", "gpu": "nope"})
        self.assertEqual(r.json(), {"name": ["This field may not be blank."],
                                    "type": ['"tpu" is not a valid choice.'],
                                    "gpu": ['Invalid pk "nope" - object does not exist.'],
                                    "ask_price": ["A valid number is required."],
                                    "max_num_parallel_jobs": ["A valid integer is required."]})
        r = self.emu.api("POST", body={"name": "x", "ask_price": -1, "max_num_parallel_jobs": 0,
                                       "type": 1})
        self.assertEqual(r.json(), {"type": ['"1" is not a valid choice.'],
                                    "ask_price": ["Ensure this value is greater than or equal to 0."],
                                    "max_num_parallel_jobs": ["Ensure this value is greater than or equal to 1."]})
        r = self.emu.api("POST", body={"name": None, "ask_price": True})
        self.assertEqual(r.json(), {"name": ["This field may not be null."],
                                    "ask_price": ["A valid number is required."]})
        r = self.emu.api("POST", body={"name": "g", "ask_price": 1, "type": "gpu"})
        self.assertEqual(r.json(), {"gpu": ["This field is required for a gpu instance."]})
        r = self.emu.api("POST", body=[1, 2])
        self.assertEqual(r.json(), {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        r = self.emu.api("POST", body=b"{nope", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertTrue(r.json()["detail"].startswith("JSON parse error - "))
        self.detail(self.emu.api("POST", body=b"x", headers={"Content-Type": "text/plain"}), 415,
                    'Unsupported media type "text/plain" in request.')
        r = self.emu.api("POST", body=b"name=form&ask_price=0.5",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.json()["name"]), (200, "form"))

    def test_patch_changes_only_what_is_sent(self):
        inst = self.create(name="patch-me", ask_price=0.5, max_num_parallel_jobs="2")
        r = self.emu.api("PATCH", inst["uuid"] + "/", {"max_num_parallel_jobs": "5", "uuid": "ignored"})
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertEqual((got["uuid"], got["name"], got["ask_price"], got["max_num_parallel_jobs"]),
                         (inst["uuid"], "patch-me", 0.5, 5))
        write = self.emu.state()["writes"][-1]
        self.assertEqual((write["method"], json.loads(write["body"])),
                         ("PATCH", {"max_num_parallel_jobs": "5", "uuid": "ignored"}))
        r = self.emu.api("PATCH", inst["uuid"] + "/", {"ask_price": "x"})
        self.assertEqual((r.status, r.json()), (400, {"ask_price": ["A valid number is required."]}))
        self.assertEqual(self.emu.api("GET", inst["uuid"] + "/").json()["ask_price"], 0.5)

    def test_put_needs_name_and_price(self):
        inst = self.create(name="put-me", max_num_parallel_jobs="3")
        r = self.emu.api("PUT", inst["uuid"] + "/", {"ask_price": 0.7})
        self.assertEqual((r.status, r.json()), (400, {"name": ["This field is required."]}))
        r = self.emu.api("PUT", inst["uuid"] + "/", {"name": "put-done", "ask_price": 0.7})
        self.assertEqual(r.status, 200)
        self.assertEqual((r.json()["name"], r.json()["max_num_parallel_jobs"]), ("put-done", 3))

    def test_delete(self):
        inst = self.create()
        r = self.emu.api("DELETE", inst["uuid"] + "/")
        self.assertEqual((r.status, r.json()), (200, {}))
        self.detail(self.emu.api("DELETE", inst["uuid"] + "/"), 404, "Not found.")
        self.detail(self.emu.api("GET", inst["uuid"] + "/"), 404, "Not found.")

    def test_mangle(self):
        inst = self.create()
        r = self.emu.control("POST", "mangle", {"uuid": inst["uuid"], "set": {"type": "weird", "updated_at": None},
                                                "drop": ["name"]})
        self.assertEqual(r.status, 200)
        got = self.emu.api("GET", inst["uuid"] + "/").json()
        self.assertEqual((got["type"], got["updated_at"], "name" in got), ("weird", None, False))
        self.emu.control("POST", "mangle", {"uuid": inst["uuid"], "clear": True})
        self.assertEqual(self.emu.api("GET", inst["uuid"] + "/").json()["type"], 1)


class TestCommandLineFault(EmuTest):
    args = ("--fault", "api:503:count=1,method=GET")

    def setUp(self):
        pass  # the rule under test comes from the command line

    def test_command_line_fault_then_gone(self):
        r = self.emu.api("GET")
        self.assertEqual(r.status, 503)
        self.assertIn(b"nginx", r.body)
        self.assertEqual(self.emu.api("GET").status, 200)
        entries = [e for e in self.emu.log() if e["host"] == "api"]
        self.assertEqual(entries[0].get("fault"), "503")


class TestFaults(EmuTest):

    def test_429_with_retry_after(self):
        self.emu.control("POST", "faults", {"spec": "api:429:count=1,retry_after=2"})
        r = self.emu.api("GET")
        self.assertEqual((r.status, r.header("Retry-After")), (429, "2"))
        self.assertEqual(r.json(), {"detail": "Request was throttled. Expected available in 2 seconds."})
        self.assertEqual(self.emu.api("GET").status, 200)

    def test_every_after_match_and_drop(self):
        self.emu.control("POST", "faults", {"spec": "api:500:every=2,after=1,match=^/api/v1/instances/$"})
        got = [self.emu.api("GET").status for _ in range(5)]
        self.assertEqual(got, [200, 200, 500, 200, 500])
        self.emu.control("DELETE", "faults")
        self.emu.control("POST", "faults", {"spec": "api:drop:count=1,method=DELETE"})
        self.assertEqual(self.emu.api("GET").status, 200)
        self.assertIsNone(self.emu.api("DELETE", "x/").status)
        self.assertIsNone(self.emu.log()[-1]["status"])
        self.assertEqual(self.emu.control("GET", "faults").json(), [])

    def test_bad_specs(self):
        for spec in ("blob:500", "api:418", "api:500:bogus=1", "api:500:count=0"):
            self.assertEqual(self.emu.control("POST", "faults", {"spec": spec}).status, 400, spec)
        p = subprocess.run([sys.executable, EMULATOR, "--fault", "api:nope"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)

    def test_latency(self):
        self.assertEqual(self.emu.control("POST", "config", {"latency_ms": 300}).status, 200)
        t0 = time.time()
        self.emu.api("GET")
        slow = time.time() - t0
        self.emu.control("POST", "config", {"latency_ms": 0})
        self.assertGreaterEqual(slow, 0.3)
        self.assertEqual(self.emu.control("POST", "config", {"nope": 1}).status, 400)


if __name__ == "__main__":
    unittest.main()
