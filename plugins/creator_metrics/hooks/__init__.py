"""Hooks turning Airflow connections into what ``ingest`` takes as arguments."""
