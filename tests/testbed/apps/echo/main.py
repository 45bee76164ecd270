#!/usr/bin/env python3
"""echo: the testbed's demo app. Prints its arguments, optionally some environment variables and files,
sleeps if asked, writes a JSON object to the termination message file and exits with the code asked for.

Run on the process node as image krdc.example/echo:1 (see tests/testbed/images.yaml)."""
import argparse
import json
import os
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(prog="echo", description=__doc__)
    p.add_argument("--message", required=True, help="what to say")
    p.add_argument("--count", type=int, default=1, help="how many times to say it")
    p.add_argument("--sleep", type=float, default=0.0, help="seconds to sleep before finishing")
    p.add_argument("--exit-code", type=int, default=0, help="exit with this code")
    p.add_argument("--show-env", action="append", default=[], metavar="NAME", help="print this env var")
    p.add_argument("--cat", action="append", default=[], metavar="FILE", help="print this file's content")
    p.add_argument("--termination-log", default="/dev/termination-log", help="where the JSON result goes")
    p.add_argument("--touch", action="append", default=[], metavar="FILE", help="create this (empty) file")
    a = p.parse_args()

    for i in range(a.count):
        print(f"echo[{i}]: {a.message}", flush=True)
    for name in a.show_env:
        print(f"env {name}={os.environ.get(name, '<unset>')}", flush=True)
    for path in a.cat:
        with open(path, encoding="utf-8") as f:
            print(f"file {path}: {f.read().strip()}", flush=True)
    for path in a.touch:
        open(path, "a", encoding="utf-8").close()
        print(f"touched {path}", flush=True)
    print(f"pid {os.getpid()} cwd {os.getcwd()}", flush=True)
    if a.sleep > 0:
        print(f"sleeping {a.sleep}s", flush=True)
        time.sleep(a.sleep)
        print("slept", flush=True)
    result = {"message": a.message, "count": a.count, "exit_code": a.exit_code, "pid": os.getpid()}
    with open(a.termination_log, "w", encoding="utf-8") as f:
        json.dump(result, f, sort_keys=True)
    if a.exit_code:
        print(f"failing with exit code {a.exit_code}", file=sys.stderr, flush=True)
    return a.exit_code


if __name__ == "__main__":
    sys.exit(main())
