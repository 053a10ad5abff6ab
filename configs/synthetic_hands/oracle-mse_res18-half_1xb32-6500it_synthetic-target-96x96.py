# Embedded benchmark, oracle: L2 training on the "real" target with its labels (the upper bound
# row; the labels are used here only).
_base_ = ['./source-only-mse_res18-half_1xb32-6500it_synthetic-source-96x96.py']
train_dataloader = dict(dataset=_base_.target_train)
