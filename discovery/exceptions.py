"""Every error the package raises, under one :class:`DiscoveryError`."""

from __future__ import annotations


class DiscoveryError(Exception):
    """Base class of every error raised by discovery."""


class ConfigurationError(DiscoveryError, ValueError):
    """A campaign, pool, surrogate or oracle was configured with invalid values."""


class AccessRefused(ConfigurationError):
    """An instrument's server refused the credentials it took before (an access token
    that expired or was revoked mid-campaign).

    It stops the campaign instead of failing one job: nothing is recorded as failed, and
    the jobs in flight keep their handles in the store, so that running the campaign
    again with a renewed token resumes it and polls them again.
    """


class PoolError(ConfigurationError):
    """The candidate pool cannot be built from the given data."""


class CampaignFileError(ConfigurationError):
    """A campaign file cannot be loaded or does not define a campaign."""


class NotFittedError(DiscoveryError, RuntimeError):
    """A surrogate was asked to predict before it was fitted."""


class StoreError(DiscoveryError, RuntimeError):
    """A campaign store cannot be opened, written or resumed as asked."""


class ExperimentError(DiscoveryError, RuntimeError):
    """An oracle could not complete an experiment; raise a subclass to say which kind."""

    failure_class = "failed"


class TransientError(ExperimentError):
    """A failure worth retrying: a dropped connection, a busy queue, a restarted worker."""

    failure_class = "transient"


class ServerUnreachable(TransientError):
    """An instrument's server did not answer at all (connection refused, dropped or timed
    out): a job it already holds may well still be running."""


class InstrumentError(ExperimentError):
    """The instrument or calculation failed on this candidate (SCF not converged, a fault
    mid-run): recorded, not retried."""

    failure_class = "instrument"


class CalculationTimeout(ExperimentError):
    """A calculation ran past its time limit and was stopped: recorded, not retried."""

    failure_class = "timeout"
