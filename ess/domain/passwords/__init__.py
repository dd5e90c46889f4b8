"""Passwords: the policy every new password must meet, and changing one's own password."""
