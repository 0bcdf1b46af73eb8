"""Ingest: flow-log objects (S3 or a local mirror) → Hive-partitioned Parquet
(docs/data-dir.md#flows)."""
