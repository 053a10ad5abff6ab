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


@pytest.mark.parametrize('argv,message', [
    (['--seeds', '0', '0'], '--seeds: 0 given more than once; expected distinct values (two '
     'runs of one seed would report a spread of 0)'),
    (['--seeds', '-1'], 'argument --seeds: a seed must be in [0, 2147483647] (numpy and '
     'mmengine seed generators with it), got -1'),
    (['--seeds', str(2**32)], 'a seed must be in [0, 2147483647]'),
    (['--seeds', 'one'], "argument --seeds: a seed is an integer, got 'one'"),
    (['--num-images', '0'], 'argument --num-images: expected an integer >= 1, got 0'),
    (['--methods', 'regda', 'regda'], '--methods: regda given more than once'),
    (['--cfg-options', 'train_cfg.max_iters'], "argument --cfg-options: a config option is "
     "key=value (e.g. train_cfg.max_iters=10), got 'train_cfg.max_iters'"),
])
def test_bad_arguments_stop_before_any_stage(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(bench, 'run', lambda cmd: pytest.fail(f'a stage ran: {cmd}'))
    with pytest.raises(SystemExit) as exit_:
        bench.parse_args(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_help_shows_defaults_and_run_time(capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(['--help'])
    help_text = ' '.join(capsys.readouterr().out.split())
    assert "(default: ['kl', 'regda', 'oracle'])" in help_text and '(default: 8)' in help_text
    assert 'about 12 minutes from scratch' in help_text


def test_a_failed_stage_ends_the_benchmark_with_its_name(tmp_path, monkeypatch, capsys):
    import subprocess

    def failing_run(cmd):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(bench, 'run', failing_run)
    monkeypatch.setattr(bench.sys, 'argv', ['benchmark', '--work-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match=r'error: training kl, seed 0 failed: train\.py exited '
                       r'with 1 .*not marked done'):
        bench.main()
    assert not (tmp_path / 'seed0' / 'kl' / 'done').exists()
