"""The HTML report over every registered experiment."""

from lindyn.report._build import build_report as build_report
