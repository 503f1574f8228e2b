#!/usr/bin/env python3
"""Check berth's list of ALB security policies (src/check/ssl_policies.json, read
from AWS's documentation) against the pinned moto's (moto/elbv2/ssl_policies.py,
which follows the same page): every policy moto knows must be in berth's list,
or berth would refuse a policy AWS offers."""
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
        sys.exit("check-ssl-policies: error: scripts/venv failed")
    py = str(VENV / "bin" / "python")
    os.execv(py, [py, __file__, *sys.argv[1:]])

from moto.elbv2.ssl_policies import SSL_POLICIES  # noqa: E402
import moto  # noqa: E402

ours = set(json.loads((ROOT / "src" / "check" / "ssl_policies.json").read_text())["policies"])
theirs = set(SSL_POLICIES)
missing = sorted(theirs - ours)
for name in missing:
    print(f"check-ssl-policies: moto {moto.__version__} knows `{name}`, src/check/ssl_policies.json does not", file=sys.stderr)
if missing or not theirs:
    sys.exit(1)
print(f"check-ssl-policies: ok ({len(ours)} policies, moto {moto.__version__}'s {len(theirs)} among them)")
