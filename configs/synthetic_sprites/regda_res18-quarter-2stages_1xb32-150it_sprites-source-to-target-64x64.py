# dSprites toy task (Table 1), RegDA: adapts the KL-pretrained model from `source_domain`
# (labeled) to `target_domain` (images only). f' minimises L_F against the region form of the
# ground-false distribution (Eq. 15: every position of A = rows/columns 16..47 but f's
# prediction), psi minimises L_T. 150 iterations of batch 32 per domain, the reference's
# optimisation (budget: docs/configs.md). DD inherits everything but the game.
_base_ = [
    '../_base_/iteration-based_adaptation_runtime.py',
    '../_base_/models/simplebaseline-kl_res18-quarter-2stages_64x64.py',
    '../_base_/datasets/synthetic-sprites_64x64.py',
]
from mmpose_regda.configs import adaptation  # noqa: E402

model = dict(
    type='RegDAPoseEstimator',
    ground_false=dict(type='GroundFalseTargetGenerator', sigma=2., region=(16, 47, 16, 47)),
    adv_head_objective='min L_F',
    generator_objective='min L_T')
iterations = 150
train_cfg = dict(max_iters=iterations, val_interval=iterations)
custom_hooks = adaptation.custom_hooks('RegDA', warm_start_iters=iterations // 15)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DomainAdaptationSampler', shuffle=True),
    dataset=dict(type='DomainAdaptationDataset', source=_base_.source_train,
                 target=_base_.target_train_unlabeled))
default_hooks = dict(checkpoint=dict(interval=iterations))
# stage 1's final checkpoint (tools/benchmark_synthetic_sprites.py passes its own path)
load_from = ('work_dirs/kl-pretrain_res18-quarter-2stages_1xb32-300it_sprites-source-64x64/'
             'iter_300.pth')
