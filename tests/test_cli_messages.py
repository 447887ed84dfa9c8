"""The CLI's messages name what the user typed (issue 38, section 4): flags as spelled on the command line, typos
answered with the closest flag, a labels CSV header with common column names understood."""

from __future__ import annotations

import json

from helpers import invoke
from typer.testing import CliRunner

from deepclust.cli import app

runner = CliRunner()


def test_settings_are_named_by_their_flags(shapes_folder, tmp_path):
    """--color with kmeans and --view with kmeans are refused under the flag the user typed, not the API name."""
    common = ("--out", tmp_path / "x", "--quiet", "-k", 3)
    result = invoke("cluster", shapes_folder, "--color", "rgb", *common)
    assert result.exit_code == 2 and "--color does not apply to method kmeans" in result.text, result.text
    assert "grayscale" not in result.text
    result = invoke("cluster", shapes_folder, "--view", "hog", *common)
    assert result.exit_code == 2 and "--view does not apply" in result.text and "views" not in result.text


def test_extraction_settings_are_refused_for_a_method_on_pixels(shapes_folder, tmp_path):
    """--no-cache, --runtime and --dask with dec (pixels: nothing is extracted) are refused as typed."""
    common = ("--out", tmp_path / "x", "--quiet", "-k", 3, "--method", "dec")
    for given, named in ((("--no-cache",), "--no-cache"), (("--runtime", "onnx"), "--runtime"),
                         (("--dask", "local:1"), "--dask"), (("--cache-dir", tmp_path / "c"), "--cache-dir")):
        result = invoke("cluster", shapes_folder, *given, *common)
        assert result.exit_code == 2 and f"{named} does not apply to method dec on pixels" in result.text, \
            result.text
    assert not (tmp_path / "x").exists()


def test_a_mistyped_flag_gets_the_closest_one(shapes_folder, tmp_path):
    """--n-cluster 5 is answered with 'did you mean --n-clusters?', not with the method's option list."""
    result = invoke("cluster", shapes_folder, "--n-cluster", 5, "--out", tmp_path / "x", "--quiet")
    assert result.exit_code == 2 and "did you mean --n-clusters?" in result.text, result.text
    assert "its options" not in result.text


def _shapes_run(shapes_folder, tmp_path):
    """A k = 3 run of the shapes folder (its folder, its image paths, the options it ran with)."""
    out = tmp_path / "run"
    args = ("--cache-dir", tmp_path / "cache", "--quiet", "--workers", 0, "--map", "none", "-k", 3)
    assert invoke("cluster", shapes_folder, "--out", out, *args).exit_code == 0
    return out, [line.split(",")[0] for line in (out / "assignments.csv").read_text().splitlines()[1:]], args


