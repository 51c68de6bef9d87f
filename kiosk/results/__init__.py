"""Score entry, review sampling, unsealing and ranking."""
