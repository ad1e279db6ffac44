#!/usr/bin/env bash
# Smoke test of a running Itinera API: health, a fresh customer registers and signs in, reads
# their own profile through the authorizer, searches flights and queries the car catalogue.
# Every step checks the status and the shape of the answer; the first that fails stops the run
# with what was asked and what came back, and the exit status is 1.
#
#   infra/deploy/smoke.sh BASE_URL        e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/staging
#
# The deploy workflow runs it against each stage after `sam deploy` (a failure there rolls the
# stage back, docs/deploy.md); the test command runs it against the local API, so the script is
# proven on every change. It creates one customer account per run: its email is a label on the
# SES mailbox simulator's success address (SMOKE_EMAIL_DOMAIN overrides the domain), so any
# email the stage sends it is accepted and goes nowhere.
#
# Needs curl and python3.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 BASE_URL" >&2
    exit 2
fi
BASE="${1%/}"
EMAIL_DOMAIN="${SMOKE_EMAIL_DOMAIN:-simulator.amazonses.com}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

fail() {
    printf 'SMOKE TEST FAILED at %s: %s\n' "$STEP" "$*" >&2
    if [[ -s "$WORK/body" ]]; then
        echo "--- answer body" >&2
        head -c 2000 "$WORK/body" >&2
        echo >&2
    fi
    exit 1
}

# call EXPECTED_STATUS METHOD PATH [JSON_BODY] [TOKEN]: the answer body lands in $WORK/body.
call() {
    local expected="$1" method="$2" path="$3" body="${4:-}" token="${5:-}"
    local args=(--silent --show-error --max-time 30 --request "$method" --output "$WORK/body"
        --write-out '%{http_code}' --header 'accept: application/json')
    [[ -n "$body" ]] && args+=(--header 'content-type: application/json' --data "$body")
    [[ -n "$token" ]] && args+=(--header "authorization: Bearer $token")
    : >"$WORK/body"
    local status
    status="$(curl "${args[@]}" "$BASE$path")" || fail "$method $path: no answer (curl failed)"
    [[ "$status" == "$expected" ]] || fail "$method $path answered $status, expected $expected"
}

# json EXPRESSION: evaluates a Python expression over the last answer (`d`); a false or failing
# check fails the step; otherwise prints the value.
json() {
    python3 - "$WORK/body" "$1" <<'PY' || fail "the answer does not satisfy: $1"
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
value = eval(sys.argv[2], {}, {"d": d})
if value is None or value is False:
    sys.exit(1)
if value is not True:
    print(value)
PY
}

STEP="health"
call 200 GET /v1/health
json 'd["data"]["status"] == "ok"' >/dev/null
echo "ok  health"

STEP="register"
ID="$(date -u +%Y%m%d%H%M%S)-$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
EMAIL="success+itinera-smoke-$ID@$EMAIL_DOMAIN"
USERNAME="smoke-$ID"
PASSWORD="smoke $(python3 -c 'import secrets; print(secrets.token_urlsafe(18))') passphrase"
credentials() {
    python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"
}
call 201 POST /v1/auth/register \
    "$(credentials email "$EMAIL" username "$USERNAME" password "$PASSWORD" name "Smoke Test $ID")"
json 'd["data"]["email"] == "'"$EMAIL"'"' >/dev/null
echo "ok  register $EMAIL"

STEP="login"
call 200 POST /v1/auth/login "$(credentials email "$EMAIL" password "$PASSWORD")"
TOKEN="$(json 'd["data"]["accessToken"]')"
[[ -n "$TOKEN" ]] || fail "no access token"
call 200 GET /v1/users/me "" "$TOKEN"
json 'd["data"]["email"] == "'"$EMAIL"'" and d["data"]["role"] == "customer"' >/dev/null
echo "ok  login (and GET /v1/users/me through the authorizer)"

STEP="flight search"
DATE="$(date -u -d '+7 days' +%F)"
call 200 GET "/v1/flights?from=DEL&to=BOM&date=$DATE"
FLIGHTS="$(json 'isinstance(d["data"], list) and str(len(d["data"]))')"
echo "ok  flight search DEL-BOM $DATE ($FLIGHTS flights)"

STEP="catalogue query"
FROM="$(date -u -d '+3 days' +%F)"
TO="$(date -u -d '+5 days' +%F)"
call 200 GET "/v1/catalogue?from=$FROM&to=$TO&limit=5"
CARS="$(json 'isinstance(d["data"], list) and str(len(d["data"]))')"
echo "ok  catalogue $FROM to $TO ($CARS cars)"

echo "smoke test passed against $BASE"
