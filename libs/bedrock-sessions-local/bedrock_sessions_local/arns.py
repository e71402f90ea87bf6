"""Session ARNs of one region and account, and the session ids they name.

Every operation takes a session as an id or as its ARN,
``arn:aws:bedrock:<region>:<account>:session/<id>``. One service is one region and account, so
the ARN is not stored: it is built from the id, and read back to the id.

Example::

    arns = SessionArns("us-east-1", "123456789012")
    arn = arns.arn(session_id)
    assert arns.session_id(arn) == arns.session_id(session_id) == session_id
"""

from __future__ import annotations

from bedrock_sessions_local.exceptions import ResourceNotFoundException


class SessionArns:
    """Build and read the ARNs of the sessions of one region and account."""

    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account
        self._prefix = f"arn:aws:bedrock:{region}:{account}:session/"

    def arn(self, session_id: str) -> str:
        """Return the ARN of a session id."""
        return self._prefix + session_id

    def session_id(self, identifier: str) -> str:
        """Return the session id named by an id or an ARN of this region and account.

        Raises:
            ResourceNotFoundException: an ARN of another partition, region or account. It
                names a session this service cannot hold, so it is "not found" (as a session of
                another account would be for AWS).
        """
        if not identifier.startswith("arn:"):
            return identifier
        prefix, _, session_id = identifier.rpartition("/")
        if prefix + "/" != self._prefix:
            raise ResourceNotFoundException(
                f"Session {identifier} not found: this service holds sessions of region "
                f"{self.region} and account {self.account} only."
            )
        return session_id
