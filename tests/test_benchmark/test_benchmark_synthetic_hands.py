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
    table = bench.format_table(results, ['kl'])
    row = [line for line in table.splitlines() if line.startswith('| Source only (KL)')][0]
    # mean 45, sample std of (40, 50) = 7.07; source 91 +- 1.41; the seeds the row has
    assert '45.0 ± 7.1' in row and '91.0 ± 1.4' in row and row.endswith('| 0, 1 |')
    assert 'mean ± sample std over the seeds' in table


def test_gains_are_read_over_the_control_seed_by_seed():
    parts = dict(MCP=0., PIP=0., DIP=0., Fingertip=0.)
    results = {}
    for seed, (control, regda) in enumerate([(50., 56.), (52., 55.), (48., 57.)]):
        for method, target in (('control', control), ('regda', regda)):
            results[(method, seed, 'target')] = dict(parts, Avg=target)
            results[(method, seed, 'source')] = dict(parts, Avg=90. - (method == 'regda'))
    gains = bench.format_gains(results, ['control', 'regda'])
    row = [line for line in gains.splitlines() if line.startswith('| RegDA')][0]
    # +6, +3, +9: mean 6, sample std 3, standard error 3 / sqrt(3) = 1.73; the source one
    # point lower
    assert '| +6.0 | +3.0 | +9.0 | 6.0 ± 3.0 | -1.0 | yes (2 standard errors: 3.5) |' in row
    # RegDA's second control, Objective 1 alone: what the target objectives add, DANN not read
    for seed, target in enumerate([53., 55., 55.]):
        results[('objective-1', seed, 'target')] = dict(parts, Avg=target)
        results[('objective-1', seed, 'source')] = dict(parts, Avg=91.)
        results[('dann', seed, 'target')] = results[('dann', seed, 'source')] = dict(parts, Avg=1.)
    second = bench.format_gains(results, ['control', 'objective-1', 'regda', 'dann'],
                                'objective-1')
    assert second.startswith('| over Objective 1 only, target Avg |')
    rows = [line for line in second.splitlines()[2:]]
    assert rows == ['| RegDA (f\' min L_F, psi min L_T) | +3.0 | +0.0 | +2.0 | 1.7 ± 1.5 | -2.0 | '
                    'no (2 standard errors: 1.8) |']


def test_a_gain_within_seed_noise_is_called_so():
    assert bench.noise_verdict([2., -1., 4.]).startswith('no (2 standard errors: 2.9)')
    assert bench.noise_verdict([2.]).startswith('one seed: cannot tell')


def test_profiles_and_rows():
    assert bench.rows('main') == [((0, ), ('kl', 'control', 'regda'))]
    full = bench.rows('full')
    assert full[0] == ((0, 1, 2), ('kl', 'control', 'objective-1', 'dann', 'dd', 'regda'))
    # the one-seed rows start from the KL model too: it is added (and reused) first
    assert full[1][0] == (0, ) and full[1][1][0] == 'kl'
    assert bench.rows('main', seeds=[3, 4], methods=['regda']) == [((3, 4), ('kl', 'regda'))]


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
    args = bench.argparse.Namespace(work_dir=str(tmp_path / 'w'), cfg_options=[],
                                    target='target', start='psi', pretrain_iters=6500,
                                    adaptation_iters=1000, val_interval=None, heatmap_size=24)
    import os
    os.makedirs(tmp_path / 'w' / 'seed0' / 'kl_6500it')
    work_dir = bench.train_stage('kl', 0, args)
    assert bench.evaluate('kl', 0, work_dir, 'target', args) == {'Avg': 50.0}
    assert len(calls) == 2
    # the second run reuses the checkpoint and the metrics: nothing is run again
    bench.train_stage('kl', 0, args)
    bench.evaluate('kl', 0, work_dir, 'target', args)
    assert len(calls) == 2
    # RegDA starts from the KL stage's final checkpoint: psi from it (the default, the paper's)
    os.makedirs(tmp_path / 'w' / 'seed0' / 'regda_6500+1000it')
    bench.train_stage('regda', 0, args)
    assert f'model.psi_checkpoint={tmp_path / "ckpt.pth"}' in calls[-1]
    assert 'load_from=None' in calls[-1]
    # the control, a plain model, starts psi through its modules' Pretrained init
    os.makedirs(tmp_path / 'w' / 'seed0' / 'control_6500+1000it')
    bench.train_stage('control', 0, args)
    assert f'model.backbone.init_cfg.checkpoint={tmp_path / "ckpt.pth"}' in calls[-1]
    assert 'model.neck.init_cfg.prefix=neck.' in calls[-1]
    args.start = 'psi+f'  # or psi and f
    os.makedirs(tmp_path / 'w' / 'seed0' / 'regda_6500+1000it_start-psi+f')
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
    assert '(default: main)' in help_text and '(default: 8)' in help_text
    assert 'the main profile 17 minutes from scratch' in help_text


