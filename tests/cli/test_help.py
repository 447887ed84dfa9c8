"""Help and listings read at 80 columns (issue 38, section 4): no name cut or shown twice, no reStructuredText, method
options under readable names with the paper's symbol kept beside them."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from deepclust.cli import app
from deepclust.methods import get_method, list_methods
from deepclust.methods._options import find_option, first_sentence, plain_text, summary_of

runner = CliRunner()
RST = re.compile(r"``|:[a-z]+:`|`~")


def _at_80(*args) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    return result.output


def _option_cells(output: str) -> dict[str, list[str]]:
    """The option column of `deepclust methods NAME`: each flag with the lines under it (aliases, type, default)."""
    cells: dict[str, list[str]] = {}
    flag = None
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cell = line.split("│")[1].strip()
        if cell.startswith("--"):
            flag = cell
            cells[flag] = []
        elif cell and flag is not None:
            cells[flag].append(cell)
    return cells


def test_methods_lists_every_name_once_and_whole():
    """`deepclust methods` at 80 columns shows each method's full name exactly once, as its row's first cell."""
    output = _at_80("methods")
    assert "…" not in output
    first_cells = [line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│")]
    names = [cell for cell in first_cells if cell]
    assert names == list_methods(), names


@pytest.mark.parametrize("method", list_methods())
def test_method_options_are_whole_and_plain(method):
    """`deepclust methods NAME` at 80 columns: every option's flag in full, no text cut with an ellipsis, no
    reStructuredText markup, and the summary a whole sentence."""
    output = _at_80("methods", method)
    assert "…" not in output, output
    assert not RST.search(output), RST.search(output)
    flags = re.findall(r"│ (--[\w-]+)", output)
    spec = get_method(method)
    assert flags == [o.flag for o in spec.options], flags
    assert " ".join(output.split()).startswith(f"{spec.name}: {summary_of(spec.estimator)}.")


def test_paper_symbols_get_readable_names_and_stay_accepted():
    """DCN's λ and JULE's K_s, K_c, λ and a are listed under readable names with the paper's symbol beside them;
    each spelling finds the same option, which is passed to the estimator under its own name."""
    dcn = _at_80("methods", "dcn")
    assert "Weight λ" in dcn and "--lambda-" not in dcn
    assert _option_cells(dcn)["--kmeans-weight"][0] == "(--lambda)"
    jule = _option_cells(_at_80("methods", "jule"))
    for readable, symbol in (("--graph-neighbors", "--K-s"), ("--neighbor-clusters", "--K-c"),
                             ("--merge-margin-weight", "--lambda"), ("--kernel-scale", "--a")):
        assert jule[readable][0] == f"({symbol})", jule[readable]
    options = get_method("jule").options
    for typed in ("graph-neighbors", "graph_neighbors", "K-s", "K_s", "k_s"):
        assert find_option(options, typed).name == "graph_neighbors", typed
    for typed in ("kmeans-weight", "lambda", "lambda_"):
        assert find_option(get_method("dcn").options, typed).name == "kmeans_weight", typed
    assert find_option(options, "margin").name == "margin" and find_option(options, "nope") is None


def test_readable_names_parse_on_the_command_line():
    """`--kmeans-weight 0.1` and the paper's `--lambda 0.1` both set DCN's ``kmeans_weight`` (the registry looks options
    up by every name they accept)."""
    from deepclust.cli._options import method_options

    spec = get_method("dcn")
    for tokens in (["--kmeans-weight", "0.1"], ["--lambda", "0.1"], ["--lambda-", "0.1"]):
        assert method_options(spec, tokens, []) == ({"kmeans_weight": 0.1}, []), tokens
    assert method_options(get_method("jule"), ["--K-s", "7"], ["kernel_scale=2"])[0] == {"graph_neighbors": 7,
                                                                                       "kernel_scale": 2.0}


def test_cluster_help_cuts_no_option():
    """`deepclust cluster --help` at 80 columns shows every option whole."""
    output = _at_80("cluster", "--help")
    assert "…" not in output
    for flag in ("--labels-from-subfolders", "--augmentations", "--input-size", "--cache-dir", "--batch-size"):
        assert flag in output


@pytest.mark.parametrize("args", [("assign", "--help"), ("duplicates", "--help"), ("cache", "--help"),
                                  ("methods", "--help"), ("datasets",), ("extractors",)])
def test_other_help_and_listings_cut_nothing(args):
    """The help of assign, duplicates, cache and methods, and the data set and extractor listings, at 80 columns:
    nothing cut with an ellipsis."""
    assert "…" not in _at_80(*args)


def test_plain_text_drops_the_markup():
    """Roles show their target (the last part after ``~``, the title of ``title <target>``), literals, interpreted
    text and emphasis lose their marks, whitespace runs become one space."""
    rst = ("Uses ``init_steps``   steps\n of :func:`~deepclust.cluster.FeatureClustering` or :class:`a.B`, "
           ":ref:`the guide <guide>`, `x`, *y* and **z**; 2 * 3 stays")
    assert plain_text(rst) == ("Uses init_steps steps of FeatureClustering or a.B, the guide, x, y and z; "
                               "2 * 3 stays")


@pytest.mark.parametrize("text, first", [
    ("DEC-DA (Guo et al. 2018): shifted by 10 %. Needs images.", "DEC-DA (Guo et al. 2018): shifted by 10 %"),
    ("CNN epochs (the reference's 20). 0 trains no CNN.", "CNN epochs (the reference's 20)"),
    ("Scale (e.g. pixels) first. Then more", "Scale (e.g. pixels) first"),
    ("A value (0.5. Not an end) here. Next", "A value (0.5. Not an end) here"),
    ("No full stop at all", "No full stop at all"),
])
def test_first_sentence_does_not_stop_at_abbreviations(text, first):
    """A sentence ends at a full stop outside brackets before a capital or a digit, not after "al." or "e.g."."""
    assert first_sentence(text) == first


def test_input_setting_options_come_from_their_declaration():
    """`cluster` has one option per input setting it takes, under the flag its declaration names (``--color`` for
    grayscale); SETTING_FLAGS lists those whose flag is not the setting's name, an on-by-default one by the --no- form
    that gives it (errors name what the user typed)."""
    from deepclust.cli._cluster import CLUSTER_SETTINGS
    from deepclust.cli._options import SETTING_FLAGS
    from deepclust.inputs import setting_info

    output = runner.invoke(app, ["cluster", "--help"], env={"COLUMNS": "200"}, catch_exceptions=False).output
    for name in CLUSTER_SETTINGS:
        assert setting_info(name).flag_of(name) in output, name
    assert SETTING_FLAGS == {"grayscale": "--color", "views": "--view", "augment_flip": "--flip",
                             "num_workers": "--workers", "use_cache": "--no-cache"}
    assert "known" not in CLUSTER_SETTINGS and "verbose" not in CLUSTER_SETTINGS
    assert "<auto|torch|onnx>" in output and "<gray|rgb>" in output


def test_discover_takes_dtcs_options_from_the_registry():
    """`discover --help` shows DTC's --attention and --variant with the choices of the estimator's type hints and
    the help of its docstring."""
    wide = runner.invoke(app, ["discover", "--help"], env={"COLUMNS": "200"}, catch_exceptions=False)
    output = " ".join(wide.output.split())
    assert wide.exit_code == 0 and "<none|gradcam|gradcam+grabcut>" in output and "<baseline|te>" in output
    assert get_method("dtc").option("variant").help in output
    for flag in ("--known", "--image-size", "--device"):
        assert flag in output


def test_command_line_values_of_settings_become_the_apis():
    """`--color rgb` is grayscale=False, repeated --view a tuple (none given: None), other values pass as parsed."""
    from deepclust.cli._options import settings_of

    assert settings_of({"grayscale": "rgb", "views": ["pixels", "hog"], "use_cache": False, "batch_size": 8}) == {
        "grayscale": False, "views": ("pixels", "hog"), "use_cache": False, "batch_size": 8}
    assert settings_of({"grayscale": None, "views": []}) == {"grayscale": None, "views": None}
