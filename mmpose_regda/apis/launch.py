"""What ``tools/train.py`` and ``tools/test.py`` share: turning command-line flags into config,
and the checks that refuse a run before it spends any work.

The flags and their meaning follow MMPose's own tools, so MMPose habits carry over; the
differences are the CPU distributed start-up, a distributed timeout that fails a stalled run in
minutes, and clear refusals where a run could not do what was asked (``--amp`` on a CPU, a
training of 0 iterations, a second training in a busy work dir, an ``--out`` that cannot be
written).
"""
import os
import os.path as osp
import sys
import time
from typing import Optional

import mmengine
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from ..utils.compat import setup_cpu_distributed


def resolve_work_dir(cfg: Config, config_path: str, work_dir: Optional[str]) -> None:
    """Work dir priority, as in MMPose: command line > config > ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def enable_visualization(cfg: Config, show_dir: Optional[str], show: bool = False,
                         interval: int = 1, wait_time: float = 1) -> None:
    """Turn on the config's ``PoseVisualizationHook`` for ``--show`` / ``--show-dir``."""
    if not show and show_dir is None:
        return
    if 'visualization' not in cfg.get('default_hooks', {}):
        raise KeyError('--show/--show-dir need `default_hooks.visualization` in the config, '
                       'e.g. visualization=dict(type="PoseVisualizationHook", enable=False); '
                       "it is set by 'mmpose::_base_/default_runtime.py'.")
    vis = cfg.default_hooks.visualization
    vis.enable = True
    vis.show = show
    if show:
        vis.wait_time = wait_time
    vis.out_dir = show_dir
    vis.interval = interval


#: What lets float16 autocast run on a CPU anyway (to measure it, or in tests): the config key
#: ``optim_wrapper.allow_cpu_float16=True`` (adaptation configs), or this environment variable
#: set to 1.
ALLOW_CPU_FLOAT16_ENV = 'MMPOSE_REGDA_ALLOW_CPU_FLOAT16'


def cpu_float16_refusal(what: str) -> str:
    """The one message that refuses float16 mixed precision on a machine without CUDA."""
    return (f'{what}: float16 mixed precision needs a CUDA device, and this machine has none. On '
            'a CPU, float16 autocast runs about 8x slower than float32 (its convolutions have no '
            'fast kernels), and mmengine\'s AmpOptimWrapper of a single-optimizer config '
            "refuses it. Train in float32 (without --amp, or without the config's "
            "type='AmpOptimWrapper'); an adaptation config "
            "(constructor='PartOptimWrapperConstructor') can use bfloat16 on a CPU: --amp "
            '--cfg-options optim_wrapper.dtype=bfloat16')


def cpu_float16_allowed(optim_wrapper) -> bool:
    return (bool(optim_wrapper.get('allow_cpu_float16', False))
            or os.environ.get(ALLOW_CPU_FLOAT16_ENV, '') == '1')


class AmpNotSupported(RuntimeError):
    """``--amp`` (or a config's float16) where it cannot run well; the message says why and the
    alternative."""


def enable_amp(cfg: Config) -> None:
    """``--amp``: mixed precision, as MMPose's ``tools/train.py`` sets it.

    The top level of ``optim_wrapper`` becomes ``type='AmpOptimWrapper'`` with a dynamic loss
    scale. For a single optimizer that is mmengine's AMP wrapper (CUDA only); for the adaptation
    models' one-optimizer-per-part config (``constructor='PartOptimWrapperConstructor'``) it
    switches every part to mixed precision at once, float16 with one loss scale per objective,
    or bfloat16 with ``optim_wrapper.dtype='bfloat16'`` (also on CPU).

    Call it after ``--cfg-options`` are merged, so that a ``dtype`` given there counts; the
    device is checked by :func:`check_amp_device`.

    Raises:
        AmpNotSupported: float16 on a machine without CUDA.
    """
    optim_wrapper = cfg.optim_wrapper
    if optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    check_amp_device(cfg, '--amp')


