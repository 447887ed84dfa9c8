"""Where a command may write: the one rule that keeps deepclust from deleting or burying anyone's files.

A command that writes a folder (a run folder, an export, assignments) checks it here before any work:
- the folder is not, does not hold and does not lie inside an input folder (the images, a run it reads);
- an existing non-empty folder is replaced only when asked *and* when it is deepclust's own (it holds the marker
  file deepclust writes, naming its version: ``run.json`` for a run folder) — never a folder of someone's other
  files, nor another tool's run folder;
- it can be written (a read-only disk or folder is found now, not after an hour of extraction).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OutputExistsError(FileExistsError):
    """The output folder is not empty and overwriting was not asked for."""


#: The file that makes a folder a deepclust run folder (``run/`` names the rest of its files).
RUN_FILE = "run.json"


class UnsafeOutputError(ValueError):
    """Writing there could delete or mix with files that are not deepclust's (an input folder, someone's folder)."""


def check_output_dir(out: str | os.PathLike, overwrite: bool, *, inputs=(), marker: str = RUN_FILE,
                     what: str = "run folder") -> Path:
    """Check, before any work, that ``out`` may be written; returns it as a :class:`~pathlib.Path`.

    ``inputs``: folders the command reads (images, a run folder): ``out`` may not be one of them, hold one, or lie
    inside one. ``overwrite``: replace a non-empty ``out``, which is allowed only when it holds ``marker`` (a
    ``what`` of deepclust's own). Raises :class:`OutputExistsError`, :class:`UnsafeOutputError` or
    :class:`PermissionError`, each with one sentence.
    """
    out = Path(out)
    target = out.resolve()
    for folder in inputs:
        if folder is None:
            continue
        held = Path(folder).resolve()
        if target == held:
            relation = "is"
        elif held.is_relative_to(target):
            relation = "holds"
        elif target.is_relative_to(held):
            relation = "lies inside"
        else:
            continue
        kind = "file" if held.is_file() else "folder"
        raise UnsafeOutputError(f"the output folder {out} {relation} the input {kind} {folder}; choose an output "
                                f"folder outside the input (nothing was written)")
    if out.exists() and not out.is_dir():
        raise UnsafeOutputError(f"the output {out} is a file, not a folder; choose a folder (nothing was written)")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputExistsError(f"output folder {out} is not empty; choose another folder or pass overwrite=True")
        if not written_by_deepclust(out / marker):
            raise UnsafeOutputError(f"{out} is not a deepclust {what} (it has no {marker}), so it is not replaced: "
                                    f"overwriting replaces only an empty folder or a {what}; choose another folder")
    check_writable(out)
    return out


def written_by_deepclust(marker: str | os.PathLike) -> bool:
    """Whether the JSON file ``marker`` (``run.json``, ``export.json``…) was written by deepclust: it names a
    deepclust version near its start (another tool's ``run.json`` does not)."""
    try:
        with open(marker, "rb") as f:
            return b'"deepclust_version"' in f.read(4096)
    except OSError:
        return False


def check_writable(folder: str | os.PathLike,
                   hint: str = "choose a folder you can write (nothing was written)") -> None:
    """Raise :class:`PermissionError` (one sentence ending in ``hint``) unless files can be created in ``folder``, or
    in the nearest existing folder above it when it does not exist yet; tried for real, since permission bits do not
    tell a read-only file system."""
    folder = Path(folder).absolute()
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        fd, name = tempfile.mkstemp(prefix=".deepclust-write-test.", dir=probe)
    except OSError as exc:
        raise PermissionError(f"cannot write to {probe} ({exc.strerror or exc}); {hint}") from None
    os.close(fd)
    os.unlink(name)
