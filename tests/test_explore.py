"""Looking into a run folder: outliers, similar images (in the run and new), clusters exported as folders."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from helpers import invoke
from PIL import Image

from deepclust.explore import export_clusters, find_outliers, find_similar


@pytest.fixture
def planted_run(shapes_folder, tmp_path):
    """The shapes folder plus one image unlike any shape (noise), clustered with k = 3."""
    odd = np.random.RandomState(1).randint(0, 256, (48, 48, 3)).astype(np.uint8)
    Image.fromarray(odd).save(shapes_folder / "disc" / "zz_noise.png")
    out = tmp_path / "run"
    result = invoke("cluster", shapes_folder, "-k", 3, "--umap", 0, "--out", out, "--quiet", "--workers", 0,
                     "--cache-dir", tmp_path / "cache", "--map", "none")
    assert result.exit_code == 0, result.output
    return out


def test_the_planted_odd_image_is_the_first_outlier(planted_run):
    """A noise image among shapes is the least typical image of the run, and the CLI writes the list."""
    found = find_outliers(planted_run, 5)
    assert found[0]["path"] == "disc/zz_noise.png", found
    result = invoke("outliers", planted_run, "-n", 3)
    assert result.exit_code == 0 and (planted_run / "outliers.csv").read_text().splitlines()[1].startswith(
        "disc/zz_noise.png")
    assert (planted_run / "figures" / "outliers.png").is_file()
    html = (planted_run / "report.html").read_text()
    assert 'id="outliers"' in html and "disc/zz_noise.png" in html and "figures/outliers.png" in html


def test_similar_finds_an_image_and_its_copy(planted_run, shapes_folder, tmp_path):
    """A copy of a run image kept outside the folder gets its features made as the run's and lands on its original;
    for an image of the run, its neighbours share its cluster."""
    copy = tmp_path / "copy.png"
    shutil.copy(shapes_folder / "square" / "square_02.bmp", copy)
    found, how = find_similar(planted_run, copy, 3)
    assert "new image" in how and found[0]["path"] == "square/square_02.bmp" and found[0]["distance"] < 1e-3
    found, how = find_similar(planted_run, "bar/bar_05.png", 4)
    assert "image of the run" in how and all(f["path"].startswith("bar/") for f in found)
    assert "bar/bar_05.png" not in [f["path"] for f in found]


def test_export_links_every_image_once_and_never_moves_originals(planted_run, shapes_folder, tmp_path):
    """One folder per cluster with a link per image; the originals stay; a non-empty target is refused."""
    before = sorted(p.name for p in shapes_folder.rglob("*.png"))
    counts = export_clusters(planted_run, tmp_path / "export")
    links = list((tmp_path / "export").rglob("*"))
    assert sum(counts.values()) == 31 and len([p for p in links if p.is_symlink()]) == 31
    assert all(p.resolve().is_file() for p in links if p.is_symlink())
    assert sorted(p.name for p in shapes_folder.rglob("*.png")) == before
    result = invoke("export", planted_run, "--to", tmp_path / "export")
    assert result.exit_code == 2 and "--overwrite" in result.output


def test_exploring_a_folder_that_is_no_run_is_one_sentence(tmp_path):
    for args in (("outliers", tmp_path), ("similar", tmp_path, "x.png"), ("export", tmp_path, "--to", tmp_path / "e")):
        result = invoke(*args)
        assert result.exit_code == 2 and "not a run folder" in " ".join(result.output.split()), args


def test_duplicates_find_an_exact_copy_and_a_recompressed_one(shapes_folder, tmp_path):
    """A byte-for-byte copy is an exact duplicate; a slightly brightened copy of another image is a near duplicate;
    the distinct shapes are not grouped at the default threshold."""
    from deepclust.explore import find_duplicates

    shutil.copy(shapes_folder / "bar" / "bar_05.png", shapes_folder / "bar" / "zz_copy.png")
    original = np.asarray(Image.open(shapes_folder / "disc" / "disc_00.png").convert("RGB")).astype(int)
    Image.fromarray(np.clip(original + 8, 0, 255).astype(np.uint8)).save(shapes_folder / "disc" / "zz_edited.png")
    out = tmp_path / "run"
    assert invoke("cluster", shapes_folder, "-k", 3, "--out", out, "--quiet", "--workers", 0, "--map", "none",
                   "--cache-dir", tmp_path / "cache").exit_code == 0
    groups = find_duplicates(out, cache_dir=tmp_path / "cache")
    found = {(g.kind, tuple(sorted(g.paths))) for g in groups}
    assert ("exact", ("bar/bar_05.png", "bar/zz_copy.png")) in found
    assert any(g.kind == "near" and {"disc/disc_00.png", "disc/zz_edited.png"} <= set(g.paths) for g in groups)
    assert sum(len(g.paths) for g in groups) <= 8, found
    result = invoke("duplicates", out, "--quiet")
    assert result.exit_code == 0 and "zz_copy.png" in (out / "duplicates.csv").read_text()
    assert 'id="duplicates"' in (out / "report.html").read_text()


@pytest.fixture
def planted_copies(tmp_path):
    """Four photos of scikit-image (256 px on the long side), a quality-60 JPEG re-encode of one, a half-size copy
    of another, and two different crops (60 % of each side, opposite corners) of a fifth."""
    import skimage.data

    root = tmp_path / "photos"
    root.mkdir()
    for name in ("astronaut", "coffee", "chelsea", "camera"):
        im = Image.fromarray(getattr(skimage.data, name)())
        im.thumbnail((256, 256))
        im.save(root / f"{name}.png")
    Image.open(root / "astronaut.png").convert("RGB").save(root / "astronaut_q60.jpg", quality=60)
    coffee = Image.open(root / "coffee.png")
    coffee.resize((coffee.width // 2, coffee.height // 2), Image.Resampling.LANCZOS).save(root / "coffee_half.png")
    rocket = Image.fromarray(skimage.data.rocket())
    rocket.thumbnail((320, 320))
    w, h = rocket.size
    cw, ch = int(w * 0.6), int(h * 0.6)
    rocket.crop((0, 0, cw, ch)).save(root / "rocket_crop_a.png")
    rocket.crop((w - cw, h - ch, w, h)).save(root / "rocket_crop_b.png")
    return root


def test_duplicates_find_reencoded_and_resized_copies_but_not_crops(planted_copies, tmp_path, monkeypatch):
    """At the defaults a quality-60 re-encode and a half-size copy are each grouped with their original (by the
    perceptual hash), while two different crops of one photo stay apart; `duplicates --cache-dir` reads and writes
    features there, never in the default cache."""
    from deepclust.explore import find_duplicates

    default_cache = tmp_path / "default-cache"
    monkeypatch.setenv("DEEPCLUST_CACHE", str(default_cache))
    out, cache = tmp_path / "run", tmp_path / "cache"
    result = invoke("cluster", planted_copies, "-k", 2, "--umap", 0, "--out", out, "--quiet", "--workers", 0,
                     "--map", "none", "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    groups = find_duplicates(out, cache_dir=cache)
    found = {tuple(sorted(g.paths)): g for g in groups}
    assert ("astronaut.png", "astronaut_q60.jpg") in found, groups
    assert ("coffee.png", "coffee_half.png") in found, groups
    assert found[("coffee.png", "coffee_half.png")].kind.startswith("perceptual")
    assert found[("astronaut.png", "astronaut_q60.jpg")].hamming <= 10
    assert len(groups) == 2, groups  # the crops, and the other photos, are in no group
    result = invoke("duplicates", out, "--quiet", "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    rows = (out / "duplicates.csv").read_text().splitlines()
    assert rows[0] == "group,kind,similarity,hamming,path" and len(rows) == 5
    assert not default_cache.exists()
    result = invoke("duplicates", out, "--quiet", "--no-features")
    assert result.exit_code == 0 and len((out / "duplicates.csv").read_text().splitlines()) == 5
    assert not default_cache.exists()  # hashes alone extract nothing


def test_similar_knows_a_run_image_by_any_path_and_measures_in_feature_space(shapes_folder, tmp_path, monkeypatch):
    """A run image typed as a path from the working folder is the run's image: its byte-identical copy comes first
    at distance 0 (CNN features, not UMAP's space, where copies lie apart), read from the run's cache entry (the run
    has unreadable files) with nothing extracted again; export folders carry the clusters' names."""
    shutil.copy(shapes_folder / "bar" / "bar_05.png", shapes_folder / "bar" / "dup.png")
    out, cache = tmp_path / "run", tmp_path / "cache"
    result = invoke("cluster", shapes_folder, "-k", 3, "--out", out, "--quiet", "--workers", 0, "--cache-dir", cache,
                     "--map", "none")
    assert result.exit_code == 0, result.output
    entries = sorted(cache.glob("*.npy"))
    monkeypatch.chdir(shapes_folder.parent)
    result = invoke("similar", out, f"{shapes_folder.name}/bar/bar_05.png", "-n", 3)
    assert result.exit_code == 0 and "is an image of the run" in result.output, result.output
    found, _ = find_similar(out, f"{shapes_folder.name}/bar/bar_05.png", 3)
    assert found[0]["path"] == "bar/dup.png" and found[0]["distance"] == 0, found
    assert found[1]["distance"] > 0.01 and sorted(cache.glob("*.npy")) == entries
    counts = export_clusters(out, tmp_path / "export")
    names = sorted(p.name for p in (tmp_path / "export").iterdir() if p.is_dir())
    assert len(names) == len(counts) == 3 and all(re.fullmatch(r"cluster_00\d_[\w-]+", n) for n in names), names
