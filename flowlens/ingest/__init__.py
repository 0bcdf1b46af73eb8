"""Ingest: flow-log objects (S3 or a local mirror) → Hive-partitioned Parquet (design.md §2)."""
