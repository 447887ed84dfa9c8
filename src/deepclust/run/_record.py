"""The run record: what run.json holds, typed. The pipeline's :class:`~deepclust.run.ClusterRun` gives it whole
(:attr:`ClusterRun.record`), the writer adds only what writing made (figures, map, model, files, the write's time)
and saves it; :attr:`RunFolder.record` reads it back, from today's files and from those written before the record
had a schema version. The library reads run.json through it (the raw dict, ``RunFolder.info``, stays for scripts)."""

from __future__ import annotations

import dataclasses
import os
import platform
from dataclasses import dataclass, field

from ..datasets import SourceRecord

#: run.json's layout. 1: the files written before it was recorded (read as they are, figures found by their files).
SCHEMA_VERSION = 2


def _version() -> str:
    from .._version import __version__

    return __version__


def versions() -> dict[str, str]:
    """Versions of deepclust and the libraries that shape its results."""
    from .._umap import quiet_umap_import

    out = {"deepclust": _version(), "python": platform.python_version()}
    for mod in ("numpy", "scipy", "sklearn", "torch", "torchvision", "timm", "umap", "PIL"):
        try:
            with quiet_umap_import():
                out[mod] = __import__(mod).__version__
        except Exception:  # a missing optional library is simply not listed
            pass
    return out


def machine() -> dict:
    """The machine a run ran on, as run.json records it."""
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()}


@dataclass(frozen=True)
class FigureRecord:
    """A figure of the run folder as the report shows it: ``file`` (relative to the run folder) under ``title``,
    with ``caption``, in the page's ``place`` (``summary`` or ``figures``); ``name`` is its id on the page."""

    name: str
    file: str
    title: str
    caption: str = ""
    place: str = "figures"


