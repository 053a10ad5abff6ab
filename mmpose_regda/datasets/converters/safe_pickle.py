"""Reading a dataset's pickle without running what it names.

``pickle.load`` calls any function a pickle names, so a crafted annotation file runs code the
moment it is read. A dataset's own pickles (RHD's ``anno_*.pickle``) hold only numpy arrays,
dtypes and scalars in plain containers; :func:`load_pickle` reads them with an unpickler that
resolves only the globals this needs and refuses any other before it is called.
"""
import pickle
from typing import Any, FrozenSet, Tuple

from .coco_writer import ConversionError

# numpy 2 pickles from ``numpy._core``, numpy 1 (and Python 2's RHD files) from ``numpy.core``
_NUMPY_CORE = ('numpy.core', 'numpy._core')
#: ``(module, name)`` of every global a dataset pickle may name: how numpy rebuilds an array
#: (``_reconstruct``, or ``_frombuffer`` from protocol 5), a dtype and a scalar; ``set`` and
#: ``frozenset`` (module ``__builtin__`` in protocols 0-2); ``_codecs.encode``, which protocols
#: 0-2 written by Python 3 use for ``bytes`` (numpy's raw data).
SAFE_GLOBALS: FrozenSet[Tuple[str, str]] = frozenset(
    [(f'{core}.multiarray', name) for core in _NUMPY_CORE for name in ('_reconstruct', 'scalar')]
    + [(f'{core}.numeric', '_frombuffer') for core in _NUMPY_CORE]
    + [('numpy', 'ndarray'), ('numpy', 'dtype'), ('_codecs', 'encode')]
    + [(module, name) for module in ('builtins', '__builtin__') for name in ('set', 'frozenset')])


class RefusedPickleError(ConversionError):
    """A pickle that names a global a dataset's pickle never needs; nothing in it was run."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`SAFE_GLOBALS`.

    ``find_class`` is where every global named by a pickle (``GLOBAL``, ``STACK_GLOBAL``,
    ``INST``, ``OBJ``, extension codes) is resolved, before anything calls it: refusing there
    means a crafted file is rejected before any of its code runs.
    """

    def __init__(self, file, path: str, **kwargs):
        super().__init__(file, **kwargs)
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in SAFE_GLOBALS:
            raise RefusedPickleError(
                f'{self.path}: refused: the pickle names the global `{module}.{name}`, which a '
                'dataset annotation pickle never holds (allowed: numpy arrays, dtypes and '
                'scalars in dicts, lists, tuples and sets). The file was not written by the '
                "dataset's authors or was altered; nothing in it was run. Download the dataset "
                'again from its authors.')
        return super().find_class(module, name)


def load_pickle(path: str, encoding: str = 'ASCII') -> Any:
    """The object in the pickle file ``path``, read by :class:`RestrictedUnpickler`.

    Args:
        path (str): the pickle file.
        encoding (str): how Python 2 ``str`` objects are decoded (``'latin1'`` for pickles
            holding numpy arrays written by Python 2, as ``pickle.load``).

    Raises:
        RefusedPickleError: the pickle names any other global; it names the file and the global.
        pickle.UnpicklingError, EOFError, ...: a truncated or damaged file, as ``pickle.load``.
    """
    with open(path, 'rb') as f:
        return RestrictedUnpickler(f, path, encoding=encoding).load()
