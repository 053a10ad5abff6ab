# Embedded benchmark, stage 1 of RegDA: source only with the spatial KL loss L_T, on the
# "rendered" source (the "source only (KL)" row, and the model RegDA adapts).
_base_ = ['../_base_/synthetic-hands_supervised_6500it.py']
train_dataloader = dict(dataset=_base_.source_train)
