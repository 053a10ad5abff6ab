# A CPU-sized SimpleBaseline for the dSprites toy task (configs/synthetic_sprites/): the first two
# stages of ResNet-18 at quarter width (16 base channels), 16-channel deconvs, the paper's
# 2-layer KL head at width 16; from scratch, 64x64 input, 64x64 heatmaps as the paper, one
# keypoint, no flip test.
#
# Why two stages: the heatmap must be 64x64 from a 64x64 input (the ground-false region of
# Eq. 15 is A = rows/columns 16..47 of it). Three stride-2 deconvs need a stride-8 feature map,
# stage 2's; stages 3 and 4 would only be computed and thrown away. Why width 16 after the
# backbone: everything from the last deconv on runs on the whole 64x64 map, and the heads run
# up to five times per RegDA iteration (f and f' on the source; f, f' and f' again on the
# target), so that part is most of the cost: at width 32 a RegDA iteration of batch 32 takes
# about twice as long as at 16 on a 2-core CPU.
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
