"""Each upstream workaround of mmpose_regda.utils.compat: needed here, applied, and harmless."""
import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmpose_regda  # noqa: F401  applies the fixes
from mmpose_regda.utils import compat
from conftest import tool_env


def run_python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=tool_env(), timeout=300)


# --- mmcv._ext placeholder --------------------------------------------------------------------

def test_mmpose_models_fail_under_mmcv_lite_without_the_fix():
    """The fix is needed on this stack: without it, mmpose.models does not import."""
    proc = run_python('import mmpose.models')
    if 'mmcv._ext' not in proc.stderr:
        pytest.skip('full mmcv with compiled ops is installed: the placeholder is not needed')
    assert proc.returncode != 0


def test_mmpose_models_import_after_the_plugin():
    proc = run_python('import mmpose_regda, mmpose.models, sys; '
                      'from mmengine.utils.dl_utils import mmcv_full_available; '
                      'print(type(sys.modules["mmcv._ext"]).__name__, mmcv_full_available())')
    assert proc.returncode == 0, proc.stderr
    if 'mmcv._ext' in run_python('import mmpose.models').stderr:
        # the placeholder stands in, and mmengine still sees that full mmcv is absent
        assert proc.stdout.split() == ['_MissingMMCVOps', 'False']


def test_placeholder_op_raises_a_clear_error():
    placeholder = compat._MissingMMCVOps('mmcv._ext')
    assert hasattr(placeholder, 'nms')  # what mmcv's ext_loader checks
    with pytest.raises(RuntimeError, match='mmcv op `nms`.*mmcv-lite'):
        placeholder.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)


def test_placeholder_not_installed_when_real_ops_exist(monkeypatch):
    monkeypatch.setitem(sys.modules, 'mmcv._ext', types.ModuleType('mmcv._ext'))
    assert not compat.needs_mmcv_ext_placeholder()
    assert compat.install_mmcv_ext_placeholder() is False
    assert type(sys.modules['mmcv._ext']) is types.ModuleType


# --- weights-only checkpoint loading ------------------------------------------------------------

def mmengine_like_checkpoint():
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.5))
    return dict(meta=dict(dataset_meta=dict(sigmas=np.array([0.1, 0.2], np.float32)),
                          seed=np.int64(3)),
                message_hub=dict(log_scalars={'train/loss': buffer}),
                state_dict={'w': torch.ones(2)})


def test_mmengine_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save(mmengine_like_checkpoint(), path)
    loaded = torch.load(path, weights_only=True)
    np.testing.assert_array_equal(loaded['meta']['dataset_meta']['sigmas'],
                                  np.array([0.1, 0.2], np.float32))
    assert loaded['meta']['seed'] == 3
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 0.5
    # and through mmengine's own loader, which calls torch.load without weights_only
    from mmengine.runner import CheckpointLoader
    assert torch.equal(CheckpointLoader.load_checkpoint(str(path))['state_dict']['w'],
                       torch.ones(2))


class NotAllowed:
    pass


def test_other_globals_still_refused(tmp_path):
    """Only what mmengine writes is allowed: weights-only protection stays on."""
    if not compat.needs_checkpoint_safe_globals():
        pytest.skip('this mmengine passes weights_only itself')
    path = tmp_path / 'evil.pth'
    torch.save({'x': NotAllowed()}, path)
    with pytest.raises(Exception, match='NotAllowed'):
        torch.load(path, weights_only=True)


