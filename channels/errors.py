"""The two refusals of channel intake. Each carries a `reason` written for the log and for the
sender's engineers; neither ever contains a secret or the signature that was expected."""


class SignatureError(Exception):
    """The request is not proven to come from the platform: answer 401/403 and keep nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryError(Exception):
    """The body is signed but cannot be read as the platform documents it: answer 400, so that
    the sender's retries and dashboards show the fault instead of Kilas dropping it silently."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
