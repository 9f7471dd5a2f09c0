"""flowcase: visual test design for Jira."""

__version__ = "0.1.0"
