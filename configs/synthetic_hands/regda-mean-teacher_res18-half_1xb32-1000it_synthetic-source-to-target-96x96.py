# Embedded benchmark, RegDA + mean teacher: RegDA's three objectives, with the mean teacher's
# consistency (UDAPE's settings) added to Objective 1, where psi and f learn the source; RegDA's
# game reads the student's view of each target image, the teacher its own.
_base_ = ['./regda_res18-half_1xb32-1000it_synthetic-source-to-target-96x96.py']
from mmpose_regda.configs import adaptation  # noqa: E402

model = dict(mean_teacher=dict(), test_cfg=dict(teacher_predictions=True))
train_dataloader = dict(
    dataset=dict(target=adaptation.mean_teacher_target(_base_.target_train_unlabeled)))
val_evaluator = [
    dict(type='PartPCKAccuracy', alpha=0.05),
    dict(type='PartPCKAccuracy', alpha=0.05, pred_field='adv_pred_instances',
         prefix='adv_head'),
    dict(type='PartPCKAccuracy', alpha=0.05, pred_field='teacher_pred_instances',
         prefix='teacher'),
]
