"""Seed an OpenLDAP server with the demo company for the compose setup (run once by the `ldap-seed` service).

    python seed_ldap.py            # reads LDAP_URI, LDAP_BASE_DN, LDAP_ADMIN_DN, LDAP_ADMIN_PASSWORD,
                                   # ESS_DIRECTORY__LDAP__BIND_PASSWORD from the environment

Adds ou=people, ou=groups and ou=services under the base, the service account cn=ess-service,ou=services (its
password is ESS's bind password), one inetOrgPerson per row of ESS's demo company with the password
demo-passwort-2026, and the groups ess-hr, ess-helpdesk, ess-admins. Entries that exist are left alone, so it can
run on every `compose up`. Only ldap3 is needed, which the ESS image has.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Mapping
from importlib import resources
from typing import Any

import ldap3
from ldap3.utils.dn import escape_rdn

DEMO_PASSWORD = "demo-passwort-2026"  # noqa: S105 - the documented password of the fictional demo company
GROUPS = {"hr": "ess-hr", "helpdesk": "ess-helpdesk", "admin": "ess-admins"}


def _add(conn: Any, dn: str, classes: list[str], attributes: dict[str, Any]) -> None:
    if not conn.add(dn, classes, attributes) and conn.result["result"] != 68:  # 68: entryAlreadyExists
        raise RuntimeError(f"adding {dn} failed: {conn.result['description']} {conn.result['message']}")


def _people(base: str) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, list[str]]]:
    text = resources.files("ess").joinpath("demo/company.csv").read_text(encoding="utf-8")
    people, members = [], {group: [] for group in GROUPS.values()}
    for row in csv.DictReader(text.splitlines()):
        dn = f"uid={escape_rdn(row['login'])},ou=people,{base}"
        entry = {
            "uid": row["login"],
            "cn": f"{row['first_name']} {row['last_name']}",
            "sn": row["last_name"],
            "givenName": row["first_name"],
            "displayName": f"{row['first_name']} {row['last_name']}",
            "mail": row["work_email"],
            "userPassword": DEMO_PASSWORD,
        }
        if row["work_phone"]:
            entry["telephoneNumber"] = row["work_phone"]
        people.append((dn, entry))
        for role in filter(None, (r.strip() for r in row["roles"].split(";"))):
            if role in GROUPS:
                members[GROUPS[role]].append(dn)
    return people, members


def seed(environ: Mapping[str, str]) -> int:
    """Seed the server named in `environ`; returns how many people the demo company has."""
    base = environ["LDAP_BASE_DN"]
    server = ldap3.Server(environ["LDAP_URI"], get_info=ldap3.NONE, connect_timeout=5)
    conn = ldap3.Connection(server, environ["LDAP_ADMIN_DN"], environ["LDAP_ADMIN_PASSWORD"], raise_exceptions=False)
    try:
        if not conn.bind():
            raise RuntimeError(f"bind as {environ['LDAP_ADMIN_DN']} failed: {conn.result['description']}")
        for unit in ("people", "groups", "services"):
            _add(conn, f"ou={unit},{base}", ["organizationalUnit"], {"ou": unit})
        service_password = environ["ESS_DIRECTORY__LDAP__BIND_PASSWORD"]
        _add(
            conn,
            f"cn=ess-service,ou=services,{base}",
            ["organizationalRole", "simpleSecurityObject"],
            {"cn": "ess-service", "userPassword": service_password},
        )
        people, members = _people(base)
        for dn, entry in people:
            _add(conn, dn, ["inetOrgPerson"], entry)
        for group, dns in members.items():
            if dns:
                _add(conn, f"cn={group},ou=groups,{base}", ["groupOfNames"], {"cn": group, "member": dns})
        return len(people)
    finally:
        conn.unbind()


if __name__ == "__main__":
    count = seed(os.environ)
    sys.stdout.write(f"demo company in the directory: {count} people\n")
