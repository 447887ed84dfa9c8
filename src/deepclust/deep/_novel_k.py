"""How many novel classes? DTC's estimate (Han, Vedaldi, Zisserman, ICCV 2019, section 3.3): some known classes are
held out of the supervised stage as a *probe*; the probe's images are clustered together with the unlabelled ones by
a k-means in which the labels of part of the probe (the *anchor* classes) are fixed, for every candidate k; the
remaining probe classes (*validation*) say how well each k recovers classes the network never learnt (ACC), the
silhouette says how well it separates them (ours over the unlabelled part only; the reference's over validation
and unlabelled images together); the k halfway between the best of each is kept, and the estimate is the number
of its clusters that hold a real share of the unlabelled images."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import euclidean_distances, silhouette_score
from sklearn.utils import check_random_state

#: Silhouettes are computed on at most this many unlabelled samples (it is quadratic in n).
SILHOUETTE_SAMPLES = 3000


def anchored_kmeans(X_anchor: np.ndarray, y_anchor: np.ndarray, X_free: np.ndarray, k: int, *, n_iter: int = 50,
                    random_state=0) -> np.ndarray:
    """k-means of ``X_anchor`` ∪ ``X_free`` in which each anchor class keeps one cluster of its own (clusters
    0 … C−1, started at the class means) and the other k − C clusters start by k-means++ on the free samples; free
    samples go to the nearest of all k centres. Returns the labels of the anchors, then of the free samples."""
    from sklearn.cluster import kmeans_plusplus

    classes, codes = np.unique(y_anchor, return_inverse=True)
    c = len(classes)
    if k <= c:
        raise ValueError(f"k={k} leaves no cluster beside the {c} anchor classes")
    rng = check_random_state(random_state)
    anchors = np.stack([X_anchor[codes == i].mean(0) for i in range(c)])
    free, _ = kmeans_plusplus(X_free, k - c, random_state=rng)
    centers = np.concatenate([anchors, free]).astype(np.float64)
    labels = None
    for _ in range(n_iter):
        new = euclidean_distances(X_free, centers, squared=True).argmin(1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = [X_free[labels == j]] + ([X_anchor[codes == j]] if j < c else [])
            stacked = np.concatenate(members)
            if len(stacked):
                centers[j] = stacked.mean(0)
    return np.concatenate([codes, labels])


def estimate_novel_k(F_unlabelled: np.ndarray, F_probe: np.ndarray, y_probe: np.ndarray, *, max_k: int = 20,
                     anchor_ratio: float = 0.6, min_max_ratio: float = 0.01, random_state=0) -> dict:
    """DTC's estimate of the number of classes among ``F_unlabelled`` (features from a network that did not learn
    the probe classes ``y_probe`` of ``F_probe``). Candidates: 1 … ``max_k`` novel classes; ``anchor_ratio`` of the
    probe classes are anchors (the reference's 0.6), the others validate; a cluster counts when it holds at least
    ``min_max_ratio`` times the largest cluster's share of unlabelled samples (the reference's 0.01).

    Returns a dict: ``k`` (the estimate), ``candidates``, ``acc`` (validation probe) and ``silhouette`` per
    candidate, and ``chosen_total_k`` (the k whose clustering was counted)."""
    from ..metrics import clustering_accuracy_score

    rng = check_random_state(random_state)
    probe_classes = np.unique(y_probe)
    if len(probe_classes) < 2:
        raise ValueError(f"the probe needs at least two classes (anchors and validation), got {len(probe_classes)}")
    n_anchor = min(max(1, int(round(anchor_ratio * len(probe_classes)))), len(probe_classes) - 1)
    anchor_classes = rng.choice(probe_classes, n_anchor, replace=False)
    is_anchor = np.isin(y_probe, anchor_classes)
    X_anchor, y_anchor = F_probe[is_anchor], y_probe[is_anchor]
    X_val, y_val = F_probe[~is_anchor], y_probe[~is_anchor]
    X_free = np.concatenate([X_val, F_unlabelled])
    n_val, n_probe = len(X_val), len(probe_classes)
    sample = rng.choice(len(F_unlabelled), min(SILHOUETTE_SAMPLES, len(F_unlabelled)), replace=False)
    candidates = list(range(1, int(max_k) + 1))
    accs, silhouettes, partitions = [], [], []
    for novel in candidates:
        k = novel + n_probe
        labels = anchored_kmeans(X_anchor, y_anchor, X_free, k, random_state=rng)
        free = labels[len(X_anchor):]
        accs.append(float(clustering_accuracy_score(y_val, free[:n_val])))
        unl = free[n_val:]
        silhouettes.append(float(silhouette_score(F_unlabelled[sample], unl[sample]))
                           if len(np.unique(unl[sample])) > 1 else -1.0)
        partitions.append(unl)
    # the last of equal maxima, as the reference (np.max(np.argwhere(x == x.max())))
    best_acc = int(np.flatnonzero(np.isclose(accs, max(accs)))[-1])
    best_cvi = int(np.flatnonzero(np.isclose(silhouettes, max(silhouettes)))[-1])
    chosen = int(math.ceil((best_acc + best_cvi) / 2))
    _, counts = np.unique(partitions[chosen], return_counts=True)
    estimate = int((counts / counts.max() > min_max_ratio).sum())
    return {"k": estimate, "candidates": candidates, "acc": accs, "silhouette": silhouettes,
            "chosen_total_k": candidates[chosen] + n_probe, "anchor_classes": sorted(anchor_classes.tolist()),
            "validation_classes": sorted(set(probe_classes.tolist()) - set(anchor_classes.tolist()))}
