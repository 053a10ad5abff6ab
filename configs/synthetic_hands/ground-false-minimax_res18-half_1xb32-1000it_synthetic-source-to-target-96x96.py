# Embedded benchmark, Table 3's middle row: the minimax game on L_F (f' minimises L_F on the
# target, psi maximises it). Everything else is RegDA's.
_base_ = ['./regda_res18-half_1xb32-1000it_synthetic-source-to-target-96x96.py']
model = dict(adv_head_objective='min L_F', generator_objective='max L_F')
