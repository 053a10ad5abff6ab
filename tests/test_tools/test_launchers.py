"""The cluster launchers as far as one machine allows: the srun commands that tools/slurm_*.sh
build (srun replaced by a recorder), and tools/dist_test.sh run as two torchrun "nodes" that meet
through the master's address and port."""
import json
import os
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS, MODELS
from conftest import REPO_ROOT, tool_env
from test_train_test import CONFIG, data_options, free_port

TOOLS = REPO_ROOT / 'tools'


@pytest.fixture
def fake_srun(tmp_path):
    """An ``srun`` first on the PATH that records its arguments and PYTHONPATH."""
    bin_dir, log = tmp_path / 'bin', tmp_path / 'srun.json'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(f'#!{sys.executable}\nimport json, os, sys\n'
                    f'json.dump(dict(argv=sys.argv[1:], pythonpath=os.environ["PYTHONPATH"]), '
                    f'open({str(log)!r}, "w"))\n')
    srun.chmod(0o755)

    def run(script, *args, **env):
        environ = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', **env)
        for name in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS'):
            if name not in env:
                environ.pop(name, None)
        proc = subprocess.run(['bash', str(TOOLS / script), *map(str, args)], env=environ,
                              capture_output=True, text=True, cwd=tmp_path)
        recorded = json.loads(log.read_text()) if log.exists() else None
        if log.exists():
            log.unlink()
        return proc, recorded

    return run


def test_slurm_train_builds_mmposes_srun_command(fake_srun):
    proc, srun = fake_srun('slurm_train.sh', 'gpu', 'regda-h3d', 'configs/x.py', 'work_dirs/x',
                           '--cfg-options', 'train_cfg.max_epochs=2', 'a=b c')
    assert proc.returncode == 0, proc.stderr
    assert srun['argv'] == [
        '-p', 'gpu', '--job-name=regda-h3d', '--gres=gpu:8', '--ntasks=8',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        'python', '-u', f'{TOOLS}/train.py', 'configs/x.py', '--work-dir=work_dirs/x',
        '--launcher=slurm', '--cfg-options', 'train_cfg.max_epochs=2', 'a=b c']
    assert srun['pythonpath'].split(os.pathsep)[0] == f'{TOOLS}/..'
    assert 'srun -p gpu' in proc.stderr  # the command is echoed, as MMPose's script does


def test_slurm_scripts_options_and_usage(fake_srun):
    # two nodes of 8 GPUs, extra srun options split into words
    _, srun = fake_srun('slurm_train.sh', 'gpu', 'job', 'c.py', 'w', GPUS='16',
                        SRUN_ARGS='--quotatype=auto --time=2:00:00')
    assert srun['argv'][4:10] == ['--ntasks=16', '--ntasks-per-node=8', '--cpus-per-task=5',
                                 '--kill-on-bad-exit=1', '--quotatype=auto', '--time=2:00:00']
    # fewer GPUs than a node has: one node with that many tasks
    _, srun = fake_srun('slurm_test.sh', 'gpu', 'job', 'c.py', 'ckpt.pth', '--out', 'm.json',
                        GPUS='2', CPUS_PER_TASK='3')
    assert srun['argv'] == [
        '-p', 'gpu', '--job-name=job', '--gres=gpu:2', '--ntasks=2', '--ntasks-per-node=2',
        '--cpus-per-task=3', '--kill-on-bad-exit=1', 'python', '-u', f'{TOOLS}/test.py',
        'c.py', 'ckpt.pth', '--launcher=slurm', '--out', 'm.json']
    for script in ('slurm_train.sh', 'slurm_test.sh'):
        proc, srun = fake_srun(script, 'gpu', 'job', 'c.py')
        assert proc.returncode == 2 and srun is None
        assert f'usage: {TOOLS}/{script} PARTITION JOB_NAME CONFIG' in proc.stderr


def test_dist_test_on_two_nodes(pose_samples, tmp_path):
    """Two torchrun agents, node ranks 0 and 1 of one job, one process each (gloo on CPU)."""
    init_default_scope('mmpose')
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    meta = DATASETS.build(dict(cfg.test_dataloader.dataset,
                               data_root=f'{pose_samples / "rhd"}/')).metainfo
    checkpoint = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)), checkpoint)
    port = free_port()
    nodes = [subprocess.Popen(
        ['bash', str(TOOLS / 'dist_test.sh'), str(CONFIG), str(checkpoint), '1', '--work-dir',
         str(tmp_path / f'node{rank}'), '--cfg-options', *data_options(pose_samples)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env(NNODES='2', NODE_RANK=str(rank), MASTER_ADDR='127.0.0.1',
                     PORT=str(port), CUDA_VISIBLE_DEVICES='')) for rank in (0, 1)]
    logs = []
    for node in nodes:
        out, _ = node.communicate(timeout=300)
        logs.append(out)
        assert node.returncode == 0, out[-4000:]
    # one job of world size 2: rank 0 (node 0) reports the metrics of the three samples
    assert 'Distributed training: True' in logs[0] and 'GPU number: 2' in logs[0]
    assert re.search(r'Epoch\(test\) \[1/1\]\s+PCK: ', logs[0])
