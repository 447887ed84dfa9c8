"""The method registry: a plug-in is one class and one registry line; options are declared once, in the estimator."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from typer.testing import CliRunner

from deepclust import cluster_images, load_dataset
from deepclust.cli import app
from deepclust.methods import MethodOptionError, get_method, list_methods, register_method, unregister_method


class PixelKMeans(ClusterMixin, BaseEstimator):
    """Toy plug-in: k-means on the scaled grey pixels (it exists to test the registry).

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters.
    n_init : int, default=1
        k-means restarts.
    scale : float, default=1.0
        Factor applied to the pixels before clustering.
    random_state : int or None, default=None
        Seed.
    """

    def __init__(self, n_clusters: int = 3, *, n_init: int = 1, scale: float = 1.0, random_state: int | None = None):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.scale = scale
        self.random_state = random_state

    def fit(self, X, y=None):
        Z = np.asarray(X, dtype=np.float32).reshape(len(X), -1) / 255 * self.scale
        km = KMeans(self.n_clusters, n_init=self.n_init, random_state=self.random_state).fit(Z)
        self.labels_, self.cluster_centers_, self.embedding_ = km.labels_, km.cluster_centers_, Z
        return self


@pytest.fixture
def toy():
    """PixelKMeans registered as method "toy-kmeans" for the test, removed after."""
    register_method("toy-kmeans", inputs=("pixels",), family="toy", paper="none (a test)")(PixelKMeans)
    yield get_method("toy-kmeans")
    unregister_method("toy-kmeans")


@pytest.fixture(scope="module")
def digits():
    X, y = load_dataset("digits")
    return X[:300], y[:300]


def test_builtin_methods_are_registered_with_documented_options():
    """Every builtin method is listed, consumes a known input, and each of its options has a type and a help line."""
    names = list_methods()
    assert {"kmeans", "agglomerative-ward", "agglomerative-average", "scan", "best", "dec", "idec", "dcn", "dcec",
            "gapdcec"} <= set(names)
    for name in names:
        spec = get_method(name)
        assert set(spec.inputs) <= {"features", "views", "pixels", "transfer"} and spec.paper, name
        undocumented = [o.name for o in spec.options if not o.help]
        assert not undocumented, f"{name}: options without help: {undocumented}"
        assert not {"n_clusters", "random_state", "device", "verbose"} & {o.name for o in spec.options}


def test_a_duplicate_name_is_refused(toy):
    """Registering a second method under a taken name raises."""
    with pytest.raises(ValueError, match="already registered"):
        register_method("toy-kmeans", inputs=("pixels",), family="toy", paper="-")(PixelKMeans)


def test_names_are_found_in_any_case_and_with_either_dash(toy):
    """``DEC`` (the README's spelling), `` Dec ``, ``AGGLOMERATIVE_WARD`` and ``toy_kmeans`` name the registered
    methods; a name differing from a registered one only so cannot be registered beside it."""
    assert get_method("DEC").name == "dec" and get_method(" Dec ").name == "dec"
    assert get_method("AGGLOMERATIVE_WARD").name == "agglomerative-ward"
    assert get_method("toy_kmeans") is toy
    with pytest.raises(ValueError, match="'toy-kmeans' is already registered"):
        register_method("Toy_KMeans", inputs=("pixels",), family="toy", paper="-")(PixelKMeans)
    assert get_method("toy-kmeans") is toy
    listing = CliRunner().invoke(app, ["methods", "DEC"])
    assert listing.exit_code == 0 and "pretrain_epochs" in listing.output.replace("-", "_"), listing.output


@pytest.mark.parametrize("typo, closest", [("deck", "dec"), ("KMEAN", "kmeans"), ("agglomerative_word",
                                                                                "agglomerative-ward")])
def test_an_unknown_name_suggests_the_closest_method(typo, closest):
    """A misspelt method is an error that suggests the closest registered name and lists them all."""
    with pytest.raises(ValueError, match=rf"unknown method '{typo}' \(did you mean '{closest}'\?\); methods: kmeans"):
        get_method(typo)


def test_toy_plugin_runs_through_the_pipeline(toy, digits):
    """A method registered from a test file runs through cluster_images with its own option, and its clusters beat
    chance by far on the digits (k-means on pixels: about 0.75 ACC on these 300)."""
    X, y = digits
    run = cluster_images(X, method="toy-kmeans", n_clusters=10, n_init=3, labels_true=y, verbose=False)
    assert run.params["method"] == "toy-kmeans" and run.params["n_init"] == 3 and run.params["input"] == "pixels"
    assert run.metrics["acc"] > 0.6, run.metrics
    assert run.n_clusters == 10 and run.embedding.shape == (300, 64)
    assert np.all((run.confidence >= 0) & (run.confidence <= 1))


def test_toy_plugin_runs_through_the_cli(toy, tmp_path):
    """The CLI passes the plug-in's options by name (--n-init, -o scale=) without knowing it, and lists them."""
    runner = CliRunner()
    out = tmp_path / "toy"
    result = runner.invoke(app, ["cluster", "--dataset", "digits", "--limit", "300", "--method", "toy-kmeans", "-k",
                                 "10", "--n-init", "2", "-o", "scale=2", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["parameters"]["n_init"] == 2 and info["parameters"]["scale"] == 2.0
    assert info["metrics"]["acc"] > 0.6
    listing = runner.invoke(app, ["methods", "toy-kmeans"])
    assert listing.exit_code == 0 and "scale" in listing.output and "restarts" in listing.output
    assert "toy-kmeans" in runner.invoke(app, ["methods"]).output


def test_unknown_option_lists_the_methods_options(digits):
    """An option the method does not have is an error naming it and listing the method's options."""
    X, _ = digits
    with pytest.raises(MethodOptionError, match=r"kmeans has no option 'pretrain_epochs'.*pca_components"):
        cluster_images(X, method="kmeans", n_clusters=3, pretrain_epochs=5, verbose=False)


@pytest.mark.parametrize("name, value", [("max_iter", "10"), ("max_iter", 1.5), ("optimizer", "rmsprop"),
                                         ("augment", 1), ("hidden_dims", (500, "x"))])
def test_wrong_types_are_refused_from_python(name, value):
    """A value that does not fit the option's type hint is refused before anything runs."""
    with pytest.raises(MethodOptionError, match=f"option {name} takes"):
        get_method("dec").build(3, **{name: value})


def test_values_are_parsed_from_text_by_their_type():
    """Command-line text becomes the option's type: ints, floats, None, choices, tuples, on/off."""
    dec = get_method("dec")
    assert dec.option("max_iter").parse("20") == 20
    assert dec.option("learning_rate").parse("1e-3") == 0.001
    assert dec.option("hidden_dims").parse("64,32") == (64, 32)
    assert dec.option("optimizer").parse("adam") == "adam"
    assert dec.option("augment").parse("yes") is True
    assert dec.option("autoencoder").parse("none") is None
    assert get_method("best").option("heads").name == "n_heads"  # a CLI alias
    for name, text in (("max_iter", "1.5"), ("optimizer", "rmsprop"), ("augment", "maybe")):
        with pytest.raises(MethodOptionError):
            dec.option(name).parse(text)


@pytest.mark.parametrize("args, message", [
    (("--method", "dec", "-k", 3, "--max-iter", "abc"), "--max-iter takes int"),
    (("--method", "kmeans", "-k", 3, "--heads", 3), "has no option --heads"),
    (("--method", "kmeans", "-k", 3, "-o", "pca_components"), "NAME=VALUE"),
    (("--method", "dec", "-k", 3, "--pretrain-epochs"), "needs a value"),
    (("--method", "dcec", "-k", 3, "--input", "features"), "consumes pixels"),
    (("--method", "kmeans", "-k", 3, "--view", "pixels"), "--view does not apply"),
    (("--method", "nope", "-k", 3), "unknown method 'nope'"),
])
def test_cli_option_errors_are_one_sentence(tmp_path, args, message):
    """Bad method options, inputs and settings exit 2 with a sentence that names the problem, not a traceback."""
    result = CliRunner().invoke(app, ["cluster", "--dataset", "digits", "--limit", "50", *map(str, args),
                                      "--out", str(tmp_path / "x"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output


def test_each_method_declares_the_fit_arguments_it_takes():
    """The registry says which arguments fit takes besides X and y (SCAN heads: augmented copies; DTC: the known
    images), read from fit when the entry does not name them."""
    assert get_method("scan").fit_args == get_method("best").fit_args == ("augmented",)
    assert get_method("dtc").fit_args == ("X_known", "y_known")
    for name in ("kmeans", "consensus", "dec", "jule"):
        assert get_method(name).fit_args == (), name


def test_declared_fit_arguments_are_checked_and_undeclared_ones_refused(toy):
    """fit_args that fit does not take are refused at registration; the pipeline's fit passes only declared ones:
    another is an error, never dropped."""
    with pytest.raises(ValueError, match="takes no augmented"):
        register_method("toy-augmented", inputs=("views",), family="toy", paper="none", fit_args=("augmented",))(
            PixelKMeans)
    assert "toy-augmented" not in list_methods()
    X = np.random.RandomState(0).randint(0, 256, (12, 4, 4)).astype(np.uint8)
    with pytest.raises(TypeError, match="takes no augmented in fit"):
        toy.fit(toy.build(2), X, augmented=[X])
    assert len(toy.fit(toy.build(2), X).labels_) == 12


def test_augmentations_for_a_method_without_augmented_are_refused_before_extraction(digits):
    """cluster_images refuses augmentations for consensus (its entry takes no augmented) before any view is
    extracted."""
    X, _ = digits
    with pytest.raises(ValueError, match="consensus does not use augmented copies"):
        cluster_images(X, method="consensus", n_clusters=3, views=("pixels",), augmentations=1, verbose=False)


@pytest.mark.parametrize("name", list_methods())
def test_literal_options_are_checked_from_their_type_hint(name):
    """A ``Literal`` option's allowed values are written once, in its type hint: the estimator's own check (run
    before any work) refuses a value outside it, with the hint's values in the message."""
    from typing import Literal, get_args, get_origin

    spec = get_method(name)
    for option in spec.options:
        if get_origin(option.annotation) is Literal:
            estimator = spec.estimator(**spec.fixed, **{option.name: "not-a-choice"})
            first = get_args(option.annotation)[0]
            with pytest.raises(ValueError, match=f"{option.name} must be one of .*{re.escape(repr(first))}"):
                estimator._check_params()
