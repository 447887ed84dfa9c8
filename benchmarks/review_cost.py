"""How much work the review app saves, measured (issue 55, part 6): the number of review actions a person who knows
the true classes needs to turn a run's clusters into a labelling with ACC ≥ 0.95.

The simulated user works on a copy of a real run folder through :class:`deepclust.review.ReviewedRun`, one
``apply`` per action, so what is counted is what the review log records, checks and replays. The actions are
those of the review page:

- **merge** clusters (the page's merge, any number of clusters into one of them);
- **split** a cluster into n parts as :meth:`ReviewedRun.propose_split` proposes them (k-means on its members'
  embedding, the run's clustering space), applied as proposed;
- **move by selection**: select images and move them to another cluster or a new one; selecting them (on the map
  or the cluster's page) is part of the action;
- **set aside** images (cluster -1, "not any of these").

Scoring. ACC is the share of *all* images that sit in a cluster matched to their class by the Hungarian matching
of clusters (set-aside images left out) to classes; images set aside count as errors, as do those of clusters left
unmatched. So setting images aside never raises ACC, and the target cannot be reached by setting hard images aside.

The greedy policy. At each step every candidate below is scored by its gain per action: the number of correctly
placed images (the matching's value) after it minus before. The candidate that scores highest is applied (ties:
merge, then split, then move; then the lowest cluster number), unless it leads back to a partition already seen;
the run stops at the target ACC, when the action budget is spent, or when no candidate gains.

- merge: for each class, the clusters whose majority it is (two or more): all of them into the largest, and
  each pair of them into the larger;
- split: each cluster in which n ≥ 2 classes each hold at least ``--split-share`` (5 %) of its images, into n
  parts as ``propose_split(cluster, n)`` proposes them. A split rarely gains alone (a part whose class already has
  a cluster is left unmatched), so it is scored by the better of its own gain and a look-ahead: the split and then
  one merge per class of each part into its class's cluster (parts of the split cluster's own class with each
  other), that plan's gain divided by its actions. Only the split is applied; the merges then come as candidates;
- move by selection: for each cluster and each class other than the one the matching gives the cluster, the
  strays a person selects (below) into the cluster matched to their class, or into a new cluster when no cluster
  is matched to it;
- set aside: never chosen. It is in the action set, but with set-aside images counted as errors it cannot gain,
  and while ACC < 1 a move always gains (strays go to their class's cluster or a new one).

What one move selects (``--selections``), two models that bracket a person with the page:

- ``perfect``: all images of one class in the cluster, however many and wherever they are, in one action (the
  issue's "move by selection", selecting counted in the action). A lower bound: a person rarely picks out exactly
  one class's strays at once; with it, any clustering is fixed in at most about k × (classes − 1) moves.
- ``page``: one unbroken run of images of one class in the cluster's page, its members ordered closest to the
  centre first (in the run's embedding, as the page shows them): a click, or a click and a shift-click. The
  longest such run of each class is the candidate. Nearer an upper bound: a box on the map can take a scattered
  group at once.

Labelling the images one by one is the reference: 1,000 actions per 1,000 images.

Clusterings, each made with the CLI into ``--work`` (a run folder already there is reused; ``--recluster`` makes
it again): the default (``deepclust cluster`` with no ``--method``), ``--method best``, both with k the number of
classes, and a random clustering: a copy of the default's run folder whose assignments.csv has uniform random
clusters with the same k (its embedding, where splits are proposed, is the default's, so a split there finds the
default's structure again); and ``auto-k``, the default pipeline with k chosen from the data, as a user who does
not know k runs it. The truth is the run folder's label column (the data set's labels).

Run:  .venv/bin/python -m benchmarks.review_cost
          (about 8 minutes on 2 cores: 5½ to cluster with the features cached, 2–3 to simulate)
      .venv/bin/python -m benchmarks.review_cost --datasets icons --clusterings default random --name smoke
Writes benchmarks/results/review_cost.json and .md (``--name``); run folders and their reviewed copies under
``--work`` (/tmp/review_cost).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks._harness import (
    command_line,
    cpu_model,
    machine,
    markdown_table,
    parser,
    peak_rss_mb,
    scores,
    today,
    versions,
    write_results,
)

#: Data sets: the CLI arguments that select the images, and the number of classes (the k given).
DATASETS = {
    "fashion-mnist-10k": (["--dataset", "fashion-mnist", "--limit", "10000"], 10),
    "icons": (["--dataset", "icons"], 7),
}
#: Clusterings: the CLI arguments that make them (random is made from the default's run folder).
CLUSTERINGS = {"default": [], "best": ["--method", "best"], "random": None, "auto-k": []}
#: What one move-by-selection action takes.
SELECTIONS = {"perfect": "all images of one class in a cluster",
              "page": "one unbroken run of one class in the cluster's page, closest to the centre first"}
#: Tie-break order of the kinds of action.
KINDS = ("merge", "split", "move", "aside")
#: ACC levels whose action counts the table shows besides the target.
MILESTONES = (0.8, 0.9)
DEEPCLUST = Path(sys.executable).with_name("deepclust")


@dataclasses.dataclass
class Candidate:
    """One action the simulated user may take: its kind, the edit as the review log takes it, and its gain in
    correctly placed images."""

    kind: str
    edit: dict
    gain: int  # correctly placed images after it minus before
    score: float  # what the greedy ranks by: gain per action, the split's look-ahead included
    cluster: int
    rows: int = 0


# ------------------------------------------------------------------------------------------------- run folders
def make_run(work: Path, dataset: str, clustering: str, seed: int, recluster: bool) -> dict:
    """The run folder of ``clustering`` on ``dataset`` under ``work/runs`` (made with the CLI unless it is there);
    returns its path and how it was made."""
    out = work / "runs" / f"{dataset}_{clustering}"
    if clustering == "random":
        return _make_random(work, dataset, seed, recluster)
    if (out / "assignments.csv").is_file() and not recluster:
        return {"path": out, "made_now": False, **_recorded(out)}
    data_args, k = DATASETS[dataset]
    cmd = [str(DEEPCLUST), "cluster", *data_args, "--seed", str(seed), *CLUSTERINGS[clustering],
           *([] if clustering == "auto-k" else ["-k", str(k)]), "--map", "none", "--quiet", "--overwrite",
           "--out", str(out)]
    print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak memory
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"clustering failed ({proc.returncode}): {' '.join(cmd)}")
    return {"path": out, "made_now": True, **_recorded(out), "wall_s": round(time.perf_counter() - start, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def _recorded(out: Path) -> dict:
    info = json.loads((out / "run.json").read_text())
    cmd = info.get("command") or []
    return {"command": " ".join(["deepclust", *cmd[1:]] if cmd else []),
            "cluster_s": (info.get("timings_s") or {}).get("total")}


def _make_random(work: Path, dataset: str, seed: int, recluster: bool) -> dict:
    """A copy of the default's run folder with uniform random clusters (same k, every cluster used)."""
    base = make_run(work, dataset, "default", seed, recluster)
    out = work / "runs" / f"{dataset}_random"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(base["path"], out)
    with (out / "assignments.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    k = len({r["cluster"] for r in rows})
    rng = np.random.RandomState(seed)
    labels = rng.permutation(np.arange(len(rows)) % k)  # uniform, and no cluster empty
    for r, c in zip(rows, labels):
        r["cluster"] = str(int(c))
        if "cluster_name" in r:
            r["cluster_name"] = ""  # the default's names would describe other clusters
    with (out / "assignments.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return {"path": out, "made_now": True, "command": f"copy of {dataset}_default, clusters uniform random "
                                                      f"(seed {seed}, k {k})", "cluster_s": None}


# ------------------------------------------------------------------------------------------------- the scoring
def contingency(labels: np.ndarray, truth: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The clusters (set-aside images left out) and their images per class, one row a cluster."""
    ids = np.unique(labels[labels >= 0])
    table = np.zeros((len(ids), n_classes), dtype=np.int64)
    np.add.at(table, (np.searchsorted(ids, labels[labels >= 0]), truth[labels >= 0]), 1)
    return ids, table


def matching(table: np.ndarray) -> tuple[int, np.ndarray]:
    """The number of correctly placed images under the Hungarian matching of ``table``'s clusters to classes, and
    the class matched to each cluster (-1: none)."""
    from scipy.optimize import linear_sum_assignment

    if not len(table):
        return 0, np.zeros(0, dtype=np.int64)
    r, c = linear_sum_assignment(table, maximize=True)
    matched = np.full(len(table), -1, dtype=np.int64)
    matched[r] = c
    return int(table[r, c].sum()), matched


def correct(table: np.ndarray) -> int:
    return matching(table)[0]


# -------------------------------------------------------------------------------------------------- the policy
class Simulation:
    """The greedy user on one reviewed run: :meth:`step` applies the best action through the review log.
    ``selection``: "perfect" (a move takes all strays of one class in a cluster) or "page" (one run of them in the
    cluster's page order, closest to the centre first)."""

    def __init__(self, review, truth: np.ndarray, n_classes: int, split_share: float, selection: str):
        self.review, self.truth, self.n_classes = review, truth, n_classes
        self.split_share, self.selection = split_share, selection
        self._proposals: dict = {}
        self._pages: dict = {}
        self.seen = {_partition_key(review.labels)}
        self.propose_s = 0.0
        self.apply_ms: list[float] = []
        self.mismatches = 0
        self.revisits_skipped = 0

    def state(self):
        ids, table = contingency(self.review.labels, self.truth, self.n_classes)
        value, matched = matching(table)
        return ids, table, value, matched

    def candidates(self) -> list[Candidate]:
        ids, table, value, matched = self.state()
        return [*self._merges(ids, table, value), *self._splits(ids, table, value, matched),
                *self._moves(ids, table, value, matched)]

    def _merges(self, ids, table, value):
        majority = table.argmax(1)
        for j in range(self.n_classes):
            group = np.flatnonzero(majority == j)
            if len(group) < 2:
                continue
            group = group[np.argsort(-table[group].sum(1), kind="stable")]
            options = [tuple(group)] + [(a, b) for i, a in enumerate(group) for b in group[i + 1:]]
            for members in dict.fromkeys(options):
                gain = correct(_merged(table, list(members))) - value
                yield Candidate("merge", {"op": "merge", "clusters": [int(ids[m]) for m in members],
                                          "into": int(ids[members[0]])}, gain, gain, int(ids[members[0]]))

    def _splits(self, ids, table, value, matched):
        for i, row in enumerate(table):
            size = int(row.sum())
            n = min(int((row >= self.split_share * size).sum()), size)
            if n < 2:
                continue
            parts = self._proposal(int(ids[i]), n)
            rows = np.vstack([np.bincount(self.truth[p], minlength=self.n_classes) for p in parts])
            after = np.vstack([np.delete(table, i, 0), rows])
            gain = correct(after) - value
            # the look-ahead: each part merged with the cluster of its majority class (a part of the split
            # cluster's own class with the other such parts), one merge action per class
            home = {int(j): (k if k < i else k - 1) for k, j in enumerate(matched) if j >= 0 and k != i}
            groups: dict = {}
            for p, j in enumerate(rows.argmax(1)):
                groups.setdefault(int(j), [] if int(j) not in home else [home[int(j)]]).append(len(table) - 1 + p)
            merges = [g for g in groups.values() if len(g) > 1]
            ahead = (correct(_grouped(after, merges)) - value) / (1 + len(merges))
            yield Candidate("split", {"op": "split", "cluster": int(ids[i]), "parts": parts}, gain,
                            max(gain, ahead), int(ids[i]))

    def _proposal(self, cluster: int, n: int) -> list[list[int]]:
        members = np.flatnonzero(self.review.labels == cluster)
        key = (cluster, n, members.tobytes())
        if key not in self._proposals:
            start = time.perf_counter()
            self._proposals[key] = self.review.propose_split(cluster, n)
            self.propose_s += time.perf_counter() - start
        return self._proposals[key]

    def _page(self, cluster: int) -> np.ndarray:
        """The cluster's rows in the order of its page: closest to its centre (in the run's embedding) first."""
        members = np.flatnonzero(self.review.labels == cluster)
        key = (cluster, members.tobytes())
        if key not in self._pages:
            emb = self.review.run.embedding[members]
            self._pages[key] = members[np.argsort(np.linalg.norm(emb - emb.mean(0), axis=1), kind="stable")]
        return self._pages[key]

    def _selections(self, cluster: int, row: np.ndarray, skip: int):
        """``(class, rows)``: what one selection takes of each class other than ``skip`` in ``cluster``."""
        if self.selection == "perfect":
            members = np.flatnonzero(self.review.labels == cluster)
            for j in np.flatnonzero(row):
                if j != skip:
                    yield int(j), members[self.truth[members] == j]
            return
        page = self._page(cluster)
        classes = self.truth[page]
        starts = np.flatnonzero(np.r_[True, classes[1:] != classes[:-1]])
        lengths = np.diff(np.r_[starts, len(page)])
        longest: dict = {}
        for s, n in zip(starts, lengths):  # the first of the longest runs of each class
            j = int(classes[s])
            if j != skip and n > longest.get(j, (0, 0))[1]:
                longest[j] = (s, n)
        for j, (s, n) in sorted(longest.items()):
            yield j, page[s:s + n]

    def _moves(self, ids, table, value, matched):
        cluster_of = {int(j): i for i, j in enumerate(matched) if j >= 0}
        for i, row in enumerate(table):
            for j, rows in self._selections(int(ids[i]), row, int(matched[i])):
                to = cluster_of.get(j)
                after = table.copy()
                after[i, j] -= len(rows)
                if to is None:
                    extra = np.zeros((1, self.n_classes), dtype=np.int64)
                    extra[0, j] = len(rows)
                    after = np.vstack([after, extra])
                else:
                    after[to, j] += len(rows)
                gain = correct(after) - value
                yield Candidate("move", {"op": "move", "rows": rows.tolist(),
                                         "to": None if to is None else int(ids[to])},
                                gain, gain, int(ids[i]), len(rows))

    def step(self) -> Candidate | None:
        """Apply the action that gains most per action (None when none gains) and is not back to a partition seen
        before; checks that the replayed labels gain what the candidate promised."""
        _, _, before, _ = self.state()
        ranked = sorted((c for c in self.candidates() if c.score > 0),
                        key=lambda c: (-c.score, KINDS.index(c.kind), c.cluster))
        for best in ranked:
            key = _partition_key(_edited(self.review.labels, best.edit))
            if key in self.seen:
                self.revisits_skipped += 1
                continue
            start = time.perf_counter()
            self.review.apply(best.edit)
            self.apply_ms.append((time.perf_counter() - start) * 1000)
            self.seen.add(_partition_key(self.review.labels))
            if self.state()[2] - before != best.gain:
                self.mismatches += 1
            return best
        return None


def _merged(table: np.ndarray, members: list[int]) -> np.ndarray:
    """``table`` with its rows ``members`` summed into one."""
    return _grouped(table, [members])


def _grouped(table: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """``table`` with the rows of each of ``groups`` (disjoint) summed into one row."""
    target = np.arange(len(table))
    for g in groups:
        target[list(g)] = min(g)
    kept, index = np.unique(target, return_inverse=True)
    out = np.zeros((len(kept), table.shape[1]), dtype=table.dtype)
    np.add.at(out, index, table)
    return out


def _edited(labels: np.ndarray, edit: dict) -> np.ndarray:
    """The labels after ``edit`` as the simulation predicts them (new clusters numbered past the largest)."""
    out = labels.copy()
    new = int(labels.max()) + 1
    if edit["op"] == "merge":
        out[np.isin(labels, edit["clusters"])] = edit["into"]
    elif edit["op"] == "split":
        for p, part in enumerate(edit["parts"][1:]):
            out[part] = new + p
    elif edit["op"] == "move":
        out[edit["rows"]] = new if edit["to"] is None else edit["to"]
    return out


def _partition_key(labels: np.ndarray) -> bytes:
    """The same bytes for the same partition, whatever its clusters' numbers."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse].tobytes()


def simulate(run_dir: Path, copy_dir: Path, *, target: float, budget: int, split_share: float,
             selection: str) -> dict:
    """The greedy user on a copy of ``run_dir`` until ACC ≥ ``target`` or ``budget`` actions."""
    from deepclust.review import ReviewedRun

    if copy_dir.exists():
        shutil.rmtree(copy_dir)
    shutil.copytree(run_dir, copy_dir)
    review = ReviewedRun.open(copy_dir)
    names = [r["label"] for r in review.run.rows]
    classes, truth = np.unique(names, return_inverse=True)
    n = len(truth)
    sim = Simulation(review, truth, len(classes), split_share, selection)
    start_labels = review.labels.copy()
    acc = [sim.state()[2] / n]
    kinds = {k: 0 for k in KINDS}
    moved = 0
    t = time.perf_counter()
    while acc[-1] < target and len(acc) - 1 < budget:
        action = sim.step()
        if action is None:
            break
        kinds[action.kind] += 1
        moved += action.rows
        acc.append(sim.state()[2] / n)
        if (len(acc) - 1) % 25 == 0:
            print(f"  {len(acc) - 1} actions: ACC {acc[-1]:.3f}", flush=True)
    wall = time.perf_counter() - t
    replayed = ReviewedRun.open(copy_dir).labels  # a fresh replay of the log from disk
    actions = len(acc) - 1

    def first(level):
        return next((i for i, a in enumerate(acc) if a >= level), None)

    return {"n_images": n, "n_classes": len(classes), "k_start": int(len(np.unique(start_labels))),
            "k_end": int(len(np.unique(review.labels[review.labels >= 0]))),
            "start": {k: round(v, 4) for k, v in scores(truth, start_labels).items()},
            "acc_start": round(acc[0], 4), "acc_end": round(acc[-1], 4), "reached": acc[-1] >= target,
            "actions": actions, "actions_per_1000": round(1000 * actions / n, 2),
            **{f"actions_to_{level:.2f}": first(level) for level in MILESTONES},
            "kinds": kinds, "images_moved": moved, "sim_s": round(wall, 1), "propose_split_s": round(sim.propose_s, 1),
            "apply_ms_mean": round(float(np.mean(sim.apply_ms)), 1) if sim.apply_ms else None,
            "apply_ms_max": round(float(np.max(sim.apply_ms)), 1) if sim.apply_ms else None,
            "apply_ms_last50": round(float(np.mean(sim.apply_ms[-50:])), 1) if sim.apply_ms else None,
            "log_kb": round((copy_dir / "review.jsonl").stat().st_size / 1024) if actions else 0,
            "replay_matches": bool(np.array_equal(replayed, review.labels)), "gain_mismatches": sim.mismatches,
            "revisits_skipped": sim.revisits_skipped,
            "acc_curve": [round(a, 4) for a in acc]}


# ------------------------------------------------------------------------------------------------------ output
def _table(rows: list[dict], args, wall: float) -> str:
    body = []
    for r in rows:
        k = r["kinds"]
        to = r["actions"] if r["reached"] else f"— ({r['acc_end']:.3f} after {r['actions']})"
        body.append([r["dataset"], r["clustering"], r["selection"], f"{r['n_images']:,}",
                     f"{r['k_start']} → {r['k_end']}",
                     f"{r['acc_start']:.3f}", *(r[f"actions_to_{m:.2f}"] for m in MILESTONES), to,
                     f"{r['actions_per_1000']:.1f}", f"{k['merge']} / {k['split']} / {k['move']} / {k['aside']}",
                     f"{r['images_moved']:,}", f"{r['apply_ms_mean']} / {r['apply_ms_max']}", r["sim_s"]])
    head = (f"Command: `{command_line('benchmarks.review_cost', args.argv)}`; {wall:.0f} s (the simulations, and "
            f"any clustering made; each run's own time is in the JSON), peak {peak_rss_mb():,.0f} MB, "
            f"{cpu_model()}, {os.cpu_count()} cores.\n\n"
            f"Actions to ACC ≥ {args.target} (set-aside images count as errors; budget {args.budget}) by a user who "
            f"knows the classes, greedily through `ReviewedRun.apply`. Selection *perfect*: a move takes all images "
            f"of one class in a cluster; *page*: one unbroken run of them in the cluster's page (closest to the "
            f"centre first). Labelling by hand: 1,000 actions per 1,000 images.\n\n")
    return head + markdown_table(
        ["data set", "clustering", "selection", "n", "k start → end", "ACC start",
         *(f"actions to {m}" for m in MILESTONES),
         f"actions to {args.target}", "per 1,000 images", "merge / split / move / aside", "images moved",
         "edit ms mean / max", "simulation s"], body)


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--clusterings", nargs="+", default=list(CLUSTERINGS), choices=list(CLUSTERINGS))
    p.add_argument("--target", type=float, default=0.95, help="ACC to reach (default 0.95)")
    p.add_argument("--budget", type=int, default=2000, help="most actions per run (default 2000)")
    p.add_argument("--split-share", type=float, default=0.05,
                   help="a split's n: the classes with at least this share of the cluster (default 0.05)")
    p.add_argument("--selections", nargs="+", default=list(SELECTIONS), choices=list(SELECTIONS),
                   help="what one move selects: " + "; ".join(f"{k}: {v}" for k, v in SELECTIONS.items()))
    p.add_argument("--seed", type=int, default=0, help="the clusterings' seed (default 0)")
    p.add_argument("--work", type=Path, default=Path("/tmp/review_cost"), help="run folders and reviewed copies")
    p.add_argument("--recluster", action="store_true", help="make the run folders again")
    p.add_argument("--threads", type=int, default=1,
                   help="threads of the simulation's k-means (default 1: several, on a busy machine, crawl)")
    p.add_argument("--name", default="review_cost", help="results file name under benchmarks/results/")
    args = p.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    t = time.perf_counter()
    rows = []
    for dataset in args.datasets:
        for clustering in args.clusterings:
            run = make_run(args.work, dataset, clustering, args.seed, args.recluster)
            for selection in args.selections:
                print(f"{dataset} / {clustering} / {selection} selection: {run['path']}", flush=True)
                with threadpool_limits(args.threads):  # propose_split's k-means
                    result = simulate(run["path"], args.work / "reviewed" / f"{run['path'].name}_{selection}",
                                      target=args.target, budget=args.budget, split_share=args.split_share,
                                      selection=selection)
                rows.append({"dataset": dataset, "clustering": clustering, "selection": selection,
                             "seed": args.seed,
                             "run": {k: str(v) if isinstance(v, Path) else v for k, v in run.items()}, **result})
                print({k: v for k, v in rows[-1].items() if k != "acc_curve"}, flush=True)
    wall = time.perf_counter() - t
    payload = {"command": command_line("benchmarks.review_cost", argv), "date": today(), "machine": machine(),
               "versions": versions(), "wall_s": round(wall, 1), "peak_rss_mb": round(peak_rss_mb()),
               "settings": {"target": args.target, "budget": args.budget, "split_share": args.split_share,
                            "seed": args.seed, "threads": args.threads,
                            "acc": "Hungarian matching; set-aside images count as errors"},
               "rows": rows}
    table = _table(rows, args, wall)
    js, md = write_results(args.name, payload, table)
    print(table)
    print(f"wrote {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
