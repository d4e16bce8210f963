#!/usr/bin/env python3
"""The backup a creator would write without vrcfs, the baseline of scripts/bench's backup case.

    bench/backup_script.py --api URL --session FILE --dest DIR [--rate N] [--contact C]

Lists the account's Files (GET /files in pages of 100, then once per ImagePurpose tag, since
VRChat leaves tagged Files out of the untagged listing), then downloads every complete version's
file and signature in turn (GET /file/{id}/{n}/{type}, which redirects to a signed blob URL),
into DEST/<fileId>/<n>/<type>. API requests are paced like vrcfs's: a token bucket of RATE per
minute holding ten seconds' worth. Prints one JSON line: api_requests, blob_requests, bytes,
seconds. Standard library only.
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse

TAGS = ("admin", "avatargallery", "avatarimage", "bundle", "emoji", "emojianimated", "gallery",
        "icon", "listinggallery", "product", "sticker")


class Bucket:
    """rate per minute, a burst of ten seconds' worth, full at the start (as vrcfs's pacer)."""

    def __init__(self, per_minute):
        self.rate = per_minute / 60.0
        self.cap = max(1.0, self.rate * 10)
        self.tokens = self.cap
        self.t = time.monotonic()

    def take(self):
        while True:
            now = time.monotonic()
            self.tokens = min(self.cap, self.tokens + (now - self.t) * self.rate)
            self.t = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            time.sleep((1 - self.tokens) / self.rate)


class Client:
    def __init__(self, api, auth, contact, rate):
        self.api = urllib.parse.urlsplit(api)
        self.headers = {"User-Agent": "backup-script/1.0 " + contact, "Cookie": "auth=" + auth}
        self.bucket = Bucket(rate)
        self.api_conn = None
        self.blob_conns = {}
        self.api_requests = self.blob_requests = self.bytes = 0

    def get_api(self, path):
        """(status, headers, body) of one paced API request, on one kept-alive connection."""
        self.bucket.take()
        self.api_requests += 1
        if self.api_conn is None:
            self.api_conn = http.client.HTTPConnection(self.api.hostname, self.api.port,
                                                       timeout=60)
        self.api_conn.request("GET", self.api.path + path, headers=self.headers)
        r = self.api_conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()

    def list_files(self, tag=None):
        out, offset = [], 0
        while True:
            q = {"n": 100, "offset": offset}
            if tag:
                q["tag"] = tag
            status, _, body = self.get_api("/files?" + urllib.parse.urlencode(q))
            if status != 200:
                sys.exit("GET /files: %d %s" % (status, body[:200]))
            page = json.loads(body) or []
            out += page
            if len(page) < 100:
                return out
            offset += 100

    def download(self, file_id, n, typ, dest):
        status, headers, body = self.get_api("/file/%s/%d/%s" % (file_id, n, typ))
        if status != 302:
            sys.exit("GET /file/%s/%d/%s: %d %s" % (file_id, n, typ, status, body[:200]))
        u = urllib.parse.urlsplit(headers["Location"])
        conn = self.blob_conns.get(u.netloc)
        if conn is None:
            conn = self.blob_conns[u.netloc] = http.client.HTTPConnection(u.hostname, u.port,
                                                                         timeout=60)
        conn.request("GET", u.path + "?" + u.query)
        r = conn.getresponse()
        self.blob_requests += 1
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                f.write(chunk)
                self.bytes += len(chunk)
        if r.status != 200:
            sys.exit("blob GET of %s/%d/%s: %d" % (file_id, n, typ, r.status))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--api", required=True)
    ap.add_argument("--session", required=True, help="vrcfs's session.json (for the auth cookie)")
    ap.add_argument("--dest", required=True)
    ap.add_argument("--rate", type=int, default=60)
    ap.add_argument("--contact", default="bench@vrcfs.invalid")
    args = ap.parse_args()
    with open(args.session) as f:
        auth = json.load(f)["auth"]
    c = Client(args.api, auth, args.contact, args.rate)
    t = time.monotonic()
    files = {f["id"]: f for f in c.list_files()}
    for tag in TAGS:
        for f in c.list_files(tag):
            files.setdefault(f["id"], f)
    for f in files.values():
        for v in f.get("versions") or []:
            if v.get("version", 0) < 1 or v.get("deleted") or v.get("status") != "complete":
                continue
            for typ in ("file", "signature", "delta"):
                if v.get(typ):
                    c.download(f["id"], v["version"], typ,
                               os.path.join(args.dest, f["id"], str(v["version"]), typ))
    print(json.dumps({"files": len(files), "api_requests": c.api_requests,
                      "blob_requests": c.blob_requests, "bytes": c.bytes,
                      "seconds": time.monotonic() - t}))


if __name__ == "__main__":
    main()
