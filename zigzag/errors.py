"""The errors zigzag raises on purpose, for input it cannot use, so that they differ from bugs.

Each one is also the built-in type a Python user expects (``except ValueError``
and ``except TypeError`` keep working). The ``zigzag`` command prints one line
``zigzag COMMAND: error: ...`` and exits with status 2 for these (and for
``ValueError`` and the ``OSError`` of files); any other exception is a bug in
zigzag or in a library it calls, and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["ZigzagError", "InputError", "InputTypeError", "OutputExistsError"]


class ZigzagError(Exception):
    """Base of every error zigzag raises for input it cannot use."""


class InputError(ZigzagError, ValueError):
    """A value zigzag cannot use: out of range, inconsistent with other input, an unknown option."""


class InputTypeError(ZigzagError, TypeError):
    """An argument of the wrong type, e.g. an int where an iterable of ints is needed."""


class OutputExistsError(ZigzagError, FileExistsError):
    """An output is in the way: zigzag would have to remove or replace something it did not write."""
