#!/usr/bin/env python3
"""The stack's resource budget, counted after the SAM transform.

CloudFormation allows 500 resources per stack, and SAM expands each AWS::Serverless::Function
into several (its function, a permission per API event, and whatever its properties ask for).
This transforms the template offline, with the SAM translator cfn-lint ships and cfn-lint's own
loader and managed-policy map (no AWS call), once as it is and once padded with synthetic routes
(`cargo run -p xtask -- budget` writes that one: each synthetic route on a path of its own, so it
also brings a preflight method, the most a route can cost). It prints the counts and fails when:

- either stack reaches the ceiling (--max-total), or
- a route costs more than --max-per-route resources beyond the fixed part, measured as the
  padded stack's growth per added route.

Run it through `cargo run -p xtask -- budget --python <python>`; infra/test.sh does.
"""

import argparse
import collections
import sys

from cfnlint.decode import decode
from cfnlint.template.transforms._sam import Transform


def transformed(path):
    """The resources CloudFormation would create from the template at `path`."""
    template, problems = decode(path)
    if problems:
        sys.exit(f"{path} does not parse: {problems}")
    transform = Transform(path, template, "us-east-1")
    problems = transform.transform_template()
    if problems:
        sys.exit(f"the SAM transform of {path} fails: {problems}")
    return transform.template()["Resources"]


def route_resources(resources):
    """The route functions and the API permissions (their own and their preflight methods')."""
    functions, permissions = set(), set()
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Permission" or "SourceArn" not in properties:
            continue
        arn = properties["SourceArn"]
        arn = arn.get("Fn::Sub", arn) if isinstance(arn, dict) else arn
        arn = arn[0] if isinstance(arn, list) else arn
        if not isinstance(arn, str) or "${__ApiId__}/${__Stage__}/" not in arn:
            continue  # the authorizer's permission, or one that is no API method's
        method = arn.split("${__ApiId__}/${__Stage__}/", 1)[1].split("/", 1)[0]
        permissions.add(logical_id)
        if method != "OPTIONS":
            functions.add(properties["FunctionName"]["Ref"])
    return functions, permissions


def describe(name, resources):
    print(f"{name}: {len(resources)} resources after the SAM transform")
    for kind, count in sorted(collections.Counter(r["Type"] for r in resources.values()).items()):
        print(f"  {count:4}  {kind}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", required=True)
    parser.add_argument("--routes", type=int, required=True, help="routes in --template")
    parser.add_argument("--padded", required=True)
    parser.add_argument("--padded-routes", type=int, required=True, help="routes in --padded")
    parser.add_argument("--max-per-route", type=int, required=True)
    parser.add_argument("--max-total", type=int, required=True)
    args = parser.parse_args()

    today = transformed(args.template)
    padded = transformed(args.padded)
    describe(f"template.yaml ({args.routes} routes)", today)
    describe(f"padded to {args.padded_routes} routes", padded)

    functions, permissions = route_resources(today)
    if len(functions) != args.routes:
        sys.exit(f"found {len(functions)} route functions in {args.template}, not {args.routes}")
    attributed = len(functions) + len(permissions)
    fixed = len(today) - attributed
    print(
        f"template.yaml: {attributed} resources for {args.routes} routes (each a function and its "
        f"permission, plus a preflight permission per path: {attributed / args.routes:.2f} a "
        f"route), fixed part {fixed}"
    )

    added = args.padded_routes - args.routes
    if added <= 0:
        sys.exit(f"the padded template must hold more routes than {args.routes}")
    growth = len(padded) - len(today)
    per_route = growth / added
    headroom = (500 - len(padded)) // args.max_per_route
    print(
        f"a route on a new path: {per_route:g} resources ({growth} for {added} added routes); "
        f"{args.padded_routes} routes: {len(padded)} of CloudFormation's 500, room for "
        f"{headroom} more routes"
    )

    failures = []
    if per_route > args.max_per_route:
        failures.append(f"a route costs {per_route:g} resources, more than {args.max_per_route}")
    for name, resources in [("template.yaml", today), ("the padded template", padded)]:
        if len(resources) >= args.max_total:
            failures.append(f"{name} has {len(resources)} resources, not below {args.max_total}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
