"""Every setting, read from its one declaration (the fields of :class:`InputSettings` and :class:`Runtime`): their
names, help and defaults, what run.json records, which input kinds read which, the checks that refuse a setting the
input does not read, and the signatures and docs of the entry points that take them."""

from __future__ import annotations

import functools
import inspect
import textwrap
import typing
from dataclasses import fields

from ..methods import literal_values, type_name
from ._runtime import Runtime
from ._setting import KINDS, Setting
from ._settings import InputSettings

_FIELDS = {f.name: (cls, f) for cls in (InputSettings, Runtime) for f in fields(cls) if "setting" in f.metadata}
_INFO: dict[str, Setting] = {name: f.metadata["setting"] for name, (_, f) in _FIELDS.items()}
#: What decides the input's values (not how fast it is made): recorded in run.json so that new images can be
#: embedded as the run's were (``deepclust assign``).
RECORDED = tuple(name for name, info in _INFO.items() if info.recorded)
#: The settings each input kind reads; a setting given for another kind is an error.
INPUT_SETTINGS = {kind: tuple(name for name, info in _INFO.items() if kind in info.kinds) for kind in KINDS}


def setting_names(cls=None) -> tuple[str, ...]:
    """Every setting (of ``cls`` alone: :class:`InputSettings` or :class:`Runtime`), in declaration order."""
    return tuple(name for name, (owner, _) in _FIELDS.items() if cls is None or owner is cls)


def setting_info(name: str) -> Setting:
    """The declaration of setting ``name``."""
    return _INFO[name]


def setting_default(name: str):
    """The default of setting ``name`` (``None`` for most)."""
    return _FIELDS[name][1].default


def setting_hints() -> dict:
    """Each setting's type hint."""
    return {**typing.get_type_hints(InputSettings), **typing.get_type_hints(Runtime)}


def split_settings(kwargs: dict) -> tuple[InputSettings, Runtime, dict]:
    """The input settings and the runtime (by field name) out of ``kwargs``, and what is left (a method's
    options)."""
    taken = {cls: {k: v for k, v in kwargs.items() if k in _FIELDS and _FIELDS[k][0] is cls}
             for cls in (InputSettings, Runtime)}
    return (InputSettings(**taken[InputSettings]), Runtime(**taken[Runtime]),
            {k: v for k, v in kwargs.items() if k not in _FIELDS})


def _value(settings: InputSettings, runtime: Runtime | None, name: str):
    holder = settings if _FIELDS[name][0] is InputSettings else runtime
    return getattr(holder, name) if holder is not None else None


def is_given(settings: InputSettings, runtime: Runtime | None, name: str) -> bool:
    """Whether setting ``name`` was given: neither None (the input kind's default) nor its declared default."""
    value = _value(settings, runtime, name)
    return value is not None and value != setting_default(name)


class InapplicableSettingsError(ValueError):
    """Settings given that the method's input kind does not read; ``str()`` names them as the Python API does,
    :meth:`message` as another interface does (the CLI: ``--color`` for ``grayscale``)."""

    def __init__(self, names: list[str], method: str, kind: str, source: str | None = None):
        self.names, self.method, self.kind, self.source = names, method, kind, source
        super().__init__(self.message())

    def message(self, spelling=None) -> str:
        spell = spelling or (lambda name: name)
        names = ", ".join(spell(n) for n in self.names)
        verb = "does" if len(self.names) == 1 else "do"
        if self.source is not None:
            return (f"{names} {verb} not apply to {self.source}: they are already the {self.kind} method "
                    f"{self.method} reads")
        reads = ", ".join(spell(n) for n in INPUT_SETTINGS[self.kind])
        return f"{names} {verb} not apply to method {self.method} on {self.kind}, which reads {reads}"


def check_settings(kind: str, settings: InputSettings, method: str, fit_args: tuple[str, ...] | None = None,
                   runtime: Runtime | None = None) -> None:
    """Refuse settings that the input kind does not read, and (given the ``fit`` arguments the method takes, from
    its registry entry) settings that make a ``fit`` argument the method does not take: either would be prepared,
    or ignored, without a word."""
    if kind not in KINDS:
        raise ValueError(f"unknown input {kind!r}; inputs: {', '.join(KINDS)}")
    ignored = [name for kind_, names in INPUT_SETTINGS.items() if kind_ != kind for name in names
               if name not in INPUT_SETTINGS[kind] and is_given(settings, runtime, name)]
    if ignored:
        raise InapplicableSettingsError(sorted(set(ignored)), method, kind)
    hints = setting_hints()
    for name in _FIELDS:  # a Literal hint is the list of a setting's values
        value, choices = _value(settings, runtime, name), literal_values(hints[name])
        if choices and value is not None and value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    for name, info in _INFO.items():
        if fit_args is not None and info.fit_arg and _value(settings, runtime, name) and info.fit_arg not in fit_args:
            raise ValueError(f"method {method} does not use {info.fit_arg} copies; leave {name} out (they would be "
                             f"made and then dropped)")


