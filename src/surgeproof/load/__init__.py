"""The load layer: Locust users, the surge shape, the recorder and the orchestration of a run.

Importing this package does not import Locust; the modules that need it do, when they are used.
"""
