# The paper's dSprites toy task (section 5.1, Table 1), drawn by
# mmpose_regda/datasets/synthetic_sprites.py: 64x64 images of one shape, its centre the one
# keypoint, in three domains ('color', 'noisy', 'scream'), generated on first use and cached
# under data/synthetic_sprites/. 2000 training and 500 test images per domain (enough for the
# few hundred iterations of batch 32 that fit the CPU budget: a few epochs, no image memorised).
#
# The crop is the whole image, pixel for pixel (GetWholeImageCenterScale), and the heatmap is
# 64x64 with sigma 2 as in the paper, so heatmap pixels are image pixels and the area A where
# keypoints lie (rows and columns 16..47) is the same in both: the ground-false region of Eq. 15
# relies on it. Hence no geometric augmentation (a shift or rotation would move keypoints out of
# A), and no photometric one (it would blur the domain gap the task is about).
#
# The domains: `source_domain` and `target_domain` below, used when this file is read. mmengine
# resolves them at that moment, so from the command line override the dataset fields themselves,
# as tools/benchmark_synthetic_sprites.py does:
#   train_dataloader.dataset.domain=scream            (supervised training)
#   train_dataloader.dataset.source.domain=scream     (adaptation: labeled source)
#   train_dataloader.dataset.target.domain=color      (adaptation: unlabeled target)
#   test_dataloader.dataset.domain=color              (evaluation)
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
