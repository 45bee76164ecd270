#!/usr/bin/env python3
"""yearly-mean: one year's (synthetic) mean temperature anomaly for a region.

A stand-in for a real per-year analysis: deterministic, instant, no data files, so the
scatter example runs anywhere in seconds.
"""
import argparse
import json
import os
import zlib


def main() -> None:
    parser = argparse.ArgumentParser(description="Mean temperature anomaly for one year.")
    parser.add_argument("--year", type=int, required=True, help="the year to process")
    parser.add_argument("--region", default="global", help="region name")
    args = parser.parse_args()

    seed = zlib.crc32(f"{args.region}:{args.year}".encode())
    mean = round(0.02 * (args.year - 2000) + (seed % 100) / 1000, 3)
    print(f"{args.region} {args.year}: {mean:+.3f} C", flush=True)
    with open(os.environ.get("KRDC_OUTPUTS", "/dev/termination-log"), "w", encoding="utf-8") as f:
        json.dump({"year": args.year, "region": args.region, "mean": mean}, f)


if __name__ == "__main__":
    main()
