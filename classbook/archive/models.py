"""Models of archives (issue 12)."""