def test_evaluate_reads_a_header_of_common_names(shapes_folder, tmp_path):
    """evaluate --labels with a `file,class` header uses those columns; an unknown header says what is expected."""
    out, paths, _ = _shapes_run(shapes_folder, tmp_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("class,file\n" + "".join(f"{p.split('/')[0]},{p}\n" for p in paths))
    result = invoke("evaluate", out, "--labels", labels)
    assert result.exit_code == 0, result.text
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["scores"]["n_scored"] == 30 and evaluation["scores"]["acc"] > 0.9
    labels.write_text("picture,kind\n" + "".join(f"{p},{p.split('/')[0]}\n" for p in paths))
    result = invoke("evaluate", out, "--labels", labels)
    assert result.exit_code == 2 and "not a header deepclust knows" in result.text and "path" in result.text


def test_evaluate_reads_a_headerless_csv_of_a_data_set_run(tmp_path):
    """A data-set run names its images 0, 1, …: a headerless `0,3` CSV is data, not a header."""
    out = tmp_path / "run"
    args = ("--cache-dir", tmp_path / "cache", "--quiet", "--map", "none", "-k", 3, "--limit", 60)
    assert invoke("cluster", "--dataset", "digits", "--out", out, *args).exit_code == 0
    rows = [line.split(",") for line in (out / "assignments.csv").read_text().splitlines()[1:]]
    labels = tmp_path / "labels.csv"
    labels.write_text("".join(f"{r[0]},{r[-1]}\n" for r in rows))
    result = invoke("evaluate", out, "--labels", labels)
    assert result.exit_code == 0, result.text
    assert json.loads((out / "evaluation.json").read_text())["scores"]["n_scored"] == 60


def test_augmented_copies_for_a_method_that_drops_them_are_refused(tmp_path):
    """--method consensus --augmentations 2: refused before extraction instead of extracted and silently dropped."""
    result = invoke("cluster", "--dataset", "digits", "--limit", 60, "-k", 3, "--method", "consensus",
                     "--augmentations", 2, "--out", tmp_path / "run", "--cache-dir", tmp_path / "cache", "--quiet")
    assert result.exit_code == 2 and "does not use augmented copies" in result.text, result.text
    assert not (tmp_path / "cache").exists()


def test_a_second_evaluation_against_other_labels_is_refused_unless_replaced(shapes_folder, tmp_path, monkeypatch):
    """evaluate --labels, then a plain evaluate: refused, naming the earlier labels and their ACC, and the files stay
    as they were; --replace replaces them. --labels-depth works on evaluate; images at several folder depths are
    scored with a warning that the folders may not be classes."""
    out, paths, args = _shapes_run(shapes_folder, tmp_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("path,label\n" + "".join(f"{p},{p.split('/')[0]}\n" for p in paths))
    assert invoke("evaluate", out, "--labels", labels).exit_code == 0
    before = {name: (out / name).read_bytes() for name in ("evaluation.json", "confusion.csv", "report.html")}
    result = invoke("evaluate", out, "--labels-depth", "deepest")
    assert result.exit_code == 2 and f"was scored against {labels} (ACC 1.000)" in result.text, result.text
    assert "--replace" in result.text
    assert {name: (out / name).read_bytes() for name in before} == before
    result = invoke("evaluate", out, "--labels-depth", "deepest", "--replace")
    assert result.exit_code == 0, result.text
    assert json.loads((out / "evaluation.json").read_text())["labels"] == "subfolder names (depth deepest)"
    assert "several folder depths" not in result.text
    result = invoke("evaluate", out, "--labels", labels, "--labels-depth", "2")
    assert result.exit_code == 2 and "give one of them" in result.text
    assert invoke("evaluate", out, "--labels", labels, "--replace").exit_code == 0
    monkeypatch.chdir(tmp_path)  # the same file, written another way: the same labels, scored again
    assert invoke("evaluate", out, "--labels", "labels.csv").exit_code == 0

    nested = tmp_path / "nested"  # a phone dump: DCIM/2024/… beside WhatsApp/…
    for i, p in enumerate(sorted((shapes_folder / "square").iterdir())):
        target = nested / ("DCIM/2024" if i % 2 else "WhatsApp") / p.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(p.read_bytes())
    assert invoke("cluster", nested, "--out", tmp_path / "run2", *args[:-2], "-k", 2).exit_code == 0
    result = invoke("evaluate", tmp_path / "run2")
    assert result.exit_code == 0 and "2 folder depths, so the folders may not be classes" in result.text, result.text
    assert "DCIM, WhatsApp" in result.text


def test_usage_errors_are_one_sentence_not_a_framed_box(tmp_path):
    """-k 1, --focus objects and a missing argument: one line starting `error:`, the command's --help named."""
    for args, said in ((("cluster", "--dataset", "digits", "-k", 1), "greater than or equal to 2"),
                       (("cluster", "--dataset", "digits", "--focus", "objects"), "'objects' is not one of"),
                       (("cluster", "--dataset", "digits", "--focus", "[/x]"), "'[/x]' is not one of"),
                       (("evaluate",), "Missing argument")):
        result = runner.invoke(app, [str(a) for a in args])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error:"), result.output
        assert said in lines[0] and f"`deepclust {args[0]} --help`" in lines[0] and "╭" not in result.output


def test_an_unsure_k_is_said_on_the_console_and_in_the_report(tmp_path, feature_cache, monkeypatch):
    """When the choice of k is unsure (here the votes are made to disagree), the console has one line saying so and
    report.html the same caveat beside the curves."""
    from deepclust.cluster import _select_k

    monkeypatch.setattr(_select_k, "votes_disagree", lambda votes, k: "the criteria disagree (test).")
    out = tmp_path / "digits"
    result = invoke("cluster", "--dataset", "digits", "--limit", 200, "--out", out, "--quiet", "--k-max", 6,
                     "--cache-dir", feature_cache, "--map", "none")
    assert result.exit_code == 0 and "unsure of k: the criteria disagree (test)." in result.text, result.text
    assert json.loads((out / "run.json").read_text())["k_selection"]["caveat"] == "the criteria disagree (test)."
    assert 'id="k-caveat">Unsure of k: the criteria disagree (test).' in (out / "report.html").read_text()