def check_amp_device(cfg: Config, what: str = "optim_wrapper.type='AmpOptimWrapper'") -> None:
    """Refuse mixed precision that cannot run well here, before anything is built.

    Without CUDA, float16 is refused for every config alike (:func:`cpu_float16_refusal`),
    unless ``optim_wrapper.allow_cpu_float16=True`` or ``MMPOSE_REGDA_ALLOW_CPU_FLOAT16=1`` asks
    for it (adaptation configs); a single optimizer is refused in any precision (mmengine's
    AmpOptimWrapper asserts a GPU). bfloat16 of an adaptation config runs. Nothing to check
    without ``type='AmpOptimWrapper'``.

    Raises:
        AmpNotSupported: naming ``what`` asked for it, why and the alternative.
    """
    import torch
    optim_wrapper = cfg.get('optim_wrapper', None) or {}
    if optim_wrapper.get('type', None) != 'AmpOptimWrapper' or torch.cuda.is_available():
        return
    dtype = str(optim_wrapper.get('dtype', None) or 'float16').replace('torch.', '')
    if 'constructor' not in optim_wrapper:
        raise AmpNotSupported(cpu_float16_refusal(what))
    if dtype == 'float16' and not cpu_float16_allowed(optim_wrapper):
        raise AmpNotSupported(cpu_float16_refusal(what))


def resolve_resume(cfg: Config, resume: Optional[str]) -> Optional[str]:
    """Turn ``--resume [PATH]`` into ``cfg.resume`` / ``cfg.load_from``; returns a line to log.

    ``--resume PATH`` continues from PATH. ``--resume`` alone continues from the latest
    checkpoint of the work directory (mmengine's ``last_checkpoint`` file); with none there,
    the run starts as without ``--resume``, from the config's ``load_from`` if it has one:
    mmengine's own auto-resume sets ``load_from`` aside in that case, so an adaptation run would
    start from an untrained model ("Auto resumed from the latest checkpoint None"). Resolving it
    here, before the Runner is built, also lets the checkpoint be checked first
    (:mod:`.checkpoint_checks`). Call it after ``--cfg-options`` are merged: ``--resume`` wins
    over a ``load_from`` given there.
    """
    if resume is None:
        return None
    if resume != 'auto':
        cfg.resume, cfg.load_from = True, resume
        return None
    from mmengine.runner.checkpoint import find_latest_checkpoint
    marker = osp.join(cfg.work_dir, 'last_checkpoint')
    latest = find_latest_checkpoint(cfg.work_dir) if osp.isfile(marker) else None
    if latest:
        cfg.resume, cfg.load_from = True, latest
        return f'--resume: continuing from {latest}, the latest checkpoint of {cfg.work_dir}'
    cfg.resume = False
    start = (f'starting from load_from={cfg.load_from}' if cfg.get('load_from', None)
             else 'starting from the initialisation')
    return f'--resume: nothing to resume in {cfg.work_dir} (no last_checkpoint); {start}'


def check_start_checkpoint(runner: Runner, field: Optional[str] = None,
                           evaluators=None, dataset_meta: Optional[dict] = None) -> None:
    """Refuse, before it is loaded, a checkpoint that cannot start the runner's run (see
    :mod:`.checkpoint_checks`; ``evaluators``: the test evaluators, whose scored parts the
    checkpoint must have; ``dataset_meta``: the scored dataset's, whose keypoints must be the
    checkpoint's); log the notes of an adaptation model's new parts."""
    from mmengine.logging import print_log

    from .checkpoint_checks import check_start_checkpoint as check
    for note in check(runner.cfg, runner.model, field, evaluators, dataset_meta):
        print_log(note, logger='current')


class _SaveMetricsHook(Hook):
    """Writes the test metrics to a file (``tools/test.py --out``)."""

    def __init__(self, out_file: str):
        self.out_file = out_file

    def after_test_epoch(self, runner, metrics=None):
        if metrics is not None:
            from ..utils import atomic_output
            with atomic_output(self.out_file) as tmp:  # the format follows the extension
                mmengine.dump(metrics, tmp)


def save_metrics_to(runner: Runner, out_file: str) -> None:
    runner.register_hook(_SaveMetricsHook(out_file), 'LOWEST')


#: Seconds a distributed collective may wait for the other ranks before the run fails
#: (``env_cfg.dist_cfg.timeout``, as mmengine's ``init_dist`` reads it). torch's default is 30
#: minutes (gloo; NCCL 10), during which a run whose rank stopped (a stopped or swapped-out
#: process, a hung data loader) looks busy while it does nothing; 10 minutes is far more than
#: any step or validation of these models takes between two collectives, and fails such a run
#: in minutes. A config or ``--cfg-options env_cfg.dist_cfg.timeout=SECONDS`` sets another.
DEFAULT_DIST_TIMEOUT = 600


