"""The names of the builtin data sets' classes, read from their registry entries."""

from __future__ import annotations

import numpy as np

from deepclust.datasets import DATASETS, FASHION_MNIST_CLASSES, class_names, label_name, load_dataset


def test_every_builtin_data_set_names_its_classes():
    """Fashion-MNIST's ten classes are named as in Xiao et al. (0 T-shirt/top … 9 Ankle boot); the digit sets name
    each digit by itself; every data set has a name per class."""
    assert class_names("fashion-mnist") == list(FASHION_MNIST_CLASSES)
    assert class_names("fashion-mnist")[0] == "T-shirt/top" and class_names("fashion-mnist")[9] == "Ankle boot"
    for name in ("mnist", "mnist-5k", "digits"):
        assert class_names(name) == [str(d) for d in range(10)]
    assert all(class_names(name) is not None for name in DATASETS)
    _, y = load_dataset("digits")
    assert np.unique(y).tolist() == list(range(len(class_names("digits"))))


def test_label_name_maps_numbers_and_leaves_other_labels_alone():
    """A label (int or its text in assignments.csv) of a builtin data set becomes its class name; labels of other
    sources, unknown data sets and numbers out of range are returned as text."""
    assert label_name("fashion-mnist", 0) == "T-shirt/top"
    assert label_name("fashion-mnist", "9") == label_name("fashion-mnist", np.int64(9)) == "Ankle boot"
    assert label_name("digits", "3") == "3"
    assert label_name("fashion-mnist", 10) == "10" and label_name("fashion-mnist", "-1") == "-1"
    assert label_name(None, "cats") == "cats" and label_name("no-such-set", 2) == "2"
    assert class_names("no-such-set") is None and class_names(None) is None
