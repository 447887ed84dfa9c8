"""One benchmark harness: any methods × data sets × seeds through ``deepclust.cluster_images``, one row schema.

Run from the repository root:

    python -m benchmarks.run --methods kmeans,best --datasets mnist-5k,fashion-mnist:test --seeds 0,1,2
    python -m benchmarks.run --methods pixels-kmeans,dec,idec --datasets mnist-5k -o pretrain_epochs=50 \\
        -o max_iter=2000 --name deep_mnist-5k_e50
    python -m benchmarks.run --methods best --datasets PHOTOS/ -k 8 -o views=efficientnet_lite0:pool,hog
    python -m benchmarks.run --methods kmeans --datasets digits --limit 300 --name smoke
    python -m benchmarks.run --tables          # rewrite the tables in benchmarks/README.md from the results files

Methods: every registered method (``deepclust methods``) and ``pixels-kmeans``, the baseline every deep-clustering
paper reports (scikit-learn's k-means, 10 starts, on the raw pixels).
Data sets: a builtin name (``deepclust datasets``: fashion-mnist, mnist, mnist-5k, digits), with a split as
``NAME:SPLIT`` or ``NAME-SPLIT`` (``fashion-mnist:test``), or a folder (labels from its first-level subfolders).
``-o NAME=VALUE`` (repeat): a method option (``deepclust methods NAME`` lists them; typed from the estimator's
declaration) goes to every listed method that has it, and ``-o METHOD.NAME=VALUE`` to one method; a keyword of
``cluster_images`` (``input``, ``extractor``, ``layer``, ``views`` comma-separated, ``augmentations``,
``augment_flip``, ``image_size``, ``input_size``, ``grayscale``, ``batch_size``, ``runtime``, ``use_cache``,
``cache_dir``) goes to every method (a method whose input does not read it refuses it: ``runtime`` and the cache
with a pixels method). An option no listed method has is an error.

Each (method, data set, seed) runs in a fresh Python process (``--same-process`` to skip), so that its peak memory is
its own and a crash loses one row. Rows are written after each one to ``benchmarks/results/NAME.json`` (the record:
one row per run, each with its command, machine and versions; an ensemble's members with their scores; the training
history with ``--history``) and ``NAME.md`` (mean ± std over seeds);
``--append`` adds to an existing results file, replacing rows of the same method, data set, seed and options.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
import time
import typing
from pathlib import Path

from benchmarks._harness import (
    HERE,
    RESULTS,
    ROOT,
    command_line,
    cpu_model,
    markdown_table,
    mean_std,
    parser,
    peak_rss_mb,
    seeds_of,
    today,
    versions,
    write_results,
)

SCHEMA = "deepclust-benchmark-rows/1"
BASELINES = {"pixels-kmeans": "scikit-learn k-means (10 starts) on the raw pixels"}
#: cluster_images keywords the harness sets itself (not through -o).
_RESERVED = {"source", "method", "n_clusters", "random_state", "labels_true", "limit", "verbose", "known", "dask",
             "method_options"}
README = HERE / "README.md"
_BLOCK = re.compile(r"(<!-- results: (?P<name>[\w.\-]+) -->\n)(.*?)(<!-- /results -->)", re.S)


# ----------------------------------------------------------------------------------------------------- data sets
def parse_dataset(spec: str) -> tuple[str, str | None, Path | None]:
    """``(canonical name, split, folder)`` of a ``--datasets`` entry."""
    from deepclust.datasets import DATASETS

    if spec in DATASETS:
        return spec, None, None
    name, sep, split = spec.partition(":")
    if sep and name in DATASETS:
        return f"{name}:{split}", split, None
    for s in ("train", "test", "all"):
        if spec.endswith("-" + s) and spec[: -len(s) - 1] in DATASETS:
            return f"{spec[: -len(s) - 1]}:{s}", s, None
    folder = Path(spec).expanduser()
    if folder.is_dir():
        return str(folder), None, folder
    raise SystemExit(f"unknown data set {spec!r}: give one of {', '.join(DATASETS)} (NAME:SPLIT for a split) or a "
                     f"folder")


def load(spec: str):
    """``(source, labels_true)`` for :func:`deepclust.cluster_images`."""
    from deepclust.datasets import load_dataset

    name, split, folder = parse_dataset(spec)
    if folder is not None:
        return str(folder), "subfolders"
    return load_dataset(name.partition(":")[0], split=split or "all")


# ------------------------------------------------------------------------------------------------------- options
def _pipeline_hints() -> dict:
    from deepclust import cluster_images
    from deepclust.inputs import setting_hints

    hints = {**typing.get_type_hints(cluster_images), **setting_hints()}
    names = [p for p in inspect.signature(cluster_images).parameters
             if p not in _RESERVED and p != "options"]
    return {n: hints.get(n) for n in names}


def resolve_options(methods: list[str], raw: list[str]) -> dict[str, dict]:
    """Per method, the keyword arguments of ``cluster_images`` that ``-o`` gives it (values parsed): input settings
    by name, the method's own options under ``method_options`` (so DEC's ``batch_size`` is not the extraction's)."""
    from deepclust.methods import get_method
    from deepclust.methods._options import MethodOptionError, parse_value

    pipeline_hints = _pipeline_hints()
    out: dict[str, dict] = {m: {} for m in methods}
    for item in raw:
        key, eq, text = item.partition("=")
        if not eq:
            raise SystemExit(f"-o takes NAME=VALUE, got {item!r}")
        target, dot, name = key.rpartition(".") if "." in key else ("", "", key)
        targets = [target] if dot else methods
        if dot and target not in methods:
            raise SystemExit(f"-o {item}: {target} is not one of --methods ({', '.join(methods)})")
        pyname = name.replace("-", "_")
        taken = False
        for m in targets:
            if pyname in pipeline_hints:
                if pyname == "views":
                    value = tuple(v for v in text.split(",") if v)
                else:
                    value = parse_value(text, pipeline_hints[pyname]) if pipeline_hints[pyname] else text
                out[m][pyname] = value
                taken = True
                continue
            if m in BASELINES:
                continue
            spec = get_method(m)
            try:
                option = spec.option(name)
            except MethodOptionError:
                if dot:
                    raise SystemExit(f"-o {item}: method {m} has no option {name!r}; its options: "
                                     f"{', '.join(o.cli_name for o in spec.options)}") from None
                continue
            out[m].setdefault("method_options", {})[option.name] = option.parse(text)
            taken = True
        if not taken:
            raise SystemExit(f"-o {item}: none of the methods {', '.join(targets)} has an option {name!r} "
                             f"(`deepclust methods NAME` lists a method's options)")
    return out


