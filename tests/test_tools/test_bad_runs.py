"""tools/train.py and tools/test.py refuse runs that would spend their work for nothing, before
that work, with one line naming the value and what was expected; and lose nothing when a
checkpoint cannot be saved. In this process (tools' ``main(argv)``): importing the plugin again
in a subprocess would cost more than each run."""
import errno
import os
import re
import signal
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import MODELS
from mmpose_regda.utils import compat
from conftest import KL_CONFIG, REGDA_CONFIG, REPO_ROOT, run_tool_main, tool_env

TRAIN, TEST = REPO_ROOT / 'tools/train.py', REPO_ROOT / 'tools/test.py'


def refused(tool, *args) -> str:
    """The one line a tool exits with."""
    with pytest.raises(SystemExit) as exc:
        run_tool_main(tool, *args)
    assert isinstance(exc.value.code, str), exc.value.code
    return exc.value.code


def checkpoints(work_dir):
    return sorted(p.name for p in work_dir.glob('*.pth')) if work_dir.is_dir() else []


def kl_data(pose_samples, split='train'):
    return f'{split}_dataloader.dataset.data_root={pose_samples}/'


# --- runs that train nothing --------------------------------------------------------------------

@pytest.mark.parametrize('options, message', [
    (['train_cfg.max_epochs=0'],
     'error: train_cfg.max_epochs=0: nothing would be trained; expected train_cfg.max_epochs >= '
     '1'),
    (['train_dataloader.batch_size=8', 'train_dataloader.drop_last=True'],
     'error: train_dataloader.batch_size=8 > 3 samples with drop_last=True: an epoch has no '
     'iteration, nothing would be trained; expected batch_size <= 3, or '
     'train_dataloader.drop_last=False'),
])
def test_a_run_that_trains_nothing_is_refused(pose_samples, tmp_path, options, message):
    work_dir = tmp_path / 'work'
    assert refused(TRAIN, KL_CONFIG, '--work-dir', work_dir, '--cfg-options',
                   kl_data(pose_samples), *options) == message
    assert checkpoints(work_dir) == [] and not (work_dir / 'last_checkpoint').exists()


def test_an_iteration_loop_of_no_iteration_is_refused(pose_samples, tmp_path):
    config = tmp_path / 'iters.py'
    config.write_text(f"_base_ = ['{KL_CONFIG}']\n"
                      "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=0)\n"
                      "param_scheduler = []\n")
    work_dir = tmp_path / 'work'
    assert refused(TRAIN, config, '--work-dir', work_dir, '--cfg-options',
                   kl_data(pose_samples)) == (
        'error: train_cfg.max_iters=0: nothing would be trained; expected train_cfg.max_iters '
        '>= 1')
    assert checkpoints(work_dir) == []


# --- two trainings in one work dir ------------------------------------------------------------

HOLD_LOCK = ('import sys, time; from mmpose_regda.apis import lock_work_dir; '
             'lock_work_dir(sys.argv[1]); print("locked", flush=True); time.sleep(120)')


def test_a_second_training_in_a_busy_work_dir_is_refused(pose_samples, tmp_path):
    work_dir = tmp_path / 'work'
    first = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, str(work_dir)], env=tool_env(),
                             stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == 'locked'
        message = refused(TRAIN, KL_CONFIG, '--work-dir', work_dir, '--cfg-options',
                          kl_data(pose_samples))
        assert message.startswith(f'error: work dir {work_dir} is in use by another training '
                                  f'(pid {first.pid} on ')
        # its start time and command (python -c's arguments)
        assert re.search(r', started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d: python[\d.]* -c '
                         + re.escape(f'{work_dir}); its checkpoints and logs would be '
                                     'overwritten and interleaved. Wait for it to end, or give '
                                     'this run another --work-dir') + '$', message), message
        assert checkpoints(work_dir) == [] and not list(work_dir.glob('2*'))  # no log folder
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # the lock of a killed run does not block the next one
    from mmpose_regda.apis import lock_work_dir
    assert lock_work_dir(str(work_dir)) == str(work_dir / '.train.lock')
    assert f'pid {os.getpid()} on ' in (work_dir / '.train.lock').read_text()


