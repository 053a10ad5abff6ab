"""NonFiniteLossHook: a NaN loss stops every training the plugin configures, naming the term,
and a benchmark stage that diverged is not taken for a finished one."""
import subprocess
import sys
import types

import pytest
import torch

import mmpose_regda  # noqa: F401  registers the hook
from mmpose_regda.apis import staged_runs
from mmpose_regda.engine.hooks import NonFiniteLossHook
from conftest import REPO_ROOT, tool_env

KL_CONFIG = REPO_ROOT / 'configs/regda/kl-pretrain_res18_1xb3-40e_rhd-samples-128x128.py'


def fake_runner(iteration=4, epoch=0):
    return types.SimpleNamespace(iter=iteration, epoch=epoch)


def test_a_non_finite_term_stops_training_with_its_name_and_iteration():
    hook = NonFiniteLossHook()
    finite = dict(loss=torch.tensor(1.5), loss_kpt=torch.tensor(1.5), acc_pose=torch.tensor(0.))
    hook.after_train_iter(fake_runner(), 4, outputs=finite)  # nothing to say
    nan = dict(loss=torch.tensor(float('nan')), loss_kpt=torch.tensor(float('nan')),
               acc_pose=torch.tensor(float('nan')))  # a metric, not a loss: not judged
    with pytest.raises(FloatingPointError, match=r'iteration 5 .*`loss_kpt` = nan\. Training '
                       r'stopped'):
        hook.after_train_iter(fake_runner(), 4, outputs=nan)
    # finite terms whose sum overflows: the total is named
    with pytest.raises(FloatingPointError, match='`loss` = inf'):
        hook.after_train_iter(fake_runner(), 4, outputs=dict(loss=torch.tensor(float('inf')),
                                                             loss_a=torch.tensor(3e38)))


def test_a_checkpoint_with_non_finite_weights_is_not_saved():
    hook = NonFiniteLossHook()
    weights = {'head.weight': torch.ones(2), 'head.num_batches_tracked': torch.tensor(3)}
    hook.before_save_checkpoint(fake_runner(), dict(meta=dict(iter=2), state_dict=weights))
    weights['backbone.conv1.weight'] = torch.tensor([1., float('nan')])
    with pytest.raises(FloatingPointError, match=r'after iteration 2 \(backbone\.conv1\.weight\)'
                       r'; the checkpoint was not saved'):
        hook.before_save_checkpoint(fake_runner(), dict(meta=dict(iter=2), state_dict=weights))


def test_a_diverged_pretraining_fails_its_benchmark_stage(pose_samples, tmp_path):
    """KL pretraining (MMPose's TopdownPoseEstimator) at an infinite learning rate, through the
    benchmark runner: a non-zero exit naming the term, no checkpoint, the stage not done."""
    logs = []

    def run(cmd):
        proc = subprocess.run([sys.executable, *cmd], cwd=str(REPO_ROOT), env=tool_env(),
                              capture_output=True, text=True, timeout=300)
        logs.append(proc.stdout + proc.stderr)
        proc.check_returncode()

    work_dir = tmp_path / 'kl'
    options = ['train_cfg.max_epochs=3', 'optim_wrapper.optimizer.lr=inf',
               'default_hooks.checkpoint.interval=2',
               f'train_dataloader.dataset.data_root={pose_samples}/']
    with pytest.raises(staged_runs.StageFailed, match='train.py exited with 1.*not marked done'):
        staged_runs.train_stage(str(KL_CONFIG), str(work_dir), options, run=run, name='kl')
    # the KL head stops it itself, whatever runtime the config inherits
    assert 'FloatingPointError: non-finite loss: `loss_kpt` = nan (KLHeatmapHead, SpatialKLLoss)' \
        in logs[0], logs[0][-3000:]
    assert not (work_dir / 'done').exists()
    assert not list(work_dir.glob('*.pth')) and not (work_dir / 'last_checkpoint').exists()
