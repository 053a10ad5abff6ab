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

TASKS = ('rhd2h3d', 'rhd2freihand', 'surreal2human36m', 'surreal2lsp')
ALL_CONFIGS = sorted(p for task in TASKS for p in (REPO_ROOT / 'configs' / task).glob('*.py'))
TEST_CONFIGS = [p for p in ALL_CONFIGS if p.stem.endswith('_paper-protocol')]
TASK_CONFIGS = [p for p in ALL_CONFIGS if p not in TEST_CONFIGS]
HAND = dict(rhd=('rhd_train.json', 'rhd_test.json'), h3d=('h3d_train.json', 'h3d_test.json'),
            freihand=('freihand_train.json', 'freihand_test.json'))
BODY = dict(surreal=('surreal_train.json', 'surreal_val.json'),
            human36m=('h36m_train.json', 'h36m_test.json'),
            lsp=('lsp_train.json', 'lsp_test.json', 'lsp_all.json'))


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
    # per task: source only, KL, RegDA, oracle; RHD->H3D's comparison rows; the 10-epoch
    # SURREAL->Human3.6M RegDA of the reference's script
    assert len(TASK_CONFIGS) == 16 + 5 + 1
    assert {p.parent.name for p in TEST_CONFIGS} == set(TASKS) and len(TEST_CONFIGS) == 4
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
    stage = config.name.split('_')[0]
    adaptation = stage in ADAPTATION
    if adaptation:
        # psi from stage 1's final checkpoint, f and f' fresh (the paper's and the reference's)
        assert cfg.load_from is None and cfg.stage1_checkpoint.endswith('iter_35000.pth')
        assert cfg.model.psi_checkpoint == cfg.stage1_checkpoint
        assert model.backbone.init_cfg is None  # ImageNet weights psi overwrites: never loaded
    else:
        assert cfg.model.backbone.init_cfg.checkpoint == 'torchvision://resnet101'
    loss = type(model.head.loss_module).__name__
    assert loss == ('KeypointMSELoss' if stage.endswith('mse') else 'SpatialKLLoss')
    if adaptation:
        assert type(model).__name__ == ADAPTATION[stage]
        if hasattr(model, 'adv_head'):
            assert model.adv_head.out_channels == num_keypoints
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        assert set(optim_wrapper.keys()) == set(model.optim_parts())
        epochs = 10 if '-10e_' in config.name else 30
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.train_dataloader.dataset.length == 16000
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
    # the reference's crops (LSP: the whole image), hands mirrored to one chirality
    test_data = cfg.test_dataloader.dataset
    steps = [t['type'] for t in test_data.pipeline]
    crop = 'GetWholeImageCenterScale' if test_data.dataset_name == 'lsp' else (
        'GetSquareCropCenterScale')
    assert crop in steps and 'GetBBoxCenterScale' not in steps
    assert ('MirrorToChirality' in steps) == (test_data.dataset_name in ('rhd', 'freihand'))
    assert 'transformed_keypoints' in test_item['data_samples'].gt_instances


@pytest.mark.parametrize('config', TEST_CONFIGS, ids=lambda p: p.parent.name)
def test_paper_protocol_test_configs(config, paper_data, monkeypatch):
    """The test set of the task's target with the reference's crops, f's raw output without
    flip test, scored by the reference's rule; run end to end on one task."""
    monkeypatch.chdir(paper_data)
    init_default_scope('mmpose')
    cfg = Config.fromfile(config)
    assert cfg.model.type == 'TopdownPoseEstimator' and cfg.model.backbone.init_cfg is None
    assert cfg.model.test_cfg == dict(flip_test=False, output_logits=True)
    assert cfg.test_evaluator == dict(type='PaperProtocolPCKAccuracy', alpha=0.05,
                                      batch_size=32)
    task_config = next(p for p in TASK_CONFIGS
                       if p.parent == config.parent and p.name.startswith('regda_'))
    assert cfg.test_dataloader.dataset == Config.fromfile(task_config).test_dataloader.dataset
    if config.parent.name != 'rhd2h3d':
        return
    from mmengine.dataset import pseudo_collate
    from mmengine.evaluator import Evaluator
    model = MODELS.build(cfg.model).eval()
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = test_set.metainfo
    with torch.no_grad():
        outputs = model.test_step(pseudo_collate([test_set[0], test_set[1]]))
    assert outputs[0].pred_fields.logits.shape == (21, 64, 64)
    evaluator.process(outputs)
    metrics = evaluator.evaluate(2)
    assert set(metrics) == {'PCK/MCP', 'PCK/PIP', 'PCK/DIP', 'PCK/Fingertip', 'PCK/Avg'}
