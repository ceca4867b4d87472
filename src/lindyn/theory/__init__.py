"""What the theory predicts."""

from lindyn.theory._linreg import LinregMoments as LinregMoments
from lindyn.theory._linreg import linreg_flow as linreg_flow
from lindyn.theory._saxe import saxe_half_time as saxe_half_time
from lindyn.theory._saxe import saxe_mode as saxe_mode
