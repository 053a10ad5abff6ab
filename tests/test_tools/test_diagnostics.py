"""The diagnostics a user looks at, on a real (tiny) RegDA run through tools/train.py: Fig. 9
from its logs (plot_training_dynamics) and two of its checkpoints side by side
(compare_predictions)."""
import importlib.util
import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT, run_tool, tool_env
from test_regda_train import REGDA_CONFIG, data_root_options

TRAIN = REPO_ROOT / 'tools/train.py'
PLOT = REPO_ROOT / 'tools/analysis_tools/plot_training_dynamics.py'
COMPARE = REPO_ROOT / 'tools/analysis_tools/compare_predictions.py'


def load_tool(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plot = load_tool(PLOT)
compare = load_tool(COMPARE)
from mmpose_regda.visualization import side_by_side  # noqa: E402


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory, pose_samples):
    """RegDA from the RHD samples to the FreiHand samples with a two-convolution psi (the tests'
    TinyBackbone: seconds, not minutes), 2 epochs of 2 iterations, validated on the labeled
    FreiHand samples after each epoch with f and f' scored side by side."""
    root = tmp_path_factory.mktemp('tiny_run')
    config = root / 'regda_tiny.py'
    config.write_text(f"""
_base_ = ['{REGDA_CONFIG}']
custom_imports = dict(imports=['mmpose_regda', 'tiny_regda'], allow_failed_imports=False)
model = dict(backbone=dict(_delete_=True, type='TinyBackbone'), neck=None,
             head=dict(in_channels=8, conv_out_channels=(8, )),
             test_cfg=dict(adv_head_predictions=True))
val_evaluator = [
    dict(type='PartPCKAccuracy'),
    dict(type='PartPCKAccuracy', pred_field='adv_pred_instances', prefix='adv_head'),
]
load_from = None
""")
    work_dir = root / 'work'
    # mmengine's default logger: validation steps are epochs (the tool maps them)
    run_tool([TRAIN, config, '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_epochs=2',
              'train_cfg.val_interval=1', 'train_dataloader.batch_size=4',
              'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
              *data_root_options(pose_samples, True)], root)
    (scalars_file, ) = work_dir.glob('*/vis_data/scalars.json')
    lines = [json.loads(line) for line in scalars_file.read_text().splitlines()]
    return dict(config=config, work_dir=work_dir, scalars_file=scalars_file, lines=lines,
                data_root=f'{pose_samples}/')


def test_parsed_series_are_the_logged_values(tiny_run):
    log = plot.read_scalars(str(tiny_run['work_dir']))
    train_lines = [line for line in tiny_run['lines'] if 'iter' in line]
    val_lines = [line for line in tiny_run['lines'] if 'PCK/Avg' in line]
    iters, disparity = log.series('disparity_target')
    assert iters.tolist() == [1, 2, 3, 4]
    assert disparity.tolist() == [line['disparity_target'] for line in train_lines]
    # validation after epochs 1 and 2 of 2 iterations each: iterations 2 and 4
    assert [line['step'] for line in val_lines] == [1, 2]
    for key in ('PCK/Avg', 'adv_head/PCK/Avg', 'adv_head/PCK/Fingertip'):
        iters, values = log.series(key, 'val')
        assert iters.tolist() == [2, 4], key
        assert values.tolist() == [line[key] for line in val_lines], key
        assert ((0 <= values) & (values <= 1)).all()


def test_plot_tool_writes_the_figure(tiny_run, tmp_path):
    out = tmp_path / 'figures' / 'fig9.png'
    run_tool([PLOT, tiny_run['work_dir'], tiny_run['work_dir'], '--labels', 'RegDA', 'again',
              '--out', out], tmp_path)
    image = cv2.imread(str(out))
    width, height = (int(side * plot.DPI) for side in plot.FIGURE_SIZE)
    assert image.shape == (height, width, 3)
    assert [p.name for p in out.parent.iterdir()] == ['fig9.png']  # no temporary file left


def test_panels_say_what_is_missing(tiny_run, tmp_path):
    """A run without validation (no target labels): panels (b) and (c) say so."""
    work_dir = tmp_path / 'no_val'
    launch = work_dir / '20240101_000000' / 'vis_data'
    launch.mkdir(parents=True)
    (launch / 'scalars.json').write_text(''.join(
        json.dumps(line) + '\n' for line in tiny_run['lines'] if 'iter' in line))
    figure = plot.draw_figure([plot.read_scalars(str(work_dir))], ['no labels'])
    assert [len(ax.lines) for ax in figure.axes] == [1, 0, 0]
    for ax in figure.axes[1:]:
        assert 'no validation metric' in ax.texts[0].get_text()
    # validated, but f' not scored: panel (c) says how to score it
    figure = plot.draw_figure([plot.read_scalars(str(tiny_run['work_dir']))], ['run'],
                              adv_head_prefix='other_prefix')
    assert 'adv_head_predictions=True' in figure.axes[2].texts[0].get_text()


def test_resumed_launches_are_concatenated(tiny_run, tmp_path):
    """A launch that died after iteration 3 and a relaunch from the epoch-1 checkpoint: the
    relaunch's iteration 3 wins, nothing is counted twice, validation steps (epochs) of each
    launch map to iterations."""
    lines, work_dir = tiny_run['lines'], tmp_path / 'resumed'
    text_log = next(tiny_run['scalars_file'].parent.parent.glob('*.log'))
    relaunched = [dict(line, disparity_target=123.) if line.get('iter') == 3 else line
                  for line in lines[3:]]  # from the first iteration of epoch 2
    for stamp, launch_lines in (('20240101_000000', lines[:4]),
                                ('20240101_010000', relaunched)):
        (work_dir / stamp / 'vis_data').mkdir(parents=True)
        (work_dir / stamp / 'vis_data' / 'scalars.json').write_text(
            ''.join(json.dumps(line) + '\n' for line in launch_lines))
        shutil.copy(text_log, work_dir / stamp / f'{stamp}.log')
    assert [line.get('iter') for line in lines[:4]] == [1, 2, None, 3]
    log = plot.read_scalars(str(work_dir))
    iters, disparity = log.series('disparity_target')
    assert iters.tolist() == [1, 2, 3, 4] and disparity[2] == 123.
    assert log.series('PCK/Avg', 'val')[0].tolist() == [2, 4]


