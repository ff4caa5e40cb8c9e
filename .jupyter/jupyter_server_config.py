"""JupyterLab as ``make lab`` runs it for the course.

``make lab`` puts this folder on ``JUPYTER_CONFIG_PATH``, so a student's own ``~/.jupyter``
still has the last word. Next to this file, ``labconfig/default_setting_overrides.json``
changes two of JupyterLab's defaults: no "official Jupyter news?" prompt at the first start,
and no update check (a student does not upgrade the lab the kit pins).
"""

import os

c = get_config()  # noqa: F821 - traitlets defines get_config() for config files

# The Terminal runs the student's shell as an ordinary interactive shell. Left to itself,
# Jupyter starts a login shell whenever its own output is not a terminal (make lab started
# from an editor or a launcher), and a login shell's /etc/profile resets PATH: the kit's
# commands (stepup), which make lab puts first on PATH, would be gone.
c.ServerApp.terminado_settings = {"shell_command": [os.environ.get("SHELL") or "/bin/sh"]}

# The server gives each kernel CurveZMQ keys (ipykernel's kernelspec declares it can use
# them): the kernel's sockets are encrypted, and its warning at every start that they are
# not is gone.
c.KernelManager.transport_encryption = "auto"

# jupyter_server hands tornado its websocket ping settings in milliseconds where tornado reads
# seconds, and tornado warns about them at every kernel connection. On localhost no proxy
# drops an idle connection, so the lab does without the pings.
c.ServerApp.tornado_settings = {"ws_ping_interval": 0}
