# A CPU-sized SimpleBaseline for the dSprites toy task (configs/synthetic_sprites/): the first two
# stages of ResNet-18 at quarter width (16 base channels), 16-channel deconvs, the paper's
# 2-layer KL head at width 16; from scratch, 64x64 input, 64x64 heatmaps as the paper, one
# keypoint, no flip test (why this size: docs/configs.md).
_base_ = ['./simplebaseline-kl_res101_256x256.py']

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, stem_channels=16, base_channels=16,
                  num_stages=2, strides=(1, 2), dilations=(1, 1), out_indices=(1, )),
    neck=dict(in_channels=32, out_channels=(16, 16, 16)),
    head=dict(
        in_channels=16,
        out_channels=1,
        conv_out_channels=(16, ),
        decoder=dict(input_size=(64, 64), heatmap_size=(64, 64), sigma=2)),
    test_cfg=dict(_delete_=True, flip_test=False))
