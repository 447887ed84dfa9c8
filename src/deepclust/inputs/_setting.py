"""What one setting of how a method's input is made is: declared once beside its field, read by the signatures,
the docs, the checks and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The input kinds (each with a preparer in ``INPUTS``).
KINDS = ("features", "pixels", "views", "transfer")
#: The kinds that extract CNN features (and so read the extraction's runtime, cache and Dask settings).
DEEP = ("features", "views")


@dataclass(frozen=True)
class Setting:
    """What one input setting is, declared once beside its :class:`InputSettings` field; the Python signature and
    docs of :func:`~deepclust.cluster_images`, the settings each input kind reads (:data:`INPUT_SETTINGS`), what
    run.json records (:data:`RECORDED`) and the command line's options are all read from it.

    Attributes
    ----------
    help : one line of help, as the command line shows it.
    kinds : the input kinds that read it; empty: how any input is made (batches, device, workers), read by every
        kind. The extraction's own (runtime, cache, Dask) are read by the kinds that extract features.
    recorded : whether it decides the input's values (not only how fast they are made): recorded in run.json so that
        new images can be embedded as the run's were (``deepclust assign``).
    flag : its command-line flag when that is not ``--name-with-dashes`` (``--color`` for ``grayscale``); None: no
        option of its own (``verbose`` is every command's ``--quiet``).
    group : where the command line lists it: ``"features"`` (what the method consumes), ``"runtime"`` or
        ``"input"``.
    values : command-line words for its values, where they are not the values (``--color gray`` is
        ``grayscale=True``).
    min : the smallest number it takes.
    fit_arg : the ``fit`` argument a value of it produces (``augmentations`` → ``augmented``): a method whose
        registry entry does not take that argument refuses the setting.
    cli_type : the command line's type, where the field's type hint is not one (a ``dask`` client is given as
        text).
    doc : what the Python API adds to ``help`` (other kinds of value, defaults that depend on the method).
    defaults : the value each input kind takes when the setting is None (``image_size``: 28 for pixels, 64 for
        transfer); a kind not named keeps None.
    """

    help: str
    kinds: tuple[str, ...] = ()
    recorded: bool = False
    flag: str | None = ""
    group: str = "features"
    values: dict | None = None
    min: int | None = None
    fit_arg: str | None = None
    cli_type: object = None
    doc: str = ""
    defaults: dict = field(default_factory=dict)

    def flag_of(self, name: str) -> str | None:
        """The command-line flag of the setting called ``name``."""
        return ("--" + name.replace("_", "-")) if self.flag == "" else self.flag




def setting(default=None, **info):
    """A dataclass field declared as a setting (:class:`Setting`'s attributes as keywords)."""
    return field(default=default, metadata={"setting": Setting(**info)})
