"""Identifier types shared by the domain packages."""

from __future__ import annotations

from typing import NewType

EmployeeId = NewType("EmployeeId", int)
OrgUnitId = NewType("OrgUnitId", int)