# --- f' scored from a checkpoint without f' -----------------------------------------------------

@pytest.fixture(scope='module')
def source_only_checkpoint(tmp_path_factory):
    """A KL pretraining checkpoint: psi and f, no f' (adv_head)."""
    init_default_scope('mmpose')
    model = MODELS.build(Config.fromfile(str(KL_CONFIG)).model)
    path = tmp_path_factory.mktemp('kl') / 'epoch_40.pth'
    torch.save(dict(meta=dict(epoch=40, iter=40), state_dict=model.state_dict()), path)
    return path


def test_scoring_f_prime_of_a_checkpoint_without_it_is_refused(source_only_checkpoint,
                                                              pose_samples, tmp_path):
    config = tmp_path / 'regda_f_prime.py'
    config.write_text(
        f"_base_ = ['{REGDA_CONFIG}']\n"
        "model = dict(test_cfg=dict(adv_head_predictions=True))\n"
        "test_evaluator = [dict(type='PartPCKAccuracy', alpha=0.05),\n"
        "                  dict(type='PartPCKAccuracy', alpha=0.05,\n"
        "                       pred_field='adv_pred_instances', prefix='adv')]\n")
    out = tmp_path / 'metrics.json'
    assert refused(TEST, config, source_only_checkpoint, '--work-dir', tmp_path / 'work',
                   '--out', out, '--cfg-options', kl_data(pose_samples, 'test')) == (
        f'error: {source_only_checkpoint} has no `adv_head` (no adv_head.* weights: a '
        "source-only checkpoint), but the evaluator PartPCKAccuracy(pred_field="
        "'adv_pred_instances') scores `adv_head`'s predictions, which would come from its "
        "random initialisation. Evaluate a checkpoint of the adaptation run, or drop "
        "pred_field='adv_pred_instances' from test_evaluator (nothing was evaluated)")
    assert not out.exists()


# --- --out that cannot be written ---------------------------------------------------------------

def test_out_into_a_folder_that_cannot_be_written_is_refused_before_evaluating(
        source_only_checkpoint, pose_samples, tmp_path):
    (tmp_path / 'notes.txt').write_text('a file, not a folder')
    out = tmp_path / 'notes.txt' / 'metrics.json'
    message = refused(TEST, KL_CONFIG, source_only_checkpoint, '--work-dir', tmp_path / 'work',
                      '--out', out, '--cfg-options', kl_data(pose_samples, 'test'))
    assert message == (f'error: --out {out}: cannot write to {out.parent} (File exists); '
                       'expected a folder this user can write to (nothing was evaluated)')
    assert not (tmp_path / 'work').exists()  # refused before the Runner was built
    if os.geteuid() == 0:
        return  # root writes into read-only folders
    read_only = tmp_path / 'read_only'
    read_only.mkdir(mode=0o555)
    out = read_only / 'metrics.json'
    message = refused(TEST, KL_CONFIG, source_only_checkpoint, '--out', out, '--cfg-options',
                      kl_data(pose_samples, 'test'))
    assert message == (f'error: --out {out}: cannot write to {read_only} (Permission denied); '
                       'expected a folder this user can write to (nothing was evaluated)')


# --- a code-executing checkpoint --------------------------------------------------------------

