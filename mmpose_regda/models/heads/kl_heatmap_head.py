from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.structures import PixelData
from torch import Tensor

from mmpose.models.heads import HeatmapHead
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, Features, OptConfigType, OptSampleList, Predictions
from ..utils import heatmap_pck_accuracy, spatial_softmax


@MODELS.register_module()
class KLHeatmapHead(HeatmapHead):
    """Heatmap head trained with the spatial KL loss L_T (Eq. 8), the f and f' of RegDA.

    Its raw output is logits over space; their spatial softmax (Eq. 7) is the predicted keypoint
    distribution. Decoding and the training accuracy use that softmax: mmpose's decoders mark a
    keypoint invalid when its peak value is <= 0, which logits often are. Flip test averages the
    two distributions.

    A drop-in for mmpose's ``HeatmapHead``: the same arguments with the same defaults (three
    deconvolutions of 256 channels, then a 1x1 convolution), so a stock config switches to it by
    its ``type`` and loss (``SpatialKLLoss``, the default here).

    In an adaptation model (``RegDAPoseEstimator`` and the others) the head's deconvolutions
    belong to the feature generator psi and the rest (``conv_layers`` and ``final_layer``) is the
    regressor f, as the paper splits SimpleBaseline: psi = backbone + upsampling, f and f' =
    the final convolutions. The paper's own head is ``deconv_out_channels=None,
    conv_out_channels=(256, ), conv_kernel_sizes=(3, )`` after the plugin's
    :class:`DeconvUpsampleNeck`, which gives the same split.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 out_channels: int,
                 deconv_out_channels: Optional[Sequence[int]] = (256, 256, 256),
                 deconv_kernel_sizes: Optional[Sequence[int]] = (4, 4, 4),
                 conv_out_channels: Optional[Sequence[int]] = None,
                 conv_kernel_sizes: Optional[Sequence[int]] = None,
                 final_layer: dict = dict(kernel_size=1),
                 loss: ConfigType = dict(type='SpatialKLLoss', use_target_weight=True),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None):
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            deconv_out_channels=deconv_out_channels,
            deconv_kernel_sizes=deconv_kernel_sizes,
            conv_out_channels=conv_out_channels,
            conv_kernel_sizes=conv_kernel_sizes,
            final_layer=final_layer,
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg)

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        """Decode keypoints from the spatial softmax of the logits (see the class docstring).

        ``test_cfg.output_heatmaps`` adds the predicted distributions (``pred_fields.heatmaps``)
        to the data samples, ``test_cfg.output_logits`` the raw logits (``pred_fields.logits``),
        which the paper's protocol scores (``PaperProtocolPCKAccuracy``); logits come from one
        pass, so they cannot be asked for with the flip test.
        """
        output_logits = test_cfg.get('output_logits', False)
        if test_cfg.get('flip_test', False):
            if output_logits:
                raise ValueError(
                    f'{type(self).__name__}: test_cfg.output_logits needs flip_test=False (the '
                    'logits of one pass are scored; the paper protocol tests without flip)')
            assert isinstance(feats, list) and len(feats) == 2
            flip_indices = batch_data_samples[0].metainfo['flip_indices']
            _feats, _feats_flip = feats
            probs = spatial_softmax(self.forward(_feats))
            probs_flip = flip_heatmaps(
                spatial_softmax(self.forward(_feats_flip)),
                flip_mode=test_cfg.get('flip_mode', 'heatmap'),
                flip_indices=flip_indices,
                shift_heatmap=test_cfg.get('shift_heatmap', False))
            batch_probs = (probs + probs_flip) * 0.5
        else:
            logits = self.forward(feats)
            batch_probs = spatial_softmax(logits)

        preds = self.decode(batch_probs)
        fields = {}
        if test_cfg.get('output_heatmaps', False):
            fields['heatmaps'] = batch_probs.detach()
        if output_logits:
            fields['logits'] = logits.detach()
        if fields:
            return preds, [PixelData(**{name: value[i] for name, value in fields.items()})
                           for i in range(len(preds))]
        return preds

    def loss(self,
             feats: Tuple[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """L_T against the encoded target heatmaps, and PCK of the softmax as ``acc_pose``.

        Raises:
            FloatingPointError: the loss is NaN or infinite. This is the path of a plain
                ``TopdownPoseEstimator`` (source only, KL pretraining), so a diverged run stops
                here whatever runtime its config inherits, before the update would spread it
                into the weights (the adaptation estimators check their terms in their update).
        """
        losses = self.loss_from_logits(self.forward(feats), batch_data_samples, train_cfg)
        if not bool(torch.isfinite(losses['loss_kpt'])):
            raise FloatingPointError(
                f'non-finite loss: `loss_kpt` = {float(losses["loss_kpt"].detach())} '
                f'({type(self).__name__}, {type(self.loss_module).__name__}). Training stopped '
                'before the update. Lower the learning rate (optim_wrapper.optimizer.lr) or check '
                'the inputs of this batch.')
        return losses

    def loss_from_logits(self,
                         logits: Tensor,
                         batch_data_samples: OptSampleList,
                         train_cfg: ConfigType = {}) -> dict:
        """:meth:`loss` on logits already computed (RegDA reuses f's source logits)."""
        gt_heatmaps = torch.stack([d.gt_fields.heatmaps for d in batch_data_samples])
        keypoint_weights = torch.cat(
            [d.gt_instance_labels.keypoint_weights for d in batch_data_samples])
        losses = dict(loss_kpt=self.loss_module(logits, gt_heatmaps, keypoint_weights))
        if train_cfg.get('compute_acc', True):
            # on the device: no host sync in the training step
            losses['acc_pose'] = heatmap_pck_accuracy(spatial_softmax(logits.detach()),
                                                      gt_heatmaps, keypoint_weights)
        return losses
