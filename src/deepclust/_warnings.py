"""Warnings as a person reads them: the first line of each message, once, without the source path Python adds."""

from __future__ import annotations


def first_lines(caught) -> list[str]:
    """The messages of ``caught`` (``warnings.catch_warnings(record=True)``), first line only, each once, in order."""
    out = []
    for w in caught:
        text = str(w.message).strip()
        text = text.splitlines()[0] if text else w.category.__name__
        if text not in out:
            out.append(text)
    return out
