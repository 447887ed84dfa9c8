"""A method's options, read from its estimator's ``__init__`` signature (names, type hints, defaults) and numpydoc
``Parameters`` text (help), so that each option is declared exactly once: in the estimator.

Values typed on a command line are parsed by the type hint; values given from Python are checked against it."""

from __future__ import annotations

import functools
import inspect
import numbers
import os
import re
import typing
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import numpy as np

from ._constraints import constraints_of, is_union

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NONE = ("none", "null")


class MethodOptionError(ValueError):
    """An option a method does not have, or a value of the wrong type."""


@dataclass(frozen=True)
class MethodOption:
    """One option of a method: its name, type hint, default and one line of help.

    ``name`` is the estimator's parameter; ``cli_name`` the name on a command line (``--`` and dashes added by
    :attr:`flag`), which loses a trailing ``_``; ``aliases`` the paper's symbol shown beside it (``lambda`` for
    ``kmeans_weight``, declared on its registry entry). :meth:`accepts` takes them all."""

    name: str
    annotation: Any
    default: Any
    help: str
    cli_name: str = ""
    aliases: tuple[str, ...] = ()
    constraint: object = None  # the range it must lie in (an Interval), when the estimator declares one

    def __post_init__(self):
        if not self.cli_name:
            object.__setattr__(self, "cli_name", self.name)

    @property
    def flag(self) -> str:
        """``--cli-name``."""
        return "--" + self.cli_name.replace("_", "-")

    @property
    def alias_flags(self) -> list[str]:
        """The accepted other spellings as flags (``--lambda`` for ``kmeans_weight``), to show beside :attr:`flag`."""
        return ["--" + a.replace("_", "-") for a in self.aliases]

    def accepts(self, name: str) -> bool:
        """Whether ``name`` (as typed: dashes or underscores) names this option: its parameter, its command-line
        name or an alias; an alias also in another case (``k_s`` for ``K_s``)."""
        key = name.replace("-", "_")
        if key in (self.name, self.cli_name):
            return True
        return _loose(key) in {_loose(a) for a in (self.name, *self.aliases)}

    @property
    def type_name(self) -> str:
        return type_name(self.annotation)

    @property
    def is_flag(self) -> bool:
        """True for a plain ``bool``: on a command line ``--name`` sets it, ``--no-name`` clears it."""
        return self.annotation is bool

    def parse(self, text: str):
        """The value of ``text`` typed on a command line."""
        try:
            return parse_value(text, self.annotation)
        except ValueError:
            raise MethodOptionError(f"option {self.name} takes {self.type_name}, got {text!r}") from None

    def check(self, value):
        """``value`` itself when it fits the type hint (from Python); a clear error otherwise."""
        if not value_fits(value, self.annotation):
            raise MethodOptionError(f"option {self.name} takes {self.type_name}, got {type(value).__name__} "
                                    f"{value!r}")
        return value


def find_option(options, name: str) -> MethodOption | None:
    """The option of ``options`` that :meth:`MethodOption.accepts` ``name``, or None."""
    return next((o for o in options if o.accepts(name)), None)


def _loose(name: str) -> str:
    return name.replace("-", "_").rstrip("_").lower()


def type_name(annotation) -> str:
    """A short, readable name of a type hint: ``int | None``, ``{sgd, adam}``, ``tuple of int``, ``path``."""
    if is_union(annotation):
        names = []
        args = get_args(annotation)
        if os.PathLike in args or any(get_origin(a) is os.PathLike for a in args):  # str | PathLike: a path
            args = tuple(a for a in args if a is not str)
        for arg in args:
            name = "None" if arg is type(None) else type_name(arg)
            if name not in names:
                names.append(name)
        return " | ".join(names)
    if get_origin(annotation) is Literal:
        return "{" + ", ".join(str(a) for a in get_args(annotation)) + "}"
    if get_origin(annotation) is tuple:
        return f"tuple of {type_name(get_args(annotation)[0])}"
    if annotation is os.PathLike or get_origin(annotation) is os.PathLike:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def parse_value(text: str, annotation):
    """Parse command-line ``text`` as the type hint says; ``ValueError`` when it does not fit."""
    text = str(text).strip()
    if annotation is Any:
        return text
    if is_union(annotation):
        args = get_args(annotation)
        if type(None) in args and text.lower() in _NONE:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return parse_value(text, arg)
            except ValueError:
                continue
        raise ValueError(text)
    if get_origin(annotation) is Literal:
        for choice in get_args(annotation):
            if str(choice) == text:
                return choice
        raise ValueError(text)
    if get_origin(annotation) is tuple:
        return tuple(parse_value(item, get_args(annotation)[0]) for item in text.split(",") if item.strip())
    if annotation is bool:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError(text)
    if annotation is int:
        return int(text)
    if annotation is float:
        return float(text)
    if annotation in (str, os.PathLike) or get_origin(annotation) is os.PathLike:
        return text
    raise ValueError(f"no parser for {annotation!r}")


