"""Use cases: one class per intent, taking ports in the constructor and a command in the call."""
