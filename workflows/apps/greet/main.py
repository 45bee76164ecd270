#!/usr/bin/env python3
"""greet: composes a greeting and publishes it as an output.

A real argparse app: krdc renders the step's params as flags, and the app writes its
outputs as one JSON object to the file named by $KRDC_OUTPUTS (on a cluster that is
/dev/termination-log).
"""
import argparse
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="Compose a greeting.")
    parser.add_argument("--name", required=True, help="who to greet")
    parser.add_argument("--greeting", default="Hello", help="the word of greeting")
    parser.add_argument("--times", type=int, default=1, help="how many times to repeat it")
    parser.add_argument("--punctuation", choices=["!", ".", "?"], default="!", help="how to end it")
    args = parser.parse_args()

    text = " ".join([f"{args.greeting}, {args.name}{args.punctuation}"] * args.times)
    print(text, flush=True)
    outputs = os.environ.get("KRDC_OUTPUTS", "/dev/termination-log")
    with open(outputs, "w", encoding="utf-8") as f:
        json.dump({"message": text, "length": len(text)}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
