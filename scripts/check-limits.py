#!/usr/bin/env python3
"""Check berth's CloudFormation template limits (src/limits.rs) against the
pinned cfn-lint's own (`cfnlint.helpers.LIMITS`): the same numbers, or fail."""
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
        sys.exit("check-limits: error: scripts/venv failed")
    py = str(VENV / "bin" / "python")
    os.execv(py, [py, __file__, *sys.argv[1:]])

from cfnlint.helpers import LIMITS  # noqa: E402
import cfnlint.version  # noqa: E402

# berth's constant → where cfn-lint keeps the same limit.
PAIRS = {
    "TEMPLATE_RESOURCES": ("Resources", "number"),
    "TEMPLATE_OUTPUTS": ("Outputs", "number"),
    "TEMPLATE_PARAMETERS": ("Parameters", "number"),
    "TEMPLATE_BYTES": ("template", "body"),
}

source = (ROOT / "src" / "limits.rs").read_text()
failures = []
for constant, (section, key) in PAIRS.items():
    match = re.search(
        r"pub const " + constant + r": Limit = Limit \{.*?value: ([0-9_]+),", source, re.S
    )
    if not match:
        failures.append(f"{constant} is not in src/limits.rs")
        continue
    ours = int(match.group(1).replace("_", ""))
    theirs = LIMITS[section][key]
    if ours != theirs:
        failures.append(f"{constant} is {ours}, cfn-lint's {section}.{key} is {theirs}")
for failure in failures:
    print(f"check-limits: {failure}", file=sys.stderr)
if failures:
    sys.exit(1)
print(f"check-limits: ok ({len(PAIRS)} template limits, cfn-lint {cfnlint.version.__version__})")
