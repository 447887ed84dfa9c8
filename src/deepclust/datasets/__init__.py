"""Images in: a streaming folder reader, IDX files and builtin data sets."""

from ._builtin import (
                       DATASETS,
                       FASHION_MNIST_CLASSES,
                       DatasetNotFoundError,
                       dataset_available,
                       list_datasets,
                       load_dataset,
                       load_digits_uint8,
                       load_fashion_mnist,
                       load_mnist,
                       load_mnist_5k,
)
from ._folder import (
                       IMAGE_EXTENSIONS,
                       ImageBatch,
                       ImageFolder,
                       SkippedFile,
                       iter_array_batches,
                       iter_folder_batches,
                       load_image,
                       scan_folder,
)
from ._idx import load_idx

__all__ = ["DATASETS", "FASHION_MNIST_CLASSES", "DatasetNotFoundError", "IMAGE_EXTENSIONS", "ImageBatch",
           "ImageFolder", "SkippedFile", "dataset_available", "iter_array_batches", "iter_folder_batches",
           "list_datasets", "load_dataset", "load_digits_uint8", "load_fashion_mnist", "load_idx", "load_image",
           "load_mnist", "load_mnist_5k", "scan_folder"]
