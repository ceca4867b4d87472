"""The HTML report over every registered experiment."""

from lindyn.report._build import build_report as build_report
from lindyn.report._build import split_sections as split_sections
