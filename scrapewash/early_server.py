"""Prefect's temporary local server, started while the command line is still loading.

Without a configured API (``PREFECT_API_URL``, in the environment or the active profile), a flow
run starts a temporary local server the first time it needs the API: Prefect's
``SubprocessASGIServer`` launches uvicorn in a subprocess and waits until it answers. That
subprocess takes about five seconds to come up, and the command line reaches that point only after
loading Prefect's server module and the pipeline, so a run waited for both in turn.

:func:`start` launches the same server process (Prefect's own command and environment) as soon as
Prefect's settings are loaded; :func:`adopt`, just before the flow runs, hands the process to
Prefect's ``SubprocessASGIServer`` once it answers, so the flow run uses it exactly as if Prefect
had started it (and Prefect stops it at exit). If anything goes wrong on the way, the process is
stopped and Prefect starts its own server as before. The hand-over sets the server object's
``port``, ``server_process`` and ``running``, as its ``start`` does; ``tests/test_cli.py`` fails if
a Prefect release starts a server of its own all the same.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

_PORTS = range(8000, 9000)  # where Prefect's temporary server looks for a free port
_PORT_IN_USE = 3  # uvicorn's exit code when the port was taken in the meantime
log = logging.getLogger("scrapewash")


@dataclass
class EarlyServer:
    port: int
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    for _ in range(20):
        port = random.choice(_PORTS)
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port for the temporary server")


def _launch(port: int) -> subprocess.Popen[bytes]:
    """Prefect's own command for its temporary server (``SubprocessASGIServer._run_uvicorn_command``)."""
    import prefect
    from prefect.settings import get_current_settings

    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
           **get_current_settings().to_environment_variables(exclude_unset=True)}
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "error",
         "--lifespan", "on"],
        env=env,
    )


def start() -> EarlyServer | None:
    """Launch the temporary server now if this run will need one; None if it will not (an API is
    configured, or temporary servers are turned off) or it could not be launched."""
    if os.environ.get("SCRAPEWASH_EARLY_SERVER", "1") == "0":
        return None
    try:
        from prefect.settings import get_current_settings

        settings = get_current_settings()
        if settings.api.url or not settings.server.ephemeral.enabled:
            return None
        port = _free_port()
        early = EarlyServer(port, _launch(port))
        atexit.register(stop, early)  # a command that ends before its flow runs leaves no server behind
        return early
    except Exception as e:  # noqa: BLE001 - only a head start: Prefect starts its own server otherwise
        log.debug("temporary server not started early: %s", e)
        return None


def stop(early: EarlyServer) -> None:
    if early.process.poll() is not None:
        return
    early.process.terminate()
    try:
        early.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        early.process.kill()
        early.process.wait()


def adopt(early: EarlyServer | None) -> bool:
    """Wait until the early server answers and make it the server Prefect's flow run uses; True if
    it did. Otherwise stop it: the flow run then starts a server itself."""
    if early is None:
        return False
    try:
        import httpx
        from prefect.server.api.server import SubprocessASGIServer
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        server = SubprocessASGIServer()
        if server.running:  # Prefect already has one in this process
            stop(early)
            return False
        deadline = time.monotonic() + PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        with httpx.Client() as client:
            while True:
                code = early.process.poll()
                if code == _PORT_IN_USE:  # the port was taken after it was found free: another one
                    early.port = _free_port()
                    early.process = _launch(early.port)
                elif code is not None:
                    raise RuntimeError(f"the temporary server exited with code {code}")
                try:
                    if client.get(f"http://127.0.0.1:{early.port}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the temporary server did not answer in time")
                time.sleep(0.05)
        server.port = early.port
        server.server_process = early.process
        server.running = True
        atexit.register(server.stop)
        logging.getLogger("prefect").info("Started temporary server on %s", server.address)
        return True
    except Exception as e:  # noqa: BLE001 - Prefect starts its own server
        log.debug("early temporary server not used: %s", e)
        with contextlib.suppress(Exception):
            stop(early)
        return False
