"""Designs, teachers and data sets."""

from lindyn.data._gaussian import gaussian_design as gaussian_design
from lindyn.data._gaussian import powerlaw_spectrum as powerlaw_spectrum
from lindyn.data._gaussian import random_orthogonal as random_orthogonal
from lindyn.data._gaussian import whitened_design as whitened_design
from lindyn.data._real import REAL_DATASETS as REAL_DATASETS
from lindyn.data._real import load_real as load_real
from lindyn.data._regression import checked_regression as checked_regression
from lindyn.data._teachers import gaussian_teacher as gaussian_teacher
from lindyn.data._teachers import lowrank_teacher as lowrank_teacher
from lindyn.data._teachers import noisy_labels as noisy_labels
from lindyn.data._teachers import sparse_teacher as sparse_teacher
