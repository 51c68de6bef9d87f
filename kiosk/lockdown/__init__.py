"""Phases and deadlines, station binding, single session, kiosk telemetry, browser policies."""
