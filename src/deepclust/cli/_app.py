"""The Typer app and what its commands share: consoles, the one-sentence error, run-folder names, score tables."""

from __future__ import annotations

import inspect
import re
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from .. import __version__
from .._warnings import first_lines


class OneLineErrors(TyperGroup):
    """The command group, with click's usage errors (``-k 1``, ``--focus objects``, an unknown option) said as
    every other error is, in one sentence, not in rich's framed box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, windows_expand_args=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except _CLICK_ERROR as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help was the answer: it is printed already
                sys.exit(exc.exit_code)
            ctx = getattr(exc, "ctx", None)  # a usage error knows its command
            command = " ".join(["deepclust", *ctx.command_path.split()[1:]]) if ctx is not None else ""
            hint = f" (`{command} --help` lists the options)" if ctx is not None else ""
            say_error(escape(exc.format_message()) + hint)  # the message repeats what was typed: text, never markup
            sys.exit(exc.exit_code)
        except _ABORT:  # Ctrl-C at a prompt
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


#: Click's error and abort classes, as the installed typer has them (it brings its own copy of click from 0.24 on).
_CLICK_ERROR: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_ABORT = tuple(c for c in {typer.Abort, getattr(sys.modules[_CLICK_ERROR.__module__], "Abort", None)} if c)


app = typer.Typer(help="Cluster unlabelled images: pretrained CNN features, classical and deep clustering.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, cls=OneLineErrors)
out_console = Console()
err_console = Console(stderr=True)


def _show_version(value: bool):
    if value:
        out_console.print(f"deepclust {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                               help="Print the version and exit.")] = False):
    """Cluster unlabelled images: pretrained CNN features, classical and deep clustering."""


def declared_command(*insertions):
    """``cls=`` for ``@app.command``: a command that also takes options declared elsewhere (input settings, a
    method's options), each shown and parsed as one of its own. ``insertions``: ``(before, build)`` pairs, ``build()``
    returning the options as :class:`inspect.Parameter` objects with typer ``Annotated`` hints, inserted before the
    command's own parameter ``before`` (the end when it has none). ``build`` runs when the command first parses or
    shows its help, so that a method's module (torch and all) is imported by the command that takes its options and
    not by every command. The command reads their values with :func:`declared_values`."""

    class DeclaredCommand(TyperCommand):
        names: tuple[str, ...] = ()

        def get_params(self, ctx):
            if not self.names:
                added = []
                for before, build in insertions:
                    params = _typer_params(build())
                    own = [p.name for p in self.params]
                    at = own.index(before) if before in own else len(self.params)
                    self.params[at:at] = params
                    added += [p.name for p in params]
                self.names = tuple(added)
            return super().get_params(ctx)

        def invoke(self, ctx):  # the callback typer made takes only the function's own parameters
            ctx.meta["declared"] = {name: ctx.params.pop(name) for name in self.names if name in ctx.params}
            return super().invoke(ctx)

    return DeclaredCommand


def declared_values(ctx: typer.Context) -> dict:
    """The values of a :func:`declared_command`'s declared options, by parameter name."""
    return dict(ctx.meta.get("declared", {}))


def _typer_params(parameters: list[inspect.Parameter]) -> list:
    """Click parameters made by typer from a signature, as it makes a command's."""
    def command():
        pass

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]  # read by inspect.signature
    scratch = typer.Typer(add_completion=False)
    scratch.command()(command)
    return list(typer.main.get_command(scratch).params)


def fail(message: str, code: int = 2) -> NoReturn:
    """One sentence on stderr and a non-zero exit: what went wrong and what to do. One line, never wrapped: a path
    in it stays whole to copy (the terminal folds it)."""
    say_error(message)
    raise typer.Exit(code)


def say_error(message: str) -> None:
    """``error: MESSAGE`` on stderr, one line (see :func:`fail`)."""
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean bad input, not a bug: shown as one line, never as a traceback."""
    from .._outputs import OutputExistsError
    from ..datasets import DatasetNotFoundError
    from ..features import WeightsNotFoundError

    return (ValueError, FileNotFoundError, NotADirectoryError, OutputExistsError, WeightsNotFoundError,
            DatasetNotFoundError, FloatingPointError, PermissionError, ConnectionError)


@contextmanager
def friendly_errors(option_names=(), flags: dict[str, str] | None = None):
    """Turn user errors into :func:`fail` (option names written as the CLI spells them; ``flags`` maps an API name
    to a flag of another name, e.g. ``grayscale`` → ``--color``), Ctrl-C into exit 130."""
    from .._outputs import OutputExistsError
    from ..inputs import InapplicableSettingsError

    try:
        yield
    except OutputExistsError as exc:
        fail(f"{exc.args[0].split(';')[0]}; choose another --out or pass --overwrite")
    except InapplicableSettingsError as exc:
        fail(exc.message(lambda name: (flags or {}).get(name, "--" + name.replace("_", "-"))))
    except user_errors() as exc:
        fail(cli_words(str(exc), option_names))
    except KeyboardInterrupt:
        fail("interrupted; no run folder was written (with the feature cache on, the shards already extracted stay "
             "there and the next run resumes from them)", 130)


def cli_words(message: str, option_names) -> str:
    """A library message in the CLI's words: ``k_max`` → ``--k-max``, ``overwrite=True`` → ``--overwrite``."""
    for name in sorted(option_names, key=len, reverse=True):
        if "_" in name:
            message = re.sub(rf"(?<![\w-]){name}(?!\w)", "--" + name.replace("_", "-"), message)
    return (message.replace("weights=PATH (CLI: --weights PATH)", "--weights PATH")
            .replace("--weights PATH (Python: weights=PATH)", "--weights PATH")
            .replace("weights=PATH", "--weights PATH").replace("n_clusters, -k", "-k")
            .replace("use_cache=False", "--no-cache"))


@contextmanager
def warnings_as_lines():
    """Warnings raised inside print as one line each ("warning: …"), not as Python's two-line report."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for text in first_lines(caught):
        err_console.print(f"[yellow]warning:[/yellow] {text}", highlight=False)


def default_out(name: str) -> Path:
    """``runs/NAME``, or ``runs/NAME-2``, ``-3``… so that an earlier run is never overwritten."""
    base = Path("runs") / name
    out, n = base, 1
    while out.exists() and any(out.iterdir()):
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def scores_table(metrics: dict, title: str = "scores") -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics.items():
        table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    return table
