"""The API's rules that JSON Schema cannot state, taught to schemathesis's generator.

The document states every rule a single value must follow (lengths, patterns, enums, ranges).
A few rules relate two values, or a value and the server's state, and each is written in the
operation's description instead. Requests schemathesis generates as *valid* must follow those
too, or the API rightly refuses them and the run reports a valid request refused. This module
drops the generated valid requests that break one of them, and nothing else: requests generated
as *invalid* pass through untouched and must still be refused, and no response or check is
filtered.

Each rule names the domain code that enforces it.
"""

import gzip
import json
import os
import pathlib
import random
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone

import schemathesis
from schemathesis import GenerationMode

ROOT = pathlib.Path(__file__).resolve().parents[2]

# shared/domain/src/accounts/common_passwords.rs: the list a new password must not be on,
# compared in lower case.
with gzip.open(ROOT / "shared/domain/src/accounts/common-passwords.txt.gz", "rt") as listing:
    COMMON_PASSWORDS = {line.strip() for line in listing if line.strip()}


def cursor_is_issued(case):
    # shared/http/src/cursor.rs: a cursor is one the server issued for this list; any other
    # text is a 400, never a scan from elsewhere.
    return "cursor" not in (case.query or {})


def places_differ(case):
    # flights: a flight (and a search) goes from one airport to another.
    for values in (case.query or {}, case.body if isinstance(case.body, dict) else {}):
        if "from" in values and values.get("from") == values.get("to"):
            return False
    return True


def instant(value):
    """An RFC 3339 timestamp as an aware datetime, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def departs_in_the_future_before_arriving(case):
    # flights::NewFlight and its changes: departureTime is in the future and before arrivalTime.
    body = case.body if isinstance(case.body, dict) else {}
    departure, arrival = instant(body.get("departureTime")), instant(body.get("arrivalTime"))
    if departure is not None and departure <= datetime.now(timezone.utc):
        return False
    return departure is None or arrival is None or departure < arrival


def model_year_is_not_ahead(case):
    # cars::ModelYear: a car's year is at most next year, by the clock.
    body = case.body if isinstance(case.body, dict) else {}
    year = number(body.get("year"))
    return year is None or year <= datetime.now(timezone.utc).year + 1


def day(value):
    """A `YYYY-MM-DD` date, or None for anything else."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


# calendar::DayRange and its users: the longest range each route takes, in days.
LONGEST_RANGE = {"/v1/contracts": 90, "/v1/contracts/{id}": 90, "/v1/catalogue": 90,
                 "/v1/cars/{id}/availability": 180}


def days_in_range(case):
    # contracts::RentalPeriod, the catalogue and a car's availability: whole days, the first not
    # after the last, at most the route's longest range; a rental does not start in the past.
    path = case.operation.path
    if path not in LONGEST_RANGE:
        return True
    body = case.body if isinstance(case.body, dict) else {}
    query = case.query or {}
    first = day(body.get("startDate", query.get("from")))
    last = day(body.get("endDate", query.get("to")))
    if path == "/v1/contracts/{id}" and case.method.upper() == "PATCH" and (first is None) != (last is None):
        contract = held(f"/v1/contracts/{(case.path_parameters or {}).get('id')}")
        if contract is None:
            return True
        first = first or day(contract.get("startDate"))
        last = last or day(contract.get("endDate"))
    today = datetime.now(timezone.utc).date()
    if first is not None and path != "/v1/cars/{id}/availability" and first < today:
        return False
    if first is None or last is None:
        return True
    return first <= last and (last - first).days + 1 <= LONGEST_RANGE[path]


def ranges_in_order(case):
    # Range filters (Condition::within, the audit and activity windows): the lower bound is not
    # above the upper one.
    query = case.query or {}
    pairs = [("minCapacity", "maxCapacity", number), ("minPrice", "maxPrice", number),
             ("from", "to", instant)]
    for low, high, read in pairs:
        lower, upper = read(query.get(low)), read(query.get(high))
        if lower is not None and upper is not None and lower > upper:
            return False
    return True


def audit_names_one_selector(case):
    # GET /v1/audit: one entity's history (entityType with entityId) or one actor's activity.
    if case.operation.path != "/v1/audit":
        return True
    query = case.query or {}
    entity = "entityType" in query and "entityId" in query
    partial = ("entityType" in query) != ("entityId" in query)
    return not partial and entity != ("actor" in query)


def password_is_uncommon(case):
    # accounts::Password: not a common password, and not the account's email or username.
    body = case.body if isinstance(case.body, dict) else {}
    for field in ("password", "newPassword"):
        password = body.get(field)
        if not isinstance(password, str):
            continue
        lowered = password.lower()
        if lowered in COMMON_PASSWORDS:
            return False
        for other in ("email", "username"):
            if isinstance(body.get(other), str) and lowered == body[other].lower():
                return False
    return True


