#!/usr/bin/env python3
"""Build the Streetcell demo data set (data/demo/) from Trafford council open data.

Usage (from the repository root):

    python3 data/demo/build_demo.py [SOURCE_DIR] [--out OUT_DIR]

SOURCE_DIR defaults to ../shared/data relative to the repository root (the folder
holding trafford-street-assets/, trafford-council-land-buildings/ and
trafford-boundaries/). OUT_DIR defaults to the folder this script lives in.

Standard library only (Python 3.11). Deterministic: the same source files give the
same output bytes on every run. All synthetic values come from a single
random.Random(2026), consumed in a fixed order, and only through Random.random()
(whose sequence is stable across Python versions). Nothing depends on the clock.

Writes assets.geojson, wards.geojson, conservation_areas.geojson, fee_zones.geojson
and README.md (the README's counts are computed here, so they always match the data).
"""

import argparse
import csv
import datetime
import json
import math
import os
import random
import sys
from collections import Counter

SEED = 2026
DECIMALS = 7

# Synthetic inspection dates fall in this window (inclusive). Fixed, not "today".
INSPECT_FIRST = datetime.date(2019, 1, 1)
INSPECT_LAST = datetime.date(2026, 10, 31)

# Fee zones: wards containing Trafford's four main town centres (the Local Plan's
# "town centres": Altrincham, Sale, Stretford, Urmston) are `central`.
CENTRAL_WARDS = ("Altrincham", "Sale Central", "Stretford & Humphrey Park", "Urmston")

# Share of lamp posts / rooftops *inside a conservation area* that are marked listed.
# About 5% of the lamp posts and 12% of the rooftops lie in a conservation area, so these
# give about 2% of each overall.
P_LISTED_LAMP_IN_CA = 0.40
P_LISTED_ROOF_IN_CA = 0.15

KINDS = ("lamp_post", "cctv_column", "traffic_signal", "bus_shelter", "rooftop", "wall", "other")

# Source files, relative to SOURCE_DIR.
F_CCTV = "trafford-street-assets/trafford_cctv_cameras.geojson"
F_TREES = "trafford-street-assets/trafford_highways_trees.geojson"
F_BUS = "trafford-street-assets/trafford_bus_stops.geojson"
F_LEISURE = "trafford-council-land-buildings/trafford_leisure_centres_and_parking_polygons.geojson"
F_REGISTER = "trafford-council-land-buildings/trafford_land_and_building_assets.csv"
F_WARDS = "trafford-boundaries/trafford_ward_2023_full_resolution.geojson"
F_BOROUGH = "trafford-boundaries/trafford_local_authority_2023_full_resolution.geojson"
F_CONSERVATION = "trafford-boundaries/trafford_conservation_areas.geojson"

# Expected source sizes (from the PROVENANCE files). The build stops if they differ.
EXPECTED = {
    F_CCTV: 163,
    F_TREES: 15638,
    F_BUS: 1025,
    F_LEISURE: 17,
    F_REGISTER: 608,
    F_WARDS: 21,
    F_CONSERVATION: 21,
}

# Register columns copied into asset properties (the rest are constant or become geometry).
REGISTER_COLUMNS = (
    "AssetCode", "UPRN", "PropertyName", "StreetNumber", "StreetName", "PostTown", "PostCode",
    "TenureType", "TenureDetail", "OtherDetail", "HoldingType", "BuildingSize", "LandArea",
    "EnergyRating", "EffectiveDate",
)
REGISTER_NUMERIC = ("BuildingSize", "LandArea")
ROOFTOP_HOLDING_TYPES = ("Buildings", "Land/Buildings")


def die(msg):
    sys.exit("build_demo.py: " + msg)


# --------------------------------------------------------------------------- synthetic values

class Synth:
    """All randomness goes through Random.random() so the stream is version-stable."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def u(self):
        return self.rng.random()

    def chance(self, p):
        return self.u() < p

    def uniform(self, a, b):
        return a + (b - a) * self.u()

    def randint(self, a, b):
        """Integer in [a, b] inclusive."""
        return a + min(int(self.u() * (b - a + 1)), b - a)

    def weighted(self, pairs):
        """pairs: sequence of (value, weight)."""
        total = sum(w for _, w in pairs)
        x = self.u() * total
        for value, w in pairs:
            x -= w
            if x < 0:
                return value
        return pairs[-1][0]

    def step(self, a, b, step):
        """Uniform in [a, b], rounded to a multiple of `step` (stays within [a, b])."""
        v = round(self.uniform(a, b) / step) * step
        return float(round(min(max(v, a), b), 3))

    def date_after_year(self, install_year):
        first = max(INSPECT_FIRST, datetime.date(install_year, 1, 1))
        lo, hi = first.toordinal(), INSPECT_LAST.toordinal()
        return datetime.date.fromordinal(self.randint(lo, hi)).isoformat()


def rooftop_height(area_m2, syn):
    """Roof height from the register's floor area (m² GIA); 8-20 m if unknown."""
    if area_m2 is None:
        return syn.step(8, 20, 0.5)
    if area_m2 < 50:  # kiosks, stores, containers
        return syn.step(2.5, 3.5, 0.5)
    if area_m2 < 300:  # single storey
        return syn.step(4, 7, 0.5)
    if area_m2 < 1500:  # about two storeys
        return syn.step(7, 12, 0.5)
    if area_m2 < 5000:  # large halls, three storeys
        return syn.step(10, 16, 0.5)
    return syn.step(14, 20, 0.5)


