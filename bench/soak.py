#!/usr/bin/env python3
"""Steady mixed load for bench/soak.sh (standard library only).

    python3 bench/soak.py BASE TOKEN PID SECONDS RATE

Runs RATE requests a second (spread over worker threads, each on its own
keep-alive connection) for SECONDS: 60% k=10 nearest, 20% ~100-feature bbox
pages, 10% single assets, 8% PATCHes of one asset's status, 2% small CSV
imports. Every 10 s it prints requests, errors (any 5xx, connection error,
or a status the request should not get), p50/p99 latency and the server's
resident memory; at the end the totals. Exit status 1 when any error was seen.
"""
import http.client
import json
import random
import sys
import threading
import time
from urllib.parse import urlparse

BASE, TOKEN, PID, SECONDS, RATE = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
WORKERS = 16
HOST = urlparse(BASE)

lock = threading.Lock()
window = {"n": 0, "errors": 0, "lat": []}
totals = {"n": 0, "errors": 0, "lat": [], "error_kinds": {}}
ids = []


def rss_mb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pick(rng):
    r = rng.random()
    lon, lat = rng.uniform(-2.7, -1.95), rng.uniform(53.32, 53.68)
    if r < 0.60:
        return "GET", f"/v1/assets/nearest?lon={lon:.5f}&lat={lat:.5f}&k=10", None, None, (200,)
    if r < 0.80:
        bbox = f"{lon:.5f},{lat:.5f},{lon + 0.0085:.5f},{lat + 0.004:.5f}"
        return "GET", f"/collections/assets/items?bbox={bbox}&limit=100", None, None, (200,)
    if r < 0.90 and ids:
        return "GET", f"/v1/assets/{rng.choice(ids)}", None, None, (200,)
    if r < 0.98 and ids:
        body = json.dumps({"properties": {"status": rng.choice(["available", "unavailable"])}})
        return "PATCH", f"/v1/assets/{rng.choice(ids)}", body, "application/merge-patch+json", (200,)
    rows = "".join(
        f"SOAK-{rng.randrange(1000)},lamp_post,{rng.uniform(-2.7, -1.95):.5f},{rng.uniform(53.32, 53.68):.5f}\n"
        for _ in range(20)
    )
    return "POST", "/v1/authorities/synthetic/imports", "ref,kind,lon,lat\n" + rows, "text/csv", (200,)


def worker(seed, deadline, per_worker_rate):
    rng = random.Random(seed)
    conn = None
    interval = 1.0 / per_worker_rate
    next_at = time.monotonic() + rng.random() * interval
    while True:
        now = time.monotonic()
        if now >= deadline:
            return
        if next_at > now:
            time.sleep(next_at - now)
        next_at += interval
        method, path, body, ctype, ok = pick(rng)
        headers = {"authorization": f"Bearer {TOKEN}"}
        if ctype:
            headers["content-type"] = ctype
        t0 = time.monotonic()
        err = None
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=30)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status not in ok:
                err = f"{method} {path.split('?')[0]} -> {resp.status}"
        except Exception as e:  # connection reset, timeout...
            err = f"{method}: {type(e).__name__}"
            conn = None
        dt = time.monotonic() - t0
        with lock:
            for w in (window, totals):
                w["n"] += 1
                w["lat"].append(dt)
                if err:
                    w["errors"] += 1
            if err:
                totals["error_kinds"][err] = totals["error_kinds"].get(err, 0) + 1


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000


def main():
    c = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=30)
    c.request("GET", "/v1/assets?limit=1000", headers={"authorization": f"Bearer {TOKEN}"})
    page = json.loads(c.getresponse().read())
    ids.extend(f["id"] for f in page["features"])
    start = time.monotonic()
    deadline = start + SECONDS
    threads = [threading.Thread(target=worker, args=(i, deadline, RATE / WORKERS), daemon=True) for i in range(WORKERS)]
    for t in threads:
        t.start()
    print(f"{'t (s)':>6} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>8}", flush=True)
    print(f"{0:>6} {'':>9} {'':>7} {'':>8} {'':>8} {rss_mb():>8.1f}", flush=True)
    while time.monotonic() < deadline:
        time.sleep(min(10, max(0.0, deadline - time.monotonic())))
        with lock:
            w = dict(window)
            window.update(n=0, errors=0, lat=[])
        print(f"{time.monotonic() - start:>6.0f} {w['n']:>9} {w['errors']:>7} {pct(w['lat'], 50):>8.1f} "
              f"{pct(w['lat'], 99):>8.1f} {rss_mb():>8.1f}", flush=True)
    for t in threads:
        t.join()
    n, e = totals["n"], totals["errors"]
    print(f"total: {n} requests in {SECONDS:.0f} s ({n / SECONDS:.0f}/s), {e} errors, "
          f"p50 {pct(totals['lat'], 50):.1f} ms, p99 {pct(totals['lat'], 99):.1f} ms, final RSS {rss_mb():.1f} MB")
    for k, v in sorted(totals["error_kinds"].items(), key=lambda kv: -kv[1])[:10]:
        print(f"  error: {v} x {k}")
    sys.exit(1 if e else 0)


main()
