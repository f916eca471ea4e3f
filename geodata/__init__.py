"""parkplan geodata layer."""
