#!/usr/bin/env python3
"""shout: takes a message from an upstream step and transforms it.

Writes the result to a file in the step's working area and publishes both the text and
the file's path as outputs.
"""
import argparse
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="Transform a message.")
    parser.add_argument("--message", required=True, help="text to transform")
    parser.add_argument("--upper", action="store_true", help="convert to upper case")
    parser.add_argument("--repeat", type=int, default=1, help="repeat the text N times")
    parser.add_argument("--tag", action="append", default=[], help="tags to attach (repeatable)")
    args = parser.parse_args()

    text = args.message.upper() if args.upper else args.message
    text = " ".join([text] * args.repeat)
    print(text, flush=True)
    print(f"tags: {', '.join(args.tag) or '(none)'}", flush=True)
    outputs = os.environ.get("KRDC_OUTPUTS", "/dev/termination-log")
    with open(outputs, "w", encoding="utf-8") as f:
        json.dump({"text": text, "tags": args.tag}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
