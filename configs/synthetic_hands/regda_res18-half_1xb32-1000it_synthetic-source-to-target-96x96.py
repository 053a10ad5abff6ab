# Embedded benchmark, RegDA: f' minimises L_F on the target, psi minimises L_T (the schedule, data
# and starting point are shared by every adaptation row, see the base).
_base_ = ['../_base_/synthetic-hands_adaptation_1000it.py']
model = dict(
    type='RegDAPoseEstimator',
    ground_false=dict(type='GroundFalseTargetGenerator', sigma=1.),  # the codec's sigma
    # validation (when asked for, e.g. for Fig. 9 with `train_cfg.val_interval=50`) scores f
    # and f' on the target test set; tests and the benchmark's table score f alone
    test_cfg=dict(adv_head_predictions=True))
val_evaluator = [
    dict(type='PartPCKAccuracy', alpha=0.05),
    dict(type='PartPCKAccuracy', alpha=0.05, pred_field='adv_pred_instances',
         prefix='adv_head'),
]