def check_embedding_settings(settings: InputSettings, kind: str, method: str) -> None:
    """Settings that make the input from images (extractor, layer, views …) have nothing to act on when the
    embeddings are given: an error rather than silence. The runtime's (device, cache …) are harmless."""
    given = [name for name in setting_names(InputSettings) if getattr(settings, name) is not None]
    if given:
        raise InapplicableSettingsError(given, method, kind, source="given embeddings")


def settings_doc(names=None, indent: str = "    ") -> str:
    """Settings ``names`` (default: all) as numpydoc parameters: name, type and default, then the inputs that read
    it and its help."""
    hints = setting_hints()
    lines = []
    for name in names or _FIELDS:
        info = _INFO[name]
        kinds = ", ".join(info.kinds) + " input" if info.kinds else "every input"
        lines.append(f"{indent}{name} : {type_name(hints[name])}, default={setting_default(name)!r}")
        lines += textwrap.wrap(f"Read by {kinds}. {info.help} {info.doc}".rstrip(), 116 - len(indent),
                               initial_indent=indent + "    ", subsequent_indent=indent + "    ",
                               break_on_hyphens=False)
    return "\n".join(lines)


def _signature_with(func, names, rest: str, defaults: dict) -> inspect.Signature:
    """``func``'s signature with settings ``names`` keyword-only (their declared defaults, or ``defaults``') before
    ``**rest`` (none when ``rest`` is empty)."""
    sig = inspect.signature(func)
    hints = setting_hints()
    taken = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=defaults.get(n, setting_default(n)),
                               annotation=hints[n]) for n in names]
    named = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    tail = [inspect.Parameter(rest, inspect.Parameter.VAR_KEYWORD)] if rest else []
    return sig.replace(parameters=named + taken + tail)


def takes_settings(func):
    """Decorator: ``func(..., **kwargs)`` takes the input settings and the runtime in ``kwargs`` (see
    :func:`split_settings`); its signature shows them, keyword-only, before ``**options``, and its docstring lists
    them at ``{settings}``."""
    func.__signature__ = _signature_with(func, tuple(_FIELDS), "options", {})
    func.__doc__ = (func.__doc__ or "").replace("{settings}", settings_doc(tuple(_FIELDS), "    ").lstrip())
    return func


def takes_runtime(func=None, **defaults):
    """Decorator: ``func(..., **runtime)`` takes :class:`Runtime`'s settings (``Runtime(**runtime)``), with
    ``defaults`` of its own where it differs from the declared ones (``@takes_runtime(verbose=False)``); its signature
    shows them, keyword-only, and its docstring lists them at ``{runtime}``. Any other keyword is refused under the
    function's own name, as Python refuses it."""
    if func is None:
        return functools.partial(takes_runtime, **defaults)
    names = setting_names(Runtime)
    own = {n for n, p in inspect.signature(func).parameters.items() if p.kind is not p.VAR_KEYWORD}

    @functools.wraps(func)
    def taking(*args, **kwargs):
        unknown = sorted(set(kwargs) - own - set(names))
        if unknown:
            raise TypeError(f"{func.__qualname__}() got an unexpected keyword argument {unknown[0]!r}")
        return func(*args, **{**defaults, **kwargs})

    taking.__signature__ = _signature_with(func, names, "", defaults)  # type: ignore[attr-defined]
    taking.__doc__ = (func.__doc__ or "").replace("{runtime}", settings_doc(names, "    ").lstrip())
    return taking


# each docstring, then its settings (a docstring is None under python -OO)
InputSettings.__doc__ = ((InputSettings.__doc__ or "") + "\n\n    Parameters\n    ----------\n"
                         + settings_doc(setting_names(InputSettings)))
Runtime.__doc__ = ((Runtime.__doc__ or "") + "\n\n    Parameters\n    ----------\n"
                   + settings_doc(setting_names(Runtime)))
