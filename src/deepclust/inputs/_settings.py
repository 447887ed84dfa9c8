"""The settings that decide what a method's input is (the extractor, its layer, the image size …), each declared
once with its :class:`Setting`; how the work runs is :class:`~deepclust.inputs.Runtime`'s."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import Literal

from ..features import FOCUS_MODES
from ._setting import DEEP, setting

DEFAULT_VIEWS = ("efficientnet_lite0:pool", "efficientnet_lite0:stage4", "pixels")


@dataclass
class InputSettings:
    """How to prepare a method's input. ``None`` means the input kind's default (:meth:`for_kind`). Each field's
    :class:`Setting` (``setting_info(name)``) says which input kinds read it; the list below is generated from
    them."""

    extractor: str | None = setting(
        help="Feature extractor (see `deepclust extractors`; default: EfficientNet-Lite0).", kinds=DEEP,
        recorded=True, defaults={"features": "efficientnet_lite0"})
    layer: str | None = setting(help="Extractor layer (default from the extractor).", kinds=("features",),
                                recorded=True)
    weights: str | os.PathLike | None = setting(
        help="Local weights file for the extractor.", kinds=DEEP, recorded=True,
        doc="views: it applies to the views of ``extractor``.")
    input_size: int | None = setting(
        help="Extractor input side in pixels (default from the images' size).", kinds=DEEP, recorded=True, min=1)
    # the values are FOCUS_MODES (typing flattens the tuple; mypy takes only literals)
    focus: Literal[FOCUS_MODES] | None = setting(  # type: ignore[valid-type]
        help="Embed the object each image shows, cropped and its background greyed: object (objects on cluttered "
             "backgrounds; adds 0.1-0.25 s per image on CPU) or none (default).", kinds=("features", "pixels"),
        recorded=True, defaults={"features": "none", "pixels": "none"},
        doc="See :class:`~deepclust.features.ObjectFocus`.")
    image_size: int | None = setting(
        help="pixels input and pixels/hog views: resize folder images to this side (28).",
        kinds=("pixels", "views", "transfer"), recorded=True, min=1, doc="transfer: default 64.",
        defaults={"pixels": 28, "views": 28, "transfer": 64})
    grayscale: bool | None = setting(
        help="pixels input of a folder: gray (default) or rgb.", kinds=("pixels", "transfer"), recorded=True,
        flag="--color", values={"gray": True, "rgb": False}, defaults={"pixels": True, "transfer": False},
        doc="Python: True (grey) or False (RGB); transfer: default RGB.")
    views: tuple[str, ...] | None = setting(
        help="views input: EXTRACTOR:LAYER, pixels or hog (repeat; default: see README).", kinds=("views",),
        recorded=True, flag="--view", defaults={"views": DEFAULT_VIEWS},
        doc="Python: a sequence of names; default DEFAULT_VIEWS, or the method's registry entry's ``input_defaults``.")
    augmentations: int | None = setting(
        help="views input: augmented copies of every image (default 0).", kinds=("views",), min=0,
        fit_arg="augmented", defaults={"views": 0})
    augment_flip: bool | None = setting(
        help="views input: mirror the augmented copies (--no-flip for digits and text).", kinds=("views",),
        flag="--flip", defaults={"views": True})
    known: str | os.PathLike | tuple | None = setting(
        help="Folder of labelled images of the known classes, one subfolder per class.", kinds=("transfer",),
        group="input", flag="--known", doc="Python: also a pair ``(images, labels)``; ``source`` holds the images "
                                            "to cluster.")

    def __post_init__(self):
        if self.views is not None and not isinstance(self.views, tuple):
            self.views = tuple(self.views)

    def for_kind(self, kind: str) -> InputSettings:
        """These settings with each one left None set to input kind ``kind``'s default (declared with it)."""
        return dataclasses.replace(self, **{
            f.name: f.metadata["setting"].defaults[kind] for f in fields(self)
            if getattr(self, f.name) is None and kind in f.metadata["setting"].defaults})

    def recorded(self) -> dict:
        """The settings given that decide the input's values, as run.json holds them (see ``RECORDED``)."""
        return {f.name: (str(v) if f.name == "weights" else list(v) if f.name == "views" else v)
                for f in fields(self) if f.metadata["setting"].recorded and (v := getattr(self, f.name)) is not None}
