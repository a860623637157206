"""Operations on people and their credentials: one function per business action, transactional, audited."""

from __future__ import annotations
