"""Adaptation estimators on a stock-shaped head: a KLHeatmapHead with HeatmapHead's deconvolutions
(psi takes them, f and f' are the final layers), checkpoints in the plain model's keys, the
paper's start from psi alone, and the misassemblies refused when the model is built."""
import pytest
import torch
import torch.nn as nn

import mmpose_regda  # noqa: F401  registers the plugin (and the mmcv-lite placeholder)

from mmpose.registry import MODELS
from tiny_regda import (HEATMAP_SIZE, INPUT_SIZE, NUM_KEYPOINTS, build_optim_wrapper,
                        build_tiny_regda, make_two_domain_batch)

#: TinyBackbone's 8x8 features -> two deconvs -> 32x32; the heatmaps are then 32x32.
DECONV_HEAD = dict(type='KLHeatmapHead', in_channels=8, out_channels=NUM_KEYPOINTS,
                   deconv_out_channels=(8, 8), deconv_kernel_sizes=(4, 4),
                   decoder=dict(type='MSRAHeatmap', input_size=(INPUT_SIZE, INPUT_SIZE),
                                heatmap_size=(HEATMAP_SIZE * 4, HEATMAP_SIZE * 4), sigma=1))


def plain_model(seed=0):
    """The source-only model: MMPose's TopdownPoseEstimator with the same head."""
    return build_tiny_regda(seed=seed, type='TopdownPoseEstimator', head=DECONV_HEAD,
                            test_cfg=dict(flip_test=False))


@pytest.mark.parametrize('method', ['RegDAPoseEstimator', 'MCDPoseEstimator',
                                    'FeatureAlignmentPoseEstimator'])
def test_psi_takes_the_heads_deconvolutions_and_f_is_the_rest(method):
    extra = dict(alignment=dict(type='MultiKernelMMDLoss')) \
        if method == 'FeatureAlignmentPoseEstimator' else {}
    model = build_tiny_regda(type=method, head=DECONV_HEAD, **extra)
    assert isinstance(model.head.deconv_layers, nn.Identity)
    deconvs = [m for m in model.deconv_layers.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(deconvs) == 2
    assert 'deconv_layers' in model.optim_parts()['generator']
    feats = model.extract_feat(torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE))
    assert feats[-1].shape == (1, 8, HEATMAP_SIZE * 4, HEATMAP_SIZE * 4)
    if hasattr(model, 'adv_head'):  # f' / f2: f's layers only, on psi's upsampled features
        assert isinstance(model.adv_head.deconv_layers, nn.Identity)
        assert model.adv_head(feats).shape == (1, NUM_KEYPOINTS, 32, 32)
    # every update trains: RegDA's three objectives step psi's deconvolutions
    if method == 'RegDAPoseEstimator':
        before = deconvs[0].weight.detach().clone()
        model.train_step(make_two_domain_batch(heatmap_size=32), build_optim_wrapper(model))
        assert not torch.equal(before, deconvs[0].weight)


def test_checkpoints_keep_the_plain_models_keys_and_predictions():
    plain = plain_model()
    regda = build_tiny_regda(head=DECONV_HEAD, seed=1)
    plain_keys = set(plain.state_dict())
    regda_keys = set(regda.state_dict())
    assert regda_keys - plain_keys == {k for k in regda_keys if k.startswith('adv_head.')}
    assert plain_keys <= regda_keys and any(k.startswith('head.deconv_layers.')
                                            for k in regda_keys)
    # a source-only checkpoint loads key for key (psi and f), and the models then predict alike
    missing, unexpected = regda.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and all(k.startswith('adv_head.') for k in missing)
    plain.eval(), regda.eval()
    inputs = torch.rand(2, 3, INPUT_SIZE, INPUT_SIZE)
    torch.testing.assert_close(regda.head(regda.extract_feat(inputs)),
                               plain.head(plain.extract_feat(inputs)))
    # and back: an adapted model's psi and f load into the plain model
    plain_again = plain_model(seed=2)
    missing, unexpected = plain_again.load_state_dict(
        {k: v for k, v in regda.state_dict().items() if not k.startswith('adv_head.')})
    assert not missing and not unexpected


