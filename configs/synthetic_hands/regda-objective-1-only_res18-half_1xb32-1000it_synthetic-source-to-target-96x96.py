# Embedded benchmark, RegDA's own ablation and the benchmark's second control: RegDA's stage with
# Objective 1 alone for the whole run (psi, f and f' on the labeled source, f' also fitting f's
# predictions there), no target objective. Same model, start, optimiser and budget as RegDA, so
# what RegDA gains over it is exactly what Objectives 2 and 3 (the game on the target) add.
_base_ = ['./regda_res18-half_1xb32-1000it_synthetic-source-to-target-96x96.py']
from mmpose_regda.configs import adaptation  # noqa: E402

custom_hooks = adaptation.custom_hooks('RegDA', warmup_iters=_base_.iterations,
                                       warm_start_iters=_base_.iterations // 15)
