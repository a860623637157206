"""Models of printing (issue 12)."""