def synth_lamp_post(syn, in_ca):
    height = float(syn.weighted(((5, 4), (6, 40), (8, 30), (10, 20), (12, 6))))
    power = "continuous" if syn.chance(0.25) else "part_night"
    twin = syn.chance(0.15)
    capacity = 2 if (height >= 10 and twin) else 1
    if height <= 6:
        load = syn.step(15, 30, 5)
    elif height <= 8:
        load = syn.step(20, 45, 5)
    else:
        load = syn.step(30, 60, 5)
    year = syn.randint(1975, 2024)
    inspected = syn.date_after_year(year)
    status = "unavailable" if syn.chance(0.08) else "available"
    listed = syn.chance(P_LISTED_LAMP_IN_CA) and in_ca
    return height, power, capacity, load, inspected, year, status, listed


def synth_cctv_column(syn):
    height = float(syn.weighted(((6, 20), (7, 15), (8, 35), (9, 10), (10, 20))))
    capacity = 2 if syn.chance(0.3) else 1
    load = syn.step(30, 80, 5)
    year = syn.randint(1998, 2024)
    inspected = syn.date_after_year(year)
    status = "unavailable" if syn.chance(0.10) else "available"
    return height, "continuous", capacity, load, inspected, year, status, False


def synth_bus_shelter(syn):
    height = syn.step(2.5, 3.0, 0.1)
    power = "continuous" if syn.chance(0.85) else "none"
    load = syn.step(20, 50, 5)
    year = syn.randint(1985, 2024)
    inspected = syn.date_after_year(year)
    status = "unavailable" if syn.chance(0.06) else "available"
    return height, power, 1, load, inspected, year, status, False


def synth_rooftop(syn, area_m2, in_ca, leisure=False):
    # Leisure centres are big single-volume halls and pools: height does not grow with footprint.
    height = syn.step(8, 14, 0.5) if leisure else rooftop_height(area_m2, syn)
    capacity = syn.randint(2, 6)
    load = syn.step(150, 500, 10)
    year = syn.randint(1900, 2020)
    inspected = syn.date_after_year(year)
    status = "unavailable" if syn.chance(0.10) else "available"
    listed = syn.chance(P_LISTED_ROOF_IN_CA) and in_ca
    return height, "continuous", capacity, load, inspected, year, status, listed


def synth_car_park(syn):
    # A surface car park: the attributes describe its lighting columns.
    height = float(syn.weighted(((6, 50), (8, 50))))
    capacity = syn.randint(2, 4)
    load = syn.step(20, 40, 5)
    year = syn.randint(1970, 2020)
    inspected = syn.date_after_year(year)
    status = "unavailable" if syn.chance(0.10) else "available"
    return height, "part_night", capacity, load, inspected, year, status, False


# --------------------------------------------------------------------------- geometry helpers

def rnd(v):
    r = round(float(v), DECIMALS)
    return 0.0 if r == 0 else r  # no -0.0


def round_coords(c):
    if isinstance(c[0], (int, float)):
        return [rnd(x) for x in c]
    return [round_coords(x) for x in c]


def round_geometry(g):
    if g["type"] not in ("Point", "Polygon", "MultiPolygon"):
        die("unexpected geometry type " + g["type"])
    return {"type": g["type"], "coordinates": round_coords(g["coordinates"])}


def polygons_of(g):
    """List of polygons (each a list of rings) for a Polygon or MultiPolygon."""
    if g["type"] == "Polygon":
        return [g["coordinates"]]
    if g["type"] == "MultiPolygon":
        return g["coordinates"]
    die("not a polygon: " + g["type"])


