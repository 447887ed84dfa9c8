"""The run: :class:`ClusterRun` (what a clustering returns) and the run folder's one schema (:class:`RunFolder`:
its file names, reading it back, the files commands add to it, the one "not a run folder" error), written whole and
atomically by :func:`write_run`, with the fitted model saved for assigning new images; two runs of the same images
compared by :func:`compare_runs`, and a new run numbered like an earlier one by :func:`keep_numbers`."""

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
)
from ._like import keep_numbers, renumbered
from ._model import MODEL_FILE, load_model, save_model
from ._write import versions, write_run

__all__ = ["ASSIGNMENTS_FILE", "COMPARE_PAGE", "COMPARISON_FILE", "CONFUSION_FILE", "DUPLICATES_FILE",
           "EMBEDDING_2D_FILE", "EMBEDDING_FILE", "EVALUATION_FILE", "FIGURES", "MODEL_FILE", "MOVED_FILE",
           "OUTLIERS_FIGURE", "OUTLIERS_FILE", "RUN_FILE", "TRAINING_FILE", "ClusterFlow", "ClusterRun", "Evaluation",
           "EvaluationExistsError", "MovedImage", "NotARunFolderError", "RunComparison", "RunFolder", "compare_runs",
           "evaluate_run", "keep_numbers", "load_model", "match_clusters", "renumbered", "save_model", "versions",
           "write_run"]
