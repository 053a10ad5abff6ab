"""tools/misc/export_model.py: an adapted RegDA checkpoint becomes a plain MMPose model that
stock MMPose loads without the plugin and that predicts the plugin model's coordinates on the
real samples."""
import copy
import importlib.util
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose
import mmpose_regda  # noqa: F401
from mmpose.apis import inference_topdown, init_model
from mmpose.registry import DATASETS, MODELS
from mmpose_regda.utils.stock_export import export_stock_model
from conftest import REGDA_CONFIG, REPO_ROOT, run_tool, run_tool_main

EXPORT = REPO_ROOT / 'tools/misc/export_model.py'
NEGATIVE = [3, 7]  # keypoints whose logits the fixture makes all negative
FLIPPED = 3  # samples also compared with flip test


def sample_boxes(pose_samples):
    """(image path, xyxy box) of the real hand samples: FreiHand and OneHand10K."""
    items = []
    for name in ('freihand/test_freihand.json', 'onehand10k/test_onehand10k.json'):
        coco = json.loads((pose_samples / name).read_text())
        files = {image['id']: image['file_name'] for image in coco['images']}
        for ann in coco['annotations']:
            x, y, w, h = ann['bbox']
            items.append((str(pose_samples / name.split('/')[0] / files[ann['image_id']]),
                          [x, y, x + w, y + h]))
    return items


@pytest.fixture(scope='module')
def adapted(pose_samples, tmp_path_factory):
    """A checkpoint laid out as RegDA training writes it: psi, f, f', three optimizers' state,
    the message hub and the dataset's metainfo. Its weights are random but not degenerate, and
    two keypoints have only negative logits (a KL head's logits are fixed up to a constant)."""
    from mmengine.dataset import pseudo_collate
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper
    init_default_scope('mmpose')
    cfg = Config.fromfile(REGDA_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    test_data = dict(cfg.test_dataloader.dataset, data_root=f'{pose_samples}/')
    dataset = DATASETS.build(test_data)
    with torch.no_grad():
        # batch statistics of real crops, as training leaves them: features then vary over the
        # map as a trained model's do, and the heads' maps have distinct peaks
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None  # cumulative average
        batch = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(len(dataset))]))
        model.train()
        model.head.forward(model.extract_feat(batch['inputs']))
        model.adv_head.forward(model.extract_feat(batch['inputs']))
        model.eval()
        for head in (model.head, model.adv_head):
            torch.nn.init.normal_(head.final_layer.weight, std=0.5)
            head.final_layer.bias.normal_(std=3.)
        model.head.final_layer.bias[NEGATIVE] -= 200.
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    dataset_meta = dataset.metainfo
    checkpoint = dict(
        meta=dict(dataset_meta=dataset_meta, epoch=10, iter=30, seed=0),
        state_dict=model.state_dict(), optimizer=optim_wrapper.state_dict(),
        message_hub=MessageHub.get_current_instance().state_dict(),
        param_schedulers=[dict(last_epoch=30)])
    folder = tmp_path_factory.mktemp('adapted')
    torch.save(checkpoint, folder / 'epoch_10.pth')
    cfg.test_dataloader.dataset.data_root = f'{pose_samples}/'
    cfg.dump(folder / 'regda.py')
    return folder


def run_export(*args) -> str:
    return run_tool_main(EXPORT, *args)


@pytest.fixture(scope='module')
def exported(adapted):
    out_dir = adapted / 'exported'
    stdout = run_export(adapted / 'regda.py', adapted / 'epoch_10.pth', '--out-dir', out_dir)
    config = out_dir / 'regda.py'
    checkpoint, = out_dir.glob('regda-*.pth')
    assert re.fullmatch(r'regda-[0-9a-f]{8}_\d{8}\.pth', checkpoint.name)
    assert f'config: {config}' in stdout and f'checkpoint: {checkpoint}' in stdout
    assert 'neck: 3 deconvolutions moved into the head' in stdout
    assert 'left out: 9 tensors of adv_head' in stdout
    # checked on the config's test images (FreiHand): the same keypoints, none invalid
    assert re.search(r'check: 168 keypoints of 8 images \(flip test off\): max 0 px.*'
                     r' 0 more than 1 px apart, 0 invalid', stdout)
    assert 'logit offsets per keypoint (measured on the check images)' in stdout
    return config, checkpoint


