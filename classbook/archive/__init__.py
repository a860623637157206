"""Weekly, semester and year archives of the journal (issue 12, R6.7, R6.8).

PDF/A with the journal embedded, a hash chain per school, retention and destruction acts.
"""
