"""Reports of experiments: JSON, Markdown summaries and PNG figures (matplotlib, Agg)."""

from petridish.report.figures import figure1, figure4, slope_figure
from petridish.report.markdown import slope_markdown
from petridish.report.writer import write_slope_report

__all__ = ["figure1", "figure4", "slope_figure", "slope_markdown", "write_slope_report"]