STOCK_MMPOSE = textwrap.dedent('''
    """Load the export with stock MMPose: mmcv-lite's placeholder only, no plugin."""
    import json, sys
    import mmpose_regda_stock  # noqa: F401  before mmpose
    import torch
    from mmpose.apis import MMPoseInferencer, inference_topdown, init_model
    config, checkpoint, boxes, out = sys.argv[1:5]
    FLIPPED = 3
    raw = torch.load(checkpoint, map_location='cpu', weights_only=True)  # plain types only
    assert set(raw) == {'meta', 'state_dict'}
    model = init_model(config, checkpoint, device='cpu')
    result = dict(head=type(model.head).__name__)
    for flip_test, items in ((False, json.loads(boxes)), (True, json.loads(boxes)[:FLIPPED])):
        model.test_cfg['flip_test'] = flip_test
        for key in (f'keypoints_flip_{flip_test}', f'scores_flip_{flip_test}'):
            result[key] = []
        for image, box in items:
            sample, = inference_topdown(model, image, bboxes=[box], bbox_format='xyxy')
            pred = sample.pred_instances
            result[f'keypoints_flip_{flip_test}'].append(pred.keypoints[0].tolist())
            result[f'scores_flip_{flip_test}'].append(pred.keypoint_scores[0].tolist())
    inferencer = MMPoseInferencer(pose2d=config, pose2d_weights=checkpoint,
                                  det_model='whole_image', device='cpu')
    next(inferencer(json.loads(boxes)[0][0], vis_out_dir=out + '/vis', show=False))
    result['plugin_modules'] = sorted(m for m in sys.modules
                                      if m == 'mmpose_regda' or m.startswith('mmpose_regda.'))
    with open(out + '/result.json', 'w') as f:
        json.dump(result, f)
''')


@pytest.fixture(scope='module')
def plugin_model(adapted):
    return init_model(str(adapted / 'regda.py'), str(adapted / 'epoch_10.pth'), device='cpu')


def plugin_predictions(model, items, flip_test=False):
    model.test_cfg['flip_test'] = flip_test
    keypoints, scores = [], []
    for image, box in items:
        sample, = inference_topdown(model, image, bboxes=[box], bbox_format='xyxy')
        keypoints.append(sample.pred_instances.keypoints[0])
        scores.append(sample.pred_instances.keypoint_scores[0])
    return np.array(keypoints), np.array(scores)


def test_stock_mmpose_predicts_the_plugin_models_coordinates(plugin_model, exported,
                                                             pose_samples, tmp_path):
    config, checkpoint = exported
    items = sample_boxes(pose_samples)
    script = tmp_path / 'stock_mmpose.py'
    script.write_text(STOCK_MMPOSE)
    run_tool([script, config, checkpoint, json.dumps(items), tmp_path], tmp_path)
    stock = json.loads((tmp_path / 'result.json').read_text())
    assert stock['plugin_modules'] == [] and stock['head'] == 'HeatmapHead'
    assert list((tmp_path / 'vis').iterdir())  # MMPoseInferencer drew the prediction

    exported_cfg = Config.fromfile(config)
    assert exported_cfg.model.type == 'TopdownPoseEstimator' and 'neck' not in exported_cfg.model
    assert exported_cfg.model.head.deconv_out_channels == [128, 128, 128]
    # the plugin averages the flipped pass's probabilities, MMPose would average logits
    assert exported_cfg.model.test_cfg.flip_test is False

    plugin_keypoints, plugin_scores = plugin_predictions(plugin_model, items)
    assert len(items) == 12 and plugin_keypoints.shape == (12, 21, 2)
    # every keypoint where the plugin model puts it, those with negative logits included
    np.testing.assert_allclose(np.array(stock['keypoints_flip_False']), plugin_keypoints,
                               rtol=0, atol=1e-4)
    assert np.ptp(plugin_keypoints, axis=1).min() > 1  # not all in one spot
    # scores: the plugin's are peak probabilities, the export's peak logits above average
    assert ((plugin_scores > 0) & (plugin_scores <= 1)).all()
    assert (np.array(stock['scores_flip_False']) > 0).all()
    # MMPose's flip test averages logits where the plugin averages probabilities: it moves
    # keypoints whose maps have competing peaks (most, for this random model)
    plugin_flip, _ = plugin_predictions(plugin_model, items[:FLIPPED], flip_test=True)
    assert not np.allclose(np.array(stock['keypoints_flip_True']), plugin_flip, atol=1e-4)


