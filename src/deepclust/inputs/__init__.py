"""How a method's input is made: the settings that decide it (:class:`InputSettings`, each with its per-kind
default), how the work runs (:class:`Runtime`), both declared once and read by every entry point, the docs and the
command line; and the preparers that turn a :class:`~deepclust.datasets.Source` into what a method consumes
(``INPUTS``)."""

from ._declared import (
    INPUT_SETTINGS,
    RECORDED,
    InapplicableSettingsError,
    check_embedding_settings,
    check_settings,
    is_given,
    setting_default,
    setting_hints,
    setting_info,
    setting_names,
    settings_doc,
    split_settings,
    takes_runtime,
    takes_settings,
)
from ._prepare import (
    INPUTS,
    PREDICT_INPUTS,
    PreparedInput,
    extract_view_arrays,
    given_embeddings,
    prepare_features,
    prepare_pixels,
    prepare_transfer,
    prepare_views,
)
from ._runtime import Runtime
from ._setting import KINDS, Setting
from ._settings import DEFAULT_VIEWS, InputSettings

__all__ = ["DEFAULT_VIEWS", "INPUTS", "INPUT_SETTINGS", "KINDS", "PREDICT_INPUTS", "RECORDED",
           "InapplicableSettingsError", "InputSettings", "PreparedInput", "Runtime", "Setting",
           "check_embedding_settings", "check_settings", "extract_view_arrays", "given_embeddings", "is_given",
           "prepare_features", "prepare_pixels", "prepare_transfer", "prepare_views", "setting_default",
           "setting_hints", "setting_info", "setting_names", "settings_doc", "split_settings", "takes_runtime",
           "takes_settings"]
