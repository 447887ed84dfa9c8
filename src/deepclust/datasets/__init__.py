"""Images in: every kind of input behind one :class:`Source` interface (folders streamed, arrays, builtin data sets,
embeddings), IDX files, and what a run records of its source (:class:`SourceRecord`)."""

from ._array import ImageArray, check_uint8_images
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
from ._interface import Source
from ._source import (
                       as_source,
                       check_disjoint,
                       check_enough_images,
                       open_dataset,
                       open_known,
                       open_source,
                       take_subset,
)
from ._source_record import SourceRecord, holds_vectors
from ._subset import subset_indices

__all__ = ["DATASETS", "EMBEDDING_SUFFIXES", "FASHION_MNIST_CLASSES", "DatasetNotFoundError", "Embeddings",
           "IMAGE_EXTENSIONS", "ImageArray", "ImageBatch", "ImageFolder", "SkippedFile", "Source", "SourceRecord",
           "as_source", "check_disjoint", "check_enough_images", "check_uint8_images", "class_names",
           "dataset_available", "holds_vectors", "image_size", "is_embeddings_file", "is_run_folder",
           "open_image", "iter_array_batches", "iter_folder_batches", "label_name", "list_datasets", "load_dataset",
           "load_digits_uint8", "load_embeddings", "load_fashion_mnist",
           "load_idx", "load_image", "load_mnist", "load_mnist_5k", "load_transfer_split",
           "open_dataset", "open_known", "open_source", "scan_folder", "subset_indices", "take_subset"]