def test_logits_kept_as_trained_lose_negative_peaks(adapted, plugin_model, pose_samples):
    """Without the offset, MMPose's decoding marks the keypoints with negative peaks invalid."""
    cfg = Config.fromfile(adapted / 'regda.py')
    checkpoint = torch.load(adapted / 'epoch_10.pth', map_location='cpu', weights_only=False)
    config, state, report = export_stock_model(cfg, checkpoint, logit_offset=0.)
    assert report['logit_offsets'] == [0.] * 21
    init_default_scope('mmpose')
    model = MODELS.build(config.model)
    model.load_state_dict(state['state_dict'], strict=True)
    model.cfg = config
    model.dataset_meta = state['meta']['dataset_meta']
    model.eval()
    image, box = sample_boxes(pose_samples)[0]
    sample, = inference_topdown(model, image, bboxes=[box], bbox_format='xyxy')
    scores = sample.pred_instances.keypoint_scores[0]
    assert (scores[NEGATIVE] < 0).all() and (np.delete(scores, NEGATIVE) > 0).all()
    plugin, _ = plugin_predictions(plugin_model, [(image, box)])
    keypoints = sample.pred_instances.keypoints[0]
    assert not np.allclose(keypoints[NEGATIVE], plugin[0][NEGATIVE], atol=1)
    np.testing.assert_allclose(np.delete(keypoints, NEGATIVE, 0),
                               np.delete(plugin[0], NEGATIVE, 0), atol=1e-4)


def test_mse_model_maps_onto_heatmap_head_output_for_output():
    """An MSE source-only model (psi + HeatmapHead): the same outputs, flip test kept, no
    offset; decoders that would not give the KL model's coordinates are refused."""
    from mmpose_regda.utils.stock_export import ExportError
    cfg = Config.fromfile(REPO_ROOT / 'configs/regda/kl-pretrain_res18_1xb3-40e_rhd-samples-'
                          '128x128.py')
    cfg.model.head.type = 'HeatmapHead'
    cfg.model.head.loss = dict(type='KeypointMSELoss', use_target_weight=True)
    init_default_scope('mmpose')
    torch.manual_seed(1)
    model = MODELS.build(cfg.model).eval()
    model.init_weights()
    config, state, report = export_stock_model(
        cfg, dict(state_dict=model.state_dict()), dataset_meta=dict(num_keypoints=21))
    assert report['logit_offsets'] is None and config.model.test_cfg.flip_test is True
    stock = MODELS.build(config.model).eval()
    stock.load_state_dict(state['state_dict'], strict=True)
    inputs = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(stock.head(stock.extract_feat(inputs)),
                                   model.head(model.extract_feat(inputs)), rtol=0, atol=0)
    cfg.model.head.type = 'KLHeatmapHead'
    cfg.model.head.decoder.unbiased = True
    with pytest.raises(ExportError, match=r'only with MSRAHeatmap\(unbiased=False\)'):
        export_stock_model(cfg, dict(state_dict=model.state_dict()), dataset_meta={})


# --- every family the exporter handles, briefly trained, exported, loaded in stock MMPose ---

