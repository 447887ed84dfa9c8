"""Progress on long work where stderr is not a terminal (a log file, a pipe): plain lines, not a bar that only shows
when the stage ends."""

from __future__ import annotations

import time

import pytest

from deepclust import _progress
from deepclust._progress import stage, track


@pytest.fixture
def plain(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_progress, "PLAIN_EVERY_S", 0.0)


def test_progress_to_a_log_file_is_plain_lines_with_the_time_left(plain, capsys):
    """A line per interval with the count, the share and the time left; one at the end; no escape codes."""
    assert list(track(range(4), total=4, description="pretraining autoencoder")) == [0, 1, 2, 3]
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("deepclust pretraining autoencoder: 1/4 (25%), 0:00 elapsed, about 0:00 left")
    assert lines[-1].startswith("deepclust pretraining autoencoder: finished at 4/4 after ")
    assert len(lines) == 5 and "\x1b" not in "".join(lines)  # no escape codes in a log file


def test_a_stage_that_stops_early_or_has_no_total_says_how_far_it_got(plain, capsys):
    """A loop that breaks (DEC at its tolerance) says where it stopped; a stage without a total counts."""
    for i in track(iter(range(100)), total=20000, description="DEC"):
        if i == 9:
            break
    list(track(iter(range(3)), description="decoding"))
    err = capsys.readouterr().err.splitlines()
    assert err[9] == "deepclust DEC: stopped at 9/20000 after 0:00"
    assert err[-2] == "deepclust decoding: 3, 0:00 elapsed"
    assert err[-1] == "deepclust decoding: finished at 3 after 0:00"


def test_quiet_prints_nothing(plain, capsys):
    """verbose=False (--quiet): not a line."""
    assert sum(track(range(3), total=3, description="x", verbose=False)) == 3
    assert capsys.readouterr().err == ""


def test_a_step_that_does_not_advance_still_gives_a_line_per_interval(monkeypatch, capsys):
    """A bar stuck on one slow item, and a stage without a count (writing, a UMAP), give their line from the timer;
    a short stage says only its start."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_progress, "PLAIN_EVERY_S", 0.1)
    for _ in track(range(1), total=1, description="one slow k"):
        time.sleep(0.45)
    with stage("writing the run"):
        time.sleep(0.45)
    with stage("a quick step"):
        pass
    err = capsys.readouterr().err.splitlines()
    stuck = [line for line in err if line.startswith("deepclust one slow k: 0/1 (0%)")]
    ticks = [line for line in err if line.startswith("deepclust writing the run: 0:00 elapsed")]
    assert len(stuck) >= 2 and len(ticks) >= 2, err
    assert "deepclust writing the run: done after 0:00" in err
    assert err[-1] == "deepclust a quick step"
