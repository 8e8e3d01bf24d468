"""Simulated people: one ``SurgeUser`` per person, playing the behaviour the phase's mix gives it.

Each behaviour lives in its own module and says what a person of that kind calls, how often,
and what they do with the answer; ``SurgeUser`` owns the open-model schedule and the recording.
"""