class RunsCode:
    """Unpickled without restrictions, this runs a shell command (``posix.system``)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_a_code_executing_init_cfg_checkpoint_is_refused_and_never_run(pose_samples, tmp_path):
    marker = tmp_path / 'it_ran'
    evil = tmp_path / 'resnet18.pth'
    torch.save({'state_dict': {'conv1.weight': torch.ones(1)}, 'x': RunsCode(marker)}, evil)
    message = refused(TRAIN, KL_CONFIG, '--work-dir', tmp_path / 'work', '--no-validate',
                      '--cfg-options', kl_data(pose_samples),
                      'model.backbone.init_cfg.type=Pretrained',
                      f'model.backbone.init_cfg.checkpoint={evil}')
    assert message.startswith(
        f'error: checkpoint {evil} is refused by weights-only loading (Trying to load unsupported '
        'GLOBAL posix.system whose module posix is blocked); it holds objects that mmengine '
        'does not save: the file may be malicious (made to run code when it is loaded), not '
        'damaged. Nothing of it was executed'), message
    assert not marker.exists()
    assert checkpoints(tmp_path / 'work') == []


def test_a_code_executing_checkpoint_to_resume_load_or_test_is_refused(pose_samples, tmp_path):
    marker = tmp_path / 'it_ran'
    evil = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {}, 'meta': RunsCode(marker)}, evil)
    for flag in (['--resume', evil], ['--cfg-options', f'load_from={evil}']):
        message = refused(TRAIN, KL_CONFIG, '--work-dir', tmp_path / 'work', *flag)
        field = '--resume' if flag[0] == '--resume' else 'load_from'
        assert message.startswith(f'error: {field}: checkpoint {evil} is refused by '
                                  'weights-only loading (Trying to load unsupported GLOBAL '
                                  'posix.system'), message
        assert 'the file may be malicious' in message and 'damaged or truncated' not in message
    message = refused(TEST, KL_CONFIG, evil, '--work-dir', tmp_path / 'work')
    assert message.startswith(f'error: checkpoint {evil} is refused by weights-only loading '
                              '(Trying to load unsupported GLOBAL posix.system'), message
    assert message.endswith('load only checkpoints you trust (nothing was evaluated)')
    assert not marker.exists()


# --- a checkpoint that cannot be saved ----------------------------------------------------------

def test_a_full_disk_loses_no_checkpoint(pose_samples, tmp_path, monkeypatch):
    """The second epoch's save fails half-way with ENOSPC: epoch_1.pth and last_checkpoint stay
    as they were, no partial file is left, and the error names the file and the cause."""
    writes = []
    real_write = compat._write_file

    def fill_the_disk(path, data):
        writes.append(path)
        if len(writes) < 2:
            return real_write(path, data)
        with open(path, 'wb') as f:
            f.write(bytes(data[:len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(compat, '_write_file', fill_the_disk)
    work_dir = tmp_path / 'work'
    message = refused(TRAIN, KL_CONFIG, '--work-dir', work_dir, '--no-validate', '--cfg-options',
                      kl_data(pose_samples), 'train_cfg.max_epochs=2',
                      'default_hooks.checkpoint.interval=1')
    assert message == (
        f'error: checkpoint {work_dir}/epoch_2.pth could not be saved: No space left on device '
        '(the disk is full: free space, or give another --work-dir, then resume from the last '
        'checkpoint); no partial file was left, last_checkpoint still names the previous '
        'checkpoint')
    assert sorted(os.listdir(work_dir)) == sorted(
        ['.train.lock', 'epoch_1.pth', 'last_checkpoint', 'kl-pretrain_res18_1xb3-40e_rhd-'
         'samples-128x128.py', *[p.name for p in work_dir.glob('2*')]])
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir / 'epoch_1.pth')
    assert torch.load(work_dir / 'epoch_1.pth', map_location='cpu')['meta']['epoch'] == 1
    # resuming it with nothing left to train is refused too
    assert refused(TRAIN, KL_CONFIG, '--work-dir', work_dir, '--resume', '--no-validate',
                   '--cfg-options', kl_data(pose_samples), 'train_cfg.max_epochs=1') == (
        f'error: --resume: {work_dir}/epoch_1.pth was saved at epoch 1, and '
        'train_cfg.max_epochs=1: nothing is left to train; expected train_cfg.max_epochs > 1 '
        '(e.g. --cfg-options train_cfg.max_epochs=2)')
