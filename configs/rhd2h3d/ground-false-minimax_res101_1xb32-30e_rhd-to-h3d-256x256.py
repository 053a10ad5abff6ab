# RHD->H3D, Table 3's middle row: the minimax game on L_F (f' minimises it on the target, psi
# maximises it); everything else is RegDA's.
_base_ = ['./regda_res101_1xb32-30e_rhd-to-h3d-256x256.py']
model = dict(adv_head_objective='min L_F', generator_objective='max L_F')
