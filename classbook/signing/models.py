"""Models of signing (issue 12)."""
