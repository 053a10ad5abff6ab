# dSprites toy task (Table 1), DD (Zhang et al., ICML 2019) for keypoints, as the paper extends
# it: f' maximises L_T on the target, psi minimises it, over the whole 64x64 output space. Every
# other setting is RegDA's, so the two rows differ only in the game.
_base_ = ['./regda_res18-quarter-2stages_1xb32-150it_sprites-source-to-target-64x64.py']
model = dict(adv_head_objective='max L_T', generator_objective='min L_T')