def test_psi_checkpoint_starts_psi_alone_and_drops_psis_own_pretraining(tmp_path):
    """The paper's start from any backbone: psi (here a narrow ResNet and the head's
    deconvolutions) from the stage-1 checkpoint, f fresh; the backbone's own Pretrained init
    (it would be overwritten) is never loaded."""
    resnet = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8)
    head = dict(DECONV_HEAD, in_channels=64)
    plain = build_tiny_regda(seed=3, type='TopdownPoseEstimator', backbone=resnet, head=head)
    checkpoint = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=plain.state_dict(), meta=dict()), checkpoint)
    absent = dict(type='Pretrained', checkpoint=str(tmp_path / 'absent.pth'))
    model = build_tiny_regda(seed=4, head=head, backbone=dict(resnet, init_cfg=absent),
                             psi_checkpoint=str(checkpoint))  # init_weights loads psi
    expected, got = plain.state_dict(), model.state_dict()
    psi = [k for k in expected if k.startswith(('backbone.', 'head.deconv_layers.'))]
    assert len(psi) > 50 and all(torch.equal(got[k], expected[k]) for k in psi)
    assert not torch.equal(got['head.final_layer.weight'], expected['head.final_layer.weight'])


def test_psi_checkpoint_of_another_model_is_refused_with_its_missing_weights(tmp_path):
    checkpoint = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'backbone.other.weight': torch.zeros(1)}), checkpoint)
    with pytest.raises(ValueError, match=r'model.psi_checkpoint=.*other.pth.* does not hold this '
                       r"model's psi: 26 weights missing \(backbone.layers.0.bias, "):
        build_tiny_regda(head=DECONV_HEAD, psi_checkpoint=str(checkpoint))
    with pytest.raises(FileNotFoundError,
                       match='model.psi_checkpoint=.*absent.pth.* cannot be read'):
        build_tiny_regda(head=DECONV_HEAD, psi_checkpoint=str(tmp_path / 'absent.pth'))


@pytest.mark.parametrize('method', ['RegDAPoseEstimator', 'MCDPoseEstimator'])
def test_a_stock_heatmap_head_is_refused_when_the_model_is_built(method):
    stock = dict(DECONV_HEAD, type='HeatmapHead', loss=dict(type='KeypointMSELoss'))
    with pytest.raises(TypeError, match=rf"{method}.head is a HeatmapHead, which has no KL "
                       r"interface.*Set head.type='KLHeatmapHead'"):
        build_tiny_regda(type=method, head=stock)


@pytest.mark.parametrize('field, value', [('trade_off', -1.), ('trade_off', float('nan')),
                                          ('source_disparity_weight', -4.),
                                          ('source_disparity_weight', float('inf'))])
def test_negative_or_non_finite_loss_weights_are_refused(field, value):
    with pytest.raises(ValueError, match=rf'model.{field}={value!r}: expected a finite number '
                       '>= 0'):
        build_tiny_regda(**{field: value})


def test_a_single_optimizer_is_refused_before_any_update():
    from mmengine.optim import build_optim_wrapper
    model = build_tiny_regda()
    single = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TypeError, match=r"one optimizer each, but got a single OptimWrapper: set "
                       r"optim_wrapper.constructor='PartOptimWrapperConstructor'"):
        model.train_step(make_two_domain_batch(), single)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_the_registry_builds_the_drop_in_from_a_stock_config():
    """What the guide's one-word change does to a stock SimpleBaseline head config."""
    stock = dict(type='HeatmapHead', in_channels=8, out_channels=NUM_KEYPOINTS,
                 loss=dict(type='KeypointMSELoss', use_target_weight=True))
    head = MODELS.build(dict(stock, type='KLHeatmapHead',
                             loss=dict(type='SpatialKLLoss', use_target_weight=True)))
    assert [m.out_channels for m in head.modules() if isinstance(m, nn.ConvTranspose2d)] == \
        [256, 256, 256]
