#!/usr/bin/env bash
# Load on the local API, loopback only and bounded in time: builds local-api in release, starts it
# on a free port over a fresh data directory, seeds one airplane, then runs wrk against
# GET /v1/airplanes/{id} and POST /v1/airplanes, and a booking rush: many customers searching for
# and booking the same flight, four searches to one booking, each booking with its own
# Idempotency-Key. A customer may hold one pending booking per flight, so the rush signs in as
# many customers as the flight has seats and spreads the bookings over them. Prints throughput and p50/p99 for each, and for the rush the seats sold, the
# bookings refused as sold out and the oversell count (seats sold beyond the flight's capacity,
# which must be 0). Then a rental rush: the same customers, each with a customer profile,
# reserving random ranges of days on a few cars (one reservation to three catalogue queries, each
# reservation with its own Idempotency-Key), with its throughput, p50/p99, and the overlap count
# (pairs of non-cancelled contracts of one car sharing a day, which must be 0). Last, a staff
# write mix: creates of airplanes, cars, flights and airports in turn, each with its own
# write shape (one item; unique-value claims; references read first; a natural key), every one
# expected to answer 201. Stops the server and removes the data directory on exit.
#
# Every POST commits a write transaction with fsync, so its figures measure the disk as much as
# the code; they are not comparable with the GETs.
#
# Environment:
#   DURATION           seconds of load per scenario (default 10, at most 120)
#   CONNECTIONS        wrk connections (default 16)
#   THREADS            wrk threads (default 2)
#   RUSH_SEATS         capacity of the airplane the rush books (default 300, at most 1000)
#   RENTAL_CARS        cars the rental rush reserves (default 5, at most 50)
#   LOG_LEVEL          the server's log level (default info: one JSON line per request, as deployed)
#   CARGO_TARGET_DIR   default target/bench-release
#   SKIP_BUILD=1       use the local-api already built in CARGO_TARGET_DIR
#   SERVER_LOG         keep the server's log at this path (it is removed with the data otherwise);
#                      with LOG_LEVEL=info,itinera_embedded=debug it ends with the store writer's
#                      batch counts and size histogram
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
RUSH_SEATS="${RUSH_SEATS:-300}"
RENTAL_CARS="${RENTAL_CARS:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/bench-release}"
RELEASE="$CARGO_TARGET_DIR/release"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/itinera-load.XXXXXX")"
SERVER_PID=""

fail() {
    printf '\nFAILED: %s\n' "$*" >&2
    exit 1
}

[[ "$DURATION" =~ ^[0-9]+$ ]] && ((DURATION >= 1 && DURATION <= 120)) \
    || fail "DURATION must be 1 to 120 seconds"
[[ "$CONNECTIONS" =~ ^[0-9]+$ ]] && ((CONNECTIONS >= 1 && CONNECTIONS <= 1000)) \
    || fail "CONNECTIONS must be 1 to 1000"
[[ "$THREADS" =~ ^[0-9]+$ ]] && ((THREADS >= 1 && THREADS <= CONNECTIONS)) \
    || fail "THREADS must be 1 to CONNECTIONS"
[[ "$RUSH_SEATS" =~ ^[0-9]+$ ]] && ((RUSH_SEATS >= 1 && RUSH_SEATS <= 1000)) \
    || fail "RUSH_SEATS must be 1 to 1000"
[[ "$RENTAL_CARS" =~ ^[0-9]+$ ]] && ((RENTAL_CARS >= 1 && RENTAL_CARS <= 50)) \
    || fail "RENTAL_CARS must be 1 to 50"

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        # SIGTERM starts the server's graceful shutdown; insist after two seconds.
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "${SERVER_LOG:-}" && -f "$WORK/server.log" ]]; then
        cp "$WORK/server.log" "$SERVER_LOG" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }

if ! command -v wrk >/dev/null; then
    step "Installing wrk"
    command -v apt-get >/dev/null || fail "wrk is missing and apt-get is not available; install wrk"
    sudo=""
    ((EUID == 0)) || sudo="sudo"
    $sudo apt-get install -y -qq wrk || { $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk; } \
        || fail "could not install wrk"
