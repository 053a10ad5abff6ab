"""The guide's configs (docs/adapting_a_stock_config.md): stock MMPose configs turned into the
plugin's by the pieces of ``mmpose_regda.configs.adaptation``, for the stock families HRNet with
FeatureMapProcessor (no deconvolutions), a ResNet SimpleBaseline and MobileNetV2 (three
deconvolutions in the head), and ViTPose where mmpretrain is installed. Each trains source only,
then RegDA from psi alone, resumes, tests, exports, and loads in stock MMPose with the plugin
model's keypoints. The models are the stock structures made narrow and fed 64x64 crops, so that
the chain fits CI."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmpose_regda  # noqa: F401
from conftest import REPO_ROOT, run_tool_main, tool_env

GUIDE = REPO_ROOT / 'configs' / 'guide'
TINY_CODEC = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
#: The stock structure, narrow: same types, same neck, same head layout.
NARROW = {
    'hrnetv2-w18': {
        'model.backbone.extra.stage1.num_channels': (8, ),
        'model.backbone.extra.stage1.num_blocks': (1, ),
        **{f'model.backbone.extra.stage{s}.{k}': v for s, n in ((2, 2), (3, 3), (4, 4))
           for k, v in (('num_channels', (2, 4, 8, 16)[:n]), ('num_blocks', (1, ) * n),
                        ('num_modules', 1))},
        'model.head.in_channels': 30, 'model.head.conv_out_channels': (30, )},
    # 16 channels: torch 2.14.1's CPU backward of a 1x1 stride-2 convolution of 8 input
    # channels in channels-last crashes (a ResNet's downsample with base_channels=8)
    'res50': {'model.backbone.depth': 18, 'model.backbone.base_channels': 16,
              'model.backbone.stem_channels': 16, 'model.head.in_channels': 128,
              'model.head.deconv_out_channels': (16, 16, 16)},
    'mobilenetv2': {'model.backbone.widen_factor': 0.25,
                    'model.head.deconv_out_channels': (16, 16, 16)},
    'vitpose-small': {'model.backbone.arch': dict(embed_dims=32, num_layers=2, num_heads=2,
                                                  feedforward_channels=64),
                      'model.backbone.img_size': (64, 64), 'model.head.in_channels': 32,
                      'model.head.deconv_out_channels': (16, 16)},
}
#: ViTPose's backbone comes from mmpretrain, the plugin's optional extra (".[vitpose]").
FAMILIES = [f for f in NARROW if f != 'vitpose-small' or importlib.util.find_spec('mmpretrain')]
IMAGE = 'onehand10k/9.jpg'


def tiny(cfg: Config, family: str, pose_samples: Path, work_dir: Path) -> Config:
    """The config at 64x64 on the samples, narrow, one epoch, nothing downloaded."""
    cfg.merge_from_dict(dict(NARROW[family], **{'model.backbone.init_cfg': None}))
    cfg.model.head.decoder = TINY_CODEC
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.update(num_workers=0, persistent_workers=False)
        dataset = loader.dataset
        for data in ([dataset.source, dataset.target] if 'source' in dataset else [dataset]):
            data.data_root = f'{pose_samples}/'
            for step in data.pipeline:
                if step.type in ('TopdownAffine', 'MeanTeacherViews'):
                    step.input_size = TINY_CODEC['input_size']
                elif step.type == 'GenerateTarget':
                    step.encoder = TINY_CODEC
    cfg.train_cfg.update(max_epochs=1, val_interval=10)  # evaluated by tools/test's path
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = work_dir.name
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    return cfg


def guide_config(stage: str, family: str) -> Path:
    return next(GUIDE.glob(f'{stage}_{family}_*.py'))


def run_guide(family: str, pose_samples: Path, root: Path) -> dict:
    """Stage 1, stage 2 from psi alone, stage 2 resumed for a second epoch, its test and its
    export, as the guide has a user run them."""
    kl = tiny(Config.fromfile(guide_config('kl', family)), family, pose_samples, root / 'kl')
    Runner.from_cfg(kl).train()
    stage1 = root / 'kl' / 'epoch_1.pth'
    regda = tiny(Config.fromfile(guide_config('regda', family)), family, pose_samples,
                 root / 'regda')
    regda.model.psi_checkpoint = str(stage1)
    runner = Runner.from_cfg(regda)
    runner.train()
    iterations = runner.iter
    regda.train_cfg.max_epochs = 2
    regda.resume, regda.load_from = True, str(root / 'regda' / 'epoch_1.pth')
    regda.experiment_name = 'resumed'
    resumed = Runner.from_cfg(regda)
    resumed.train()
    checkpoint = root / 'regda' / 'epoch_2.pth'
    regda.resume, regda.load_from, regda.experiment_name = False, str(checkpoint), 'test'
    metrics = Runner.from_cfg(regda).test()
    config = root / 'regda.py'
    regda.dump(str(config))
    # Three iterations leave heatmaps nearly flat (the head's deconvolutions start at std
    # 0.001), whose argmax is a tie that rounding breaks either way; the export maps weights, so
    # its match is checked on the trained model with He-initialised head convolutions, whose
    # peaks are distinct. (The exporter's own check on trained models: test_export_model.py.)
    trained = torch.load(checkpoint, map_location='cpu', weights_only=False)
    torch.manual_seed(0)
    for key, value in trained['state_dict'].items():
        if key.startswith('head.') and value.dim() == 4:
            trained['state_dict'][key] = torch.randn_like(value) * (2 / value[0].numel())**0.5
    checkpoint = root / 'distinct_peaks.pth'
    torch.save(trained, checkpoint)
    out = root / 'exported'
    run_tool_main(REPO_ROOT / 'tools' / 'misc' / 'export_model.py', config, checkpoint,
                  '--out-dir', out)
    from mmpose.apis import inference_topdown, init_model
    # an exported KL model predicts without flip test (it averages logits, the plugin
    # probabilities): what the plugin model predicts without it
    plugin = init_model(str(config), str(checkpoint), device='cpu',
                        cfg_options=dict(model=dict(test_cfg=dict(flip_test=False))))
    keypoints = inference_topdown(plugin, f'{pose_samples}/{IMAGE}')[0].pred_instances.keypoints
    return dict(kl=kl, stage1=stage1, iterations=(iterations, resumed.iter), metrics=metrics,
                checkpoint=root / 'regda' / 'epoch_2.pth',
                exported=(next(out.glob('*.py')), next(out.glob('*.pth'))),
                keypoints=keypoints.tolist())


@pytest.fixture(scope='module')
def guide_runs(pose_samples, tmp_path_factory):
    return {family: run_guide(family, pose_samples, tmp_path_factory.mktemp(family))
            for family in FAMILIES}


def test_stage_1_is_the_stock_model_with_the_kl_head(guide_runs):
    for family, run in guide_runs.items():
        assert run['kl'].model.type == 'TopdownPoseEstimator'
        assert run['kl'].model.head.type == 'KLHeatmapHead', family
        state = torch.load(run['stage1'], map_location='cpu', weights_only=False)['state_dict']
        stock = Config.fromfile(guide_config('kl', family)).model.head
        has_deconvs = stock.get('deconv_out_channels', (256, )) is not None
        assert any(k.startswith('head.deconv_layers.') for k in state) == has_deconvs, family


def test_stage_2_starts_from_stage_1_resumes_and_keeps_the_plain_keys(guide_runs):
    for family, run in guide_runs.items():
        first = torch.load(run['stage1'], map_location='cpu', weights_only=False)['state_dict']
        adapted = torch.load(run['checkpoint'], map_location='cpu', weights_only=False)
        keys = set(adapted['state_dict'])
        assert set(first) <= keys, family
        assert {k.split('.')[0] for k in keys - set(first)} == {'adv_head'}, family
        assert set(adapted['optimizer']) == {'generator', 'head', 'adv_head'}, family
        once, twice = run['iterations']
        assert twice == 2 * once and adapted['meta']['epoch'] == 2, family
        assert 0. <= run['metrics']['PCK/Avg'] <= 1., family


def test_exports_load_in_stock_mmpose_with_the_plugin_models_keypoints(guide_runs,
                                                                        pose_samples):
    """One process without the plugin (mmpose_regda_stock: only mmcv-lite's placeholder) loads
    every export and predicts the plugin model's keypoints on a real target image."""
    exports = {family: [str(p) for p in run['exported']] for family, run in guide_runs.items()}
    script = f"""
import json, sys
import mmpose_regda_stock
from mmpose.apis import inference_topdown, init_model
out = {{}}
for family, (config, weights) in {exports!r}.items():
    model = init_model(config, weights, device='cpu')
    result = inference_topdown(model, {f'{pose_samples}/{IMAGE}'!r})[0]
    out[family] = result.pred_instances.keypoints.tolist()
assert not [m for m in sys.modules if m.startswith('mmpose_regda.')]
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, '-c', script], env=tool_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stock = json.loads(proc.stdout.strip().splitlines()[-1])
    for family, run in guide_runs.items():
        ours = torch.tensor(run['keypoints'])
        theirs = torch.tensor(stock[family])
        assert theirs.shape == ours.shape == (1, 21, 2), family
        assert (theirs - ours).norm(dim=-1).max() <= 1., (family, theirs - ours)


@pytest.mark.parametrize('method', ['MeanTeacher', 'RegDA+MeanTeacher'])
def test_one_word_switches_a_guide_config_to_a_mean_teacher(method, guide_runs, pose_samples,
                                                            tmp_path):
    """The guide's documented change, line 2 of stage 2 (``method = 'MeanTeacher'`` or
    ``'RegDA+MeanTeacher'``), and nothing else: it trains from stage 1 with the teacher, logs the
    consistency, and exports the teacher on request."""
    family = 'res50'
    text = guide_config('regda', family).read_text()
    assert "method = 'RegDA'" in text
    text = text.replace("method = 'RegDA'", f"method = '{method}'").replace(
        "['./", f"['{GUIDE}/")
    config = tmp_path / 'switched.py'
    config.write_text(text)
    cfg = tiny(Config.fromfile(config), family, pose_samples, tmp_path / 'run')
    target_steps = [step.type for step in cfg.train_dataloader.dataset.target.pipeline]
    assert target_steps[-2:] == ['MeanTeacherViews', 'PackMeanTeacherInputs']
    # the mean teacher starts from stage 1's psi and f (its teacher is the trained model)
    cfg.model.psi_checkpoint, cfg.load_from = None, str(guide_runs[family]['stage1'])
    runner = Runner.from_cfg(cfg)
    runner.train()
    checkpoint = tmp_path / 'run' / 'epoch_1.pth'
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    assert int(state['teacher.steps']) == 1 + runner.iter  # the copy, then one step each
    assert ('adv_head.final_layer.weight' in state) == method.startswith('RegDA')
    log, = (tmp_path / 'run').glob('*/*.log')
    assert 'loss_consistency' in log.read_text()
    dumped = tmp_path / 'switched_dumped.py'
    cfg.dump(str(dumped))
    out = tmp_path / 'teacher'
    run_tool_main(REPO_ROOT / 'tools' / 'misc' / 'export_model.py', dumped, checkpoint,
                  '--out-dir', out, '--weights', 'teacher')
    exported = torch.load(next(out.glob('*.pth')), map_location='cpu')['state_dict']
    assert torch.equal(exported['head.final_layer.weight'],
                       state['teacher.module.head.final_layer.weight'])
    assert not torch.equal(exported['head.final_layer.weight'],
                           state['head.final_layer.weight'])
