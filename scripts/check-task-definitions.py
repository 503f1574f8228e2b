#!/usr/bin/env python3
"""Validate ECS task-definition JSON files as `aws ecs register-task-definition --cli-input-json` input."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"

# Re-run inside the project venv (created/refreshed by scripts/venv) unless already there.
if Path(sys.prefix).resolve() != VENV.resolve():
    if subprocess.run([str(ROOT / "scripts" / "venv")]).returncode != 0:
        sys.exit("check-task-definitions: error: scripts/venv failed")
    py = str(VENV / "bin" / "python")
    os.execv(py, [py, __file__, *sys.argv[1:]])

try:  # awscli >= 1.46 vendors botocore; this is the exact model `aws ecs ...` uses.
    from awscli.botocore import session as bc_session, validate as bc_validate
except ImportError:
    from botocore import session as bc_session, validate as bc_validate


def collect(args):
    files = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.json") if f.parent.name == "task-definitions")
        elif p.is_file():
            files.append(p)
        else:
            print(f"check-task-definitions: error: no such file or directory: {arg}", file=sys.stderr)
            sys.exit(2)
    return files


def problems(path, shape):
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return [f"cannot read JSON: {e}"]
    if not isinstance(data, dict):
        return [f"top level must be a JSON object, got {type(data).__name__}"]
    report = bc_validate.ParamValidator().validate(data, shape)
    return report.generate_report().splitlines() if report.has_errors() else []


def main():
    files = collect(sys.argv[1:])
    if not files:
        print("check-task-definitions: error: no task-definition files to check "
              "(give files, or directories containing task-definitions/*.json)", file=sys.stderr)
        return 2
    model = bc_session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    failed = 0
    for f in files:
        errs = problems(f, shape)
        if errs:
            failed += 1
            for e in errs:
                print(f"FAIL {f}: {e}", file=sys.stderr)
        else:
            print(f"ok {f}")
    if failed:
        print(f"check-task-definitions: {failed} of {len(files)} file(s) invalid", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
