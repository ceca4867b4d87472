"""lindyn: learning dynamics of solvable networks, simulated and predicted side by side.

Importing lindyn enables float64 in JAX: every theory and gradient-flow computation is
double precision.
"""

import jax

jax.config.update("jax_enable_x64", True)

from lindyn import data as data  # noqa: E402
from lindyn import models as models  # noqa: E402
from lindyn import plot as plot  # noqa: E402
from lindyn import results as results  # noqa: E402
from lindyn import theory as theory  # noqa: E402
from lindyn import train as train  # noqa: E402
from lindyn._config import ConfigBase as ConfigBase  # noqa: E402
from lindyn._config import ConfigError as ConfigError  # noqa: E402
from lindyn._config import param as param  # noqa: E402
from lindyn.experiments import Experiment as Experiment  # noqa: E402
from lindyn.experiments import RunResult as RunResult  # noqa: E402
from lindyn.experiments import get as get  # noqa: E402
from lindyn.experiments import names as names  # noqa: E402
from lindyn.experiments import register as register  # noqa: E402
from lindyn.experiments import run as run  # noqa: E402
from lindyn.results import load as load  # noqa: E402
from lindyn.results import save as save  # noqa: E402
from lindyn.sweep import sweep as sweep  # noqa: E402
from lindyn.theory import pesme_flammarion as pesme_flammarion  # noqa: E402

__version__ = "0.1.0"
