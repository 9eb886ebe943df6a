"""Creator-metrics pipeline."""
