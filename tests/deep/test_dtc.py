"""Deep Transfer Clustering on real digits (0–4 known, 5–9 novel): the supervised stage learns the known digits,
DTC clusters the novel ones better than k-means on the pretrained features, the same seed gives the same labels;
its ramp-up and temporal ensemble as the reference computes them; the k estimate on separated groups; bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepclust.deep import DTC, estimate_novel_k
from deepclust.deep._dtc import sigmoid_rampup, temporal_ensemble
from deepclust.deep._novel_k import anchored_kmeans
from deepclust.deep._transfer import trunk_activations
from deepclust.metrics import clustering_accuracy_score

pytestmark = pytest.mark.slow

FAST = dict(supervised_epochs=4, warmup_epochs=3, epochs=12, batch_size=64, device="cpu")
# the quality check: the reference's KL averaged over all elements needs its 10 + 100 epochs (0.843 ACC; 12 epochs end
# at 0.772, below the start); DEC's batchmean KL gets there in 5 + 15 (0.843 / 0.846 / 0.859 for seeds 0 / 1 / 2
# against k-means' 0.790-0.796) at a fifth of the time
FULL = dict(supervised_epochs=4, warmup_epochs=5, epochs=15, kl_reduction="batchmean", augmented_copies=2,
            batch_size=64, device="cpu", augmentation="shift")


def test_rampup_and_temporal_ensemble():
    """The ramp-up rises from exp(−5) to 1 over its length; the bias-corrected ensemble of a constant is that
    constant from the first epoch on, and it weighs recent epochs more."""
    assert sigmoid_rampup(0, 5) == pytest.approx(np.exp(-5)) and sigmoid_rampup(5, 5) == 1.0 == sigmoid_rampup(9, 5)
    assert sigmoid_rampup(2, 5) == pytest.approx(np.exp(-5 * 0.6**2))
    Z = torch.zeros(3, 2)
    q = torch.tensor([[0.2, 0.8]] * 3)
    for epoch in range(4):
        Z, target = temporal_ensemble(Z, q, epoch)
        torch.testing.assert_close(target, q)
    Z, first = temporal_ensemble(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]), 0)
    _, second = temporal_ensemble(Z, torch.tensor([[0.0, 1.0]]), 1)
    assert second[0, 1] > second[0, 0]  # alpha 0.6: the newer epoch counts more (0.625 against 0.375)
    assert float(second[0, 1]) == pytest.approx(0.4 / 0.64)


@pytest.fixture(scope="module")
def digit_split():
    """scikit-learn's 8 × 8 digits as uint8 images: 0–4 known (labelled), 5–9 novel."""
    from deepclust import load_dataset

    X, y = load_dataset("digits")
    known = y < 5
    return X[known], y[known], X[~known], y[~known]


@pytest.fixture(scope="module")
def fitted(digit_split):
    X_known, y_known, X_novel, y_novel = digit_split
    return DTC(5, random_state=0, **FULL).fit(X_novel, y_novel, X_known=X_known, y_known=y_known)


def test_dtc_learns_the_known_digits_and_beats_kmeans_on_the_pretrained_features(digit_split, fitted):
    """Held-out known digits are recognised far above chance (0.2); the novel digits' clusters beat k-means on the
    pretrained network's pooled features of the same images; the k-means start and every epoch are logged."""
    from sklearn.cluster import KMeans

    from deepclust.cluster import l2_rows
    from deepclust.features import create_extractor

    _, _, X_novel, y_novel = digit_split
    assert fitted.known_accuracy_ > 0.8
    pretrained = create_extractor("efficientnet_lite0", input_size=64, device="cpu", runtime="torch")(X_novel)
    baseline = clustering_accuracy_score(y_novel, KMeans(5, n_init=10, random_state=0).fit_predict(l2_rows(pretrained)))
    dtc = clustering_accuracy_score(y_novel, fitted.labels_)
    assert dtc > baseline + 0.02, (dtc, baseline)  # 0.843 against 0.794 (5 + 15 batchmean epochs, as 10 + 100 mean)
    assert set(fitted.history_["init"]) == {"acc", "nmi", "ari"}
    assert len(fitted.history_["epoch"]) == FULL["warmup_epochs"] + FULL["epochs"] == len(fitted.history_["acc"])
    assert fitted.probabilities_.shape == (len(X_novel), 5)
    np.testing.assert_array_equal(fitted.predict(X_novel), fitted.labels_)


