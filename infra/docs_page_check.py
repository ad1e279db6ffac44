#!/usr/bin/env python3
"""The API reference page in a real browser: starts the local API on a fresh data directory,
renders http://127.0.0.1:<port>/docs in headless Chromium with the network otherwise closed, and
fails unless every operation of /openapi.json appears on the rendered page and the page ran
without a Content-Security-Policy violation. Leaves a screenshot for the CI artifacts.

Usage: docs_page_check.py LOCAL_API_BINARY SCREENSHOT_PATH
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Milliseconds of page time Chromium grants the page's scripts before it dumps the DOM.
RENDER_BUDGET_MS = "15000"
METHODS = ("get", "post", "put", "patch", "delete", "options", "head")


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    fail("chromium is not installed (infra/test.sh installs Debian's chromium package)")


def start_api(binary, data_dir):
    env = dict(os.environ, PORT="0", DATA_DIR=data_dir, LOG_LEVEL="warn")
    process = subprocess.Popen(
        [binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"listening on (http://[0-9.:]+)", line)
        if match:
            return process, match.group(1)
    process.kill()
    fail("the local API did not start")


def operations_of(spec):
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def rendered_operations(dom):
    found = set()
    for block in re.finditer(r'<div class="opblock opblock-(\w+)[^"]*".*?data-path="([^"]+)"', dom, re.S):
        found.add((block.group(1).upper(), block.group(2)))
    return found


def main():
    if len(sys.argv) != 3:
        fail(__doc__)
    binary, screenshot = sys.argv[1], sys.argv[2]
    browser = chromium()
    with tempfile.TemporaryDirectory() as work:
        process, base = start_api(binary, os.path.join(work, "data"))
        try:
            with urllib.request.urlopen(f"{base}/openapi.json", timeout=10) as answer:
                expected = operations_of(json.load(answer))
            render = subprocess.run(
                [browser, *CHROMIUM_FLAGS, f"--user-data-dir={work}/profile",
                 "--enable-logging=stderr", "--v=0",
                 f"--virtual-time-budget={RENDER_BUDGET_MS}", "--dump-dom", f"{base}/docs"],
                capture_output=True, text=True, timeout=120,
            )
            violations = [line for line in render.stderr.splitlines() if "Content Security Policy" in line]
            subprocess.run(
                [browser, *CHROMIUM_FLAGS, f"--user-data-dir={work}/profile-shot",
                 f"--virtual-time-budget={RENDER_BUDGET_MS}", "--window-size=1280,6000",
                 f"--screenshot={screenshot}", f"{base}/docs"],
                capture_output=True, timeout=120,
            )
        finally:
            process.terminate()
            process.wait(timeout=20)
    shown = rendered_operations(render.stdout)
    missing = sorted(expected - shown)
    print(f"docs page: {len(shown & expected)} of {len(expected)} operations rendered; screenshot {screenshot}")
    if violations:
        fail("the page broke its Content-Security-Policy:\n" + "\n".join(violations))
    if missing:
        fail("operations of /openapi.json missing from the rendered page: "
             + ", ".join(f"{method} {path}" for method, path in missing))


if __name__ == "__main__":
    main()
