"""The public network builder: the body up to a layer, or the whole network with its ImageNet head where the
extractor has one; asking another for its head is one sentence."""

from __future__ import annotations

import pytest
import torch

from deepclust.features import build_network, create_extractor


def test_the_head_gives_imagenet_classes_and_the_body_the_extractors_features():
    """With head=True the network scores 1,000 ImageNet classes; without, it gives the extractor's pooled features."""
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert build_network("efficientnet_lite0", head=True).eval()(x).shape == (2, 1000)
        body = build_network("efficientnet_lite0").eval()(x)
    assert body.reshape(2, -1).shape[1] == create_extractor("efficientnet_lite0", device="cpu").n_features


def test_an_extractor_without_a_head_in_deepclust_says_so():
    """resnet50 is built as a body only: asking for its head is refused before anything is loaded."""
    with pytest.raises(ValueError, match="without its classification head"):
        build_network("resnet50", head=True)
