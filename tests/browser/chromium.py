"""Headless Chromium driven over the DevTools protocol (a websocket; no WebDriver needed)."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import websocket

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
    "--window-size=720,900",
]


class DevToolsError(RuntimeError):
    pass


class Page:
    """One tab: evaluate JavaScript, click like a user, take screenshots."""

    def __init__(self, ws_url: str) -> None:
        self._ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self._ids = itertools.count(1)
        self.console: list[str] = []
        self.send("Runtime.enable")
        self.send("Page.enable")

    def close(self) -> None:
        self._ws.close()

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("method") == "Runtime.consoleAPICalled":
                args = message["params"]["args"]
                self.console.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in args)
                )
            elif message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.console.append(f"exception: {details.get('exception', {}).get('description')}")
            if message.get("id") == message_id:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete'", what=f"{url} to load")

    def js(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, what: str, timeout: float = 20.0) -> Any:
        return wait_until(lambda: self.js(expression), timeout=timeout, what=what, page=self)

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element (a user gesture, unlike el.click())."""
        box = self.js(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                el.scrollIntoView({{block: "center"}});
                const r = el.getBoundingClientRect();
                return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
            }})()"""
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    def press(self, key: str) -> None:
        """A key pressed and released on the focused element (``"Enter"``, ``"ArrowDown"``...)."""
        codes = {"Enter": 13, "Tab": 9, " ": 32, "ArrowLeft": 37, "ArrowUp": 38,
                 "ArrowRight": 39, "ArrowDown": 40}  # fmt: skip
        event = {"key": key, "code": key, "windowsVirtualKeyCode": codes.get(key, 0)}
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", **event})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", **event})

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path


def wait_until(
    probe: Callable[[], Any], *, timeout: float, what: str, page: Page | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            console = "\n".join(page.console[-20:]) if page else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{console}")
        time.sleep(0.05)


@contextmanager
def chromium(profile: Path) -> Iterator[Callable[[], Page]]:
    """Start Chromium with a new empty profile; yield a function that opens a new tab."""
    binary = shutil.which("chromium") or CHROMIUM
    profile.mkdir(parents=True, exist_ok=True)
    log = profile.parent / "chromium.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    pages: list[Page] = []
    try:
        port_file = profile / "DevToolsActivePort"

        def port() -> int | None:
            if process.poll() is not None:
                raise AssertionError(f"chromium exited: {log.read_text(errors='replace')[-2000:]}")
            lines = port_file.read_text().split() if port_file.exists() else []
            return int(lines[0]) if lines else None

        devtools = wait_until(port, timeout=30, what="Chromium's DevTools port")

        def new_page() -> Page:
            target = requests.put(f"http://127.0.0.1:{devtools}/json/new?about:blank", timeout=10)
            target.raise_for_status()
            page = Page(target.json()["webSocketDebuggerUrl"])
            pages.append(page)
            return page

        yield new_page
    finally:
        for page in pages:
            page.close()
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
