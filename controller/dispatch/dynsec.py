"""Agent logins on an external Mosquitto, managed through its dynamic-security plugin.

Mosquitto 2 ships `mosquitto_dynamic_security.so`: clients, roles and ACLs live in the broker and change at run
time through JSON commands on `$CONTROL/dynamic-security/v1`. With it, enrolment adds the agent's login and a
role confined to its own topics, and retiring the agent removes both, with no password file and no restart.
See firmware_config/mosquitto/README.md.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from common.broker_url import parse_broker_url, redact_url
from controller.dispatch.broker_auth import AGENT_PUBLISH, AGENT_SUBSCRIBE
from controller.errors import ControllerError
from protocol.topics import check_agent_id

log = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
CONTROLLER_ROLE = "loa-controller"


class DynSecError(ControllerError, RuntimeError):
    """The broker refused or did not answer a dynamic-security command."""

    status_code = 503

    def __init__(self, message_en: str) -> None:
        super().__init__(message_en, "Không cập nhật được tài khoản trên máy chủ MQTT.")


def agent_role(agent_id: str) -> str:
    return f"loa-agent-{check_agent_id(agent_id)}"


def agent_acls(topic_root: str, agent_id: str) -> list[dict[str, Any]]:
    """The agent's role: subscribe to its own manifest and commands, publish only its own reports.

    `topic_root` may hold `+` (tests give every run its own root); an agent's own subscription never matches
    a pattern with a wildcard it does not have, so it cannot subscribe with one.
    """
    own = f"{topic_root}/agents/{check_agent_id(agent_id)}"
    acls: list[dict[str, Any]] = []
    for channel in AGENT_SUBSCRIBE:
        topic = f"{own}/{channel.value}"
        acls.append({"acltype": "subscribePattern", "topic": topic, "allow": True})
        acls.append({"acltype": "publishClientReceive", "topic": topic, "allow": True})
    for channel in AGENT_PUBLISH:
        acls.append({"acltype": "publishClientSend", "topic": f"{own}/{channel.value}", "allow": True})
    return acls


def controller_acls(topic_root: str) -> list[dict[str, Any]]:
    """The controller's role: everything under its topic root."""
    pattern = f"{topic_root}/#"
    return [
        {"acltype": kind, "topic": pattern, "allow": True}
        for kind in ("publishClientSend", "publishClientReceive", "subscribePattern", "unsubscribePattern")
    ]


