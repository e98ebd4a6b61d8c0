"""The loa-xa controller: bulletins, audio, schedules, dispatch over MQTT, reports."""
