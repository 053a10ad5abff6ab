# A CPU-sized SimpleBaseline for the embedded benchmark: ResNet-18 at half width (32 base
# channels), 64-channel deconvs to stride 4, the paper's 2-layer KL head; from scratch, 96x96
# input, 24x24 heatmaps, no flip test.
_base_ = ['./simplebaseline-kl_res101_256x256.py']

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, stem_channels=32, base_channels=32),
    neck=dict(in_channels=256, out_channels=(64, 64, 64)),
    head=dict(
        in_channels=64,
        conv_out_channels=(64, ),
        decoder=dict(input_size=(96, 96), heatmap_size=(24, 24), sigma=1)),
    test_cfg=dict(_delete_=True, flip_test=False))
