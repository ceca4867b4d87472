"""Figures: overlays of theory and simulation."""

from lindyn.plot._overlay import new_figure as new_figure
from lindyn.plot._overlay import overlay as overlay
from lindyn.plot._overlay import pair as pair