fi
command -v curl >/dev/null || fail "curl not found"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    step "Building local-api (release) into $CARGO_TARGET_DIR"
    cargo build --release -p local-api
fi
[[ -x "$RELEASE/local-api" ]] || fail "$RELEASE/local-api is missing"

step "Starting local-api"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
# Limits far above what the run can send: the figures measure serving, with every request still
# counted in the rate-limit tiers as it would be normally.
ADMIN_EMAIL="load@example.com"
ADMIN_PASSWORD="load test passphrase $(date +%s)"
PORT="$PORT" DATA_DIR="$WORK/data" LOG_LEVEL="${LOG_LEVEL:-info}" \
    CURSOR_SIGNING_KEY="load-test-signing-key-0123456789abcdef" \
    RATE_MAX=2000000000 RATE_WRITE_MAX=2000000000 \
    RATE_AUTH_MAX=2000000000 RATE_AUTH_ACCOUNT_MAX=2000000000 \
    BOOTSTRAP_ADMIN_EMAIL="$ADMIN_EMAIL" BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$RELEASE/local-api" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for attempt in $(seq 1 100); do
    curl -fs -o /dev/null "$BASE/v1/health" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$WORK/server.log" >&2; SERVER_PID=""; fail "local-api exited"; }
    ((attempt < 100)) || fail "local-api did not answer within 10 s"
    sleep 0.1
done
echo "local-api on $BASE (pid $SERVER_PID, data in $WORK/data)"

step "Signing in as the bootstrap admin"
TOKEN="$(curl -fsS "$BASE/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$ADMIN_EMAIL\", \"password\": \"$ADMIN_PASSWORD\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["accessToken"])')" \
    || fail "could not sign in"
AUTH="Authorization: Bearer $TOKEN"

step "Seeding an airplane"
created="$(curl -fsS -X POST "$BASE/v1/airplanes" -H "$AUTH" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' \
    -d '{"modelNumber":"A320neo","capacity":180}')" || fail "POST /v1/airplanes failed"
ID="$(printf '%s' "$created" | python3 -c '
import json, sys
def find(value):
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            return value["id"]
        for inner in value.values():
            found = find(inner)
            if found:
                return found
    return None
print(find(json.load(sys.stdin)) or "")')"
[[ -n "$ID" ]] || fail "no id in the create response: $created"
curl -fsS -o /dev/null -H "$AUTH" "$BASE/v1/airplanes/$ID" || fail "GET /v1/airplanes/$ID failed"
echo "airplane $ID"

cat >"$WORK/post.lua" <<LUA
-- Creates airplanes; the server assigns the ids, so every request writes a new item. Failed
-- requests show up in wrk's "Non-2xx or 3xx responses" line and in the summary.
wrk.method = "POST"
wrk.body = '{"modelNumber":"A320neo","capacity":180}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

summary() {
    # wrk --latency prints the percentile table and Requests/sec; pick the figures out of it.
    awk -v name="$1" '
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        /Requests\/sec/ { rps = $2 }
        /Non-2xx or 3xx responses/ { bad = $NF }
        END { printf "%-22s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n", name, rps, p50, p99, (bad == "" ? 0 : bad) }
    ' "$2"
}

WRK=(wrk --threads "$THREADS" --connections "$CONNECTIONS" --duration "${DURATION}s" --timeout 5s --latency)

step "GET /v1/airplanes/{id}: ${DURATION}s, $CONNECTIONS connections, $THREADS threads"
"${WRK[@]}" -H 'Accept: application/json' -H "$AUTH" "$BASE/v1/airplanes/$ID" | tee "$WORK/get.txt"

step "POST /v1/airplanes: ${DURATION}s, $CONNECTIONS connections, $THREADS threads"
"${WRK[@]}" --script "$WORK/post.lua" "$BASE/v1/airplanes" | tee "$WORK/post.txt"

