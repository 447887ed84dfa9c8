"""Images in: a streaming folder reader, IDX files and builtin data sets."""

from ._builtin import (
                       DATASETS,
                       FASHION_MNIST_CLASSES,
                       DatasetNotFoundError,
                       class_names,
                       dataset_available,
                       label_name,
                       list_datasets,
                       load_dataset,
                       load_digits_uint8,
                       load_fashion_mnist,
                       load_mnist,
                       load_mnist_5k,
                       load_transfer_split,
)
from ._embeddings import EMBEDDING_SUFFIXES, Embeddings, is_embeddings_file, load_embeddings
from ._folder import (
                       IMAGE_EXTENSIONS,
                       ImageBatch,
                       ImageFolder,
                       SkippedFile,
                       image_size,
                       is_run_folder,
                       iter_array_batches,
                       iter_folder_batches,
                       load_image,
                       open_image,
                       scan_folder,
)
from ._idx import load_idx
from ._source import (
                       DatasetImages,
                       OpenedSource,
                       check_enough_images,
                       check_uint8_images,
                       describe_source,
                       open_dataset,
                       open_source,
                       take_subset,
)
from ._subset import subset_indices

__all__ = ["DATASETS", "EMBEDDING_SUFFIXES", "FASHION_MNIST_CLASSES", "DatasetImages", "DatasetNotFoundError",
           "Embeddings",
           "IMAGE_EXTENSIONS", "ImageBatch",
           "ImageFolder", "OpenedSource", "SkippedFile", "check_enough_images", "check_uint8_images",
           "class_names", "dataset_available", "describe_source", "image_size", "is_embeddings_file", "is_run_folder",
           "open_image", "iter_array_batches", "iter_folder_batches", "label_name", "list_datasets", "load_dataset",
           "load_digits_uint8", "load_embeddings", "load_fashion_mnist",
           "load_idx", "load_image", "load_mnist", "load_mnist_5k", "load_transfer_split",
           "open_dataset", "open_source", "scan_folder", "subset_indices", "take_subset"]
