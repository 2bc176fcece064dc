"""gancourse: reference implementations, trainer and homework for the GAN course."""

__version__ = "0.1.0"
