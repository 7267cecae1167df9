"""An example third-party boot interface that serves /v1/boot."""
