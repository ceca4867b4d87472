"""Finite networks: parameters, initialization, output, square loss and analytic gradient."""

from lindyn.models._activations import ACTIVATIONS as ACTIVATIONS
from lindyn.models._activations import activation as activation
from lindyn.models._base import Model as Model
from lindyn.models._committee import Committee as Committee
from lindyn.models._deep import DeepLinear as DeepLinear
from lindyn.models._deep import two_layer_linear as two_layer_linear
from lindyn.models._diagonal import DiagonalLinear as DiagonalLinear
from lindyn.models._diagonal import DiagonalParams as DiagonalParams
from lindyn.models._reduced import bartlett_factor as bartlett_factor
from lindyn.models._reduced import gauss_seidel_step as gauss_seidel_step
from lindyn.models._reduced import reduced_two_layer_init as reduced_two_layer_init
