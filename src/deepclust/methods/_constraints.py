"""The ranges a method's numeric parameters must lie in, declared once per estimator (``_parameter_constraints``, as
scikit-learn declares them) and read by :func:`check_params` (a method's ``_check_params``, before any work), by the
registry's options (``deepclust methods NAME`` shows each range) and by the pipeline's check of ``n_clusters``.
A parameter's allowed words stay in its ``Literal`` type hint (:func:`~deepclust.methods.check_choices`)."""

from __future__ import annotations

import numbers
import types
import typing
from dataclasses import dataclass
from typing import Literal, Union, get_args, get_origin


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``int`` or ``float``) from ``low`` to ``high`` (None: unbounded); ``closed`` says which
    ends belong (``"both"``, ``"left"``, ``"right"``, ``"neither"``); ``none``: None is allowed too (a default that
    the method resolves at fit time)."""

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"
    none: bool = False
    why: str = ""  # said after the range in an error (``"one cluster is no choice"``)

    def holds(self, value) -> bool:
        if value is None:
            return self.none
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind is int and not float(value).is_integer():
            return False
        value = typing.cast(float, value)  # typeshed's numbers.Real lacks __gt__ and __ge__, which every Real has
        low_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        high_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return low_ok and high_ok

    def __str__(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        low_in, high_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            ends = ("[" if low_in else "(", "]" if high_in else ")")
            text = f"{what} in {ends[0]}{_number(self.low)}, {_number(self.high)}{ends[1]}"
        elif self.low is not None and self.low == 0 and low_in:
            text = f"0 or a positive {'integer' if self.kind is int else 'number'}"
        elif self.low is not None and ((self.low == 0 and not low_in)
                                       or (self.kind is int and self.low == 1 and low_in)):
            text = "a positive integer" if self.kind is int else "positive"
        elif self.low is not None:
            text = f"{what} {'at least' if low_in else 'above'} {_number(self.low)}"
        elif self.high is not None:
            text = f"{what} {'at most' if high_in else 'below'} {_number(self.high)}"
        else:
            text = what
        return text + (", or None" if self.none else "")


def _number(x: float) -> str:
    return f"{x:g}"


#: An estimator's number of clusters: one or more, as scikit-learn's estimators take it (its estimator checks fit
#: one cluster).
N_CLUSTERS = Interval(int, 1)
#: The same, or None where the method chooses k itself.
N_CLUSTERS_OR_CHOSEN = Interval(int, 1, none=True)
#: The number of clusters of a run (the pipeline, ``-k``): two at least, for one cluster is no clustering.
RUN_N_CLUSTERS = Interval(int, 2)
POSITIVE_INT = Interval(int, 1)
NON_NEGATIVE_INT = Interval(int, 0)
POSITIVE = Interval(float, 0, closed="neither")
NON_NEGATIVE = Interval(float, 0)


def constraints_of(cls) -> dict[str, Interval]:
    """Every ``_parameter_constraints`` along ``cls``'s MRO, a subclass's entry over its base's."""
    out: dict[str, Interval] = {}
    for klass in reversed(cls.__mro__):
        out.update(vars(klass).get("_parameter_constraints", {}))
    return out


def check_params(estimator) -> None:
    """Every parameter of ``estimator`` lies in its declared range (``ValueError`` naming it, its range and the value
    given) and every ``Literal``-typed one holds one of its words."""
    for name, interval in constraints_of(type(estimator)).items():
        value = getattr(estimator, name)
        if not interval.holds(value):
            why = f" ({interval.why})" if interval.why else ""
            raise ValueError(f"{name} must be {interval}{why}, got {value!r}")
    check_choices(estimator)


def check_choices(estimator) -> None:
    """Every parameter of ``estimator`` whose type hint is a ``Literal`` holds one of its values: the hint is the one
    place a parameter's allowed values are written (the CLI's choices come from it too)."""
    hints = typing.get_type_hints(type(estimator).__init__)
    for name, hint in hints.items():
        choices = literal_values(hint)
        value = getattr(estimator, name, None)
        if choices and value not in choices and not (value is None and type(None) in get_args(hint)):
            raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")


def literal_values(hint) -> tuple:
    """The values of a ``Literal`` hint (also inside ``Literal[...] | None``); () for any other hint."""
    if get_origin(hint) is Literal:
        return get_args(hint)
    if is_union(hint):
        return tuple(v for arg in get_args(hint) for v in literal_values(arg))
    return ()


def is_union(annotation) -> bool:
    """Whether a type hint is a union (``a | b`` or ``Union[a, b]``)."""
    return get_origin(annotation) in (Union, types.UnionType)
