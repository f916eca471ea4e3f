"""parkplan maps layer."""
