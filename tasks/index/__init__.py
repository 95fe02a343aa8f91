"""Package indexes: project pages (PEP 691/503, find-links), file choice, remote wheel metadata."""
