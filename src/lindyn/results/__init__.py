"""Labelled results (xarray) with provenance, and their storage."""

from lindyn.results._dataset import config_of as config_of
from lindyn.results._dataset import main_axis as main_axis
from lindyn.results._dataset import provenance as provenance
from lindyn.results._dataset import seed_std as seed_std
from lindyn.results._dataset import trajectory as trajectory
from lindyn.results._io import atomic_write_text as atomic_write_text
from lindyn.results._io import load as load
from lindyn.results._io import load_groups as load_groups
from lindyn.results._io import save as save
from lindyn.results._io import save_groups as save_groups
from lindyn.results._plateaus import Plateau as Plateau
from lindyn.results._plateaus import crossing_times as crossing_times
from lindyn.results._plateaus import detect_plateaus as detect_plateaus
