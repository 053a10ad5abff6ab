"""Every config of the paper's tasks loads, and its model and datasets build and yield items, on
small fixture data laid out as the converters write it (data/<dataset>/annotations/*.json)."""
import json
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS, MODELS
from conftest import REPO_ROOT

TASK_CONFIGS = sorted(
    p for task in ('rhd2h3d', 'rhd2freihand', 'surreal2human36m', 'surreal2lsp')
    for p in (REPO_ROOT / 'configs' / task).glob('*.py'))
HAND = dict(rhd=('rhd_train.json', 'rhd_test.json'), h3d=('h3d_train.json', 'h3d_test.json'),
            freihand=('freihand_train.json', 'freihand_test.json'))
BODY = dict(surreal=('surreal_train.json', 'surreal_val.json'),
            human36m=('h36m_train.json', 'h36m_test.json'),
            lsp=('lsp_train.json', 'lsp_test.json'))


@pytest.fixture(scope='module')
def paper_data(pose_samples, tmp_path_factory):
    """Two instances per annotation file on one real image, for each of the six datasets."""
    root = tmp_path_factory.mktemp('paper_data')
    hand = json.loads((pose_samples / 'freihand' / 'test_freihand.json').read_text())
    for name, files in list(HAND.items()) + list(BODY.items()):
        folder = root / 'data' / name
        (folder / 'annotations').mkdir(parents=True)
        shutil.copy(pose_samples / 'freihand' / '00000355.jpg', folder / 'img.jpg')
        for file in files:
            if name in HAND:
                anns = [dict(hand['annotations'][i], id=i + 1, image_id=1) for i in range(2)]
            else:
                keypoints = [v for k in range(16) for v in (40 + 8 * (k % 4), 30 + 9 * k, 2)]
                anns = [dict(id=i + 1, image_id=1, category_id=1, bbox=[30, 20, 60, 160],
                             iscrowd=0, area=9600, num_keypoints=16, keypoints=keypoints)
                        for i in range(2)]
            (folder / 'annotations' / file).write_text(json.dumps(dict(
                images=[dict(id=1, file_name='img.jpg', width=224, height=224)],
                annotations=anns, categories=[dict(id=1, name='x')])))
    return root


# adaptation stage -> estimator (the comparison rows of Table 2 and 3 exist for RHD->H3D)
ADAPTATION = {
    'regda': 'RegDAPoseEstimator', 'dd': 'RegDAPoseEstimator',
    'ground-false-minimax': 'RegDAPoseEstimator', 'mcd': 'MCDPoseEstimator',
    'dann': 'FeatureAlignmentPoseEstimator', 'dan': 'FeatureAlignmentPoseEstimator'
}


def test_all_task_configs_are_there():
    names = {p.name.split('_')[0] for p in TASK_CONFIGS}
    assert len(TASK_CONFIGS) == 16 + 5
    assert names == {'source-only-mse', 'kl-pretrain', 'oracle-mse'} | set(ADAPTATION)
    rhd2h3d = {p.name.split('_')[0] for p in TASK_CONFIGS if p.parent.name == 'rhd2h3d'}
    assert set(ADAPTATION) <= rhd2h3d


@pytest.mark.parametrize('config', TASK_CONFIGS, ids=lambda p: f'{p.parent.name}/{p.stem}')
def test_config_builds_model_and_datasets(config, paper_data, monkeypatch):
    monkeypatch.chdir(paper_data)
    init_default_scope('mmpose')
    cfg = Config.fromfile(config)
    body = config.parent.name.startswith('surreal')
    num_keypoints = 16 if body else 21

    model = MODELS.build(cfg.model)
    assert model.backbone.depth == 101
    assert model.head.out_channels == num_keypoints
    assert cfg.model.backbone.init_cfg.checkpoint == 'torchvision://resnet101'
    stage = config.name.split('_')[0]
    loss = type(model.head.loss_module).__name__
    assert loss == ('KeypointMSELoss' if stage.endswith('mse') else 'SpatialKLLoss')
    adaptation = stage in ADAPTATION
    if adaptation:
        assert type(model).__name__ == ADAPTATION[stage]
        if hasattr(model, 'adv_head'):
            assert model.adv_head.out_channels == num_keypoints
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        assert set(optim_wrapper.keys()) == set(model.optim_parts())
        assert cfg.train_cfg.max_epochs == 30 and cfg.train_dataloader.dataset.length == 16000
        assert cfg.load_from.endswith('iter_35000.pth')
    else:
        assert cfg.train_cfg.max_iters == 35000
        assert cfg.param_scheduler[0].milestones == [22500, 30000]

    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    assert test_set.test_mode and test_set.metainfo['num_keypoints'] == num_keypoints
    item = train_set[0]
    source = item['source'] if adaptation else item
    assert source['inputs'].shape == (3, 256, 256)
    assert source['data_samples'].gt_fields.heatmaps.shape == (num_keypoints, 64, 64)
    if adaptation:
        assert type(train_set.target).__name__ == 'UnlabeledTopdownDataset'
        assert not item['target']['data_samples'].gt_instances.keypoints_visible.any()
    test_item = test_set[0]
    assert test_item['inputs'].shape == (3, 256, 256)
    assert isinstance(test_item['inputs'], torch.Tensor)
    assert cfg.test_evaluator.type == 'PartPCKAccuracy'
