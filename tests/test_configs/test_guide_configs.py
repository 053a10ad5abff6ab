"""The guide's configs (docs/adapting_a_stock_config.md), stock MMPose configs turned into the
plugin's by the pieces of ``mmpose_regda.configs.adaptation``, for three stock families: HRNet
with FeatureMapProcessor (no deconvolutions), a ResNet SimpleBaseline and MobileNetV2 (three
deconvolutions in the head). Each trains source only, then RegDA from psi alone, resumes, tests,
exports and loads in stock MMPose with the plugin model's keypoints. The models are the stock
structures made narrow and fed 64x64 crops, so that the chain fits CI."""
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
    'res50': {'model.backbone.depth': 18, 'model.backbone.base_channels': 8,
              'model.backbone.stem_channels': 8, 'model.head.in_channels': 64,
              'model.head.deconv_out_channels': (16, 16, 16)},
    'mobilenetv2': {'model.backbone.widen_factor': 0.25,
                    'model.head.deconv_out_channels': (16, 16, 16)},
}


def tiny(cfg: Config, family: str, pose_samples: Path, work_dir: Path) -> Config:
    """The config at 64x64 on the samples, narrow, one epoch, nothing downloaded."""
    cfg.merge_from_dict(dict(NARROW[family], **{'model.backbone.init_cfg': None}))
    cfg.model.head.decoder = TINY_CODEC
    loaders = [cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader]
    for loader in loaders:
        loader.update(num_workers=0, persistent_workers=False)
        dataset = loader.dataset
        for data in ([dataset.source, dataset.target] if 'source' in dataset else [dataset]):
            data.data_root = f'{pose_samples}/'
            for step in data.pipeline:
                if step.type == 'TopdownAffine':
                    step.input_size = TINY_CODEC['input_size']
                elif step.type == 'GenerateTarget':
                    step.encoder = TINY_CODEC
    cfg.train_cfg.update(max_epochs=1, val_interval=10)  # evaluated by test_stage_2_tests...
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = work_dir.name
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    return cfg


def guide_config(stage: str, family: str) -> Path:
    return next(GUIDE.glob(f'{stage}_{family}_*.py'))


@pytest.fixture(scope='module', params=sorted(NARROW))
def trained(request, pose_samples, tmp_path_factory):
    """Stage 1 and stage 2 of the guide for one family, then stage 2 resumed for one more
    epoch: the work dirs and the configs."""
    family = request.param
    root = tmp_path_factory.mktemp(family)
    kl = tiny(Config.fromfile(guide_config('kl', family)), family, pose_samples, root / 'kl')
    assert kl.model.type == 'TopdownPoseEstimator' and kl.model.head.type == 'KLHeatmapHead'
    Runner.from_cfg(kl).train()
    stage1 = root / 'kl' / 'epoch_1.pth'
    regda = tiny(Config.fromfile(guide_config('regda', family)), family, pose_samples,
                 root / 'regda')
    regda.model.psi_checkpoint = str(stage1)
    runner = Runner.from_cfg(regda)
    runner.train()
    iterations = runner.iter
    # resumed for a second epoch: the iteration count and the parts' optimizer state go on
    regda.train_cfg.max_epochs = 2
    regda.resume, regda.load_from = True, str(root / 'regda' / 'epoch_1.pth')
    regda.experiment_name = 'regda_resumed'
    resumed = Runner.from_cfg(regda)
    resumed.train()
    assert resumed.iter == 2 * iterations
    return family, root, regda, stage1


def test_stage_1_is_the_stock_model_with_the_kl_head(trained):
    family, root, _, stage1 = trained
    state = torch.load(stage1, map_location='cpu', weights_only=False)['state_dict']
    stock = Config.fromfile(guide_config('kl', family)).model
    deconvs = any(k.startswith('head.deconv_layers.') for k in state)
    assert deconvs == (stock.head.get('deconv_out_channels', (256, )) is not None)
    assert (root / 'kl' / 'epoch_1.pth').is_file()


def test_stage_2_starts_psi_from_stage_1_and_keeps_the_plain_keys(trained):
    family, root, regda, stage1 = trained
    first = torch.load(stage1, map_location='cpu', weights_only=False)['state_dict']
    adapted = torch.load(root / 'regda' / 'epoch_2.pth', map_location='cpu',
                         weights_only=False)
    keys = set(adapted['state_dict'])
    assert set(first) <= keys and {k.split('.')[0] for k in keys - set(first)} == {'adv_head'}
    assert set(adapted['optimizer']) == {'generator', 'head', 'adv_head'}
    assert adapted['meta']['epoch'] == 2


def test_stage_2_tests_and_exports_to_stock_mmpose(trained, tmp_path):
    family, root, regda, _ = trained
    checkpoint = root / 'regda' / 'epoch_2.pth'
    regda.load_from, regda.resume = str(checkpoint), False
    regda.experiment_name = 'regda_test'
    metrics = Runner.from_cfg(regda).test()
    assert 0. <= metrics['PCK/Avg'] <= 1.
    config = tmp_path / 'regda.py'
    regda.dump(str(config))
    out = tmp_path / 'exported'
    run_tool_main(REPO_ROOT / 'tools' / 'misc' / 'export_model.py', config, checkpoint,
                  '--out-dir', out)
    exported = sorted(out.glob('*.py')), sorted(out.glob('*.pth'))
    assert len(exported[0]) == 1 and len(exported[1]) == 1
    # stock MMPose alone loads it (no plugin module imported) and predicts the plugin model's
    # keypoints on a real target image
    image = regda.test_dataloader.dataset.data_root + 'onehand10k/9.jpg'
    script = f"""
import json, sys
import mmpose_regda_stock  # stock MMPose under mmcv-lite, nothing of the plugin
from mmpose.apis import inference_topdown, init_model
model = init_model({str(exported[0][0])!r}, {str(exported[1][0])!r}, device='cpu')
assert not [m for m in sys.modules if m.startswith('mmpose_regda.models')]
result = inference_topdown(model, {image!r})[0]
print(json.dumps(result.pred_instances.keypoints.tolist()))
"""
    proc = subprocess.run([sys.executable, '-c', script], env=tool_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stock = torch.tensor(json.loads(proc.stdout.strip().splitlines()[-1]))
    from mmpose.apis import inference_topdown, init_model
    plugin = init_model(str(config), str(checkpoint), device='cpu')
    ours = torch.from_numpy(inference_topdown(plugin, image)[0].pred_instances.keypoints)
    assert stock.shape == ours.shape == (1, 21, 2)
    assert (stock - ours).norm(dim=-1).max() <= 1.
