"""The New Connection wizard's Qt pages, one module per step of ``wizard.gui.flow.new_connection``."""
