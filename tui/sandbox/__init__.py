"""Faithful local emulators of every provider, served on loopback: the offline default
and the test bed. Their S3 back end is moto's server behind a gateway that checks what
S3 checks and moto does not (signatures, expiry, digests)."""
