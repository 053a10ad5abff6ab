"""The cluster launchers as far as one machine allows: the srun commands that tools/slurm_*.sh
build (srun replaced by a recorder) and the torchrun commands of tools/dist_*.sh on one node of
several (python replaced by a recorder). A real distributed run through torchrun is tested in
test_train_test.py and test_regda_train.py."""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

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


@pytest.mark.parametrize('script, args, tool', [
    ('dist_train.sh', ['c.py', '8', '--work-dir', 'w', '--cfg-options', 'a=1'],
     ['train.py', 'c.py', '--launcher', 'pytorch', '--work-dir', 'w', '--cfg-options', 'a=1']),
    ('dist_test.sh', ['c.py', 'ckpt.pth', '8', '--out', 'm.json'],
     ['test.py', 'c.py', 'ckpt.pth', '--launcher', 'pytorch', '--out', 'm.json']),
])
def test_dist_scripts_pass_the_node_settings_to_torchrun(tmp_path, script, args, tool):
    """Node 1 of two, 8 processes each, meeting at node 0's address (static rendezvous)."""
    bin_dir, log = tmp_path / 'bin', tmp_path / 'python.json'
    bin_dir.mkdir()
    fake = bin_dir / 'python'  # the scripts call `python -m torch.distributed.run ...`
    fake.write_text(f'#!{sys.executable}\nimport json, sys\n'
                    f'json.dump(sys.argv[1:], open({str(log)!r}, "w"))\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', NNODES='2',
               NODE_RANK='1', MASTER_ADDR='10.0.0.1', PORT='29501')
    proc = subprocess.run(['bash', str(TOOLS / script), *args], env=env, capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(log.read_text()) == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.1',
        '--nproc_per_node=8', '--master_port=29501', f'{TOOLS}/{tool[0]}', *tool[1:]]