def build_runner(cfg: Config, launcher: str) -> Runner:
    """Build the Runner; on a machine without CUDA a launcher starts on gloo (see compat).

    A distributed run gets ``env_cfg.dist_cfg.timeout`` (:data:`DEFAULT_DIST_TIMEOUT` unless the
    config sets it), on CUDA through mmengine's ``init_dist`` and on CPU through
    :func:`~mmpose_regda.utils.compat.setup_cpu_distributed`.
    """
    cfg.launcher = launcher
    if launcher != 'none':
        dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        dist_cfg.setdefault('timeout', DEFAULT_DIST_TIMEOUT)
    setup_cpu_distributed(cfg, launcher)
    if 'preprocess_cfg' in cfg:
        cfg.model.setdefault('data_preprocessor', cfg.get('preprocess_cfg', {}))
    return Runner.from_cfg(cfg)


def describe_collective_timeout(error: BaseException, cfg: Config) -> Optional[str]:
    """What to tell the user when a distributed collective timed out, or None for another
    error: which rank stopped answering, and the option that sets the timeout."""
    text = str(error)
    # gloo: "gloo/transport/tcp/... Timed out waiting 600000ms for recv operation"; NCCL's
    # watchdog: "Watchdog caught collective operation timeout: WorkNCCL(...)"
    backend = any(name in text.lower() for name in ('gloo', 'nccl', 'c10d'))
    if not backend or not any(word in text.lower() for word in ('timed out', 'timeout')):
        return None
    import torch.distributed as dist
    if not dist.is_available() or not dist.is_initialized():
        return None
    rank, world_size = dist.get_rank(), dist.get_world_size()
    others = [r for r in range(world_size) if r != rank]
    who = f'rank {others[0]}' if len(others) == 1 else f'one of ranks {others}'
    timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout', None)
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return (f'rank {rank}: {who} stopped answering: a distributed collective waited '
            f'env_cfg.dist_cfg.timeout={timeout} s for it ({first_line}). It was stopped or hung '
            '(its own output may say why). If one step legitimately takes longer, raise the '
            'timeout: --cfg-options env_cfg.dist_cfg.timeout=SECONDS')


class NothingToTrain(ValueError):
    """The run would train nothing; the message names the value and what was expected."""


def _loader_field(runner: Runner, key: str, default=None):
    loader_cfg = runner.cfg.get('train_dataloader', None) or {}
    return loader_cfg.get(key, default)


def check_trains_something(runner: Runner) -> None:
    """Refuse a run that would train nothing, before any work is spent on it.

    mmengine runs such a run to its end without a word: ``train_cfg.max_epochs=0`` exits 0,
    ``max_iters=0`` saves the untrained model as a checkpoint, and a batch larger than the
    dataset with ``drop_last=True`` gives epochs of no iteration. Building the train loop here
    (what ``runner.train()`` does first; it reuses the loop) builds the dataloader, whose length
    is the iterations of an epoch on this process.

    Raises:
        NothingToTrain: naming the setting and what was expected.
    """
    from mmengine.runner import IterBasedTrainLoop
    loop = runner.train_loop
    if loop is None:
        return
    by_iter = isinstance(loop, IterBasedTrainLoop)
    total = loop.max_iters if by_iter else loop.max_epochs
    if total <= 0:
        key = 'max_iters' if by_iter else 'max_epochs'
        raise NothingToTrain(f'train_cfg.{key}={total}: nothing would be trained; expected '
                             f'train_cfg.{key} >= 1')
    _check_left_to_train(runner.cfg, 'max_iters' if by_iter else 'max_epochs', total)
    loader = loop.dataloader
    if len(loader) > 0:
        return
    batch_size = getattr(loader, 'batch_size', None) or _loader_field(runner, 'batch_size')
    drop_last = getattr(loader, 'drop_last', _loader_field(runner, 'drop_last', False))
    sampler = getattr(loader, 'sampler', None)
    try:
        samples = len(sampler) if sampler is not None else len(loader.dataset)
    except TypeError:
        samples = None
    per_process = ' per process' if runner.world_size > 1 else ''
    if samples == 0:
        raise NothingToTrain(f'train_dataloader.dataset has no sample{per_process}: nothing '
                             'would be trained; expected a dataset with at least one sample')
    if drop_last and samples is not None:
        raise NothingToTrain(
            f'train_dataloader.batch_size={batch_size} > {samples} samples{per_process} with '
            f'drop_last=True: an epoch has no iteration, nothing would be trained; expected '
            f'batch_size <= {samples}, or train_dataloader.drop_last=False')
    raise NothingToTrain(f'train_dataloader gives no batch (batch_size={batch_size}, '
                         f'{samples} samples{per_process}): nothing would be trained')


