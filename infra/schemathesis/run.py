#!/usr/bin/env python3
"""schemathesis against the running local API: starts it with the demo data on a fresh data
directory, signs in as the demo customer, the demo staff member and a first admin, and runs
every check of schemathesis against /openapi.json once for each (schemathesis.toml next to this
file; hooks.py teaches the generator the rules JSON Schema cannot state), bounded in examples
per operation and in time. Fails on any server error, schema violation or other failed check;
the JUnit reports stay in REPORT_DIR.

Usage: run.py LOCAL_API_BINARY SCHEMATHESIS_BINARY REPORT_DIR
Environment: ITINERA_FUZZ_EXAMPLES (default 30) examples per operation and phase,
             ITINERA_FUZZ_SECONDS (default 180) the time budget of each role's run;
             an empty value means the default (the CI workflow sets them only at night).
"""

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def start_api(binary, data_dir, admin):
    env = dict(os.environ, PORT="0", DATA_DIR=data_dir, LOG_LEVEL="error", ITINERA_DEMO="1",
               BOOTSTRAP_ADMIN_EMAIL=admin[0], BOOTSTRAP_ADMIN_PASSWORD=admin[1])
    # Generated requests come from one address far faster than any client: the limiter would
    # answer most of them 429, which tests the limiter and nothing else.
    env.update(RATE_MAX="1000000", RATE_WRITE_MAX="1000000", RATE_AUTH_MAX="1000000",
               RATE_AUTH_ACCOUNT_MAX="1000000")
    process = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    base, accounts = None, {}
    deadline = time.time() + 120
    while time.time() < deadline and (base is None or len(accounts) < 2):
        line = process.stdout.readline()
        if not line:
            break
        listening = re.search(r"listening on (http://[0-9.:]+)", line)
        if listening:
            base = listening.group(1)
        account = re.match(r"\s+(staff|customer)\s+(\S+)\s+password: (\S+)", line)
        if account:
            accounts[account.group(1)] = (account.group(2), account.group(3))
    if base is None or len(accounts) < 2:
        process.kill()
        fail("the local API did not start with its demo accounts")
    return process, base, accounts


def sign_in(base, email, password):
    request = urllib.request.Request(
        f"{base}/v1/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["data"]["accessToken"]


def read_all(base, path, token, field):
    """`field` of every item of a list route, following its cursors."""
    values, cursor = [], None
    while True:
        url = f"{base}{path}?limit=100" + (f"&cursor={cursor}" if cursor else "")
        request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            page = json.load(answer)
        values.extend(item[field] for item in page["data"])
        cursor = page["pagination"]["nextCursor"]
        if not cursor:
            return values


def main():
    if len(sys.argv) != 4:
        fail(__doc__)
    binary, schemathesis, reports = sys.argv[1:]
    examples = os.environ.get("ITINERA_FUZZ_EXAMPLES") or "30"
    seconds = os.environ.get("ITINERA_FUZZ_SECONDS") or "180"
    os.makedirs(reports, exist_ok=True)
    failed = []
    with tempfile.TemporaryDirectory() as work:
        # The demo has a customer and a staff member; the admin is the server's first admin.
        admin = ("fuzz-admin@demo.itinera.test", secrets.token_urlsafe(24))
        process, base, accounts = start_api(binary, os.path.join(work, "data"), admin)
        accounts["admin"] = admin
        try:
            staff = sign_in(base, *accounts["staff"])
            admin_token = sign_in(base, *accounts["admin"])
            # What valid references name (infra/schemathesis/hooks.py): the demo's airports, fleet,
            # accounts, cars and customers.
            known = {
                "ITINERA_FUZZ_AIRPORTS": ",".join(read_all(base, "/v1/airports", staff, "code")),
                "ITINERA_FUZZ_AIRPLANES": ",".join(read_all(base, "/v1/airplanes", staff, "id")),
                "ITINERA_FUZZ_USERS": ",".join(read_all(base, "/v1/users", admin_token, "id")),
                "ITINERA_FUZZ_CARS": ",".join(read_all(base, "/v1/cars", staff, "id")),
                "ITINERA_FUZZ_CUSTOMERS": ",".join(read_all(base, "/v1/customers", staff, "id")),
            }
            # The admin last: it may change the other accounts.
            for role in ("customer", "staff", "admin"):
                token = sign_in(base, *accounts[role])
                run = subprocess.run(
                    [schemathesis, "--config-file", os.path.join(HERE, "schemathesis.toml"),
                     "run", f"{base}/openapi.json", "--checks", "all",
                     "--header", f"Authorization: Bearer {token}",
                     "--max-examples", examples, "--max-time", seconds,
                     "--workers", "1", "--seed", "1", "--no-color",
                     "--report", "junit", "--report-dir", os.path.join(reports, role)],
                    timeout=int(seconds) * 3,
                    env=dict(os.environ, PYTHONPATH=HERE, SCHEMATHESIS_HOOKS="hooks",
                             ITINERA_FUZZ_BASE=base, ITINERA_FUZZ_TOKEN=token,
                             ITINERA_FUZZ_ROLE=role, **known),
                )
                if run.returncode != 0:
                    failed.append(role)
        finally:
            process.terminate()
            process.wait(timeout=20)
    if failed:
        fail("schemathesis found problems as " + " and ".join(failed) + f" (reports in {reports})")
    print("schemathesis: no failures as customer, staff or admin")


if __name__ == "__main__":
    main()
