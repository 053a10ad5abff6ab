"""tools/benchmark_synthetic_sprites.py: Table 1's arithmetic, which stage trains and evaluates
what (domains, starting checkpoints, reuse), and a tiny run end to end."""
import argparse
import importlib.util
import json
import re

import pytest

from conftest import REPO_ROOT, run_tool

TOOL = REPO_ROOT / 'tools' / 'benchmark_synthetic_sprites.py'
spec = importlib.util.spec_from_file_location('benchmark_synthetic_sprites', TOOL)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_table_averages_transfers_then_seeds():
    transfers = ['C2N', 'S2C']
    results = {('regda', 'C2N', 0): 0.02, ('regda', 'S2C', 0): 0.04,
               ('regda', 'C2N', 1): 0.03, ('regda', 'S2C', 1): 0.07}
    table = bench.format_table(results, ['regda'], transfers, [0, 1], 500)
    assert '| Method | C→N | S→C | Avg |' in table
    row = [line for line in table.splitlines() if line.startswith('| RegDA')][0]
    # C→N: mean 0.025, sample std 0.00707; S→C: 0.055 ± 0.0212;
    # Avg: per seed (0.03, 0.05) -> 0.040 ± 0.014
    assert row == '| RegDA | 0.025 ± 0.007 | 0.055 ± 0.021 | 0.040 ± 0.014 |'
    assert 'seeds 0, 1 (mean ± sample std)' in table and '(500 images)' in table
    single = bench.format_table(results, ['regda'], transfers, [0], 500)
    assert '| RegDA | 0.020 | 0.040 | 0.030 |' in single


def test_stages_domains_checkpoints_and_reuse(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd):
        calls.append(cmd)
        work_dir = cmd[cmd.index('--work-dir') + 1]
        if cmd[0].endswith('train.py'):
            checkpoint = f'{work_dir}/iter_1.pth'
            open(checkpoint, 'w').close()
            with open(f'{work_dir}/last_checkpoint', 'w') as f:
                f.write(checkpoint)
        else:
            domain = next(o.split('=')[1] for o in cmd if o.startswith('test_dataloader.dataset.'
                                                                       'domain='))
            with open(cmd[cmd.index('--out') + 1], 'w') as f:
                json.dump({'MAE': len(domain) / 100}, f)  # color .05, noisy .05, scream .06

    monkeypatch.setattr(bench, 'run', fake_run)
    for folder in ('pretrain_color', 'pretrain_scream', 'dd_color2scream', 'regda_color2scream'):
        (tmp_path / 'seed3' / folder).mkdir(parents=True)
    args = argparse.Namespace(work_dir=str(tmp_path), transfers=['C2S'], methods=list(
        bench.METHODS), cfg_options=['train_cfg.max_iters=2'], train_images=8, test_images=None,
        cache_root=None)
    results = bench.run_seed(3, args)
    assert results == {('source_only', 'C2S'): 0.06, ('dd', 'C2S'): 0.06,
                       ('regda', 'C2S'): 0.06, ('oracle', 'C2S'): 0.06}

    trainings = {c[c.index('--work-dir') + 1].split('/')[-1]: c for c in calls
                 if c[0].endswith('train.py')}
    assert sorted(trainings) == ['dd_color2scream', 'pretrain_color', 'pretrain_scream',
                                 'regda_color2scream']
    for name, cmd in trainings.items():
        assert 'randomness.seed=3' in cmd and 'train_cfg.max_iters=2' in cmd
    assert 'train_dataloader.dataset.domain=color' in trainings['pretrain_color']
    assert 'train_dataloader.dataset.num_images=8' in trainings['pretrain_color']
    for method in ('dd', 'regda'):
        cmd = trainings[f'{method}_color2scream']
        assert cmd[1].endswith(bench.ADAPTATION_CONFIGS[method])
        assert 'train_dataloader.dataset.source.domain=color' in cmd
        assert 'train_dataloader.dataset.target.domain=scream' in cmd
        assert f'load_from={tmp_path}/seed3/pretrain_color/iter_1.pth' in cmd
    evaluations = [(c[c.index('--work-dir') + 1].split('/')[-1],
                    [o for o in c if o.startswith('test_dataloader.dataset.domain=')])
                   for c in calls if c[0].endswith('test.py')]
    # every model on the target; the oracle is the target domain's own pretrain
    assert sorted(evaluations) == [
        ('dd_color2scream', ['test_dataloader.dataset.domain=scream']),
        ('pretrain_color', ['test_dataloader.dataset.domain=scream']),
        ('pretrain_scream', ['test_dataloader.dataset.domain=scream']),
        ('regda_color2scream', ['test_dataloader.dataset.domain=scream'])]

    # a second run reuses every finished stage and every metric
    count = len(calls)
    assert bench.run_seed(3, args) == results
    assert len(calls) == count


def test_tiny_run_end_to_end(tmp_path):
    """Two iterations of pretrain, two of RegDA, through the real tools: a table with MAE."""
    work_dir = tmp_path / 'work'
    proc = run_tool([TOOL, '--transfers', 'N2C', '--methods', 'regda', '--work-dir', work_dir,
                     '--train-images', 4, '--test-images', 2, '--cache-root', tmp_path / 'data',
                     '--cfg-options', 'train_cfg.max_iters=2', 'train_dataloader.batch_size=2'],
                    REPO_ROOT)
    table = (work_dir / 'results.md').read_text()
    assert table in proc.stdout
    row = re.search(r'^\| RegDA \| ([0-9.]+) \| ([0-9.]+) \|$', table, re.MULTILINE)
    assert row, table
    assert 0 <= float(row.group(1)) <= 1 and row.group(1) == row.group(2)
    assert '| Method | N→C | Avg |' in table
    assert (work_dir / 'seed0' / 'pretrain_noisy' / 'iter_2.pth').is_file()
    assert (work_dir / 'seed0' / 'regda_noisy2color' / 'iter_2.pth').is_file()
    metrics = json.loads((work_dir / 'seed0' / 'regda_noisy2color' / 'mae_color.json').read_text())
    assert float(row.group(1)) == pytest.approx(metrics['MAE'], abs=5e-4)


@pytest.mark.parametrize('argv,message', [
    (['--seeds', '1', '2', '1'], '--seeds: 1 given more than once'),
    (['--seeds', '-3'], 'got -3'),
    (['--train-images', '0'], 'argument --train-images: expected an integer >= 1, got 0'),
    (['--test-images', '-5'], 'argument --test-images: expected an integer >= 1, got -5'),
])
def test_bad_arguments_stop_before_any_stage(argv, message, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)
    assert message in capsys.readouterr().err
