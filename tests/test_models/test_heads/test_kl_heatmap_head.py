"""KLHeatmapHead decodes the spatial softmax of its logits, also when every logit is negative."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

import mmpose_regda  # noqa: F401
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from mmpose_regda.models.utils import spatial_softmax

K, FEAT = 3, 8


def build_head(**kwargs):
    init_default_scope('mmpose')
    cfg = dict(type='KLHeatmapHead', in_channels=FEAT, out_channels=K, deconv_out_channels=None,
               conv_out_channels=(FEAT, ), conv_kernel_sizes=(3, ),
               decoder=dict(type='MSRAHeatmap', input_size=(32, 32), heatmap_size=(8, 8),
                            sigma=1))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.eval()
    return head


def negative_logits_head(peaks):
    """A head whose logits are all negative, peaked at the given (x, y) per keypoint."""
    head = build_head()
    logits = -torch.full((1, K, 8, 8), 10.)
    for k, (x, y) in enumerate(peaks):
        logits[0, k, y, x] = -1.
    head.forward = lambda feats: logits.expand(feats[-1].shape[0], -1, -1, -1)
    return head


def test_predict_decodes_negative_logits_through_softmax():
    head = negative_logits_head([(1, 2), (5, 5), (7, 0)])
    preds = head.predict((torch.zeros(1, FEAT, 8, 8), ), [PoseDataSample()], test_cfg={})
    keypoints = preds[0].keypoints[0]
    # heatmap (x, y) -> input pixels (x 4), refined a quarter pixel towards the higher neighbour
    np.testing.assert_allclose(keypoints, [[4, 8], [20, 20], [28, 0]], atol=1.01)
    assert (preds[0].keypoint_scores > 0).all()  # valid: the raw logits would have been invalid
    assert (preds[0].keypoint_scores <= 1).all()


def test_output_heatmaps_are_distributions_and_flip_averages_them():
    head = build_head()
    feats = torch.randn(2, FEAT, 8, 8)
    feats_flip = torch.randn(2, FEAT, 8, 8)
    samples = [PoseDataSample(metainfo=dict(flip_indices=[0, 2, 1])) for _ in range(2)]
    _, fields = head.predict([(feats, ), (feats_flip, )], samples,
                             test_cfg=dict(flip_test=True, output_heatmaps=True,
                                           shift_heatmap=False))
    expected = 0.5 * (spatial_softmax(head.forward((feats, ))) + flip_heatmaps(
        spatial_softmax(head.forward((feats_flip, ))), flip_mode='heatmap',
        flip_indices=[0, 2, 1], shift_heatmap=False))
    for i, field in enumerate(fields):
        torch.testing.assert_close(field.heatmaps, expected[i])
        torch.testing.assert_close(field.heatmaps.sum(dim=(-2, -1)), torch.ones(K))


def test_loss_is_spatial_kl_and_accuracy_uses_softmax():
    head = negative_logits_head([(1, 2), (5, 5), (7, 0)])
    sample = PoseDataSample()
    heatmaps = torch.zeros(K, 8, 8)
    for k, (x, y) in enumerate([(1, 2), (5, 5), (7, 0)]):
        heatmaps[k, y, x] = 1.
    sample.gt_fields = PixelData(heatmaps=heatmaps)
    sample.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, K))
    losses = head.loss((torch.zeros(1, FEAT, 8, 8), ), [sample])
    assert losses['acc_pose'].item() == pytest.approx(1.0)  # every peak at its label
    logits = head.forward((torch.zeros(1, FEAT, 8, 8), ))
    expected = -(torch.log_softmax(logits.flatten(2), -1) * heatmaps.flatten(1)).sum(-1).mean()
    assert losses['loss_kpt'].item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_drop_in_for_heatmap_head_same_arguments_defaults_and_layers():
    """A stock HeatmapHead config switched by its type (and loss) builds the same layers."""
    import inspect

    from mmpose.models.heads import HeatmapHead
    from mmpose_regda.models.heads import KLHeatmapHead
    ours = inspect.signature(KLHeatmapHead.__init__).parameters
    stock = inspect.signature(HeatmapHead.__init__).parameters
    assert list(ours) == list(stock)
    assert {n: p.default for n, p in ours.items() if n != 'loss'} == \
        {n: p.default for n, p in stock.items() if n != 'loss'}
    init_default_scope('mmpose')
    stock_cfg = dict(type='HeatmapHead', in_channels=FEAT, out_channels=K)
    kl = MODELS.build(dict(stock_cfg, type='KLHeatmapHead'))
    mse = MODELS.build(stock_cfg)
    assert [(n, tuple(p.shape)) for n, p in kl.state_dict().items()] == \
        [(n, tuple(p.shape)) for n, p in mse.state_dict().items()]
    deconvs = [m for m in kl.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [d.out_channels for d in deconvs] == [256, 256, 256]  # HeatmapHead's three
    assert type(kl.loss_module).__name__ == 'SpatialKLLoss'


def test_a_non_finite_loss_stops_training_in_the_head():
    """Source-only KL training under any runtime (no NonFiniteLossHook) stops on NaN."""
    head = build_head()
    sample = PoseDataSample()
    sample.gt_fields = PixelData(heatmaps=torch.rand(K, 8, 8))
    sample.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, K))
    feats = (torch.full((1, FEAT, 8, 8), float('nan')), )
    with pytest.raises(FloatingPointError, match='`loss_kpt` = nan .KLHeatmapHead, SpatialKLLoss'):
        head.loss(feats, [sample])
    assert torch.isfinite(head.loss((torch.zeros(1, FEAT, 8, 8), ), [sample])['loss_kpt'])


def test_output_logits_are_the_raw_logits_of_one_pass():
    """The paper protocol scores the raw logits (their sign matters to it); one pass only."""
    head = negative_logits_head([(1, 2), (5, 5), (7, 0)])
    feats = (torch.zeros(2, FEAT, 8, 8), )
    _, fields = head.predict(feats, [PoseDataSample(), PoseDataSample()],
                             test_cfg=dict(output_logits=True))
    assert len(fields) == 2 and 'heatmaps' not in fields[0]
    for field in fields:
        assert field.logits.shape == (K, 8, 8) and (field.logits < 0).all()
        assert field.logits[1, 5, 5] == -1.
    with pytest.raises(ValueError, match='output_logits needs flip_test=False'):
        head.predict([feats, feats], [PoseDataSample(metainfo=dict(flip_indices=[0, 1, 2]))],
                     test_cfg=dict(flip_test=True, output_logits=True))
