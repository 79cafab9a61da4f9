-- Prefect server keeps its own database beside newswatch's; it needs pg_trgm.
CREATE DATABASE prefect OWNER newswatch;
\connect prefect
CREATE EXTENSION IF NOT EXISTS pg_trgm;
