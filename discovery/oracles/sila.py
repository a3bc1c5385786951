"""An oracle for SiLA 2 instruments: one observable command runs one experiment.

By default the instrument offers the feature ``ExperimentService`` (served by
``simulators/sila_server.py``; its definition is ``simulators/ExperimentService.sila.xml``):

    RunExperiment(Parameters: JSON object, IdempotencyKey) -> Result: JSON object
    CancelExperiment(CommandExecutionUUID)          optional
    StationCount                                    read once at construction

Another instrument's feature is a matter of :class:`SilaSchema`: which feature
and command, how a candidate becomes the command's parameters and how its
responses become a result.

``submit`` starts the command; the handle is its command execution UUID, so a
campaign resumed after a crash asks the instrument about the same execution.
``poll`` reads the execution's state (waiting, running with its progress,
finished) and then its responses. ``cancel`` calls the feature's cancel command
when the feature offers one.

Failures: a refused or missing access token, or a server that cannot be reached,
is a one-line ConfigurationError at construction. A token refused after that (it
expired) stops the campaign (:class:`~discovery.exceptions.AccessRefused`) with nothing
recorded as failed; an execution the server refused for its token never ran, and once
the server accepts the token again (asked through ``check``) it is ``lost``, to be sent
again under its key. Every call gives up after ``timeout`` seconds, so an instrument
that stops answering without closing the connection counts as unreachable instead of
holding the campaign. An execution UUID the server does not know (it restarted) is
``lost``; an execution the server did not accept (CommandExecutionNotAccepted) is
transient; a defined execution error is an instrument failure with its message; a
result that cannot be read fails the job as an instrument failure with the raw
responses. While the server cannot be reached, a job is taken as still running for
``patience`` seconds, then as a transient failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from sila2.client import SilaClient
from sila2.client.utils import get_allowed_errors, pack_metadata_for_grpc, rpcerror_to_silaerror
from sila2.framework import (
    CommandExecutionStatus,
    DefinedExecutionError,
    FrameworkError,
    SilaConnectionError,
    UndefinedExecutionError,
    ValidationError,
)
from sila2.framework.command.command_confirmation import CommandConfirmation
from sila2.framework.command.execution_info import ExecutionInfo
from sila2.framework.errors.framework_error import FrameworkErrorType

from discovery.exceptions import AccessRefused, ConfigurationError, TransientError
from discovery.oracles.base import CANCELLED, FAILED, LOST, QUEUED, RUNNING, Handle, Status
from discovery.space import Candidate

#: The defined execution error of SiLA's AuthorizationService for a refused token.
INVALID_ACCESS_TOKEN = "InvalidAccessToken"


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, for JSON."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def json_request(candidate: Candidate) -> dict[str, Any]:
    """The default command parameters: the design as a JSON object, and its key."""
    return {
        "Parameters": json.dumps(candidate.parameters, default=_plain),
        "IdempotencyKey": candidate.idempotency_key or "",
    }


def json_result(responses: Any) -> dict[str, Any]:
    """The default result: the ``Result`` response read as a JSON object."""
    result = json.loads(responses.Result)
    if not isinstance(result, dict):
        raise TypeError(f"Result is a JSON {type(result).__name__}, not an object")
    return result


@dataclass(frozen=True)
class SilaSchema:
    """Which feature and command run an experiment, and how values cross over.

    Attributes:
        feature: the feature's identifier.
        command: its observable command that runs one experiment.
        cancel: its unobservable command that stops an execution, given the
            execution UUID (None, or absent from the feature: no cancelling).
        check: a property read at construction, to check the token (None: none).
        request: ``request(candidate) -> dict`` of the command's parameters.
        result: ``result(responses) -> dict`` of measured properties.
        cancelled_errors: defined execution errors that mean the run was cancelled.
    """

    feature: str = "ExperimentService"
    command: str = "RunExperiment"
    cancel: str | None = "CancelExperiment"
    check: str | None = "StationCount"
    request: Callable[[Candidate], dict[str, Any]] = json_request
    result: Callable[[Any], dict[str, Any]] = json_result
    cancelled_errors: tuple[str, ...] = ("ExperimentCancelled",)


class SilaOracle:
    """Runs experiments on a SiLA 2 instrument.

    Args:
        host, port: the SiLA server.
        token: access token sent as the AuthorizationService ``AccessToken``
            metadata (None: the server needs none).
        schema: the feature, command and value mapping.
        root_certs: PEM certificate(s) to trust, as bytes or a file path (None:
            the system's trust store).
        insecure: plain gRPC without TLS (against SiLA's rules; for simulators).
        timeout: seconds to reach the server at construction, and per request (a
            call unanswered by then counts as the server unreachable).
        patience: seconds a job waits for an unreachable server before its
            attempt counts as a transient failure.

    Raises:
        ConfigurationError: unreachable server, refused or missing token, or a
            feature, command or property the server does not offer. Later, a token
            the server refuses raises :class:`~discovery.exceptions.AccessRefused`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        token: str | None = None,
        *,
        schema: SilaSchema | None = None,
        root_certs: bytes | str | Path | None = None,
        insecure: bool = False,
        timeout: float = 5.0,
        patience: float = 60.0,
    ) -> None:
        if insecure and root_certs is not None:
            raise ConfigurationError("sila oracle: root_certs and insecure=True exclude each other")
        self.schema = schema or SilaSchema()
        self.address = f"{host}:{port}"
        self.name = f"sila:{self.address}"
        self.timeout, self.patience = timeout, patience
        certificates = _read_certificates(root_certs)
        _wait_until_reachable(self.address, certificates, insecure, timeout)
        try:
            self.client = SilaClient(host, port, root_certs=certificates, insecure=insecure)
        except Exception as error:  # handshake, UUID mismatch, unreadable features
            raise ConfigurationError(
                f"sila oracle: cannot connect to {self.address} ({type(error).__name__}: {error})"
            ) from None
        self.feature = self._feature()
        self.command = getattr(self.feature, self.schema.command)
        self.metadata = self._access_token(token)
        self.can_cancel = self.schema.cancel is not None and hasattr(
            self.feature, self.schema.cancel
        )
        self._unreachable_since: dict[str, float] = {}
        if self.schema.check is not None:
            self._check_token()

    def _feature(self) -> Any:
        schema = self.schema
        feature = getattr(self.client, schema.feature, None)
        if feature is None:
            offered = sorted(self.client._features)
            raise ConfigurationError(
                f"sila oracle: {self.address} has no feature {schema.feature!r}; it offers {offered}"
            )
        if schema.command not in feature._observable_commands:
            raise ConfigurationError(
                f"sila oracle: feature {schema.feature} has no observable command "
                f"{schema.command!r}; it has {sorted(feature._observable_commands)}"
            )
        if schema.check is not None and schema.check not in feature._client_properties:
            raise ConfigurationError(
                f"sila oracle: feature {schema.feature} has no property {schema.check!r}; "
                f"it has {sorted(feature._client_properties)}"
            )
        return feature

    def _access_token(self, token: str | None) -> list[Any] | None:
        if token is None:
            return None
        authorization = getattr(self.client, "AuthorizationService", None)
        if authorization is None:
            raise ConfigurationError(
                f"sila oracle: {self.address} takes no access token (no AuthorizationService); "
                "leave token out"
            )
        return [authorization.AccessToken(token)]

    def _check_token(self) -> None:
        try:
            self._read_check_property()
        except (DefinedExecutionError, FrameworkError) as error:
            reason = "needs an access token" if self.metadata is None else "refused the token"
            raise ConfigurationError(
                f"sila oracle: {self.address} {reason} ({_describe(error)})"
            ) from None
        except SilaConnectionError as error:
            raise ConfigurationError(
                f"sila oracle: server {self.address} not reachable ({error})"
            ) from None

    def _read_check_property(self) -> Any:
        """Read the ``check`` property with the token: it answers only if the token is good.

        Raises:
            DefinedExecutionError, FrameworkError: the token is refused (or missing).
            SilaConnectionError: no answer within ``timeout``.
        """
        check = getattr(self.feature, self.schema.check)._wrapped_property
        message = self._call(f"Get_{check._identifier}", check.get_parameters_message(), check)
        return check.to_native_type(message)

    def _refused_token(self, error: Exception) -> AccessRefused:
        """The error that stops the campaign, on one line for the command line."""
        return AccessRefused(
            f"sila oracle: {self.address} refused the token ({_describe(error)}); "
            "renew the token and run again (a stored campaign resumes where it stopped)"
        )

    def submit(self, candidate: Candidate) -> Handle:
        """Start the command on the candidate; its execution UUID is the handle.

        Raises:
            TransientError: the server is unreachable (or silent past ``timeout``),
                or did not accept the execution.
            AccessRefused: the server refused the token.
            ConfigurationError: the parameters or the call were refused.
        """
        parameters = self.schema.request(candidate)
        try:
            try:
                execution = self._start(parameters)
            except SilaConnectionError:  # a restarting server: wait for it, once
                self._wait_for_server()
                execution = self._start(parameters)
        except SilaConnectionError as error:
            raise TransientError(f"submit: {self.address} not reachable ({error})") from None
        except ValidationError as error:
            raise ConfigurationError(f"sila oracle: parameters refused: {error}") from None
        except DefinedExecutionError as error:
            if error.identifier == INVALID_ACCESS_TOKEN:
                raise self._refused_token(error) from None
            raise
        except FrameworkError as error:
            if error.error_type is FrameworkErrorType.COMMAND_EXECUTION_NOT_ACCEPTED:
                raise TransientError(f"submit: not accepted ({error.message})") from None
            raise ConfigurationError(f"sila oracle: {_describe(error)}") from None
        return {"execution_uuid": execution, "idempotency_key": candidate.idempotency_key}

    def _start(self, parameters: dict[str, Any]) -> str:
        """Call the observable command; the execution's UUID.

        sila2's own command call would also follow the execution in a background
        subscription; polling asks by UUID when it needs to.
        """
        command = self.command._wrapped_command
        confirmation = self._call(
            command._identifier, command.parameters.to_message(**parameters), command
        )
        execution, _ = CommandConfirmation(self._framework).to_native_type(confirmation)
        return str(execution)

    def _call(self, rpc: str, message: Any, origin: Any, with_token: bool = True) -> Any:
        """One unary call of the feature, given up after ``timeout`` seconds; the token
        goes along ``with_token`` (SiLA sends metadata with the calls that start things).

        sila2's calls take no timeout: an instrument that stops answering without
        closing the connection would hold the campaign for ever.

        Raises:
            SilaConnectionError: no answer within ``timeout``, or no connection.
            DefinedExecutionError, FrameworkError, ValidationError: the server's
                SiLA error, the token's own errors (InvalidAccessToken) included.
        """
        metadata = self.metadata if with_token else None
        try:
            return getattr(self.feature._grpc_stub, rpc)(
                message, metadata=pack_metadata_for_grpc(metadata), timeout=self.timeout
            )
        except grpc.RpcError as error:
            # the token's errors are expected from any call: an execution refused for
            # its token reports it with its result
            allowed = get_allowed_errors(origin, self.metadata)
            raise rpcerror_to_silaerror(error, allowed, self.client) from None

    def _wait_for_server(self) -> None:
        """Until the connection is ready again, at most ``timeout`` seconds."""
        try:
            grpc.channel_ready_future(self.client._channel).result(timeout=self.timeout)
        except grpc.FutureTimeoutError:
            pass  # the second attempt reports it

    def poll(self, handle: Handle) -> Status:
        """The execution's state; its result once it finished."""
        execution = handle["execution_uuid"]
        try:
            info = self._execution_info(execution)
            if info.status is CommandExecutionStatus.waiting:
                status = Status(QUEUED)
            elif info.status is CommandExecutionStatus.running:
                status = Status(RUNNING, progress=info.progress)
            else:
                status = self._outcome(execution)
        except SilaConnectionError as error:
            return self._unreachable(execution, error)
        except FrameworkError as error:
            if error.error_type is FrameworkErrorType.INVALID_COMMAND_EXECUTION_UUID:
                return Status(LOST, error=f"the server no longer knows execution {execution}")
            if error.error_type is FrameworkErrorType.COMMAND_EXECUTION_NOT_ACCEPTED:
                raise TransientError(f"not accepted ({error.message})") from None
            raise
        self._unreachable_since.pop(execution, None)
        return status

    def _outcome(self, execution: str) -> Status:
        """A finished execution's result, or how it failed."""
        try:
            responses = self._responses(execution)
        except DefinedExecutionError as error:
            if error.identifier in self.schema.cancelled_errors:
                return Status(CANCELLED, error=error.message)
            if error.identifier == INVALID_ACCESS_TOKEN:
                return self._refused_execution(execution, error)
            return Status(FAILED, error=_describe(error), error_class="instrument")
        except UndefinedExecutionError as error:
            return Status(FAILED, error=_describe(error), error_class="instrument")
        try:
            result = self.schema.result(responses)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            return Status(
                FAILED,
                error=f"unreadable result ({type(error).__name__}: {error}): {responses!r:.500}",
                error_class="instrument",
            )
        return Status("succeeded", result=result)

    def _refused_execution(self, execution: str, error: DefinedExecutionError) -> Status:
        """An execution the server refused for its token never ran: lost (sent again
        under its key) if the server accepts the token now, which ``check`` tells
        (without it, lost all the same); the campaign stops if it does not.

        Raises:
            AccessRefused: the server refuses the token now.
            SilaConnectionError: the check went unanswered.
        """
        if self.schema.check is not None:
            try:
                self._read_check_property()
            except (DefinedExecutionError, FrameworkError):
                raise self._refused_token(error) from None
        return Status(
            LOST, error=f"execution {execution} was refused for its token ({_describe(error)})"
        )

    def _unreachable(self, execution: str, error: Exception) -> Status:
        """Still running as far as anyone knows, until ``patience`` runs out."""
        since = self._unreachable_since.setdefault(execution, time.monotonic())
        if time.monotonic() - since < self.patience:
            return Status(RUNNING)
        del self._unreachable_since[execution]
        raise TransientError(
            f"{self.address} unreachable for {self.patience:.0f} s ({error})"
        ) from None

    def cancel(self, handle: Handle) -> None:
        """Call the feature's cancel command on the execution, if it offers one.

        Raises:
            SilaConnectionError: no answer within ``timeout``, or no connection.
        """
        if not self.can_cancel:
            return
        command = getattr(self.feature, self.schema.cancel)._wrapped_command
        message = command.parameters.to_message(
            handle["execution_uuid"],
            toplevel_named_data_node=command.parameters,
            metadata=self.metadata,
        )
        self._call(command._identifier, message, command)

    @property
    def _framework(self) -> Any:
        """The SiLA framework's protobuf messages, as the feature's stubs know them."""
        return self.feature._pb2_module.SiLAFramework__pb2

    def _uuid_message(self, execution: str) -> Any:
        return self._framework.CommandExecutionUUID(value=execution)

    # sila2's ClientObservableCommandInstance keeps a background subscription per
    # execution; a handle read back from the store after a crash has only the UUID,
    # so these two read the execution's state and responses by UUID, as it does.
    def _execution_info(self, execution: str) -> Any:
        stream = getattr(self.feature._grpc_stub, f"{self.schema.command}_Info")(
            self._uuid_message(execution), timeout=self.timeout
        )
        try:
            message = next(stream)
        except grpc.RpcError as error:
            raise rpcerror_to_silaerror(error, [], self.client) from None
        finally:
            stream.cancel()
        return ExecutionInfo(self._framework).to_native_type(message)

    def _responses(self, execution: str) -> Any:
        wrapped = self.command._wrapped_command
        message = self._call(
            f"{self.schema.command}_Result",
            self._uuid_message(execution),
            wrapped,
            with_token=False,
        )
        return wrapped.responses.to_native_type(message)

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def _describe(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    identifier = getattr(error, "identifier", None)
    return f"{identifier}: {message}" if identifier else f"{type(error).__name__}: {message}"


def _read_certificates(root_certs: bytes | str | Path | None) -> bytes | None:
    if root_certs is None or isinstance(root_certs, bytes):
        return root_certs
    path = Path(root_certs)
    if not path.is_file():
        raise ConfigurationError(f"sila oracle: root_certs file {path} does not exist")
    return path.read_bytes()


def _wait_until_reachable(
    address: str, certificates: bytes | None, insecure: bool, timeout: float
) -> None:
    """A clear error within ``timeout`` when nothing answers (or TLS cannot agree)."""
    channel = (
        grpc.insecure_channel(address)
        if insecure
        else grpc.secure_channel(address, grpc.ssl_channel_credentials(certificates))
    )
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        hint = "" if insecure else "; or its TLS certificate is not one root_certs trusts"
        raise ConfigurationError(
            f"sila oracle: server {address} not reachable within {timeout:g} s{hint}"
        ) from None
    finally:
        channel.close()
