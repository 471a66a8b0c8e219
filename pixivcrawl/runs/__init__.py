"""Scheduled archive runs: plans of jobs, their schedules, locks, reports and notifications."""