def test_same_seed_same_labels(digit_split):
    """Two fits with one seed give the same labels."""
    X_known, y_known, X_novel, y_novel = digit_split
    short = {**FAST, "supervised_epochs": 2, "warmup_epochs": 1, "epochs": 3}  # determinism needs no long run
    first, again = (DTC(5, random_state=0, **short).fit(X_novel[:100], y_novel[:100], X_known=X_known[:100],
                                                        y_known=y_known[:100]) for _ in range(2))
    np.testing.assert_array_equal(again.labels_, first.labels_)


def test_augmented_copies_are_cached_per_image_and_differ_from_the_plain_ones(digit_split, fitted):
    """The clustering stage reads ``augmented_copies`` cached copies of each novel image, shifted/flipped, so not
    the plain activations; "none" caches nothing; the KL is averaged as the reference's F.kl_div."""
    _, _, X_novel, _ = digit_split
    images = X_novel[:12]
    plain = trunk_activations(fitted.network_, fitted.reader_, images)
    views = fitted._augmented(fitted.network_, fitted.reader_, images, torch.Generator().manual_seed(0))
    assert views.shape == (fitted.augmented_copies, *plain.shape) and views.dtype == torch.float16
    assert all(not torch.equal(v, plain) for v in views) and not torch.equal(views[0], views[1])
    assert DTC(augmentation="none")._augmented(fitted.network_, fitted.reader_, images, None) is None
    assert DTC().kl_reduction == "mean"  # the default (the quality fit uses DEC's batchmean to train for less)


def test_bad_input_is_refused_before_any_training(digit_split):
    X_known, y_known, X_novel, _ = digit_split
    with pytest.raises(ValueError, match="give X_known and y_known"):
        DTC(5, **FAST).fit(X_novel)
    with pytest.raises(ValueError, match="at least two known classes"):
        DTC(5, **FAST).fit(X_novel, X_known=X_known, y_known=np.zeros(len(X_known)))
    with pytest.raises(ValueError, match="exceeds the number of novel images"):
        DTC(5, **FAST).fit(X_novel[:3], X_known=X_known, y_known=y_known)
    with pytest.raises(ValueError, match="uint8 image array"):
        DTC(5, **FAST).fit(X_novel.astype(np.float32), X_known=X_known, y_known=y_known)
    three = y_known < 3
    with pytest.raises(ValueError, match="at least 4 known classes"):
        DTC(None, **FAST).fit(X_novel, X_known=X_known[three], y_known=y_known[three])
    with pytest.raises(ValueError, match="attention must be one of"):
        DTC(5, attention="saliency", **FAST).fit(X_novel, X_known=X_known, y_known=y_known)


def test_anchored_kmeans_keeps_the_anchor_classes_together():
    rng = np.random.RandomState(0)
    centres = rng.normal(0, 10, (5, 4))
    X = np.concatenate([c + rng.normal(0, 0.5, (40, 4)) for c in centres])
    y = np.repeat(np.arange(5), 40)
    anchors = y < 2
    labels = anchored_kmeans(X[anchors], y[anchors], X[~anchors], 5, random_state=0)
    np.testing.assert_array_equal(labels[:80], y[anchors])  # anchors keep their class's cluster
    assert clustering_accuracy_score(y[~anchors], labels[80:]) == 1.0
    with pytest.raises(ValueError, match="leaves no cluster"):
        anchored_kmeans(X[anchors], y[anchors], X[~anchors], 2)


def test_the_k_estimate_finds_the_number_of_separated_novel_groups():
    """Four probe classes and six novel groups, all well apart: the silhouette peaks at six novel clusters and the
    estimate is within one of it (the probe's ACC is 1 for every k here, and the reference's rule takes the last of
    equal maxima: halfway between 6 and 10 clusters, which hold 7 groups of real size)."""
    rng = np.random.RandomState(1)
    centres = rng.normal(0, 6, (10, 8))
    groups = [c + rng.normal(0, 0.6, (60, 8)) for c in centres]
    F_probe, y_probe = np.concatenate(groups[:4]), np.repeat(np.arange(4), 60)
    F_novel = np.concatenate(groups[4:])
    found = estimate_novel_k(F_novel, F_probe, y_probe, max_k=10, random_state=0)
    assert found["candidates"][int(np.argmax(found["silhouette"]))] == 6
    assert abs(found["k"] - 6) <= 1, found
    assert len(found["acc"]) == len(found["silhouette"]) == 10