MMPOSE_CONFIGS = Path(mmpose.__file__).parent / '.mim' / 'configs'
ONEHAND10K = MMPOSE_CONFIGS / 'hand_2d_keypoint/topdown_heatmap/onehand10k'
TINY_CODEC = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
KL_LOSS = dict(type='SpatialKLLoss', use_target_weight=True)
#: family -> (config it starts from, model settings changed); KL heads take the stock
#: HeatmapHead's arguments as they are (a drop-in)
FAMILIES = {
    # the head's own deconvolutions, no neck
    'kl-deconv-head_res18': (REPO_ROOT / 'configs/source_only/td-hm_res18_1xb3-40e_rhd-samples-'
                             '128x128.py', {'model.head.type': 'KLHeatmapHead',
                                            'model.head.loss': KL_LOSS}),
    # MMPose's onehand10k HRNetV2-w18: a stock neck (FeatureMapProcessor) stays a neck
    'kl_hrnetv2-w18': (ONEHAND10K / 'td-hm_hrnetv2-w18_8xb64-210e_onehand10k-256x256.py',
                       {'model.head.type': 'KLHeatmapHead', 'model.head.loss': KL_LOSS}),
    # MMPose's onehand10k MobileNetV2, whose head leaves its deconvolutions to the defaults
    'kl_mobilenetv2': (ONEHAND10K / 'td-hm_mobilenetv2_8xb64-210e_onehand10k-256x256.py',
                       {'model.head.type': 'KLHeatmapHead', 'model.head.loss': KL_LOSS}),
    # an MSE model: already MMPose's HeatmapHead
    'mse_res18': (REPO_ROOT / 'configs/source_only/td-hm_res18_1xb3-40e_rhd-samples-128x128.py',
                  {}),
}


def tiny_config(base, changes: dict, pose_samples) -> Config:
    """``base`` at 64x64 with its data replaced by the RHD samples (the plugin's hand order)."""
    cfg = Config.fromfile(base)
    cfg.merge_from_dict(changes)
    cfg.model.head.decoder = TINY_CODEC
    cfg.model.backbone.init_cfg = None
    cfg.custom_imports = dict(imports=['mmpose_regda'], allow_failed_imports=False)
    pipeline = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
                dict(type='TopdownAffine', input_size=TINY_CODEC['input_size']),
                dict(type='PackPoseInputs')]
    dataset = dict(type='SharedHandDataset', dataset_name='rhd', keypoint_order='rhd',
                   data_root=f'{pose_samples}/', data_mode='topdown', ann_file='rhd/test_rhd.json',
                   data_prefix=dict(img='rhd/'), test_mode=True, pipeline=pipeline)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg.pop(loader, None)
    cfg.test_dataloader = dict(batch_size=3, num_workers=0, dataset=dataset,
                               sampler=dict(type='DefaultSampler', shuffle=False))
    return cfg


def briefly_trained(cfg: Config, steps: int = 3) -> dict:
    """A checkpoint of ``cfg``'s model after a few Adam steps on the RHD samples: batch-norm
    statistics and heads as training leaves them, not as initialised."""
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    pipeline.insert(-1, dict(type='GenerateTarget', encoder=TINY_CODEC))
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=pipeline))
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    optim_wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='Adam', lr=1e-3)))
    model.train()
    for _ in range(steps):
        model.train_step(batch, optim_wrapper)
    return dict(meta=dict(dataset_meta=dataset.metainfo), state_dict=model.state_dict())


@pytest.fixture(scope='module')
def families(pose_samples, tmp_path_factory):
    """family -> (plugin config, plugin checkpoint, exported config, exported checkpoint, the
    tool's output); each exported with the tool's defaults."""
    folder = tmp_path_factory.mktemp('families')
    result = {}
    for name, (base, changes) in FAMILIES.items():
        cfg = tiny_config(base, changes, pose_samples)
        cfg.dump(folder / f'{name}.py')
        torch.save(briefly_trained(cfg), folder / f'{name}.pth')
        stdout = run_export(folder / f'{name}.py', folder / f'{name}.pth', '--out-dir',
                            folder / 'exported')
        checkpoint, = (folder / 'exported').glob(f'{name}-*.pth')
        result[name] = (folder / f'{name}.py', folder / f'{name}.pth',
                        folder / 'exported' / f'{name}.py', checkpoint, stdout)
    return result


