"""The run: :class:`ClusterRun` (what a clustering returns), its :class:`RunRecord` (what run.json holds, typed),
the figure registry (:data:`FIGURES_REGISTRY`) and the run folder's one schema (:class:`RunFolder`: its file names,
reading it back, the files commands add to it, the one "not a run folder" error), written whole and atomically by
:func:`write_run`, with the fitted model saved for assigning new images; two runs of the same images compared by
:func:`compare_runs`, and a new run numbered like an earlier one by :func:`keep_numbers`."""

from ._cluster_run import ClusterRun
from ._compare import (
    COMPARE_PAGE,
    COMPARISON_FILE,
    MOVED_FILE,
    ClusterFlow,
    MovedImage,
    RunComparison,
    compare_runs,
    match_clusters,
)
from ._evaluate import Evaluation, EvaluationExistsError, evaluate_run
from ._figures import FIGURES_REGISTRY, Figure, figure_file
from ._folder import (
    ASSIGNMENTS_FILE,
    CONFUSION_FILE,
    DUPLICATES_FILE,
    EMBEDDING_2D_FILE,
    EMBEDDING_FILE,
    EVALUATION_FILE,
    FIGURES,
    OUTLIERS_FIGURE,
    OUTLIERS_FILE,
    RUN_FILE,
    TRAINING_FILE,
    NotARunFolderError,
    RunFolder,
    montage_file,
)
from ._like import keep_numbers, renumbered
from ._model import MODEL_FILE, load_model, save_model
from ._record import SCHEMA_VERSION, FigureRecord, RunRecord, SourceRecord, versions
from ._review import (
    ASIDE,
    OPS,
    REVIEW_FILE,
    ReadOnlyRunError,
    Replayed,
    append_edit,
    as_edit,
    check_edit,
    read_log,
    replay,
    whole_number,
)
from ._write import write_run

__all__ = ["ASIDE", "ASSIGNMENTS_FILE", "COMPARE_PAGE", "COMPARISON_FILE", "CONFUSION_FILE", "DUPLICATES_FILE",
           "EMBEDDING_2D_FILE", "EMBEDDING_FILE", "EVALUATION_FILE", "FIGURES", "FIGURES_REGISTRY", "MODEL_FILE",
           "MOVED_FILE", "OPS", "OUTLIERS_FIGURE", "OUTLIERS_FILE", "REVIEW_FILE", "RUN_FILE", "SCHEMA_VERSION",
           "TRAINING_FILE", "ClusterFlow", "ClusterRun", "Evaluation", "EvaluationExistsError", "Figure",
           "FigureRecord", "MovedImage", "NotARunFolderError", "ReadOnlyRunError", "Replayed", "RunComparison",
           "RunFolder", "RunRecord", "SourceRecord", "append_edit", "as_edit", "check_edit", "compare_runs",
           "evaluate_run", "figure_file", "keep_numbers", "load_model", "match_clusters", "montage_file", "read_log",
           "renumbered", "replay", "save_model", "versions", "whole_number", "write_run"]
