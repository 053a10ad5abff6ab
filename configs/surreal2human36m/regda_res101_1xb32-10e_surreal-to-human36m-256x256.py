# SURREAL->Human3.6M, RegDA with the reference implementation's schedule: its script adapts this
# task for 10 epochs (`regda.sh`: --epochs 10), where the paper says 30 (the 30e config). Same
# start, data and optimisation otherwise; the learning rate decays with the iteration alone, so
# the first 10 epochs are those of the 30-epoch run.
_base_ = ['./regda_res101_1xb32-30e_surreal-to-human36m-256x256.py']
train_cfg = dict(max_epochs=10)
