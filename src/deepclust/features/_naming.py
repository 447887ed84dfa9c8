"""Cluster names from the ImageNet classifier of the extractor the run already used: users ask what a cluster is,
and the default extractor's pooled features are exactly the input of its ImageNet head, so the names cost one matrix
product, no second pass over the images. They are ImageNet's words for what the images resemble, not labels."""

from __future__ import annotations

import numpy as np

#: Names given to each cluster.
N_NAMES = 3
#: What run.json and the report say of the names.
NAMES_ABOUT = ("ImageNet class names most over-represented in each cluster (share: mean class probability there; "
               "lift: that over its mean on all images), from the extractor's ImageNet head: words for what the "
               "images resemble, not labels")
#: A class is a candidate name of a cluster only if its mean probability there is at least this: a ratio of two tiny
#: probabilities (a class that no image shows) must not name a cluster.
MIN_SHARE = 0.02


def imagenet_class_names() -> list[str]:
    """The 1,000 ImageNet-1k class names in the classifier's order (torchvision's list; no download)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])


def head_applies(extractor: str | None, layer: str | None, weights) -> bool:
    """Whether features of ``extractor`` at ``layer`` are what its ImageNet head reads (its spec's
    ``imagenet_head``), with its default weights (weights of one's own may have another head, or none)."""
    from ._registry import get_extractor_spec

    if not extractor or weights is not None:
        return False
    return get_extractor_spec(extractor).imagenet_head == layer


def class_probabilities(features: np.ndarray, extractor: str, batch_size: int = 4096) -> np.ndarray:
    """ImageNet class probabilities (N, 1000) of pooled ``extractor`` features (see :func:`head_applies`)."""
    import torch

    from ._registry import build_network

    head = build_network(extractor, head=True).classifier.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            batch = torch.from_numpy(np.array(features[start:start + batch_size], dtype=np.float32))
            out.append(head(batch).softmax(dim=1).numpy())
    return np.concatenate(out)


def name_clusters(probabilities: np.ndarray, labels: np.ndarray, n_names: int = N_NAMES) -> dict[int, list[dict]]:
    """Each cluster's ``n_names`` ImageNet classes most over-represented in it: ranked by the ratio ("lift") of the
    class's mean probability in the cluster to its mean over all images, among the classes whose mean probability
    in the cluster is at least :data:`MIN_SHARE` (so fewer names when few qualify; the most probable class when none
    does). Each name comes with that mean probability (``share``) and the lift.

    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]])
    >>> name_clusters(p, np.array([0, 0, 1]), n_names=1)[1][0]["index"]
    1
    """
    names = imagenet_class_names() if probabilities.shape[1] == 1000 else [str(i) for i in
                                                                           range(probabilities.shape[1])]
    overall = probabilities.mean(axis=0) + 1e-12
    out = {}
    for c in np.unique(labels):
        share = probabilities[labels == c].mean(axis=0)
        lift = share / overall
        candidates = np.flatnonzero(share >= MIN_SHARE)
        if not len(candidates):
            candidates = np.array([int(share.argmax())])
        best = candidates[np.argsort(-lift[candidates], kind="stable")][:n_names]
        out[int(c)] = [{"name": names[i], "index": int(i), "share": round(float(share[i]), 4),
                        "lift": round(float(lift[i]), 2)} for i in best]
    return out


def cluster_label(names: list[dict] | None) -> str:
    """A cluster's names as one short caption: ``Egyptian cat 77%, tabby 8%``."""
    return ", ".join(f"{n['name']} {n['share']:.0%}" for n in names or [])