STOCK_FAMILIES = textwrap.dedent('''
    """Run as `python -m mmpose_regda_stock THIS EXPORTS BOXES OUT`: stock MMPose only."""
    import json, sys
    import mmpose.models  # fails under mmcv-lite without the placeholder
    from mmpose.apis import inference_topdown, init_model
    exports, boxes, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
    result = dict(heads={}, necks={}, keypoints={})
    for name, (config, checkpoint) in exports.items():
        model = init_model(config, checkpoint, device='cpu')
        result['heads'][name] = type(model.head).__name__
        result['necks'][name] = type(model.neck).__name__ if model.with_neck else None
        result['keypoints'][name] = [
            inference_topdown(model, image, bboxes=[box], bbox_format='xyxy')[0]
            .pred_instances.keypoints[0].tolist() for image, box in boxes]
    result['plugin_modules'] = sorted(m for m in sys.modules
                                      if m == 'mmpose_regda' or m.startswith('mmpose_regda.'))
    result['mmcv_ext'] = type(sys.modules.get('mmcv._ext')).__name__
    with open(out, 'w') as f:
        json.dump(result, f)
''')


def test_every_family_loads_in_stock_mmpose_with_the_plugin_models_keypoints(
        families, pose_samples, tmp_path):
    """KL heads with their own deconvolutions, behind a stock neck (HRNet), on MobileNetV2, and
    an MSE model: the tool's check passes, and stock MMPose under mmcv-lite, with no module of
    the plugin imported, predicts the plugin model's keypoints."""
    items = sample_boxes(pose_samples)[::3]
    for name, (*_, stdout) in families.items():
        assert re.search(r'check: 63 keypoints of 3 images .*: max 0 px.* 0 invalid', stdout), name
    script = tmp_path / 'stock_families.py'
    script.write_text(STOCK_FAMILIES)
    exports = {name: (str(paths[2]), str(paths[3])) for name, paths in families.items()}
    run_tool(['-m', 'mmpose_regda_stock', script, json.dumps(exports), json.dumps(items),
              tmp_path / 'result.json'], tmp_path)
    stock = json.loads((tmp_path / 'result.json').read_text())
    assert stock['plugin_modules'] == []
    if importlib.util.find_spec('mmcv._ext') is None:  # mmcv-lite: the placeholder stood in
        assert stock['mmcv_ext'] == '_MissingMMCVOps'
    assert set(stock['heads'].values()) == {'HeatmapHead'}
    assert stock['necks'] == {'kl-deconv-head_res18': None, 'kl_hrnetv2-w18':
                              'FeatureMapProcessor', 'kl_mobilenetv2': None, 'mse_res18': None}
    for name, (config, checkpoint, *_) in families.items():
        plugin = init_model(str(config), str(checkpoint), device='cpu')
        # the export of a KL model tests without flip; an MSE model keeps MMPose's flip test
        plugin.test_cfg['flip_test'] = name.startswith('mse')
        keypoints, _ = plugin_predictions(plugin, items, plugin.test_cfg['flip_test'])
        distance = np.linalg.norm(np.array(stock['keypoints'][name]) - keypoints, axis=-1)
        assert distance.max() <= 1, f'{name}: {distance.max():.3g} px'