def _check_left_to_train(cfg: Config, key: str, total: int) -> None:
    """A resumed run whose checkpoint is already at ``train_cfg.<key>`` would train nothing."""
    from .checkpoint_checks import is_local, read_checkpoint
    path = cfg.get('load_from', None)
    if not cfg.get('resume', False) or not path or not is_local(path):
        return
    meta = read_checkpoint(path, '--resume').get('meta', {})
    unit = 'iter' if key == 'max_iters' else 'epoch'
    done = meta.get(unit, None) if isinstance(meta, dict) else None
    if isinstance(done, int) and done >= total:
        raise NothingToTrain(
            f'--resume: {path} was saved at {unit} {done}, and train_cfg.{key}={total}: nothing '
            f'is left to train; expected train_cfg.{key} > {done} (e.g. --cfg-options '
            f'train_cfg.{key}={2 * done})')


class WorkDirBusy(RuntimeError):
    """Another training runs in the same work dir; the message names it."""


#: The lock file of a training in its work dir (hidden; it holds who holds the lock).
LOCK_NAME = '.train.lock'
_held_locks = {}  # work dir -> open lock file, held until the process exits


def _is_rank_zero() -> bool:
    # under torchrun / slurm only the first process takes the lock: the others are the same run
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if name in os.environ:
            return os.environ[name] == '0'
    return True


def lock_work_dir(work_dir: str) -> Optional[str]:
    """Hold the work dir of a training for the life of this process (rank 0 only).

    Two trainings in one work dir overwrite each other's ``epoch_N.pth`` and ``last_checkpoint``
    and interleave their logs, both exiting 0. The lock is ``fcntl.flock`` on
    ``<work_dir>/.train.lock``: the kernel releases it when its process ends, however it ends,
    so a lock left by a killed run never blocks the next one. The file says who holds it (pid,
    host, start time, command), for the refusal of the next run.

    Returns:
        str or None: the lock file, or None where no lock was taken (another rank; no flock).

    Raises:
        WorkDirBusy: another live process holds the lock, naming it.
    """
    if not _is_rank_zero():
        return None
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks, no refusal
        return None
    work_dir = osp.abspath(work_dir)
    if work_dir in _held_locks:
        return _held_locks[work_dir].name
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    f = open(path, 'a+')
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = ' '.join(f.read().split()) or 'a process that has not written its name yet'
        f.close()
        raise WorkDirBusy(
            f'work dir {work_dir} is in use by another training ({holder}); its checkpoints and '
            'logs would be overwritten and interleaved. Wait for it to end, or give this run '
            'another --work-dir') from None
    f.seek(0)
    f.truncate()
    command = ' '.join([osp.basename(sys.executable)] + sys.argv)
    import socket
    f.write(f'pid {os.getpid()} on {socket.gethostname()}, started '
            f'{time.strftime("%Y-%m-%d %H:%M:%S")}: {command}\n')
    f.flush()
    _held_locks[work_dir] = f  # released by the kernel when this process exits
    return path


class OutputNotWritable(OSError):
    """An output file that cannot be written; the message names it and the cause."""


def unlock_work_dir(work_dir: str) -> None:
    """Release the lock :func:`lock_work_dir` took, before this process exits (a tool's
    ``main()`` run in a longer-lived process, such as a test)."""
    f = _held_locks.pop(osp.abspath(work_dir), None)
    if f is not None:
        f.close()  # closing the last descriptor releases the flock


def check_out_writable(out_file: str, flag: str = '--out') -> None:
    """Refuse, before any evaluation, an output file (``--out``, ``--dump``) that cannot be
    written.

    The metrics are written at the very end (atomically: a temporary file beside the target);
    a folder that is read-only or cannot be created would fail only then. A missing folder is
    created, as for ``--work-dir``. The check writes and removes a probe file there.

    Raises:
        OutputNotWritable: naming the path and the cause.
    """
    folder = osp.dirname(osp.abspath(out_file))
    if osp.isdir(out_file):
        raise OutputNotWritable(f'{flag} {out_file} is a folder; expected a file name')
    try:
        os.makedirs(folder, exist_ok=True)
        probe = osp.join(folder, f'.{osp.basename(out_file)}.{os.getpid()}.probe')
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as e:
        raise OutputNotWritable(f'{flag} {out_file}: cannot write to {folder} ({e.strerror}); '
                                'expected a folder this user can write to') from None
