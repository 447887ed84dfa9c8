"""Every reproduce command, cited path and local link in the documentation points at something in the repository.

The documents checked are README.md, docs/*.md and benchmarks/README.md. Three kinds of reference are read:

- commands: ``python -m benchmarks.X`` (``-m benchmarks.archive.X`` and the like) and ``python benchmarks/X.py``
  must name a module file of the repository;
- cited paths: a word inside a code span or fenced block that starts with ``benchmarks/``, ``docs/``, ``src/``,
  ``tests/``, ``scripts/`` or ``results/`` must exist (``results/`` and ``archive/`` are read from ``benchmarks/``,
  which holds them), and a glob (``results/deep_*.md``) must match a file;
- local links: a markdown link that is no URL must reach an existing file, and its ``#anchor`` a heading there.

Placeholders (``benchmarks.NAME``, ``results/NAME.md``: a part in capitals) and ellipses (``runs/…``) are no
references; words that start elsewhere (``runs/``, ``PHOTOS/``, ``~/.cache``, option values) are never read.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "benchmarks/README.md", *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))]

# A fenced block: ``` or ~~~ at the start of a line, up to the same fence (or the end of the file).
_FENCE = re.compile(r"^(?P<fence>```|~~~).*?^(?P=fence)[ \t]*$|^(?:```|~~~)(?:(?!^```|^~~~).)*\Z", re.M | re.S)
# An inline code span: a run of backticks, its content, the same run (CommonMark; the content may wrap lines).
_SPAN = re.compile(r"(?<!`)(?P<ticks>`+)(?!`)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)", re.S)
# A module run with -m (whatever runs it: python, .venv/bin/python, python3) under the benchmarks package; read from
# the whole text, prose included, since a command may wrap lines or sit in a table.
_MODULE = re.compile(r"(?<![\w-])-m\s+(?P<module>benchmarks(?:\.\w+)+)")
# A script run by its path: "python benchmarks/x.py", "python3 benchmarks/archive/x.py", ".venv/bin/python ...".
_SCRIPT = re.compile(r"\bpython3?\s+(?P<script>benchmarks/[\w/]+\.py)\b")
# A word of code: whitespace, quotes, '=', parentheses, ',' and ';' end it, except a ',' inside a brace group.
_WORD = re.compile(r"(?:\{[^{}\s]*\}|[^\s\"'`=(),;{}])+")
# A cited path: a whole word of code that *starts* with a top-level folder of the repository (or results/, archive/
# of benchmarks/) and holds only path characters. A word before it (`bash scripts/setup.sh`) is another word;
# `--weights PATH`, runs/…, PHOTOS/, ~/.cache/deepclust and ../shared/STYLE.md never match.
_PATH = re.compile(r"^(?:benchmarks|docs|src|tests|scripts|results|archive)/[\w.\-/{},*?…]*$")
_BENCHMARKS_RELATIVE = ("results/", "archive/")
# A markdown link or image, [text](target "title") (the text may wrap lines; code is blanked out first).
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_URL = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:|//)", re.I)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<title>.+?)[ \t#]*$", re.M)
_HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:id|name)=\"(?P<id>[^\"]+)\"", re.I)
# A placeholder part of a name: NAME, PATH, X (capitals), except the capitalised file names a repository has.
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$")
_REAL_CAPITALS = {"README", "LICENSE", "CHANGELOG", "CONTRIBUTING"}


def _read(doc: str) -> str:
    return (ROOT / doc).read_text(encoding="utf-8")


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _blank(match: re.Match) -> str:
    """The match with every character but newlines replaced by a space (positions and line numbers kept)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _code(text: str) -> list[tuple[int, str]]:
    """(position, content) of every fenced block and code span of ``text``."""
    without_fences = _FENCE.sub(_blank, text)
    return ([(m.start(), m.group(0)) for m in _FENCE.finditer(text)]
            + [(m.start("code"), m.group("code")) for m in _SPAN.finditer(without_fences)])


