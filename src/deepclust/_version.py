"""deepclust's version, in a module of its own so that any module may import it without importing the package's
facade (``deepclust/__init__.py`` imports nearly everything)."""

__version__ = "0.1.0"
