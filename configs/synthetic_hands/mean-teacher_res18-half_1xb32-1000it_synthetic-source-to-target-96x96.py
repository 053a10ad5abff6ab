# Embedded benchmark, the mean teacher (UDAPE, Kim et al., ECCV 2022, without its style
# transfer): the source loss plus the student's consistency with its EMA teacher on two views of
# each target image. Same start, source data, optimisers and iterations as every adaptation row;
# the consistency's settings are UDAPE's (MeanTeacherConsistency's defaults, sigma the codec's).
_base_ = ['../_base_/synthetic-hands_adaptation_1000it.py']
from mmpose_regda.configs import adaptation  # noqa: E402

model = dict(type='MeanTeacherPoseEstimator', mean_teacher=dict(),
             # validation (when asked for) scores the student and the teacher
             test_cfg=dict(teacher_predictions=True))
optim_wrapper = dict(adv_head=None)
custom_hooks = adaptation.custom_hooks('MeanTeacher')
train_dataloader = dict(
    dataset=dict(target=adaptation.mean_teacher_target(_base_.target_train_unlabeled)))
val_evaluator = [
    dict(type='PartPCKAccuracy', alpha=0.05),
    dict(type='PartPCKAccuracy', alpha=0.05, pred_field='teacher_pred_instances',
         prefix='teacher'),
]
