# The control (source only, continued) with the optimiser of mean-teacher-adam_...py: Adam at
# 1e-4, as UDAPE; the rest as control_...py.
_base_ = ['./control_res18-half_1xb32-1000it_synthetic-source-96x96.py']
optim_wrapper = dict(_delete_=True, optimizer=dict(type='Adam', lr=1e-4))
