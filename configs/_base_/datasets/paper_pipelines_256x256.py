# Pipelines of the paper's tasks: 256x256 crops, 64x64 heatmaps with sigma 2, and the reference
# implementation's augmentation (rotation +-180 degrees for hands, +-30 for bodies, scale
# 0.6-1.3, colour jitter 0.25, blur). Target-domain pipelines encode no heatmap: there is none.
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)


def _augmented(rotate_factor, encode):
    return [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomBBoxTransform', shift_prob=0, rotate_factor=rotate_factor,
             rotate_prob=1., scale_factor=(0.6, 1.3)),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='RandomColorJitter', brightness=0.25, contrast=0.25, saturation=0.25),
        dict(type='RandomGaussianBlur', low=0., high=0.8),
    ] + ([dict(type='GenerateTarget', encoder=codec)] if encode else []) + [
        dict(type='PackPoseInputs')
    ]


hand_train_pipeline = _augmented(180, encode=True)
hand_target_pipeline = _augmented(180, encode=False)
body_train_pipeline = _augmented(30, encode=True)
body_target_pipeline = _augmented(30, encode=False)
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
