# SimpleBaseline as RegDA splits it: psi = ResNet + deconv upsampling (a neck, so the source-only
# and RegDA models share checkpoint keys), f = 2-layer conv head trained with the spatial KL loss.
# A small CPU-sized instance (ResNet-18, 128-channel deconvs, 128x128 input, 32x32 heatmaps).
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    # From scratch: no weights can be downloaded on the CI machines.
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='DeconvUpsampleNeck', in_channels=512, out_channels=(128, 128, 128)),
    head=dict(
        type='KLHeatmapHead',
        in_channels=128,
        out_channels=21,
        conv_out_channels=(128, ),
        conv_kernel_sizes=(3, ),
        loss=dict(type='SpatialKLLoss', use_target_weight=True),
        # decodes what the dataset's codec encodes (its `codec` variable)
        decoder=dict(
            type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=1)),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
