"""Cash-register stations: the registry (register, describe, list) and their shifts (open,
X- and Z-reports, search)."""
