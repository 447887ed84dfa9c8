"""Choose the number of clusters without labels.

Three criteria are computed over ``[k_min, k_max]`` on a sample, and one decides. Measured on our panel (see
``benchmarks/choose_k.py``): the silhouette and resampling agreement (ARI between subsamples) both pick k = 2 on
digits, MNIST-5k and Fashion-MNIST, because two coarse groups of classes are well separated and stable; the eigengap
of the kNN graph is right on well-separated blobs but says 12–19 on the images. The prediction strength (Tibshirani &
Walther 2005) found 10, 9, 9 there and the planted k on blobs of 3, 5 and 20, so it decides; the others are kept in
the record as votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import silhouette_score
from sklearn.utils import check_random_state

#: Tibshirani & Walther's threshold: a k is supported when its prediction strength is at least this (0.8–0.9).
PREDICTION_STRENGTH_THRESHOLD = 0.8


@dataclass
class KSelection:
    """The chosen ``k``, the runner-up, and the curves it was chosen from (``curves[name][i]`` belongs to
    ``ks[i]``; ``scores`` is the deciding criterion's curve)."""

    k: int
    ks: list[int]
    scores: list[float]
    criterion: str = "prediction strength"
    sample_size: int = 0
    runner_up: int | None = None
    curves: dict[str, list[float]] = field(default_factory=dict)
    votes: dict[str, int] = field(default_factory=dict)
    note: str = ""

    @property
    def caveat(self) -> str:
        """Why this k is unsure, in one sentence for the console and the report ("" when it is not): no k reached
        the threshold (``note``), or the votes disagree by more than a factor of two."""
        return " ".join(filter(None, [self.note, votes_disagree(self.votes, self.k)]))

    def to_dict(self) -> dict:
        threshold = PREDICTION_STRENGTH_THRESHOLD if self.criterion == "prediction strength" else None
        return {"k": self.k, "runner_up": self.runner_up, "criterion": self.criterion,
                "threshold": threshold, "sample_size": self.sample_size, "votes": self.votes,
                "note": self.note, "caveat": self.caveat,
                "curve": {int(k): float(s) for k, s in zip(self.ks, self.scores)},
                "curves": {name: {int(k): float(s) for k, s in zip(self.ks, c)} for name, c in self.curves.items()}}


def largest_k(n_samples: int) -> int:
    """The largest k a sample of ``n_samples`` can test: each half must still hold about two samples per
    cluster."""
    return n_samples // 4


def votes_disagree(votes: dict[str, int], k: int) -> str:
    """A sentence when the criteria's votes are more than a factor of two apart, naming the other candidates; ""
    otherwise. On 320 photos of 8 kinds of things prediction strength said 4, silhouette 13, eigengap 18: the
    deciding criterion alone gave no hint that k = 4 merged kinds."""
    values = sorted(set(int(v) for v in votes.values()))
    if not values or max(values) <= 2 * min(values):
        return ""
    others = ", ".join(f"{name} {v}" for name, v in votes.items() if int(v) != k)
    return (f"the criteria disagree ({others} against k = {k}): the images may hold more (or fewer) groups; "
            f"compare with -k {' or -k '.join(str(v) for v in values if v != k)}.")


def prediction_strength(Z, k: int, make_clusterer, random_state=0, n_repeats: int = 3) -> float:
    """How well clusters learnt on one half of ``Z`` predict the clusters of the other half (Tibshirani & Walther
    2005): for each cluster of the test half, the share of its pairs that the training half's centroids also put
    together; the smallest share, averaged over ``n_repeats`` random halvings. 1 means k is fully reproducible."""
    rs = check_random_state(random_state)
    values = []
    for _ in range(n_repeats):
        perm = rs.permutation(len(Z))
        train, test = Z[perm[: len(Z) // 2]], Z[perm[len(Z) // 2:]]
        train_labels = make_clusterer(k).fit_predict(train)
        test_labels = make_clusterer(k).fit_predict(test)
        centroids = np.stack([train[train_labels == c].mean(0) for c in np.unique(train_labels)])
        predicted = ((test[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
        shares = []
        for c in np.unique(test_labels):
            members = predicted[test_labels == c]
            if len(members) < 2:
                continue
            counts = np.bincount(members)
            shares.append(float((counts * (counts - 1)).sum()) / (len(members) * (len(members) - 1)))
        values.append(min(shares) if shares else 0.0)
    return float(np.mean(values))


def eigengaps(Z, ks, n_neighbors: int = 15) -> list[float]:
    """Gap ``λ_{k+1} − λ_k`` between the normalised Laplacian's eigenvalues of the symmetric kNN graph, per k: a
    large gap after k eigenvalues near zero means k weakly connected groups (von Luxburg 2007)."""
    from scipy.sparse.csgraph import laplacian
    from scipy.sparse.linalg import eigsh
    from sklearn.neighbors import kneighbors_graph

    A = kneighbors_graph(Z, min(n_neighbors, len(Z) - 1), include_self=False)
    L = laplacian(A.maximum(A.T), normed=True)
    n_eig = min(max(ks) + 1, len(Z) - 1)
    values = np.sort(eigsh(L, k=n_eig, sigma=-1e-3, which="LM", return_eigenvectors=False))
    return [float(values[k] - values[k - 1]) if k < len(values) else 0.0 for k in ks]


def select_n_clusters(Z, make_clusterer, *, k_min: int = 2, k_max: int = 20, sample_size: int = 5000,
                      n_repeats: int = 10, random_state=0, verbose: bool = False) -> KSelection:
    """Choose k in ``[k_min, k_max]`` on a sample of ``Z`` (``make_clusterer(k)`` gives an unfitted clusterer).

    The largest k whose prediction strength reaches :data:`PREDICTION_STRENGTH_THRESHOLD` is chosen (Tibshirani &
    Walther's rule), the next such k is the runner-up; when no k reaches it, the k of the highest prediction strength,
    said so in ``note``. The silhouette (Rousseeuw 1987) and eigengap curves are computed too and recorded as votes.
    ``n_repeats`` halvings per k: with 3, a spurious k = 13 passed on the digits once; 10 removed it on our panel.
    ``verbose``: progress per k (minutes on thousands of images).
    """
    from .._progress import track

    Z = np.asarray(Z)
    rs = check_random_state(random_state)
    idx = rs.choice(len(Z), sample_size, replace=False) if len(Z) > sample_size else np.arange(len(Z))
    S = Z[idx]
    k_max = min(k_max, largest_k(len(S)))
    if k_max < k_min:
        raise ValueError(f"too few images ({len(Z)}) to choose a number of clusters from {k_min} up: "
                         f"give the number of clusters")
    ks = list(range(k_min, k_max + 1))
    strength, silhouette = [], []
    for k in track(ks, total=len(ks), description=f"choosing k from {k_min} to {k_max}", verbose=verbose):
        labels = make_clusterer(k).fit_predict(S)
        silhouette.append(float(silhouette_score(S, labels)) if len(np.unique(labels)) > 1 else -1.0)
        strength.append(prediction_strength(S, k, make_clusterer, rs, n_repeats))
    gaps = eigengaps(S, ks)
    supported = [k for k, s in zip(ks, strength) if s >= PREDICTION_STRENGTH_THRESHOLD]
    note = ""
    if supported:
        k, runner_up = supported[-1], (supported[-2] if len(supported) > 1 else None)
    else:
        order = np.argsort(strength)[::-1]
        k, runner_up = ks[int(order[0])], (ks[int(order[1])] if len(order) > 1 else None)
        note = (f"no k reached prediction strength {PREDICTION_STRENGTH_THRESHOLD}: the images may have no clear "
                f"cluster structure in this range; k is the most reproducible one.")
    votes = {"prediction strength": int(k), "silhouette": ks[int(np.argmax(silhouette))],
             "eigengap": ks[int(np.argmax(gaps))]}
    return KSelection(int(k), ks, strength, sample_size=len(S), runner_up=runner_up,
                      curves={"prediction strength": strength, "silhouette": silhouette, "eigengap": gaps},
                      votes=votes, note=note)
