#!/usr/bin/env python3
"""The capacity and cost model: writes docs/capacity.md from the measured inputs and the stated
assumptions, so that the tables follow the figures when they move.

Inputs (all under docs/capacity/ unless said otherwise):
- dynamodb-per-route.json: DynamoDB requests and units per route and background step, measured
  by tests/suite/dynamodb_operations.rs (ITINERA_WRITE_DOCS=1 rewrites it);
- lambda-measured.json: init, warm duration, CPU time, peak RSS and log bytes per function,
  measured by infra/capacity/measure.sh (the cold-start harness, infra/coldstart);
- traffic.json: the assumptions (users, traffic mix, hot spots, limits, prices);
- template.yaml: memory per function, schedules, the worker's batching, the stage's throttling,
  the WAF's limits and the stage cache, read rather than restated.

    python3 infra/capacity/model.py          # rewrites docs/capacity.md
    python3 infra/capacity/model.py --check  # exits 1 if docs/capacity.md is not what the inputs give

Python standard library only, so the test command runs it without the project's virtualenv. A
script rather than an xtask subcommand: the inputs are JSON and the output text, nothing of the
Rust crates is needed, and a reviewer changing an assumption reruns it in a fraction of a second
without a build.
"""

import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "docs" / "capacity"
OUTPUT = ROOT / "docs" / "capacity.md"
SECONDS_PER_DAY = 86400
GIB = 1024**3


class ModelError(Exception):
    """An input is missing something the model needs."""


# ------------------------------------------------------------------------------------- inputs


def load_json(name):
    path = INPUTS / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path.relative_to(ROOT)}: {error}") from error


def template_blocks(text):
    """The resources of template.yaml by logical id, each as its text."""
    resources = text.split("\nResources:\n", 1)[1]
    blocks = {}
    for match in re.finditer(r"^  ([A-Za-z0-9]+):\n((?:    .*\n|\s*\n)*)", resources, re.M):
        blocks[match.group(1)] = match.group(2)
    return blocks


def parameter_default(text, name):
    match = re.search(rf"^  {name}:\n(?:    .*\n)*?    Default: \"?([^\"\n]+)\"?\n", text, re.M)
    if not match:
        raise ModelError(f"template.yaml has no default for parameter {name}")
    return match.group(1)


def read_template():
    """What the model reads from template.yaml (a line-based reading of its generated layout)."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    globals_memory = re.search(r"^Globals:\n  Function:\n(?:    .*\n)*?    MemorySize: (\d+)", text, re.M)
    if not globals_memory:
        raise ModelError("template.yaml has no Globals.Function.MemorySize")
    memory, schedules, batch = {}, {}, {}
    for block in template_blocks(text).values():
        binary = re.search(r"^        Binary: ([a-z0-9-]+)$", block, re.M)
        if not binary:
            continue
        name = binary.group(1)
        own = re.search(r"^      MemorySize: (\d+)$", block, re.M)
        memory[name] = int(own.group(1) if own else globals_memory.group(1))
        rate = re.search(r"Schedule: rate\((\d+) (minute|minutes|hour|hours|day|days)\)", block)
        if rate:
            unit = {"minute": 60, "hour": 3600, "day": 86400}[rate.group(2).rstrip("s")]
            schedules[name] = SECONDS_PER_DAY / (int(rate.group(1)) * unit)
        size = re.search(r"BatchSize: (\d+)", block)
        window = re.search(r"MaximumBatchingWindowInSeconds: (\d+)", block)
        if size:
            batch[name] = (int(size.group(1)), int(window.group(1)) if window else 0)
    reauthorize = re.search(r"ReauthorizeEvery: (\d+)", text)
    return {
        "memory": memory,
        "schedules": schedules,
        "batch": batch,
        "reauthorizeEvery": int(reauthorize.group(1)) if reauthorize else 0,
        "stageRate": float(parameter_default(text, "ThrottlingRateLimit")),
        "stageBurst": float(parameter_default(text, "ThrottlingBurstLimit")),
        "wafGlobal": float(parameter_default(text, "WafGlobalRateLimit")),
        "wafAuth": float(parameter_default(text, "WafAuthRateLimit")),
        "wafWindow": int(re.search(r"EvaluationWindowSec: (\d+)", text).group(1)),
        "wafRules": len(re.findall(r"^\s+RateBasedStatement:", text, re.M)),
        "cacheSize": parameter_default(text, "ApiCacheSize"),
        "rateWriteMax": float(parameter_default(text, "RateWriteMax")),
        "rateWindowMs": float(parameter_default(text, "RateWindowMs")),
    }


def signed_in(function):
    """Whether API Gateway runs the authorizer for the route: its sample event carries a principal."""
    event = json.loads((ROOT / "events" / f"{function}.json").read_text(encoding="utf-8"))
    return bool((event.get("requestContext") or {}).get("authorizer"))


# ------------------------------------------------------------------ DynamoDB, per partition


def parse_target(call, target):
    """(action, pk, sk) of a target as the operations run names it."""
    if call == "Query":
        where, key = target.split(" ", 1)
        return "Query", f"{where} {key}", None
    if call == "TransactWriteItems":
        action, key = target.split(" ", 1)
    else:
        action, key = call, target
    pk, _, sk = key.partition("|")
    return action, pk, sk


def item_type(pk, sk):
    return f"{pk.split('#', 1)[0]}|{sk.split('#', 1)[0]}"


def index_partitions(pk, sk, layout):
    for pattern, partitions in layout.items():
        kind, _, sort = pattern.partition("|")
        if pk.split("#", 1)[0] == kind and (sort == "*" or sk.split("#", 1)[0] == sort):
            return partitions
    return []


def partition_units(step, layout, actor):
    """Units per request by partition: {partition: [read units, write units]}.

    A single-item call puts its units on its one target. A transaction's write units are split
    evenly over its actions (each is billed on its own item; the run records the transaction's
    total). An indexed item written adds one index write per KB of its entry (the item plus 100
    bytes, the item's size taken as its share of the call's bytes) to each index partition it is in.
    Audit entries are filed under their actor, `actor` (`user:<id>` or `system`).
    """
    units = {}

    def add(partition, read, write):
        entry = units.setdefault(partition, [0.0, 0.0])
        entry[0] += read
        entry[1] += write

    for operation in step["operations"]:
        targets = operation["targets"] or []
        if not targets:
            continue
        share = 1 / len(targets)
        for target in targets:
            action, pk, sk = parse_target(operation["call"], target)
            if action == "Query":
                add(pk, operation["rcu"] * share, 0)
                continue
            add(f"table {pk}", operation["rcu"] * share, operation["wcu"] * share)
            if action in ("GetItem", "ConditionCheck"):
                continue
            entry_kb = math.ceil((operation["bytes"] * share + 100) / 1024)
            for partition in index_partitions(pk, sk, layout):
                add(partition.replace("<actor>", actor), 0, entry_kb)
    return units


def step_named(steps, name):
    for step in steps:
        if step["step"] == name:
            return step
    raise ModelError(f"dynamodb-per-route.json has no step {name!r}")


def dispatched_jobs(step):
    """Jobs a request hands to the queue: its dispatch deletes each sent job's OUTBOX item alone."""
    return sum(
        1
        for operation in step["operations"]
        if operation["call"] == "DeleteItem"
        and any(target.startswith("OUTBOX|") for target in operation["targets"] or [])
    )


