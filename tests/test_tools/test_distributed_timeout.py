"""A distributed training whose rank stops answering fails within env_cfg.dist_cfg.timeout,
saying which rank and which option sets the timeout, instead of waiting gloo's 30 minutes."""
import os
import signal
import subprocess
import sys
import time

from conftest import KL_CONFIG, REPO_ROOT, tool_env
from test_train_test import free_port

TRAIN = REPO_ROOT / 'tools/train.py'
TIMEOUT = 4  # seconds: env_cfg.dist_cfg.timeout of the run

STOP_HOOK = '''import os
import signal

from mmengine.hooks import Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class StopRankHook(Hook):
    """Rank 1 stops itself (SIGSTOP) before its first iteration, as a stalled process would."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.rank == 1:
            with open(os.environ['STOPPED_PID_FILE'], 'w') as f:
                f.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGSTOP)
'''


def test_a_stopped_rank_fails_the_run_within_the_timeout(pose_samples, tmp_path):
    (tmp_path / 'stop_rank_hook.py').write_text(STOP_HOOK)
    config = tmp_path / 'stalled.py'
    config.write_text(f"_base_ = ['{KL_CONFIG}']\n"
                      "custom_imports = dict(imports=['mmpose_regda', 'stop_rank_hook'])\n"
                      "custom_hooks = [dict(type='StopRankHook')]\n")
    pid_file, log = tmp_path / 'stopped.pid', tmp_path / 'torchrun.log'
    env = tool_env(CUDA_VISIBLE_DEVICES='', STOPPED_PID_FILE=str(pid_file))
    env['PYTHONPATH'] = os.pathsep.join([str(tmp_path), env['PYTHONPATH']])
    with open(log, 'w') as out:
        proc = subprocess.Popen(
            [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
             f'--master_port={free_port()}', str(TRAIN), str(config), '--launcher', 'pytorch',
             '--work-dir', str(tmp_path / 'work'), '--no-validate', '--cfg-options',
             f'env_cfg.dist_cfg.timeout={TIMEOUT}', 'train_cfg.max_epochs=1',
             'train_dataloader.batch_size=1',
             f'train_dataloader.dataset.data_root={pose_samples}/'],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    stopped = None
    try:
        deadline = time.monotonic() + 120  # start-up of two ranks on a busy machine
        while not pid_file.exists() or not pid_file.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        stopped, since = int(pid_file.read_text()), time.monotonic()
        # rank 0 fails within the timeout and a margin for its exit
        while 'error:' not in log.read_text():
            assert time.monotonic() - since < TIMEOUT + 20, log.read_text()[-3000:]
            time.sleep(0.2)
        waited = time.monotonic() - since
    finally:
        if stopped is not None:
            os.kill(stopped, signal.SIGKILL)  # torchrun's SIGTERM waits for a SIGCONT
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert proc.returncode != 0
    assert waited >= TIMEOUT - 1, text[-3000:]
    assert ('error: rank 0: rank 1 stopped answering: a distributed collective waited '
            f'env_cfg.dist_cfg.timeout={TIMEOUT} s for it') in text, text[-3000:]
    assert '--cfg-options env_cfg.dist_cfg.timeout=SECONDS' in text
