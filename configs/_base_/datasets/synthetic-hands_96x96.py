# The embedded two-domain benchmark (mmpose_regda/datasets/synthetic_hands.py): procedural hands
# with the shared 21-keypoint layout, a "rendered" source and a "real" target, generated on
# first use and cached under data/synthetic_hands/. 3000 training and 500 test images per
# domain; 96x96 crops, 24x24 heatmaps; the reference's hand augmentation.
codec = dict(type='MSRAHeatmap', input_size=(96, 96), heatmap_size=(24, 24), sigma=1)
benchmark_seed = 0


def _augmented(encode):
    return [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomBBoxTransform', shift_prob=0, rotate_factor=180, rotate_prob=1.,
             scale_factor=(0.6, 1.3)),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='RandomColorJitter', brightness=0.25, contrast=0.25, saturation=0.25),
        dict(type='RandomGaussianBlur', low=0., high=0.8),
    ] + ([dict(type='GenerateTarget', encoder=codec)] if encode else []) + [
        dict(type='PackPoseInputs')
    ]


val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]


def _hands(domain, split, pipeline, labeled=True, test_mode=False):
    # training splits decoded once and kept in memory (3000 images of 160x160, 230 MB per
    # domain): PNG decoding every iteration was a tenth of the iteration (docs/results.md)
    return dict(type='SyntheticHands', domain=domain, split=split,
                num_images=3000 if split == 'train' else 500, seed=benchmark_seed,
                labeled=labeled, pipeline=pipeline, decode_images_once=split == 'train',
                **(dict(test_mode=True) if test_mode else {}))


source_train = _hands('source', 'train', _augmented(encode=True))
target_train = _hands('target', 'train', _augmented(encode=True))  # the oracle's labels
target_train_unlabeled = _hands('target', 'train', _augmented(encode=False), labeled=False)
source_test = _hands('source', 'test', val_pipeline, test_mode=True)
target_test = _hands('target', 'test', val_pipeline, test_mode=True)

# data in the main process: on 2 cores a loader worker only competes with the model's threads
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=target_test)
test_dataloader = val_dataloader
val_evaluator = dict(type='PartPCKAccuracy', alpha=0.05)
test_evaluator = val_evaluator
