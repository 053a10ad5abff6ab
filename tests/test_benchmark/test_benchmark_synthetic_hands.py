"""tools/benchmark_synthetic_hands.py: the table's arithmetic and the reuse of finished stages."""
import importlib.util
import json

import pytest

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    'benchmark_synthetic_hands', REPO_ROOT / 'tools' / 'benchmark_synthetic_hands.py')
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_table_reports_mean_and_sample_std_over_seeds():
    parts = dict(MCP=0., PIP=0., DIP=0., Fingertip=0.)
    results = {
        ('kl', 0, 'target'): dict(parts, Avg=40.), ('kl', 1, 'target'): dict(parts, Avg=50.),
        ('kl', 0, 'source'): dict(parts, Avg=90.), ('kl', 1, 'source'): dict(parts, Avg=92.),
    }
    table = bench.format_table(results, ['kl'], [0, 1])
    row = [line for line in table.splitlines() if line.startswith('| Source only (KL)')][0]
    # mean 45, sample std of (40, 50) = 7.07; source 91 +- 1.41
    assert '45.0 ± 7.1' in row and '91.0 ± 1.4' in row
    assert 'seeds 0, 1 (mean ± sample std)' in table


def test_finished_stages_are_reused(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd):
        calls.append(cmd)
        work_dir = cmd[cmd.index('--work-dir') + 1]
        if cmd[0].endswith('train.py'):
            (tmp_path / 'ckpt.pth').write_text('x')
            with open(f'{work_dir}/last_checkpoint', 'w') as f:
                f.write(str(tmp_path / 'ckpt.pth'))
        else:
            with open(cmd[cmd.index('--out') + 1], 'w') as f:
                json.dump({'PCK/Avg': 0.5}, f)

    monkeypatch.setattr(bench, 'run', fake_run)
    args = bench.argparse.Namespace(work_dir=str(tmp_path / 'w'), cfg_options=[])
    import os
    os.makedirs(tmp_path / 'w' / 'seed0' / 'kl')
    work_dir = bench.train_stage('kl', 0, args)
    assert bench.evaluate('kl', 0, work_dir, 'target', args) == {'Avg': 50.0}
    assert len(calls) == 2
    # the second run reuses the checkpoint and the metrics: nothing is run again
    bench.train_stage('kl', 0, args)
    bench.evaluate('kl', 0, work_dir, 'target', args)
    assert len(calls) == 2
    # RegDA starts from the KL stage's final checkpoint
    os.makedirs(tmp_path / 'w' / 'seed0' / 'regda')
    bench.train_stage('regda', 0, args)
    assert f'load_from={tmp_path / "ckpt.pth"}' in calls[-1]
