"""parkplan parks layer."""
