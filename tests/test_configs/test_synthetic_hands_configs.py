"""The embedded benchmark's rows: every adaptation method starts from the same checkpoint and
trains with the same data, iterations, schedule and seed handling as RegDA; only the method's
own parts differ."""
import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import MODELS
from conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'configs' / 'synthetic_hands'
ADAPTATION = {
    'regda': ('RegDAPoseEstimator', ('min L_F', 'min L_T')),
    'dd': ('RegDAPoseEstimator', ('max L_T', 'min L_T')),
    'ground-false-minimax': ('RegDAPoseEstimator', ('min L_F', 'max L_F')),
    'mcd': ('MCDPoseEstimator', None),
    'dann': ('FeatureAlignmentPoseEstimator', None),
    'dan': ('FeatureAlignmentPoseEstimator', None),
}
# what a method may set for itself; everything else must be RegDA's
METHOD_KEYS = {'model', 'optim_wrapper', 'custom_hooks', 'val_evaluator'}


def config_of(method):
    return Config.fromfile(next(CONFIGS.glob(f'{method}_*.py')))


@pytest.mark.parametrize('method', list(ADAPTATION))
def test_adaptation_rows_share_regda_budget(method):
    init_default_scope('mmpose')
    regda, cfg = config_of('regda').to_dict(), config_of(method)
    for key in set(regda) | set(cfg.to_dict()):
        if key not in METHOD_KEYS:
            assert cfg.to_dict().get(key) == regda.get(key), key
    assert cfg.train_cfg.max_iters == 1000
    # the same network: backbone, neck and f identical, f's checkpoint keys shared
    for part in ('backbone', 'neck', 'head', 'data_preprocessor'):
        assert cfg.model[part] == regda['model'][part], part
    model_type, game = ADAPTATION[method]
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == model_type
    if game is not None:
        assert (model.adv_head_objective.describe(), model.generator_objective.describe()) == (
            f'{"maximises" if game[0][:3] == "max" else "minimises"} {game[0][4:]}',
            f'{"maximises" if game[1][:3] == "max" else "minimises"} {game[1][4:]}')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert set(optim_wrapper.keys()) == set(model.optim_parts())
    for part in ('generator', 'head'):  # the shared parts learn at RegDA's rates
        assert optim_wrapper[part].get_lr()['lr'] == [regda['optim_wrapper'][part]['optimizer']
                                                      ['lr']]