def value_fits(value, annotation) -> bool:
    """Whether a Python value fits a type hint (ints count as floats; bools are not numbers here)."""
    if annotation is Any:
        return True
    if is_union(annotation):
        return any(value_fits(value, arg) for arg in get_args(annotation))
    if annotation is type(None):
        return value is None
    if get_origin(annotation) is Literal:
        return value in get_args(annotation)
    if get_origin(annotation) is tuple:
        return isinstance(value, (tuple, list)) and all(value_fits(v, get_args(annotation)[0]) for v in value)
    if annotation is bool:
        return isinstance(value, (bool, np.bool_))
    if annotation is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if annotation is float:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if annotation is str:
        return isinstance(value, str)
    if annotation is os.PathLike or get_origin(annotation) is os.PathLike:
        return isinstance(value, (str, os.PathLike))
    return isinstance(value, annotation) if isinstance(annotation, type) else True


@functools.cache
def options_of(cls, skip: tuple[str, ...] = (), symbols: tuple[tuple[str, str], ...] = ()) -> tuple[MethodOption, ...]:
    """The options of an estimator class, in signature order, less the names in ``skip`` (read once per class).

    Help is the first sentence of the parameter's numpydoc description as plain text (see :func:`plain_text`),
    looked up along the class's MRO (a subclass documents only what it adds); a parameter without a type hint is
    typed ``Any``. A parameter with a paper's symbol (``symbols``: (parameter, symbol) pairs, as the method's
    registry entry declares them) takes it as an alias."""
    hints = typing.get_type_hints(cls.__init__)
    docs = _parameter_docs(cls)
    symbol_of = dict(symbols)
    constraints = constraints_of(cls)
    out = []
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or name in skip or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        cli_name = name.rstrip("_") or name
        symbol = (symbol_of[name],) if name in symbol_of else ()
        out.append(MethodOption(name, hints.get(name, Any), param.default, docs.get(name, ""), cli_name, symbol,
                                constraints.get(name)))
    return tuple(out)


def summary_of(cls) -> str:
    """The first sentence of a class's docstring, as plain text (a docstring's first line may end mid-sentence)."""
    paragraph = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0]
    return first_sentence(plain_text(paragraph))


def _parameter_docs(cls) -> dict[str, str]:
    from docstring_parser import DocstringStyle, parse

    docs: dict[str, str] = {}
    for klass in cls.__mro__:
        if not klass.__doc__ or klass is object:
            continue
        for param in parse(inspect.cleandoc(klass.__doc__), style=DocstringStyle.NUMPYDOC).params:
            first = first_sentence(plain_text(param.description or ""))
            for name in param.arg_name.replace(" ", "").split(","):
                docs.setdefault(name, first)
    return docs


_ROLE = re.compile(r":[\w:.-]+:`(?P<body>[^`]+)`")
_LITERAL = re.compile(r"``(?P<body>[^`]+)``")
_INTERPRETED = re.compile(r"(?<![\w`])`(?P<body>[^`]+)`(?:_{1,2})?(?![\w`])")
_STRONG = re.compile(r"(?<![\w*])\*\*(?P<body>[^*\s](?:[^*]*[^*\s])?)\*\*(?![\w*])")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?P<body>[^*\s](?:[^*]*[^*\s])?)\*(?![\w*])")


def _role_text(match: re.Match) -> str:
    """What a Sphinx role shows: ``:func:`~a.b.f``` → ``f``, ``:ref:`text <target>``` → ``text``."""
    body = match["body"].strip()
    titled = re.fullmatch(r"(?P<title>.+?)\s*<[^>]+>", body)
    if titled:
        return titled["title"]
    if body.startswith("~"):
        return body[1:].rsplit(".", 1)[-1]
    return body.lstrip("!")


def plain_text(rst: str) -> str:
    """reStructuredText of a docstring as the plain text a terminal shows: roles (``:func:`~a.f``` → ``f``), inline
    literals, interpreted text and emphasis lose their markup; whitespace runs become one space."""
    text = " ".join(rst.split())
    text = _ROLE.sub(_role_text, text)
    text = _LITERAL.sub(lambda m: m["body"], text)
    text = _INTERPRETED.sub(lambda m: m["body"], text)
    text = _STRONG.sub(lambda m: m["body"], text)
    return _EMPHASIS.sub(lambda m: m["body"], text)


#: Words after which a full stop ends no sentence (``Guo et al. 2018``, ``e.g. pixels``).
_ABBREVIATIONS = ("al", "e.g", "i.e", "cf", "etc", "vs", "approx", "Fig", "Eq", "No")


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, without its full stop: it ends at a ``.`` outside brackets that is followed
    by a space and a capital letter or a digit (or the text's end) and does not close an abbreviation (``et al.``)."""
    depth = 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == "." and depth == 0:
            rest = text[i + 1:]
            if rest.strip() and not re.match(r"\s+[A-Z0-9\"'(`]", rest):
                continue
            tail = re.search(r"([\w.]*)$", text[:i])
            assert tail is not None  # the pattern matches the empty string
            word = tail[1]
            if word in _ABBREVIATIONS:
                continue
            return text[:i].strip()
    return text.strip().rstrip(".")