def test_attended_images_differ_from_the_plain_ones_only_outside_the_mask(digit_split, fitted):
    """Grad-CAM + GrabCut masks of the supervised network: inside the mask the attended image is the resized image,
    outside it is black; most masks keep part of the image (a map with no positive evidence keeps it whole, never
    blacks it out), and the embedded features change."""
    from deepclust.features._attention import attend, resize_uint8

    _, _, X_novel, _ = digit_split
    images = X_novel[:24]
    attended, masks, maps = attend(fitted.network_, fitted.reader_, images, grabcut=True)
    plain = resize_uint8(images, 64)
    assert attended.shape == plain.shape == (24, 64, 64, 3) and masks.shape == maps.shape == (24, 64, 64)
    np.testing.assert_array_equal(attended[masks], plain[masks])
    assert (attended[~masks] == 0).all()
    share = masks.mean(axis=(1, 2))
    assert (share > 0.02).all() and (share < 0.98).mean() > 0.5
    assert maps.min() >= 0 and maps.max() <= 1
    def embedded(imgs):
        with torch.no_grad():
            return fitted.model_(trunk_activations(fitted.network_, fitted.reader_, imgs).float()).numpy()

    changed = np.abs(embedded(attended) - embedded(plain)).max(axis=1)
    assert (changed > 0).mean() > 0.5


def test_gradcam_plus_plus_and_attention_in_the_supervised_stage(digit_split, fitted):
    """Grad-CAM++ gives its own maps in [0, 1]; ``attend_known`` fine-tunes the network again on the attended known
    images (it still recognises the known digits) before the novel ones are masked and clustered."""
    from deepclust.features._attention import gradcam_maps, resize_uint8

    X_known, y_known, X_novel, y_novel = digit_split
    rgb = resize_uint8(X_novel[:16], 64)
    plus = gradcam_maps(fitted.network_, fitted.reader_, rgb, method="gradcam++")
    plain = gradcam_maps(fitted.network_, fitted.reader_, rgb)
    assert plus.shape == plain.shape and 0 <= plus.min() and plus.max() <= 1 and not np.allclose(plus, plain)
    with pytest.raises(ValueError, match="class activation map must be one of"):
        gradcam_maps(fitted.network_, fitted.reader_, rgb, method="saliency")
    fast = {**FAST, "supervised_epochs": 2, "warmup_epochs": 1, "epochs": 1}
    dtc = DTC(5, attention="gradcam", cam="gradcam++", attend_known=True, random_state=0, **fast).fit(
        X_novel[:200], y_novel[:200], X_known=X_known[:300], y_known=y_known[:300])
    assert [stage["images"] for stage in dtc.supervised_stages_] == ["known", "attended known"]
    assert dtc.known_accuracy_ == dtc.supervised_stages_[-1]["known_accuracy"] > 0.5, dtc.supervised_stages_
    assert dtc.attention_masks_.shape == (200, 64, 64)
    assert [stage["images"] for stage in fitted.supervised_stages_] == ["known"]  # attend_known off


def test_grabcut_follows_the_object_from_a_rough_map():
    """A bright disc on a dark noisy background, and a blurry map over roughly where it is: GrabCut's mask fits the
    disc better than the thresholded map does."""
    from deepclust.features._attention import grabcut_mask

    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[:64, :64]
    disc = (yy - 30) ** 2 + (xx - 34) ** 2 < 14**2
    image = np.where(disc[..., None], [200, 160, 60], [20, 30, 40]) + rng.randint(0, 20, (64, 64, 3))
    image = image.clip(0, 255).astype(np.uint8)
    cam = np.exp(-((yy - 26) ** 2 + (xx - 38) ** 2) / (2 * 16.0**2))

    def iou(mask):
        return (mask & disc).sum() / (mask | disc).sum()

    mask = grabcut_mask(image, cam, 0.5)
    assert iou(mask) > 0.9 > iou(cam >= 0.5)