class Area:
    """A (Multi)Polygon prepared for even-odd point-in-polygon tests with a bbox prefilter."""

    def __init__(self, geometry):
        self.polys = polygons_of(geometry)
        xs = [p[0] for poly in self.polys for ring in poly for p in ring]
        ys = [p[1] for poly in self.polys for ring in poly for p in ring]
        self.bbox = (min(xs), min(ys), max(xs), max(ys))

    def contains(self, x, y):
        x0, y0, x1, y1 = self.bbox
        if x < x0 or x > x1 or y < y0 or y > y1:
            return False
        for poly in self.polys:
            inside = False
            for ring in poly:  # even-odd over all rings handles holes
                n = len(ring)
                j = n - 1
                for i in range(n):
                    xi, yi = ring[i][0], ring[i][1]
                    xj, yj = ring[j][0], ring[j][1]
                    if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                        inside = not inside
                    j = i
            if inside:
                return True
        return False


def representative_point(geometry):
    """Vertex mean of the first exterior ring (good enough for small building polygons)."""
    ring = polygons_of(geometry)[0][0][:-1]
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))


def footprint_m2(geometry):
    """Planar area on a local equirectangular projection (fine for buildings)."""
    r = 6371008.8
    lat0 = math.radians(representative_point(geometry)[1])
    kx, ky = math.radians(1) * r * math.cos(lat0), math.radians(1) * r
    total = 0.0
    for poly in polygons_of(geometry):
        for k, ring in enumerate(poly):
            s = 0.0
            for (xa, ya), (xb, yb) in zip(ring, ring[1:]):
                s += (xa * kx) * (yb * ky) - (xb * kx) * (ya * ky)
            total += abs(s) / 2 * (1 if k == 0 else -1)
    return total


# --------------------------------------------------------------------------- IO helpers

