"""Options that several commands share: the input settings' flags (built from their one declaration), the run-folder
output and runtime options, and the method options given as ``--NAME VALUE`` (parsed by the method's own
declaration)."""

from __future__ import annotations

import inspect
import os
import typing
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin

import typer

from ..inputs import setting_default, setting_hints, setting_info, setting_names
from ..report import MAPS

METHOD_OPTIONS_HELP = ("Method options: give any option of the method as --NAME VALUE (--NAME / --no-NAME for on/off "
                       "options) or -o NAME=VALUE; `deepclust methods METHOD` lists them with their types and "
                       "defaults (e.g. --pretrain-epochs 50 for dec, --heads 4 for best).")
INPUT, FEATURES, METHOD, OUTPUT, RUNTIME = "Input", "Features (what the method consumes)", "Method", "Output", \
    "Runtime"


_PANELS = {"input": INPUT, "features": FEATURES, "runtime": RUNTIME}

#: ``--original``: the commands on a finished run read the clusters a person fixed in ``deepclust review`` unless given.
Original = Annotated[bool, typer.Option("--original", help="The run as clustered, not the clusters a person fixed "
                                                           "with `deepclust review`.")]


def setting_flag(name: str) -> str | None:
    """The flag that gives setting ``name``: ``--no-cache`` for ``use_cache``, on by default."""
    flag = setting_info(name).flag_of(name)
    return "--no-" + flag[2:] if flag and setting_default(name) is True else flag


#: The CLI flags of input settings whose API name differs (``cluster_images(grayscale=...)`` is ``--color``), read
#: from their declaration (:class:`~deepclust.inputs.Setting`): how errors name a setting the user gave.
SETTING_FLAGS: dict[str, str] = {name: flag for name, flag in ((n, setting_flag(n)) for n in setting_names())
                                  if flag is not None and flag != "--" + name.replace("_", "-")}


def setting_parameters(names, **overrides) -> list[inspect.Parameter]:
    """The command-line options of input settings ``names``, each built from its declaration: flag, help, type
    (choices from a ``Literal`` hint or the declared ``values``), bounds, panel. ``overrides``: ``help``, ``min`` or
    ``group`` for a command that reads a setting its own way (``discover`` decodes at 64 px, and not below 8)."""
    hints = setting_hints()
    params = []
    for name in names:
        info = setting_info(name)
        kind = _cli_type(hints[name], info)
        flag = info.flag_of(name)
        assert flag is not None, f"{name} has no option of its own"  # callers pass settings that have one
        decls = f"{flag}/--no-{flag[2:]}" if kind is bool else flag
        default = setting_default(name) if not info.values else None
        option = typer.Option(decls, help=overrides.get("help", info.help), min=overrides.get("min", info.min),
                              rich_help_panel=_PANELS[overrides.get("group", info.group)])
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=Annotated[kind if default is not None else kind | None, option]))
    return params


def _cli_type(hint, info):
    """The type a setting takes on the command line: its declared words, its own type hint less None, a path for a
    file-like setting, a repeated option for a sequence."""
    if info.values:
        return Literal[tuple(info.values)]
    if info.cli_type is not None:
        return info.cli_type
    args = [a for a in (get_args(hint) if get_origin(hint) in (typing.Union, type(None | int)) else (hint,))
            if a is not type(None)]
    if os.PathLike in args:
        return Path
    if get_origin(args[0]) is tuple:
        return list[str]
    return args[0]


def settings_of(values: dict) -> dict:
    """Command-line values of input settings as the Python API takes them (``--color gray`` → ``grayscale=True``)."""
    settings = {}
    for name, value in values.items():
        info = setting_info(name)
        if info.values and value is not None:
            value = info.values[value]
        elif isinstance(value, list):
            value = tuple(value) or None
        settings[name] = value
    return settings


