# A CPU-sized SimpleBaseline for the embedded benchmark: ResNet-18 at half width (32 base
# channels), 64-channel deconvs to stride 4, the paper's 2-layer KL head; from scratch.
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=18, stem_channels=32, base_channels=32),
    neck=dict(type='DeconvUpsampleNeck', in_channels=256, out_channels=(64, 64, 64)),
    head=dict(
        type='KLHeatmapHead',
        in_channels=64,
        out_channels=21,
        conv_out_channels=(64, ),
        conv_kernel_sizes=(3, ),
        loss=dict(type='SpatialKLLoss', use_target_weight=True),
        decoder=dict(type='MSRAHeatmap', input_size=(96, 96), heatmap_size=(24, 24), sigma=1)),
    test_cfg=dict(flip_test=False))
