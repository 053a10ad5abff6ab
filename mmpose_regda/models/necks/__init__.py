from .deconv_upsample_neck import DeconvUpsampleNeck

__all__ = ['DeconvUpsampleNeck']
