"""Benchmark: response time of POST /api/v1/password/forgot for a known and an unknown login (account enumeration
by timing, ASVS 6.3.8 / OWASP Forgot Password Cheat Sheet).

    .venv/bin/python bench/forgot_timing.py [--tries 200]

The real app in-process (ASGI test client), a fresh migrated SQLite database with the demo company, the local
directory, mails written to a temporary folder by the background job. Requests alternate between a known and an
unknown login so both see the same background load. The script prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from litestar.testing import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ess.app import create_app  # noqa: E402 - after the path set-up that lets the tests package import
from tests.conftest import make_settings, migrate  # noqa: E402
from tests.e2e.recovery_helpers import seed_recovery  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ess-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'ess.db'}"
        migrate(url)
        settings = make_settings(
            url,
            ESS_RECOVERY__REQUESTS_PER_CLIENT_PER_HOUR="1000000",
            ESS_RECOVERY__REQUESTS_PER_HOUR="1000000",
            ESS_RECOVERY__MAILS_PER_ACCOUNT_PER_HOUR="1000000",
            ESS_MAIL__FOLDER=str(Path(tmp) / "mail"),
        )
        asyncio.run(seed_recovery(settings))
        known: list[float] = []
        unknown: list[float] = []
        with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
            for login in ("anna.schmidt", "nobody.here"):
                client.post("/api/v1/password/forgot", json={"login": login})
            for i in range(args.tries):
                for login, samples in (("anna.schmidt", known), (f"nobody{i}.here", unknown)):
                    started = time.perf_counter()
                    response = client.post("/api/v1/password/forgot", json={"login": login})
                    samples.append(time.perf_counter() - started)
                    assert response.status_code == 202
        mails = len(list(Path(settings.mail.folder).glob("*.eml")))

    def row(name: str, values: list[float]) -> str:
        ms = sorted(v * 1000 for v in values)
        p95 = ms[int(len(ms) * 0.95) - 1]
        return (
            f"{name:8} median {statistics.median(ms):7.3f} ms   mean {statistics.fmean(ms):7.3f} ms   p95 {p95:7.3f} ms"
        )

    print(f"POST /api/v1/password/forgot, {args.tries} tries each, interleaved ({mails} reset mails sent meanwhile)")
    print(row("known", known))
    print(row("unknown", unknown))
    difference = abs(statistics.median(known) - statistics.median(unknown)) * 1000
    print(f"median difference {difference:.3f} ms (the acceptance bound is 5 ms)")


if __name__ == "__main__":
    main()
