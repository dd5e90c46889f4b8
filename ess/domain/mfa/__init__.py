"""Second factor at login: authenticator apps, passkeys, one-time recovery codes, remembered devices, helpdesk reset."""
