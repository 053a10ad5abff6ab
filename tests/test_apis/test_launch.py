"""mmpose_regda.apis.launch: --amp on a machine without CUDA, the distributed timeout option and
the work dir lock, on configs and tiny models (the tools themselves: tests/test_tools)."""
import datetime

import pytest
import torch
from mmengine.config import Config

from mmpose_regda.apis import (DEFAULT_DIST_TIMEOUT, AmpNotSupported, check_amp_device,
                               enable_amp)
from mmpose_regda.apis.launch import ALLOW_CPU_FLOAT16_ENV
from mmpose_regda.engine.optim_wrappers import PartOptimWrapperConstructor
from mmpose_regda.utils import compat
from tiny_regda import build_tiny_regda

SINGLE = dict(optimizer=dict(type='Adam', lr=1e-3))
PER_PART = dict(constructor='PartOptimWrapperConstructor',
                **{part: dict(optimizer=dict(type='SGD', lr=0.1))
                   for part in ('generator', 'head', 'adv_head')})
REFUSAL = ('float16 mixed precision needs a CUDA device, and this machine has none. On a CPU, '
           'float16 autocast runs about 8x slower than float32')
ALTERNATIVE = '--amp --cfg-options optim_wrapper.dtype=bfloat16'


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.delenv(ALLOW_CPU_FLOAT16_ENV, raising=False)


@pytest.mark.parametrize('optim_wrapper', [SINGLE, PER_PART], ids=['single', 'per_part'])
def test_amp_on_a_cpu_is_refused_alike_for_every_config(no_cuda, optim_wrapper):
    cfg = Config(dict(optim_wrapper=optim_wrapper))
    with pytest.raises(AmpNotSupported) as exc:
        enable_amp(cfg)
    assert str(exc.value).startswith(f'--amp: {REFUSAL}')
    assert str(exc.value).endswith(ALTERNATIVE)


def test_bfloat16_or_an_explicit_opt_in_runs_on_a_cpu(no_cuda, monkeypatch):
    cfg = Config(dict(optim_wrapper=dict(PER_PART, dtype='bfloat16')))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    enable_amp(Config(dict(optim_wrapper=dict(PER_PART, allow_cpu_float16=True))))
    monkeypatch.setenv(ALLOW_CPU_FLOAT16_ENV, '1')
    enable_amp(Config(dict(optim_wrapper=PER_PART)))
    # a single optimizer: mmengine's AmpOptimWrapper asserts a GPU whatever is allowed
    with pytest.raises(AmpNotSupported):
        enable_amp(Config(dict(optim_wrapper=SINGLE)))


def test_a_config_that_sets_float16_itself_is_refused_too(no_cuda):
    cfg = Config(dict(optim_wrapper=dict(PER_PART, type='AmpOptimWrapper')))
    with pytest.raises(AmpNotSupported, match=r"^optim_wrapper.type='AmpOptimWrapper': "
                       'float16 mixed precision needs a CUDA device'):
        check_amp_device(cfg)
    check_amp_device(Config(dict(optim_wrapper=PER_PART)))  # full precision: nothing to check


def test_the_part_constructor_refuses_float16_on_a_cpu_unless_allowed(no_cuda):
    cfg = {k: v for k, v in PER_PART.items() if k != 'constructor'}  # what mmengine passes it
    cfg['type'] = 'AmpOptimWrapper'
    with pytest.raises(ValueError) as exc:
        PartOptimWrapperConstructor(cfg)(build_tiny_regda())
    assert str(exc.value).startswith(
        f"optim_wrapper.type='AmpOptimWrapper' with dtype='float16': {REFUSAL}")
    assert str(exc.value).endswith(ALTERNATIVE)
    allowed = PartOptimWrapperConstructor(dict(cfg, allow_cpu_float16=True))(build_tiny_regda())
    assert allowed.cast_dtype == torch.float16
    bfloat16 = PartOptimWrapperConstructor(dict(cfg, dtype='bfloat16'))(build_tiny_regda())
    assert bfloat16.cast_dtype == torch.bfloat16


def test_the_cpu_process_group_gets_the_config_timeout(monkeypatch):
    """tools/train.py joins gloo itself on CPU: with env_cfg.dist_cfg.timeout, as mmengine's
    init_dist would on CUDA."""
    import torch.distributed as dist
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(dist, 'is_initialized', lambda: False)
    calls = []
    monkeypatch.setattr(dist, 'init_process_group', lambda **kwargs: calls.append(kwargs))
    for key, value in dict(RANK='0', WORLD_SIZE='1').items():
        monkeypatch.setenv(key, value)
    compat.setup_cpu_distributed(Config(dict(env_cfg=dict(dist_cfg=dict(timeout=7)))), 'pytorch')
    assert calls[-1]['timeout'] == datetime.timedelta(seconds=7)
    with pytest.raises(TypeError, match=r"env_cfg.dist_cfg.timeout='7s': expected a number of "
                       'seconds'):
        compat.setup_cpu_distributed(Config(dict(env_cfg=dict(dist_cfg=dict(timeout='7s')))),
                                     'pytorch')


def test_a_distributed_run_gets_the_plugin_timeout_unless_the_config_sets_one(monkeypatch):
    from mmpose_regda.apis import launch
    built = []
    monkeypatch.setattr(launch, 'setup_cpu_distributed', lambda cfg, launcher: None)
    monkeypatch.setattr(launch.Runner, 'from_cfg', staticmethod(built.append))
    launch.build_runner(Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl')))), 'pytorch')
    assert built[-1].env_cfg.dist_cfg.timeout == DEFAULT_DIST_TIMEOUT == 600
    launch.build_runner(Config(dict(env_cfg=dict(dist_cfg=dict(timeout=60)))), 'slurm')
    assert built[-1].env_cfg.dist_cfg.timeout == 60
    launch.build_runner(Config(dict()), 'none')
    assert 'env_cfg' not in built[-1]  # a single process has no collective to wait for


def test_a_collective_timeout_names_the_rank_and_the_option(monkeypatch):
    import torch.distributed as dist

    from mmpose_regda.apis.launch import describe_collective_timeout
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=4))))
    gloo = RuntimeError('[third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:78] Timed out '
                        'waiting 4000ms for recv operation to complete')
    assert describe_collective_timeout(gloo, cfg) is None  # no process group: not a collective
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(dist, 'get_rank', lambda: 2)
    monkeypatch.setattr(dist, 'get_world_size', lambda: 4)
    assert describe_collective_timeout(gloo, cfg) == (
        'rank 2: one of ranks [0, 1, 3] stopped answering: a distributed collective waited '
        f'env_cfg.dist_cfg.timeout=4 s for it ({gloo}). It was stopped or hung (its own output '
        'may say why). If one step legitimately takes longer, raise the timeout: --cfg-options '
        'env_cfg.dist_cfg.timeout=SECONDS')
    assert describe_collective_timeout(RuntimeError('DataLoader timed out'), cfg) is None
