"""The admin and one station with an open shift, talking to the real server: the shop the
end-to-end tests of printing and e-receipts sell through."""

from __future__ import annotations

from typing import Any

from serverproc import Server, call, open_station


class Shop:
    """The admin and one station talking to the server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        admin = server.cli("key", "create", "--role", "admin")
        assert admin.returncode == 0, admin.stderr
        self.admin = admin.stdout.strip()
        self.station = ""
        self.station_id = 0
        self.sales = 0

    def call(self, method: str, path: str, body: Any = None, *, as_station: bool = False) -> Any:
        """One request that must succeed, with the admin's key or the station's."""
        key = self.station if as_station else self.admin
        status, data = call(self.server, key, method, path, body)
        assert status in (200, 201), (status, data)
        return data

    def register(self) -> None:
        station = open_station(self.server, self.admin, "Kase 1", "1", "C1")
        self.station, self.station_id = station["key"], station["id"]

    def sell(self, invoice: dict[str, Any], **complete: Any) -> dict[str, Any]:
        """post ``invoice`` → claim → complete with ``complete``; the completed invoice."""
        posted = self.call("POST", "/api/invoice/new", invoice)
        self.sales += 1
        self.call("POST", f"/api/invoice/{posted['id']}/claim", as_station=True)
        done: dict[str, Any] = self.call(
            "POST",
            f"/api/invoice/{posted['id']}/complete",
            {"request_id": f"sale-{self.sales}", **complete},
            as_station=True,
        )
        return done
