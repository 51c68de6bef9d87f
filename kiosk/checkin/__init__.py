"""Roster, check-in desk, the two draws, badges and the sealing of the draw records."""
