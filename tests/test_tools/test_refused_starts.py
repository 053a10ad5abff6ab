"""tools/train.py and tools/test.py with a checkpoint that cannot start the run: refused before
anything is trained or evaluated, naming the file and what was expected; and --resume with
nothing to resume starts from the config's load_from."""
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import MODELS
from conftest import KL_CONFIG, REGDA_CONFIG, REPO_ROOT, run_tool, tool_env

TRAIN, TEST = REPO_ROOT / 'tools/train.py', REPO_ROOT / 'tools/test.py'


@pytest.fixture(scope='module')
def kl_checkpoint(tmp_path_factory):
    """What a KL pretraining run saves (one optimizer), for the 21 hand keypoints."""
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(KL_CONFIG)).model)
    path = tmp_path_factory.mktemp('kl') / 'epoch_40.pth'
    torch.save(dict(meta=dict(epoch=40, iter=40), message_hub=dict(),
                    optimizer=dict(state={}, param_groups=[dict(lr=1e-3, params=[])]),
                    state_dict=model.state_dict()), path)
    return path


def run_failing(args, cwd):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=str(cwd), env=tool_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0, proc.stdout[-2000:]
    return proc.stderr


def test_test_py_refuses_a_checkpoint_of_another_keypoint_count(kl_checkpoint, pose_samples,
                                                                 tmp_path):
    out = tmp_path / 'metrics.json'
    stderr = run_failing([TEST, KL_CONFIG, kl_checkpoint, '--work-dir', tmp_path, '--out', out,
                          '--cfg-options', 'model.head.out_channels=17',
                          f'test_dataloader.dataset.data_root={pose_samples}/'], tmp_path)
    assert (f'error: {kl_checkpoint} does not fit the model: 2 weights differ in shape '
            '(head.final_layer.weight: checkpoint (21, 128, 1, 1), model (17, 128, 1, 1)') \
        in stderr, stderr[-3000:]
    assert '(nothing was evaluated)' in stderr and not out.exists()


def test_resume_from_another_methods_checkpoint_is_refused(kl_checkpoint, tmp_path):
    stderr = run_failing([TRAIN, REGDA_CONFIG, '--work-dir', tmp_path / 'regda', '--resume',
                          kl_checkpoint], tmp_path)
    assert (f'error: --resume: {kl_checkpoint} holds the optimizer state of a single optimizer'
            in stderr), stderr[-3000:]
    assert 'trains with one optimizer per part (adv_head, generator, head)' in stderr
    assert not list((tmp_path / 'regda').glob('*.pth'))


def test_resume_with_nothing_to_resume_starts_from_load_from(kl_checkpoint, pose_samples,
                                                             tmp_path):
    work_dir = tmp_path / 'fresh'
    proc = run_tool([TRAIN, KL_CONFIG, '--work-dir', work_dir, '--resume', '--no-validate',
                     '--cfg-options', f'load_from={kl_checkpoint}', 'train_cfg.max_epochs=1',
                     'default_hooks.checkpoint.interval=1',
                     f'train_dataloader.dataset.data_root={pose_samples}/'], tmp_path)
    log = proc.stdout + proc.stderr
    assert (f'--resume: nothing to resume in {work_dir} (no last_checkpoint); starting from '
            f'load_from={kl_checkpoint}') in log
    assert f'Load checkpoint from {kl_checkpoint}' in log
    # trained on from the loaded weights: one Adam step at lr 1e-3 moves each by about 1e-3
    start = torch.load(kl_checkpoint)['state_dict']['backbone.conv1.weight']
    end = torch.load(work_dir / 'epoch_1.pth')['state_dict']['backbone.conv1.weight']
    assert 0 < (end - start).abs().max() < 0.01
