#!/usr/bin/env python3
"""Drives headless chromium over the DevTools protocol on --remote-debugging-pipe (fds 3 and 4,
NUL-terminated JSON; stdlib only) for the dashboard test's clicks, which --dump-dom cannot do.

usage: cdp_pipe.py CHROMIUM PROFILE_DIR SCRIPT_JSON
SCRIPT_JSON is a list of steps, run in order in one tab (one profile, so localStorage persists):
  {"open": URL}                              navigate
  {"wait": JS_EXPR, "timeout": S, "what": T}  poll until the expression is truthy
  {"eval": JS_EXPR}                          evaluate (e.g. a click); the result is printed
Prints one line per step; exits 1 naming the step that failed or timed out.
"""
import json
import os
import subprocess
import sys
import time


class Browser:
    def __init__(self, chromium, profile):
        import fcntl
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Move the child's ends above 3 and 4 so that the dup2s below cannot clobber each other.
        to_chrome_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
        from_chrome_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)

        def child_fds():  # chromium reads commands on fd 3 and writes answers on fd 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
             "--remote-debugging-pipe", "--user-data-dir=" + profile, "--no-first-run",
             "--disable-extensions", "--window-size=1440,2000", "about:blank"],
            pass_fds=(3, 4), preexec_fn=child_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        while True:  # skip events until our answer
            while b"\0" not in self.buf:
                chunk = os.read(self.from_chrome, 65536)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open_tab(self):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails'].get('text')} "
                               f"{r['exceptionDetails'].get('exception', {}).get('description', '')}")
        return r.get("result", {}).get("value")

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    chromium, profile, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    b = Browser(chromium, profile)
    i = -1
    try:
        b.open_tab()
        for i, step in enumerate(steps):
            if "open" in step:
                b.send("Page.navigate", {"url": step["open"]})
                print(f"step {i}: opened {step['open'].split('#')[0]}")
            elif "wait" in step:
                deadline = time.time() + step.get("timeout", 20)
                value = None
                while time.time() < deadline:
                    try:
                        value = b.eval(step["wait"])
                    except RuntimeError:
                        value = None  # page still loading
                    if value:
                        break
                    time.sleep(0.2)
                if not value:
                    print(f"step {i}: timed out waiting for {step.get('what', step['wait'])}", file=sys.stderr)
                    return 1
                print(f"step {i}: {step.get('what', 'condition')}: {value}")
            elif "eval" in step:
                print(f"step {i}: eval -> {b.eval(step['eval'])}")
        return 0
    except RuntimeError as e:
        print(f"step {i}: {e}", file=sys.stderr)
        return 1
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main())
