# The paper's SimpleBaseline split (psi = ResNet + deconvs in a neck, f = 2-layer KL head) at a
# CPU size: ResNet-18 from scratch (no weights can be downloaded on the CI machines),
# 128-channel deconvs, 128x128 input, 32x32 heatmaps.
_base_ = ['./simplebaseline-kl_res101_256x256.py']

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18),
    neck=dict(in_channels=512, out_channels=(128, 128, 128)),
    head=dict(
        in_channels=128,
        conv_out_channels=(128, ),
        # decodes what the dataset's codec encodes (its `codec` variable)
        decoder=dict(input_size=(128, 128), heatmap_size=(32, 32), sigma=1)))