# options that several commands writing a run folder share (cluster, discover)
RunOut = Annotated[Path | None, typer.Option(help="Run folder to write (default runs/NAME, never reused).",
                                             rich_help_panel=OUTPUT)]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out folder.",
                                         rich_help_panel=OUTPUT)]
# typer reads the choices off the Literal, built from MAPS (typing flattens the tuple; mypy takes only literals)
MapOption = Annotated[Literal[(*MAPS, "none")], typer.Option(  # type: ignore[valid-type]
    help="2-D map in report.html: umap, tsne (up to 20,000 images) or none.", rich_help_panel=OUTPUT)]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed gives the same clusters.",
                                   rich_help_panel=RUNTIME)]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.", rich_help_panel=RUNTIME)]


def own_flags(ctx: typer.Context) -> list[str]:
    """The command's own long options (``--n-clusters``…), to suggest one for a mistyped flag."""
    return [o for p in ctx.command.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])
            if o.startswith("--")]


def method_options(spec, tokens: list[str], pairs: list[str], command_flags=()) -> tuple[dict, list[str]]:
    """The method options in ``--name value`` / ``--name`` / ``--no-name`` tokens and ``NAME=VALUE`` pairs, each
    parsed by the method's own declaration; returns them and the tokens that are no option (positional).
    ``command_flags``: the command's own options, suggested first when an unknown flag is close to one."""
    from ..methods import MethodOptionError

    options, positional, i = {}, [], 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--"):
            positional.append(token)
            continue
        name, has_value, value = token[2:].partition("=")
        name = name.replace("-", "_")
        negated = name.startswith("no_") and not has_value
        try:
            opt = spec.option(name)
        except MethodOptionError:
            if not negated:
                raise _no_such_option(spec, name, command_flags) from None
            opt = spec.option(name[3:])
            if not opt.is_flag:
                raise MethodOptionError(f"--{token[2:]}: option {opt.name} of {spec.name} is not an on/off "
                                        f"option") from None
            options[opt.name] = False
            continue
        if opt.is_flag and not has_value:
            options[opt.name] = True
            continue
        if not has_value:
            if i >= len(tokens):
                raise MethodOptionError(f"option --{token[2:]} needs a value ({opt.type_name})")
            value, i = tokens[i], i + 1
        options[opt.name] = opt.parse(value)
    for pair in pairs:
        name, has_value, value = pair.partition("=")
        if not has_value:
            raise MethodOptionError(f"-o takes NAME=VALUE, got {pair!r}")
        name = name.strip().replace("-", "_")
        try:
            opt = spec.option(name)
        except MethodOptionError:
            raise _no_such_option(spec, name) from None
        options[opt.name] = opt.parse(value)
    return options, positional


def _no_such_option(spec, name: str, command_flags=()):
    """The error for an option the method does not have, in the CLI's spelling, with the closest one: one of the
    command's own flags when the name is close to one (``--n-cluster`` → ``--n-clusters``), else the method's."""
    import difflib

    from ..methods import MethodOptionError

    def dashed(n):
        return "--" + n.replace("_", "-")

    own = difflib.get_close_matches(dashed(name), list(command_flags), n=1, cutoff=0.75)
    if own:
        return MethodOptionError(f"no such option {dashed(name)}; did you mean {own[0]}?")
    close = difflib.get_close_matches(name, option_names(spec), n=1, cutoff=0.6)
    hint = f" (did you mean {dashed(close[0])}?)" if close else ""
    return MethodOptionError(f"method {spec.name} has no option {dashed(name)}{hint}; its options: "
                             f"{', '.join(o.flag for o in spec.options) or 'none'} (`deepclust methods "
                             f"{spec.name}` describes them)")


def option_names(spec) -> list[str]:
    """Every name a method option answers to: readable CLI name, parameter name, paper symbol, registry alias."""
    return [n for o in spec.options for n in dict.fromkeys((o.cli_name, o.name, *o.aliases))] + list(spec.aliases)
