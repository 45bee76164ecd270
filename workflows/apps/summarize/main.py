#!/usr/bin/env python3
"""summarize: gathers per-year means into a table and a trend.

Receives the gathered outputs of a scattered step: one list per output, in item order.
"""
import argparse
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="Summarize per-year means.")
    parser.add_argument("--years", type=int, nargs="+", required=True, help="the years, in order")
    parser.add_argument("--means", type=float, nargs="+", required=True, help="one mean per year")
    parser.add_argument("--title", default="summary", help="a title for the table")
    args = parser.parse_args()
    if len(args.years) != len(args.means):
        parser.error(f"{len(args.years)} years but {len(args.means)} means")

    n = len(args.years)
    mx, my = sum(args.years) / n, sum(args.means) / n
    var = sum((x - mx) ** 2 for x in args.years)
    trend = sum((x - mx) * (y - my) for x, y in zip(args.years, args.means)) / var if var else 0.0
    warmest = max(zip(args.means, args.years))[1]

    # Beside the outputs file: the step's own directory in the run directory, never the app's.
    outputs = os.environ.get("KRDC_OUTPUTS", "/dev/termination-log")
    workdir = os.path.dirname(outputs) if outputs != "/dev/termination-log" else "/tmp"
    table = os.path.join(workdir, f"{args.title}.tsv")
    with open(table, "w", encoding="utf-8") as f:
        f.write("year\tmean\n")
        for year, mean in zip(args.years, args.means):
            f.write(f"{year}\t{mean}\n")
    print(f"{args.title}: {n} years, warmest {warmest}, trend {trend:+.4f} C/year", flush=True)
    with open(outputs, "w", encoding="utf-8") as f:
        json.dump({"warmest": warmest, "trend": round(trend, 4), "table": table}, f)


if __name__ == "__main__":
    main()
