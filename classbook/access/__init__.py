"""The one place that answers "may this user see or do this?" and scopes querysets.

Views, the API, exports and commands get school-owned rows only through the
functions here; unknown and forbidden objects both answer 404. The rules are the
tables in ``rules.py``; relationships (own class, own child) are answered by
``SchoolContext``.
"""
