"""mmpose_regda.configs.adaptation: a stock MMPose config plus the pieces is a config of each
method, without clashing bases, whose optimizer parts are the model's."""
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose_regda  # noqa: F401
from mmpose.registry import MODELS
from mmpose_regda.configs import adaptation

RESNET = 'mmpose::hand_2d_keypoint/topdown_heatmap/rhd2d/td-hm_res50_8xb64-210e_rhd2d-256x256.py'
HRNET = ('mmpose::hand_2d_keypoint/topdown_heatmap/onehand10k/'
         'td-hm_hrnetv2-w18_8xb64-210e_onehand10k-256x256.py')


def user_config(tmp_path, stock, method, extra=''):
    """What the guide has a user write (the data part left out)."""
    path = tmp_path / f'{method}.py'
    path.write_text(f"""
_base_ = ['{stock}']
from mmpose_regda.configs import adaptation

method = '{method}'
custom_imports = adaptation.custom_imports(_base_)
model = adaptation.model(_base_.model, method, psi_checkpoint='stage1.pth')
optim_wrapper = adaptation.optim_wrapper(method)
param_scheduler = adaptation.param_scheduler()
custom_hooks = adaptation.custom_hooks(method)
default_hooks = adaptation.default_hooks
model_wrapper_cfg = adaptation.model_wrapper_cfg
{extra}
""")
    return Config.fromfile(str(path))


@pytest.mark.parametrize('method', sorted(adaptation.METHODS))
def test_each_method_on_a_stock_resnet_config(tmp_path, method):
    cfg = user_config(tmp_path, RESNET, method)
    # the stock optimizer, schedule and hooks are replaced, not merged into
    assert 'optimizer' not in cfg.optim_wrapper and '_delete_' not in cfg.optim_wrapper
    assert [s.type for s in cfg.param_scheduler] == ['InverseDecayLR']
    assert [h.type for h in cfg.custom_hooks] == ['SyncBuffersHook', 'AdaptationScheduleHook']
    assert cfg.default_hooks.checkpoint.save_best is None  # never the best on the target test set
    assert cfg.default_hooks.logger.type == 'LoggerHook'  # the stock hooks stay
    assert cfg.custom_imports.imports == ['mmpose_regda']
    cfg.model.psi_checkpoint = None
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)
    assert sorted(model.optim_parts()) == sorted(k for k in cfg.optim_wrapper if k != 'constructor')
    lrs = {part: cfg.optim_wrapper[part].optimizer.lr for part in model.optim_parts()}
    assert lrs.pop('generator') == 0.01 and set(lrs.values()) == {0.1}
    assert type(model.head).__name__ == 'KLHeatmapHead' and model.deconv_layers is not None
    if method in ('RegDA', 'DD'):
        assert model.ground_false.sigma == 2.  # the stock codec's
    if method == 'DANN':
        assert cfg.model.alignment.in_channels == 256  # the head's last deconvolution
    if method == 'MCD':
        assert cfg.custom_hooks[1].grad_scale is None


def test_hrnets_psi_is_its_neck_and_dann_reads_its_channels(tmp_path):
    cfg = user_config(tmp_path, HRNET, 'DANN')
    assert cfg.model.neck.type == 'FeatureMapProcessor'
    assert cfg.model.alignment.in_channels == 270
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'  # dropped by the model: psi_checkpoint


def test_estimator_options_merge_over_the_methods():
    model = adaptation.model(dict(type='TopdownPoseEstimator', backbone=dict(type='ResNet'),
                                  head=dict(type='HeatmapHead', in_channels=8, out_channels=3,
                                            decoder=dict(sigma=3))),
                             'RegDA', trade_off=0.5, ground_false=dict(sigma=1.))
    assert model['trade_off'] == 0.5
    assert model['ground_false'] == dict(type='GroundFalseTargetGenerator', sigma=1.)
    assert model['head']['loss'] == dict(type='SpatialKLLoss', use_target_weight=True)


def test_the_stock_configs_own_imports_are_kept():
    base = dict(custom_imports=dict(
        imports=['mmpose.engine.optim_wrappers.layer_decay_optim_wrapper']))
    assert adaptation.custom_imports(base)['imports'] == [
        'mmpose.engine.optim_wrappers.layer_decay_optim_wrapper', 'mmpose_regda']


def test_wrong_methods_and_heads_are_named():
    with pytest.raises(ValueError, match="adaptation method 'regda' is not one of RegDA, DD, "):
        adaptation.optim_wrapper('regda')
    with pytest.raises(ValueError, match=r"model.head.type='RTMCCHead': the plugin adapts "
                       'top-down heatmap models'):
        adaptation.kl_model(dict(head=dict(type='RTMCCHead')))
