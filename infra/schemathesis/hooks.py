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


def max_amount():
    """money::MAX_AMOUNT, as the document states it on every amount."""
    return DOCUMENT["components"]["schemas"]["Money"]["properties"]["amount"]["maximum"]


def booking_total_is_representable(case):
    # bookings::create: the flight's fare times the seats is at most the largest amount.
    body = case.body if isinstance(case.body, dict) else {}
    if case.operation.path != "/v1/bookings" or case.method.upper() != "POST":
        return True
    seats = number(body.get("seats"))
    flight = held(f"/v1/flights/{body.get('flightId')}") if seats is not None else None
    if flight is None:
        return True
    return flight["price"]["amount"] * seats <= max_amount()


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
# contracts::RentalPeriod: a reservation's or a date change's days (startDate, endDate in the body).
DAY_RANGES = {
    "/v1/catalogue": (90, True),
    "/v1/cars/{id}/availability": (180, False),
    "/v1/contracts": (90, True),
}


def day(value):
    """A `yyyy-mm-dd` date, or None for anything else."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def days_make_a_range(case):
    """The case with its first and last days (`from` and `to` in a query, `startDate` and
    `endDate` in a contract's body) made a range its route accepts: the last within the longest
    range after the first, and a rental's first day not in the past."""
    limits = DAY_RANGES.get(case.operation.path)
    if case.operation.path.startswith("/v1/contracts"):
        values, names = (case.body if isinstance(case.body, dict) else {}), ("startDate", "endDate")
    else:
        values, names = (case.query if isinstance(case.query, dict) else {}), ("from", "to")
    first, last = day(values.get(names[0])), day(values.get(names[1]))
    if limits is None or first is None or last is None:
        return case
    longest, from_today = limits
    chooser = random.Random(repr(sorted(values.items(), key=lambda item: item[0])))
    today = datetime.now(timezone.utc).date()
    if from_today and first < today:
        first = today + timedelta(days=chooser.randrange(365))
    try:
        last = first + timedelta(days=chooser.randrange(longest))
    except OverflowError:
        last = first
    values[names[0]], values[names[1]] = first.isoformat(), last.isoformat()
    return case


def reschedules_within_reach(case):
    """contracts::reschedule: a date change keeps a rental period (not in the past, at most 90
    days) and moves at most 97 days at once; the case's new dates are made a few days' move of
    the contract's own, read as the caller."""
    if case.operation.path != "/v1/contracts/{id}" or not isinstance(case.body, dict):
        return case
    body = case.body
    if "startDate" not in body and "endDate" not in body:
        return case
    contract = held(f"/v1/contracts/{(case.path_parameters or {}).get('id')}")
    first, last = (day(contract.get(name)) if contract else None for name in ("startDate", "endDate"))
    if first is None or last is None:
        return case
    chooser = random.Random(repr(sorted(body.items(), key=lambda item: item[0])))
    today = datetime.now(timezone.utc).date()
    new_first = max(today, first + timedelta(days=chooser.randint(-5, 5))) if "startDate" in body else first
    new_last = last + timedelta(days=chooser.randint(-5, 5)) if "endDate" in body else last
    if "endDate" not in body:
        # The end stays: the start keeps the period at most 90 days and not after the end.
        new_first = min(max(new_first, last - timedelta(days=89)), last)
    new_last = min(max(new_last, new_first), new_first + timedelta(days=89))
    if "startDate" in body:
        body["startDate"] = new_first.isoformat()
    if "endDate" in body:
        body["endDate"] = new_last.isoformat()
    return case


# fleet::Validity: a paper's (insurance policy's, registration's) last day is after its first. A
# create names both; a change names one or both, and the one it leaves is the paper's own, read
# as the caller.
PAPER_PATHS = ("/v1/cars/{id}/insurance", "/v1/cars/{id}/registrations")


def papers_end_after_they_start(case):
    """The case's validTo made later than its validFrom (the stored one when the change names
    only one of them), a few days to a year on."""
    path = case.operation.path
    body = case.body if isinstance(case.body, dict) else None
    if body is None or not path.startswith(PAPER_PATHS) or path.endswith(("/document", "/confirm")):
        return case
    if "validFrom" not in body and "validTo" not in body:
        return case
    stored = {}
    if case.method.upper() == "PATCH" and ("validFrom" not in body or "validTo" not in body):
        parameters = case.path_parameters or {}
        paper = path.replace("{id}", str(parameters.get("id")))
        for name in ("insuranceId", "registrationId"):
            paper = paper.replace("{" + name + "}", str(parameters.get(name)))
        stored = held(paper) or {}
    first = day(body.get("validFrom", stored.get("validFrom")))
    last = day(body.get("validTo", stored.get("validTo")))
    if first is None or last is None or last > first:
        return case
    chooser = random.Random(repr(sorted(body.items(), key=lambda item: item[0])))
    try:
        later = first + timedelta(days=chooser.randint(1, 365))
    except OverflowError:
        # The first day is the calendar's last: move it back instead.
        first = date(9998, 12, 31)
        later = first + timedelta(days=1)
        if "validFrom" in body:
            body["validFrom"] = first.isoformat()
        else:
            return case
    if "validTo" in body:
        body["validTo"] = later.isoformat()
    else:
        earlier = last - timedelta(days=chooser.randint(1, 365))
        body["validFrom"] = earlier.isoformat()
    return case


def paper_of(case):
    """The path of the paper a document route of `case` names, or None for another route."""
    path = case.operation.path
    if not path.startswith(PAPER_PATHS) or "/document" not in path:
        return None
    paper = path.split("/document")[0]
    for name, value in (case.path_parameters or {}).items():
        paper = paper.replace("{" + name + "}", str(value))
    return paper


def a_document_is_confirmed(case):
    # fleet::document_download: a paper's document is there only once an upload of one is
    # confirmed, which takes bytes sent to the blob store (no generated request sends them);
    # until then the read is a 404 by design, for a paper just created too.
    paper = paper_of(case)
    if paper is None or case.method.upper() != "GET":
        return True
    held_paper = held(paper)
    return held_paper is not None and "document" in held_paper


def confirms_an_upload_it_sent(case):
    # attachments::verify_upload: an upload is confirmed by the id its start answered, after its
    # bytes reached the blob store; no generated request sends them, so a valid confirm cannot be
    # made and any generated id is a 404 or a 409 by design, right after a start too.
    return not (case.method.upper() == "POST" and case.operation.path.endswith("/confirm"))


def picks_up_at_a_reading_it_knows(case):
    # contracts::pick_up: the mileage at pickup must be at least the car's current reading, which
    # every return and service record moves and no generated request can know; a generated
    # reading below it is a 400 naming `mileage` by design, so a valid pickup cannot be made.
    return not (case.method.upper() == "POST" and case.operation.path.endswith("/pickup"))


# Who the run signs in as (run.py): a staff reservation names its customer, a customer's is for
# their own profile and names none (contracts::reserve).
ROLE = os.environ.get("ITINERA_FUZZ_ROLE", "")


def reserves_as_the_role_may(case):
    if case.operation.path != "/v1/contracts" or not isinstance(case.body, dict):
        return case
    if ROLE == "customer":
        case.body.pop("customerId", None)
    elif KNOWN["customerId"] and "customerId" not in case.body:
        case.body["customerId"] = random.Random(repr(sorted(case.body.items()))).choice(
            KNOWN["customerId"]
        )
    return case


def the_document():
    """The OpenAPI document the run tests."""
    request = urllib.request.Request(os.environ["ITINERA_FUZZ_BASE"] + "/openapi.json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def declared_fields(document):
    """The body fields each operation declares."""
    fields = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            schema = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                .get("schema", {})
            )
            if "properties" in schema:
                fields[(method.upper(), path)] = set(schema["properties"])
    return fields


DOCUMENT = the_document() if "ITINERA_FUZZ_BASE" in os.environ else None
DECLARED = declared_fields(DOCUMENT) if DOCUMENT else {}


def only_declared_fields(case):
    """A valid body holds only the fields its operation declares; the stateful phase's inferred
    links sometimes add a field named after a parameter, which is not a valid request."""
    declared = DECLARED.get((case.method.upper(), case.operation.path))
    if declared is not None and isinstance(case.body, dict):
        for name in [name for name in case.body if name not in declared]:
            del case.body[name]
    return case


def names_a_rental_of_the_car(case):
    """reports::create: a report's `contractId` names a contract of the car in its path (for a
    customer, their own active or completed one); a generated one that names another car's, or
    none the caller can read, is left out, so the report is about the car alone."""
    if case.operation.path != "/v1/cars/{id}/issues" or not isinstance(case.body, dict):
        return case
    if "contractId" in case.body:
        contract = held(f"/v1/contracts/{case.body['contractId']}")
        car = (case.path_parameters or {}).get("id")
        if contract is None or contract.get("carId") != car:
            del case.body["contractId"]
    return case


def resolves_with_a_note(case):
    # reports::IssueReport::triaged: resolving needs a resolution note, and a note is recorded
    # only with resolving (status resolved in the same change).
    if case.operation.path != "/v1/issues/{id}" or case.method.upper() != "PATCH":
        return True
    body = case.body if isinstance(case.body, dict) else {}
    return (body.get("status") == "resolved") == ("resolution" in body)


RULES = (
    cursor_is_issued,
    resolves_with_a_note,
    places_differ,
    departs_in_the_future_before_arriving,
    keeps_the_schedule,
    model_year_is_not_ahead,
    booking_total_is_representable,
    ranges_in_order,
    audit_names_one_selector,
    password_is_uncommon,
    a_document_is_confirmed,
    confirms_an_upload_it_sent,
    picks_up_at_a_reading_it_knows,
)


def generated_as_valid(case):
    # The stateful phase's cases carry no generation metadata; that phase generates valid data.
    return case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE


@schemathesis.hook
def map_case(context, case):
    if not generated_as_valid(case):
        return case
    for change in (
        only_declared_fields,
        names_what_exists,
        reserves_as_the_role_may,
        sends_a_new_key,
        pays_the_total,
        days_make_a_range,
        reschedules_within_reach,
        papers_end_after_they_start,
        names_a_rental_of_the_car,
    ):
        case = change(case)
    return case


@schemathesis.hook
def filter_case(context, case):
    return not generated_as_valid(case) or all(rule(case) for rule in RULES)
