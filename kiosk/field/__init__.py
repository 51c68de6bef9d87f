"""The top of the hall: the chief judge's control, the field judges' dashboard, announcements,
incidents, the hall clock, the workstation's screen, the preflight and the workstation kit. It
imports every capability; none imports it."""
