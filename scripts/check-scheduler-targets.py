#!/usr/bin/env python3
"""Validate the API calls of EventBridge Scheduler schedules (berth's off-hours).

Each `AWS::Scheduler::Schedule` of a CloudFormation template and each
`aws_scheduler_schedule` of a Terraform configuration calls one AWS API action
through a universal target, `arn:aws:scheduler:::aws-sdk:<service>:<action>`,
with a JSON `Input`. Scheduler only finds out at fire time (at night) that the
action does not exist or the input is wrong. This script checks, against the
pinned botocore model (the one `aws` uses, see check-task-definitions.py):
the target names an operation of the service, and the input is valid input of
that operation (botocore's ParamValidator). References inside the input
(`Fn::Sub` variables, Terraform `${...}`) are replaced by an example ARN.
The schedule itself (`CreateSchedule`) is validated too, with the same ARNs.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"

if Path(sys.prefix).resolve() != VENV.resolve():
    if subprocess.run([str(ROOT / "scripts" / "venv")]).returncode != 0:
        sys.exit("check-scheduler-targets: error: scripts/venv failed")
    py = str(VENV / "bin" / "python")
    os.execv(py, [py, __file__, *sys.argv[1:]])

try:  # awscli >= 1.46 vendors botocore; this is the exact model `aws ...` uses.
    from awscli.botocore import session as bc_session, validate as bc_validate
except ImportError:
    from botocore import session as bc_session, validate as bc_validate

# Universal targets name the service as the SDK does; botocore's model names.
SERVICES = {
    "ecs": "ecs",
    "rds": "rds",
    "elasticloadbalancingv2": "elbv2",
    "autoscaling": "autoscaling",
    "applicationautoscaling": "application-autoscaling",
}
TARGET = re.compile(r"^arn:aws:scheduler:::aws-sdk:([a-z0-9]+):([a-z][A-Za-z0-9]*)$")
EXAMPLE_ARN = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener-rule/app/lb/0123456789abcdef/0123456789abcdef/0123456789abcdef"
ROLE_ARN = "arn:aws:iam::123456789012:role/berth-off-hours"

SESSION = bc_session.get_session()
MODELS = {}


def model(service):
    if service not in MODELS:
        MODELS[service] = SESSION.get_service_model(service)
    return MODELS[service]


def schedules(path):
    """(name, target arn, input text, expression, timezone) of every schedule in one file."""
    data = json.loads(path.read_text())
    found = []
    if path.name.endswith(".cfn.json"):
        for rid, r in data.get("Resources", {}).items():
            if r.get("Type") != "AWS::Scheduler::Schedule":
                continue
            p = r["Properties"]
            t = p["Target"]
            raw = t.get("Input")
            if isinstance(raw, dict) and "Fn::Sub" in raw:
                text, variables = raw["Fn::Sub"]
                for name in variables:
                    text = text.replace("${" + name + "}", EXAMPLE_ARN)
            else:
                text = raw
            found.append((rid, t["Arn"], text, p["ScheduleExpression"], p.get("ScheduleExpressionTimezone")))
    elif path.name.endswith(".tf.json"):
        for name, b in data.get("resource", {}).get("aws_scheduler_schedule", {}).items():
            t = b["target"]
            text = t.get("input")
            if text is not None:
                text = re.sub(r"(?<!\$)\$\{[^}]*\}", EXAMPLE_ARN, text).replace("$${", "${").replace("%%{", "%{")
            found.append((f"aws_scheduler_schedule.{name}", t["arn"], text, b["schedule_expression"],
                          b.get("schedule_expression_timezone")))
    return found


def too_long(value, shape, path="input"):
    """String and list `max` limits of the model, which ParamValidator leaves out
    (ALB's fixed-response MessageBody is at most 1024 characters)."""
    out = []
    limit = shape.metadata.get("max")
    if shape.type_name == "string" and isinstance(value, str) and limit is not None and len(value) > limit:
        out.append(f"{path}: {len(value)} characters, more than the {limit} of `{shape.name}`")
    elif shape.type_name == "structure" and isinstance(value, dict):
        for k, v in value.items():
            if k in shape.members:
                out += too_long(v, shape.members[k], f"{path}.{k}")
    elif shape.type_name == "list" and isinstance(value, list):
        if limit is not None and len(value) > limit:
            out.append(f"{path}: {len(value)} items, more than the {limit} of `{shape.name}`")
        for i, v in enumerate(value):
            out += too_long(v, shape.member, f"{path}[{i}]")
    return out


def problems(target, text, expression, timezone):
    m = TARGET.match(target)
    if not m:
        return [f"target `{target}` is not a universal target arn:aws:scheduler:::aws-sdk:<service>:<action>"]
    service, action = m.groups()
    if service not in SERVICES:
        return [f"service `{service}` of `{target}` is not one berth knows ({', '.join(sorted(SERVICES))})"]
    sm = model(SERVICES[service])
    operation = action[0].upper() + action[1:]
    if operation not in sm.operation_names:
        return [f"`{SERVICES[service]}` has no operation `{operation}` (target `{target}`)"]
    if text is None:
        return ["the target has no Input"]
    try:
        params = json.loads(text)
    except ValueError as e:
        return [f"Input is not JSON: {e}"]
    out = []
    shape = sm.operation_model(operation).input_shape
    report = bc_validate.ParamValidator().validate(params, shape)
    if report.has_errors():
        out += [f"{operation}: {line}" for line in report.generate_report().splitlines()]
    out += [f"{operation}: {line}" for line in too_long(params, shape)]
    create = {
        "Name": "x", "ScheduleExpression": expression, "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": target, "RoleArn": ROLE_ARN, "Input": text},
    }
    if timezone is not None:
        create["ScheduleExpressionTimezone"] = timezone
    report = bc_validate.ParamValidator().validate(
        create, model("scheduler").operation_model("CreateSchedule").input_shape)
    if report.has_errors():
        out += [f"CreateSchedule: {line}" for line in report.generate_report().splitlines()]
    return out


def collect(args):
    files = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.json") if f.name.endswith((".cfn.json", ".tf.json")))
        elif p.is_file():
            files.append(p)
        else:
            print(f"check-scheduler-targets: error: no such file or directory: {arg}", file=sys.stderr)
            sys.exit(2)
    return files


def main():
    files = collect(sys.argv[1:])
    if not files:
        print("check-scheduler-targets: error: no CloudFormation or Terraform files to check", file=sys.stderr)
        return 2
    checked = failed = 0
    for f in files:
        for name, target, text, expression, timezone in schedules(f):
            checked += 1
            errs = problems(target, text, expression, timezone)
            if errs:
                failed += 1
                for e in errs:
                    print(f"FAIL {f}: {name}: {e}", file=sys.stderr)
            else:
                print(f"ok {f}: {name} ({target.rsplit(':', 2)[-2]}:{target.rsplit(':', 1)[-1]})")
    if failed:
        print(f"check-scheduler-targets: {failed} of {checked} schedule(s) invalid", file=sys.stderr)
        return 1
    print(f"check-scheduler-targets: ok ({checked} schedule(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
