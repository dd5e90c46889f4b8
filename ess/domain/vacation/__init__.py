"""Vacation: leave requests, the working days they use, and balances."""
