# Embedded benchmark, DD (Zhang et al., ICML 2019) for keypoints, Table 3's first row: f'
# maximises L_T on the target, psi minimises it. Everything else is RegDA's.
_base_ = ['./regda_res18-half_1xb32-1000it_synthetic-source-to-target-96x96.py']
model = dict(adv_head_objective='max L_T', generator_objective='min L_T')