# What the server holds, read by the runner before the run (infra/schemathesis/run.py): a field
# that names another entity is valid only when that entity exists (flights::create answers a 400
# naming the field otherwise), and a random code or id almost never does.
KNOWN = {
    field: [value for value in os.environ.get(variable, "").split(",") if value]
    for field, variable in (
        ("from", "ITINERA_FUZZ_AIRPORTS"),
        ("to", "ITINERA_FUZZ_AIRPORTS"),
        ("airplaneId", "ITINERA_FUZZ_AIRPLANES"),
        ("userId", "ITINERA_FUZZ_USERS"),
        ("carId", "ITINERA_FUZZ_CARS"),
        ("customerId", "ITINERA_FUZZ_CUSTOMERS"),
    )
}


def held(path):
    """The `data` of a resource as the run's caller reads it, or None when it is not there."""
    request = urllib.request.Request(
        os.environ["ITINERA_FUZZ_BASE"] + path,
        headers={"authorization": "Bearer " + os.environ["ITINERA_FUZZ_TOKEN"]},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)["data"]
    except (urllib.error.URLError, ValueError, KeyError):
        return None


def pays_the_total(case):
    """bookings::pay: the amount is the booking's total; a payment of an existing booking of the
    caller's states it."""
    if case.operation.path == "/v1/bookings/{id}/payment" and isinstance(case.body, dict):
        booking = held(f"/v1/bookings/{(case.path_parameters or {}).get('id')}")
        if booking is not None:
            case.body["amount"] = booking["total"]
    return case


def keeps_the_schedule(case):
    """flights::update: a changed time keeps departure before arrival, with the time left
    unchanged read from the flight."""
    body = case.body if isinstance(case.body, dict) else {}
    if case.operation.path != "/v1/flights/{id}" or case.method.upper() != "PATCH":
        return True
    if ("departureTime" in body) == ("arrivalTime" in body):
        return True
    flight = held(f"/v1/flights/{(case.path_parameters or {}).get('id')}")
    if flight is None:
        return True
    departure = instant(body.get("departureTime", flight.get("departureTime")))
    arrival = instant(body.get("arrivalTime", flight.get("arrivalTime")))
    return departure is None or arrival is None or departure < arrival


def sends_a_new_key(case):
    """An Idempotency-Key is new for each new request; a reused one replays or is a 422."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    return case


def names_what_exists(case):
    """The case with each body field that names another entity set to one the server holds."""
    if isinstance(case.body, dict):
        chooser = random.Random(repr(sorted(case.body.items(), key=lambda item: item[0])))
        for field, known in KNOWN.items():
            if field in case.body and known:
                case.body[field] = chooser.choice(known)
        # Two airports of one flight differ (places_differ), as they did before the choice.
        airports = KNOWN["from"]
        if case.body.get("from") == case.body.get("to") and "from" in case.body and len(airports) > 1:
            case.body["to"] = chooser.choice([code for code in airports if code != case.body["from"]])
    return case


# The days of a range query and the longest range each route accepts:
# catalogue::CatalogueSearch (a rental's: from today on, at most 90 days) and
# catalogue::availability_range (at most 180 days, past days allowed).
DAY_RANGES = {"/v1/catalogue": (90, True), "/v1/cars/{id}/availability": (180, False)}


def day(value):
    """A `yyyy-mm-dd` date, or None for anything else."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def days_make_a_range(case):
    """The case with its `from` and `to` days made a range its route accepts: `to` within the
    longest range after `from`, and the catalogue's `from` not in the past."""
    limits = DAY_RANGES.get(case.operation.path)
    query = case.query if isinstance(case.query, dict) else {}
    first, last = day(query.get("from")), day(query.get("to"))
    if limits is None or first is None or last is None:
        return case
    longest, from_today = limits
    chooser = random.Random(repr(sorted(query.items(), key=lambda item: item[0])))
    today = datetime.now(timezone.utc).date()
    if from_today and first < today:
        first = today + timedelta(days=chooser.randrange(365))
    try:
        last = first + timedelta(days=chooser.randrange(longest))
    except OverflowError:
        last = first
    query["from"], query["to"] = first.isoformat(), last.isoformat()
    return case


RULES = (
    cursor_is_issued,
    places_differ,
    departs_in_the_future_before_arriving,
    keeps_the_schedule,
    model_year_is_not_ahead,
    days_in_range,
    ranges_in_order,
    audit_names_one_selector,
    password_is_uncommon,
)


def generated_as_valid(case):
    # The stateful phase's cases carry no generation metadata; that phase generates valid data.
    return case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE


@schemathesis.hook
def map_case(context, case):
    if not generated_as_valid(case):
        return case
    return days_make_a_range(pays_the_total(sends_a_new_key(names_what_exists(case))))


@schemathesis.hook
def filter_case(context, case):
    return not generated_as_valid(case) or all(rule(case) for rule in RULES)
