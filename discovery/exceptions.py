"""Every error the package raises, under one :class:`DiscoveryError`."""

from __future__ import annotations


class DiscoveryError(Exception):
    """Base class of every error raised by discovery."""


class ConfigurationError(DiscoveryError, ValueError):
    """A campaign, pool, surrogate or oracle was configured with invalid values."""


class PoolError(ConfigurationError):
    """The candidate pool cannot be built from the given data."""


class CampaignFileError(ConfigurationError):
    """A campaign file cannot be loaded or does not define a campaign."""


class NotFittedError(DiscoveryError, RuntimeError):
    """A surrogate was asked to predict before it was fitted."""


class StoreError(DiscoveryError, RuntimeError):
    """A campaign store cannot be opened, written or resumed as asked."""
