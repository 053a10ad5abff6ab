# The paper's network: SimpleBaseline on ResNet-101 (ImageNet), psi = backbone + 3 deconvs
# (256 channels, stride 4), f = Conv3x3(256)+BN+ReLU then Conv1x1(K), trained with L_T (KL).
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')),
    neck=dict(type='DeconvUpsampleNeck', in_channels=2048, out_channels=(256, 256, 256)),
    head=dict(
        type='KLHeatmapHead',
        in_channels=256,
        out_channels=21,
        deconv_out_channels=None,  # the deconvs are psi's, in the neck
        conv_out_channels=(256, ),
        conv_kernel_sizes=(3, ),
        loss=dict(type='SpatialKLLoss', use_target_weight=True),
        # decodes what the datasets' codec encodes
        decoder=dict(
            type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