step "Seeding the rush: two airports and a flight of $RUSH_SEATS seats"
json_field() {
    python3 -c 'import json, sys; value = json.load(sys.stdin)
for name in sys.argv[1].split("."): value = value[name]
print(value)' "$1"
}
post_json() {
    curl -fsS -X POST "$BASE$1" -H "$AUTH" -H 'Content-Type: application/json' -d "$2"
}
post_json /v1/airports '{"code":"DEL","name":"Indira Gandhi International","city":"Delhi","country":"IN","timeZone":"Asia/Kolkata"}' >/dev/null \
    || fail "POST /v1/airports DEL failed"
post_json /v1/airports '{"code":"BOM","name":"Chhatrapati Shivaji Maharaj International","city":"Mumbai","country":"IN","timeZone":"Asia/Kolkata"}' >/dev/null \
    || fail "POST /v1/airports BOM failed"
RUSH_PLANE="$(post_json /v1/airplanes "{\"modelNumber\":\"A321neo\",\"capacity\":$RUSH_SEATS}" | json_field data.id)" \
    || fail "POST /v1/airplanes for the rush failed"
# Two days ahead, at 06:30 in Delhi: the search date is the local date at the origin.
read -r DEPARTURE ARRIVAL DAY < <(python3 -c '
from datetime import datetime, timedelta, timezone
ist = timezone(timedelta(hours=5, minutes=30))
departure = (datetime.now(ist) + timedelta(days=2)).replace(hour=6, minute=30, second=0, microsecond=0)
arrival = departure + timedelta(hours=2, minutes=10)
print(departure.isoformat(), arrival.isoformat(), departure.date().isoformat())')
FLIGHT="$(post_json /v1/flights "{\"flightNumber\":\"AI101\",\"airplaneId\":\"$RUSH_PLANE\",\"from\":\"DEL\",\"to\":\"BOM\",\"departureTime\":\"$DEPARTURE\",\"arrivalTime\":\"$ARRIVAL\",\"price\":{\"amount\":545000,\"currency\":\"INR\"}}" | json_field data.id)" \
    || fail "POST /v1/flights failed"
echo "flight $FLIGHT, $RUSH_SEATS seats, departing $DEPARTURE"

step "Registering $RUSH_SEATS customers for the rush"
# One Lua string per customer's access token, comma-separated, for the rush script's table.
CUSTOMER_TOKENS="$(python3 - "$BASE" "$RUSH_SEATS" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
base, count = sys.argv[1], int(sys.argv[2])
def post(path, body):
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    return json.load(urllib.request.urlopen(request))
def customer(number):
    email, password = f"rush{number}@example.com", f"rush customer passphrase {number}"
    post("/v1/auth/register", {"email": email, "username": f"rush{number}", "password": password, "name": f"Rush {number}"})
    return post("/v1/auth/login", {"email": email, "password": password})["data"]["accessToken"]
with ThreadPoolExecutor(max_workers=4) as pool:
    tokens = list(pool.map(customer, range(count)))
print(",".join(f'"{token}"' for token in tokens))
PY
)" || fail "registering the rush's customers failed"

# The Lua both rushes share: numbers wrk's threads, counts each thread's answers by status (201
# written, 409 refused, 200 read, anything else other, keeping the first other answer to print),
# and adds the threads' counts up for done().
THREAD_COUNTS='
local threads = {}
local next_thread = 0

function setup(thread)
    next_thread = next_thread + 1
    thread:set("number", next_thread)
    table.insert(threads, thread)
end

written, refused, read, other = 0, 0, 0, 0

function response(status, headers, body)
    if status == 201 then
        written = written + 1
    elseif status == 409 then
        refused = refused + 1
    elseif status == 200 then
        read = read + 1
    else
        other = other + 1
        if other == 1 then
            first_other = status .. " " .. string.sub(body, 1, 300)
        end
    end
end

function totals()
    local sums = { written = 0, refused = 0, read = 0, other = 0 }
    local first = nil
    for _, thread in ipairs(threads) do
        for name, _ in pairs(sums) do
            sums[name] = sums[name] + (thread:get(name) or 0)
        end
        first = first or thread:get("first_other")
    end
    if first then
        io.write("first other answer: " .. first .. "\n")
    end
    return sums
