"""The job's steps as plain functions (generate: in-process; jobs: by job id for the workers)."""