# ----------------------------------------------------------------------------------- Lambda


def figure(measured, function, series, statistic="median"):
    values = measured["functions"].get(function, {}).get(series)
    if not values:
        raise ModelError(f"lambda-measured.json has no {series} for {function}")
    return values[statistic]


def scaled(wall_ms, cpu_ms, memory_mb, vcpu_mb):
    """A duration measured on one full core, at `memory_mb`: the CPU part stretches, the rest not."""
    cpu_ms = min(cpu_ms, wall_ms)
    return (wall_ms - cpu_ms) + cpu_ms * max(1.0, vcpu_mb / memory_mb)


def function_profile(measured, function, memory_mb, lam, statistic="median"):
    """Modelled warm and cold durations (ms) of `function` at its memory, and its peak RSS."""
    vcpu = lam["vcpuAtMemoryMb"]
    warm = scaled(figure(measured, function, "warmInvocationMs", statistic),
                  figure(measured, function, "warmCpuMs", statistic), memory_mb, vcpu)
    init = scaled(figure(measured, function, "initMs", statistic),
                  figure(measured, function, "initCpuMs", statistic), memory_mb, vcpu)
    first = scaled(figure(measured, function, "firstInvocationMs", statistic),
                   figure(measured, function, "firstInvocationCpuMs", statistic), memory_mb, vcpu)
    return {
        "warm": warm,
        "init": init,
        "first": first,
        "rss": figure(measured, function, "peakRssMiB", "p90"),
        "logBytes": figure(measured, function, "warmLogBytes"),
    }


# ------------------------------------------------------------------------------------ model