class DynamicSecurity:
    """Sends dynamic-security commands as the broker's admin login, one short connection per call.

    Calls are rare (an enrolment, a retirement) and must not depend on the bus's session, so each opens its own
    connection, waits for the broker's answer and closes.
    """

    def __init__(self, broker_url: str, username: str, password: str, topic_root: str, *, timeout: float = 10.0):
        self._address = parse_broker_url(broker_url)
        self._login = (username, password)
        self._root = topic_root
        self._timeout = timeout
        self._lock = threading.Lock()  # the broker binds the client id to the login: one call at a time

    def add_agent(self, agent_id: str, password: str) -> None:
        """Create (or reset) the agent's login, its role and its ACLs. Safe to repeat."""
        role = agent_role(agent_id)
        self.remove_agent(agent_id)
        self.run(
            [
                {"command": "createRole", "rolename": role, "acls": agent_acls(self._root, agent_id)},
                {
                    "command": "createClient",
                    "username": agent_id,
                    "password": password,
                    "roles": [{"rolename": role}],
                },
            ]
        )
        log.info("broker login and role added for agent %s", agent_id)

    def remove_agent(self, agent_id: str) -> None:
        """Delete the agent's login and role; an absent one is no error. Its open session is disconnected."""
        self.run(
            [
                {"command": "deleteClient", "username": agent_id},
                {"command": "deleteRole", "rolename": agent_role(agent_id)},
            ],
            tolerate=("not found",),
        )

    def add_controller(self, username: str, password: str) -> None:
        """Create the controller's own login with a role over the whole topic root (used at install time)."""
        self.run(
            [
                {"command": "deleteClient", "username": username},
                {"command": "deleteRole", "rolename": CONTROLLER_ROLE},
                {"command": "createRole", "rolename": CONTROLLER_ROLE, "acls": controller_acls(self._root)},
                {
                    "command": "createClient",
                    "username": username,
                    "password": password,
                    "roles": [{"rolename": CONTROLLER_ROLE}],
                },
            ],
            tolerate=("not found",),
        )

    def list_clients(self) -> list[str]:
        answers = self.run([{"command": "listClients", "verbose": False}])
        return [str(name) for name in answers[0].get("data", {}).get("clients", [])]

    def run(self, commands: list[dict[str, Any]], *, tolerate: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Send the commands in one message and return the broker's answers, raising on any unexpected error."""
        tag = uuid.uuid4().hex
        for n, command in enumerate(commands):
            command["correlationData"] = f"{tag}-{n}"
        with self._lock:
            answers = self._exchange(json.dumps({"commands": commands}).encode(), tag)
        for command, answer in zip(commands, answers, strict=True):
            error = answer.get("error")
            if error and not any(t in str(error).lower() for t in tolerate):
                raise DynSecError(f"dynamic-security {command['command']} failed: {error}")
        return answers

    def _exchange(self, payload: bytes, tag: str) -> list[dict[str, Any]]:
        replies: queue.Queue[list[dict[str, Any]]] = queue.Queue()
        subscribed = threading.Event()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self._login[0], protocol=mqtt.MQTTv311, clean_session=True
        )
        client.username_pw_set(*self._login)
        if self._address.tls:
            client.tls_set()

        def on_connect(c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
            if reason.is_failure:
                log.warning("dynamic-security login refused: %s", reason)
                return
            c.subscribe(RESPONSE_TOPIC, qos=1)

        def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
            try:
                body = json.loads(message.payload)
                answers = [r for r in body.get("responses", []) if str(r.get("correlationData", "")).startswith(tag)]
            except (ValueError, AttributeError, RecursionError):
                return
            if answers:
                replies.put(answers)

        client.on_connect = on_connect
        client.on_subscribe = lambda *_args: subscribed.set()
        client.on_message = on_message
        try:
            client.connect(self._address.host, self._address.port)
        except OSError as exc:
            raise DynSecError(f"cannot reach the broker for dynamic security: {exc}") from None
        client.loop_start()
        try:
            if not subscribed.wait(self._timeout):
                raise DynSecError("the broker did not accept the dynamic-security login or subscription")
            client.publish(CONTROL_TOPIC, payload, qos=1)
            try:
                return replies.get(timeout=self._timeout)
            except queue.Empty:
                raise DynSecError("the broker did not answer the dynamic-security command") from None
        finally:
            client.disconnect()
            client.loop_stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m controller.dispatch.dynsec add-controller`: create the controller's login from the LOA_* settings."""
    import sys

    from controller.config import get_settings

    args = sys.argv[1:] if argv is None else argv
    if args != ["add-controller"]:
        print("usage: python -m controller.dispatch.dynsec add-controller", file=sys.stderr)
        return 2
    s = get_settings()
    if not (s.mqtt_url and s.mqtt_username and s.mqtt_password and s.mqtt_dynsec_username and s.mqtt_dynsec_password):
        print("set LOA_MQTT_URL, LOA_MQTT_USERNAME/PASSWORD and LOA_MQTT_DYNSEC_USERNAME/PASSWORD", file=sys.stderr)
        return 2
    admin = DynamicSecurity(s.mqtt_url, s.mqtt_dynsec_username, s.mqtt_dynsec_password.get_secret_value(), s.topic_root)
    try:
        admin.add_controller(s.mqtt_username, s.mqtt_password)
    except DynSecError as exc:
        print(f"dynsec: {exc}", file=sys.stderr)
        return 1
    print(f"login {s.mqtt_username} may now use {s.topic_root}/# on {redact_url(s.mqtt_url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
