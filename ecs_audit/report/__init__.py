"""Reports: the report model built from findings, and one renderer per output format."""
