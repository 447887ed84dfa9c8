"""Vision transformers that photo clustering uses today, for users who are online: DINOv2 (self-supervised) and
CLIP's image tower (language-supervised), the frozen features under the best published clustering heads on
CIFAR-10, STL-10 and ImageNet subsets. Built with timm, already our CNNs' library: one registry, the same weights
checks, the same ONNX export and cache (open_clip would add the text tower, which nothing here uses yet). ONNX
Runtime is slower than PyTorch for them on a CPU (DINOv2 ViT-S/14 at 224 px: 6.3 against 9.1 images/s, while it
runs EfficientNet-Lite0 3.6× faster; ``benchmarks.extractor_speed``), so ``runtime="auto"`` keeps PyTorch.

Their weights come from the Hugging Face hub; offline, ``--weights PATH`` takes the hub's ``model.safetensors`` (or
any state dict of the same network). They are built with a dynamic image size: any input side works (padded to a
multiple of the patch, the position embeddings interpolated); 224 px by default (DINOv2's native 518 costs five
times the tokens on a CPU)."""

from __future__ import annotations

from ._registry import IMAGENET_MEAN, IMAGENET_STD, ExtractorSpec, WeightsNotFoundError, register_extractor
from ._weights import load_weights

#: Where the weights come from (unless HF_ENDPOINT names a mirror).
HUB_HOST = "huggingface.co"
#: CLIP's own normalisation (OpenAI's image statistics).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

_DINO = {"dinov2_vits14": ("vit_small_patch14_dinov2.lvd142m", 384, "ViT-S/14"),
         "dinov2_vitb14": ("vit_base_patch14_dinov2.lvd142m", 768, "ViT-B/14")}
_CLIP = {"clip_vitb32": ("vit_base_patch32_clip_224.openai", "ViT-B/32"),
         "clip_vitb16": ("vit_base_patch16_clip_224.openai", "ViT-B/16")}


def _hub_hint(timm_name: str) -> str:
    hub = f"https://huggingface.co/timm/{timm_name}"
    return (f"Without internet, fetch model.safetensors from {hub} on a machine that has it and pass it with "
            f"--weights PATH (Python: weights=PATH).")


def _hub_download(timm_name: str):
    """The hub's weights (from its local cache when they were fetched before), or the one-sentence error that says
    which file to fetch and where to put it. Before a download the hub's host is asked once, with a short timeout:
    offline, its client retries for most of a minute before it gives up."""
    def download() -> dict:
        import socket
        from urllib.parse import urlparse

        import timm
        from huggingface_hub import constants, try_to_load_from_cache

        try:
            if not isinstance(try_to_load_from_cache(f"timm/{timm_name}", "model.safetensors"), str):
                host = urlparse(constants.ENDPOINT).hostname or HUB_HOST  # HF_ENDPOINT: a mirror
                socket.create_connection((host, 443), timeout=5).close()
            return timm.create_model(timm_name, pretrained=True).state_dict()
        except Exception as exc:
            raise WeightsNotFoundError(f"could not download the weights of timm's {timm_name} "
                                       f"({type(exc).__name__}: {str(exc)[:120]}). {_hub_hint(timm_name)}") from exc
    return download


def _token_body(model, layer: str, tokens_of):
    """The transformer's features at ``layer`` (several joined by ``+``, side by side, from one pass):
    ``tokens_of(model, tokens)`` maps the final normalised tokens to each named layer's (B, D) features."""
    import torch

    wanted = layer.split("+")

    class Body(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            named = tokens_of(self.model, self.model.forward_features(x))
            return torch.cat([named[name] for name in wanted], dim=1)

    return Body()


def _dino_tokens(model, tokens) -> dict:
    return {"cls": tokens[:, 0], "patchmean": tokens[:, model.num_prefix_tokens:].mean(dim=1)}


def _clip_tokens(model, tokens) -> dict:
    pre = model.forward_head(tokens, pre_logits=True)
    return {"cls": pre, "embed": model.head(pre)}


def _register(name: str, timm_name: str, layers: dict[str, int], default_layer: str, mean, std, description: str,
              tokens_of) -> None:
    """Register the timm transformer ``timm_name`` as extractor ``name``; ``tokens_of`` names its layers."""
    spec = ExtractorSpec(
        name=name, layers=layers, default_layer=default_layer, input_size=224, min_input_size=28, mean=mean, std=std,
        weights_source=f"the Hugging Face hub (timm/{timm_name}, download)", weights_hint=_hub_hint(timm_name),
        one_pass_layers=True, description=description, onnx_pays=False)

    @register_extractor(spec)
    def build(spec: ExtractorSpec, layer: str, weights=None):
        import timm

        model = timm.create_model(timm_name, pretrained=False, dynamic_img_size=True, dynamic_img_pad=True)
        load_weights(model, spec, weights, _hub_download(timm_name))
        return _token_body(model, layer, tokens_of)


for _name, (_timm, _width, _arch) in _DINO.items():
    _register(_name, _timm, {"cls": _width, "patchmean": _width}, "cls", IMAGENET_MEAN, IMAGENET_STD,
              f"DINOv2 {_arch} (Oquab et al. 2023), self-supervised; cls: the class token, patchmean: the mean patch "
              f"token; timm", _dino_tokens)
for _name, (_timm, _arch) in _CLIP.items():
    _register(_name, _timm, {"embed": 512, "cls": 768}, "embed", CLIP_MEAN, CLIP_STD,
              f"CLIP {_arch} image tower (Radford et al. 2021, OpenAI weights); embed: the projected image embedding, "
              f"cls: the class token before it; timm", _clip_tokens)