def _is_placeholder(parts: list[str]) -> bool:
    """Whether a name has a placeholder part (``results/NAME.md``, ``benchmarks.NAME``) or an ellipsis (``runs/…``)."""
    def placeholder(part: str) -> bool:
        stem = part.split(".")[0]
        return "…" in part or "..." in part or bool(_PLACEHOLDER.match(stem)) and stem not in _REAL_CAPITALS
    return any(placeholder(p) for p in parts)


def _expand_braces(path: str) -> list[str]:
    """``results/choose_k.{json,md}`` → ``results/choose_k.json``, ``results/choose_k.md``."""
    m = re.search(r"\{([^{}]*)\}", path)
    if not m:
        return [path]
    return [q for alt in m.group(1).split(",") for q in _expand_braces(path[:m.start()] + alt + path[m.end():])]


def commands(text: str) -> list[tuple[int, str, Path]]:
    """(line, the command as written, the file it must run) of every reproduce command in ``text``."""
    found = []
    for m in _MODULE.finditer(text):
        parts = m.group("module").split(".")
        if not _is_placeholder(parts):
            base = ROOT.joinpath(*parts)
            target = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
            found.append((_line(text, m.start()), "-m " + m.group("module"), target))
    for m in _SCRIPT.finditer(text):
        if not _is_placeholder(m.group("script").split("/")):
            found.append((_line(text, m.start()), m.group(0), ROOT / m.group("script")))
    return sorted(found, key=lambda f: f[0])


def cited_paths(text: str) -> list[tuple[int, str, Path]]:
    """(line, the path as cited, where it must exist) of every path cited in the code of ``text``: placeholders and
    ellipses left out, brace groups expanded, globs kept as patterns."""
    found = []
    for pos, code in _code(text):
        for word in _WORD.finditer(code):
            cited = word.group(0).rstrip(".:")
            if _PATH.match(cited) and not _is_placeholder(cited.split("/")):
                base = ROOT / "benchmarks" if cited.startswith(_BENCHMARKS_RELATIVE) else ROOT
                found += [(_line(text, pos + word.start()), cited, base / p) for p in _expand_braces(cited)]
    return sorted(found, key=lambda f: f[0])


def exists(target: Path) -> bool:
    """Whether ``target`` exists or, a glob, matches at least one file."""
    if not re.search(r"[*?]", str(target)):
        return target.exists()
    return any(ROOT.glob(target.relative_to(ROOT).as_posix()))


def links(text: str) -> list[tuple[int, str]]:
    """(line, target) of every markdown link or image of ``text`` that is not a URL (``scheme:`` or ``//``)."""
    prose = _SPAN.sub(_blank, _FENCE.sub(_blank, text))
    return [(_line(prose, m.start()), m.group("target")) for m in _LINK.finditer(prose)
            if not _URL.match(m.group("target"))]


def github_anchor(title: str) -> str:
    """The anchor GitHub gives a heading: its text lower-cased, punctuation dropped (letters, digits, marks, spaces,
    ``-`` and ``_`` kept), each space a ``-``."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link or image in a heading reads as its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors of a markdown text: its headings' (a repeat numbered -1, -2 as GitHub does) and its
    ``<a id=...>`` tags'."""
    text = _FENCE.sub(_blank, markdown)
    seen: dict[str, int] = {}
    out = {m.group("id") for m in _HTML_ANCHOR.finditer(text)}
    for m in _HEADING.finditer(text):
        slug = github_anchor(m.group("title"))
        out.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return out


@cache
def _file_anchors(path: Path) -> set[str]:
    return anchors(path.read_text(encoding="utf-8"))


