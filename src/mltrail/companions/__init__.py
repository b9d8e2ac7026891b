"""What runs alongside a run: system metrics, console capture and code capture.

Started and stopped by ``mltrail.tracking.run_companions`` (``start_run`` / ``end_run``); each
takes the tracking client it logs with, so nothing here imports the tracking layer.
"""