def test_a_failed_stage_ends_the_benchmark_with_its_name(tmp_path, monkeypatch, capsys):
    import subprocess

    def failing_run(cmd):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(bench, 'run', failing_run)
    monkeypatch.setattr(bench, 'prepare_data', lambda target: None)
    monkeypatch.setattr(bench.sys, 'argv', ['benchmark', '--work-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match=r'error: training kl, seed 0 failed: train\.py exited '
                       r'with 1 .*not marked done'):
        bench.main()
    assert not (tmp_path / 'seed0' / 'kl_2000it' / 'done').exists()


def test_the_start_and_the_target_variant_reach_the_stages(tmp_path, monkeypatch):
    import os
    calls = []

    def fake_run(cmd):
        calls.append(cmd)
        os.makedirs(cmd[cmd.index('--work-dir') + 1], exist_ok=True)

    monkeypatch.setattr(bench, 'run', fake_run)
    monkeypatch.setattr(bench, 'final_checkpoint', lambda work_dir: f'{work_dir}/last.pth')
    args = bench.argparse.Namespace(work_dir=str(tmp_path), cfg_options=['a=1'],
                                    target='target_pose', start='psi', pretrain_iters=6500,
                                    adaptation_iters=1000, val_interval=None, heatmap_size=24)
    bench.train_stage('regda', 2, args)
    cmd = calls[-1]
    # the variant's adaptation stages have their own directories, the source-only ones not;
    # the paper's start (psi alone) is the default, the other one is named
    assert cmd[cmd.index('--work-dir') + 1].endswith('seed2/regda_6500+1000it_target_pose')
    assert bench.stage_dir('regda', 2, bench.argparse.Namespace(**dict(
        vars(args), start='psi+f'))).endswith('seed2/regda_6500+1000it_target_pose_start-psi+f')
    options = cmd[cmd.index('--cfg-options') + 1:]
    kl = f'{tmp_path / "seed2" / "kl_6500it"}/last.pth'
    assert {'randomness.seed=2', 'train_dataloader.dataset.target.domain=target_pose',
            f'model.psi_checkpoint={kl}', 'load_from=None', 'a=1'} <= set(options)
    bench.train_stage('oracle', 2, args)
    assert 'train_dataloader.dataset.domain=target_pose' in calls[-1]
    bench.train_stage('kl', 2, args)
    assert not any('domain=' in option for option in calls[-1])  # the source is the source
    assert calls[-1][calls[-1].index('--work-dir') + 1].endswith('seed2/kl_6500it')
    assert '--no-validate' in calls[-1]
    # validation for the training dynamics: the adaptation stages only, on the variant's test set
    args.val_interval = 100
    bench.train_stage('dd', 2, args)
    assert '--no-validate' not in calls[-1]
    assert {'train_cfg.val_interval=100', 'val_dataloader.dataset.domain=target_pose'} <= set(
        calls[-1])
    bench.train_stage('kl', 3, args)
    assert calls[-1][calls[-1].index('--work-dir') + 1].endswith('seed3/kl_6500it')
    assert '--no-validate' in calls[-1]


def test_a_budget_rescales_what_the_config_derives_from_its_own():
    kl = bench.osp.join(bench.CONFIGS, bench.METHODS['kl'][0])
    regda = bench.osp.join(bench.CONFIGS, bench.METHODS['regda'][0])
    assert bench.budget_options(kl, 6500) == []  # the config's own budget
    # the drops at 45/70 and 60/70 of 2000 (1286, 1714), validation and checkpoint at its end
    assert bench.budget_options(kl, 2000) == [
        'train_cfg.max_iters=2000', 'train_cfg.val_interval=2000',
        'default_hooks.checkpoint.interval=2000', 'param_scheduler.0.milestones=[1286,1714]']
    # the warm-start constant keeps its proportion, 66 of 1000 -> 33 of 500
    assert bench.budget_options(regda, 500)[-1] == 'custom_hooks.1.grad_scale.max_iters=33'
    # the second control's Objective-1-only warm-up lasts its whole run, whatever the run
    objective_1 = bench.osp.join(bench.CONFIGS, bench.METHODS['objective-1'][0])
    assert bench.budget_options(objective_1, 500)[-2:] == [
        'custom_hooks.1.warmup_iters=500', 'custom_hooks.1.grad_scale.max_iters=33']
    # the main profile's budget reaches the stages and names their directories
    args = bench.parse_args(['--work-dir', 'w'])
    assert (args.pretrain_iters, args.adaptation_iters) == (2000, 500)
    assert bench.stage_dir('regda', 0, args) == bench.osp.join('w', 'seed0',
                                                            'regda_2000+500it_start-psi+f')
    args = bench.parse_args(['--profile', 'full', '--adaptation-iters', '1500'])
    assert (args.pretrain_iters, args.adaptation_iters) == (6500, 1500)


def test_a_run_names_its_table_by_target_budget_and_start(tmp_path, monkeypatch):
    written = {}
    monkeypatch.setattr(bench, 'prepare_data', lambda target: None)
    monkeypatch.setattr(bench, 'train_stage', lambda method, seed, args: str(tmp_path / method))
    monkeypatch.setattr(bench, 'evaluate', lambda *a: dict(MCP=1., PIP=1., DIP=1., Fingertip=1.,
                                                           Avg=1.))
    monkeypatch.setattr(bench, 'write_table',
                        lambda table, work_dir, name: written.update({name: table}))
    bench.run_benchmark(bench.parse_args(['--work-dir', str(tmp_path), '--methods', 'control',
                                          '--start', 'psi', '--target', 'target_pose']))
    bench.run_benchmark(bench.parse_args(['--work-dir', str(tmp_path), '--methods', 'control']))
    bench.run_benchmark(bench.parse_args(['--work-dir', str(tmp_path), '--methods', 'control',
                                          '--profile', 'full']))
    # the main profile starts from psi and f, the full one from psi alone (the paper's start)
    assert set(written) == {'results_target_pose_2000+500it.md',
                            'results_target_2000+500it_start-psi+f.md',
                            'results_target_6500+1000it.md'}
    assert "adapted from psi alone (f and f' new), as the paper" in written[
        'results_target_6500+1000it.md']
    assert 'short of converged' not in written['results_target_6500+1000it.md']
    caption = written['results_target_2000+500it_start-psi+f.md']
    assert 'adapted from psi and f' in caption
    assert 'short of converged' in caption


def test_larger_heatmaps_reach_the_model_the_targets_and_the_ground_false_distribution():
    """--heatmap-size 48: psi upsamples once more, the source's targets are encoded at 48x48
    with sigma 1.5 (the paper's 2 of 64), P_F alike, and the stages are named for it."""
    import torch
    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope

    import mmpose_regda  # noqa: F401
    from mmpose.registry import KEYPOINT_CODECS, MODELS
    regda = bench.osp.join(bench.CONFIGS, bench.METHODS['regda'][0])
    assert bench.heatmap_options(regda, 24) == []
    options = bench.heatmap_options(regda, 48)
    parser = bench.argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(regda)
    cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)
    assert model.ground_false.sigma == 1.5
    with torch.no_grad():
        heatmaps = model.head(model.extract_feat(torch.zeros(1, 3, 96, 96)))
    assert heatmaps.shape == (1, 21, 48, 48)
    encoder, = [step['encoder'] for step in cfg.train_dataloader.dataset.source.pipeline
                if step['type'] == 'GenerateTarget']
    codec = KEYPOINT_CODECS.build(encoder)
    target = codec.encode(torch.tensor([[[48., 48.]]]).numpy())['heatmaps'][0]
    assert target.shape == (48, 48)
    # a Gaussian of sigma 1.5 at (24, 24): exp(-1 / (2 * 1.5**2)) one pixel away
    assert abs(target[24, 25] / target[24, 24] - torch.exp(torch.tensor(-1 / 4.5)).item()) < 1e-5
    assert cfg.model.head.decoder.heatmap_size == [48, 48]
    args = bench.parse_args(['--profile', 'full', '--heatmap-size', '48', '--work-dir', 'w'])
    assert bench.stage_dir('kl', 0, args) == bench.osp.join('w', 'seed0', 'kl_6500it_heatmap48')
    assert bench.stage_dir('regda', 0, args) == bench.osp.join('w', 'seed0',
                                                            'regda_6500+1000it_heatmap48')
