"""Audio the user already has: reading, pitch/tempo shift, analysis, click, mix check.

Arrays are float32 with shape ``(channels, samples)`` (pedalboard's order), sample
rate explicit.
"""
