"""RQ jobs and their schedules: thin functions of ids that call the domain."""
