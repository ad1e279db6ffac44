#!/usr/bin/env bash
# One stage's release steps, as the deploy workflow runs them (docs/deploy.md):
#
#   infra/deploy/stage.sh deploy STAGE     package .aws-sam/build and deploy it
#   infra/deploy/stage.sh record STAGE     keep the deployed template as the stage's last good one
#   infra/deploy/stage.sh rollback STAGE   deploy the stage's last good template again
#
# deploy and rollback end by printing the stage's base URL (the stack's ApiBaseUrl output) and,
# under GitHub Actions, writing it as the step output base_url.
#
# STAGE is a section of samconfig.toml (staging, production). A deploy that CloudFormation
# cannot apply rolls itself back; what this script rolls back is a deploy that succeeded and
# then failed its smoke test. `record` runs only after the smoke test passed, so the template it
# keeps (s3://$ARTIFACTS_BUCKET/<stack>/last-good.yaml, whose code it references by S3 key in the
# same bucket) is always one that worked; `rollback` redeploys exactly that, code included.
#
# Environment (the workflow sets it from the GitHub environment of the stage):
#   ARTIFACTS_BUCKET    bucket for the packaged code and the last good template
#   CURSOR_SIGNING_KEY  the stage's cursor-signing secret (template parameter CursorSigningKey)
#   MAIL_FROM, FLEET_ALERTS_EMAIL   the template's MailFrom and FleetAlertsEmail
#   AWS_REGION and credentials, from the OIDC role assumption
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

fail() {
    printf 'FAILED: %s\n' "$*" >&2
    exit 1
}

[[ $# -eq 2 ]] || fail "usage: $0 deploy|record|rollback STAGE"
ACTION="$1"
STAGE="$2"
: "${ARTIFACTS_BUCKET:?set ARTIFACTS_BUCKET}"
: "${AWS_REGION:?set AWS_REGION}"

# samconfig.toml's value of KEY for the stage's deploy command.
config() {
    python3 - "$STAGE" "$1" <<'PY'
import sys, tomllib
with open("samconfig.toml", "rb") as f:
    config = tomllib.load(f)
try:
    value = config[sys.argv[1]]["deploy"]["parameters"][sys.argv[2]]
except KeyError:
    sys.exit(f"samconfig.toml has no {sys.argv[2]} in [{sys.argv[1]}.deploy.parameters]")
print(" ".join(value) if isinstance(value, list) else value)
PY
}

STACK="$(config stack_name)" || exit 1
LAST_GOOD="s3://$ARTIFACTS_BUCKET/$STACK/last-good.yaml"
PACKAGED="$ROOT/.aws-sam/packaged-$STAGE.yaml"

# `sam deploy --parameter-overrides` replaces samconfig's list rather than adding to it, so the
# stage's overrides are read from samconfig.toml and the secrets appended to them.
sam_deploy() {
    local template="$1" overrides
    : "${CURSOR_SIGNING_KEY:?set CURSOR_SIGNING_KEY}"
    : "${MAIL_FROM:?set MAIL_FROM}"
    : "${FLEET_ALERTS_EMAIL:?set FLEET_ALERTS_EMAIL}"
    # SAM splits the overrides at spaces; none of these values may hold one.
    [[ "$CURSOR_SIGNING_KEY$MAIL_FROM$FLEET_ALERTS_EMAIL" != *[[:space:]]* ]] ||
        fail "CURSOR_SIGNING_KEY, MAIL_FROM and FLEET_ALERTS_EMAIL must not contain spaces"
    overrides="$(config parameter_overrides)" || exit 1
    # shellcheck disable=SC2086 # the overrides are space-separated Key=Value words
    sam deploy --config-env "$STAGE" --template-file "$template" --s3-bucket "$ARTIFACTS_BUCKET" \
        --parameter-overrides $overrides "CursorSigningKey=$CURSOR_SIGNING_KEY" \
        "MailFrom=$MAIL_FROM" "FleetAlertsEmail=$FLEET_ALERTS_EMAIL"
}

base_url() {
    local url
    url="$(aws cloudformation describe-stacks --stack-name "$STACK" \
        --query "Stacks[0].Outputs[?OutputKey=='ApiBaseUrl'].OutputValue" --output text)"
    [[ "$url" == https://* ]] || fail "stack $STACK has no ApiBaseUrl output (got '$url')"
    echo "$STACK answers at $url"
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
        echo "base_url=$url" >>"$GITHUB_OUTPUT"
    fi
}

case "$ACTION" in
deploy)
    [[ -f .aws-sam/build/template.yaml ]] || fail "no .aws-sam/build/template.yaml: run sam build first"
    sam package --template-file .aws-sam/build/template.yaml --s3-bucket "$ARTIFACTS_BUCKET" \
        --s3-prefix "$STACK" --output-template-file "$PACKAGED"
    sam_deploy "$PACKAGED"
    base_url
    ;;
record)
    [[ -f "$PACKAGED" ]] || fail "no $PACKAGED: deploy first"
    aws s3 cp --only-show-errors "$PACKAGED" "$LAST_GOOD"
    echo "recorded $PACKAGED as $LAST_GOOD"
    ;;
rollback)
    previous="$ROOT/.aws-sam/last-good-$STAGE.yaml"
    aws s3 cp --only-show-errors "$LAST_GOOD" "$previous" ||
        fail "no last good release at $LAST_GOOD (the first deploy of $STACK has nothing to roll back to); fix forward"
    echo "rolling $STACK back to $LAST_GOOD"
    sam_deploy "$previous"
    base_url
    ;;
*)
    fail "unknown action $ACTION (deploy, record or rollback)"
    ;;
esac
