"""Airflow adapters for the creator-metrics pipeline: connections in, plain values out."""