def load_geojson(src, rel):
    with open(os.path.join(src, rel), encoding="utf-8") as fh:
        data = json.load(fh)
    feats = data["features"]
    if len(feats) != EXPECTED[rel]:
        die(f"{rel}: expected {EXPECTED[rel]} features, found {len(feats)}")
    return feats


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_collection(path, features):
    """RFC 7946 FeatureCollection, compact JSON, one feature per line, no `crs` member."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        fh.write(",\n".join(dumps(f) for f in features))
        fh.write("\n]}\n")


def feature(geometry, properties):
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def asset_properties(ref, kind, values, source, original):
    height, power, capacity, load, inspected, year, status, listed = values
    assert kind in KINDS and power in ("none", "part_night", "continuous")
    assert status in ("available", "unavailable") and capacity >= 1
    props = {
        "ref": ref,
        "kind": kind,
        "height_m": height,
        "power_supply": power,
        "capacity": capacity,
        "load_rating_kg": load,
        "last_inspected": inspected,
        "install_year": year,
        "status": status,
        "listed": listed,
    }
    props.update(original)
    props["source"] = source
    return props


def number_or_none(text):
    text = text.strip()
    if not text:
        return None
    return float(text)


# --------------------------------------------------------------------------- build

def build(src, out):
    syn = Synth(SEED)
    notes = {}

    # Boundaries first: conservation areas are needed for `listed`, wards for the self-check.
    ward_src = load_geojson(src, F_WARDS)
    ward_feats = []
    for f in ward_src:
        p = f["properties"]
        ward_feats.append(feature(round_geometry(f["geometry"]),
                                  {"name": p["area_name"], "code": p["area_code"]}))
    ward_areas = {f["properties"]["code"]: Area(f["geometry"]) for f in ward_feats}
    ward_names = [f["properties"]["name"] for f in ward_feats]
    for w in CENTRAL_WARDS:
        if w not in ward_names:
            die(f"central ward {w!r} not found in {F_WARDS}")
    notes["ward_dup_vertices"] = sum(
        1 for f in ward_feats for poly in polygons_of(f["geometry"]) for ring in poly
        for a, b in zip(ring, ring[1:]) if a == b)

    ca_src = load_geojson(src, F_CONSERVATION)
    ca_feats = []
    for f in ca_src:
        p = f["properties"]
        ca_feats.append(feature(round_geometry(f["geometry"]),
                                {"name": p["site_name"], "designation_date": p["designation_date"]}))
    ca_areas = [Area(f["geometry"]) for f in ca_feats]

    def in_ca(x, y):
        return any(a.contains(x, y) for a in ca_areas)

    with open(os.path.join(src, F_BOROUGH), encoding="utf-8") as fh:
        borough = Area(round_geometry(json.load(fh)["features"][0]["geometry"]))

    fee_feats = []
    for f in ward_feats:
        name = f["properties"]["name"]
        zone = "central" if name in CENTRAL_WARDS else "suburban"
        fee_feats.append(feature(f["geometry"], {"name": zone, "ward": name,
                                                 "ward_code": f["properties"]["code"]}))

    assets = []
    in_ca_by_kind = Counter()

    # CCTV cameras -> cctv_column
    cctv_ward_ok = 0
    for f in load_geojson(src, F_CCTV):
        p = f["properties"]
        cid = p["camera_id"]
        if isinstance(cid, float) and cid.is_integer():
            cid = int(cid)  # the GeoJSON stores 1001.0; the CSV has 1001
        geom = round_geometry(f["geometry"])
        x, y = geom["coordinates"]
        if ward_areas[p["area_code"]].contains(x, y):
            cctv_ward_ok += 1
        if in_ca(x, y):
            in_ca_by_kind["cctv_column"] += 1
        original = {"camera_id": cid, "location": p["location"],
                    "area_name": p["area_name"], "area_code": p["area_code"]}
        assets.append(feature(geom, asset_properties(
            f"CCTV-{cid}", "cctv_column", synth_cctv_column(syn), "trafford_cctv_cameras", original)))
    if cctv_ward_ok != EXPECTED[F_CCTV]:
        die(f"only {cctv_ward_ok}/163 CCTV cameras fall in their published ward after rounding")
    notes["cctv_ward_ok"] = cctv_ward_ok

    # Bus stops -> bus_shelter (geometry, not the centroid lon/lat properties)
    for f in load_geojson(src, F_BUS):
        p = f["properties"]
        geom = round_geometry(f["geometry"])
        x, y = geom["coordinates"]
        if in_ca(x, y):
            in_ca_by_kind["bus_shelter"] += 1
        original = {"atco_code": p["atco_code"], "common_name": p["common_name"], "street": p["street"]}
        assets.append(feature(geom, asset_properties(
            f"BS-{p['atco_code']}", "bus_shelter", synth_bus_shelter(syn), "trafford_bus_stops", original)))
    notes["bus_null_street"] = sum(1 for a in assets if a["properties"].get("source") == "trafford_bus_stops"
                                   and a["properties"]["street"] is None)

    # Highway trees -> lamp_post stand-ins
    seen_tree_refs = Counter()
    collisions = 0
    for f in load_geojson(src, F_TREES):
        p = f["properties"]
        geom = round_geometry(f["geometry"])
        x, y = geom["coordinates"]
        ca = in_ca(x, y)
        if ca:
            in_ca_by_kind["lamp_post"] += 1
        ref = f"SL-{p['treeID']}"
        seen_tree_refs[ref] += 1
        if seen_tree_refs[ref] > 1:  # deterministic disambiguation in source order
            collisions += 1
            ref = f"{ref}-{seen_tree_refs[ref]}"
        original = {"treeID": p["treeID"], "species": p["species"], "street": p["street"]}
        assets.append(feature(geom, asset_properties(
            ref, "lamp_post", synth_lamp_post(syn, ca), "trafford_highways_trees", original)))
    notes["tree_ref_collisions"] = collisions

    # Leisure centres and car parks -> rooftop / other
    lc_rule = []
    for n, f in enumerate(load_geojson(src, F_LEISURE), start=1):
        p = f["properties"]
        geom = round_geometry(f["geometry"])
        is_car_park = p["name"].strip().lower().endswith("parking")
        x, y = representative_point(geom)
        ca = in_ca(x, y)
        if is_car_park:
            kind, values = "other", synth_car_park(syn)
        else:
            kind, values = "rooftop", synth_rooftop(syn, None, ca, leisure=True)
        if ca:
            in_ca_by_kind[kind] += 1
        lc_rule.append((f"LC-{n}", p["name"], kind, round(footprint_m2(geom))))
        assets.append(feature(geom, asset_properties(
            f"LC-{n}", kind, values, "trafford_leisure_centres_and_parking_polygons", dict(p))))
    notes["lc"] = lc_rule

    # Council land and building register -> rooftop (Buildings, Land/Buildings with coordinates)
    with open(os.path.join(src, F_REGISTER), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != EXPECTED[F_REGISTER]:
        die(f"{F_REGISTER}: expected 608 rows, found {len(rows)}")
    holding = Counter(r["HoldingType"] for r in rows)
    buildings = [r for r in rows if r["HoldingType"] in ROOFTOP_HOLDING_TYPES]
    skipped_no_coords, swapped, outside = [], [], []
    for r in buildings:
        gx, gy = r["GeoX"].strip(), r["GeoY"].strip()
        if not gx or not gy:
            skipped_no_coords.append(r["AssetCode"])
            continue
        lon, lat = float(gx), float(gy)
        if 49 < lon < 61 and -9 < lat < 2:  # latitude/longitude swapped in the source row
            lon, lat = lat, lon
            swapped.append(r["AssetCode"])
        geom = {"type": "Point", "coordinates": [rnd(lon), rnd(lat)]}
        x, y = geom["coordinates"]
        if not borough.contains(x, y):
            outside.append(f"{r['AssetCode']} ({r['PropertyName']})")
        ca = in_ca(x, y)
        if ca:
            in_ca_by_kind["rooftop"] += 1
        original = {}
        for col in REGISTER_COLUMNS:
            v = r[col]
            original[col] = number_or_none(v) if col in REGISTER_NUMERIC else (v.strip() or None)
        values = synth_rooftop(syn, original["BuildingSize"], ca)
        assets.append(feature(geom, asset_properties(
            r["AssetCode"], "rooftop", values, "trafford_land_and_building_assets", original)))
    notes.update(register_rows=len(rows), holding=holding, register_buildings=len(buildings),
                 skipped_no_coords=skipped_no_coords, swapped=swapped, outside=outside)

    refs = Counter(a["properties"]["ref"] for a in assets)
    dup = [k for k, v in refs.items() if v > 1]
    if dup:
        die(f"duplicate refs: {dup[:5]}")

    os.makedirs(out, exist_ok=True)
    write_collection(os.path.join(out, "assets.geojson"), assets)
    write_collection(os.path.join(out, "wards.geojson"), ward_feats)
    write_collection(os.path.join(out, "conservation_areas.geojson"), ca_feats)
    write_collection(os.path.join(out, "fee_zones.geojson"), fee_feats)

    with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(readme(assets, fee_feats, in_ca_by_kind, notes))

    kinds = Counter(a["properties"]["kind"] for a in assets)
    print(f"wrote {len(assets)} assets {dict(sorted(kinds.items()))}, {len(ward_feats)} wards, "
          f"{len(ca_feats)} conservation areas, {len(fee_feats)} fee-zone features to {out}")


# --------------------------------------------------------------------------- README

def readme(assets, fee_feats, in_ca_by_kind, notes):
    props = [a["properties"] for a in assets]
    kinds = Counter(p["kind"] for p in props)
    by_source = Counter((p["source"], p["kind"]) for p in props)
    listed = Counter(p["kind"] for p in props if p["listed"])
    unavailable = Counter(p["kind"] for p in props if p["status"] == "unavailable")
    continuous = Counter(p["kind"] for p in props if p["power_supply"] == "continuous")
    central = sorted(f["properties"]["ward"] for f in fee_feats if f["properties"]["name"] == "central")
    suburban = sorted(f["properties"]["ward"] for f in fee_feats if f["properties"]["name"] == "suburban")

    def row(kind):
        return (f"| `{kind}` | {kinds[kind]:,} | {in_ca_by_kind[kind]:,} | {listed[kind]:,} "
                f"| {unavailable[kind]:,} | {continuous[kind]:,} |")

    lc_lines = "\n".join(f"| {ref} | {name} | `{kind}` | {area:,} |" for ref, name, kind, area in notes["lc"])
    holding = notes["holding"]
    n_roof_register = by_source[("trafford_land_and_building_assets", "rooftop")]
    outside = "; ".join(notes["outside"]) or "none"
    swapped = ", ".join(notes["swapped"]) or "none"

    return f"""# Streetcell demo data set (Trafford, Greater Manchester)