def _jsonable(options: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}


# ---------------------------------------------------------------------------------------------------------- rows
def run_row(method: str, dataset: str, seed: int, options: dict, *, n_clusters: int | None, limit: int | None,
            command: str, history: bool = False) -> dict:
    """One measurement: ``method`` on ``dataset`` with ``seed``, in this process."""
    import numpy as np

    source, labels = load(dataset)
    k = n_clusters
    if k is None and not isinstance(labels, str):
        k = len(np.unique(labels))
    t = time.perf_counter()
    if method in BASELINES:
        from sklearn.cluster import KMeans

        from deepclust.datasets import subset_indices
        from deepclust.metrics import external_scores

        if isinstance(source, str):
            raise SystemExit(f"{method} takes a builtin data set, not a folder")
        X = np.asarray(source)
        idx = subset_indices(len(X), limit, labels, random_state=seed)[0] if limit else np.arange(len(X))
        pred = KMeans(k, n_init=10, random_state=seed).fit_predict(X[idx].reshape(len(idx), -1).astype(np.float32))
        metrics = external_scores(np.asarray(labels)[idx], pred)
        n_images, timings, notes, extra = len(idx), {}, [], {}
    else:
        from deepclust import cluster_images

        run = cluster_images(source, method=method, n_clusters=k, labels_true=labels, limit=limit,
                             random_state=seed, verbose=False, **options)
        metrics, n_images, notes = run.metrics, len(run.paths), list(run.notes)
        timings = {s: round(v, 2) for s, v in run.timings.items()}
        k = run.n_clusters_fitted or run.n_clusters
        extra = {"members": _plain(run.members)} if run.members else {}
        if history and run.history:
            extra["history"] = _plain(run.history)
    wall = time.perf_counter() - t
    row = {"method": method, "dataset": dataset, "seed": seed, "options": _jsonable(options), "n_clusters": k,
            "limit": limit, "n_images": n_images,
            "acc": _num(metrics.get("acc")), "nmi": _num(metrics.get("nmi")), "ari": _num(metrics.get("ari")),
            "time_s": round(wall, 2), "timings": timings, "peak_rss_mb": round(peak_rss_mb()),
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count()}, "versions": versions(), "command": command,
            "date": today(), "notes": notes}
    return {**row, **extra}


