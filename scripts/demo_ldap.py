"""`make demo-ldap`: a throwaway slapd (ppolicy, TLS) seeded with the demo company, and the ESS demo served against it.

Everything lives in a temp dir and disappears on Ctrl-C. Every demo account has the password demo-passwort-2026.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.slapd import running_slapd  # noqa: E402 - needs the repository on the path first

DEMO_PASSWORD = "demo-passwort-2026"  # noqa: S105 - the documented password of the fictional demo company
GROUPS = {"hr": "ess-hr", "helpdesk": "ess-helpdesk", "admin": "ess-admins"}


def main() -> int:
    with running_slapd() as slapd:
        endpoint = slapd.endpoint
        with (ROOT / "ess" / "demo" / "company.csv").open(encoding="utf-8") as fp:
            rows = list(csv.DictReader(fp))
        for row in rows:
            roles = [r.strip() for r in row["roles"].split(";") if r.strip()]
            slapd.add_user(
                row["login"],
                DEMO_PASSWORD,
                given_name=row["first_name"],
                surname=row["last_name"],
                mail=row["work_email"],
                groups=[GROUPS[r] for r in roles if r in GROUPS],
                attributes={"telephoneNumber": row["work_phone"]} if row["work_phone"] else None,
            )
        env = {
            **os.environ,
            "ESS_DATABASE_URL": "sqlite+aiosqlite:///var/ess-ldap.db",
            "ESS_SESSIONS__PATH": "var/sessions-ldap",
            "ESS_DIRECTORY__KIND": "openldap",
            "ESS_DIRECTORY__LDAP__URIS": json.dumps(list(endpoint.uris)),
            "ESS_DIRECTORY__LDAP__START_TLS": "true",
            "ESS_DIRECTORY__LDAP__CA_FILE": str(endpoint.ca_file),
            "ESS_DIRECTORY__LDAP__BIND_DN": endpoint.bind_dn,
            "ESS_DIRECTORY__LDAP__BIND_PASSWORD": endpoint.bind_password,
            "ESS_DIRECTORY__LDAP__USER_BASE_DN": endpoint.user_base_dn,
            "ESS_DIRECTORY__LDAP__GROUP_BASE_DN": endpoint.group_base_dn,
            "ESS_DIRECTORY__LDAP__DEFAULT_POLICY_DN": "cn=default,ou=policies,dc=example,dc=test",
            "ESS_DIRECTORY__LDAP__ATTRIBUTES": json.dumps({"work_phone": "telephoneNumber", "mobile_phone": "mobile"}),
            "ESS_DIRECTORY__GROUP_ROLES": json.dumps({group: role for role, group in GROUPS.items()}),
        }
        ess = [sys.executable, "-m", "ess.cli"]
        subprocess.run([*ess, "db", "upgrade"], env=env, cwd=ROOT, check=True)
        subprocess.run([*ess, "hr", "import", "ess/demo/company.csv"], env=env, cwd=ROOT, check=True)
        subprocess.run([*ess, "directory", "check", "--login", "anna.schmidt"], env=env, cwd=ROOT, check=False)
        print(f"slapd: {endpoint.uris[0]} (StartTLS), {len(rows)} demo accounts, password {DEMO_PASSWORD}")
        server = subprocess.Popen([*ess, "serve"], env=env, cwd=ROOT)
        try:
            return server.wait()
        except KeyboardInterrupt:
            server.terminate()
            server.wait(timeout=10)
            return 0


if __name__ == "__main__":
    sys.exit(main())
