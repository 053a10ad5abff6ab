# The mean teacher with UDAPE's optimiser (Adam at 1e-4 for the student's every part) in place of
# the benchmark's SGD; the rest as mean-teacher_...py. Beside control-adam_...py, which trains
# the control with the same optimiser (docs/results.md, "The mean teacher beside RegDA").
_base_ = ['./mean-teacher_res18-half_1xb32-1000it_synthetic-source-to-target-96x96.py']
_adam = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-4))
optim_wrapper = dict(generator=_adam, head=_adam)
