"""Seeds the table for the traffic-mix measurement and writes the events each function takes.

Run by infra/bench/coldstart.sh (its SEED hook; infra/capacity/measure.sh sets it) once moto and
the table are up. Everything is created through the release binaries themselves, each started
once by the harness with --responses, so the seeded items are exactly what the functions write:
two airports, an airplane, ten flights, customers (users with a rental profile), a car, bookings to
pay and to cancel. The sample events in events/ are then rewritten with the ids that came back, one event per
invocation where a write must differ from the one before (a new Idempotency-Key, another booking
to pay, another refresh token, other rental days), so that every warm invocation does the work
of a real request, not an idempotent replay or a conflict.

Environment (from coldstart.sh): ENDPOINT, TABLE, WORK, BIN_DIR, HARNESS and INVOCATIONS_TOTAL
(how many invocations each measured function makes, warm-up runs included); SEED_BIN_DIR, where
the functions that only seed (not measured) are when they are not in BIN_DIR. WORK/common-env holds
the environment every function gets, NUL-separated K=V; this script adds WORK/env/all (the jobs
queue, which it creates) and the events under WORK/events/.
"""

import base64
import copy
import datetime
import json
import os
import subprocess
import sys
import uuid

import boto3

ENDPOINT = os.environ["ENDPOINT"]
WORK = os.environ["WORK"]
BIN_DIR = os.environ["BIN_DIR"]
HARNESS = os.environ["HARNESS"]
TOTAL = int(os.environ["INVOCATIONS_TOTAL"])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A customer may hold one unpaid booking per flight and MAX_PENDING_BOOKINGS (at most 50) in all:
# the seed spreads the bookings it makes, and those create-booking makes while measured, over this
# many flights (on the leg and day search-flights asks for) and as many customers as that needs.
FLIGHTS = 10


def fail(message):
    print(f"seed: {message}", file=sys.stderr)
    sys.exit(1)


def sample(function):
    with open(os.path.join(ROOT, "events", f"{function}.json"), encoding="utf-8") as f:
        return json.load(f)


def function_env():
    with open(os.path.join(WORK, "common-env"), "rb") as f:
        pairs = [pair.decode() for pair in f.read().split(b"\0") if pair]
    with open(os.path.join(WORK, "env", "all"), encoding="utf-8") as f:
        return pairs + [line.strip() for line in f if line.strip()]


