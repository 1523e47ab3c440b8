#!/usr/bin/env python3
"""Synthetic asset register for load tests: N points spread uniformly over a
Greater-Manchester-sized box, with the mix of kinds and attributes a council
register has. Deterministic (seeded), CSV on stdout.

    python3 bench/gen_assets.py 1000000 > /tmp/assets.csv
    python3 bench/gen_assets.py 1000000 --bng > /tmp/assets-bng.csv

The box and density are what bench/bbox.lua assumes: with 1M assets a
0.0085 x 0.004 degree box holds about 100 of them.

With --bng the positions are British National Grid eastings and northings
(columns `easting`, `northing`, metres to the millimetre) spread uniformly
over the BNG rectangle around the same area, as councils export them: import
with `--crs EPSG:27700` (the import then converts every row with OSTN15).
"""
import random
import sys

MIN_LON, MAX_LON = -2.75, -1.90
MIN_LAT, MAX_LAT = 53.30, 53.70
# The same area on the British National Grid (its corners, rounded out).
MIN_E, MAX_E = 350_000.0, 406_500.0
MIN_N, MAX_N = 378_000.0, 423_000.0
KINDS = ["lamp_post"] * 80 + ["cctv_column"] * 3 + ["traffic_signal"] * 7 + ["bus_shelter"] * 8 + ["rooftop"] * 2
POWER = ["part_night", "continuous", "none"]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    bng = "--bng" in sys.argv[1:]
    n = int(args[0]) if args else 1_000_000
    rng = random.Random(7946)
    out = sys.stdout
    x_name, y_name = ("easting", "northing") if bng else ("lon", "lat")
    out.write(f"ref,kind,{x_name},{y_name},height_m,power_supply,status,install_year,column_type\n")
    for i in range(n):
        kind = rng.choice(KINDS)
        if bng:
            x = f"{rng.uniform(MIN_E, MAX_E):.3f}"
            y = f"{rng.uniform(MIN_N, MAX_N):.3f}"
        else:
            x = f"{rng.uniform(MIN_LON, MAX_LON):.6f}"
            y = f"{rng.uniform(MIN_LAT, MAX_LAT):.6f}"
        height = rng.choice((5, 6, 8, 10, 12)) if kind != "rooftop" else rng.choice((15, 21, 30))
        status = "available" if rng.random() < 0.9 else "unavailable"
        out.write(
            f"SYN-{i:07d},{kind},{x},{y},{height},{rng.choice(POWER)},{status},"
            f"{rng.randint(1965, 2024)},{rng.choice(('steel', 'concrete', 'aluminium'))}\n"
        )


if __name__ == "__main__":
    main()