def build(traffic, operations, measured, template):
    users = traffic["users"]
    active = users["registered"] * users["dailyActiveShare"]
    peak = users["peakToAverage"]
    days = users["daysPerMonth"]
    lam = traffic["lambda"]
    steps = operations["steps"] + [dict(step, derived=True) for step in traffic["derivedOperations"]["steps"]]
    layout = traffic["indexPartitions"]["items"]
    background = traffic["background"]
    messaging = traffic["messaging"]

    # Requests per day, by route; invocations are the ones the stage cache does not answer.
    routes = []
    for route in traffic["routes"]:
        daily = route["perActiveUserPerDay"] * active if "perActiveUserPerDay" in route else route["perDay"]
        hit = route.get("cacheHitShare", 0.0)
        step = step_named(steps, route["operations"]) if route["operations"] else None
        routes.append({
            "function": route["function"],
            "operations": route["operations"],
            "daily": daily,
            "invocations": daily * (1 - hit),
            "cacheHit": hit,
            "step": step,
            "signedIn": signed_in(route["function"]),
        })
    by_function = {route["function"]: route for route in routes}
    api_daily = sum(route["daily"] for route in routes)
    signed_in_daily = sum(route["invocations"] for route in routes if route["signedIn"])

    # Background work, from the routes' measured dispatches.
    jobs = {}
    for function, kind in background["jobsByRoute"].items():
        route = by_function[function]
        jobs[kind] = jobs.get(kind, 0) + route["invocations"] * dispatched_jobs(route["step"])
    expired = max(0.0, by_function["create-booking"]["invocations"] - by_function["pay-booking"]["invocations"])
    expire_step = step_named(steps, "schedule `expire-holds` (1 processed)")
    jobs[background["expiredHoldJob"]] = jobs.get(background["expiredHoldJob"], 0) + expired * dispatched_jobs(expire_step)
    jobs_daily = sum(jobs.values())
    batch_size, window = template["batch"]["process-jobs"]
    peak_jobs_per_second = jobs_daily / SECONDS_PER_DAY * peak
    # At the peak a batch collects what arrives within the batching window, at least one job.
    per_batch = min(batch_size, max(1.0, peak_jobs_per_second * window))
    relay_runs = template["schedules"]["relay-outbox"]
    expire_runs = template["schedules"]["expire-holds"]

    # Lambda invocations per day by function, and the DynamoDB units each carries.
    invocations = {route["function"]: route["invocations"] for route in routes}
    invocations["authorizer"] = signed_in_daily * traffic["authorizer"]["invocationsPerSignedInRequest"]
    invocations["process-jobs"] = jobs_daily / per_batch
    invocations["relay-outbox"] = relay_runs
    invocations["expire-holds"] = expire_runs

    # DynamoDB per day: (name, per-request rcu, wcu incl. index, per-day count, partitions).
    dynamo = []
    for route in routes:
        if route["step"]:
            dynamo.append((route["function"], route["operations"], route["step"], route["invocations"]))
    for kind, count in sorted(jobs.items()):
        dynamo.append(("process-jobs", f"worker: `{kind}` job", step_named(steps, f"worker: `{kind}` job"), count))
    relay_step = step_named(steps, "schedule `relay-outbox` (0 processed)")
    dynamo.append(("relay-outbox", relay_step["step"], relay_step, relay_runs))
    # The expire-holds run: its Query every run, the rest of the step per expired hold.
    expire_query = {"operations": [op for op in expire_step["operations"] if op["call"] == "Query"]}
    expire_rest = {"operations": [op for op in expire_step["operations"] if op["call"] != "Query"]}
    for part in (expire_query, expire_rest):
        part["rcu"] = sum(op["rcu"] for op in part["operations"])
        part["wcu"] = sum(op["wcu"] for op in part["operations"])
        part["indexWcu"] = sum(op["indexWcu"] for op in part["operations"])
    dynamo.append(("expire-holds", "schedule `expire-holds`: the HOLDS query of each run", expire_query, expire_runs))
    dynamo.append(("expire-holds", "schedule `expire-holds`: per expired hold", expire_rest, expired))

    profiles = {}
    for function in invocations:
        if function not in measured["functions"]:
            continue
        memory = template["memory"].get(function)
        if memory is None:
            raise ModelError(f"template.yaml has no function with Binary {function}")
        profiles[function] = function_profile(measured, function, memory, lam)
        profiles[function]["p90"] = function_profile(measured, function, memory, lam, "p90")["warm"]
        profiles[function]["memory"] = memory

    return {
        "active": active,
        "routes": routes,
        "apiDaily": api_daily,
        "signedInDaily": signed_in_daily,
        "jobs": jobs,
        "jobsDaily": jobs_daily,
        "perBatch": per_batch,
        "expired": expired,
        "invocations": invocations,
        "profiles": profiles,
        "unmeasured": [function for function in invocations if function not in profiles],
        "dynamo": dynamo,
        "layout": layout,
        "peak": peak,
        "days": days,
        "messaging": messaging,
        "emailsDaily": sum(count for kind, count in jobs.items() if kind in background["emailJobs"]),
        "bookingsDaily": by_function["create-booking"]["invocations"],
    }


# ----------------------------------------------------------------------------------- output