The data that `streetcell serve --demo` loads. Real Trafford Council open data (positions, identifiers,
names, boundaries) plus **synthetic** asset attributes (heights, power, capacity, load ratings, dates,
status, listed). Do not use it for real siting decisions.

**Generated file: do not edit by hand.** Rebuild with, from the repository root:

```
python3 data/demo/build_demo.py                 # source defaults to ../shared/data
python3 data/demo/build_demo.py /path/to/data   # or give the source folder
```

Python 3.11, standard library only. The build is deterministic (same bytes on every run; synthetic values come
from `random.Random({SEED})`; no clock input). It stops with an error if a source file does not have the expected
number of features, if a `ref` repeats, or if fewer than 163/163 CCTV cameras fall in their published ward.

## Files

All GeoJSON is RFC 7946: WGS84 longitude/latitude, no `crs` member, coordinates rounded to {DECIMALS} decimals
(about 1 cm), compact JSON with one feature per line.

| file | content |
|---|---|
| `assets.geojson` | {len(assets):,} assets (points, plus 17 MultiPolygons for the leisure centres and their car parks) |
| `wards.geojson` | the 21 Trafford wards of May 2023; properties `name` (area_name), `code` (area_code, GSS E050152xx) |
| `conservation_areas.geojson` | the 21 conservation areas; properties `name` (site_name), `designation_date` |
| `fee_zones.geojson` | **synthetic** fee zones: one feature per ward, `name` = `central` or `suburban`, plus `ward`, `ward_code` |
| `build_demo.py` | the generator |