@dataclass(frozen=True)
class RunRecord:
    """What run.json holds. ``parameters`` are the run's parameters as resolved (the pipeline's and the method's
    together, as run.json has always kept them); :attr:`input_settings` are those its input was prepared with.
    ``cluster_sizes`` and ``names`` are keyed by cluster number. The writer adds ``command``, the write's and the
    command's ``timings`` and the fields from ``figures`` on: what writing the folder made."""

    source: SourceRecord
    parameters: dict
    n_images: int
    n_clustered: int
    n_clusters: int
    n_clusters_fitted: int | None
    cluster_sizes: dict[int, int]
    timings: dict[str, float]
    metrics: dict
    metrics_undefined: dict[str, str] = field(default_factory=dict)
    extraction: dict = field(default_factory=dict)
    k_selection: dict | None = None
    k_options: tuple[str, ...] = ()
    members: list[dict] | None = None
    notes: tuple[str, ...] = ()
    cluster_tree: dict | None = None
    names: dict[int, list[dict]] | None = None
    names_about: str | None = None
    skipped: tuple[dict, ...] = ()
    deepclust_version: str = field(default_factory=_version)
    created: str = ""
    command: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)
    machine: dict = field(default_factory=dict)
    # written with the folder
    figures: tuple[FigureRecord, ...] = ()
    map: dict | None = None
    model_not_saved: str | None = None
    files: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION

    # the parameters' parts

    @property
    def method(self) -> str | None:
        return self.parameters.get("method")

    @property
    def input(self) -> str | None:
        """What the method consumed: ``features``, ``views``, ``pixels`` …"""
        return self.parameters.get("input")

    @property
    def seed(self):
        return self.parameters.get("random_state")

    @property
    def n_clusters_requested(self) -> int | None:
        return self.parameters.get("n_clusters")

    @property
    def input_settings(self) -> dict:
        """The settings the input was prepared with (defaults resolved), to prepare new images alike."""
        return dict(self.parameters.get("input_settings") or {})

    @property
    def like(self) -> dict | None:
        """The earlier run whose numbers this one kept (``--like``), with the renumbering; None without one."""
        return self.parameters.get("like")

    @property
    def k_chosen(self) -> str | None:
        """``7, chosen by prediction strength`` when no k was given and the method chose it, else None."""
        if self.n_clusters_requested is not None:
            return None
        sel = self.k_selection or {}
        k = sel.get("k", self.n_clusters_fitted)
        if k is None:
            return None
        return f"{k}, chosen by {sel['criterion']}" if sel.get("criterion") else f"{k}, chosen by the method"

    def figure(self, name: str) -> FigureRecord | None:
        """The figure called ``name`` (``k_selection``, ``training``, ``cluster_tree`` …), None when not made."""
        return next((f for f in self.figures if f.name == name), None)

    # run.json

    def to_json(self) -> dict:
        """run.json's content (its keys as they have always been, with ``schema_version`` and ``figures``)."""
        return {
            "schema_version": self.schema_version,
            "deepclust_version": self.deepclust_version,
            "created": self.created,
            "command": list(self.command),
            "source": self.source.to_dict(),
            "parameters": self.parameters,
            "seed": self.seed,
            "device": self.parameters.get("device"),
            "versions": self.versions,
            "machine": self.machine,
            "n_images": self.n_images,
            "n_clustered": self.n_clustered,
            "n_clusters": self.n_clusters,
            "n_clusters_requested": self.n_clusters_requested,
            "n_clusters_fitted": self.n_clusters_fitted,
            "cluster_sizes": {str(c): n for c, n in self.cluster_sizes.items()},
            "timings_s": self.timings,
            "extraction": self.extraction,
            "k_selection": self.k_selection,
            "k_options": list(self.k_options),
            "members": self.members,
            "metrics": self.metrics,
            "metrics_undefined": self.metrics_undefined,
            "notes": list(self.notes),
            "cluster_tree": self.cluster_tree,
            "cluster_names": ({"about": self.names_about, "clusters": {str(c): v for c, v in self.names.items()}}
                              if self.names else None),
            "model_not_saved": self.model_not_saved,
            "map": self.map,
            "figures": [dataclasses.asdict(f) for f in self.figures],
            "skipped": list(self.skipped),
            "files": list(self.files),
        }

    @classmethod
    def from_json(cls, data: dict) -> RunRecord:
        """The record of a run.json's content. ``schema_version`` says which layout it was read from: a file of
        version 1 lists no figures (:meth:`RunFolder.record <deepclust.run.RunFolder.record>` finds them by their
        files)."""
        version = int(data.get("schema_version", 1))
        if version > SCHEMA_VERSION:
            raise ValueError(f"run.json has schema version {version}, newer than this deepclust reads "
                             f"({SCHEMA_VERSION}): update deepclust")
        names = data.get("cluster_names") or {}
        k_options = data.get("k_options")
        if k_options is None:  # written before they were recorded: the method's own list
            from ..methods import k_options_of

            k_options = k_options_of((data.get("parameters") or {}).get("method"))
        return cls(
            source=SourceRecord.from_dict(data.get("source")), parameters=data.get("parameters") or {},
            n_images=int(data.get("n_images", 0)), n_clustered=int(data.get("n_clustered", 0)),
            n_clusters=int(data.get("n_clusters", 0)), n_clusters_fitted=data.get("n_clusters_fitted"),
            cluster_sizes={int(c): int(n) for c, n in (data.get("cluster_sizes") or {}).items()},
            timings=data.get("timings_s") or {}, metrics=data.get("metrics") or {},
            metrics_undefined=data.get("metrics_undefined") or {}, extraction=data.get("extraction") or {},
            k_selection=data.get("k_selection"), k_options=tuple(k_options), members=data.get("members"),
            notes=tuple(data.get("notes") or ()), cluster_tree=data.get("cluster_tree"),
            names={int(c): v for c, v in names["clusters"].items()} if names.get("clusters") else None,
            names_about=names.get("about"), skipped=tuple(data.get("skipped") or ()),
            deepclust_version=data.get("deepclust_version", ""), created=data.get("created", ""),
            command=tuple(data.get("command") or ()), versions=data.get("versions") or {},
            machine=data.get("machine") or {}, map=data.get("map"),
            model_not_saved=data.get("model_not_saved"), files=tuple(data.get("files") or ()),
            figures=tuple(FigureRecord(**f) for f in data.get("figures") or ()), schema_version=version)

