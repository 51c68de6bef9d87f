"""Uploads, hashing, encryption, receipts and the sealed export bundle."""
