"""Workarounds for upstream bugs of the OpenMMLab stack, in one place.

Each fix names its upstream cause, checks whether it is needed on the installed versions, and
does nothing otherwise. ``apply_all()`` runs on ``import mmpose_regda``, before anything from
``mmpose.models`` is imported; :func:`setup_cpu_distributed` is called by ``tools/train.py`` and
``tools/test.py``, because it needs the command line's launcher and the config.
"""
import errno
import importlib
import importlib.machinery
import importlib.util
import inspect
import io
import os
import pickle
import sys
import types
from typing import List, Optional

import torch

_PLACEHOLDER_EXT = 'mmcv._ext'


class _MissingMMCVOps(types.ModuleType):
    """Stands in for mmcv's compiled ops when only mmcv-lite is installed.

    Any attribute is a function that raises: ``mmcv.utils.ext_loader.load_ext`` only checks with
    ``hasattr`` that the ops exist, so importing works, while calling one says what is missing.
    """

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)

        def missing_op(*args, **kwargs):
            raise RuntimeError(
                f'mmcv op `{name}` was called, but the installed mmcv has no compiled ops '
                '(mmcv-lite). Install the full `mmcv` package for models that need it; the '
                'top-down heatmap models of mmpose-regda never do.')

        missing_op.__name__ = name
        return missing_op


def needs_mmcv_ext_placeholder() -> bool:
    """True when mmcv is installed without its compiled ``mmcv._ext``."""
    if _PLACEHOLDER_EXT in sys.modules:
        return False
    if importlib.util.find_spec('mmcv') is None:
        return False
    return importlib.util.find_spec(_PLACEHOLDER_EXT) is None


def install_mmcv_ext_placeholder() -> bool:
    """Let ``import mmpose.models`` succeed under mmcv-lite.

    Upstream cause: mmpose 1.3.x ``models/heads/transformer_heads/edpose_head.py`` imports
    ``mmcv.ops`` unconditionally, which loads the compiled extension ``mmcv._ext`` that mmcv-lite
    does not ship (``No module named 'mmcv._ext'``). Nothing on the top-down heatmap path calls
    these ops. The placeholder has a spec without a loader, so mmengine's
    ``mmcv_full_available()`` still reports (truly) that full mmcv is absent.

    Returns:
        bool: whether the placeholder was installed.
    """
    if not needs_mmcv_ext_placeholder():
        return False
    module = _MissingMMCVOps(_PLACEHOLDER_EXT)
    module.__spec__ = importlib.machinery.ModuleSpec(_PLACEHOLDER_EXT, loader=None)
    module.__file__ = None
    sys.modules[_PLACEHOLDER_EXT] = module
    return True


