"""The command-line tools on a stock MMPose top-down heatmap config, with the real RHD samples:
train with validation and checkpoints, resume, test, and 2-process distributed training on gloo."""
import json
import re
import socket

import pytest
import torch

import mmpose_regda  # noqa: F401  checkpoints load under torch >= 2.6 (utils.compat)

from conftest import REPO_ROOT, run_tool

CONFIG = REPO_ROOT / 'configs/source_only/td-hm_res18_1xb3-40e_rhd-samples-128x128.py'
TRAIN = REPO_ROOT / 'tools/train.py'
TEST = REPO_ROOT / 'tools/test.py'


def data_options(pose_samples):
    root = f'{pose_samples}/'
    return [f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val', 'test')]


def last_val_scalars(work_dir):
    """The last validation record written by the training run's visualizer."""
    records = []
    # one folder per run, named by its start time: sorted names are chronological
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        with open(scalars) as f:
            records += [json.loads(line) for line in f if '"PCK"' in line]
    assert records, f'no validation record in {work_dir}'
    return records[-1]


def test_train_validate_checkpoint_resume_test(pose_samples, tmp_path):
    work_dir = tmp_path / 'work'
    options = data_options(pose_samples) + [
        'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1', 'randomness.seed=0']
    # from another working directory than the repository: paths must not depend on it
    cwd = tmp_path

    run_tool([TRAIN, CONFIG, '--work-dir', work_dir, '--cfg-options',
              'train_cfg.max_epochs=2', *options], cwd)
    assert (work_dir / 'epoch_1.pth').is_file() and (work_dir / 'epoch_2.pth').is_file()
    first_run_val = last_val_scalars(work_dir)
    assert first_run_val['step'] == 2

    # resume from epoch 1 and train to epoch 3: the loop restarts at epoch 1 / iteration 1
    resumed = run_tool([TRAIN, CONFIG, '--work-dir', work_dir, '--resume',
                        work_dir / 'epoch_1.pth', '--cfg-options', 'train_cfg.max_epochs=3',
                        *options], cwd)
    log = resumed.stdout + resumed.stderr
    assert re.search(r'resumed epoch: 1, iter: 1\b', log), log[-3000:]
    assert (work_dir / 'epoch_3.pth').is_file()
    checkpoint = torch.load(work_dir / 'epoch_3.pth', map_location='cpu')
    assert checkpoint['meta']['epoch'] == 3 and checkpoint['meta']['iter'] == 3
    final_val = last_val_scalars(work_dir)
    assert final_val['step'] == 3

    # tools/test.py evaluates that same final checkpoint: same data, same metrics
    metrics_file = tmp_path / 'metrics.json'
    run_tool([TEST, CONFIG, work_dir / 'epoch_3.pth', '--work-dir', work_dir, '--out',
              metrics_file, '--cfg-options', *data_options(pose_samples)], cwd)
    metrics = json.loads(metrics_file.read_text())
    assert set(metrics) == {'PCK', 'AUC', 'EPE'}
    assert 0.0 <= metrics['PCK'] <= 1.0 and metrics['EPE'] > 0
    for key in metrics:
        assert metrics[key] == pytest.approx(final_val[key], rel=1e-5), key


def test_auto_resume_finds_latest_checkpoint(pose_samples, tmp_path):
    work_dir = tmp_path / 'work'
    options = data_options(pose_samples) + ['train_cfg.val_interval=10',
                                            'default_hooks.checkpoint.interval=1']
    run_tool([TRAIN, CONFIG, '--work-dir', work_dir, '--no-validate', '--cfg-options',
              'train_cfg.max_epochs=1', *options], tmp_path)
    resumed = run_tool([TRAIN, CONFIG, '--work-dir', work_dir, '--resume', '--no-validate',
                        '--cfg-options', 'train_cfg.max_epochs=2', *options], tmp_path)
    assert 'resumed epoch: 1, iter: 1' in resumed.stdout + resumed.stderr
    assert (work_dir / 'epoch_2.pth').is_file()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_torchrun_two_ranks_on_gloo_stay_in_sync(pose_samples, tmp_path):
    work_dir = tmp_path / 'work'
    config = tmp_path / 'dump_params.py'
    config.write_text(
        f"_base_ = ['{CONFIG}']\n"
        "custom_imports = dict(imports=['mmpose_regda', 'rank_dump_hook'])\n"
        "custom_hooks = [dict(type='SyncBuffersHook'), dict(type='DumpRankParamsHook')]\n")
    run_tool(['-m', 'torch.distributed.run', '--nproc_per_node=2',
              f'--master_port={free_port()}', TRAIN, config, '--launcher', 'pytorch',
              '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_epochs=3',
              'train_cfg.val_interval=3', 'train_dataloader.batch_size=2',
              *data_options(pose_samples)], tmp_path, CUDA_VISIBLE_DEVICES='')
    start = [torch.load(work_dir / f'params_start_rank{r}.pth') for r in (0, 1)]
    end = [torch.load(work_dir / f'params_end_rank{r}.pth') for r in (0, 1)]
    assert start[0].keys() == end[1].keys()
    changed = 0
    for name in end[0]:
        # every parameter and buffer identical on both ranks: gradients were all-reduced
        assert torch.equal(end[0][name], end[1][name]), f'{name} differs between ranks'
        if end[0][name].is_floating_point():
            changed += not torch.equal(start[0][name], end[0][name])
    assert changed > len(end[0]) // 2, 'training did not change the parameters'
    assert (work_dir / 'epoch_3.pth').is_file()