def num(value, digits=3):
    """A figure with `digits` significant digits, thousands separated."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    rounded = round(value, decimals)
    return f"{rounded:,.{decimals}f}"


def money(value):
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def times(value):
    return "never" if value == math.inf else f"{num(value)}x"


def answered(figures):
    """What a function answered, cold and warm, in a table cell."""
    cold, warm = ", ".join(figures["firstStatuses"]), ", ".join(figures["warmStatuses"])
    return cold if cold == warm or not warm else f"cold {cold}; warm {warm}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render(traffic, operations, measured, template, model):
    users = traffic["users"]
    prices = traffic["prices"]
    lam = traffic["lambda"]
    limits = traffic["limits"]
    hot = traffic["hotSpots"]
    peak = model["peak"]
    days = model["days"]
    per_second = lambda daily: daily / SECONDS_PER_DAY  # noqa: E731
    registered = users["registered"]
    out = []
    say = out.append

    say("# Capacity and cost for 100k users\n")
    say("<!-- Generated by infra/capacity/model.py from docs/capacity/*.json and template.yaml; "
        "do not edit. `python3 infra/capacity/model.py` rewrites it, `--check` (in the test "
        "command) fails when it is stale. -->\n")
    say(
        "What the traffic of "
        f"{registered:,} registered users costs and where it meets a limit, computed from measured "
        "figures and stated assumptions only. Every input is a committed file with the command "
        "that measures it or the reason for it; change one and rerun the model.\n"
    )
    say("## Inputs\n")
    say(table(
        ["input", "what it is", "how it is made"],
        [
            ["`docs/capacity/dynamodb-per-route.json`", "DynamoDB requests and units per route and background step (measured)",
             "`ITINERA_WRITE_DOCS=1 cargo test -p itinera-tests --test suite -- dynamodb_operations::` against moto"],
            ["`docs/capacity/lambda-measured.json`", "per function: init, first response, warm duration, CPU time, peak RSS, log bytes (measured)",
             f"`{measured['command']}` (release build, deploy profile; {measured['machine']['cores']} cores of "
             f"{measured['machine']['cpu']}, shared: load average {measured['machine'].get('loadAverage', ['?'])[0]} "
             f"at the end; {measured['measuredOn']}; the functions that only seed data from "
             f"`{measured.get('seedFunctionsFrom', 'the same build')}`)"],
            ["`docs/capacity/traffic.json`", "users, traffic mix, hot spots, limits, prices (assumptions); the units of two reads the operations run does not drive (derived)",
             "written by hand; each figure says why"],
            ["`template.yaml`", "memory per function, schedules, the worker's batching, stage throttling, WAF limits, stage cache",
             "`cargo run -p xtask -- generate`"],
        ],
    ))
    say("")
    say(
        "SQS and SES per job are **derived from the code paths**, not measured: "
        f"{traffic['messaging']['why']} ({traffic['messaging']['source']}). How many jobs a request "
        "hands to the queue is measured: its dispatch deletes each sent job's `OUTBOX` item with "
        "one `DeleteItem` in the operations run.\n"
    )

    say("Derived, not measured: " + " ".join(
        f"`{step['step']}`: {step['why']}." for step in traffic["derivedOperations"]["steps"]) + "\n")
    say("## Assumptions\n")
    say(table(
        ["assumption", "value", "why"],
        [
            ["registered users", f"{registered:,}", users["why"]],
            ["daily active share", f"{users['dailyActiveShare']:.0%} ({num(model['active'])} users)", ""],
            ["peak to average", f"{peak}x", ""],
            ["signed-in requests that run the authorizer", f"{traffic['authorizer']['invocationsPerSignedInRequest']:.0%}",
             traffic["authorizer"]["why"].replace("ReauthorizeEvery seconds", f"ReauthorizeEvery ({template['reauthorizeEvery']} s)")],
            ["cold starts", f"{lam['coldStartShare']:.0%} of invocations", lam["why"]],
            ["jobs dispatch leaves to the relay", f"{traffic['background']['dispatchLeftBehindShare']:.1%}", traffic["background"]["why"]],
            ["hot spots", ", ".join(f"{key} {value}" for key, value in hot.items() if key != "why"), hot["why"]],
            ["DynamoDB provisioned comparison", f"{traffic['dynamodb']['provisionedTargetUtilisation']:.0%} target utilisation", traffic["dynamodb"]["why"]],
            ["prices", f"{prices['region']}, arm64, list of {prices['priceListDate']}", prices["why"]],
        ],
    ))
    say("")
    say("The traffic mix, per active user and day (or per day), with the share the stage cache answers "
        f"(stage cache {template['cacheSize']} GB, template.yaml):\n")
    say(table(
        ["function", "per active user per day", "per day", "cache hits", "why"],
        [
            [f"`{route['function']}`",
             num(route["perActiveUserPerDay"]) if "perActiveUserPerDay" in route else "",
             num(model["routes"][index]["daily"]),
             f"{route.get('cacheHitShare', 0):.0%}",
             route["why"]]
            for index, route in enumerate(traffic["routes"])
        ],
    ))
    say("")

    # Requests per route.
    say("## Requests per second\n")
    rows = []
    for route in model["routes"]:
        rows.append([
            f"`{route['function']}`",
            num(per_second(route["daily"])),
            num(per_second(route["daily"]) * peak),
            num(per_second(route["invocations"]) * peak),
        ])
    rows.append(["**API total**", f"**{num(per_second(model['apiDaily']))}**", f"**{num(per_second(model['apiDaily']) * peak)}**",
                 f"**{num(per_second(sum(r['invocations'] for r in model['routes'])) * peak)}**"])
    say(table(["route (function)", "average req/s", "peak req/s", "peak invocations/s (cache misses)"], rows))
    say("")
    say(
        f"Background at the peak: {num(per_second(model['jobsDaily']) * peak)} jobs/s "
        f"({', '.join(f'{kind} {num(per_second(count) * peak)}' for kind, count in sorted(model['jobs'].items()))}), "
        f"in batches of {num(model['perBatch'])} (batching window and batch size from template.yaml); "
        f"{num(per_second(model['expired']) * peak)} holds/s expire; the relay and the hold expiry run "
        f"{num(model['invocations']['relay-outbox'])} and {num(model['invocations']['expire-holds'])} times a day.\n"
    )

    # Lambda.
    say("## Lambda: durations and concurrency at the peak\n")
    say(
        "Durations are the measured ones at the function's memory: the CPU part of the median "
        f"(measured on one full core) stretched by {lam['vcpuAtMemoryMb']:,} MB / memory, the "
        "waiting part (here: moto on loopback for DynamoDB and SQS) as measured. Concurrency "
        "is invocations/s x the p90 warm duration, plus the cold starts' share x their init and "
        "first invocation.\n"
    )
    rows, total_concurrency = [], 0.0
    for function, daily in model["invocations"].items():
        if function in model["unmeasured"]:
            rows.append([f"`{function}`", template["memory"][function], "not measured", "", "", "", "", "", "", "",
                         num(per_second(daily) * peak), ""])
            continue
        profile = model["profiles"][function]
        rate = per_second(daily) * peak
        cold = lam["coldStartShare"]
        seconds = ((1 - cold) * profile["p90"] + cold * (profile["init"] + profile["first"])) / 1000
        concurrency = rate * seconds
        total_concurrency += concurrency
        fn = measured["functions"][function]
        rows.append([
            f"`{function}`", profile["memory"], num(fn["initMs"]["median"]), num(profile["init"]),
            num(fn["warmInvocationMs"]["median"]), num(fn["warmCpuMs"]["median"]), num(profile["warm"]),
            num(profile["p90"]), num(profile["rss"]), answered(fn),
            num(rate), num(concurrency),
        ])
    rows.append(["**total**", "", "", "", "", "", "", "", "", "", "", f"**{num(total_concurrency)}**"])
    say(table(
        ["function", "MB", "init ms (measured)", "init ms (at MB)", "warm ms (measured)", "warm CPU ms",
         "warm ms (at MB)", "warm p90 ms (at MB)", "peak RSS MiB", "answered", "peak invocations/s", "concurrency"],
        rows,
    ))
    say("")
    say(
        "`answered` is what the warm invocations returned with the data `infra/capacity/seed.py` "
        "seeds: the HTTP status, the authorizer's policy effect, how many messages of the "
        "worker's batch failed, `other` for a schedule's report. The schedules were measured on "
        "an empty `OUTBOX` and no expired hold. A 503 is moto not answering within the "
        "function's 5 s operation timeout on the shared machine; a 401 is a refresh token the "
        "retry of such a timeout had already rotated. They stay in the figures (the p90 of "
        "`pay-booking` is one), which only overstates the durations.\n"
    )
    if model["unmeasured"]:
        reasons = lam.get("notMeasured", {})
        say("**Not measured** (no figures in `lambda-measured.json`; left out of the concurrency and "
            "the Lambda cost below): " + "; ".join(
                f"`{f}`" + (f": {reasons[f]}" if f in reasons else "") for f in model["unmeasured"]) + ".\n")

    # DynamoDB.
    say("## DynamoDB: units per route\n")
    rows, read_daily, write_daily = [], 0.0, 0.0
    peak_read = peak_write = 0.0
    for function, name, step, daily in model["dynamo"]:
        rcu, wcu = step["rcu"], step["wcu"] + step["indexWcu"]
        read_daily += rcu * daily
        write_daily += wcu * daily
        peak_read += rcu * per_second(daily) * peak
        peak_write += wcu * per_second(daily) * peak
        if step.get("derived"):
            name = f"{name} (derived, not measured)"
        rows.append([f"`{function}`", name, num(rcu), num(step["wcu"]), num(step["indexWcu"]),
                     num(rcu * per_second(daily) * peak), num(wcu * per_second(daily) * peak)])
    rows.append(["**total**", "", "", "", "", f"**{num(peak_read)}**", f"**{num(peak_write)}**"])
    say(table(["function", "operations step", "RCU / request", "WCU / request", "index WCU / request",
               "peak RCU/s", "peak WCU/s"], rows))
    say("")
    say(f"Average: {num(per_second(read_daily))} RCU/s and {num(per_second(write_daily))} WCU/s "
        "(index writes included). `health` reads the table too; the operations run does not record "
        "it (one probe every 30 s does not move these totals).\n")

    # Cost.
    month = days
    lambda_compute = lambda_requests = 0.0
    log_bytes = 0.0
    for function, daily in model["invocations"].items():
        if function in model["unmeasured"]:
            continue
        profile = model["profiles"][function]
        cold = lam["coldStartShare"]
        warm_billed = math.ceil(profile["warm"])
        cold_billed = math.ceil(profile["first"] + (profile["init"] if lam["initBilled"] else 0))
        ms = (1 - cold) * warm_billed + cold * cold_billed
        lambda_compute += daily * month * ms / 1000 * profile["memory"] / 1024 * prices["lambdaArmPerGbSecond"]
        lambda_requests += daily * month / 1e6 * prices["lambdaPerMillionRequests"]
        log_bytes += daily * month * (profile["logBytes"] + lam["platformLogBytesPerInvocation"])
    api_requests = model["apiDaily"] * month
    cache_hours = 24 * month
    api = api_requests / 1e6 * prices["apiGatewayRestPerMillion"]
    cache = cache_hours * prices["apiGatewayCachePerHourBySize"][template["cacheSize"]] if template["cacheSize"] != "off" else 0
    dynamo_on_demand = (read_daily * month / 1e6 * prices["dynamodbOnDemandPerMillionReads"]
                        + write_daily * month / 1e6 * prices["dynamodbOnDemandPerMillionWrites"])
    hours = 24 * month
    utilisation = traffic["dynamodb"]["provisionedTargetUtilisation"]
    provisioned_peak = hours * (math.ceil(peak_read) * prices["dynamodbProvisionedPerRcuHour"]
                                + math.ceil(peak_write) * prices["dynamodbProvisionedPerWcuHour"])
    provisioned_scaled = hours * (per_second(read_daily) / utilisation * prices["dynamodbProvisionedPerRcuHour"]
                                  + per_second(write_daily) / utilisation * prices["dynamodbProvisionedPerWcuHour"])
    messaging = model["messaging"]
    jobs_month = model["jobsDaily"] * month
    sqs_requests = (jobs_month * messaging["sqsRequestsPerDispatch"]
                    + jobs_month / model["perBatch"] * messaging["sqsRequestsPerWorkerBatch"]
                    + jobs_month * traffic["background"]["dispatchLeftBehindShare"]
                    + messaging["eventSourceIdleReceivesPerSecond"] * SECONDS_PER_DAY * month)
    sqs = sqs_requests / 1e6 * prices["sqsPerMillionRequests"]
    ses = model["emailsDaily"] * month / 1000 * prices["sesPerThousandEmails"]
    logs = log_bytes / GIB * prices["cloudwatchLogsIngestionPerGb"]
    waf = (prices["wafPerWebAclMonth"] + template["wafRules"] * prices["wafPerRuleMonth"]
           + api_requests / 1e6 * prices["wafPerMillionRequests"])
    services = [
        ["Lambda duration", money(lambda_compute)],
        ["Lambda requests", money(lambda_requests)],
        ["API Gateway requests", money(api)],
        [f"API Gateway stage cache ({template['cacheSize']} GB)", money(cache)],
        ["DynamoDB on demand", money(dynamo_on_demand)],
        ["SQS", money(sqs)],
        ["SES", money(ses)],
        ["CloudWatch Logs ingestion", money(logs)],
        [f"WAF (web ACL, {template['wafRules']} rules, requests)", money(waf)],
    ]
    total = lambda_compute + lambda_requests + api + cache + dynamo_on_demand + sqs + ses + logs + waf
    bookings_month = model["bookingsDaily"] * month
    per_thousand = lambda value: money(value / bookings_month * 1000)  # noqa: E731
    say("## Monthly cost\n")
    say(f"{num(month)} days; {num(api_requests)} API requests, {num(bookings_month)} bookings, "
        f"{num(jobs_month)} jobs, {num(model['emailsDaily'] * month)} emails, "
        f"{num(log_bytes / GIB)} GiB of logs (measured bytes per invocation plus Lambda's own lines) a month.\n")
    say(table(["service", "per month", "per 1,000 bookings"],
              [[name, cost, per_thousand(float(cost.lstrip("$").replace(",", "")))] for name, cost in services]
              + [["**total**", f"**{money(total)}**", f"**{per_thousand(total)}**"]]))
    say("")
    say(
        "DynamoDB provisioned instead of on demand, for comparison: "
        f"{money(provisioned_peak)} a month fixed at the peak ({math.ceil(peak_read)} RCU, {math.ceil(peak_write)} WCU), "
        f"{money(provisioned_scaled)} auto-scaled at {utilisation:.0%}; on demand {money(dynamo_on_demand)}. "
        + ("Auto-scaled provisioned capacity is the cheapest on paper, by "
           f"{money(dynamo_on_demand - provisioned_scaled)} a month, but it follows a burst minutes late "
           "(a flash sale would be throttled meanwhile); on demand needs no capacity planning."
           if provisioned_scaled < dynamo_on_demand else
           "On demand is the cheapest and needs no capacity planning.")
        + "\n"
    )

    # Limits.
    say("## Where limits bind first\n")
    say(
        "For each limit: the load on it at the modelled peak, the limit, and the multiple of the "
        "modelled peak at which it binds (the same multiple of users, all else equal; for a hot "
        "spot, of that spot's traffic). Sorted by how soon it binds.\n"
    )
    api_peak = per_second(model["apiDaily"]) * peak
    routed = {route["function"] for route in model["routes"]}
    rows = []

    behind = hot["clientsBehindOneAddress"]

    def limit(name, load, cap, unit, shards, partition=True, per_address=False):
        """A row: the multiple of the peak at which `load` reaches `cap`, and what that means."""
        multiple = cap / load if load > 0 else math.inf
        if multiple == math.inf:
            meaning = "never"
        elif per_address:
            meaning = f"{num(behind * multiple)} active users behind one address"
        else:
            meaning = f"{num(registered * multiple)} registered users"
        rows.append((multiple, partition, [name, f"{num(load)} {unit}", f"{num(cap)} {unit}", times(multiple),
                                           meaning, shards]))

    limit("account concurrency", total_concurrency, limits["accountConcurrency"], "concurrent",
          "a quota increase (a support request); no code change", partition=False)
    limit("API Gateway, account", api_peak, limits["apiGatewayAccountRequestsPerSecond"], "req/s",
          "a quota increase", partition=False)
    limit("API Gateway, the stage's throttling (`ThrottlingRateLimit`)", api_peak, template["stageRate"], "req/s",
          "the stack parameter; it is a guard set low on purpose", partition=False)

    def partition_load(match, share_of=None):
        """(read, write) units/s at the peak on the partitions `match` accepts, over every step."""
        read = write = 0.0
        for function, name, step, daily in model["dynamo"]:
            rate = per_second(daily) * peak * (share_of(function) if share_of else 1)
            actor = "user:<id>" if function in routed else "system"
            for partition, (r, w) in partition_units(step, model["layout"], actor).items():
                if match(partition):
                    read += r * rate
                    write += w * rate
        return read, write

    hot_writes = {"create-booking", "pay-booking", "cancel-booking", "expire-holds"}
    flight_share = lambda f: hot["flashSaleShareOfBookingsOnOneFlight"] if f in hot_writes | {"get-flight"} else 0  # noqa: E731
    read, write = partition_load(lambda p: p.startswith("table FLIGHT#"), flight_share)
    limit("one flight's item, flash sale: writes", write, limits["partitionWriteUnitsPerSecond"], "WCU/s",
          "seat buckets: the seats split over N items of the flight, a booking takes from one")
    limit("one flight's item, flash sale: reads", read, limits["partitionReadUnitsPerSecond"], "RCU/s",
          "the stage cache already answers anonymous reads; eventually consistent reads double it")
    leg_share = lambda f: hot["flashSaleShareOfSearchesOnOneLegDay"] if f == "search-flights" else (  # noqa: E731
        hot["flashSaleShareOfBookingsOnOneFlight"] if f in hot_writes else 0)
    read, write = partition_load(lambda p: p.startswith("gsi1 ROUTE#"), leg_share)
    limit("one leg and day (`ROUTE#<leg>#<day>`, gsi1), flash sale: reads", read,
          limits["partitionReadUnitsPerSecond"], "RCU/s", "the stage cache (its TTL); a suffix per fare band")
    limit("one leg and day (`ROUTE#<leg>#<day>`, gsi1 and gsi2 alike), flash sale: writes", write,
          limits["partitionWriteUnitsPerSecond"], "WCU/s", "seat buckets (above) write the flight item less often")
    day_share = lambda f: hot["busiestDepartureDayShareOfBookings"] if f in hot_writes else 0  # noqa: E731
    read, write = partition_load(lambda p: p.startswith("gsi3 DEPARTURES#"), day_share)
    limit("one departure day (`DEPARTURES#<day>`, gsi3)", write, limits["partitionWriteUnitsPerSecond"], "WCU/s",
          "a shard suffix on the day key, the reminders query each shard")
    car_share = lambda f: hot["busiestCarShareOfContracts"] if f == "create-contract" else 0  # noqa: E731
    read, write = partition_load(lambda p: p.startswith("table CAR#"), car_share)
    limit("one car's partition (`CAR#<id>`: the car and its day slots)", write, limits["partitionWriteUnitsPerSecond"],
          "WCU/s", "nothing to shard: a car is rented for a few days at a time")
    for label, key, shards in [
        ("`OUTBOX` (base table)", "table OUTBOX", "a shard suffix on `pk` (`OUTBOX#<n>`), the relay one Query per shard"),
        ("`HOLDS` (base table)", "table HOLDS", "a shard suffix on `pk` (`HOLDS#<n>`), the expiry one Query per shard"),
        ("`BOOKINGS` (gsi3, every booking)", "gsi3 BOOKINGS", "a shard suffix on `gsi3pk`, staff lists merge the shards"),
        ("`USERS` (gsi2, every user)", "gsi2 USERS", "a shard suffix on `gsi2pk`, the admin list merges the shards"),
        ("`USERS#ROLE#customer` (gsi1, every customer account)", "gsi1 USERS#ROLE#<role>", "as `USERS`"),
        ("`CARS` (gsi1, the fleet; the catalogue reads it)", "gsi1 CARS", "a shard suffix per category"),
        ("`CARS#STATUS#available` (gsi2, nearly the whole fleet)", "gsi2 CARS#STATUS#<status>", "a shard suffix on `gsi2pk`"),
        ("`CONTRACTS` (gsi3, every contract)", "gsi3 CONTRACTS", "a shard suffix on `gsi3pk`"),
        ("`CUSTOMERS` (gsi1, every customer)", "gsi1 CUSTOMERS", "a shard suffix on `gsi1pk`"),
        ("`AUDIT_ACTOR#system` (gsi1, background audit)", "gsi1 AUDIT_ACTOR#system", "a shard suffix on the actor key"),
        ("`AIRPORTS`, `AIRPLANES`, `REPORTS` (staff lists)", ("gsi1 AIRPORTS", "gsi1 AIRPLANES", "gsi3 REPORTS"),
         "staff writes only, none in the traffic mix"),
    ]:
        keys = key if isinstance(key, tuple) else (key,)
        read, write = partition_load(lambda p, keys=keys: p in keys)
        limit(f"{label}: writes", write, limits["partitionWriteUnitsPerSecond"], "WCU/s", shards)
        if read:
            limit(f"{label}: reads", read, limits["partitionReadUnitsPerSecond"], "RCU/s", shards)
    # Rate-limit counters: one item per client address and window, written on every write request.
    writes_per_user = sum(
        per_second(route["invocations"]) * peak for route in model["routes"]
        if route["step"] and any(t.startswith("RATE#write#") for op in route["step"]["operations"] for t in op["targets"] or [])
    ) / model["active"]
    counter_load = writes_per_user * behind
    limit(f"a rate-limit counter (`RATE#write#ip:<address>`), {behind:,} users behind one address",
          counter_load, limits["partitionWriteUnitsPerSecond"], "WCU/s",
          "nothing: the WAF's per-address rule blocks a flood long before", per_address=True)
    requests_per_user = api_peak / model["active"]
    limit(f"the WAF's per-address rule ({num(template['wafGlobal'])} requests per {template['wafWindow']} s), "
          f"{behind:,} users behind one address", requests_per_user * behind, template["wafGlobal"] / template["wafWindow"],
          "req/s", "a higher `WafGlobalRateLimit`, or an exception for known carrier NATs",
          partition=False, per_address=True)
    limit(f"the application's write tier ({num(template['rateWriteMax'])} per {num(template['rateWindowMs'] / 60000)} min), "
          f"{behind:,} users behind one address", counter_load, template["rateWriteMax"] / (template["rateWindowMs"] / 1000),
          "writes/s", "`RATE_WRITE_MAX`; or a key per signed-in user instead of per address",
          partition=False, per_address=True)
    rows.sort(key=lambda row: row[0])
    say(table(["limit", "load at the peak", "limit", "binds at", "that is", "what shards or lifts it"],
              [row for _, _, row in rows]))
    say("")
    binding = [row for multiple, partition, row in rows if partition and multiple < 1]
    others = [row for multiple, partition, row in rows if not partition and multiple < 1]
    if binding:
        say("**A partition of the data model binds below the modelled peak:** "
            + "; ".join(f"{row[0]} ({row[3]})" for row in binding) + ".\n")
    else:
        first = next(row for _, partition, row in rows if partition)
        say(
            "**No partition of the data model binds below the modelled peak.** The first to bind "
            f"is {first[0]}, at {first[3]} the modelled peak ({first[4]}); none needs write "
            "sharding at 100k users, so none is sharded.\n"
        )
    if others:
        say("Below the modelled peak, outside the data model: "
            + "; ".join(f"{row[0]} binds at {row[3]} ({row[4]})" for row in others) + ".\n")
    say(
        "How a partition's load is counted: the units of every call of every step on that "
        "partition at the peak rate of its step, a transaction's write units split evenly over its "
        "actions, and one index write per KB of entry on each index partition an indexed item is in "
        f"({traffic['indexPartitions']['source']}). A partition takes "
        f"{limits['partitionWriteUnitsPerSecond']:,} WCU/s and {limits['partitionReadUnitsPerSecond']:,} RCU/s "
        "(DynamoDB's adaptive capacity isolates a hot item, it does not raise one item's limit).\n"
    )
    say("## Not in the model\n")
    say(
        "- Staff and admin routes (fleet, flights, airports, car records, users), the reminder "
        "schedules (`queue-departure-reminders`, `queue-rental-reminders`, "
        "`queue-fleet-reminders`: a few runs an hour) and file uploads to S3: small next to the "
        "customer traffic, and not measured here.\n"
        "- DynamoDB storage, point-in-time recovery and backups, data transfer out, X-Ray traces "
        "(the functions trace actively; X-Ray samples the first request each second and 5% of the "
        "rest), CloudWatch custom metrics, alarms and the dashboard: priced per stored or "
        "published item, not per request.\n"
        "- Lambda's own start (the sandbox, the zip download) before the bootstrap runs. The "
        "waiting part of every duration is moto's answer time on a machine shared with other "
        "builds (its load average is in `lambda-measured.json`): moto takes hundreds of "
        "milliseconds for a transaction that DynamoDB in the same region commits in tens, so the "
        "write routes' durations, the concurrency and the Lambda cost here are upper bounds. "
        "CPU times are this machine's cores, not Graviton's.\n"
    )
    return "\n".join(out)


def main(argv):
    check = "--check" in argv[1:]
    unknown = [arg for arg in argv[1:] if arg != "--check"]
    if unknown:
        print(f"usage: {argv[0]} [--check]", file=sys.stderr)
        return 2
    try:
        traffic = load_json("traffic.json")
        operations = load_json("dynamodb-per-route.json")
        measured = load_json("lambda-measured.json")
        template = read_template()
        text = render(traffic, operations, measured, template, build(traffic, operations, measured, template))
    except ModelError as error:
        print(f"capacity model: {error}", file=sys.stderr)
        return 1
    if check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print("docs/capacity.md is not what the inputs give: run python3 infra/capacity/model.py",
                  file=sys.stderr)
            return 1
        print("docs/capacity.md matches its inputs")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