end
'

cat >"$WORK/rush.lua" <<LUA
-- Four searches for the flight's route and day, then one booking of one seat by a customer drawn
-- at random, in turn. Every booking carries a fresh Idempotency-Key (thread number and counter),
-- so no two are replays. A 409 is a flight sold out or a customer already holding a booking on
-- it. Counts the answers by kind per thread; done() adds them up.
$THREAD_COUNTS

function init(args)
    sent = 0
    search_path = "/v1/flights?from=DEL&to=BOM&date=$DAY"
    book_body = '{"flightId":"$FLIGHT","seats":1}'
    tokens = { $CUSTOMER_TOKENS }
    math.randomseed(number)
end

function request()
    sent = sent + 1
    if sent % 5 == 0 then
        local headers = {
            ["Content-Type"] = "application/json",
            ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
            ["Idempotency-Key"] = "rush-" .. number .. "-" .. sent,
        }
        return wrk.format("POST", "/v1/bookings", headers, book_body)
    end
    return wrk.format("GET", search_path, { ["Accept"] = "application/json" })
end

-- Only bookings answer 201 or 409 and only searches 200, so the status tells the kind even
-- though answers of the thread's several connections arrive interleaved.
function done(summary, latency, requests)
    local sums = totals()
    io.write(string.format("rush answers: %d bookings created, %d refused (sold out or already held), %d searches, %d other\n",
        sums.written, sums.refused, sums.read, sums.other))
end
LUA

step "Booking rush on one flight: ${DURATION}s, $CONNECTIONS connections, $THREADS threads"
"${WRK[@]}" --script "$WORK/rush.lua" "$BASE/v1/flights" | tee "$WORK/rush.txt"

step "Checking the flight's inventory after the rush"
REMAINING="$(curl -fsS "$BASE/v1/flights/$FLIGHT" | json_field data.remainingSeats)" \
    || fail "GET /v1/flights/$FLIGHT failed"
SOLD="$(python3 - "$BASE" "$FLIGHT" "$TOKEN" <<'PY'
import json, sys, urllib.parse, urllib.request
base, flight, token = sys.argv[1:]
seats, cursor = 0, None
while True:
    query = {"flightId": flight, "limit": "100"}
    if cursor:
        query["cursor"] = cursor
    request = urllib.request.Request(
        f"{base}/v1/bookings?{urllib.parse.urlencode(query)}",
        headers={"Authorization": f"Bearer {token}"},
    )
    page = json.load(urllib.request.urlopen(request))
    seats += sum(b["seats"] for b in page["data"] if b["status"] in ("pending", "confirmed"))
    cursor = page["pagination"]["nextCursor"]
    if not cursor:
        break
print(seats)
PY
)" || fail "listing the flight's bookings failed"
OVERSOLD=$((SOLD > RUSH_SEATS ? SOLD - RUSH_SEATS : 0))
echo "capacity $RUSH_SEATS, seats held by bookings $SOLD, remainingSeats $REMAINING, oversold $OVERSOLD"
((SOLD + REMAINING == RUSH_SEATS)) \
    || fail "inventory does not add up: $SOLD held + $REMAINING remaining != $RUSH_SEATS"
((OVERSOLD == 0)) || fail "oversold $OVERSOLD seats"

step "Seeding the rental rush: $RENTAL_CARS cars, a customer profile for each rush customer"
CARS="$(python3 - "$BASE" "$TOKEN" "$RENTAL_CARS" "$CUSTOMER_TOKENS" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
base, staff, count, tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def post(path, token, body):
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    return json.load(urllib.request.urlopen(request))
cars = []
for number in range(count):
    car = post("/v1/cars", staff, {
        "licensePlate": f"RUSH{number:03d}", "vin": f"1HGCM82633A{number:06d}",
        "manufacturer": "Skoda", "model": "Octavia", "year": 2024, "category": "compact",
        "dailyRate": {"amount": 4900, "currency": "EUR"}, "mileage": 1000,
    })
    cars.append(car["data"]["id"])