class GetAttr:
    """Pickles as ``getattr(owner, name)``, the way pickle itself writes nested names."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def test_getattr_reaching_a_builtin_is_refused(tmp_path):
    """A crafted checkpoint walks from an allowed class to the builtins (``eval``,
    ``__import__``): refused by a plain weights-only load anywhere in the process."""
    from mmengine.logging import HistoryBuffer
    path = tmp_path / 'crafted.pth'
    torch.save({'state_dict': {'w': torch.ones(1)},
                'meta': GetAttr(GetAttr(HistoryBuffer, '__init__'), '__builtins__')}, path)
    # the payload is real: unpickled without restrictions it hands back eval
    assert torch.load(path, weights_only=False)['meta']['eval'] is eval
    with pytest.raises(pickle.UnpicklingError, match="getattr.*'__init__'"):
        torch.load(path, weights_only=True)
    from mmengine.runner import CheckpointLoader
    with pytest.raises(pickle.UnpicklingError, match='getattr'):
        CheckpointLoader.load_checkpoint(str(path))  # what resume, load_from and test.py use
    # what mmengine's checkpoints do ask of getattr still works
    torch.save({'mean': GetAttr(HistoryBuffer, 'mean')}, path)
    assert torch.load(path, weights_only=True)['mean'] is HistoryBuffer.mean


def test_safe_globals_needed_only_when_mmengine_does_not_opt_out(monkeypatch):
    import inspect
    real_getsource = inspect.getsource
    monkeypatch.setattr(
        inspect, 'getsource',
        lambda obj: real_getsource(obj) + 'torch.load(f, weights_only=False)')
    assert compat.needs_checkpoint_safe_globals() is False


# --- CPU distributed start-up -----------------------------------------------------------------

def test_cpu_distributed_untouched_without_launcher():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert compat.setup_cpu_distributed(cfg, 'none') is False
    assert cfg.env_cfg.dist_cfg.backend == 'nccl' and 'model_wrapper_cfg' not in cfg


def test_cpu_distributed_untouched_with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert compat.setup_cpu_distributed(cfg, 'pytorch') is False
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'


def test_cpu_distributed_refuses_other_launchers(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(RuntimeError, match='launcher `slurm` without CUDA'):
        compat.setup_cpu_distributed(Config(), 'slurm')


def test_cpu_distributed_starts_gloo_and_drops_device_ids(monkeypatch):
    import torch.distributed as dist
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0',
                           MASTER_ADDR='127.0.0.1', MASTER_PORT='29731').items():
        monkeypatch.setenv(key, value)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl')),
                      model_wrapper_cfg=dict(type='MMDistributedDataParallel',
                                             find_unused_parameters=True)))
    try:
        assert compat.setup_cpu_distributed(cfg, 'pytorch') is True
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.model_wrapper_cfg.find_unused_parameters is True  # the user's choice kept


# --- unsafe checkpoints through mmengine's loader ------------------------------------------------

class RunsCode:
    """Unpickled without restrictions, this runs a shell command (``posix.system``)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_mmengine_loads_of_a_code_executing_checkpoint_say_it_may_be_malicious(tmp_path):
    """What resume, load_from and init_cfg=dict(type='Pretrained') load through."""
    from mmengine.runner import CheckpointLoader
    marker, path = tmp_path / 'it_ran', tmp_path / 'resnet.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': RunsCode(marker)}, path)
    with pytest.raises(compat.UnsafeCheckpoint) as exc:
        CheckpointLoader.load_checkpoint(str(path))
    assert str(exc.value).startswith(
        f'checkpoint {path} is refused by weights-only loading (Trying to load unsupported '
        'GLOBAL posix.system whose module posix is blocked); it holds objects that mmengine '
        'does not save: the file may be malicious')
    assert isinstance(exc.value, pickle.UnpicklingError)  # what torch raised before
    assert not marker.exists()
    # a damaged file is not called malicious
    torch.save({'w': torch.ones(1000)}, path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(Exception) as exc:
        CheckpointLoader.load_checkpoint(str(path))
    assert not isinstance(exc.value, compat.UnsafeCheckpoint)


# --- atomic checkpoint saves ------------------------------------------------------------------

def test_runner_checkpoint_saves_are_atomic():
    import mmengine.runner
    import mmengine.runner.runner as runner_module
    assert runner_module.save_checkpoint is compat.save_checkpoint_atomically  # Runner's saves
    assert mmengine.runner.save_checkpoint is compat.save_checkpoint_atomically  # publishing


def test_a_failed_save_leaves_the_previous_checkpoint_and_no_partial_file(tmp_path, monkeypatch):
    import errno
    path = tmp_path / 'epoch_1.pth'
    compat.save_checkpoint_atomically({'w': torch.ones(3)}, str(path))
    before = path.read_bytes()

    def fill_the_disk(tmp, data):
        with open(tmp, 'wb') as f:
            f.write(bytes(data[:100]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(compat, '_write_file', fill_the_disk)
    with pytest.raises(compat.CheckpointSaveError) as exc:
        compat.save_checkpoint_atomically({'w': torch.zeros(3)}, str(path))
    assert str(exc.value).startswith(f'checkpoint {path} could not be saved: No space left on '
                                     'device (the disk is full')
    assert exc.value.errno == errno.ENOSPC
    assert path.read_bytes() == before and os.listdir(tmp_path) == ['epoch_1.pth']