_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner, name: str):
    """What mmengine's checkpoints ask of ``builtins.getattr``, and nothing else.

    mmengine's ``HistoryBuffer`` (the message hub's logged scalars) pickles its statistics
    methods (``min``, ``max``, ``current``, ``mean``) as ``getattr(HistoryBuffer, 'mean')``.
    Allowing ``builtins.getattr`` itself would let any weights-only load in the process reach
    whatever an attribute chain leads to (``HistoryBuffer.__init__.__builtins__`` holds ``eval``
    and ``__import__``), so the weights-only unpickler is given this function under that name
    instead: it answers exactly those lookups and refuses every other one.
    """
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer

    # the class registry fills up only once a HistoryBuffer is made: the defaults are named here.
    # The plugin's one read of a private attribute of mmengine or torch (checked on mmengine
    # 0.10.7, torch 2.14.1): HistoryBuffer has no public list of its statistics methods.
    statistics = set(_HISTORY_BUFFER_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and isinstance(name, str) and name in statistics:
        method = getattr(HistoryBuffer, name, None)
        if inspect.isfunction(method):
            return method
    # raised as the unpickler's own error, like any other refused global
    raise pickle.UnpicklingError(
        f'this checkpoint calls getattr({owner!r}, {name!r}); weights-only loading allows '
        f"getattr only for mmengine's HistoryBuffer statistics ({', '.join(sorted(statistics))})")


def _checkpoint_safe_globals() -> List:
    """The non-tensor objects that mmengine writes into checkpoints."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    numpy_core = getattr(np, '_core', None) or np.core
    safe = [
        numpy_core.multiarray._reconstruct,
        numpy_core.multiarray.scalar,
        np.ndarray,
        np.dtype,
        HistoryBuffer,
        # HistoryBuffer pickles its statistics methods through getattr: narrowed to them
        (history_buffer_statistic, 'builtins.getattr'),
        # numpy scalars carry their raw value as bytes
        bytes,
    ]
    # numpy >= 1.25 pickles dtypes as instances of per-type classes (numpy.dtypes.Float32DType)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [cls for cls in vars(dtypes).values()
                 if isinstance(cls, type) and issubclass(cls, np.dtype)]
    return safe


def needs_checkpoint_safe_globals() -> bool:
    """True when torch loads weights-only by default (torch >= 2.6) and mmengine does not opt
    out."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return False  # torch < 2.4 has no allow-list
    version = tuple(int(v) for v in torch.__version__.split('+')[0].split('.')[:2])
    if version < (2, 6):
        return False  # weights_only=False was still the default
    from mmengine.runner import checkpoint
    return 'weights_only' not in inspect.getsource(checkpoint.load_from_local)


def register_checkpoint_safe_globals() -> bool:
    """Let mmengine resume and ``load_from`` its own checkpoints under torch >= 2.6.

    Upstream cause: torch 2.6 made ``torch.load(weights_only=True)`` the default, and
    mmengine 0.10.7's ``load_from_local`` calls ``torch.load`` without ``weights_only``;
    checkpoints hold numpy arrays (dataset metainfo) and mmengine's ``HistoryBuffer`` (message
    hub), so loading fails with ``Unsupported global``. Fixed on mmengine's main branch, not
    released. Rather than turning weights-only off, the exact classes mmengine writes are
    allowed, and ``builtins.getattr`` only for the lookups mmengine's checkpoints make
    (:func:`history_buffer_statistic`), so a checkpoint that pickles anything else still fails
    loudly, in any weights-only load of the process.

    Returns:
        bool: whether globals were registered.
    """
    if not needs_checkpoint_safe_globals():
        return False
    torch.serialization.add_safe_globals(_checkpoint_safe_globals())
    return True


class UnsafeCheckpoint(pickle.UnpicklingError):
    """A checkpoint that weights-only loading refuses: it asks, when loaded, for objects that no
    mmengine checkpoint holds (a function to call, such as ``posix.system``). Nothing of it was
    executed. Subclasses ``UnpicklingError``, what torch raises for it."""


def weights_only_refusal(error: BaseException) -> Optional[str]:
    """torch's reason for refusing a file under ``weights_only=True`` (``Trying to load
    unsupported GLOBAL posix.system whose module posix is blocked``), or None when ``error`` is
    not such a refusal (a damaged file).

    torch (2.6 to 2.14 at least) wraps the reason between a paragraph on its change of default
    and a pointer to its documentation; only the reason is kept.
    """
    if isinstance(error, UnsafeCheckpoint):
        return str(error)
    text = str(error)
    if not isinstance(error, pickle.UnpicklingError) or 'Weights only load failed' not in text:
        return None
    reason = text
    for marker in ('WeightsUnpickler error:', 'from a trusted source.'):
        if marker in reason:
            reason = reason.split(marker, 1)[1]
    reason = reason.split('Check the documentation', 1)[0]
    return ' '.join(reason.split()).rstrip('.') or 'no reason given'


def describe_unsafe_checkpoint(path: str, reason: str, field: str = '') -> str:
    """The message for a checkpoint refused by weights-only loading: torch's reason, and that
    the file may be malicious, not damaged."""
    field = f'{field}: ' if field else ''
    return (f'{field}checkpoint {path} is refused by weights-only loading ({reason}); it holds '
            'objects that mmengine does not save: the file may be malicious (made to run code '
            'when it is loaded), not damaged. Nothing of it was executed; load only checkpoints '
            'you trust')


def _load_from_local_weights_only(filename, map_location):
    """mmengine's loader of local checkpoints, with the refusal of an unsafe file explained."""
    from mmengine.runner.checkpoint import load_from_local
    try:
        return load_from_local(filename, map_location)
    except pickle.UnpicklingError as e:
        reason = weights_only_refusal(e)
        if reason is None:
            raise
        raise UnsafeCheckpoint(describe_unsafe_checkpoint(filename, reason)) from None


def explain_unsafe_checkpoints() -> bool:
    """Make every local checkpoint mmengine loads say why a weights-only refusal happened.

    Upstream cause: mmengine 0.10.7 loads ``--resume``, ``load_from`` and
    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` through ``CheckpointLoader``, whose
    local loader lets torch's ``UnpicklingError`` through as it is: a wall of text on torch's
    change of default that suggests ``weights_only=False``, the one thing not to do with a file
    that asks to call ``posix.system``. The local scheme (prefix ``''``) is re-registered with
    :func:`_load_from_local_weights_only`, which loads exactly as mmengine's (weights-only stays
    on; nothing is ever executed) and raises :class:`UnsafeCheckpoint` naming the file and
    torch's reason instead.

    Returns:
        bool: whether the loader was registered.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local_weights_only,
                                     force=True)
    return True


class CheckpointSaveError(OSError):
    """A checkpoint that could not be written; the message names the path and the cause."""


def save_checkpoint_atomically(checkpoint, filename, file_client_args=None,
                               backend_args=None) -> None:
    """mmengine's ``save_checkpoint``, all or nothing for local files.

    The checkpoint is written under a temporary name beside ``filename`` (same folder, so same
    file system), flushed to disk and renamed over ``filename`` (``os.replace``); see
    :func:`~mmpose_regda.utils.atomic_output.atomic_output`. A failed write (a full disk) leaves
    no partial file, raises :class:`CheckpointSaveError` naming the path and the cause, and, as
    mmengine's ``CheckpointHook`` writes ``last_checkpoint`` only after a successful save, that
    file still points at the previous good checkpoint. Remote paths (``s3://``, ``pavi://``) are
    left to mmengine.
    """
    from mmengine.runner import checkpoint as mmengine_checkpoint
    if '://' in str(filename) or file_client_args is not None or backend_args:
        return mmengine_checkpoint.save_checkpoint(checkpoint, filename, file_client_args,
                                                   backend_args)
    from .atomic_output import atomic_output
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    try:
        with atomic_output(filename) as tmp:
            _write_file(tmp, buffer.getbuffer())
    except OSError as e:
        cause = e.strerror or str(e)
        advice = (' (the disk is full: free space, or give another --work-dir, then resume from '
                  'the last checkpoint)' if e.errno in (errno.ENOSPC, errno.EDQUOT) else '')
        error = CheckpointSaveError(
            f'checkpoint {filename} could not be saved: {cause}{advice}; no partial file was '
            'left, last_checkpoint still names the previous checkpoint')
        error.errno = e.errno  # for callers that test the cause, as of the OSError it replaces
        raise error from None


def _write_file(path: str, data) -> None:
    """Write ``data`` to ``path`` (a function of its own, so tests can make it fail half-way)."""
    with open(path, 'wb') as f:
        f.write(data)


def install_atomic_checkpoint_saves() -> bool:
    """Make the checkpoints a Runner saves atomic (:func:`save_checkpoint_atomically`).

    Upstream cause: mmengine 0.10.7's ``save_checkpoint`` writes straight to the final name
    (``LocalBackend.put``: ``open(filepath, 'wb')``), so a full disk or a killed save leaves a
    truncated ``epoch_N.pth`` (which ``--resume`` then fails on) and a raw ``OSError``.
    ``Runner.save_checkpoint`` calls it by the name imported into ``mmengine.runner.runner``, and
    ``CheckpointHook``'s publishing (``published_keys``) by ``mmengine.runner.save_checkpoint``:
    both names are replaced, in 0.10.x; a version without them is left as it is.

    Returns:
        bool: whether the saves were made atomic.
    """
    import mmengine.runner
    import mmengine.runner.runner as runner_module
    installed = False
    for module in (runner_module, mmengine.runner):
        if getattr(module, 'save_checkpoint', None) is not None:
            module.save_checkpoint = save_checkpoint_atomically
            installed = True
    return installed


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """Start distributed training on CPU (gloo) where mmengine assumes CUDA.

    Upstream causes: mmengine's ``_init_dist_pytorch`` calls ``torch.cuda.set_device`` (``Found no
    NVIDIA driver`` on a CPU machine), and ``Runner.wrap_model`` passes
    ``device_ids=[LOCAL_RANK]`` to DDP, which only accepts device ids for GPU modules. When CUDA
    is unavailable and a launcher is used, this joins the process group on gloo before the
    Runner is built (mmengine then skips its own initialisation) and makes the model wrapper
    config CPU-ready. Configs need no change between GPU and CPU. The group's timeout is
    ``env_cfg.dist_cfg.timeout`` (seconds), as mmengine's ``init_dist`` reads it on CUDA.

    Args:
        cfg (Config): the config about to build the Runner; changed in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: whether the CPU set-up was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    import torch.distributed as dist
    if launcher != 'pytorch':
        raise RuntimeError(
            f'launcher `{launcher}` without CUDA is not supported; use torchrun with '
            '`--launcher pytorch` (tools/dist_train.sh), which runs on gloo on CPU.')
    if not dist.is_initialized():
        kwargs = {}
        # the same option, in seconds, as mmengine's init_dist reads on CUDA
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout', None)
        if timeout is not None:
            import datetime
            try:
                kwargs['timeout'] = datetime.timedelta(seconds=timeout)
            except TypeError:
                raise TypeError(f'env_cfg.dist_cfg.timeout={timeout!r}: expected a number of '
                                'seconds, e.g. env_cfg.dist_cfg.timeout=600') from None
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            **kwargs)
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper_cfg = cfg.get('model_wrapper_cfg', None)
    if wrapper_cfg is None:
        wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg
    return True


def apply_all() -> dict:
    """Apply the import-time fixes that the installed versions need.

    Returns:
        dict: fix name -> whether it was applied.
    """
    return dict(
        mmcv_ext_placeholder=install_mmcv_ext_placeholder(),
        checkpoint_safe_globals=register_checkpoint_safe_globals(),
        unsafe_checkpoint_message=explain_unsafe_checkpoints(),
        atomic_checkpoint_saves=install_atomic_checkpoint_saves(),
    )
