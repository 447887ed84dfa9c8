"""A ``weights=`` file that holds no fitting state dict is one sentence naming the file and what to save instead:
a whole pickled model, another network's weights, a checkpoint, a file that is no PyTorch file; nothing in it runs."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from deepclust.cli import app
from deepclust.features import WeightsFileError, create_extractor


class _Touch:
    """Unpickling this would create ``path``: a stand-in for code hidden in a pickle."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def _small_network():
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


@pytest.fixture
def whole_model(tmp_path):
    """``torch.save(model)`` instead of ``torch.save(model.state_dict())``."""
    path = tmp_path / "whole.pt"
    torch.save(_small_network(), path)
    return path


def test_a_whole_pickled_model_is_named_as_such(whole_model):
    """A whole pickled model is refused (not unpickled) with the file, "whole pickled model" and what to save."""
    with pytest.raises(WeightsFileError, match=r"whole\.pt is not a state dict: it holds a whole pickled model "
                                               r"\(torch\.nn\.modules\.container\.Sequential\); save "
                                               r"`model\.state_dict"):
        create_extractor("efficientnet_lite0", weights=whole_model, device="cpu")


@pytest.mark.parametrize("extractor, detail", [
    ("efficientnet_lite0", r"missing 296: conv_stem\.weight, .*; unexpected 4: 0\.weight, 0\.bias, 2\.weight, "
                           r"… 1 more\), and its 4 tensors do not line up with the network's 296"),
    ("resnet50", r"missing \d+: conv1\.weight, .*; unexpected 4: 0\.weight"),
])
def test_another_networks_state_dict_lists_the_keys_that_differ(tmp_path, extractor, detail):
    """Another architecture's state dict: its keys do not match, with the first missing and unexpected ones."""
    path = tmp_path / "other.pth"
    torch.save(_small_network().state_dict(), path)
    with pytest.raises(WeightsFileError, match=rf"other\.pth is not a state dict for {extractor}: its keys do not "
                                               rf"match \({detail}.*pass weights of {extractor}$"):
        create_extractor(extractor, weights=path, device="cpu")


def test_a_tensor_of_the_wrong_shape_is_named(tmp_path):
    """Right names, one wrong shape (a 3-class head for ResNet-50): the tensor and both shapes are named."""
    import torchvision

    state_dict = torchvision.models.resnet50(weights=None).state_dict()
    state_dict["fc.weight"] = torch.zeros(3, 2048)
    torch.save(state_dict, tmp_path / "r50.pt")
    with pytest.raises(WeightsFileError, match=r"its weight fc\.weight \(3, 2048\) does not fit fc\.weight "
                                               r"\(1000, 2048\)"):
        create_extractor("resnet50", weights=tmp_path / "r50.pt", device="cpu")


@pytest.mark.parametrize("content, message", [
    (b"these are not weights\n", r"notes\.pt is not a PyTorch weights file; save one with `torch\.save"),
    (b"", r"notes\.pt is empty, not a PyTorch weights file"),
])
def test_a_file_that_is_no_pytorch_file_says_so(tmp_path, content, message):
    """A text file or an empty file is not a PyTorch weights file: said in one sentence with the file's name."""
    (tmp_path / "notes.pt").write_bytes(content)
    with pytest.raises(WeightsFileError, match=message):
        create_extractor("efficientnet_lite0", weights=tmp_path / "notes.pt", device="cpu")


def test_checkpoints_and_other_objects_are_explained(tmp_path):
    """A training checkpoint without a known state-dict entry, a lone tensor and pickled code are each explained,
    and the pickled code never runs."""
    torch.save({"epoch": 3, "net": _small_network().state_dict()}, tmp_path / "ckpt.pt")
    with pytest.raises(WeightsFileError, match=r"ckpt\.pt is not a state dict: it holds entries that are not "
                                               r"tensors \(epoch, net\); if it is a training checkpoint"):
        create_extractor("efficientnet_lite0", weights=tmp_path / "ckpt.pt")
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(WeightsFileError, match=r"tensor\.pt is not a state dict: it holds a Tensor"):
        create_extractor("efficientnet_lite0", weights=tmp_path / "tensor.pt")
    marker = tmp_path / "ran"
    torch.save({"conv.weight": _Touch(marker)}, tmp_path / "code.pt")
    with pytest.raises(WeightsFileError, match=r"code\.pt is not a state dict: it holds pickled Python objects "
                                               r"\(io\.open\), which are not loaded for safety"):
        create_extractor("efficientnet_lite0", weights=tmp_path / "code.pt")
    assert not marker.exists()


def test_a_good_checkpoint_still_loads(tmp_path):
    """A state dict wrapped as ``{"state_dict": ...}`` with ``module.`` prefixes (DataParallel) loads by name."""
    import torchvision

    net = torchvision.models.resnet50(weights=None)
    torch.save({"state_dict": {f"module.{k}": v for k, v in net.state_dict().items()}, "epoch": 9},
               tmp_path / "r50.pt")
    extractor = create_extractor("resnet50", weights=tmp_path / "r50.pt", device="cpu", input_size=64)
    body = extractor.module.trunk
    assert torch.equal(body[0].weight, net.conv1.weight)


def test_the_cli_prints_one_line_and_exits_2(whole_model, tmp_path):
    """``deepclust cluster --weights WHOLE_MODEL`` exits 2 with one error line naming the file, no traceback."""
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["cluster", "--dataset", "digits", "--limit", "40", "-k", "3", "--weights",
                                      str(whole_model), "--map", "none", "--out", str(out), "--quiet"],
                                env={"COLUMNS": "1000"})
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, result.output
    assert f"{whole_model} is not a state dict: it holds a whole pickled model" in lines[0]
    assert not out.exists()
