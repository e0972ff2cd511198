#!/usr/bin/env python3
"""Stub receivers for tests/integration/alerts.sh: a generic webhook + WeCom + DingTalk robot
endpoint, or an HTTP SMS gateway. Every request is appended as one JSON line to LOG (accepted or
not, with the verdict); robots answer {"errcode":0} like the real ones, and the DingTalk endpoint
checks timestamp+sign; the SMS gateway checks the X-Sign HMAC-SHA256 over "{timestamp}\\n{phone}"
and refuses the first FAIL_FIRST requests with 503 so the hub has to retry.

usage: alert_receiver.py PORT LOG MODE(robots|sms) [DING_SECRET|SMS_SECRET] [FAIL_FIRST]
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
SECRET = sys.argv[4] if len(sys.argv) > 4 else ""
FAIL_FIRST = int(sys.argv[5]) if len(sys.argv) > 5 else 0
lock = threading.Lock()
seen = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode("utf-8", "replace")
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        rec = {"path": url.path, "query": query, "headers": {k.lower(): v for k, v in self.headers.items()},
               "raw": raw, "at": time.time()}
        try:
            rec["body"] = json.loads(raw)
        except ValueError:
            rec["body"] = None
        status, reply, verdict = 200, {"errcode": 0, "errmsg": "ok"}, "accepted"
        with lock:
            seen["n"] += 1
            n = seen["n"]
        if MODE == "robots" and url.path == "/dingtalk" and SECRET:
            ts = query.get("timestamp", "")
            want = base64.b64encode(hmac.new(SECRET.encode(), (ts + "\n" + SECRET).encode(),
                                             hashlib.sha256).digest()).decode()
            if query.get("sign") != want or abs(time.time() * 1000 - int(ts or 0)) > 3600 * 1000:
                reply, verdict = {"errcode": 310000, "errmsg": "sign not match"}, "bad-sign"
        if MODE == "sms":
            phone = urllib.parse.unquote(url.path.rsplit("/", 1)[-1])
            ts = self.headers.get("X-Time", "")
            want = hmac.new(SECRET.encode(), (ts + "\n" + phone).encode(), hashlib.sha256).hexdigest()
            if n <= FAIL_FIRST:
                status, reply, verdict = 503, {"code": 503, "msg": "busy"}, "refused-busy"
            elif self.headers.get("X-Sign") != want:
                status, reply, verdict = 401, {"code": 401, "msg": "bad signature"}, "bad-sign"
            else:
                reply = {"code": 0, "msg": "queued"}
        rec["verdict"] = verdict
        with lock, open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.answer(status, reply)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
