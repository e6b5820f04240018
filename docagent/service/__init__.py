"""The service: the job store and its migrations, a job's lifecycle, schedules, keys, sessions, storage, the reaper."""
