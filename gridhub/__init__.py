"""gridhub: the shared kernel (domain core, settings, topics, codecs, CLI); no service."""

__version__ = "0.1.0"