def profile(token):
    post("/v1/customers/me", token, {"phone": "+44 20 7946 0958", "licenceNumber": "RUSH-LICENCE",
                                     "licenceExpiry": "2035-12-31"})
with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(profile, [token.strip('"') for token in tokens.split(",")]))
print(",".join(f'"{car}"' for car in cars))
PY
)" || fail "seeding the rental rush failed"
# The days a reservation may start on: tomorrow and the 59 days after it.
RENTAL_DAYS="$(python3 -c '
from datetime import date, timedelta
print(",".join(f"\"{date.today() + timedelta(days=n)}\"" for n in range(1, 67)))')"

cat >"$WORK/rental.lua" <<LUA
-- Three catalogue queries for a random week, then one reservation of a random car for 1 to 7
-- days from a random start by a random customer, in turn; each reservation has a fresh
-- Idempotency-Key. A 409 is a range that overlaps a contract of that car.
$THREAD_COUNTS

function init(args)
    sent = 0
    tokens = { $CUSTOMER_TOKENS }
    cars = { $CARS }
    days = { $RENTAL_DAYS }
    math.randomseed(1000 + number)
end

function request()
    sent = sent + 1
    local start = math.random(60)
    local stop = start + math.random(7) - 1
    if sent % 4 == 0 then
        local headers = {
            ["Content-Type"] = "application/json",
            ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
            ["Idempotency-Key"] = "rental-" .. number .. "-" .. sent,
        }
        local body = string.format('{"carId":"%s","startDate":"%s","endDate":"%s"}',
            cars[math.random(#cars)], days[start], days[stop])
        return wrk.format("POST", "/v1/contracts", headers, body)
    end
    local path = string.format("/v1/catalogue?from=%s&to=%s", days[start], days[stop])
    return wrk.format("GET", path, { ["Accept"] = "application/json" })
end

function done(summary, latency, requests)
    local sums = totals()
    io.write(string.format("rental answers: %d contracts reserved, %d refused (days taken), %d catalogue queries, %d other\n",
        sums.written, sums.refused, sums.read, sums.other))
end
LUA

step "Rental rush on $RENTAL_CARS cars: ${DURATION}s, $CONNECTIONS connections, $THREADS threads"
"${WRK[@]}" --script "$WORK/rental.lua" "$BASE/v1/catalogue" | tee "$WORK/rental.txt"

step "Checking the cars' contracts after the rush"
OVERLAPS="$(python3 - "$BASE" "$TOKEN" "$CARS" <<'PY'
import json, sys, urllib.parse, urllib.request
from datetime import date
base, token, cars = sys.argv[1], sys.argv[2], [car.strip('"') for car in sys.argv[3].split(",")]
overlaps = contracts = 0
for car in cars:
    ranges, cursor = [], None
    while True:
        query = {"carId": car, "limit": "100"}
        if cursor:
            query["cursor"] = cursor
        request = urllib.request.Request(
            f"{base}/v1/contracts?{urllib.parse.urlencode(query)}",
            headers={"Authorization": f"Bearer {token}"},
        )
        page = json.load(urllib.request.urlopen(request))
        ranges += [(date.fromisoformat(c["startDate"]), date.fromisoformat(c["endDate"]))
                   for c in page["data"] if c["status"] != "cancelled"]
        cursor = page["pagination"]["nextCursor"]
        if not cursor:
            break
    contracts += len(ranges)
    ranges.sort()
    overlaps += sum(1 for (_, end), (start, _) in zip(ranges, ranges[1:]) if start <= end)
print(contracts, overlaps)
PY
)" || fail "listing the cars' contracts failed"
read -r CONTRACTS OVERLAPPING <<<"$OVERLAPS"
echo "contracts held on $RENTAL_CARS cars: $CONTRACTS, overlapping pairs: $OVERLAPPING"
((OVERLAPPING == 0)) || fail "$OVERLAPPING pairs of contracts share a day"

# Ten days ahead, so the mix's flights stay out of the rush's search.
read -r MIX_DEPARTURE MIX_ARRIVAL < <(python3 -c '
from datetime import datetime, timedelta, timezone
ist = timezone(timedelta(hours=5, minutes=30))
departure = (datetime.now(ist) + timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
print(departure.isoformat(), (departure + timedelta(hours=2)).isoformat())')

cat >"$WORK/mix.lua" <<LUA
-- Staff creating entities, eight requests a cycle: airplane, car, flight, airplane, car,
-- flight, airport, car. Every value that must be unique (plate, VIN, airport code) comes from the
-- thread's number and its request counter, so every request should answer 201.
$THREAD_COUNTS

function init(args)
    sent = 0
    math.randomseed(2000 + number)
end

local letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

local function airport_code(index)
    local code = ""
    for _ = 1, 3 do
        local digit = index % 26
        code = string.sub(letters, digit + 1, digit + 1) .. code
        index = math.floor(index / 26)
    end
    return code
end

function request()
    sent = sent + 1
    local unique = sent * $THREADS + number
    local headers = {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer $TOKEN",
    }
    local turn = sent % 8
    if turn == 1 or turn == 4 then
        return wrk.format("POST", "/v1/airplanes", headers, '{"modelNumber":"A320neo","capacity":180}')
    elseif turn == 3 or turn == 6 then
        -- A flight number is unique per day: 9,000 numbers for each of 676 designators.
        local designator = string.sub(airport_code(math.floor(unique / 9000)), 2, 3)
        local body = string.format('{"flightNumber":"%s%d","airplaneId":"$RUSH_PLANE","from":"DEL","to":"BOM","departureTime":"$MIX_DEPARTURE","arrivalTime":"$MIX_ARRIVAL","price":{"amount":545000,"currency":"INR"}}',
            designator, 1000 + unique % 9000)
        return wrk.format("POST", "/v1/flights", headers, body)
    elseif turn == 7 then
        -- Codes after "BOM" and "DEL" in a walk that skips neither: index 0 is "AAA".
        local code = airport_code(unique % 17576)
        if code == "DEL" or code == "BOM" then
            code = "ZZZ"
        end
        local body = string.format('{"code":"%s","name":"Airport %s","city":"City","country":"IN","timeZone":"Asia/Kolkata"}', code, code)
        return wrk.format("POST", "/v1/airports", headers, body)
    end
    local body = string.format('{"licensePlate":"W%07d","vin":"1HGCM82633B%06d","manufacturer":"Skoda","model":"Octavia","year":2024,"category":"compact","dailyRate":{"amount":4900,"currency":"EUR"},"mileage":1000}',
        unique, unique % 1000000)
    return wrk.format("POST", "/v1/cars", headers, body)
end

function done(summary, latency, requests)
    local sums = totals()
    io.write(string.format("mix answers: %d created, %d refused (409), %d other\n",
        sums.written, sums.refused, sums.other + sums.read))
end
LUA

step "Staff write mix (airplanes, cars, flights, airports): ${DURATION}s, $CONNECTIONS connections, $THREADS threads"
"${WRK[@]}" --script "$WORK/mix.lua" "$BASE/v1/airplanes" | tee "$WORK/mix.txt"

step "Summary (loopback, $(nproc) cores shared with wrk)"
summary "GET airplane by id" "$WORK/get.txt"
summary "POST airplane" "$WORK/post.txt"
summary "rush: search + book" "$WORK/rush.txt"
grep '^rush answers' "$WORK/rush.txt"
echo "rush inventory: capacity $RUSH_SEATS, held $SOLD, remaining $REMAINING, oversold $OVERSOLD"
summary "rental: browse + reserve" "$WORK/rental.txt"
grep '^rental answers' "$WORK/rental.txt"
echo "rental contracts: $CONTRACTS on $RENTAL_CARS cars, overlapping pairs $OVERLAPPING"
summary "staff write mix" "$WORK/mix.txt"
grep '^mix answers' "$WORK/mix.txt"
