#!/usr/bin/env python3
"""A fake `aws` for berth's apply tests: records every call and replays scripted answers.

`rules.json` beside this script holds a list of rules, tried in order,
  {"when": ["describe-stacks", "tutorial-district"], "stdout": {...} or "text",
   "stderr": "...", "exit": 0, "times": 1, "sleep": 0.5}
A rule matches when each `when` string is a substring of the call's arguments,
in order; `times` (default: unlimited) says how often it answers. Calls are
appended to `calls.log` beside this script as JSON arrays, one per line. A call no rule answers
fails with exit code 255, so a missing rule shows in the test's transcript.

A rule may also hold `"write": {"path": "...", "text": "..."}`: the fake writes
that file before answering (to edit `out/` while berth waits). Every file a
call hands the CLI (`file://PATH`, `--body PATH`) is read at call time, as the
real CLI reads it, and appended to `files.log` as
{"arg": ..., "path": ..., "text": ..., "mode": "600", "dir_mode": "700"}.
"""
import json
import os
import sys
import time


def matches(when, argv):
    i = 0
    for arg in argv:
        if i < len(when) and when[i] in arg:
            i += 1
    return i == len(when)


def handed_files(argv):
    """The files a call hands the CLI, as the real CLI resolves them."""
    for i, arg in enumerate(argv):
        if arg.startswith("file://"):
            yield arg, arg[len("file://"):]
        elif i > 0 and argv[i - 1] == "--body":
            yield arg, arg


def record_files(here, argv):
    with open(os.path.join(here, "files.log"), "a") as log:
        for arg, path in handed_files(argv):
            entry = {"arg": arg, "path": path}
            try:
                with open(path) as f:
                    entry["text"] = f.read()
                entry["mode"] = oct(os.stat(path).st_mode & 0o777)[2:]
                entry["dir_mode"] = oct(os.stat(os.path.dirname(os.path.abspath(path))).st_mode & 0o777)[2:]
            except OSError as e:
                entry["error"] = str(e)
            log.write(json.dumps(entry) + "\n")


def main():
    argv = sys.argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    record_files(here, argv)
    rules_path = os.path.join(here, "rules.json")
    with open(os.path.join(here, "calls.log"), "a") as log:
        log.write(json.dumps(argv) + "\n")
    with open(rules_path) as f:
        rules = json.load(f)
    state_path = rules_path + ".used"
    used = {}
    if os.path.exists(state_path):
        with open(state_path) as f:
            used = json.load(f)
    for index, rule in enumerate(rules):
        count = used.get(str(index), 0)
        if "times" in rule and count >= rule["times"]:
            continue
        if not matches(rule["when"], argv):
            continue
        used[str(index)] = count + 1
        with open(state_path, "w") as f:
            json.dump(used, f)
        if rule.get("write"):
            with open(rule["write"]["path"], "w") as f:
                f.write(rule["write"]["text"])
        if rule.get("sleep"):
            time.sleep(rule["sleep"])
        out = rule.get("stdout", "")
        sys.stdout.write(out if isinstance(out, str) else json.dumps(out))
        sys.stderr.write(rule.get("stderr", ""))
        return rule.get("exit", 0)
    sys.stderr.write("fake aws: no rule answers: " + " ".join(argv) + "\n")
    return 255


if __name__ == "__main__":
    sys.exit(main())
