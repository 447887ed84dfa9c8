"""A method's options, read from its estimator's ``__init__`` signature (names, type hints, defaults) and numpydoc
``Parameters`` text (help), so that each option is declared exactly once: in the estimator.

Values typed on a command line are parsed by the type hint; values given from Python are checked against it."""

from __future__ import annotations

import functools
import inspect
import numbers
import os
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

import numpy as np

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NONE = ("none", "null")


class MethodOptionError(ValueError):
    """An option a method does not have, or a value of the wrong type."""


@dataclass(frozen=True)
class MethodOption:
    """One option of a method: its name, type hint, default and one line of help."""

    name: str
    annotation: Any
    default: Any
    help: str

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


def _is_union(annotation) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def type_name(annotation) -> str:
    """A short, readable name of a type hint: ``int | None``, ``{sgd, adam}``, ``tuple of int``, ``path``."""
    if _is_union(annotation):
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
    if _is_union(annotation):
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
    if _is_union(annotation):
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
def options_of(cls, skip: tuple[str, ...] = ()) -> tuple[MethodOption, ...]:
    """The options of an estimator class, in signature order, less the names in ``skip`` (read once per class).

    Help is the first sentence of the parameter's numpydoc description, looked up along the class's MRO (a subclass
    documents only what it adds); a parameter without a type hint is typed ``Any``."""
    hints = typing.get_type_hints(cls.__init__)
    docs = _parameter_docs(cls)
    out = []
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or name in skip or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        out.append(MethodOption(name, hints.get(name, Any), param.default, docs.get(name, "")))
    return tuple(out)


def _parameter_docs(cls) -> dict[str, str]:
    from docstring_parser import DocstringStyle, parse

    docs: dict[str, str] = {}
    for klass in cls.__mro__:
        if not klass.__doc__ or klass is object:
            continue
        for param in parse(inspect.cleandoc(klass.__doc__), style=DocstringStyle.NUMPYDOC).params:
            text = " ".join((param.description or "").split())
            first = text.split(". ")[0].rstrip(".")
            for name in param.arg_name.replace(" ", "").split(","):
                docs.setdefault(name, first)
    return docs
