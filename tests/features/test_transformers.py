"""DINOv2 and CLIP's image tower, offline: each built with random weights saved to a local file and loaded through
``weights=``, its features checked against the timm network it wraps (shapes, preprocessing), the cache keyed on the
file; without a file and without network, one sentence that names the file to fetch and the flag to pass it with."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest
import timm
import torch
from safetensors.torch import save_file

from deepclust.features import WeightsNotFoundError, create_extractor, extract_features, get_extractor_spec
from deepclust.features._vit import CLIP_MEAN, CLIP_STD

#: (extractor, timm network, layer → the network's own features of that layer)
CASES = [
    ("dinov2_vits14", "vit_small_patch14_dinov2.lvd142m",
     {"cls": lambda m, t: t[:, 0], "patchmean": lambda m, t: t[:, m.num_prefix_tokens:].mean(1)}),
    ("clip_vitb32", "vit_base_patch32_clip_224.openai",
     {"embed": lambda m, t: m.forward_head(t), "cls": lambda m, t: m.forward_head(t, pre_logits=True)}),
]


@pytest.fixture(scope="module")
def saved_networks(tmp_path_factory):
    """Each network with random weights, saved as the hub ships them (model.safetensors)."""
    folder = tmp_path_factory.mktemp("vit-weights")
    out = {}
    for name, timm_name, _ in CASES:
        torch.manual_seed(0)
        net = timm.create_model(timm_name, pretrained=False, dynamic_img_size=True, dynamic_img_pad=True).eval()
        path = folder / f"{name}.safetensors"
        save_file(net.state_dict(), path)
        out[name] = (net, path)
    return out


@pytest.mark.parametrize(("name", "timm_name", "layers"), CASES)
def test_features_are_the_networks_own_from_a_weights_file(saved_networks, name, timm_name, layers):
    """Both layers, side by side from one pass, equal the timm network's own, at an input side that is no multiple
    of the patch (padded, as timm pads)."""
    net, path = saved_networks[name]
    spec = get_extractor_spec(name)
    images = np.random.RandomState(0).randint(0, 256, (2, 70, 70, 3), dtype=np.uint8)
    extractor = create_extractor(name, "+".join(layers), weights=path, device="cpu", input_size=100)
    x = extractor.preprocess(images)
    assert x.shape == (2, 3, 100, 100)
    with torch.inference_mode():
        tokens = net.forward_features(x)
        expected = np.hstack([own(net, tokens).numpy() for own in layers.values()])
    got = extractor(images)
    assert got.shape == (2, sum(spec.layers[layer] for layer in layers))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_clip_is_normalised_with_its_own_statistics(saved_networks):
    """CLIP's preprocessing uses OpenAI's mean and std, not ImageNet's: a grey image of value v becomes
    (v/255 - mean) / std in each channel."""
    extractor = create_extractor("clip_vitb32", weights=saved_networks["clip_vitb32"][1], device="cpu")
    x = extractor.preprocess(np.full((1, 32, 32, 3), 128, np.uint8))
    expected = (128 / 255 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), expected, rtol=1e-3)


def test_the_cache_is_keyed_on_the_weights_file(saved_networks, tmp_path):
    """The same images with the same file come from the cache; once the file changes, they are extracted again."""
    images = np.random.RandomState(1).randint(0, 256, (3, 40, 40, 3), dtype=np.uint8)
    _, path = saved_networks["dinov2_vits14"]

    def run(weights):
        extractor = create_extractor("dinov2_vits14", weights=weights, device="cpu", input_size=56)
        return extract_features(images, extractor, cache_dir=tmp_path, verbose=False)

    first, again = run(path), run(path)
    assert not first.from_cache and again.from_cache
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # the file replaced
    assert not run(path).from_cache


def test_offline_without_a_file_names_the_file_and_the_flag(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(WeightsNotFoundError) as info:
        create_extractor("dinov2_vitb14", device="cpu")
    message = str(info.value)
    assert message.startswith("dinov2_vitb14: could not download")
    assert "model.safetensors from https://huggingface.co/timm/vit_base_patch14_dinov2.lvd142m" in message
    assert "--weights PATH" in message


def test_onnx_runtime_gives_the_same_features(saved_networks, tmp_path):
    """The transformer exports to ONNX Runtime as the CNNs do, with the same features."""
    _, path = saved_networks["dinov2_vits14"]
    images = np.random.RandomState(2).randint(0, 256, (2, 40, 40, 3), dtype=np.uint8)
    out = {rt: extract_features(images, create_extractor("dinov2_vits14", weights=path, input_size=56, runtime=rt),
                                cache_dir=tmp_path, verbose=False) for rt in ("torch", "onnx")}
    assert out["onnx"].runtime == "onnx"
    np.testing.assert_allclose(np.asarray(out["onnx"].features), np.asarray(out["torch"].features), atol=1e-3)


def test_auto_keeps_pytorch_where_onnx_runtime_is_slower(saved_networks, tmp_path):
    """ONNX Runtime runs the transformers slower than PyTorch on a CPU (benchmarks.extractor_speed): "auto" keeps
    PyTorch for them however many images, while "onnx" still may be asked for."""
    extractor = create_extractor("dinov2_vits14", weights=saved_networks["dinov2_vits14"][1], device="cpu")
    assert extractor.select_runtime(100_000, tmp_path) == "torch"
