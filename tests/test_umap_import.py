"""umap's TensorFlow notice never reaches the user: every way deepclust imports umap goes through
:func:`deepclust._umap.quiet_umap_import`, and nothing else is filtered."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import pytest

from deepclust._umap import TENSORFLOW_NOTICE, make_umap, quiet_umap_import

# Run in a fresh interpreter (umap is imported once per process), recording every warning as the CLI does.
_SCRIPT = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        {body}
    assert "umap" in sys.modules
    for w in caught:
        print("recorded:", w.category.__name__, w.message)
""")


def _run_fresh(body: str) -> str:
    done = subprocess.run([sys.executable, "-c", _SCRIPT.format(body=body)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def pickled_umap(tmp_path_factory):
    """A pickled ``umap.UMAP``, as ``model.joblib`` holds one: loading it imports umap."""
    path = tmp_path_factory.mktemp("umap") / "model.pkl"
    path.write_bytes(pickle.dumps(make_umap(n_components=2)))
    return path


def test_a_bare_umap_import_gives_the_notice():
    """The control: umap itself still warns at import, so the tests below exercise a live path."""
    assert "Tensorflow not installed" in _run_fresh("import umap")


@pytest.mark.parametrize("how", ["make", "load"])
def test_deepclust_imports_umap_without_the_notice(how, pickled_umap):
    """Building a UMAP and unpickling one inside ``quiet_umap_import`` record no warning and print nothing."""
    body = {"make": "from deepclust._umap import make_umap; make_umap(n_components=2)",
            "load": "import pathlib, pickle; from deepclust._umap import quiet_umap_import\n    "
                    f"with quiet_umap_import(): pickle.loads(pathlib.Path({str(pickled_umap)!r}).read_bytes())"}[how]
    output = _run_fresh(body)
    assert "Tensorflow" not in output and "recorded:" not in output, output


def test_only_the_notice_is_silenced_and_only_inside(recwarn):
    """Other ImportWarnings and other messages pass through the block; after it, the notice is not filtered."""
    import warnings

    warnings.simplefilter("always")
    with quiet_umap_import():
        warnings.warn(TENSORFLOW_NOTICE, ImportWarning, stacklevel=1)
        warnings.warn("another import notice", ImportWarning, stacklevel=1)
        warnings.warn(TENSORFLOW_NOTICE, UserWarning, stacklevel=1)
    warnings.warn(TENSORFLOW_NOTICE, ImportWarning, stacklevel=1)
    seen = [(w.category, str(w.message)) for w in recwarn]
    assert seen == [(ImportWarning, "another import notice"), (UserWarning, TENSORFLOW_NOTICE),
                    (ImportWarning, TENSORFLOW_NOTICE)]


def test_umaps_kernels_are_cached_on_disk_except_those_numba_cannot_cache():
    """After deepclust imports umap, its kernels keep their compiled code on disk (placing 11 new images compiled
    them again in every process: 6 s of `deepclust assign`); pynndescent's search kernels, which numba cannot cache,
    are left as they were, or every fit would warn "Cannot cache compiled function"."""
    from numba.core.caching import NullCache

    from deepclust._umap import UNCACHEABLE_KERNELS

    make_umap(n_components=2)
    import pynndescent.pynndescent_ as nnd
    import umap.layouts
    import umap.umap_

    for kernel in (umap.umap_.smooth_knn_dist, umap.umap_.compute_membership_strengths,
                   umap.layouts._nb_optimize_layout_euclidean_single_epoch):
        assert not isinstance(getattr(kernel, "_cache", NullCache()), NullCache), kernel
    assert UNCACHEABLE_KERNELS and all(isinstance(getattr(nnd, name)._cache, NullCache) for name in UNCACHEABLE_KERNELS)