def write_scalars(work_dir, lines):
    launch = work_dir / '20240101_000000' / 'vis_data'
    launch.mkdir(parents=True)
    (launch / 'scalars.json').write_text(''.join(json.dumps(line) + '\n' for line in lines))


def test_validation_steps(tmp_path):
    # logged by iteration (log_metric_by_epoch=False): taken as they are
    write_scalars(tmp_path / 'by_iter', [
        dict(iter=5, step=5, disparity_target=1.), {'PCK/Avg': 0.5, 'step': 5},
        dict(iter=10, step=10, disparity_target=2.), {'PCK/Avg': 0.7, 'step': 10}])
    log = plot.read_scalars(str(tmp_path / 'by_iter'))
    assert log.series('PCK/Avg', 'val')[0].tolist() == [5, 10]
    # an iteration-based loop with mmengine's default logger logs step 0: nothing to recover
    write_scalars(tmp_path / 'iter_loop', [dict(iter=5, step=5), {'PCK/Avg': 0.5, 'step': 0}])
    with pytest.raises(ValueError, match=r'scalars.json: validation was logged with step 0.*'
                       r'log_metric_by_epoch=False'):
        plot.read_scalars(str(tmp_path / 'iter_loop'))
    # epoch steps without the text log that gives the iterations per epoch
    write_scalars(tmp_path / 'no_text_log', [dict(epoch=1, iter=5, step=5),
                                              {'PCK/Avg': 0.5, 'step': 1}])
    with pytest.raises(ValueError, match='steps are epochs and the text log'):
        plot.read_scalars(str(tmp_path / 'no_text_log'))


def test_plot_tool_bad_input(tmp_path):
    (tmp_path / 'empty_run' / '20240101_000000').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='no training log in .*empty_run.*scalars.json'):
        plot.read_scalars(str(tmp_path / 'empty_run'))
    proc = subprocess.run([sys.executable, PLOT, tmp_path / 'empty_run', tmp_path / 'missing'],
                          env=tool_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'no training log in' in proc.stderr and 'empty_run' in proc.stderr
    with pytest.raises(ValueError, match='2 --labels for 1 work dirs'):
        plot.plot_training_dynamics([str(tmp_path / 'empty_run')], ['a', 'b'])


def test_compare_predictions_rows(tiny_run):
    config = Config.fromfile(tiny_run['config'])
    config.merge_from_dict({'test_dataloader.dataset.data_root': tiny_run['data_root']})
    epoch_1, epoch_2 = (str(tiny_run['work_dir'] / f'epoch_{e}.pth') for e in (1, 2))
    weights = [torch.load(c, map_location='cpu')['state_dict'] for c in (epoch_1, epoch_2)]
    assert any(not torch.equal(weights[0][k], weights[1][k]) for k in weights[0])

    def render(checkpoints):
        return side_by_side.render_side_by_side([(config, c) for c in checkpoints],
                                           ['epoch a', 'epoch b'],
                                           config.test_dataloader.dataset, num_images=3)

    band = side_by_side.LABEL_BAND_HEIGHT
    row = side_by_side.LABEL_BAND_HEIGHT + side_by_side.TILE_SIZE
    different = render([epoch_1, epoch_2])
    assert different.shape == (2 * row, 3 * (side_by_side.TILE_SIZE + side_by_side.TILE_GAP) -
                               side_by_side.TILE_GAP, 3)
    assert not np.array_equal(different[band:row], different[row + band:])
    same = render([epoch_1, epoch_1])
    assert np.array_equal(same[band:row], same[row + band:])
    # the labels are drawn: the bands differ where the label text differs ('a' against 'b')
    assert not np.array_equal(same[:band], same[row:row + band])


def test_compare_predictions_tool(tiny_run, tmp_path):
    out = tmp_path / 'compare.png'
    work_dir = tiny_run['work_dir']
    run_tool([COMPARE, tiny_run['config'], work_dir / 'epoch_1.pth', work_dir / 'epoch_2.pth',
              '--labels', 'before', 'after', '--num-images', '2', '--show-gt', '--out', out,
              '--cfg-options', f'test_dataloader.dataset.data_root={tiny_run["data_root"]}'],
             tmp_path)
    image = cv2.imread(str(out))
    # ground truth (the FreiHand samples are labeled), then the two checkpoints
    assert image.shape[0] == 3 * (side_by_side.LABEL_BAND_HEIGHT + side_by_side.TILE_SIZE)
    assert [p.name for p in tmp_path.iterdir()] == ['compare.png']  # no temporary file left
    missing = tmp_path / 'epoch_9.pth'
    proc = subprocess.run([sys.executable, COMPARE, tiny_run['config'], work_dir / 'epoch_1.pth',
                           missing, '--out', tmp_path / 'never.png'], env=tool_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert f"checkpoint_b '{missing}' does not exist" in proc.stderr
    assert not (tmp_path / 'never.png').exists()
    with pytest.raises(FileNotFoundError, match=f"checkpoint '{missing}' does not exist"):
        side_by_side.load_model(tiny_run['config'], str(missing))
