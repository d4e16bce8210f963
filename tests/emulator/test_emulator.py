#!/usr/bin/env python3
"""Tests for scripts/vrchat-emulator (standard library unittest).

Run: python3 tests/emulator/test_emulator.py [-v]
Each test class starts its own emulator as a subprocess (--port 0 --port-file).
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import struct
import tempfile
import threading
import time
import unittest
import urllib.parse

from emulator_harness import EmulatorProcess, EmulatorTestCase

UA = "vrcfs-tests/0.1 tests@example.org"
MIB = 1 << 20


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def totp(secret, offset=0):
    key = base64.b32decode(secret)
    h = hmac.new(key, struct.pack(">Q", int(time.time() // 30) + offset), "sha1").digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


class Emulator(EmulatorProcess):
    """scripts/vrchat-emulator plus its API's calls; the banner gives the blob port, the TOTP
    secret and the recovery codes."""

    script = "vrchat-emulator"

    def __init__(self, *args):
        super().__init__(*args)
        self.banner = [self.proc.stdout.readline().rstrip("\n") for _ in range(3)]
        m = re.match(r"^vrchat-emulator: api http://127\.0\.0\.1:(\d+)/api/1 blob http://127\.0\.0\.1:(\d+)$",
                     self.banner[0])
        assert m, self.banner
        assert int(m.group(1)) == self.port
        self.blob_port = int(m.group(2))
        self.totp_secret = self.banner[1].split()[-1]
        self.recovery = self.banner[2].split()[-1].split(",")

    def api(self, method, path, body=None, cookie=None, ua=UA, headers=None, conn=None):
        h = dict(headers or {})
        if ua is not None:
            h["User-Agent"] = ua
        if cookie:
            h["Cookie"] = cookie if "=" in cookie else "auth=" + cookie
        return self.raw(method, "/api/1" + path, body, h, conn=conn)

    def basic(self, user, password="demo-password", cookie=None):
        tok = base64.b64encode(("%s:%s" % (urllib.parse.quote(user), urllib.parse.quote(password))).encode())
        return self.api("GET", "/auth/user", headers={"Authorization": "Basic " + tok.decode()}, cookie=cookie)

    def login(self, user="demo"):
        r = self.basic(user)
        assert r.status == 200, r
        return auth_cookie(r)


def auth_cookie(r):
    for v in r.all("Set-Cookie"):
        m = re.match(r"^auth=(authcookie_[0-9a-f-]{36});", v)
        if m:
            return m.group(1)
    raise AssertionError("no auth cookie in %r" % r.headers)


def set_cookie(r, name):
    for v in r.all("Set-Cookie"):
        if v.startswith(name + "="):
            return v.split(";")[0].split("=", 1)[1]
    return None


class EmuTest(EmulatorTestCase):
    emulator_class = Emulator

    def assertError(self, r, status, message=None):
        self.assertEqual(r.status, status, r)
        body = r.json()
        self.assertEqual(body["error"]["status_code"], status)
        if message is not None:
            self.assertEqual(body["error"]["message"], message)


# ----------------------------------------------------------------------------- auth


class TestStartAndAuth(EmuTest):
    def test_banner_and_port_file(self):
        self.assertEqual(len(self.emu.totp_secret), 32)
        self.assertEqual(len(self.emu.recovery), 8)
        self.assertNotEqual(self.emu.port, self.emu.blob_port)

    def test_user_agent_rule(self):
        waf = ('{"error":{"message":"\\"please identify yourself with a properly formatted user-agent '
               'containing application name, version and contact information. thank you!\\"",'
               '"status_code":403,"waf_code":13799}}').encode()
        for ua in (None, "", "curl/8.5.0", "python-requests/2.31 x@y.z", "Python-urllib/3.11",
                   "Mozilla/5.0 (X11; Linux x86_64)", "Wget/1.21 me", "libcurl/8 me", "vrcfs",
                   "vrcfs/0.1", "TimmyFriendTracker/1.5.1 timmy@example.com"):
            r = self.emu.api("GET", "/auth/user", ua=ua)
            self.assertEqual((r.status, r.body), (403, waf), ua)
        r = self.emu.api("GET", "/auth/user", ua="vrcfs/0.1 you@example.com")
        self.assertError(r, 401, '"Missing Credentials"')

    def test_unknown_route_and_headers(self):
        r = self.emu.api("GET", "/nope/never")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"error": "The endpoint you're looking for is not implemented by our system.",
                                    "status_code": 404})
        self.assertEqual(r.header("server"), "cloudflare")
        self.assertEqual(r.header("cache-control"), "private, no-cache")
        self.assertEqual(r.header("vary"), "Authorization, Accept-Encoding")
        self.assertEqual(r.header("x-frame-options"), "deny")
        self.assertTrue(r.header("content-type").startswith("application/json"))
        self.assertEqual(r.header("pragma"), "no-cache")
        self.assertEqual(r.header("access-control-allow-credentials"), "true")
        self.assertIsNone(r.header("etag"))  # as recorded: only a GET that succeeds has one
        self.assertEqual(self.emu.raw("GET", "/other", headers={"User-Agent": UA}).status, 404)
        c = self.emu.login()
        a, b = (self.emu.api("GET", "/auth", cookie=c) for _ in range(2))
        self.assertRegex(a.header("etag"), r'^W/"[0-9a-f]+-[0-9a-f]+"$')
        self.assertEqual(a.header("etag"), b.header("etag"))
        self.assertIsNone(self.emu.api("PUT", "/logout", cookie=c).header("etag"))

    def test_login_and_current_user(self):
        r = self.emu.basic("demo")
        self.assertEqual(r.status, 200)
        cookie = auth_cookie(r)
        sc = r.all("Set-Cookie")[0]
        self.assertRegex(sc, r"^auth=authcookie_[0-9a-f-]{36}; Expires=[^;]+GMT; Path=/; HttpOnly$")
        me = r.json()
        self.assertEqual((me["username"], me["displayName"]), ("demo", "Demo"))
        self.assertTrue(me["id"].startswith("usr_"))
        for k in ("world", "instance", "instanceType", "travelingToWorld", "travelingToInstance"):
            self.assertIn(k, me["presence"])
        self.assertTrue(me["presence"]["world"].startswith("wrld_"))
        self.assertEqual(me["presence"]["currentAvatarTags"], [])  # an array, as the spec says
        for k, v in (("oculusId", ""), ("pronounsHistory", []), ("steamDetails", {}), ("unsubscribe", False)):
            self.assertEqual(me[k], v)  # fields live CurrentUsers carry and the spec requires
        r = self.emu.api("GET", "/auth/user", cookie=cookie)
        self.assertEqual(r.json()["id"], me["id"])
        r = self.emu.api("GET", "/auth", cookie=cookie)
        self.assertEqual(r.json(), {"ok": True, "token": cookie})

    def test_basic_encoding_and_errors(self):
        self.assertError(self.emu.basic("demo", "wrong"), 401, '"Invalid Username/Email or Password"')
        self.assertError(self.emu.basic("nobody"), 401, '"Invalid Username/Email or Password"')
        self.assertError(self.emu.api("GET", "/auth/user", headers={"Authorization": "Basic !!!"}), 401,
                         '"Missing Credentials"')
        self.assertError(self.emu.api("GET", "/auth/user", cookie="authcookie_nope"), 401, '"Missing Credentials"')

    def test_auth_required(self):
        for method, path in (("GET", "/auth"), ("GET", "/files"), ("GET", "/file/file_x"), ("POST", "/file"),
                             ("GET", "/instances/recent"), ("PUT", "/logout")):
            self.assertError(self.emu.api(method, path), 401, '"Missing Credentials"')

    def test_logout(self):
        c = self.emu.login()
        r = self.emu.api("PUT", "/logout", cookie=c)
        self.assertEqual(r.json(), {"success": {"message": "Ok!", "status_code": 200}})
        cleared = r.all("Set-Cookie")
        self.assertEqual([v.split("=")[0] for v in cleared], ["auth", "age", "tos"])
        self.assertError(self.emu.api("GET", "/auth", cookie=c), 401)

    def test_bad_bodies(self):
        c = self.emu.login()
        r = self.emu.api("POST", "/file", b"{not json", cookie=c)
        self.assertError(r, 400)
        r = self.emu.api("POST", "/file", b"[1,2]", cookie=c)
        self.assertError(r, 400)
        r = self.emu.api("POST", "/file", b"\xff\xfe", cookie=c)
        self.assertError(r, 400)
        r = self.emu.api("POST", "/file", b"x" * (MIB + 1), cookie=c)
        self.assertError(r, 413)
        self.assertEqual(self.emu.api("GET", "/auth", cookie=c).status, 200)

    def test_keep_alive(self):
        c = self.emu.login()
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        for _ in range(5):
            r = self.emu.api("GET", "/auth", cookie=c, conn=conn)
            self.assertEqual(r.status, 200)
        r = self.emu.api("POST", "/file", b"{bad", cookie=c, conn=conn)
        self.assertEqual(r.status, 400)
        self.assertEqual(self.emu.api("GET", "/auth", cookie=c, conn=conn).status, 200)
        conn.close()


class TestSessionLimitAndNewLocation(EmuTest):
    args = ("--session-limit", "2", "--new-location")

    def test_new_location_then_limit(self):
        r = self.emu.basic("demo")
        self.assertError(r, 401, "It looks like you're logging in from somewhere new! "
                                 "Check your email for a message from VRChat.")
        self.assertEqual(self.emu.basic("demo").status, 200)
        self.assertEqual(self.emu.basic("demo").status, 200)
        self.assertError(self.emu.basic("demo"), 429, "Created too many sessions for that user")
        self.assertEqual(self.emu.state()["sessions"]["count"], 2)


class TestTwoFactor(EmuTest):
    def login_pending(self, user):
        r = self.emu.basic(user)
        self.assertEqual(r.status, 200)
        return auth_cookie(r), r.json()

    def test_totp(self):
        c, body = self.login_pending("demo-totp")
        self.assertEqual(body, {"requiresTwoFactorAuth": ["totp", "otp"]})
        self.assertError(self.emu.api("GET", "/auth", cookie=c), 401, '"Requires Two-Factor Authentication"')
        self.assertError(self.emu.api("GET", "/files", cookie=c), 401, '"Unauthorized"')
        self.assertEqual(self.emu.api("GET", "/auth/user", cookie=c).json(), {"requiresTwoFactorAuth": ["totp", "otp"]})
        self.assertError(self.emu.api("POST", "/auth/twofactorauth/totp/verify", {"code": "000000"}), 401,
                         '"Missing Credentials"')
        code = totp(self.emu.totp_secret)
        bad = "%06d" % ((int(code) + 1) % 1000000)
        self.assertError(self.emu.api("POST", "/auth/twofactorauth/totp/verify", {"code": bad}, cookie=c), 400,
                         '"Invalid 2FA code"')
        self.assertEqual(self.emu.control("GET", "totp?user=demo-totp").json()["code"], totp(self.emu.totp_secret))
        r = self.emu.api("POST", "/auth/twofactorauth/totp/verify", {"code": totp(self.emu.totp_secret)}, cookie=c)
        self.assertEqual((r.status, r.json()), (200, {"verified": True}))
        tfa = set_cookie(r, "twoFactorAuth")
        self.assertTrue(tfa and len(tfa) > 40)
        self.assertIn("HttpOnly", r.header("Set-Cookie"))
        self.assertEqual(self.emu.api("GET", "/auth", cookie=c).status, 200)
        self.assertEqual(self.emu.api("GET", "/auth/user", cookie=c).json()["username"], "demo-totp")
        # a remembered twoFactorAuth skips 2FA, and the answer carries two Set-Cookie headers
        r = self.emu.basic("demo-totp", cookie="twoFactorAuth=" + tfa)
        self.assertEqual(r.json()["username"], "demo-totp")
        self.assertEqual(len(r.all("Set-Cookie")), 2)
        c2 = auth_cookie(r)
        self.assertEqual(self.emu.api("GET", "/auth", cookie=c2).status, 200)

    def test_recovery_code_once(self):
        code = self.emu.recovery[0]
        c, _ = self.login_pending("demo-totp")
        r = self.emu.api("POST", "/auth/twofactorauth/otp/verify", {"code": code}, cookie=c)
        self.assertEqual(r.json(), {"verified": True})
        c, _ = self.login_pending("demo-totp")
        self.assertError(self.emu.api("POST", "/auth/twofactorauth/otp/verify", {"code": code}, cookie=c), 400)

    def test_email_otp(self):
        c, body = self.login_pending("demo-email")
        self.assertEqual(body, {"requiresTwoFactorAuth": ["emailOtp"]})
        mails = [e for e in self.emu.log() if e.get("host") == "mail" and e.get("to") == "demo-email"]
        code = mails[-1]["code"]
        self.assertRegex(code, r"^\d{6}$")
        self.assertEqual(self.emu.control("GET", "email?user=demo-email").json(), {"code": code})
        self.assertError(self.emu.api("POST", "/auth/twofactorauth/totp/verify", {"code": code}, cookie=c), 400)
        r = self.emu.api("POST", "/auth/twofactorauth/emailotp/verify", {"code": code}, cookie=c)
        self.assertEqual(r.json(), {"verified": True})
        self.assertEqual(self.emu.api("GET", "/files", cookie=c).status, 200)

    def test_wrong_codes_lock(self):
        c, _ = self.login_pending("demo-email")
        for _ in range(5):
            self.assertError(self.emu.api("POST", "/auth/twofactorauth/emailotp/verify", {"code": "1"}, cookie=c), 400)
        code = self.emu.control("GET", "email?user=demo-email").json()["code"]
        r = self.emu.api("POST", "/auth/twofactorauth/emailotp/verify", {"code": code}, cookie=c)
        self.assertError(r, 429, "Too many requests")


class TestDemoTotpFlag(EmuTest):
    args = ("--2fa", "totp")

    def test_demo_requires_totp(self):
        self.assertEqual(self.emu.basic("demo").json(), {"requiresTwoFactorAuth": ["totp", "otp"]})


# ----------------------------------------------------------------------------- files


class TestFiles(EmuTest):
    args = ("--files", "12", "--versions", "2", "--size", "3000", "--add-file", "Big Blob.bin:20000",
            "--add-file", "Sticker Thing.png:100:sticker")

    def setUp(self):
        super().setUp()
        self.c = self.emu.login()

    def files(self, query=""):
        r = self.emu.api("GET", "/files" + query, cookie=self.c)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_listing_and_paging(self):
        all_files = self.files("?n=100")
        names = [f["name"] for f in all_files]
        gen = [f for f in self.emu.state()["files"] if not f["tags"]][:13]
        self.assertEqual([f["id"] for f in all_files[:13]], [f["id"] for f in gen])
        self.assertEqual(len(gen), 13)  # 12 generated + Big Blob; tagged ones are left out
        self.assertIn("Big Blob", names)
        self.assertNotIn("Icon 1", names)
        self.assertNotIn("Sticker Thing", names)
        self.assertEqual(len(self.files()), len(all_files))  # default n=60
        page = self.files("?n=5&offset=5")
        self.assertEqual([f["id"] for f in page], [f["id"] for f in all_files[5:10]])
        self.assertEqual(self.files("?n=5&offset=100"), [])
        for q in ("?n=0", "?n=101", "?n=abc", "?offset=-1"):
            self.assertError(self.emu.api("GET", "/files" + q, cookie=self.c), 400)
        self.assertError(self.emu.api("GET", "/files?userId=usr_x", cookie=self.c), 500)
        big = next(f for f in all_files if f["name"] == "Big Blob")
        self.assertEqual((big["extension"], big["mimeType"]), (".bin", "application/octet-stream"))
        self.assertEqual(big["versions"][1]["file"]["sizeInBytes"], 20000)

    def test_tags(self):
        self.assertEqual([f["name"] for f in self.files("?tag=icon")], ["Icon 1", "Icon 2"])
        self.assertEqual([f["name"] for f in self.files("?tag=gallery")], ["Gallery Image 1"])
        self.assertEqual([f["name"] for f in self.files("?tag=sticker")], ["Sticker Thing"])
        self.assertEqual(self.files("?tag=emoji"), [])

    def test_shapes_and_realism(self):
        fs = self.files("?n=100")
        for i, f in enumerate(fs[:12]):
            self.assertEqual(f["versions"][0], {"version": 0, "status": "complete",
                                                "created_at": f["versions"][0]["created_at"]})
            self.assertRegex(f["versions"][0]["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertEqual(f["x_extra"], {"nested": True})
            self.assertEqual(f["unityPackages"], [])
            self.assertNotIn("animationStyle", f)  # real Files never carry it as null
            real = [v for v in f["versions"] if v["version"] > 0 and not v.get("deleted")]
            self.assertEqual(len(real), 2)
            if i % 4 == 3:
                self.assertEqual(real[0]["version"] if i % 5 != 4 else real[0]["version"] - 1, 3)
            if i % 5 == 4:
                self.assertTrue(any(v.get("deleted") for v in f["versions"]))
            fd = real[0]["file"]
            self.assertEqual(fd["unknownField"], 1)
            self.assertEqual(fd["url"], "http://127.0.0.1:%d/api/1/file/%s/%d/file" % (self.emu.port, f["id"], real[0]["version"]))
            self.assertEqual(fd["fileName"].split(".")[1:3], [f["id"], str(real[0]["version"])])
            self.assertTrue(real[0]["signature"]["fileName"].endswith(".signature"))
            self.assertEqual(fd["sizeInBytes"], 3000)
            self.assertEqual(real[0]["signature"]["sizeInBytes"], 12 + 36 * 2)
            if i % 7 == 6:
                self.assertNotIn("md5", fd)
                full = self.emu.api("GET", "/file/" + f["id"], cookie=self.c).json()
                self.assertIn("md5", [v for v in full["versions"] if v["version"] == real[0]["version"]][0]["file"])
            else:
                self.assertIn("md5", fd)
            self.assertNotIn("deleted", real[0])
        exts = {f["extension"] for f in fs}
        self.assertTrue({".png", ".vrca", ".jpg"} <= exts)
        self.assertIn("", [f["name"] for f in fs])
        self.assertTrue(any("/" in f["name"] for f in fs))

    def test_get_file(self):
        f = self.files("?n=1")[0]
        r = self.emu.api("GET", "/file/" + f["id"], cookie=self.c)
        self.assertEqual(r.json()["id"], f["id"])
        # As recorded: file routes answer plain (not JSON-quoted) messages, and an id that is not
        # file_<uuid> gets the usual error object, not the "not implemented" string.
        self.assertError(self.emu.api("GET", "/file/file_00000000-0000-4000-8000-000000000000", cookie=self.c),
                         404, "File not found")
        for method, path in (("GET", "/file/undefined"), ("POST", "/file/undefined"),
                             ("DELETE", "/file/file_nope/1"), ("GET", "/file/file_nope/1/file")):
            body = {"signatureMd5": "dGVzdA==", "signatureSizeInBytes": 64, "fileMd5": "dGVzdA==", "fileSizeInBytes": 64}
            self.assertError(self.emu.api(method, path, body if method == "POST" else None, cookie=self.c), 404,
                             "model %s not found" % path.split("/")[2])

    def test_recorded_md5_is_taken(self):
        # As recorded: a declared md5 that is base64 but not 16 bytes ("test") is taken.
        fid = self.emu.api("POST", "/file", {"name": "T", "mimeType": "image/jpeg", "extension": "A"},
                           cookie=self.c).json()["id"]
        r = self.emu.api("POST", "/file/" + fid, {"signatureMd5": "dGVzdA==", "signatureSizeInBytes": 64,
                                                  "fileMd5": "dGVzdA==", "fileSizeInBytes": 64}, cookie=self.c)
        self.assertEqual(r.status, 200, r)
        v = r.json()["versions"][-1]
        self.assertEqual((v["file"]["md5"], v["signature"]["md5"], v["status"]), ("dGVzdA==", "dGVzdA==", "waiting"))

    def test_create_file_and_validation(self):
        r = self.emu.api("POST", "/file", {"name": "", "mimeType": "image/png", "extension": "A", "tags": ["x"],
                                           "extra": 1}, cookie=self.c)
        self.assertEqual(r.status, 200, r)
        f = r.json()
        self.assertEqual((f["name"], f["extension"], f["tags"]), ("", ".A", ["x"]))
        self.assertEqual([v["version"] for v in f["versions"]], [0])
        self.assertEqual(f["versions"][0]["status"], "complete")
        r = self.emu.api("POST", "/file", {"name": "a", "mimeType": "image/png", "extension": ".png"}, cookie=self.c)
        self.assertEqual(r.json()["extension"], ".png")
        for bad in ({"name": "a", "mimeType": "text/plain", "extension": ".txt"},
                    {"name": "a", "mimeType": "image/png", "extension": ""},
                    {"name": "a", "mimeType": "image/png"},
                    {"mimeType": "image/png", "extension": ".png"},
                    {"name": 5, "mimeType": "image/png", "extension": ".png"},
                    {"name": "a", "mimeType": "image/png", "extension": ".png", "tags": "x"}):
            self.assertError(self.emu.api("POST", "/file", bad, cookie=self.c), 400)

    def test_versions_rules(self):
        f = self.emu.api("POST", "/file", {"name": "V", "mimeType": "image/png", "extension": ".png"},
                         cookie=self.c).json()
        fid = f["id"]
        ver = {"fileMd5": b64md5(b"abc"), "fileSizeInBytes": 3, "signatureMd5": b64md5(b"s"),
               "signatureSizeInBytes": 1}
        for k in ver:
            self.assertError(self.emu.api("POST", "/file/" + fid, {x: y for x, y in ver.items() if x != k},
                                          cookie=self.c), 400)
        self.assertError(self.emu.api("POST", "/file/" + fid, dict(ver, fileMd5="not base64!"), cookie=self.c), 400)
        r = self.emu.api("POST", "/file/" + fid, ver, cookie=self.c)
        v1 = r.json()["versions"][-1]
        self.assertEqual((v1["version"], v1["status"]), (1, "waiting"))
        self.assertEqual((v1["file"]["category"], v1["file"]["status"], v1["file"]["md5"], v1["file"]["uploadId"]),
                         ("simple", "waiting", ver["fileMd5"], ""))
        self.assertEqual(v1["signature"]["category"], "simple")
        self.assertError(self.emu.api("POST", "/file/" + fid, ver, cookie=self.c), 400,
                         'A previous version is still waiting to be uploaded')
        self.assertError(self.emu.api("DELETE", "/file/%s/0" % fid, cookie=self.c), 400,
                         'Cannot delete version 0, just delete the entire file record')
        r = self.emu.api("DELETE", "/file/%s/1" % fid, cookie=self.c)
        self.assertEqual([v["version"] for v in r.json()["versions"]], [0])
        r = self.emu.api("POST", "/file/" + fid, ver, cookie=self.c)
        self.assertEqual(r.json()["versions"][-1]["version"], 2)  # numbers are never reused
        self.assertError(self.emu.api("DELETE", "/file/%s/0" % fid, cookie=self.c), 400)
        self.assertError(self.emu.api("DELETE", "/file/%s/7" % fid, cookie=self.c), 404)
        gen = self.files("?n=1")[0]
        r = self.emu.api("DELETE", "/file/%s/1" % gen["id"], cookie=self.c)
        self.assertError(r, 500, '409 Cannot delete against anything but the latest version of a file')
        r = self.emu.api("DELETE", "/file/" + fid, cookie=self.c)
        self.assertEqual(r.json()["id"], fid)
        self.assertError(self.emu.api("GET", "/file/" + fid, cookie=self.c), 404)
        self.assertError(self.emu.api("DELETE", "/file/" + fid, cookie=self.c), 404)

    def test_multipart_category_threshold(self):
        f = self.emu.api("POST", "/file", {"name": "M", "mimeType": "application/x-avatar", "extension": ".vrca"},
                         cookie=self.c).json()
        r = self.emu.api("POST", "/file/" + f["id"], {"fileMd5": b64md5(b"x"), "fileSizeInBytes": 10 * MIB,
                                                      "signatureMd5": b64md5(b"s"), "signatureSizeInBytes": 1},
                         cookie=self.c)
        fd = r.json()["versions"][-1]["file"]
        self.assertEqual(fd["category"], "multipart")
        self.assertTrue(fd["uploadId"])
        self.assertEqual(r.json()["versions"][-1]["signature"]["category"], "simple")


class TestListingMd5All(EmuTest):
    """--listing-md5 all: no listing leaves an md5 out, File 7 (i=6) included, so a client learns
    every md5 from GET /files alone (the benchmark's complete-listing backup account)."""
    args = ("--files", "8", "--versions", "2", "--size", "1000", "--listing-md5", "all")

    def test_every_listed_md5_is_there(self):
        c = self.emu.login()
        listed = self.emu.api("GET", "/files?n=100", cookie=c).json()
        self.assertEqual(len(listed), 8)
        for f in listed:
            full = self.emu.api("GET", "/file/" + f["id"], cookie=c).json()
            for v, w in zip(f["versions"], full["versions"]):
                for typ in ("file", "signature"):
                    if typ in v:
                        self.assertEqual(v[typ].get("md5"), w[typ]["md5"], (f["name"], v["version"], typ))
        self.assertFalse(any(f["md5_hidden_in_list"] for f in self.emu.state()["files"]))


# ----------------------------------------------------------------------------- downloads


class TestDownloads(EmuTest):
    args = ("--files", "5", "--versions", "2", "--size", "100000")

    def setUp(self):
        super().setUp()
        self.c = self.emu.login()
        self.st = {f["id"]: f for f in self.emu.state()["files"]}
        self.f = self.emu.api("GET", "/files?n=1", cookie=self.c).json()[0]

    def location(self, fid, n, typ="file"):
        r = self.emu.api("GET", "/file/%s/%d%s" % (fid, n, "/" + typ if typ else ""), cookie=self.c)
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.body, b"")
        return r.header("Location")

    def blob_bytes(self, fid, n, typ="file"):
        v = [v for v in self.st[fid]["versions"] if v["version"] == n][0]
        with open(v["data"][typ]["blob_path"], "rb") as fh:
            return fh.read()

    def test_redirect_and_full_get(self):
        fid = self.f["id"]
        loc = self.location(fid, 1)
        self.assertRegex(loc, r"^http://127\.0\.0\.1:%d/blob/[^?]+\?expires=\d+&sig=[0-9a-f]+$" % self.emu.blob_port)
        r = self.emu.raw("GET", loc)
        self.assertEqual(r.status, 200)
        data = self.blob_bytes(fid, 1)
        self.assertEqual(r.body, data)
        self.assertEqual(b64md5(r.body), self.f["versions"][1]["file"]["md5"])
        self.assertEqual(r.header("ETag"), '"%s"' % hashlib.md5(data).hexdigest())
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertEqual(r.header("Content-Type"), "application/octet-stream")
        self.assertEqual(self.emu.raw("GET", self.location(fid, 1, None)).body, data)
        sig = self.emu.raw("GET", self.location(fid, 1, "signature")).body
        self.assertEqual(sig, self.blob_bytes(fid, 1, "signature"))
        self.assertEqual(sig[:12], struct.pack(">III", 0x72730137, 2048, 32))
        h = self.emu.raw("HEAD", loc)
        self.assertEqual((h.status, h.body, h.header("Content-Length")), (200, b"", str(len(data))))

    def test_ranges(self):
        fid = self.f["id"]
        loc = self.location(fid, 2)
        data = self.blob_bytes(fid, 2)
        size = len(data)
        for rng, (a, b) in (("bytes=0-99", (0, 99)), ("bytes=99990-", (99990, size - 1)),
                            ("bytes=-10", (size - 10, size - 1)), ("bytes=50-999999", (50, size - 1))):
            r = self.emu.raw("GET", loc, headers={"Range": rng})
            self.assertEqual(r.status, 206, rng)
            self.assertEqual(r.body, data[a:b + 1], rng)
            self.assertEqual(r.header("Content-Range"), "bytes %d-%d/%d" % (a, b, size))
        for rng in ("bytes=%d-" % size, "bytes=-0"):
            r = self.emu.raw("GET", loc, headers={"Range": rng})
            self.assertEqual(r.status, 416, rng)
            self.assertEqual(r.header("Content-Range"), "bytes */%d" % size)
        self.assertEqual(self.emu.raw("GET", loc, headers={"Range": "bytes=0-1,5-6"}).status, 200)

    def test_signature_checks(self):
        loc = self.location(self.f["id"], 1)
        bad = re.sub(r"sig=[0-9a-f]", "sig=Z", loc)
        r = self.emu.raw("GET", bad)
        self.assertEqual(r.status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", r.body)
        self.assertEqual(self.emu.raw("GET", loc.split("?")[0]).status, 403)
        other = re.sub(r"expires=(\d+)", lambda m: "expires=%d" % (int(m.group(1)) + 1), loc)
        self.assertEqual(self.emu.raw("GET", other).status, 403)
        self.emu.control("POST", "config", {"url_ttl": 0})
        try:
            loc = self.location(self.f["id"], 1)
            time.sleep(1.1)
            r = self.emu.raw("GET", loc)
            self.assertEqual(r.status, 403)
            self.assertIn(b"Request has expired", r.body)
        finally:
            self.emu.control("POST", "config", {"url_ttl": 60})

    def test_auth_cookie_rejected_on_blob(self):
        loc = self.location(self.f["id"], 1)
        r = self.emu.raw("GET", loc, headers={"Cookie": "auth=" + self.c})
        self.assertEqual(r.status, 400)
        self.assertIn(b"<Code>InvalidRequest</Code>", r.body)
        r = self.emu.raw("GET", loc, headers={"Cookie": "twoFactorAuth=x"})
        self.assertEqual(r.status, 200)
        entries = [e for e in self.emu.log() if e["host"] == "blob" and e["status"] == 400]
        self.assertTrue(entries and entries[-1]["auth_cookie"] is True)

    def test_not_found_cases(self):
        fid = self.f["id"]
        self.assertError(self.emu.api("GET", "/file/%s/0" % fid, cookie=self.c), 404, 'File version type not found')
        self.assertError(self.emu.api("GET", "/file/%s/0/file" % fid, cookie=self.c), 404)
        self.assertError(self.emu.api("GET", "/file/%s/9/file" % fid, cookie=self.c), 404)
        self.assertError(self.emu.api("GET", "/file/%s/1/delta" % fid, cookie=self.c), 404)
        self.assertError(self.emu.api("GET", "/file/%s/1/file" % fid), 401)
        deleted_file = [f for f in self.st.values() if any(v["deleted"] for v in f["versions"])][0]
        dv = [v for v in deleted_file["versions"] if v["deleted"]][0]["version"]
        self.assertError(self.emu.api("GET", "/file/%s/%d/file" % (deleted_file["id"], dv), cookie=self.c), 404)
        self.assertEqual(self.emu.raw("GET", "/blob/nope?expires=1&sig=x", port=self.emu.blob_port).status, 403)

    def test_log_lines(self):
        before = len(self.emu.log())
        loc = self.location(self.f["id"], 1)
        self.emu.raw("GET", loc, headers={"Range": "bytes=0-9"})
        new = self.emu.log()[before:]
        self.assertEqual([(e["host"], e["method"], e["status"]) for e in new], [("api", "GET", 302), ("blob", "GET", 206)])
        self.assertEqual(new[0]["path"], "/api/1/file/%s/1/file" % self.f["id"])
        self.assertEqual(new[0]["auth_cookie"], True)
        self.assertEqual(new[0]["ua"], UA)
        self.assertEqual((new[1]["range"], new[1]["bytes_out"], new[1]["auth_cookie"]), ("bytes=0-9", 10, False))
        self.assertIn("expires=", new[1]["query"])
        for e in new:
            self.assertTrue({"t", "host", "method", "path", "query", "status", "auth_cookie", "ua", "range",
                             "bytes_out", "bytes_in"} <= set(e))

    def test_corrupt_control(self):
        fid = self.f["id"]
        data = self.blob_bytes(fid, 2)
        r = self.emu.control("POST", "corrupt", {"fileId": fid, "version": 2, "type": "file"})
        self.assertEqual(r.status, 200, r)
        got = self.emu.raw("GET", self.location(fid, 2)).body
        self.assertEqual(len(got), len(data))
        self.assertNotEqual(got, data)
        self.assertEqual(sum(a != b for a, b in zip(got, data)), 1)
        f = self.emu.api("GET", "/file/" + fid, cookie=self.c).json()
        self.assertEqual([v for v in f["versions"] if v["version"] == 2][0]["file"]["md5"], b64md5(data))
        self.emu.control("POST", "corrupt", {"fileId": fid, "version": 2, "type": "file"})  # flip it back


# ----------------------------------------------------------------------------- uploads


class TestUploads(EmuTest):
    args = ("--files", "1", "--versions", "1", "--multipart-threshold", "6M")

    def setUp(self):
        super().setUp()
        self.c = self.emu.login()

    def new_file(self):
        return self.emu.api("POST", "/file", {"name": "Up", "mimeType": "image/png", "extension": ".png"},
                            cookie=self.c).json()["id"]

    def new_version(self, fid, data, sig):
        r = self.emu.api("POST", "/file/" + fid, {"fileMd5": b64md5(data), "fileSizeInBytes": len(data),
                                                  "signatureMd5": b64md5(sig), "signatureSizeInBytes": len(sig)},
                         cookie=self.c)
        self.assertEqual(r.status, 200, r)
        return r.json()["versions"][-1]

    def start(self, fid, n, typ, part=None):
        q = "" if part is None else "?partNumber=%d" % part
        return self.emu.api("PUT", "/file/%s/%d/%s/start%s" % (fid, n, typ, q), cookie=self.c)

    def finish(self, fid, n, typ, body=None):
        return self.emu.api("PUT", "/file/%s/%d/%s/finish" % (fid, n, typ),
                            body if body is not None else {"nextPartNumber": "0", "maxParts": "0"}, cookie=self.c)

    def put(self, url, data, md5=None, headers=None):
        h = dict(headers or {})
        if md5 is not None:
            h["Content-MD5"] = md5
        return self.emu.raw("PUT", url, data, h)

    def upload_simple(self, fid, n, typ, data):
        url = self.start(fid, n, typ).json()["url"]
        r = self.put(url, data, b64md5(data))
        self.assertEqual(r.status, 200, r)
        r = self.finish(fid, n, typ)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def download(self, fid, n, typ="file"):
        r = self.emu.api("GET", "/file/%s/%d/%s" % (fid, n, typ), cookie=self.c)
        self.assertEqual(r.status, 302, r)
        return self.emu.raw("GET", r.header("Location")).body

    def test_simple_upload(self):
        fid = self.new_file()
        data, sig = os.urandom(5000), os.urandom(84)
        v = self.new_version(fid, data, sig)
        n = v["version"]
        r = self.start(fid, n, "file")
        url = r.json()["url"]
        self.assertRegex(url, r"^http://127\.0\.0\.1:%d/upload/" % self.emu.blob_port)
        self.assertEqual(self.put(url, data).status, 403)  # no Content-MD5
        r = self.put(url, data, b64md5(b"other"))
        self.assertEqual(r.status, 403)
        self.assertIn(b"SignatureDoesNotMatch", r.body)
        r = self.put(url, data[:-1] + b"!", b64md5(data))
        self.assertEqual(r.status, 400)
        self.assertIn(b"<Code>BadDigest</Code>", r.body)
        r = self.put(url, data, b64md5(data), headers={"Cookie": "auth=" + self.c})
        self.assertEqual(r.status, 400)
        self.assertError(self.finish(fid, n, "file"), 400)  # nothing uploaded yet
        r = self.put(url, data, b64md5(data))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("ETag"), '"%s"' % hashlib.md5(data).hexdigest())
        self.assertError(self.download_status(fid, n, "file", expect=302), 404)
        f = self.finish(fid, n, "file").json()
        self.assertEqual(f["versions"][-1]["file"]["status"], "complete")
        self.assertEqual(f["versions"][-1]["status"], "waiting")
        self.assertError(self.start(fid, n, "file"), 400, 'Cannot upload against a complete version entry')
        self.assertError(self.finish(fid, n, "signature", {"etags": ["abc"], "nextPartNumber": "0",
                                                           "maxParts": "0"}), 400)
        f = self.upload_simple(fid, n, "signature", sig)
        self.assertEqual(f["versions"][-1]["status"], "complete")
        self.assertEqual(self.download(fid, n), data)
        self.assertEqual(self.download(fid, n, "signature"), sig)
        st = [x for x in self.emu.state()["files"] if x["id"] == fid][0]
        with open(st["versions"][-1]["data"]["file"]["blob_path"], "rb") as fh:
            self.assertEqual(fh.read(), data)
        # the next version works, and an upload against the old one is refused
        v2 = self.new_version(fid, b"x", b"y")
        self.assertError(self.start(fid, n, "file"), 400)
        self.assertEqual(v2["version"], n + 1)

    def test_blob_put_budget_holds_puts(self):
        fid = self.new_file()
        data = os.urandom(1000)
        n = self.new_version(fid, data, b"sig")["version"]
        url = self.start(fid, n, "file").json()["url"]
        self.assertEqual(self.emu.control("POST", "config", {"blob_put_budget": -2}).status, 400)
        self.emu.control("POST", "config", {"blob_put_budget": 1})
        try:
            self.assertEqual(self.put(url, data[:-1] + b"!", b64md5(data)).status, 400)  # let through
            held = {}
            t = threading.Thread(target=lambda: held.update(r=self.put(url, data, b64md5(data))))
            t.start()
            t.join(1.0)
            self.assertTrue(t.is_alive(), "a PUT past the budget waits")
        finally:
            self.emu.control("POST", "config", {"blob_put_budget": -1})
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertEqual(held["r"].status, 200)

    def download_status(self, fid, n, typ, expect):
        return self.emu.api("GET", "/file/%s/%d/%s" % (fid, n, typ), cookie=self.c)

    def test_finish_without_body_and_size_mismatch(self):
        fid = self.new_file()
        data, sig = b"hello", b"sig"
        n = self.new_version(fid, data, sig)["version"]
        url = self.start(fid, n, "file").json()["url"]
        self.assertEqual(self.put(url, data, b64md5(data)).status, 200)
        r = self.emu.api("PUT", "/file/%s/%d/file/finish" % (fid, n), cookie=self.c)  # no body (Third Uploader)
        self.assertEqual(r.status, 200, r)

    def test_multipart_upload(self):
        fid = self.new_file()
        data = os.urandom(5 * MIB) + os.urandom(5 * MIB) + os.urandom(123457)
        sig = os.urandom(200)
        v = self.new_version(fid, data, sig)
        n = v["version"]
        self.assertEqual(v["file"]["category"], "multipart")
        upload_id = v["file"]["uploadId"]
        self.assertError(self.start(fid, n, "file"), 400)  # partNumber required
        self.assertError(self.start(fid, n, "file", 0), 400)
        parts = [data[:5 * MIB], data[5 * MIB:10 * MIB], data[10 * MIB:]]
        etags = []
        for k in (2, 1, 3):  # any order
            url = self.start(fid, n, "file", k).json()["url"]
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            self.assertEqual((q["partNumber"], q["uploadId"]), ([str(k)], [upload_id]))
            r = self.put(url, parts[k - 1], headers={"Content-Type": "image/png"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("ETag"), '"%s"' % hashlib.md5(parts[k - 1]).hexdigest())
        etags = ['"%s"' % hashlib.md5(p).hexdigest() for p in parts]
        st = self.emu.api("GET", "/file/%s/%d/file/status" % (fid, n), cookie=self.c).json()
        self.assertEqual((st["uploadId"], st["nextPartNumber"], st["maxParts"]), (upload_id, 3, 1000))
        self.assertEqual(st["etags"], [e.strip('"') for e in etags])
        self.assertTrue(st["fileName"].endswith(".%d.png" % n))
        self.assertError(self.finish(fid, n, "file", {"etags": etags[::-1], "nextPartNumber": "0", "maxParts": "0"}), 400)
        self.assertError(self.finish(fid, n, "file", {"etags": etags[:2] + ["x"], "nextPartNumber": "0",
                                                      "maxParts": "0"}), 400)
        self.assertError(self.finish(fid, n, "file", {"nextPartNumber": "0", "maxParts": "0"}), 400)
        self.assertError(self.finish(fid, n, "file", {"etags": etags[:2], "nextPartNumber": "0", "maxParts": "0"}), 400)
        r = self.finish(fid, n, "file", {"etags": [e.strip('"') for e in etags], "nextPartNumber": "0", "maxParts": "0"})
        self.assertEqual(r.status, 200, r)
        self.assertError(self.emu.api("GET", "/file/%s/%d/file/status" % (fid, n), cookie=self.c), 400)
        self.upload_simple(fid, n, "signature", sig)
        self.assertEqual(hashlib.md5(self.download(fid, n)).digest(), hashlib.md5(data).digest())

    def test_multipart_entity_too_small(self):
        fid = self.new_file()
        data = os.urandom(7 * MIB)
        n = self.new_version(fid, data, b"s")["version"]
        parts = [data[:MIB], data[MIB:]]
        for k, p in enumerate(parts, 1):
            self.assertEqual(self.put(self.start(fid, n, "file", k).json()["url"], p).status, 200)
        r = self.finish(fid, n, "file", {"etags": [hashlib.md5(p).hexdigest() for p in parts],
                                         "nextPartNumber": "0", "maxParts": "0"})
        self.assertError(r, 400)
        self.assertIn("EntityTooSmall", r.json()["error"]["message"])
        # a stuck version is deleted before a new one is made (the SDK's way)
        self.assertEqual(self.emu.api("DELETE", "/file/%s/%d" % (fid, n), cookie=self.c).status, 200)
        self.assertEqual([u for u in self.emu.state()["uploads"] if u["fileId"] == fid], [])

    def test_multipart_md5_mismatch(self):
        fid = self.new_file()
        data = os.urandom(6 * MIB)
        n = self.new_version(fid, data, b"s")["version"]
        other = os.urandom(6 * MIB)
        self.assertEqual(self.put(self.start(fid, n, "file", 1).json()["url"], other).status, 200)
        r = self.finish(fid, n, "file", {"etags": [hashlib.md5(other).hexdigest()], "nextPartNumber": "0",
                                         "maxParts": "0"})
        self.assertError(r, 400)

    def test_parallel_parts(self):
        fid = self.new_file()
        parts = [os.urandom(5 * MIB) for _ in range(4)]
        data = b"".join(parts)
        n = self.new_version(fid, data, b"s")["version"]
        urls = [self.start(fid, n, "file", k).json()["url"] for k in range(1, 5)]
        results = {}

        def go(k):
            results[k] = self.put(urls[k], parts[k]).status
        ts = [threading.Thread(target=go, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(results, {0: 200, 1: 200, 2: 200, 3: 200})
        r = self.finish(fid, n, "file", {"etags": [hashlib.md5(p).hexdigest() for p in parts],
                                         "nextPartNumber": "0", "maxParts": "0"})
        self.assertEqual(r.status, 200, r)

    def test_upload_url_checks(self):
        fid = self.new_file()
        n = self.new_version(fid, b"abc", b"s")["version"]
        url = self.start(fid, n, "file").json()["url"]
        self.assertEqual(self.emu.raw("PUT", re.sub(r"sig=\w+", "sig=00", url), b"abc",
                                      {"Content-MD5": b64md5(b"abc")}).status, 403)
        self.assertEqual(self.emu.raw("GET", url).status, 405)
        self.assertEqual(self.emu.api("DELETE", "/file/%s/%d" % (fid, n), cookie=self.c).status, 200)
        self.assertEqual(self.put(url, b"abc", b64md5(b"abc")).status, 404)  # version is gone

    def test_complete_delay(self):
        self.emu.control("POST", "config", {"complete_delay_ms": 600})
        try:
            fid = self.new_file()
            n = self.new_version(fid, b"abc", b"s")["version"]
            self.upload_simple(fid, n, "file", b"abc")
            f = self.upload_simple(fid, n, "signature", b"s")
            self.assertEqual(f["versions"][-1]["status"], "waiting")
            time.sleep(0.7)
            f = self.emu.api("GET", "/file/" + fid, cookie=self.c).json()
            self.assertEqual(f["versions"][-1]["status"], "complete")
        finally:
            self.emu.control("POST", "config", {"complete_delay_ms": 0})


# ----------------------------------------------------------------------------- instances


class TestInstances(EmuTest):
    def setUp(self):
        super().setUp()
        self.c = self.emu.login()
        self.st = self.emu.state()
        self.me = self.emu.api("GET", "/auth/user", cookie=self.c).json()

    def test_recent_and_get(self):
        recent = self.emu.api("GET", "/instances/recent?n=10&offset=0", cookie=self.c).json()
        self.assertEqual(len(recent), 3)
        self.assertTrue(all(isinstance(x, str) and x.startswith("wrld_") for x in recent))
        self.assertEqual(len(self.emu.api("GET", "/instances/recent?n=1&offset=1", cookie=self.c).json()), 1)
        kinds = []
        for loc in recent:
            r = self.emu.api("GET", "/instances/" + loc, cookie=self.c)
            self.assertEqual(r.status, 200, r)
            inst = r.json()
            for k in ("id", "instanceId", "location", "worldId", "world", "name", "type", "region", "photonRegion",
                      "platforms", "n_users", "userCount", "capacity", "recommendedCapacity", "queueEnabled",
                      "queueSize", "full", "permanent", "strict", "secureName", "shortName", "tags", "ownerId",
                      "closedAt", "hardClose", "categoryId", "vibeIds", "dominantLanguage"):
                self.assertIn(k, inst)
            self.assertEqual(inst["clientNumber"], "unknown")
            self.assertEqual(inst["location"], loc)
            self.assertEqual(inst["world"]["id"], inst["worldId"])
            self.assertNotIn("storeId", inst["world"])  # a string where present, never null
            if inst["type"] == "public":
                self.assertNotIn("nonce", inst)
            else:
                self.assertRegex(inst["nonce"], r"^[0-9a-f-]{36}$")
            kinds.append(inst["type"])
        self.assertEqual(sorted(kinds), ["hidden", "private", "public"])
        p = self.me["presence"]
        self.assertIn("%s:%s" % (p["world"], p["instance"]), recent)
        # percent-encoded works too
        enc = urllib.parse.quote(recent[1], safe="")
        self.assertEqual(self.emu.api("GET", "/instances/" + enc, cookie=self.c).status, 200)

    def test_null_and_404(self):
        wid = self.st["worlds"][0]["id"]
        r = self.emu.api("GET", "/instances/%s:99999~region(us)" % wid, cookie=self.c)
        self.assertEqual((r.status, r.body), (200, b"null"))
        self.assertError(self.emu.api("GET", "/instances/wrld_00000000-0000-4000-8000-000000000000:1", cookie=self.c), 404)

    def test_short_names(self):
        insts = self.st["instances"]
        with_short = [i for i in insts if i["shortName"]][0]
        without = [i for i in insts if i["shortName"] is None][0]
        for name in (with_short["shortName"], with_short["secureName"]):
            r = self.emu.api("GET", "/instances/s/" + name, cookie=self.c)
            self.assertEqual(r.json()["location"], with_short["location"])
        self.assertError(self.emu.api("GET", "/instances/s/zzzzzzzz", cookie=self.c), 404, 'Instance not found')
        r = self.emu.api("GET", "/instances/%s/shortName" % without["location"], cookie=self.c)
        self.assertEqual(r.json(), {"secureName": without["secureName"], "shortName": None})

    def test_create_close_invite(self):
        wid = self.st["worlds"][1]["id"]
        me = self.me["id"]
        good = {"worldId": wid, "type": "private", "region": "eu", "ownerId": me, "canRequestInvite": True,
                "displayName": "party", "contentSettings": {"drones": False}, "unknown": 1}
        r = self.emu.api("POST", "/instances", good, cookie=self.c)
        self.assertEqual(r.status, 200, r)
        inst = r.json()
        self.assertRegex(inst["instanceId"], r"^\d{5}~private\(%s\)~canRequestInvite~region\(eu\)~nonce\([0-9a-f-]{36}\)$"
                         % re.escape(me))
        self.assertEqual(inst["location"], "%s:%s" % (wid, inst["instanceId"]))
        self.assertEqual((inst["ownerId"], inst["private"], inst["displayName"]), (me, me, "party"))
        self.assertTrue(inst["secureName"] and inst["shortName"])
        self.assertEqual(self.emu.api("GET", "/instances/" + inst["location"], cookie=self.c).json()["id"], inst["id"])
        pub = self.emu.api("POST", "/instances", {"worldId": wid, "type": "public", "region": "us"}, cookie=self.c).json()
        self.assertRegex(pub["instanceId"], r"^\d{5}~region\(us\)$")
        grp = self.emu.api("POST", "/instances", {"worldId": wid, "type": "group", "region": "jp",
                                                  "ownerId": "grp_00000000-0000-4000-8000-000000000001",
                                                  "groupAccessType": "plus"}, cookie=self.c)
        self.assertIn("~group(grp_", grp.json()["instanceId"])
        for bad, status in ((dict(good, worldId="wrld_00000000-0000-4000-8000-000000000000"), 404),
                            (dict(good, type="secret"), 400), (dict(good, region="mars"), 400),
                            ({"type": "public", "region": "us"}, 400),
                            ({"worldId": wid, "type": "public", "region": "us", "ownerId": me}, 400),
                            ({"worldId": wid, "type": "public", "region": "us", "closedAt": "2030-01-01T00:00:00Z"}, 400),
                            (dict(good, ownerId=None), 400), (dict(good, ownerId="grp_x"), 400),
                            (dict(good, queueEnabled="yes"), 400), (dict(good, closedAt="tomorrow"), 400),
                            (dict(good, contentSettings=[]), 400),
                            (dict(good, type="friends"), 400)):  # as recorded: canRequestInvite on friends
            self.assertError(self.emu.api("POST", "/instances", bad, cookie=self.c), status)
        loc = inst["location"]
        r = self.emu.api("POST", "/invite/myself/to/" + loc, cookie=self.c)
        n = r.json()
        self.assertTrue(n["id"].startswith("not_"))
        self.assertEqual((n["type"], n["receiverUserId"], n["senderUserId"]), ("invite", me, me))
        self.assertIn("worldId", n["details"])
        self.assertError(self.emu.api("POST", "/invite/myself/to/%s:1~nope" % wid, cookie=self.c), 404)
        self.assertEqual(self.emu.api("POST", "/instances/%s/invite" % loc, cookie=self.c).json()["error"],
                         "The endpoint you're looking for is not implemented by our system.")
        r = self.emu.api("DELETE", "/instances/%s?hardClose=true" % loc, cookie=self.c)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["closedAt"])
        self.assertTrue(r.json()["hardClose"])
        self.assertError(self.emu.api("DELETE", "/instances/" + loc, cookie=self.c), 403)
        other = [i for i in self.st["instances"] if i["type"] == "private"][0]
        self.assertError(self.emu.api("DELETE", "/instances/" + other["location"], cookie=self.c), 403,
                         'You are not the owner of this instance')
        self.assertError(self.emu.api("DELETE", "/instances/%s:1~x" % wid, cookie=self.c), 404)
        r = self.emu.api("DELETE", "/instances/%s?closedAt=2030-01-01T00:00:00.000Z" % pub["location"], cookie=self.c)
        self.assertEqual(r.json()["closedAt"], "2030-01-01T00:00:00.000Z")


# ----------------------------------------------------------------------------- faults


class TestFaults(EmuTest):
    args = ("--fault", "api:500:match=^/api/1/worlds,count=1")

    def setUp(self):
        self.c = self.emu.login()
        super().setUp()

    def add(self, spec):
        r = self.emu.control("POST", "faults", {"spec": spec})
        self.assertEqual(r.status, 200, r)

    def test_cli_fault_and_count(self):
        wid = self.emu.state()["worlds"][0]["id"]
        self.emu.control("POST", "faults", {"spec": "api:500:match=^/api/1/worlds,count=1"})
        self.assertError(self.emu.api("GET", "/worlds/" + wid, cookie=self.c), 500)
        self.assertEqual(self.emu.api("GET", "/worlds/" + wid, cookie=self.c).status, 200)

    def test_503_retry_after_and_log(self):
        self.add("api:503:count=2,retry_after=3")
        before = len(self.emu.log())
        for _ in range(2):
            r = self.emu.api("GET", "/auth", cookie=self.c)
            self.assertError(r, 503)
            self.assertEqual(r.header("Retry-After"), "3")
        self.assertEqual(self.emu.api("GET", "/auth", cookie=self.c).status, 200)
        new = self.emu.log()[before:]
        self.assertEqual([e.get("fault") for e in new if e["host"] == "api"], ["503", "503", None])

    def test_429_body(self):
        self.add("api:429:count=1")
        r = self.emu.api("GET", "/auth", cookie=self.c)
        self.assertEqual(r.json(), {"error": {"message": "Too many requests", "status_code": 429}})

    def test_every_after_method_match(self):
        self.add("api:502:every=2,match=^/api/1/auth$,method=GET")
        got = [self.emu.api("GET", "/auth", cookie=self.c).status for _ in range(4)]
        self.assertEqual(got, [200, 502, 200, 502])
        self.assertEqual(self.emu.api("GET", "/files", cookie=self.c).status, 200)
        self.emu.control("DELETE", "faults")
        self.add("api:504:after=2,count=1")
        got = [self.emu.api("GET", "/auth", cookie=self.c).status for _ in range(4)]
        self.assertEqual(got, [200, 200, 504, 200])

    def test_html504_and_drop(self):
        self.add("api:html504:count=1")
        r = self.emu.api("GET", "/auth", cookie=self.c)
        self.assertEqual(r.status, 504)
        self.assertIn(b"nginx", r.body)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.add("api:drop:count=1")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.emu.api("GET", "/auth", cookie=self.c)
        self.assertEqual(self.emu.api("GET", "/auth", cookie=self.c).status, 200)
        drops = [e for e in self.emu.log() if e.get("fault") == "drop" and e["host"] == "api"]
        self.assertEqual(len(drops), 1)

    def test_respond_gives_a_canned_answer(self):
        with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as fh:
            fh.write(b'{"error":"not implemented","status_code":404}')
        try:
            self.add("api:respond:match=^/api/1/instances/recent,status=404,body_file=%s,count=1"
                     % fh.name)
            r = self.emu.api("GET", "/instances/recent?n=100&offset=0", cookie=self.c)
            self.assertEqual((r.status, r.body), (404, b'{"error":"not implemented","status_code":404}'))
            self.assertTrue(r.header("Content-Type").startswith("application/json"))
            self.assertEqual(self.emu.api("GET", "/instances/recent", cookie=self.c).status, 200)
            self.add("api:respond:match=^/api/1/auth$,content_type=text/plain,count=1")
            r = self.emu.api("GET", "/auth", cookie=self.c)
            self.assertEqual((r.status, r.body, r.header("Content-Type")), (200, b"", "text/plain"))
        finally:
            os.unlink(fh.name)
        for spec in ("api:respond:status=99", "api:respond:status=x", "blob:respond"):
            self.assertEqual(self.emu.control("POST", "faults", {"spec": spec}).status, 400, spec)

    def loc(self):
        f = self.emu.api("GET", "/files?n=1", cookie=self.c).json()[0]
        return self.emu.api("GET", "/file/%s/1/file" % f["id"], cookie=self.c).header("Location")

    def test_blob_faults(self):
        loc = self.loc()
        good = self.emu.raw("GET", loc).body
        self.add("blob:503:count=1,retry_after=1")
        r = self.emu.raw("GET", loc)
        self.assertEqual((r.status, r.header("Retry-After")), (503, "1"))
        self.add("blob:drop:count=1")
        with self.assertRaises(http.client.IncompleteRead):
            self.emu.raw("GET", loc)
        self.add("blob:corrupt:count=1")
        bad = self.emu.raw("GET", loc).body
        self.assertEqual(len(bad), len(good))
        self.assertNotEqual(bad, good)
        self.assertEqual(self.emu.raw("GET", loc).body, good)
        self.add("blob:drop:count=1,method=PUT")  # does not touch GETs
        self.assertEqual(self.emu.raw("GET", loc).status, 200)

    def test_faults_on_the_download_redirect(self):
        # vrcfs resolves each version's data through GET /file/{id}/{n}/file; a rule that
        # matches only that route leaves the File itself alone.
        fid = self.emu.api("GET", "/files?n=1", cookie=self.c).json()[0]["id"]
        self.add(r"api:429:count=1,match=^/api/1/file/[^/]+/\d+/file$,retry_after=1")
        self.add(r"api:503:count=1,match=^/api/1/file/[^/]+/\d+/file$")
        self.assertEqual(self.emu.api("GET", "/file/" + fid, cookie=self.c).status, 200)
        r = self.emu.api("GET", "/file/%s/1/file" % fid, cookie=self.c)
        self.assertEqual((r.status, r.header("Retry-After")), (429, "1"))
        self.assertEqual(r.json(), {"error": {"message": "Too many requests", "status_code": 429}})
        r = self.emu.api("GET", "/file/%s/1/file" % fid, cookie=self.c)
        self.assertError(r, 503)
        r = self.emu.api("GET", "/file/%s/1/file" % fid, cookie=self.c)
        self.assertEqual(r.status, 302)
        faults = [e.get("fault") for e in self.emu.log() if e["host"] == "api" and e["path"].endswith("/1/file")]
        self.assertEqual(faults[-3:], ["429", "503", None])

    def test_bad_specs(self):
        for spec in ("api", "web:500", "api:418", "api:500:count=x", "api:500:bogus=1", "api:500:match=(", 5):
            self.assertEqual(self.emu.control("POST", "faults", {"spec": spec}).status, 400, spec)

    def test_latency(self):
        self.emu.control("POST", "config", {"latency_ms": 200})
        try:
            t = time.time()
            self.emu.api("GET", "/auth", cookie=self.c)
            self.assertGreaterEqual(time.time() - t, 0.19)
        finally:
            self.emu.control("POST", "config", {"latency_ms": 0})
        self.assertEqual(self.emu.control("POST", "config", {"nope": 1}).status, 400)


# ----------------------------------------------------------------------------- robustness


class TestRobustness(EmuTest):
    def test_garbage(self):
        c = self.emu.login()
        paths = ["/file/file_x/abc", "/file/file_x/-1", "/file/file_x/99999999999999999999/file",
                 "/instances/%ZZ", "/instances/nocolon", "/instances/:", "/files?n=%FF", "/files?tag=%00",
                 "/file/" + "a" * 5000, "/instances/recent?n=1e9", "/worlds/wrld_x/(((", "//", "/file/file_x/1/bogus/start"]
        for p in paths:
            for m in ("GET", "POST", "PUT", "DELETE", "PATCH"):
                r = self.emu.api(m, p, b"{}" if m in ("POST", "PUT") else None, cookie=c)
                self.assertLess(r.status, 500 if "file_x" not in p else 501, (m, p, r))
                self.assertIn(r.status, (200, 400, 403, 404, 413, 500), (m, p, r))
                json.loads(r.body.decode())
        for body in (b"null", b"{\"code\": 5}", b"{\"code\": null}", b"\"x\""):
            self.emu.api("POST", "/auth/twofactorauth/totp/verify", body, cookie=c)
            self.emu.api("POST", "/instances", body, cookie=c)
            self.emu.api("POST", "/file", body, cookie=c)
        self.emu.control("POST", "corrupt", {"fileId": None})
        self.emu.control("POST", "faults", b"[]")
        # raw nonsense on both ports
        for port in (self.emu.port, self.emu.blob_port):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"\x00\x01garbage\r\n\r\n")
            s.recv(1000)
            s.close()
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n")
            s.recv(1000)
            s.close()
        self.assertEqual(self.emu.api("GET", "/auth", cookie=c).status, 200)
        self.assertEqual(self.emu.proc.poll(), None)
        self.assertEqual(len([e for e in self.emu.log() if e.get("malformed")]), 2)

    def test_chunked_json_body(self):
        c = self.emu.login()
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        body = json.dumps({"name": "chunky", "mimeType": "image/png", "extension": "png"}).encode()
        conn.request("POST", "/api/1/file", body=iter([body[:10], body[10:]]),
                     headers={"User-Agent": UA, "Cookie": "auth=" + c, "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.read())["name"], "chunky")
        conn.close()

    def test_log_counts_every_request_once(self):
        before = len(self.emu.log())
        c = self.emu.login()
        for _ in range(7):
            self.emu.api("GET", "/files", cookie=c)
        self.emu.control("GET", "state")
        new = self.emu.log()[before:]
        self.assertEqual(len([e for e in new if e["path"] == "/api/1/files"]), 7)
        self.assertEqual([e["host"] for e in new if e["path"].startswith("/_emulator")], ["control"])


class TestBigBlob(EmuTest):
    args = ("--files", "1", "--versions", "1", "--size", "96M")

    def test_big_download_is_fast(self):
        c = self.emu.login()
        f = self.emu.api("GET", "/files", cookie=c).json()[0]
        loc = self.emu.api("GET", "/file/%s/1/file" % f["id"], cookie=c).header("Location")
        u = urllib.parse.urlsplit(loc)
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.blob_port, timeout=30)
        t = time.time()
        conn.request("GET", u.path + "?" + u.query)
        r = conn.getresponse()
        md5, n = hashlib.md5(), 0
        while True:
            chunk = r.read(4 * MIB)
            if not chunk:
                break
            md5.update(chunk)
            n += len(chunk)
        dt = time.time() - t
        conn.close()
        self.assertEqual(n, 96 * MIB)
        self.assertEqual(base64.b64encode(md5.digest()).decode(), f["versions"][1]["file"]["md5"])
        self.assertLess(dt, 10)


class TestSignals(unittest.TestCase):
    def test_sigint_exits_zero(self):
        emu = Emulator("--files", "1")
        emu.proc.send_signal(signal.SIGINT)
        self.assertEqual(emu.proc.wait(10), 0)
        emu.stop()


if __name__ == "__main__":
    unittest.main()