def test_the_check_warns_with_its_numbers(adapted, pose_samples, tmp_path, capsys):
    """Logits as trained (two keypoints' peaks negative) and MMPose's flip test (logits
    averaged): the tool still writes the export, and warns with what differs."""
    (image, box), (other, _) = sample_boxes(pose_samples)[:2]
    x1, y1, x2, y2 = box
    coco = dict(images=[dict(id=1, file_name=image)],
                annotations=[dict(id=1, image_id=1, bbox=[x1, y1, x2 - x1, y2 - y1])])
    (tmp_path / 'boxes.json').write_text(json.dumps(coco))
    stdout = run_export(adapted / 'regda.py', adapted / 'epoch_10.pth', '--out-dir', tmp_path,
                        '--logit-offset', '0', '--keep-flip-test', '--check-images',
                        tmp_path / 'boxes.json', other)
    warning = capsys.readouterr().err
    assert 'check:' not in stdout and list(tmp_path.glob('regda-*.pth'))
    match = re.search(r'warning: the export does not predict what the plugin model predicts: '
                      r'42 keypoints of 2 images \(flip test on\): max ([\d.e+]+) px, median '
                      r'[\d.e+-]+ px from the plugin model\'s; (\d+) more than 1 px apart, 4 '
                      r'invalid in MMPose \(peak <= 0, keypoints 3, 7\); worst: keypoint \d+ of '
                      r'\S+, [\d.e+]+ px', warning)
    assert match, warning
    assert float(match[1]) > 1 and int(match[2]) > 4  # flipped maps moved more than the two
    assert '--logit-offset auto' in warning and 'export without it' in warning


@pytest.fixture(scope='module')
def no_meta(families, tmp_path_factory):
    """The MSE family's checkpoint without meta, as a bare state dict."""
    path = tmp_path_factory.mktemp('no_meta') / 'bare.pth'
    checkpoint = torch.load(families['mse_res18'][1], map_location='cpu', weights_only=False)
    torch.save(checkpoint['state_dict'], path)
    return families['mse_res18'][0], path


def test_dataset_meta_for_checkpoints_without(no_meta, tmp_path):
    config, checkpoint = no_meta
    with pytest.raises(SystemExit, match=rf'^error: exporting {re.escape(str(checkpoint))} with '
                       rf'{re.escape(str(config))}: the checkpoint has no meta.dataset_meta .* '
                       r'--dataset-meta'):
        run_export(config, checkpoint, '--out-dir', tmp_path / 'none')
    assert not (tmp_path / 'none').exists()
    run_export(config, checkpoint, '--out-dir', tmp_path / 'layout', '--dataset-meta', 'hand21')
    run_export(config, checkpoint, '--out-dir', tmp_path / 'mmpose',
               '--dataset-meta', 'configs/_base_/datasets/onehand10k.py')
    for folder, name in (('layout', 'hand21'), ('mmpose', 'onehand10k')):
        saved, = (tmp_path / folder).glob('*.pth')
        meta = torch.load(saved, map_location='cpu', weights_only=True)['meta']['dataset_meta']
        assert meta['dataset_name'] == name and meta['num_keypoints'] == 21
        assert meta['flip_indices'] == [0] + list(range(1, 21))  # hands: no left/right pairs
    with pytest.raises(SystemExit, match=r"metainfo \('body16'\) has 16 keypoints, the head "
                       r'21 \(head.out_channels\)'):
        run_export(config, checkpoint, '--out-dir', tmp_path / 'body', '--dataset-meta', 'body16')
    with pytest.raises(SystemExit, match=r'--dataset-meta nohands.py: no such file'):
        run_export(config, checkpoint, '--out-dir', tmp_path / 'missing', '--dataset-meta',
                   'nohands.py')
    assert not (tmp_path / 'body').exists() and not (tmp_path / 'missing').exists()


def test_refuses_a_checkpoint_of_another_architecture(families, tmp_path):
    """A ResNet-101 config with a ResNet-18 checkpoint: refused, naming the weights."""
    config, checkpoint, *_ = families['mse_res18']
    cfg = Config.fromfile(config)
    cfg.model.backbone.depth = 101
    cfg.model.head.in_channels = 2048
    cfg.dump(tmp_path / 'res101.py')
    with pytest.raises(SystemExit) as error:
        run_export(tmp_path / 'res101.py', checkpoint, '--out-dir', tmp_path / 'out')
    message = str(error.value)
    assert str(checkpoint) in message and 'does not fit the model' in message
    assert re.search(r'backbone\.layer1\.0\.conv1\.weight: checkpoint \(64, 64, 3, 3\), model '
                     r'\(64, 64, 1, 1\)', message), message
    assert not (tmp_path / 'out').exists()


