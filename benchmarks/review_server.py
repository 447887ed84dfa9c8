"""The review app at 70,000 images (issue 55: the overview and a 7,000-image cluster's page in 1 s or less on 2
cores, an edit in 200 ms or less of server time, the server in 1 GB or less).

Clusters all of Fashion-MNIST with the default pipeline (the CLI, in its own process; or ``--run`` an existing run
folder), copies the run folder, starts the review app on it in this process and asks it what the page asks, over
HTTP, timing each answer as the client sees it (so server time plus a loopback round trip): the overview, the first
and a late page of the largest cluster, the map, an edit (moving 20 images), an undo, a split shown before it is
applied, "more like this". Memory is this process's peak (the server and the small client) and the server's own
growth from before it read the run.

Run:  .venv/bin/python -m benchmarks.review_server [--run RUN] [--repeat 5]
      (about 8 minutes on 2 cores with the clustering, seconds with --run)
Writes benchmarks/results/review_server.json and .md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import finish, markdown_table, peak_rss_mb

#: The issue's targets, in seconds.
TARGETS = {"overview": 1.0, "cluster page": 1.0, "edit": 0.2}


def _make_run(out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from deepclust.cli import app; app()", "cluster", "--dataset",
                    "fashion-mnist", "--split", "all", "-k", "10", "--out", str(out), "--quiet"], check=True)
    return time.perf_counter() - started


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="an existing run folder (default: cluster Fashion-MNIST 70k)")
    parser.add_argument("--repeat", type=int, default=5, help="times each request is timed (the median is kept)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="review-server-"))
    cluster_s = None
    if args.run is None:
        args.run = work / "fashion-mnist"
        cluster_s = _make_run(args.run)
    run_dir = work / "reviewed"
    shutil.copytree(args.run, run_dir, ignore=shutil.ignore_patterns("review.jsonl"))

    from deepclust.review import ReviewServer

    before = _rss_mb()
    started = time.perf_counter()
    server = ReviewServer(run_dir)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    while not server.server.started:
        time.sleep(0.01)
    start_s = time.perf_counter() - started

    def ask(method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        headers = {"Host": f"127.0.0.1:{server.port}", "Cookie": f"{server.cookie}={server.token}",
                   "Origin": f"http://127.0.0.1:{server.port}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        t = time.perf_counter()
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        data = response.read()
        seconds = time.perf_counter() - t
        conn.close()
        assert response.status == 200, (path, response.status, data[:200])
        return json.loads(data) if response.getheader("content-type", "").startswith("application/json") else data, \
            seconds, len(data)

    def timed(name, method, path, body=None, repeat=args.repeat):
        times, size, answer = [], 0, None
        for _ in range(repeat):
            answer, seconds, size = ask(method, path, body() if callable(body) else body)
            times.append(seconds)
        return answer, {"request": name, "median_s": round(float(np.median(times)), 4),
                        "max_s": round(max(times), 4), "answer_kb": round(size / 1024, 1), "repeat": repeat}

    rows = []
    state, row = timed("overview", "GET", "/api/state")
    rows.append(row)
    largest = max((c for c in state["clusters"] if not c["aside"]), key=lambda c: c["size"])
    _, row = timed(f"cluster page (cluster of {largest['size']:,}, page 1)", "GET",
                   f"/api/cluster?id={largest['id']}&page=0")
    rows.append(row)
    last = -(-largest["size"] // 100) - 1
    _, row = timed(f"cluster page (cluster of {largest['size']:,}, page {last + 1})", "GET",
                   f"/api/cluster?id={largest['id']}&page={last}")
    rows.append(row)
    _, row = timed("map (every image)", "GET", "/api/map", repeat=3)
    rows.append(row)
    page = ask("GET", f"/api/cluster?id={largest['id']}&page=0")[0]
    target = next(c["id"] for c in state["clusters"] if c["id"] != largest["id"] and not c["aside"])
    moves = iter(range(1000))

    def move():
        k = next(moves) % 5
        return {"op": "move", "rows": [item[0] for item in page["items"][k * 20:(k + 1) * 20]], "to": target}

    _, row = timed("edit: move 20 images (log synced, clusters measured again)", "POST", "/api/edit", move)
    rows.append(row)
    _, row = timed("undo", "POST", "/api/undo", {})
    rows.append(row)
    _, row = timed(f"split shown (k-means on {largest['size']:,} images)", "POST", "/api/propose-split",
                   {"cluster": largest["id"], "n": 2}, repeat=3)
    rows.append(row)
    _, row = timed("more like this (20 selected, 24 nearest of all)", "POST", "/api/similar",
                   {"rows": [item[0] for item in page["items"][:20]]})
    rows.append(row)
    _, row = timed(f"overview after {args.repeat + args.repeat} edits", "GET", "/api/state")
    rows.append(row)
    server.server.should_exit = True
    thread.join(10)

    n_images = state["n_images"]
    for r in rows:
        key = "edit" if r["request"].startswith("edit") else "cluster page" if r["request"].startswith(
            "cluster page") else "overview" if r["request"].startswith("overview") else None
        r["target_s"] = TARGETS.get(key)
        r["met"] = None if key is None else r["median_s"] <= TARGETS[key]
    grown = round(_rss_mb() - before)
    table = markdown_table(
        ["request", "median (s)", "slowest (s)", "answer (KB)", "target (s)", "met"],
        [[r["request"], r["median_s"], r["max_s"], r["answer_kb"], r["target_s"] or "—",
          "—" if r["met"] is None else "yes" if r["met"] else "**no**"] for r in rows])
    table = (f"{n_images:,} images ({state['title']}), {len(state['clusters'])} clusters; the server read the run in "
             f"{start_s:.1f} s and grew by {grown} MB (this process's peak: {peak_rss_mb():.0f} MB, target ≤ 1,024 "
             f"MB)" + (f"; clustering took {cluster_s:.0f} s" if cluster_s else "") + ".\n\n" + table)
    for r in rows:
        r.update(n_images=n_images, server_start_s=round(start_s, 2), server_growth_mb=grown)
    return finish("review_server", argv, rows, table)


if __name__ == "__main__":
    raise SystemExit(main())
