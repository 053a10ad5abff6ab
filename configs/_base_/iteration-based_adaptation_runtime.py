# An adaptation of a fixed number of iterations (the embedded benchmarks): the adaptation
# runtime and an iteration-based loop that validates and saves once, at its end (the config
# sets its data, whose base holds the train_dataloader: mmengine allows one base per key).
# The warm start of the gradient from the adaptation part into
# psi keeps the reference's proportion: its time constant is 1000 of 15000 iterations there,
# 1/15 of the run here. A config of another length sets `iterations` and what depends on it.
_base_ = ['./regda_runtime.py']
from mmpose_regda.configs import adaptation  # noqa: E402

iterations = 1000
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=iterations,
                 val_interval=iterations)
custom_hooks = adaptation.custom_hooks('RegDA', warm_start_iters=iterations // 15)
default_hooks = dict(
    # validation metrics logged at their iteration (plot_training_dynamics.py reads them)
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=iterations))
log_processor = dict(by_epoch=False)
