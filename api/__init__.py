"""parkplan api layer."""
