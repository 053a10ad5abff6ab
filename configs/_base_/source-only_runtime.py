# MMPose's runtime with the plugin and the paper's supervised schedule (source only, KL
# pretraining, oracle).
_base_ = ['./default_runtime.py']

_iters_per_epoch = 500
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=70 * _iters_per_epoch,
    val_interval=5 * _iters_per_epoch)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[45 * _iters_per_epoch,
                                                         60 * _iters_per_epoch], gamma=0.1)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    # keeps the last checkpoint; the one to report is the final model, not a best-on-test one
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5 * _iters_per_epoch,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
