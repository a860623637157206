"""Weekly, semester and year archives of the journal: PDF/A with the journal embedded, a hash chain,
retention and destruction acts (issue 12, R6.7, R6.8)."""
