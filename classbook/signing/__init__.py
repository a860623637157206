"""The school's signing certificate and the signers that sign archive PDFs (PAdES with pyHanko; issue 12)."""
