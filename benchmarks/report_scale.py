"""The run folder and report.html at 70,000 images (issue "The run report", "usable at 70,000 images").

Clusters all of Fashion-MNIST with the default pipeline, then measures what writing the run folder costs and what
a person then opens: the time of ``run.save`` (montages, the UMAP map with its hover sample, the member sheets,
report.html), the map alone, a rebuild with ``deepclust report``, the sizes of report.html, of the member scripts
and sheets and of the whole folder, and — where Chromium and chromedriver are installed — the time the page takes
to load and to open the largest cluster's first page of members.

Run:  .venv/bin/python -m benchmarks.report_scale [--dataset fashion-mnist] [--split all]
      (about 8 minutes on 2 cores, most of it the clustering itself)
Writes benchmarks/results/report_scale.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks._harness import command_line, machine, peak_rss_mb, write_results


def _size_mb(paths) -> float:
    return round(sum(p.stat().st_size for p in paths if p.is_file()) / 2**20, 2)


def _browser_times(report: Path, cluster: int) -> dict:
    """Seconds to load report.html and to show the first page of ``cluster``'s members, in headless Chromium."""
    chromium, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (chromium and driver):
        return {"browser": "not measured (Chromium or chromedriver missing)"}
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,2000"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        t = time.perf_counter()
        browser.get(report.as_uri())  # returns once the load event fired (every picture of the page loaded)
        load = time.perf_counter() - t
        box = browser.find_element(By.CSS_SELECTOR, f'details.members[data-cluster="{cluster}"]')
        browser.execute_script("arguments[0].scrollIntoView()", box)
        t = time.perf_counter()
        box.find_element(By.TAG_NAME, "summary").click()
        WebDriverWait(browser, 60).until(lambda _: len(box.find_elements(By.CSS_SELECTOR, ".tiles .thumb")) >= 100)
        first_page = time.perf_counter() - t
        t = time.perf_counter()
        box.find_element(By.CSS_SELECTOR, "button.next").click()
        WebDriverWait(browser, 60).until(lambda _: "page 2 of" in box.text)
        next_page = time.perf_counter() - t
    finally:
        browser.quit()
    return {"browser": "headless Chromium", "page_load_s": round(load, 2),
            "open_largest_cluster_s": round(first_page, 2), "next_page_s": round(next_page, 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--split", default="all")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from deepclust import cluster_images, load_dataset
    from deepclust.report import map_2d
    from deepclust.run import RunFolder

    X, y = load_dataset(args.dataset, split=args.split)
    t = time.perf_counter()
    run = cluster_images(X, n_clusters=10, labels_true=y, random_state=args.seed, verbose=False)
    cluster_s = time.perf_counter() - t
    work = Path(tempfile.mkdtemp(prefix="deepclust-report-scale-"))
    try:
        t = time.perf_counter()
        out = run.save(work / "run")
        save_s = time.perf_counter() - t
        t = time.perf_counter()
        map_2d(run.embedding, "umap", random_state=args.seed)
        map_s = time.perf_counter() - t
        t = time.perf_counter()
        RunFolder.open(out).write_report()
        rebuild_s = time.perf_counter() - t
        members = out / "figures/members"
        sizes = run.cluster_sizes()
        row = {
            "dataset": args.dataset, "split": args.split, "n_images": len(run.paths), "seed": args.seed,
            "acc": round(run.metrics["acc"], 4), "cluster_s": round(cluster_s, 1), "save_s": round(save_s, 1),
            "map_alone_s": round(map_s, 1), "report_rebuild_s": round(rebuild_s, 2),
            "report_html_mb": _size_mb([out / "report.html"]),
            "member_scripts_mb": _size_mb(members.glob("*.js")),
            "member_sheets_mb": _size_mb([*members.glob("*.png"), *members.glob("*.jpg")]),
            "n_member_sheets": len([*members.glob("*.png"), *members.glob("*.jpg")]),
            "run_folder_mb": _size_mb(out.rglob("*")), "peak_rss_mb": round(peak_rss_mb()),
            "largest_files_mb": {str(p.relative_to(out)): _size_mb([p]) for p in sorted(
                (p for p in out.rglob("*") if p.is_file()), key=lambda p: -p.stat().st_size)[:5]},
            **_browser_times(out / "report.html", max(sizes, key=sizes.get)),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(row, flush=True)
    payload = {"command": command_line("benchmarks.report_scale"),
               "date": dt.datetime.now().isoformat(timespec="seconds"),
               "machine": machine(), "rows": [row]}
    table = ("| data set | images | clustering (s) | `run.save` (s) | of which the UMAP map (s) | report rebuild (s) "
             "| report.html (MB) | member scripts (MB) | member sheets (MB, files) | run folder (MB) "
             "| page load (s) | open largest cluster (s) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: | ---: | ---: |\n"
             f"| {row['dataset']} ({row['split']}) | {row['n_images']:,} | {row['cluster_s']} | {row['save_s']} | "
             f"{row['map_alone_s']} | {row['report_rebuild_s']} | {row['report_html_mb']} | "
             f"{row['member_scripts_mb']} | {row['member_sheets_mb']} ({row['n_member_sheets']}) | "
             f"{row['run_folder_mb']} | {row.get('page_load_s', '—')} | {row.get('open_largest_cluster_s', '—')} |\n")
    js, md = write_results("report_scale", payload, table)
    print(f"written {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
