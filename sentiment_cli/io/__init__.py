"""Reading inputs (CSV, Parquet, text lines, stdin) and writing outputs."""
