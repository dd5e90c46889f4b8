"""What the login page says when single sign-on fails, in plain words, by the reason of the refusal."""

from __future__ import annotations

from typing import Final

from ess.domain.auth.model import SsoReason
from ess.routes.rendering import N_

UNAVAILABLE: Final = N_(
    "The identity provider does not answer right now. Please try again or log in with your password."
)


# What the page says for each refusal, in plain words.
REFUSALS: Final = {
    SsoReason.EXPIRED: N_("The sign-in at the identity provider has expired. Please sign in again."),
    SsoReason.FORGED: N_(
        "The identity provider's answer could not be verified (its signature, issuer or audience is wrong). "
        "Please sign in again; if this happens again, tell the IT service desk."
    ),
    SsoReason.STATE: N_(
        "This sign-in is no longer valid (it was started elsewhere or too long ago). Please start again."
    ),
    SsoReason.PROVIDER: N_("The identity provider did not sign you in."),
    SsoReason.UNKNOWN_ACCOUNT: N_(
        "The account you signed in with has no ESS account. Please contact the IT service desk."
    ),
    SsoReason.DISABLED: N_("Your account is disabled. Please contact the IT service desk."),
    SsoReason.NO_ACCESS: N_("Your account has no access to ESS."),
    SsoReason.UNAVAILABLE: UNAVAILABLE,
    SsoReason.NOT_CONFIGURED: N_("Single sign-on is not set up."),
    SsoReason.CLOCK_SKEW: N_(
        "Windows sign-in failed: the clock of your computer differs too much from the server's. "
        "Please tell the IT service desk, and log in with your password meanwhile."
    ),
    SsoReason.TICKET_KEY: N_(
        "Windows sign-in failed: the server's Kerberos key (keytab) does not match your ticket. "
        "Please tell the IT service desk, and log in with your password meanwhile."
    ),
}
# The same for a refused Kerberos ticket ("Windows sign-in").
KERBEROS_REFUSALS: Final = {
    **REFUSALS,
    SsoReason.EXPIRED: N_(
        "Windows sign-in failed: your Kerberos ticket has expired. Lock and unlock your computer (or sign out of "
        "Windows and in again), then reload this page."
    ),
    SsoReason.FORGED: N_(
        "Windows sign-in failed: the server could not verify the ticket your browser sent. "
        "Please log in with your password; if this happens again, tell the IT service desk."
    ),
}