def broken_links(doc: str, text: str) -> list[str]:
    """What is wrong with each local link of ``text``, read as the document ``doc`` (links are relative to it)."""
    bad = []
    for line, target in links(text):
        file_part, _, anchor = target.partition("#")
        if not file_part:  # an anchor of the document itself
            if anchor not in anchors(text):
                bad.append(f"line {line}: {target} (no heading #{anchor} here)")
            continue
        path = ((ROOT / doc).parent / file_part).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            bad.append(f"line {line}: {target} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in _file_anchors(path):
            bad.append(f"line {line}: {target} (no heading #{anchor} in {path.relative_to(ROOT)})")
    return bad


def _report(doc: str, bad: list[str]) -> str:
    return f"{doc} cites what the repository does not hold:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("doc", DOCS)
def test_reproduce_commands_name_existing_scripts(doc):
    """Every ``python -m benchmarks.X`` and ``python benchmarks/X.py`` in the document names an existing module."""
    bad = [f"line {line}: {cited} (no {target.relative_to(ROOT)})" for line, cited, target in commands(_read(doc))
           if not target.is_file()]
    assert not bad, _report(doc, bad)


@pytest.mark.parametrize("doc", DOCS)
def test_cited_paths_exist(doc):
    """Every path cited in code (benchmarks/, docs/, src/, tests/, scripts/, results/) exists; a glob matches."""
    bad = [f"line {line}: {cited} (no {target.relative_to(ROOT)})" for line, cited, target in cited_paths(_read(doc))
           if not exists(target)]
    assert not bad, _report(doc, bad)


@pytest.mark.parametrize("doc", DOCS)
def test_local_links_reach_a_file_and_heading(doc):
    """Every local markdown link reaches an existing file, and its #anchor a heading of that file."""
    bad = broken_links(doc, _read(doc))
    assert not bad, _report(doc, bad)


def test_the_checks_catch_stale_references():
    """A moved script, a missing file, a wrong anchor are caught; placeholders, globs that match and URLs are not."""
    text = """# Title
Run `python -m benchmarks.gone --x 1`, `python benchmarks/gone.py`, then `python -m benchmarks.NAME`; see
`results/gone.md`, `results/NAME.md`, `results/deep_*.md`, `results/nothing_*.md`, `runs/…`, `PHOTOS/`,
`results/choose_k.{json,md}`, [a](docs/gone.md), [b](../README.md#no-such-heading), [c](#title), [f](#gone),
[d](https://example.org/x.md), [e](../README.md#benchmarks), [g](results/).
```bash
python -m benchmarks.run --tables    # and tests/gone.py
```
"""
    assert [(line, c) for line, c, t in commands(text) if not t.is_file()] == [
        (2, "-m benchmarks.gone"), (2, "python benchmarks/gone.py")]
    assert [(line, c) for line, c, t in cited_paths(text) if not exists(t)] == [
        (2, "benchmarks/gone.py"), (3, "results/gone.md"), (3, "results/nothing_*.md"), (7, "tests/gone.py")]
    assert broken_links("benchmarks/README.md", text) == [
        "line 4: docs/gone.md (no such file)",
        "line 4: ../README.md#no-such-heading (no heading #no-such-heading in README.md)",
        "line 4: #gone (no heading #gone here)"]


def test_the_extraction_sees_the_documents_references():
    """The extraction finds known references of each kind in the documents, so no check passes by finding nothing."""
    bench, readme = _read("benchmarks/README.md"), _read("README.md")
    assert "-m benchmarks.archive.deep_methods" in {c for _, c, _ in commands(bench)}
    assert "tests/test_imports.py" in {c for _, c, _ in cited_paths(readme)}
    assert ROOT / "benchmarks/results/choose_k.md" in {t for _, _, t in cited_paths(bench)}
    assert "results/deep_*.md" in {c for _, c, _ in cited_paths(bench)}
    assert "docs/methods.md#deep-clustering-methods" in {t for _, t in links(readme)}
    assert "#choosing-k" in {t for _, t in links(bench)}


def test_github_anchor_rules():
    """Headings become GitHub's anchors: lower case, punctuation dropped, spaces to hyphens, code kept as text."""
    assert github_anchor("The run report at 70,000 images") == "the-run-report-at-70000-images"
    assert github_anchor("The most accurate: SCAN heads over several views (`--method best`)") == (
        "the-most-accurate-scan-heads-over-several-views---method-best")
    assert github_anchor("A consensus of `best`'s heads") == "a-consensus-of-bests-heads"
    assert github_anchor("Discovering novel classes (DTC)") == "discovering-novel-classes-dtc"
    assert github_anchor("See [the table](x.md#y) — 2 × 3") == "see-the-table--2--3"
