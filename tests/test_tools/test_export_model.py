"""tools/misc/export_model.py: an adapted RegDA checkpoint becomes a plain MMPose model that
stock MMPose loads without the plugin and that predicts the plugin model's coordinates on the
real samples."""
import json
import re
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

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
    return config, checkpoint


STOCK_MMPOSE = textwrap.dedent('''
    """Load the export with stock MMPose: only the environment workarounds, no plugin."""
    import importlib.util, json, sys
    spec = importlib.util.spec_from_file_location('compat', sys.argv[1])
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    compat.apply_all()
    import torch
    from mmpose.apis import MMPoseInferencer, inference_topdown, init_model
    config, checkpoint, boxes, out = sys.argv[2:6]
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
    result['plugin_modules'] = sorted(m for m in sys.modules if m.startswith('mmpose_regda'))
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
    run_tool([script, REPO_ROOT / 'mmpose_regda/utils/compat.py', config, checkpoint,
              json.dumps(items), tmp_path], tmp_path)
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
