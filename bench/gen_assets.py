#!/usr/bin/env python3
"""Synthetic asset register for load tests: N points spread uniformly over a
Greater-Manchester-sized box, with the mix of kinds and attributes a council
register has. Deterministic (seeded), CSV on stdout.

    python3 bench/gen_assets.py 1000000 > /tmp/assets.csv

The box and density are what bench/bbox.lua assumes: with 1M assets a
0.0085 x 0.004 degree box holds about 100 of them.
"""
import random
import sys

MIN_LON, MAX_LON = -2.75, -1.90
MIN_LAT, MAX_LAT = 53.30, 53.70
KINDS = ["lamp_post"] * 80 + ["cctv_column"] * 3 + ["traffic_signal"] * 7 + ["bus_shelter"] * 8 + ["rooftop"] * 2
POWER = ["part_night", "continuous", "none"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(7946)
    out = sys.stdout
    out.write("ref,kind,lon,lat,height_m,power_supply,status,install_year,column_type\n")
    for i in range(n):
        kind = rng.choice(KINDS)
        lon = rng.uniform(MIN_LON, MAX_LON)
        lat = rng.uniform(MIN_LAT, MAX_LAT)
        height = rng.choice((5, 6, 8, 10, 12)) if kind != "rooftop" else rng.choice((15, 21, 30))
        status = "available" if rng.random() < 0.9 else "unavailable"
        out.write(
            f"SYN-{i:07d},{kind},{lon:.6f},{lat:.6f},{height},{rng.choice(POWER)},{status},"
            f"{rng.randint(1965, 2024)},{rng.choice(('steel', 'concrete', 'aluminium'))}\n"
        )


if __name__ == "__main__":
    main()
