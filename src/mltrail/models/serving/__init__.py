"""The scoring server (``mltrail models serve``)."""
