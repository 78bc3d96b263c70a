"""The Textual dashboard: `app` wires `screens/` and `widgets/`; `streamview/` draws text."""
