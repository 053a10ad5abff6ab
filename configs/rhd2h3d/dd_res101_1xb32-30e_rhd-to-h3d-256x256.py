# RHD->H3D, DD (Table 2's and Table 3's first row): f' maximises L_T on the target, psi
# minimises it; everything else is RegDA's.
_base_ = ['./regda_res101_1xb32-30e_rhd-to-h3d-256x256.py']
model = dict(adv_head_objective='max L_T', generator_objective='min L_T')