Ward and conservation-area geometry is the source geometry with only the coordinates rounded (not simplified;
vertex order and ring orientation as published). With the rounded wards, {notes["cctv_ward_ok"]}/163 CCTV cameras
fall in the ward the publisher names for them. Rounding made {notes["ward_dup_vertices"]} pairs of consecutive
ward vertices identical; they are kept as they are.

## Assets per kind

| kind | assets | in a conservation area | `listed` | `unavailable` | continuous power |
|---|---|---|---|---|---|
{row("lamp_post")}
{row("cctv_column")}
{row("bus_shelter")}
{row("rooftop")}
{row("other")}
| **total** | **{len(props):,}** | {sum(in_ca_by_kind.values()):,} | {sum(listed.values()):,} | {sum(unavailable.values()):,} | {sum(continuous.values()):,} |

No `traffic_signal` or `wall` assets (no open source for them). "In a conservation area" is an even-odd
point-in-polygon test on the rounded geometry (for the leisure polygons: the mean of the outer ring's vertices);
the source PROVENANCE reports 796 trees, 12 CCTV cameras and 62 bus stops by the same kind of test.

| source (`source` property) | kind | assets | `ref` |
|---|---|---|---|
| `trafford_cctv_cameras` | `cctv_column` | {by_source[("trafford_cctv_cameras", "cctv_column")]} | `CCTV-<camera_id>` |
| `trafford_bus_stops` | `bus_shelter` | {by_source[("trafford_bus_stops", "bus_shelter")]:,} | `BS-<atco_code>` |
| `trafford_highways_trees` | `lamp_post` | {by_source[("trafford_highways_trees", "lamp_post")]:,} | `SL-<treeID>` |
| `trafford_leisure_centres_and_parking_polygons` | `rooftop` | {by_source[("trafford_leisure_centres_and_parking_polygons", "rooftop")]} | `LC-<n>` |
| `trafford_leisure_centres_and_parking_polygons` | `other` | {by_source[("trafford_leisure_centres_and_parking_polygons", "other")]} | `LC-<n>` |
| `trafford_land_and_building_assets` | `rooftop` | {n_roof_register} | `<AssetCode>` |

## Asset properties

Streetcell fields (every asset has all of them; `photo_url` is omitted):

| field | type | real or synthetic |
|---|---|---|
| `ref` | string, unique | derived from the source id (table above) |
| `kind` | `lamp_post` \\| `cctv_column` \\| `bus_shelter` \\| `rooftop` \\| `other` | from the source (rules below) |
| `height_m` | number | **synthetic** (register rooftops: derived from the real floor area) |
| `power_supply` | `none` \\| `part_night` \\| `continuous` | **synthetic** |
| `capacity` | integer >= 1 | **synthetic** |
| `load_rating_kg` | number | **synthetic** |
| `last_inspected` | `YYYY-MM-DD` | **synthetic**, {INSPECT_FIRST} to {INSPECT_LAST}, never before `install_year` |
| `install_year` | integer | **synthetic** |
| `status` | `available` \\| `unavailable` | **synthetic** |
| `listed` | bool | **synthetic**, but only ever true inside a real conservation area |
| `source` | string | the source data set (file stem) |

The source's own attributes follow under their original names:

- CCTV: `camera_id` (integer; the source GeoJSON stores it as 1001.0, the CSV as 1001), `location`,
  `area_name`, `area_code` (the publisher's ward).
- Bus stops: `atco_code`, `common_name`, `street` (null for {notes["bus_null_street"]} stops, as in the source). The
  source's `lon`/`lat`/`area_code`/`area_name` properties are dropped: they hold the borough centroid and the
  borough code for every stop. The position is the GeoJSON geometry.
- Lamp posts: `treeID`, `species`, `street`.
- Leisure centres / car parks: whatever the source feature has (`name`, `address`, `postcode`, `managed_by`, and
  for the centres `telephone`, `website`, `opening_hours`, `facilities`).
- Register: `AssetCode`, `UPRN`, `PropertyName`, `StreetNumber`, `StreetName`, `PostTown`, `PostCode`,
  `TenureType`, `TenureDetail`, `OtherDetail`, `HoldingType`, `BuildingSize` (m² GIA, number), `LandArea`
  (number), `EnergyRating`, `EffectiveDate`; empty cells are null. `OrganisationLabel`/`OrganisationURI` are
  constant and `CoordinateReferenceSystem`/`GeoX`/`GeoY` became the geometry.

### Which source rows become which assets

- **CCTV cameras** (163 points): all, kind `cctv_column`.
- **Bus stops** (1,025 points, NaPTAN): all, kind `bus_shelter`. The data does not say which stops really
  have a shelter; every stop stands in for one.
- **Lamp posts**: no real street-lighting inventory is openly available, so the 15,638 **council highway trees**
  (December 2011) stand in for lighting columns: real kerbside positions, ids and street names, but every
  lighting attribute is synthetic and the `species` is a tree's. Ref collisions: treeID is unique, so
  {notes["tree_ref_collisions"]} refs needed disambiguation (the script would append `-2`, `-3`... in source order).
- **Leisure-centre polygons** (17 MultiPolygons, `LC-<n>` = 1-based position in the source file).
  Rule: a feature whose `name` ends in "Parking" is a surface car park → `other`; every other feature is a
  building → `rooftop`. The parking features are also exactly the ones without telephone/website/facilities.
  For `other`, the synthetic attributes describe the car park's lighting columns (6 or 8 m, part-night power,
  capacity 2-4). The table of all 17 is below.
- **Council land and building register** ({notes["register_rows"]} rows: Land {holding["Land"]}, Land/Buildings
  {holding["Land/Buildings"]}, Buildings {holding["Buildings"]}): the {notes["register_buildings"]} Buildings and
  Land/Buildings rows become `rooftop` points with `ref` = AssetCode; **{len(notes["skipped_no_coords"])} of them
  are skipped because they have no coordinates**, leaving {n_roof_register}. The {holding["Land"]} Land rows are not
  used. Data fixes: {len(notes["swapped"])} row(s) had GeoX/GeoY swapped (latitude in GeoX) and were swapped back:
  {swapped}. Outside the Trafford boundary but kept (real council assets outside the borough): {outside}.
  (PROVENANCE counts 4 register rows outside the borough; the 4th is the swapped row, which lands in Davyhulme
  ward once fixed, matching its PostTown.) `EffectiveDate` has five distinct values (2022-10-18, 2023-09-29,
  2025-01-10, 2025-01-13, 2025-09-12), not the three PROVENANCE lists.
  Several rows share one coordinate (e.g. the blocks of a crematorium, buildings on one site).

Leisure-centre features (footprint from the polygon, for information; not stored in the data):

| ref | name | kind | footprint m² |
|---|---|---|---|
{lc_lines}

### Synthetic attribute rules

All drawn from one `random.Random({SEED})`, in file order.

| kind | height_m | power_supply | capacity | load_rating_kg | install_year | unavailable |
|---|---|---|---|---|---|---|
| `lamp_post` | 5/6/8/10/12 with weights 4/40/30/20/6 % | part_night, 25 % continuous | 1 (2 for 15 % of the 10-12 m columns) | 15-60 by height, steps of 5 | 1975-2024 | 8 % |
| `cctv_column` | 6-10 (mostly 8) | continuous | 1, 30 % 2 | 30-80 | 1998-2024 | 10 % |
| `bus_shelter` | 2.5-3.0 | continuous, 15 % none | 1 | 20-50 | 1985-2024 | 6 % |
| `rooftop` | register: from floor area, see below; leisure centres: 8-14 | continuous | 2-6 | 150-500, steps of 10 | 1900-2020 | 10 % |
| `other` (car park) | 6 or 8 | part_night | 2-4 | 20-40 | 1970-2020 | 10 % |

Register rooftop height, from BuildingSize (m² gross internal area):
< 50 m² → 2.5-3.5 m (stores, kiosks, containers); < 300 → 4-7; < 1,500 → 7-12; < 5,000 → 10-16; larger → 14-20;
unknown size (no BuildingSize) → 8-20 m. Leisure-centre buildings (sports halls, pools) get 8-14 m whatever
their footprint. Heights are rounded to 0.5 m.

`listed`: only assets inside a conservation area can be listed; of those, lamp posts are marked listed with
probability {P_LISTED_LAMP_IN_CA} and rooftops with {P_LISTED_ROOF_IN_CA} (about 2 % of each kind overall). CCTV columns, bus shelters and car parks are
never listed. This stands in for heritage constraints; it is not Historic England listing data.

## Fee zones (synthetic)

`fee_zones.geojson` is invented for the demo: it does not reflect any Trafford Council charging policy.
One feature per ward (geometry = the rounded ward geometry, identical to `wards.geojson`), so several features
share a `name`; the union of the features with a name is the zone.

- `central`: the wards holding Trafford's four main town centres: {", ".join(central)}.
- `suburban`: the other {len(suburban)} wards: {", ".join(suburban)}.

## Sources, licences and attribution

Everything used here is licensed under the Open Government Licence v3.0
(<https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/>; the leisure polygons' publisher
writes only "OGL"). The attribution statements below
must travel with this data and anything derived from it. The OpenStreetMap allotments (ODbL) and the OS Open
Greenspace sites in the shared data are **not** used, so no ODbL terms apply to this set.

1. **Trafford Council CCTV cameras** (`trafford_cctv_cameras`): GitHub `traffordDataLab/council_open_data`,
   `assets/cctv/trafford_cctv_cameras.geojson`, commit `3896f0d2a0de0a9623607146fc6ce5c05f98afc7`. Licence OGL v3.0.
   Attribution: "Contains public sector information licensed under the Open Government Licence v3.0. Source: Trafford Council."
2. **Trafford Council highway trees** (`trafford_highways_trees`, December 2011): GitHub `traffordDataLab/open_data`,
   `highways_trees/trafford_highways_trees.geojson`, commit `b1185a8cb85c8b0092f1d29ac20f550552b8a268`. Licence OGL v3.0.
   Attribution: "Contains public sector information licensed under the Open Government Licence v3.0. Source: Trafford Council."
3. **Bus stopping points** (`trafford_bus_stops`, NaPTAN via Transport for Greater Manchester, "GM bus stopping
   points"): GitHub `traffordDataLab/open_data`, `transport/bus/stops/trafford_bus_stops.geojson`, commit
   `28d5f20eabcfe8608792d40d0f06eea63a370d4a`. Licence OGL v3.0.
   Attribution: "Contains Transport for Greater Manchester data. Contains OS data © Crown copyright and database right 2023."
4. **Trafford Council land and building assets** (`trafford_land_and_building_assets`, Local Government Transparency
   Code): GitHub `traffordDataLab/council_open_data`, `transparency_code/local_authority_land/trafford_land_and_building_assets.csv`,
   commit `fe5479dc2923a44d46ce8dd87eb3cdce65bc9cc8`. Licence OGL v3.0.
   Attribution: "Contains public sector information licensed under the Open Government Licence v3.0. Source: Trafford Council."
5. **Leisure centres and parking polygons** (`trafford_leisure_centres_and_parking_polygons`): GitHub
   `traffordDataLab/council_open_data`, `assets/leisure_centres/trafford_leisure_centres_and_parking_polygons.geojson`,
   commit `968b40cafb6d05ca352d1c96467173452236f41d`. Publisher: Trafford Council. Licence: OGL (the publisher does not
   state a version). Attribution: "Trafford Council, Trafford Leisure CIC, George Carnall Community Group CIC, Schools Plus".
6. **Wards, May 2023** (`wards.geojson`, `fee_zones.geojson`; ONS "Wards (May 2023) Boundaries UK BFC"): GitHub
   `traffordDataLab/spatial_data`, `ward/2023/trafford_ward_full_resolution.geojson`, commit
   `e22cf87c58a714a92eee29ccf533051c4b701d4b`. Licence OGL v3.0. The Trafford boundary from the same source (ONS LAD
   May 2023 BFC, same commit and attribution) is used only for the build's outside-the-borough check.
   Attribution: "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. Contains OS data © Crown copyright and database right 2023"
7. **Conservation areas** (`conservation_areas.geojson`; Historic England "Conservation Areas", obtained 16-08-2024):
   GitHub `traffordDataLab/open_data`, `conservation_areas/trafford_conservation_areas.geojson`, commit
   `055bbb5de8d806733189d2cd901cdf649aea3378`. Licence OGL v3.0. Required attribution:
   "© Historic England 2024. Contains Ordnance Survey data © Crown copyright and database right 2024. The Historic England Data contained in this material was obtained on 16-08-2024. The most publicly available up to date Historic England Data can be obtained from HistoricEngland.org.uk"

Derived and synthetic parts (the `kind` mapping, every synthetic attribute, the fee zones, the coordinate
rounding and the fixes listed above) are the Streetcell project's and carry no endorsement by the publishers.
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo_root = os.path.dirname(os.path.dirname(here))
    default_src = os.path.normpath(os.path.join(repo_root, "..", "shared", "data"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", nargs="?", default=default_src,
                    help=f"folder with the trafford-* data folders (default: {default_src})")
    ap.add_argument("--out", default=here, help=f"output folder (default: {here})")
    args = ap.parse_args()
    if not os.path.isdir(args.source):
        die(f"source folder not found: {args.source}")
    build(args.source, args.out)


if __name__ == "__main__":
    main()
