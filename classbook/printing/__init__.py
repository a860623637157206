"""Printed journals in the official layout, certified copies and their verification codes (issue 12, R6.6)."""
