#!/usr/bin/env python3
"""work: a tiny argparse app for the report test data (tests/data/results/regenerate).

Works for --ms milliseconds and writes its outputs. It fails (exit 3) when --fail-on names its
--label, or when the file --fail-file names it (a failure outside the step's inputs, so that
--resume reuses the other steps). When --hold names it, it touches --ready and then waits (at
most a minute) for krdc to be interrupted or killed: the barrier the regenerate script waits on.
"""
import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description="Pretend to work for a while.")
    parser.add_argument("--label", required=True, help="the step's name")
    parser.add_argument("--ms", default="100", help="how long to work, in milliseconds")
    parser.add_argument("--fail-on", default="", help="fail when this is the label")
    parser.add_argument("--hold", default="", help="when this is the label, wait to be stopped")
    parser.add_argument("--ready", default="", help="file to touch once holding")
    parser.add_argument("--fail-file", default="", help="fail when this file exists and names the label")
    args = parser.parse_args()

    print(f"{args.label}: working for {args.ms} ms", flush=True)
    time.sleep(int(args.ms) / 1000)
    if args.label == args.hold:
        open(args.ready, "w").close()
        print(f"{args.label}: holding until stopped", flush=True)
        time.sleep(60)
    named = open(args.fail_file).read().split() if args.fail_file and os.path.exists(args.fail_file) else []
    if args.label == args.fail_on or args.label in named:
        print(f"{args.label}: failing on purpose (--fail-on)", flush=True)
        raise SystemExit(3)
    with open(os.environ["KRDC_OUTPUTS"], "w", encoding="utf-8") as f:
        json.dump({"label": args.label, "ms": int(args.ms), "note": f"{args.label} done after {args.ms} ms"}, f)


if __name__ == "__main__":
    main()