def test_refuses_truncated_and_code_executing_checkpoints(families, tmp_path):
    config, checkpoint, *_ = families['mse_res18']
    truncated = tmp_path / 'truncated.pth'
    data = checkpoint.read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(SystemExit, match=rf'^error: checkpoint {re.escape(str(truncated))} '
                       r'cannot be read .*damaged or truncated'):
        run_export(config, truncated, '--out-dir', tmp_path / 'out')
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=RunsCode(marker)), evil)
    with pytest.raises(SystemExit, match=rf'^error: checkpoint {re.escape(str(evil))} is '
                       r'refused by weights-only loading'):
        run_export(config, evil, '--out-dir', tmp_path / 'out')
    assert not marker.exists() and not (tmp_path / 'out').exists()


class RunsCode:
    """Unpickles as a call of ``open(path, 'w')``: what a malicious checkpoint could do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


def test_without_readable_images_the_export_says_it_was_not_checked(adapted, tmp_path, capsys):
    """No data on this machine: offsets estimated from the batch norm, and a warning."""
    missing = tmp_path / 'no_data'
    stdout = run_export(adapted / 'regda.py', adapted / 'epoch_10.pth', '--out-dir', tmp_path,
                        '--cfg-options', f'test_dataloader.dataset.data_root={missing}',
                        f'val_dataloader.dataset.data_root={missing}',
                        f'train_dataloader.dataset.source.data_root={missing}')
    assert 'logit offsets per keypoint (estimated from batch-norm statistics)' in stdout
    assert 'check:' not in stdout and list(tmp_path.glob('regda-*.pth'))
    assert ("warning: the export was not checked against the plugin model: no images of the "
            "config's data are readable here; give some with --check-images"
            in capsys.readouterr().err)


def test_the_check_shows_a_crop_stock_mmpose_cannot_make(adapted, tmp_path, capsys):
    """A square crop kept inside the image (the paper configs'): stock MMPose lets the crop
    leave the image, so keypoints move on the FreiHand samples, whose hands fill the image;
    each model runs on the crops of its own config, and the warning says why they differ."""
    run_export(adapted / 'regda.py', adapted / 'epoch_10.pth', '--out-dir', tmp_path,
               '--cfg-options', 'test_dataloader.dataset.pipeline.1.type=GetSquareCropCenterScale',
               'test_dataloader.dataset.pipeline.1.padding=1.5')
    warning = capsys.readouterr().err
    assert re.search(r'warning: the export does not predict .*: 168 keypoints of 8 images .* '
                     r'[1-9]\d* more than 1 px apart, 0 invalid', warning), warning
    assert 'The crops differ: the source crops a square 1.5x the box kept inside the image' \
        in warning


def test_the_stock_pipeline_keeps_the_affines_options():
    """ViTPose's configs warp with UDP: a stock pipeline without it would crop and decode
    differently from the plugin model (the guide's ViTPose export caught it)."""
    from mmpose_regda.utils.stock_export import stock_test_pipeline
    source = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', padding=1.4),
              dict(type='TopdownAffine', input_size=(192, 256), use_udp=True),
              dict(type='PackPoseInputs')]
    pipeline, _ = stock_test_pipeline(source)
    assert pipeline[1] == dict(type='GetBBoxCenterScale', padding=1.4)
    assert pipeline[2] == dict(type='TopdownAffine', input_size=[192, 256], use_udp=True)
    source[2].pop('use_udp')
    assert stock_test_pipeline(source)[0][2] == dict(type='TopdownAffine',
                                                     input_size=[192, 256])
