"""Figures: overlays of theory and simulation."""

from lindyn.plot._overlay import new_figure as new_figure
from lindyn.plot._overlay import overlay as overlay
from lindyn.plot._overlay import pair as pair
from lindyn.plot._phase import Line as Line
from lindyn.plot._phase import Panel as Panel
from lindyn.plot._phase import phase_diagram as phase_diagram
