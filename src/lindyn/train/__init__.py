"""How parameters move: gradient flow, gradient descent, SGD, and what is recorded."""

from lindyn.train._descent import gradient_descent as gradient_descent
from lindyn.train._descent import one_pass_batches as one_pass_batches
from lindyn.train._descent import repeated_batches as repeated_batches
from lindyn.train._descent import sgd as sgd
from lindyn.train._flow import gradient_flow as gradient_flow
from lindyn.train._mirror import diagonal_mirror_flow as diagonal_mirror_flow
from lindyn.train._observe import balancedness as balancedness
from lindyn.train._observe import param_norms as param_norms
from lindyn.train._observe import recorder as recorder
from lindyn.train._observe import singular_values as singular_values
from lindyn.train._solution import Solution as Solution
from lindyn.train._solution import Status as Status
from lindyn.train._solution import TrainingError as TrainingError
from lindyn.train._solution import describe_params as describe_params
from lindyn.train._solution import raise_if_failed as raise_if_failed
from lindyn.train._solution import status_code as status_code
from lindyn.train._times import log_steps as log_steps
from lindyn.train._times import log_times as log_times
