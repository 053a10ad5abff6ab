# The paper's dSprites toy task (section 5.1, Table 1), drawn by
# mmpose_regda/datasets/synthetic_sprites.py: 64x64 images of one shape, its centre the one
# keypoint, in three domains ('color', 'noisy', 'scream'), generated on first use and cached
# under data/synthetic_sprites/; whole-image crops, 64x64 heatmaps, no augmentation. Why, and how
# to change the domains from the command line: docs/configs.md.
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(64, 64), sigma=2)
source_domain = 'color'
target_domain = 'noisy'
sprites_seed = 0  # the data's seed; the training seed is randomness.seed


def _pipeline(encode):
    return [
        dict(type='LoadImage'),
        dict(type='GetWholeImageCenterScale'),
        dict(type='TopdownAffine', input_size=codec['input_size']),
    ] + ([dict(type='GenerateTarget', encoder=codec)] if encode else []) + [
        dict(type='PackPoseInputs')
    ]


def _sprites(domain, split, pipeline, labeled=True, test_mode=False):
    return dict(type='SyntheticSprites', domain=domain, split=split,
                num_images=2000 if split == 'train' else 500, seed=sprites_seed,
                labeled=labeled, pipeline=pipeline, **(dict(test_mode=True) if test_mode else {}))


source_train = _sprites(source_domain, 'train', _pipeline(encode=True))
target_train_unlabeled = _sprites(target_domain, 'train', _pipeline(encode=False), labeled=False)
target_test = _sprites(target_domain, 'test', _pipeline(encode=False), test_mode=True)

# data in the main process: on 2 cores a loader worker only competes with the model's threads
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=target_test)
test_dataloader = val_dataloader
val_evaluator = dict(type='KeypointMAE')
test_evaluator = val_evaluator
