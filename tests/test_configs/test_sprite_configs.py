"""Every config of the dSprites toy task builds its model and datasets (on a few generated
sprites), maps a 64x64 image to a 64x64 heatmap, and DD differs from RegDA only in the game."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import DATASETS, MODELS
from conftest import REPO_ROOT

CONFIG_DIR = REPO_ROOT / 'configs' / 'synthetic_sprites'
CONFIGS = sorted(CONFIG_DIR.glob('*.py'))


def shrink_datasets(node, cache_root):
    """Every SyntheticSprites dataset of a config: 4 images, cached under ``cache_root``."""
    if isinstance(node, dict):
        if node.get('type') == 'SyntheticSprites':
            node.update(num_images=4, cache_root=str(cache_root))
        for value in node.values():
            shrink_datasets(value, cache_root)
    elif isinstance(node, (list, tuple)):
        for value in node:
            shrink_datasets(value, cache_root)


def test_the_three_configs_are_there():
    assert {p.name.split('_')[0] for p in CONFIGS} == {'kl-pretrain', 'regda', 'dd'}


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.stem.split('_')[0])
def test_config_builds_model_and_datasets(config, tmp_path):
    init_default_scope('mmpose')
    cfg = Config.fromfile(config)
    shrink_datasets(cfg._cfg_dict, tmp_path)
    assert cfg.test_evaluator.type == 'KeypointMAE'

    model = MODELS.build(cfg.model)
    model.eval()
    with torch.no_grad():
        heatmaps = model.head.forward(model.extract_feat(torch.zeros(2, 3, 64, 64)))
    assert heatmaps.shape == (2, 1, 64, 64)  # the paper's 64x64 heatmap, one keypoint

    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    assert test_set.test_mode and test_set.metainfo['num_keypoints'] == 1
    item = train_set[0]
    if config.name.startswith('kl-pretrain'):
        assert type(model).__name__ == 'TopdownPoseEstimator'
        assert item['inputs'].shape == (3, 64, 64)
        assert item['data_samples'].gt_fields.heatmaps.shape == (1, 64, 64)
        assert cfg.train_dataloader.dataset.domain == cfg.source_domain
    else:
        assert type(model).__name__ == 'RegDAPoseEstimator'
        assert item['source']['inputs'].shape == item['target']['inputs'].shape == (3, 64, 64)
        assert item['source']['data_samples'].gt_fields.heatmaps.shape == (1, 64, 64)
        assert cfg.train_dataloader.dataset.source.domain == cfg.source_domain
        assert cfg.train_dataloader.dataset.target.domain == cfg.target_domain
        assert cfg.train_dataloader.dataset.target.labeled is False  # no target labels


def test_regda_uses_the_region_of_eq15_and_dd_differs_only_in_the_game():
    regda_file, = CONFIG_DIR.glob('regda_*.py')
    dd_file, = CONFIG_DIR.glob('dd_*.py')
    regda, dd = Config.fromfile(regda_file), Config.fromfile(dd_file)
    init_default_scope('mmpose')
    model = MODELS.build(regda.model)
    assert model.ground_false.region == (16, 47, 16, 47) and model.ground_false.sigma == 2.
    assert (regda.model.adv_head_objective, regda.model.generator_objective) == \
        model.GAMES['regda']
    assert (dd.model.adv_head_objective, dd.model.generator_objective) == model.GAMES['dd']
    regda_dict, dd_dict = regda.to_dict(), dd.to_dict()
    for game_key in ('adv_head_objective', 'generator_objective'):
        regda_dict['model'].pop(game_key)
        dd_dict['model'].pop(game_key)
    assert regda_dict == dd_dict
