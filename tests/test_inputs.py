"""Input settings are declared once (a field and its Setting) and everything else is read from there; the preparers
turn tiny arrays and folders into what a method consumes."""

from __future__ import annotations

import inspect
from dataclasses import fields

import numpy as np
import pytest
from PIL import Image

from deepclust import cluster_images
from deepclust.datasets import scan_folder
from deepclust.inputs import (
    INPUT_SETTINGS,
    INPUTS,
    KINDS,
    RECORDED,
    InapplicableSettingsError,
    InputSettings,
    Runtime,
    check_settings,
    prepare_features,
    prepare_pixels,
    prepare_transfer,
    prepare_views,
    setting_default,
    setting_info,
    setting_names,
    split_settings,
)


def _images(n=6, side=12, channels=3, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (n, side, side, channels)).astype(np.uint8)


@pytest.fixture
def tiny_folder(tmp_path):
    """Six 16 px colour images in two class subfolders."""
    root = tmp_path / "tiny"
    for i, image in enumerate(_images(6, 16)):
        (root / f"class{i % 2}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / f"class{i % 2}" / f"{i}.png")
    return root


def _quiet(**kwargs) -> tuple[InputSettings, Runtime]:
    """Settings and a quiet runtime without the cache, to pass to a preparer."""
    settings, runtime, rest = split_settings({"verbose": False, "num_workers": 0, "use_cache": False, **kwargs})
    assert rest == {}
    return settings, runtime


def test_every_field_is_declared_and_the_tables_are_read_from_the_declaration():
    """Each field of InputSettings and Runtime carries its Setting; RECORDED and INPUT_SETTINGS list exactly what
    they declare; the runtime's settings decide no value, so none is recorded."""
    assert set(setting_names()) == {f.name for f in fields(InputSettings)} | {f.name for f in fields(Runtime)
                                                                              if f.name != "client"}
    assert not any(setting_info(n).recorded for n in setting_names(Runtime))
    for f in fields(InputSettings):
        info = setting_info(f.name)
        assert info.help.strip(), f.name
        assert set(info.kinds) <= set(KINDS), (f.name, info.kinds)
    assert RECORDED == tuple(n for n in setting_names() if setting_info(n).recorded)
    assert RECORDED == ("extractor", "layer", "weights", "input_size", "focus", "image_size", "grayscale", "views")
    assert set(KINDS) == set(INPUTS) == set(INPUT_SETTINGS)
    extraction = {"runtime", "dask", "cache_dir", "use_cache"}
    assert set(INPUT_SETTINGS["features"]) == {"extractor", "layer", "weights", "input_size", "focus"} | extraction
    assert set(INPUT_SETTINGS["pixels"]) == {"focus", "image_size", "grayscale"}
    assert set(INPUT_SETTINGS["transfer"]) == {"known", "image_size", "grayscale"}
    assert setting_info("grayscale").flag_of("grayscale") == "--color"
    assert setting_info("layer").flag_of("layer") == "--layer"
    assert setting_info("verbose").flag_of("verbose") is None


def test_cluster_images_shows_every_setting_in_its_signature_and_docstring():
    """cluster_images' signature lists each setting, keyword-only with its declared default, before **options;
    its docstring documents each one."""
    params = inspect.signature(cluster_images).parameters
    for name in setting_names():
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY and params[name].default == setting_default(name)
        assert f"    {name} : " in cluster_images.__doc__, name
    assert list(params)[-1] == "options" and params["options"].kind is inspect.Parameter.VAR_KEYWORD
    assert "{settings}" not in cluster_images.__doc__


def test_split_sorts_settings_from_method_options():
    """split_settings takes the input settings and the runtime by name and leaves the rest (a method's options);
    views become a tuple; recorded() writes what run.json holds; a bad batch size is refused where it is given."""
    settings, runtime, rest = split_settings({"views": ["pixels", "hog"], "batch_size": 8, "pretrain_epochs": 3})
    assert settings.views == ("pixels", "hog") and runtime.batch_size == 8 and rest == {"pretrain_epochs": 3}
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        Runtime(batch_size=0)
    assert InputSettings(weights=None, views=("hog",), layer="pool").recorded() == {"layer": "pool",
                                                                                   "views": ["hog"]}


def test_settings_of_another_input_and_unused_fit_arguments_are_refused():
    """A setting the input kind does not read is an error naming it; so is one that makes a fit argument the
    method's registry entry does not take (augmentations without augmented)."""
    with pytest.raises(InapplicableSettingsError, match="grayscale does not apply to method m on features"):
        check_settings("features", InputSettings(grayscale=True), "m")
    check_settings("views", InputSettings(augmentations=2), "m", fit_args=("augmented",))
    with pytest.raises(ValueError, match="does not use augmented copies"):
        check_settings("views", InputSettings(augmentations=2), "m", fit_args=())
    check_settings("views", InputSettings(augmentations=0), "m", fit_args=())
    with pytest.raises(ValueError, match="unknown input"):
        check_settings("sound", InputSettings(), "m")


#: A value other than its default for every setting, to give it.
_GIVEN = dict(extractor="resnet18", layer="pool", weights="w.pt", input_size=32, focus="object", image_size=16,
              grayscale=False, views=("hog",), augmentations=1, augment_flip=True, device="cpu", batch_size=8,
              num_workers=0, runtime="onnx", dask="local:1", cache_dir="cache", use_cache=False, verbose=False,
              known="known")


@pytest.mark.parametrize("kind", KINDS)
def test_every_setting_is_read_by_the_kind_or_refused(kind):
    """For each input kind, every setting given alone is either one the kind reads or refused by name: no option is
    accepted and then ignored (runtime, cache and Dask only where features are extracted)."""
    assert set(_GIVEN) == set(setting_names())
    for name, value in _GIVEN.items():
        settings, runtime, _ = split_settings({name: value})
        if name in INPUT_SETTINGS[kind] or not setting_info(name).kinds:
            check_settings(kind, settings, "m", fit_args=("augmented",), runtime=runtime)
        else:
            with pytest.raises(InapplicableSettingsError, match=f"^{name} does not apply to method m on {kind}"):
                check_settings(kind, settings, "m", runtime=runtime)
    check_settings(kind, InputSettings(), "m", runtime=Runtime(runtime="auto", use_cache=True))  # defaults, given
    check_settings(kind, InputSettings(), "m", runtime=Runtime(runtime=None, use_cache=None))  # None: the default
    assert {"runtime", "cache_dir", "use_cache", "dask"} & set(INPUT_SETTINGS["pixels"]) == set()
    assert {"runtime", "cache_dir", "use_cache", "dask"} <= set(INPUT_SETTINGS["features"]) & set(
        INPUT_SETTINGS["views"])


def test_prepare_pixels_of_an_array_and_of_a_folder(tiny_folder):
    """Arrays pass as given; a folder is decoded at image_size, grey by default, RGB with grayscale=False."""
    X = _images(5, 10)
    out = prepare_pixels(X, *_quiet(), typical_size=10)
    assert out.X is X and list(out.indices) == [0, 1, 2, 3, 4] and out.failed == []
    grey = prepare_pixels(scan_folder(tiny_folder), *_quiet(image_size=8), typical_size=16)
    assert grey.X.shape == (6, 8, 8, 1) and grey.X.dtype == np.uint8
    assert grey.params == {"image_size": 8, "grayscale": True, "focus": "none"}
    rgb = prepare_pixels(scan_folder(tiny_folder), *_quiet(image_size=8, grayscale=False), typical_size=16)
    assert rgb.X.shape == (6, 8, 8, 3) and rgb.params["grayscale"] is False


def test_prepare_views_of_handcrafted_views_with_augmented_copies():
    """Hand-crafted views (no network): one matrix per view; augmentations=N adds N augmented copies of every view
    for fit's ``augmented``."""
    X = _images(6, 16, channels=1)
    out = prepare_views(X, *_quiet(views=("pixels", "hog"), augmentations=1, augment_flip=False), typical_size=16)
    assert len(out.X) == 2 and all(len(v) == 6 for v in out.X)
    assert out.params["views"] == ["pixels", "hog"] and out.params["augmentations"] == 1
    assert out.params["augment_flip"] is False
    (copy,) = out.fit_kwargs["augmented"]
    assert [a.shape for a in copy] == [v.shape for v in out.X]
    plain = prepare_views(X, *_quiet(views=("pixels",)), typical_size=16)
    assert plain.fit_kwargs == {} and np.array_equal(plain.X[0], out.X[0])


def test_prepare_transfer_from_arrays_and_from_a_folder(tiny_folder, tmp_path):
    """Known images come as (images, labels) or a folder of class subfolders and go to fit as X_known/y_known;
    a missing known set, a single class or a known folder that is the unlabelled one are refused."""
    unknown = _images(4, 10)
    known = (_images(6, 10, seed=1), np.array([0, 1, 0, 1, 0, 1]))
    out = prepare_transfer(unknown, *_quiet(known=known), typical_size=10)
    assert out.X is unknown and out.fit_kwargs["X_known"] is known[0]
    assert out.params["n_known_classes"] == 2 and out.params["known"] == "array [6, 10, 10, 3]"
    with pytest.raises(ValueError, match="known=FOLDER"):
        prepare_transfer(unknown, *_quiet(), typical_size=10)
    with pytest.raises(ValueError, match="at least two"):
        prepare_transfer(unknown, *_quiet(known=(known[0], np.zeros(6))), typical_size=10)
    with pytest.raises(ValueError, match="6 known images"):
        prepare_transfer(unknown, *_quiet(known=(known[0], np.zeros(5))), typical_size=10)
    from_folder = prepare_transfer(unknown, *_quiet(known=tiny_folder, image_size=8), typical_size=10)
    assert from_folder.fit_kwargs["X_known"].shape == (6, 8, 8, 3)
    assert sorted(from_folder.params["known_classes"]) == ["class0", "class1"]
    with pytest.raises(ValueError, match="share"):
        prepare_transfer(scan_folder(tiny_folder), *_quiet(known=tiny_folder, image_size=8), typical_size=16)


def test_prepare_features_of_a_tiny_array(tmp_path):
    """CNN features of the default extractor at a small input size: one row per image, and what run.json
    records (extractor, resolved layer and input size)."""
    out = prepare_features(_images(4, 16), *_quiet(input_size=32, device="cpu", cache_dir=tmp_path),
                           typical_size=16)
    assert out.X.shape[0] == 4 and out.X.dtype == np.float32 and list(out.indices) == [0, 1, 2, 3]
    assert out.params["extractor"] == "efficientnet_lite0" and out.params["input_size"] == 32
    assert out.params["layer"] and out.extraction["from_cache"] is False


def test_a_method_option_named_like_an_input_setting_goes_through_method_options():
    """DEC's training ``batch_size`` and the extraction's ``batch_size`` share a name: ``method_options`` (the CLI's
    ``-o``) reaches the method, the keyword the input setting; neither swallows the other."""
    from deepclust import cluster_images, load_dataset

    X, _ = load_dataset("digits")
    run = cluster_images(X[:60], method="dec", n_clusters=3, input="pixels", batch_size=7, verbose=False,
                         method_options={"batch_size": 16, "pretrain_epochs": 1, "n_init": 1, "hidden_dims": (8,)})
    assert run.params["batch_size"] == 16  # the extraction's batch size (7) is not recorded: it changes no value


def test_the_runtime_is_taken_by_name_with_each_entry_points_defaults():
    """Entry points that read images take the runtime's settings as keywords (shown in their signatures, with their
    own defaults where they differ); a keyword that is neither theirs nor the runtime's is refused under their name."""
    from deepclust import assign_images
    from deepclust.explore import find_duplicates

    for func in (assign_images, find_duplicates):
        params = inspect.signature(func).parameters
        assert set(setting_names(Runtime)) <= set(params) and "{runtime}" not in func.__doc__
        with pytest.raises(TypeError, match=f"{func.__name__}\\(\\) got an unexpected keyword argument 'cache'"):
            func("no-run", "x", cache=False)
    assert inspect.signature(assign_images).parameters["verbose"].default is True
    assert inspect.signature(find_duplicates).parameters["verbose"].default is False  # a library call stays quiet


def test_the_input_size_follows_the_whole_folder_not_the_drawn_subset(tmp_path):
    """``limit`` draws a subset after the images' typical size is read from the whole folder (its first files):
    the same folder embeds at the same size whatever subset is drawn."""
    for i in range(40):
        side = 16 if i < 32 else 160  # the first files, in sorted order, are small
        Image.fromarray(_images(1, side, seed=i)[0]).save(tmp_path / f"{i:02d}.png")
    whole = cluster_images(tmp_path, n_clusters=2, umap_components=None, use_cache=False, verbose=False)
    part = cluster_images(tmp_path, n_clusters=2, limit=6, random_state=3, umap_components=None, use_cache=False,
                          verbose=False)
    assert part.params["input_settings"]["typical_size"] == whole.params["input_settings"]["typical_size"] == 16
    assert part.params["input_size"] == whole.params["input_size"]