def _plain(obj):
    """``obj`` with NumPy arrays and scalars made JSON values."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and obj != obj:
        return None
    return obj


def _num(v):
    return None if v is None else round(float(v), 4)


def _row_in_subprocess(job: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--one", json.dumps(job)], cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"{job['method']} on {job['dataset']} (seed {job['seed']}) failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------------------------------------- tables
def _key(row: dict) -> tuple:
    return (row["method"], row["dataset"], row["seed"], json.dumps(row["options"], sort_keys=True), row.get("limit"))


def render(payload: dict) -> str:
    """The markdown of a results file: how to reproduce it, where it ran, and mean ± std over seeds."""
    rows = payload["rows"]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["method"], json.dumps(r["options"], sort_keys=True), r.get("limit")),
                          []).append(r)
    table = []
    for (dataset, method, options, _), rs in groups.items():
        opts = ", ".join(f"{k}={v}" for k, v in json.loads(options).items()) or "—"
        has = [r for r in rs if r["acc"] is not None]
        table.append([dataset, f"`{method}`", opts, ", ".join(str(r["seed"]) for r in rs),
                      f"{rs[0]['n_images']:,}", rs[0]["n_clusters"],
                      *(mean_std(has, m) if has else "—" for m in ("acc", "nmi", "ari")),
                      f"{sum(r['time_s'] for r in rs) / len(rs):.1f}", f"{max(r['peak_rss_mb'] for r in rs):,}"])
    commands = list(dict.fromkeys(r["command"] for r in rows))
    machines = list(dict.fromkeys(f"{r['machine']['cpu']}, {r['machine']['cores']} cores" for r in rows))
    vers = list(dict.fromkeys(", ".join(f"{k} {v}" for k, v in r["versions"].items()) for r in rows))
    dates = sorted({r["date"][:10] for r in rows})
    head = ["Reproduce: " + "; ".join(f"`{c}`" for c in commands) + ".",
            f"Machine: {'; '.join(machines)}. Versions: {'; '.join(vers)}. "
            f"Measured {dates[0]}{'' if len(dates) == 1 else ' to ' + dates[-1]}.", "", ""]
    return "\n".join(head) + markdown_table(
        ["data set", "method", "options", "seeds", "n", "k", "ACC", "NMI", "ARI", "time s (mean)", "peak RSS MB"],
        table)


def regenerate_tables(readme: Path = README) -> list[str]:
    """Rewrite every ``<!-- results: NAME -->`` block of ``readme`` with ``results/NAME.md`` (re-rendered first from
    ``NAME.json`` when that file holds harness rows). Returns the names of the blocks rewritten."""
    text = readme.read_text()
    done = []

    def fill(match: re.Match) -> str:
        name = match["name"]
        js, md = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
        if js.exists():
            payload = json.loads(js.read_text())
            if isinstance(payload, dict) and payload.get("schema") == SCHEMA:
                md.write_text(render(payload))
        if not md.exists():
            raise SystemExit(f"{readme.name}: no results file {md.relative_to(ROOT)} for block {name!r}")
        done.append(name)
        return match.group(1) + md.read_text().rstrip("\n") + "\n" + match.group(4)

    new = _BLOCK.sub(fill, text)
    if new != text:
        readme.write_text(new)
    return done


# ---------------------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--methods", help="comma-separated: registered methods and pixels-kmeans")
    p.add_argument("--datasets", help="comma-separated: builtin names (NAME:SPLIT) or folders")
    p.add_argument("--seeds", nargs="+", default=["0"], help="comma- or space-separated (default 0)")
    p.add_argument("-o", dest="options", action="append", default=[], metavar="NAME=VALUE",
                   help="a method option or a cluster_images keyword; METHOD.NAME=VALUE for one method")
    p.add_argument("-k", "--n-clusters", type=int, help="default: the number of classes in the labels")
    p.add_argument("--limit", type=int, help="a seeded, stratified random N of the images (cluster_images' limit)")
    p.add_argument("--name", help="results file name (default: run_<methods>_<datasets>)")
    p.add_argument("--append", action="store_true", help="add to an existing results file")
    p.add_argument("--same-process", action="store_true", help="run every row in this process")
    p.add_argument("--history", action="store_true", help="keep each run's training history in its row")
    p.add_argument("--tables", action="store_true", help="rewrite the tables in benchmarks/README.md and stop")
    p.add_argument("--one", help=argparse.SUPPRESS)  # a child process's job, as JSON
    args = p.parse_args(argv)

    if args.one:  # a child process: one row, printed as the last JSON line
        job = json.loads(args.one)
        print(json.dumps(run_row(**job)))
        return
    if args.tables:
        names = regenerate_tables()
        print(f"rewrote {len(names)} tables in {README.relative_to(ROOT)}: {', '.join(names)}")
        return
    if not args.methods or not args.datasets:
        p.error("give --methods and --datasets (or --tables)")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    from deepclust.methods import get_method

    for i, m in enumerate(methods):
        if m not in BASELINES:
            methods[i] = get_method(m).name  # any case; an unknown name is an error naming the closest
    datasets = [parse_dataset(d.strip())[0] for d in args.datasets.split(",") if d.strip()]
    seeds = seeds_of(args.seeds)
    options = resolve_options(methods, args.options)
    command = command_line("benchmarks.run", argv)
    name = args.name or "run_" + "_".join(methods) + "__" + "_".join(re.sub(r"[^\w.-]", "-", d) for d in datasets)

    rows: list[dict] = []
    path = RESULTS / f"{name}.json"
    if args.append and path.exists():
        old = json.loads(path.read_text())
        if old.get("schema") != SCHEMA:
            raise SystemExit(f"{path.relative_to(ROOT)} was not written by benchmarks.run; choose another --name")
        rows = old["rows"]
    elif path.exists():
        raise SystemExit(f"{path.relative_to(ROOT)} exists: give another --name, or --append to add to it")
    for dataset in datasets:
        for method in methods:
            for seed in seeds:
                job = {"method": method, "dataset": dataset, "seed": seed, "options": options[method],
                       "n_clusters": args.n_clusters, "limit": args.limit, "command": command,
                       "history": args.history}
                row = run_row(**job) if args.same_process else _row_in_subprocess(_jsonable_job(job))
                rows = [r for r in rows if _key(r) != _key(row)] + [row]
                print(json.dumps({k: row[k] for k in ("method", "dataset", "seed", "n_images", "acc", "nmi", "ari",
                                                       "time_s", "peak_rss_mb")}), flush=True)
                payload = {"schema": SCHEMA, "name": name, "rows": rows}
                js, md = write_results(name, payload, render(payload))
    print(f"written: {js.relative_to(ROOT)} {md.relative_to(ROOT)}")


def _jsonable_job(job: dict) -> dict:
    return {**job, "options": _jsonable(job["options"])}


if __name__ == "__main__":
    main()
