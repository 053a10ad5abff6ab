"""RegDA through the command-line tools: configs, loading the source-only checkpoint, exact resume
of all three optimizers, schedulers and the hook, and 2-process gloo training in sync."""
import json
import math
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS, MODELS
from conftest import KL_CONFIG, REGDA_CONFIG, REPO_ROOT, run_tool
from test_train_test import free_port

TRAIN = REPO_ROOT / 'tools/train.py'


def data_root_options(pose_samples, regda=False):
    root = f'{pose_samples}/'
    if regda:
        return [f'train_dataloader.dataset.source.data_root={root}',
                f'train_dataloader.dataset.target.data_root={root}',
                f'val_dataloader.dataset.data_root={root}',
                f'test_dataloader.dataset.data_root={root}']
    return [f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val', 'test')]


def test_configs_build_and_share_checkpoint_keys(pose_samples):
    init_default_scope('mmpose')
    kl_cfg, regda_cfg = Config.fromfile(KL_CONFIG), Config.fromfile(REGDA_CONFIG)
    kl_model, regda_model = MODELS.build(kl_cfg.model), MODELS.build(regda_cfg.model)
    regda_keys = set(regda_model.state_dict())
    adv_keys = {k for k in regda_keys if k.startswith('adv_head.')}
    assert adv_keys and set(kl_model.state_dict()) == regda_keys - adv_keys
    assert {k.replace('adv_head.', 'head.', 1) for k in adv_keys} <= regda_keys
    regda_cfg.merge_from_dict(dict(o.split('=', 1) for o in data_root_options(pose_samples,
                                                                              True)))
    dataset = DATASETS.build(regda_cfg.train_dataloader.dataset)
    item = dataset[0]
    assert set(item) == {'source', 'target'} and len(dataset) == 8  # the 8 FreiHand samples
    assert item['source']['inputs'].shape == item['target']['inputs'].shape == (3, 128, 128)


def test_regda_loads_the_source_only_checkpoint(pose_samples, tmp_path):
    run_tool([TRAIN, KL_CONFIG, '--work-dir', tmp_path / 'kl', '--no-validate', '--cfg-options',
              'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1',
              *data_root_options(pose_samples)], tmp_path)
    checkpoint = tmp_path / 'kl' / 'epoch_1.pth'
    # a synthetic-to-real smoke run: rendered RHD samples -> real FreiHand samples (boxes only),
    # evaluated on the FreiHand samples with the paper's PCK by part
    proc = run_tool([TRAIN, REGDA_CONFIG, '--work-dir', tmp_path / 'regda', '--cfg-options',
                     f'load_from={checkpoint}', 'train_cfg.max_epochs=1',
                     'train_cfg.val_interval=1', 'train_dataloader.batch_size=4',
                     *data_root_options(pose_samples, True)], tmp_path)
    log = proc.stdout + proc.stderr
    assert f'Load checkpoint from {checkpoint}' in log
    missing = re.search(r'missing keys in source state_dict: (.*)', log).group(1).split(', ')
    assert missing and all(key.startswith('adv_head.') for key in missing)
    assert 'unexpected key' not in log
    scalars = next((tmp_path / 'regda').glob('*/vis_data/scalars.json')).read_text()
    val = json.loads([line for line in scalars.splitlines() if 'PCK/Avg' in line][-1])
    assert set(val) >= {'PCK/MCP', 'PCK/PIP', 'PCK/DIP', 'PCK/Fingertip', 'PCK/Avg'}
    assert all(0 <= val[k] <= 1 for k in val if k.startswith('PCK/'))
    train = [json.loads(line) for line in scalars.splitlines() if 'loss_ground_false' in line]
    assert train and all(math.isfinite(train[-1][k]) for k in (
        'loss_source', 'loss_source_disparity', 'loss_ground_false', 'loss_ground_truth'))
    # psi started from the pretrained weights: two SGD steps at lr 0.01 move them only a little
    pretrained = torch.load(checkpoint, map_location='cpu')['state_dict']
    adapted = torch.load(tmp_path / 'regda' / 'epoch_1.pth', map_location='cpu')
    assert set(adapted['optimizer']) == {'generator', 'head', 'adv_head'}
    weight = 'backbone.conv1.weight'
    delta = (adapted['state_dict'][weight] - pretrained[weight]).norm()
    assert 0 < delta < 0.1 * pretrained[weight].norm()


def write_deterministic_regda_config(tmp_path):
    """The RegDA config without random augmentation, a 1-iteration warm-up and a fast warm start,
    so that two runs can be compared bit for bit."""
    config = tmp_path / 'regda_deterministic.py'
    config.write_text(f"""
_base_ = ['{REGDA_CONFIG}']
_pipeline = [
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=(128, 128)),
    dict(type='GenerateTarget', encoder=_base_.codec), dict(type='PackPoseInputs')]
train_dataloader = dict(batch_size=4, dataset=dict(
    source=dict(pipeline=_pipeline), target=dict(pipeline=_pipeline)))
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='AdaptationScheduleHook', warmup_iters=1, grad_scale=dict(hi=0.5, max_iters=2)),
]
optim_wrapper = dict(generator=dict(optimizer=dict(lr=0.05)), head=dict(optimizer=dict(lr=0.2)),
                     adv_head=dict(optimizer=dict(lr=0.2)))
param_scheduler = [dict(type='InverseDecayLR', gamma=0.5, power=0.75, end=10**9, by_epoch=False)]
load_from = None
randomness = dict(seed=7)
default_hooks = dict(checkpoint=dict(interval=1))
""")
    return config


#: The comparison methods on the same deterministic run (model and optimizer parts changed).
METHOD_OVERRIDES = dict(
    regda='',
    mcd="""
model = dict(_delete_=True, **{k: v for k, v in _base_.model.items()
                               if k not in ('type', 'ground_false', 'source_disparity_weight')},
             type='MCDPoseEstimator')
# MCD sends psi its full gradient: the warm-up only, no warm start of a gradient scale
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='AdaptationScheduleHook', warmup_iters=1, grad_scale=None)]
""",
    dann="""
model = dict(_delete_=True, **{k: v for k, v in _base_.model.items()
                               if k not in ('type', 'ground_false', 'source_disparity_weight')},
             type='FeatureAlignmentPoseEstimator',
             alignment=dict(type='DomainAdversarialLoss', in_channels=128, hidden_channels=32))
optim_wrapper = dict(adv_head=None,
                     alignment=dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9)))
""")
METHOD_OVERRIDES['mean-teacher'] = """
model = dict(_delete_=True, **{k: v for k, v in _base_.model.items()
                               if k not in ('type', 'ground_false', 'source_disparity_weight')},
             type='MeanTeacherPoseEstimator',
             mean_teacher=dict(momentum=0.1, mask_quantile=0.25, occlusion_confidence=0.))
optim_wrapper = dict(adv_head=None)
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='AdaptationScheduleHook', warmup_iters=1, grad_scale=None)]
# the views without random affines or colours (a resumed run redraws the data's randomness);
# the occlusion draws from the run's seed and the teacher's step, so it stays on
train_dataloader = dict(dataset=dict(target=dict(pipeline=[
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
    dict(type='MeanTeacherViews', input_size=(128, 128), teacher=dict(), student=dict(),
         photometric=[]),
    dict(type='PackMeanTeacherInputs')])))
"""
PARTS = dict(regda=('generator', 'head', 'adv_head'), mcd=('generator', 'head', 'adv_head'),
             dann=('generator', 'head', 'alignment'), **{'mean-teacher': ('generator', 'head')})


def write_method_config(tmp_path, method):
    config = tmp_path / f'{method}_run.py'
    config.write_text(f"_base_ = ['{write_deterministic_regda_config(tmp_path)}']\n"
                      + METHOD_OVERRIDES[method])
    return config


def train_split_and_straight(pose_samples, tmp_path, config, *extra):
    """Train 2 epochs straight, and 1 epoch + resume + 1 epoch; the two final checkpoints."""
    options = ['--no-validate', *extra, '--cfg-options', *data_root_options(pose_samples, True)]
    run_tool([TRAIN, config, '--work-dir', tmp_path / 'straight', *options,
              'train_cfg.max_epochs=2'], tmp_path)
    run_tool([TRAIN, config, '--work-dir', tmp_path / 'split', *options,
              'train_cfg.max_epochs=1'], tmp_path)
    resumed = run_tool([TRAIN, config, '--work-dir', tmp_path / 'split', '--resume', *options,
                        'train_cfg.max_epochs=2'], tmp_path)
    assert 'resumed epoch: 1, iter: 2' in resumed.stdout + resumed.stderr
    return (torch.load(tmp_path / 'straight' / 'epoch_2.pth', map_location='cpu'),
            torch.load(tmp_path / 'split' / 'epoch_2.pth', map_location='cpu'))


def assert_same_run(straight, split, parts):
    for name, value in straight['state_dict'].items():
        assert torch.equal(value, split['state_dict'][name]), name
    for part in parts:
        a, b = straight['optimizer'][part], split['optimizer'][part]
        assert a['param_groups'][0]['lr'] == b['param_groups'][0]['lr']
        assert a['state'], part
        for key, state in a['state'].items():
            assert torch.equal(state['momentum_buffer'], b['state'][key]['momentum_buffer'])


@pytest.mark.parametrize('method', ['regda', 'mcd', 'dann', 'mean-teacher'])
def test_resume_continues_exactly(pose_samples, tmp_path, method):
    """2N iterations == N, resume, N more: every part's optimizer, the schedulers and the hook's
    schedule."""
    straight, split = train_split_and_straight(pose_samples, tmp_path,
                                               write_method_config(tmp_path, method))
    assert_same_run(straight, split, PARTS[method])
    if method == 'mean-teacher':  # the teacher too, and it followed the student
        # the copy of the student at the first iteration, then one EMA step per iteration
        assert int(straight['state_dict']['teacher.steps']) == 1 + 4
        weight = 'teacher.module.head.final_layer.weight'
        assert not torch.equal(straight['state_dict'][weight],
                               straight['state_dict']['head.final_layer.weight'])
    if method != 'regda':
        return
    # the lr really decayed per iteration: 4 steps of (1 + 0.5 i)^-0.75 from 0.05
    assert straight['optimizer']['generator']['param_groups'][0]['lr'] == pytest.approx(
        0.05 * (1 + 0.5 * 4)**-0.75)
    # the hook's warm start continued from the resumed iteration, not from zero
    scalars = sorted((tmp_path / 'split').glob('*/vis_data/scalars.json'))
    last = json.loads(scalars[-1].read_text().splitlines()[-1])
    assert last['adaptation_grad_scale'] == pytest.approx(1. / (1. + math.exp(-2 / 2)) - 0.5)


#: A narrow ResNet-18 and head: float16 convolutions are slow on CPU. float16 on a CPU is
#: refused unless asked for; here it is, to test the loss scales without a GPU.
NARROW_MODEL = """
model = dict(backbone=dict(stem_channels=16, base_channels=8), neck=dict(in_channels=64,
             out_channels=(16, 16, 16)), head=dict(in_channels=16, conv_out_channels=(16, )))
optim_wrapper = dict(allow_cpu_float16=True)
"""


def test_amp_resume_keeps_every_objective_s_loss_scale(pose_samples, tmp_path):
    """--amp (float16, a loss scale per objective; on CPU here): the scales and their growth
    counts are in the checkpoint and continue on resume as if never interrupted."""
    config = tmp_path / 'regda_narrow.py'
    config.write_text(f"_base_ = ['{write_deterministic_regda_config(tmp_path)}']\n"
                      + NARROW_MODEL)
    straight, split = train_split_and_straight(pose_samples, tmp_path, config, '--amp')
    assert_same_run(straight, split, PARTS['regda'])
    scalers = straight['optimizer']['loss_scalers']
    assert sorted(scalers) == ['objective_1', 'objective_2', 'objective_3']
    assert scalers == split['optimizer']['loss_scalers']
    # 4 iterations, adaptation from the second: the growth count restarts at each overflow
    assert all(0 <= s['_growth_tracker'] <= 4 for s in scalers.values())
    assert max(s['_growth_tracker'] for s in scalers.values()) > 0


@pytest.mark.parametrize('method', ['regda', 'mcd', 'dann', 'mean-teacher'])
def test_torchrun_two_ranks_stay_in_sync(pose_samples, tmp_path, method):
    config = tmp_path / f'{method}_dump.py'
    config.write_text(
        f"_base_ = ['{write_method_config(tmp_path, method)}']\n"
        "custom_imports = dict(imports=['mmpose_regda', 'rank_dump_hook'])\n"
        "custom_hooks = [dict(type='SyncBuffersHook'), dict(type='AdaptationScheduleHook', "
        f"warmup_iters=0, grad_scale={None if method in ('mcd', 'mean-teacher') else 1.0}), "
        "dict(type='DumpRankParamsHook')]\n")
    work_dir = tmp_path / 'work'
    run_tool(['-m', 'torch.distributed.run', '--nproc_per_node=2',
              f'--master_port={free_port()}', TRAIN, config, '--launcher', 'pytorch',
              '--work-dir', work_dir, '--no-validate', '--cfg-options',
              'train_cfg.max_epochs=1', 'train_dataloader.batch_size=2',
              *data_root_options(pose_samples, True)], tmp_path, CUDA_VISIBLE_DEVICES='')
    start = torch.load(work_dir / 'params_start_rank0.pth')
    end = [torch.load(work_dir / f'params_end_rank{r}.pth') for r in (0, 1)]
    changed = set()
    for name in end[0]:
        assert torch.equal(end[0][name], end[1][name]), f'{name} differs between ranks'
        if not torch.equal(start[name], end[0][name]):
            changed.add(name.split('.')[0])
    # every part trained: psi (backbone, neck), f and the method's second part
    second = dict(dann='alignment', **{'mean-teacher': 'teacher'}).get(method, 'adv_head')
    assert {'backbone', 'neck', 'head', second} <= changed
    checkpoint = torch.load(work_dir / 'epoch_1.pth', map_location='cpu')
    assert set(checkpoint['state_dict']) == set(end[0])  # no `.module.` of the part wrappers
