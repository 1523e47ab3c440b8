#!/usr/bin/env python3
"""Writes the rows of a bench/gen_assets.py CSV straight into a Streetcell
SQLite database whose schema the server has created (and that already has
the authority), so a 1M-asset fixture takes seconds rather than the CLI
import's minutes. The server then loads it through its ordinary start-up.
Each row is also logged in the change feed (`asset_changes`), as every
writer of assets must: a start-up snapshot trusts the feed to name every
change since it was written. Ids are the service's own (`domain::asset::asset_id`: the authority and a
SHA-256 of authority NUL ref, first 8 bytes in hex).

    python3 bench/fill_sqlite.py assets.csv streetcell.db synthetic
"""
import csv
import hashlib
import json
import sqlite3
import sys


def main() -> None:
    path, db, authority = sys.argv[1], sys.argv[2], sys.argv[3]
    con = sqlite3.connect(db)
    now = "2026-11-30T00:00:00Z"

    def rows():
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                ref = r["ref"]
                digest = hashlib.sha256(f"{authority}\0{ref}".encode()).digest()[:8].hex()
                geometry = json.dumps({"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
                                      separators=(",", ":"))
                yield (
                    f"{authority}-{digest}", authority, ref, r["kind"], geometry, float(r["height_m"]),
                    r["power_supply"], 1, int(r["install_year"]), r["status"], 0,
                    json.dumps({"column_type": r["column_type"]}, separators=(",", ":")), now, now,
                )

    # Streamed (a 10M-row register does not fit in Python's memory as a
    # list); the feed gets one row per asset in the order they were written.
    with con:
        before = con.execute("SELECT COALESCE(MAX(rowid), 0) FROM assets").fetchone()[0]
        con.executemany(
            "INSERT OR REPLACE INTO assets (id, authority, ref, kind, geometry, height_m, power_supply,"
            " capacity, install_year, status, listed, source_attributes, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows(),
        )
        n = con.execute(
            "INSERT INTO asset_changes (asset_id) SELECT id FROM assets WHERE rowid > ? ORDER BY rowid",
            (before,),
        ).rowcount
    print(f"{n} assets written to {db}")


if __name__ == "__main__":
    main()