def invoke(function, events):
    """Runs `function` once over `events` (one invocation each) and returns the response bodies."""
    directory = os.path.join(WORK, "seed", function)
    os.makedirs(directory, exist_ok=True)
    binary = os.path.join(BIN_DIR, function)
    if not os.path.exists(binary):
        binary = os.path.join(os.environ.get("SEED_BIN_DIR", BIN_DIR), function)
    args = [HARNESS, binary, "--runs", "1", "--warmup", "0"]
    args += ["--invocations", str(len(events)), "--timeout", "30"]
    for index, event in enumerate(events):
        path = os.path.join(directory, f"{index:05}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(event, f)
        args += ["--event", path]
    responses = os.path.join(directory, "responses.jsonl")
    args += ["--responses", responses, "--log", os.path.join(directory, "function.log")]
    for pair in function_env():
        args += ["--env", pair]
    done = subprocess.run(args, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        fail(f"{function} did not answer every seeding event (see {directory}/function.log)")
    bodies = []
    with open(responses, encoding="utf-8") as f:
        for line in f:
            response = json.loads(line)
            status = response.get("statusCode")
            if status not in (200, 201):
                with open(os.path.join(directory, "function.log"), encoding="utf-8") as log:
                    tail = "".join(line for line in log if '"level":"WARN"' in line or '"level":"ERROR"' in line)
                fail(f"{function} answered {status} to event {len(bodies)}: {response.get('body')}\n{tail}")
            body = response["body"]
            if response.get("isBase64Encoded"):
                body = base64.b64decode(body)
            # The API wraps every answer in {"data": ...}.
            bodies.append(json.loads(body)["data"])
    return bodies


def with_body(event, body):
    event = copy.deepcopy(event)
    event["body"] = json.dumps(body)
    return event


def with_header(event, name, value):
    event = copy.deepcopy(event)
    event["headers"][name] = value
    event["multiValueHeaders"][name] = [value]
    return event


def as_user(event, user_id):
    event = copy.deepcopy(event)
    authorizer = event["requestContext"]["authorizer"]
    authorizer["principalId"] = user_id
    authorizer["userId"] = user_id
    return event


def with_id(event, template_id, new_id):
    """The event with every occurrence of the id it was generated with replaced."""
    return json.loads(json.dumps(event).replace(template_id, new_id))


def write_events(function, events):
    directory = os.path.join(WORK, "events", function)
    os.makedirs(directory, exist_ok=True)
    for index, event in enumerate(events):
        with open(os.path.join(directory, f"{index:05}.json"), "w", encoding="utf-8") as f:
            json.dump(event, f)


def write_env(function, pairs):
    with open(os.path.join(WORK, "env", function), "w", encoding="utf-8") as f:
        f.writelines(f"{pair}\n" for pair in pairs)


def main():
    # The queue the routes that enqueue jobs dispatch to.
    sqs = boto3.client("sqs", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="coldstart", aws_secret_access_key="coldstart")
    queue_url = sqs.create_queue(QueueName="itinera-coldstart-jobs")["QueueUrl"]
    write_env("all", [f"JOBS_QUEUE_URL={queue_url}", f"SQS_ENDPOINT={ENDPOINT}"])

    airports = []
    for code, name, city in (("DEL", "Indira Gandhi International", "Delhi"),
                             ("BOM", "Chhatrapati Shivaji Maharaj International", "Mumbai")):
        airports.append(with_body(sample("create-airport"), {
            "code": code, "name": name, "city": city, "country": "IN", "timeZone": "Asia/Kolkata"}))
    invoke("create-airport", airports)
    [airplane] = invoke("create-airplane", [sample("create-airplane")])
    flight_event = sample("create-flight")
    flight_body = json.loads(flight_event["body"])
    flight_body["airplaneId"] = airplane["id"]
    flight_number = flight_body["flightNumber"]
    flights = invoke("create-flight", [
        with_body(flight_event, dict(flight_body, flightNumber=f"{flight_number[:2]}{int(flight_number[2:]) + index}"))
        for index in range(FLIGHTS)])
    flight = flights[0]
    # One seat per booking, so that the price of one seat is what each payment pays.
    price = flight_body["price"]

    # Customers: enough for the bookings the seed (to pay, to cancel) and create-booking make,
    # booking k by customer k // FLIGHTS on flight k % FLIGHTS.
    customers_needed = -(-3 * TOTAL // FLIGHTS)
    register = sample("register")
    register_body = json.loads(register["body"])
    registrations = []
    for index in range(customers_needed):
        body = dict(register_body, email=f"seed-{index}@example.com", username=f"seed-{index}")
        registrations.append(with_body(register, body))
    users = [user["id"] for user in invoke("register", registrations)]
    profile = sample("create-my-customer")
    profile_body = json.loads(profile["body"])
    invoke("create-my-customer", [
        with_body(as_user(profile, user), dict(profile_body, licenceNumber=f"SEED{index:010}"))
        for index, user in enumerate(users)])
    car_event = sample("create-car")
    [car] = invoke("create-car", [car_event])
    car_category = json.loads(car_event["body"])["category"]

    # Bookings to pay and to cancel: TOTAL of each.
    create_booking = sample("create-booking")
    owners = [users[index // FLIGHTS] for index in range(3 * TOTAL)]

    def booking(index):
        event = as_user(create_booking, owners[index])
        event = with_body(event, {"flightId": flights[index % FLIGHTS]["id"], "seats": 1})
        return with_header(event, "Idempotency-Key", str(uuid.uuid4()))

    seeded = invoke("create-booking", [booking(index) for index in range(2 * TOTAL)])
    to_pay, to_cancel = seeded[:TOTAL], seeded[TOTAL:]
    measured_bookings = [booking(index) for index in range(2 * TOTAL, 3 * TOTAL)]
    cancel_owners = owners[TOTAL:2 * TOTAL]
    owners = owners[:TOTAL]

    # Tokens: one login per refresh the measurement makes, and an access token for the authorizer.
    login = sample("login")
    login = with_body(login, {"email": "seed-0@example.com", "password": register_body["password"]})
    sessions = invoke("login", [login] * TOTAL)

    # The measured functions' events.
    write_events("login", [login])
    write_events("register", [
        with_body(register, dict(register_body, email=f"measured-{index}@example.com",
                                 username=f"measured-{index}"))
        for index in range(TOTAL)])
    write_events("refresh", [
        with_body(sample("refresh"), {"refreshToken": session["refreshToken"]})
        for session in sessions])
    write_events("create-booking", measured_bookings)
    pay = sample("pay-booking")
    template_booking = pay["pathParameters"]["id"]
    pay_body = json.loads(pay["body"])
    write_events("pay-booking", [
        with_body(as_user(with_id(pay, template_booking, booking["id"]), owner),
                  dict(pay_body, amount=price))
        for booking, owner in zip(to_pay, owners)])
    cancel = sample("cancel-booking")
    template_booking = cancel["pathParameters"]["id"]
    write_events("cancel-booking", [
        as_user(with_id(cancel, template_booking, booking["id"]), owner)
        for booking, owner in zip(to_cancel, cancel_owners)])
    get_booking = sample("get-booking")
    write_events("get-booking", [
        as_user(with_id(get_booking, get_booking["pathParameters"]["id"], to_pay[0]["id"]), owners[0])])
    write_events("list-bookings", [as_user(sample("list-bookings"), users[0])])
    get_flight = sample("get-flight")
    write_events("get-flight", [with_id(get_flight, get_flight["pathParameters"]["id"], flight["id"])])
    availability = sample("get-car-availability")
    write_events("get-car-availability", [
        with_id(availability, availability["pathParameters"]["id"], car["id"])])
    catalogue = copy.deepcopy(sample("search-catalogue"))
    catalogue["queryStringParameters"]["category"] = car_category
    if catalogue.get("multiValueQueryStringParameters"):
        catalogue["multiValueQueryStringParameters"]["category"] = [car_category]
    write_events("search-catalogue", [catalogue])
    contract = sample("create-contract")
    start = datetime.date.fromisoformat(json.loads(contract["body"])["startDate"])
    write_events("create-contract", [
        with_header(with_body(as_user(contract, users[index % len(users)]), {
            "carId": car["id"],
            "startDate": (start + datetime.timedelta(days=4 * index)).isoformat(),
            "endDate": (start + datetime.timedelta(days=4 * index + 2)).isoformat()}),
            "Idempotency-Key", str(uuid.uuid4()))
        for index in range(TOTAL)])
    authorizer = sample("authorizer")
    write_events("authorizer", [
        with_header(authorizer, "Authorization", f"Bearer {sessions[0]['accessToken']}")])
    print(f"seed: {len(users)} customers, {len(flights)} flights, car {car['id']}, "
          f"{len(to_pay)} bookings to pay, {len(sessions)} sessions; queue {queue_url}")


if __name__ == "__main__":
    main()
