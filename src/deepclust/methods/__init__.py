"""The method registry: each clustering method is one estimator class registered with ``@register_method``; the
pipeline and the CLI read what it consumes and its options from here and never branch on a method's name."""

from ._constraints import (
                        N_CLUSTERS,
                        N_CLUSTERS_OR_CHOSEN,
                        NON_NEGATIVE,
                        NON_NEGATIVE_INT,
                        POSITIVE,
                        POSITIVE_INT,
                        RUN_N_CLUSTERS,
                        Interval,
                        check_choices,
                        check_params,
                        constraints_of,
                        literal_values,
)
from ._options import MethodOption, MethodOptionError, summary_of, type_name
from ._registry import (
                        COMMON_PARAMETERS,
                        NO_CLUSTER,
                        OUTPUTS,
                        FittedClustering,
                        MethodSpec,
                        add_method_loader,
                        get_method,
                        k_options_of,
                        list_methods,
                        margin,
                        measure_placement,
                        register_method,
                        unregister_method,
)

__all__ = ["COMMON_PARAMETERS", "NON_NEGATIVE", "NON_NEGATIVE_INT", "NO_CLUSTER", "N_CLUSTERS", "N_CLUSTERS_OR_CHOSEN",
           "OUTPUTS", "POSITIVE", "POSITIVE_INT", "RUN_N_CLUSTERS", "FittedClustering", "Interval", "MethodOption",
           "MethodOptionError", "MethodSpec", "add_method_loader", "check_choices", "check_params", "constraints_of",
           "get_method", "k_options_of", "list_methods", "literal_values", "margin", "measure_placement",
           "register_method", "summary_of", "type_name", "unregister_method"]
