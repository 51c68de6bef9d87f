"""The demo event: roster, question bank and paper spec (installed as `kiosk.seed`)."""
