"""Recovery: forgotten password, unlock, recovery channels (e-mail, SMS, TOTP) and the helpdesk."""
